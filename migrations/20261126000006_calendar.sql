-- The maintenance calendar: plans per environment (production relative to staging), blackouts,
-- planned maintenances with their lifecycle, retrospectives and action items, disaster-recovery
-- drills, acknowledgements of major maintenances, ICS feed tokens and e-mail recipients.

-- Per platform: how much notice a major update needs and when reminders go out.
ALTER TABLE platforms
    ADD COLUMN major_notice_days integer NOT NULL DEFAULT 30 CHECK (major_notice_days BETWEEN 1 AND 365),
    ADD COLUMN reminder_minutes  integer[] NOT NULL DEFAULT '{10080,4320,60}';

-- One plan per environment: either its own recurrence, or production-style "follows staging by a
-- soak period". `revision` grows with every change to the plan or to a blackout that touches the
-- environment: the ICS feed's SEQUENCE for the plan's windows.
CREATE TABLE maintenance_plans (
    environment_id         uuid PRIMARY KEY REFERENCES environments (id),
    rrule                  text,
    follows_environment_id uuid REFERENCES environments (id),
    soak_working_days      integer CHECK (soak_working_days BETWEEN 1 AND 60),
    start_time             time NOT NULL,
    time_zone              text NOT NULL,
    duration_hours         integer NOT NULL CHECK (duration_hours BETWEEN 4 AND 24),
    blackout_policy        text NOT NULL CHECK (blackout_policy IN ('skip', 'move_to_next_allowed_day')),
    allowed_categories     text[] NOT NULL,
    revision               integer NOT NULL DEFAULT 1,
    version                integer NOT NULL DEFAULT 1,
    updated_by             text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((rrule IS NULL) = (follows_environment_id IS NOT NULL)),
    CHECK ((follows_environment_id IS NULL) = (soak_working_days IS NULL)),
    CHECK (follows_environment_id IS DISTINCT FROM environment_id)
);
CREATE INDEX maintenance_plans_follows ON maintenance_plans (follows_environment_id);
CREATE TRIGGER maintenance_plans_updated_at BEFORE UPDATE ON maintenance_plans FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Days without maintenance for a whole platform (environment_id NULL) or one environment.
CREATE TABLE calendar_blackouts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id    uuid NOT NULL REFERENCES platforms (id),
    environment_id uuid REFERENCES environments (id),
    first_day      date NOT NULL,
    last_day       date NOT NULL,
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (last_day >= first_day)
);
CREATE INDEX calendar_blackouts_platform ON calendar_blackouts (platform_id, first_day);

-- A planned change in one window. A started maintenance can only be ended; a finished one stays.
CREATE TABLE maintenances (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    environment_id         uuid NOT NULL REFERENCES environments (id),
    category               text NOT NULL CHECK (category IN ('security_patch', 'minor', 'major', 'emergency')),
    title                  text NOT NULL CHECK (length(title) BETWEEN 1 AND 160),
    starts_at              timestamptz NOT NULL,
    ends_at                timestamptz NOT NULL,
    -- The local day of the plan's window this maintenance takes (NULL for an emergency).
    window_date            date,
    kubernetes_from        text NOT NULL DEFAULT '',
    kubernetes_to          text NOT NULL DEFAULT '',
    node_image             text NOT NULL DEFAULT '',
    components             text NOT NULL DEFAULT '',
    description            text NOT NULL DEFAULT '',
    expected_impact        text NOT NULL DEFAULT '',
    contingency_plan       text NOT NULL DEFAULT '',
    lead                   text NOT NULL,
    justification          text NOT NULL DEFAULT '',
    staging_maintenance_id uuid REFERENCES maintenances (id),
    state                  text NOT NULL DEFAULT 'planned'
                           CHECK (state IN ('planned', 'announced', 'in_progress', 'completed', 'cancelled', 'rolled_back')),
    announced_at           timestamptz,
    started_at             timestamptz,
    ended_at               timestamptz,
    cancel_reason          text NOT NULL DEFAULT '',
    went_well              text,
    to_improve             text,
    retrospective_at       timestamptz,
    sequence               integer NOT NULL DEFAULT 0,
    version                integer NOT NULL DEFAULT 1,
    created_by             text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (category <> 'emergency' OR length(justification) > 0)
);
CREATE INDEX maintenances_environment ON maintenances (environment_id, starts_at);
CREATE INDEX maintenances_starts ON maintenances (starts_at);
CREATE TRIGGER maintenances_updated_at BEFORE UPDATE ON maintenances FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Maintenances are never deleted (a cancelled one stays as a record), and a started or finished
-- one cannot go back to an earlier state: enforced here, not only in code.
CREATE FUNCTION maintenances_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'maintenances are never deleted; cancel instead';
    END IF;
    IF OLD.state IN ('completed', 'cancelled', 'rolled_back') AND NEW.state <> OLD.state THEN
        RAISE EXCEPTION 'a finished maintenance keeps its state';
    END IF;
    IF OLD.state = 'in_progress' AND NEW.state NOT IN ('in_progress', 'completed', 'rolled_back') THEN
        RAISE EXCEPTION 'a started maintenance can only be ended';
    END IF;
    IF OLD.state IN ('in_progress', 'completed', 'rolled_back')
       AND (NEW.starts_at <> OLD.starts_at OR NEW.environment_id <> OLD.environment_id) THEN
        RAISE EXCEPTION 'a started maintenance cannot be moved';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER maintenances_guard BEFORE UPDATE OR DELETE ON maintenances FOR EACH ROW EXECUTE FUNCTION maintenances_guard();

