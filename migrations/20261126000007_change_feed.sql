-- Replicas keep the data version in memory instead of reading it on every request: each bump
-- announces the new version on the `demarc_changes` channel. PostgreSQL delivers notifications
-- only when the transaction commits, so a replica never learns of a version it cannot yet read.
CREATE OR REPLACE FUNCTION bump_catalogue_version() RETURNS trigger AS $$
DECLARE
    v bigint;
BEGIN
    UPDATE catalogue_version SET version = version + 1 RETURNING version INTO v;
    PERFORM pg_notify('demarc_changes', 'catalogue ' || v);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- The cached dashboard also shows the latest audit records and the clusters' versions (end of
-- life); the calendar's tables already bump (calendar migration). Every change is audited, so a
-- new audit record bumps the version; that bump is deferred to commit time, so the version row
-- is locked only while a transaction commits, not while it works.
CREATE CONSTRAINT TRIGGER audit_log_version AFTER INSERT ON audit_log
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION bump_catalogue_version();
-- Written by verification jobs, which are not audited.
CREATE TRIGGER cluster_connections_version AFTER INSERT OR UPDATE OF last_server_version OR DELETE
    ON cluster_connections
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();

-- Replicas remember valid API tokens for a few seconds; any change that can make a token invalid
-- tells them to forget.
CREATE FUNCTION notify_token_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('demarc_changes', 'tokens');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER api_tokens_changed AFTER UPDATE OF revoked_at, expires_at, scope, role OR DELETE
    ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_token_change();
