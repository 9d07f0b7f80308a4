-- A waiver that runs out after go-live turns its item back to failing: that is drift as much as
-- a regression a verification finds, but no run caused it. A drift event now names its cause:
-- the run that saw the regression, or the waiver that expired.
ALTER TABLE drift_events ALTER COLUMN run_id DROP NOT NULL;
ALTER TABLE drift_events ADD COLUMN waiver_id uuid REFERENCES golive_waivers (id);
ALTER TABLE drift_events ADD CONSTRAINT drift_events_one_cause
    CHECK (num_nonnulls(run_id, waiver_id) = 1);

-- Set once, by whichever replica notices the expiry first (the UPDATE that sets it is the claim).
ALTER TABLE golive_waivers ADD COLUMN expiry_noted_at timestamptz;
CREATE INDEX golive_waivers_expiry_unnoted ON golive_waivers (expires_at)
    WHERE revoked_at IS NULL AND expiry_noted_at IS NULL;
