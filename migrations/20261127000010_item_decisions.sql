-- A person's "not applicable" on an automatic item is a decision verifications keep: until now
-- only an item never verified kept it, so the next run (often the scheduled one) undid it.
ALTER TABLE golive_items ADD COLUMN decided_by_person boolean NOT NULL DEFAULT false;
UPDATE golive_items SET decided_by_person = true
 WHERE status = 'not_applicable' AND updated_by NOT IN ('Demarc', '');

-- An offline run (an uploaded List, a CI report) of an environment that Demarc reads live is
-- kept as evidence but leaves the checklist to the live cluster: applied says whether a run's
-- results set the items.
ALTER TABLE verification_runs ADD COLUMN applied boolean NOT NULL DEFAULT true;
