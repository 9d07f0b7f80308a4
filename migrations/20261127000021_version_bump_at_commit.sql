-- The catalogue version used to be bumped by statement triggers, which lock the version row from
-- the statement until commit. A transaction that then waited for a row lock held by another one
-- (adding an application's namespaces takes a key-share lock on their environment; archiving or
-- editing the environment locks it for update) could wait for a transaction that was itself
-- waiting for the version row: a deadlock, which PostgreSQL breaks by aborting one of them.
-- Now every bump is deferred to commit, when a transaction takes no other locks, and happens once
-- per transaction however many rows it changed.
CREATE OR REPLACE FUNCTION bump_catalogue_version() RETURNS trigger AS $$
DECLARE
    v bigint;
BEGIN
    -- A transaction-local flag: reset when the transaction ends, rolled back with a savepoint.
    IF current_setting('demarc.catalogue_bumped', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('demarc.catalogue_bumped', 'yes', true);
    UPDATE catalogue_version SET version = version + 1 RETURNING version INTO v;
    PERFORM pg_notify('demarc_changes', 'catalogue ' || v);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER teams_version ON teams;
DROP TRIGGER platforms_version ON platforms;
DROP TRIGGER environments_version ON environments;
DROP TRIGGER applications_version ON applications;
DROP TRIGGER application_namespaces_version ON application_namespaces;
DROP TRIGGER scope_audits_version ON scope_audits;
DROP TRIGGER maintenances_version ON maintenances;
DROP TRIGGER action_items_version ON action_items;
DROP TRIGGER dr_drills_version ON dr_drills;
DROP TRIGGER cluster_connections_version ON cluster_connections;

CREATE CONSTRAINT TRIGGER teams_version AFTER INSERT OR UPDATE OR DELETE ON teams
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER platforms_version AFTER INSERT OR UPDATE OR DELETE ON platforms
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER environments_version AFTER INSERT OR UPDATE OR DELETE ON environments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER applications_version AFTER INSERT OR UPDATE OR DELETE ON applications
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER application_namespaces_version
    AFTER INSERT OR UPDATE OR DELETE ON application_namespaces
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER scope_audits_version AFTER INSERT OR UPDATE OR DELETE ON scope_audits
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER maintenances_version AFTER INSERT OR UPDATE ON maintenances
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER action_items_version AFTER INSERT OR UPDATE OR DELETE ON action_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER dr_drills_version AFTER INSERT OR UPDATE ON dr_drills
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
CREATE CONSTRAINT TRIGGER cluster_connections_version
    AFTER INSERT OR UPDATE OF last_server_version OR DELETE ON cluster_connections
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
