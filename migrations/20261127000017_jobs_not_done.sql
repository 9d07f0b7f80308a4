-- The metrics endpoint counts the queue's jobs that are not done, per kind, at every scrape; done
-- jobs stay as history (the delivery log, dedupe keys) and must not be read for it.
CREATE INDEX jobs_not_done ON jobs (kind) WHERE done_at IS NULL;
