-- A production environment with a rhythm of its own may keep a soak after the environment before
-- it (its windows are checked against that environment's like a following plan's); a plan that
-- follows another environment still needs one.
ALTER TABLE maintenance_plans DROP CONSTRAINT maintenance_plans_check1;
ALTER TABLE maintenance_plans ADD CONSTRAINT maintenance_plans_follows_soak
    CHECK (follows_environment_id IS NULL OR soak_working_days IS NOT NULL);
