-- Scope and demarcation: per platform, the fence (what the platform team is responsible for and
-- who owns what is outside), a RACI per activity, the rules for tenants, published revisions that
-- never change, acknowledgements by application teams, reusable templates, and the audits of what
-- is outside the fence.

-- A generic guard for rows that, once written, are history.
CREATE FUNCTION reject_history_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is history and cannot be changed: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

-- One row per platform whose draft was ever touched; the version moves on every draft change, so
-- a publish can refuse to publish something its author has not seen.
CREATE TABLE scope_drafts (
    platform_id uuid PRIMARY KEY REFERENCES platforms (id),
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The draft's items. `responsible` is a party (JSON: {kind, ...}); `raci` is a list of rows.
CREATE TABLE scope_items (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id        uuid NOT NULL REFERENCES platforms (id),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    category           text NOT NULL DEFAULT '',
    inside             boolean NOT NULL,
    responsible        jsonb NOT NULL,
    escalation_contact text NOT NULL DEFAULT '',
    notes              text NOT NULL DEFAULT '',
    raci               jsonb NOT NULL DEFAULT '[]',
    position           integer NOT NULL DEFAULT 0,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scope_items_platform ON scope_items (platform_id, position, name);
CREATE TRIGGER scope_items_updated_at BEFORE UPDATE ON scope_items FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The draft's rules for tenants.
CREATE TABLE scope_rules (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id       uuid NOT NULL REFERENCES platforms (id),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    description       text NOT NULL DEFAULT '',
    reason            text NOT NULL,
    exception_process text NOT NULL DEFAULT '',
    position          integer NOT NULL DEFAULT 0,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scope_rules_platform ON scope_rules (platform_id, position, title);
CREATE TRIGGER scope_rules_updated_at BEFORE UPDATE ON scope_rules FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Published revisions: a frozen copy of the draft's items and rules. Never updated, never deleted.
CREATE TABLE scope_revisions (
    platform_id  uuid NOT NULL REFERENCES platforms (id),
    number       integer NOT NULL CHECK (number >= 1),
    summary      text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
    content      jsonb NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    published_by text NOT NULL,
    PRIMARY KEY (platform_id, number)
);
CREATE INDEX scope_revisions_published ON scope_revisions (platform_id, published_at DESC);
CREATE TRIGGER scope_revisions_immutable BEFORE UPDATE OR DELETE ON scope_revisions
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER scope_revisions_no_truncate BEFORE TRUNCATE ON scope_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change();

-- Which revision each application team acknowledged, and when: history, kept whole.
CREATE TABLE scope_acknowledgements (
    id              bigserial PRIMARY KEY,
    platform_id     uuid NOT NULL,
    revision        integer NOT NULL,
    team_id         uuid NOT NULL REFERENCES teams (id),
    acknowledged_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_by text NOT NULL,
    FOREIGN KEY (platform_id, revision) REFERENCES scope_revisions (platform_id, number)
);
CREATE INDEX scope_acknowledgements_team ON scope_acknowledgements (platform_id, team_id, revision DESC);
CREATE TRIGGER scope_acknowledgements_immutable BEFORE UPDATE OR DELETE ON scope_acknowledgements
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- Templates that platform engineers saved (the built-in template lives in the code).
CREATE TABLE scope_templates (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '',
    content     jsonb NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Audits of what is outside the fence: application audits and (yearly) provider audits.
CREATE TABLE scope_audits (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id    uuid NOT NULL REFERENCES platforms (id),
    kind           text NOT NULL CHECK (kind IN ('application', 'provider')),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    subject        text NOT NULL DEFAULT '',
    application_id uuid REFERENCES applications (id),
    aspects        text[] NOT NULL DEFAULT '{}',
    due_on         date NOT NULL,
    status         text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'completed', 'cancelled')),
    completed_on   date,
    outcome        text CHECK (outcome IN ('passed', 'passed_with_findings', 'failed')),
    findings       text NOT NULL DEFAULT '',
    actions        jsonb NOT NULL DEFAULT '[]',
    repeats_yearly boolean NOT NULL DEFAULT false,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'completed') = (completed_on IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX scope_audits_platform ON scope_audits (platform_id, due_on);
CREATE INDEX scope_audits_open ON scope_audits (due_on) WHERE status = 'planned';
CREATE TRIGGER scope_audits_updated_at BEFORE UPDATE ON scope_audits FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- Overdue audits appear on the cached dashboard.
CREATE TRIGGER scope_audits_version AFTER INSERT OR UPDATE OR DELETE ON scope_audits
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