-- Application teams acknowledge announced major maintenances of environments they run in.
CREATE TABLE maintenance_acknowledgements (
    maintenance_id  uuid NOT NULL REFERENCES maintenances (id),
    team_id         uuid NOT NULL REFERENCES teams (id),
    sequence        integer NOT NULL,
    acknowledged_by text NOT NULL,
    acknowledged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (maintenance_id, team_id)
);

-- Disaster-recovery drills per platform or application.
CREATE TABLE dr_drills (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id            uuid NOT NULL REFERENCES platforms (id),
    application_id         uuid REFERENCES applications (id),
    title                  text NOT NULL CHECK (length(title) BETWEEN 1 AND 160),
    goal                   text NOT NULL,
    scenario               text NOT NULL,
    starting_state         text NOT NULL DEFAULT '',
    participants           text NOT NULL DEFAULT '',
    leader                 text NOT NULL,
    starts_at              timestamptz NOT NULL,
    ends_at                timestamptz NOT NULL,
    target_rpo_minutes     integer NOT NULL CHECK (target_rpo_minutes >= 0),
    target_rto_minutes     integer NOT NULL CHECK (target_rto_minutes >= 0),
    target_retention_days  integer NOT NULL CHECK (target_retention_days >= 0),
    state                  text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'completed', 'cancelled')),
    measured_rpo_minutes   integer CHECK (measured_rpo_minutes >= 0),
    measured_rto_minutes   integer CHECK (measured_rto_minutes >= 0),
    retention_verified     boolean,
    went_well              text,
    to_improve             text,
    completed_at           timestamptz,
    version                integer NOT NULL DEFAULT 1,
    created_by             text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK ((state = 'completed') = (measured_rpo_minutes IS NOT NULL AND measured_rto_minutes IS NOT NULL))
);
CREATE INDEX dr_drills_platform ON dr_drills (platform_id, starts_at);
CREATE TRIGGER dr_drills_updated_at BEFORE UPDATE ON dr_drills FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Action items from retrospectives of maintenances and drills.
CREATE TABLE action_items (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    maintenance_id uuid REFERENCES maintenances (id),
    drill_id       uuid REFERENCES dr_drills (id),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    owner          text NOT NULL CHECK (length(owner) BETWEEN 1 AND 120),
    due_on         date NOT NULL,
    done_at        timestamptz,
    done_by        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((maintenance_id IS NULL) <> (drill_id IS NULL))
);
CREATE INDEX action_items_open ON action_items (due_on) WHERE done_at IS NULL;

-- ICS subscription feeds: only a SHA-256 hash of the token in the URL is kept.
CREATE TABLE calendar_feeds (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope      text NOT NULL CHECK (scope IN ('environment', 'platform', 'team')),
    scope_id   uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    UNIQUE (scope, scope_id)
);

-- E-mail recipients of a team's maintenance notices (sealed at rest like webhook URLs).
CREATE TABLE team_emails (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id        uuid NOT NULL REFERENCES teams (id),
    address_sealed bytea NOT NULL,
    hint           text NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    removed_at     timestamptz
);
CREATE INDEX team_emails_team ON team_emails (team_id) WHERE removed_at IS NULL;

-- The teams that run an active application in an environment: who hears about its maintenance.
CREATE FUNCTION environment_teams(env uuid) RETURNS TABLE (team_id uuid) LANGUAGE sql STABLE AS $$
    SELECT DISTINCT a.team_id
    FROM applications a
    JOIN application_namespaces n ON n.application_id = a.id
    JOIN teams t ON t.id = a.team_id
    WHERE n.environment_id = env AND a.archived_at IS NULL AND t.archived_at IS NULL
$$;

-- Open action items and overdue retrospectives appear on the cached dashboard.
CREATE TRIGGER maintenances_version AFTER INSERT OR UPDATE ON maintenances
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER action_items_version AFTER INSERT OR UPDATE OR DELETE ON action_items
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER dr_drills_version AFTER INSERT OR UPDATE ON dr_drills
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
