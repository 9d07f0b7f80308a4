-- Go-live checklists verified against the live cluster: versioned checklist templates per
-- platform, reviews of an application on an environment (items, attestations, waivers,
-- sign-off, frozen evidence), cluster connections with encrypted credentials, verification runs
-- with their results, drift events, team webhooks, and the job queue every replica works from.

-- Templates are versioned: every save writes a new version; old versions are history.
CREATE TABLE checklist_templates (
    platform_id uuid NOT NULL REFERENCES platforms (id),
    version     integer NOT NULL CHECK (version >= 1),
    items       jsonb NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform_id, version)
);
CREATE TRIGGER checklist_templates_history BEFORE UPDATE OR DELETE ON checklist_templates
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- A go-live review of one application on one environment, created from a template version.
CREATE TABLE golive_reviews (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id   uuid NOT NULL REFERENCES applications (id),
    environment_id   uuid NOT NULL REFERENCES environments (id),
    platform_id      uuid NOT NULL,
    template_version integer NOT NULL,
    state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'withdrawn')),
    approved_at      timestamptz,
    -- The items, results and waivers as they were at sign-off; written once.
    frozen           jsonb,
    created_by       text NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (platform_id, template_version) REFERENCES checklist_templates (platform_id, version),
    CHECK ((state = 'approved') = (approved_at IS NOT NULL AND frozen IS NOT NULL))
);
-- At most one live review per application and environment.
CREATE UNIQUE INDEX golive_reviews_live ON golive_reviews (application_id, environment_id)
    WHERE state <> 'withdrawn';
CREATE INDEX golive_reviews_environment ON golive_reviews (environment_id);
CREATE TRIGGER golive_reviews_updated_at BEFORE UPDATE ON golive_reviews FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Frozen evidence stays frozen.
CREATE FUNCTION golive_reviews_keep_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.frozen IS NOT NULL AND NEW.frozen IS DISTINCT FROM OLD.frozen THEN
        RAISE EXCEPTION 'the evidence frozen at sign-off cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER golive_reviews_frozen BEFORE UPDATE ON golive_reviews
    FOR EACH ROW EXECUTE FUNCTION golive_reviews_keep_frozen();
CREATE TRIGGER golive_reviews_no_delete BEFORE DELETE ON golive_reviews
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- The review's items: the template item (definition) and where it stands.
CREATE TABLE golive_items (
    review_id   uuid NOT NULL REFERENCES golive_reviews (id),
    key         text NOT NULL,
    position    integer NOT NULL,
    definition  jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'passed', 'failed', 'not_applicable')),
    -- Why it is not applicable, or what a person noted when attesting.
    reason      text NOT NULL DEFAULT '',
    -- Manual items: {note, link, file_id, file_name, by, at}.
    attestation jsonb,
    -- Automatic items: the latest verification (outcome, message, results with evidence).
    outcome     text CHECK (outcome IN ('pass', 'warn', 'fail', 'not_applicable', 'error')),
    message     text NOT NULL DEFAULT '',
    results     jsonb NOT NULL DEFAULT '[]',
    run_id      uuid,
    checked_at  timestamptz,
    updated_by  text NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, key)
);
CREATE TRIGGER golive_items_updated_at BEFORE UPDATE ON golive_items FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Waivers: a reason, an approver from the platform team and an expiry. Revoking is an update of
-- revoked_at only; nothing else about a waiver changes.
CREATE TABLE golive_waivers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    review_id    uuid NOT NULL,
    item_key     text NOT NULL,
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    approved_by  text NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    revoked_by   text,
    FOREIGN KEY (review_id, item_key) REFERENCES golive_items (review_id, key)
);
CREATE INDEX golive_waivers_item ON golive_waivers (review_id, item_key, created_at DESC);

