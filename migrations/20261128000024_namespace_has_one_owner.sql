-- A namespace of an environment belongs to one application. Go-live judges an application on
-- the workloads of its namespaces, so a second application claiming the same namespace would be
-- judged (and could pass) on another team's workloads. Archived applications keep their claim:
-- they can be restored. Existing duplicates make this migration fail with the offending key, to
-- be resolved by hand (edit one application's namespaces) before upgrading.
DROP INDEX application_namespaces_env;
CREATE UNIQUE INDEX application_namespaces_one_owner ON application_namespaces (environment_id, namespace);
