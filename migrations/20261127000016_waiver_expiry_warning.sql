-- A team hears a few days ahead that a waiver on an approved review runs out. Set once, by
-- whichever replica's scheduler sees it first (the UPDATE that sets it is the claim).
ALTER TABLE golive_waivers ADD COLUMN expiry_warned_at timestamptz;
CREATE INDEX golive_waivers_expiry_unwarned ON golive_waivers (expires_at)
    WHERE revoked_at IS NULL AND expiry_warned_at IS NULL;
