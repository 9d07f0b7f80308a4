-- A counter that moves whenever the catalogue changes, maintained by the database itself, so
-- replicas can cache read-heavy answers (the dashboard's counts, list pages) and know for sure
-- when a cached answer is out of date. The row lock serialises the bump, so a reader that sees
-- version N also sees every change up to N.
CREATE TABLE catalogue_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO catalogue_version (singleton, version) VALUES (true, 0);

CREATE FUNCTION bump_catalogue_version() RETURNS trigger AS $$
BEGIN
    UPDATE catalogue_version SET version = version + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER teams_version AFTER INSERT OR UPDATE OR DELETE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER platforms_version AFTER INSERT OR UPDATE OR DELETE ON platforms
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER environments_version AFTER INSERT OR UPDATE OR DELETE ON environments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER applications_version AFTER INSERT OR UPDATE OR DELETE ON applications
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER application_namespaces_version AFTER INSERT OR UPDATE OR DELETE ON application_namespaces
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