-- Sign-offs: one per side (the application team, the platform team). History.
CREATE TABLE golive_signoffs (
    review_id  uuid NOT NULL REFERENCES golive_reviews (id),
    side       text NOT NULL CHECK (side IN ('team', 'platform')),
    signed_by  text NOT NULL,
    signed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, side)
);
CREATE TRIGGER golive_signoffs_history BEFORE UPDATE OR DELETE ON golive_signoffs
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- Evidence files attached to manual items (load-test reports, restore logs). History.
CREATE TABLE evidence_files (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    review_id    uuid NOT NULL REFERENCES golive_reviews (id),
    item_key     text NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    content_type text NOT NULL,
    size         integer NOT NULL CHECK (size BETWEEN 0 AND 10485760),
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER evidence_files_history BEFORE UPDATE OR DELETE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- How Demarc reaches an environment's cluster. `secret` holds the bearer token or kubeconfig,
-- sealed with AES-256-GCM under DEMARC_SECRET_KEY (nonce followed by ciphertext).
CREATE TABLE cluster_connections (
    environment_id       uuid PRIMARY KEY REFERENCES environments (id),
    mode                 text NOT NULL CHECK (mode IN ('in_cluster', 'kubeconfig', 'token')),
    server_url           text NOT NULL DEFAULT '',
    context              text NOT NULL DEFAULT '',
    ca_pem               text NOT NULL DEFAULT '',
    secret               bytea,
    verify_every_minutes integer CHECK (verify_every_minutes BETWEEN 5 AND 10080),
    last_tested_at       timestamptz,
    last_server_version  text,
    last_missing         jsonb,
    last_test_error      text,
    updated_by           text NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER cluster_connections_updated_at BEFORE UPDATE ON cluster_connections FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One verification of a review: from the cluster, an uploaded List or a CI pipeline's report.
CREATE TABLE verification_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    review_id    uuid NOT NULL REFERENCES golive_reviews (id),
    trigger      text NOT NULL CHECK (trigger IN ('manual', 'api', 'schedule', 'upload', 'ci')),
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    progress     jsonb NOT NULL DEFAULT '{}',
    source       jsonb,
    summary      jsonb,
    error        text,
    requested_by text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX verification_runs_review ON verification_runs (review_id, created_at DESC);

CREATE TABLE verification_results (
    run_id    uuid NOT NULL REFERENCES verification_runs (id),
    position  integer NOT NULL,
    check_id  text NOT NULL,
    subject   jsonb NOT NULL,
    outcome   text NOT NULL CHECK (outcome IN ('pass', 'warn', 'fail', 'not_applicable', 'error')),
    message   text NOT NULL,
    evidence  jsonb NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE TRIGGER verification_results_history BEFORE UPDATE OR DELETE ON verification_results
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- A required item that passed at go-live (or before) and fails now: a regression.
CREATE TABLE drift_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    review_id   uuid NOT NULL REFERENCES golive_reviews (id),
    run_id      uuid NOT NULL REFERENCES verification_runs (id),
    item_key    text NOT NULL,
    previous    text NOT NULL,
    current     text NOT NULL,
    message     text NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
CREATE INDEX drift_events_open ON drift_events (review_id) WHERE resolved_at IS NULL;

-- Where a team wants its notifications: a webhook with a JSON body or a Slack-compatible one.
-- The URL often embeds a secret, so it is sealed like cluster credentials; `hint` is its host.
CREATE TABLE team_webhooks (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id    uuid NOT NULL REFERENCES teams (id),
    format     text NOT NULL CHECK (format IN ('json', 'slack')),
    url_sealed bytea NOT NULL,
    hint       text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz
);
CREATE INDEX team_webhooks_team ON team_webhooks (team_id) WHERE removed_at IS NULL;

-- The job queue. Any number of replicas claim due jobs with FOR UPDATE SKIP LOCKED; a claimed
-- job is leased until locked_until, so a job whose worker died runs again. `dedupe_key` keeps
-- schedulers on several replicas from enqueueing the same job twice.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    dedupe_key   text,
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 5,
    locked_by    text,
    locked_until timestamptz,
    last_error   text,
    done_at      timestamptz,
    failed_at    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

-- Every delivery attempt of a notification, successful or not.
CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES jobs (id),
    target      text NOT NULL,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    status_code integer,
    error       text
);
CREATE INDEX delivery_attempts_job ON delivery_attempts (job_id);
