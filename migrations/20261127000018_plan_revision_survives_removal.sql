-- A plan's `revision` is the ICS SEQUENCE of its windows, whose UIDs name only the environment and
-- the day. Removing a plan and planning again must not start the revision over at 1: a calendar
-- client ignores an event whose SEQUENCE is lower than the one it holds, so the new plan's windows
-- would never replace the old ones. The last revision of a removed plan is kept per environment,
-- and a new plan of that environment continues after it.
CREATE TABLE removed_plan_revisions (
    environment_id uuid PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
    revision       integer NOT NULL
);

CREATE FUNCTION remember_removed_plan_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO removed_plan_revisions (environment_id, revision)
    VALUES (OLD.environment_id, OLD.revision)
    ON CONFLICT (environment_id)
        DO UPDATE SET revision = GREATEST(removed_plan_revisions.revision, EXCLUDED.revision);
    RETURN OLD;
END $$;
CREATE TRIGGER maintenance_plans_remember_revision AFTER DELETE ON maintenance_plans
    FOR EACH ROW EXECUTE FUNCTION remember_removed_plan_revision();

-- GREATEST skips the NULL of an environment that never had a plan removed.
CREATE FUNCTION continue_plan_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := GREATEST(
        NEW.revision,
        (SELECT r.revision + 1 FROM removed_plan_revisions r
         WHERE r.environment_id = NEW.environment_id)
    );
    RETURN NEW;
END $$;
CREATE TRIGGER maintenance_plans_continue_revision BEFORE INSERT ON maintenance_plans
    FOR EACH ROW EXECUTE FUNCTION continue_plan_revision();
