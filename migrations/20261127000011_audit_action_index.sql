-- The audit page filters by action and offers the actions recorded so far (a loose index scan,
-- like the entity types' over audit_log_entity).
CREATE INDEX audit_log_action ON audit_log (action, id);
