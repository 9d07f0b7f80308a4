//! Disaster-recovery drills: planned with a goal, a scenario, a starting state, participants and
//! targets (RPO, RTO, backup retention); recorded afterwards with the measured RPO and RTO (met or
//! breached) and a retrospective with action items.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::maintenances::{action_items_of, insert_action_items, validate_retrospective};
use super::model::*;
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::validate::Problems;

struct Row {
    id: Uuid,
    platform_id: Uuid,
    platform_slug: String,
    application_id: Option<Uuid>,
    application_slug: Option<String>,
    title: String,
    goal: String,
    scenario: String,
    starting_state: String,
    participants: String,
    observers: String,
    leader: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    target_rpo_minutes: i32,
    target_rto_minutes: i32,
    target_retention_days: i32,
    state: String,
    measured_rpo_minutes: Option<i32>,
    measured_rto_minutes: Option<i32>,
    retention_verified: Option<bool>,
    went_well: Option<String>,
    to_improve: Option<String>,
    completed_at: Option<DateTime<Utc>>,
    cancel_reason: Option<String>,
    version: i32,
    created_by: String,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_model(self, items: Vec<ActionItem>) -> Drill {
        Drill {
            rpo_met: self
                .measured_rpo_minutes
                .map(|m| m <= self.target_rpo_minutes),
            rto_met: self
                .measured_rto_minutes
                .map(|m| m <= self.target_rto_minutes),
            retrospective: self.completed_at.map(|at| Retrospective {
                went_well: self.went_well.unwrap_or_default(),
                to_improve: self.to_improve.unwrap_or_default(),
                written_at: Some(at),
                action_items: items,
            }),
            id: self.id,
            platform_id: self.platform_id,
            platform_slug: self.platform_slug,
            application_id: self.application_id,
            application_slug: self.application_slug,
            title: self.title,
            goal: self.goal,
            scenario: self.scenario,
            starting_state: self.starting_state,
            participants: self.participants,
            observers: self.observers,
            leader: self.leader,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            target_rpo_minutes: self.target_rpo_minutes,
            target_rto_minutes: self.target_rto_minutes,
            target_retention_days: self.target_retention_days,
            state: self.state,
            measured_rpo_minutes: self.measured_rpo_minutes,
            measured_rto_minutes: self.measured_rto_minutes,
            retention_verified: self.retention_verified,
            cancel_reason: self.cancel_reason,
            version: self.version,
            created_by: self.created_by,
            updated_at: self.updated_at,
        }
    }
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    platform_id: Option<Uuid>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<Drill>> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT d.id, d.platform_id, p.slug AS platform_slug, d.application_id,
                  a.slug AS "application_slug?", d.title, d.goal, d.scenario, d.starting_state,
                  d.participants, d.observers, d.leader, d.starts_at, d.ends_at, d.target_rpo_minutes,
                  d.target_rto_minutes, d.target_retention_days, d.state, d.measured_rpo_minutes,
                  d.measured_rto_minutes, d.retention_verified, d.went_well, d.to_improve,
                  d.completed_at, d.cancel_reason, d.version, d.created_by, d.updated_at
           FROM dr_drills d
           JOIN platforms p ON p.id = d.platform_id
           LEFT JOIN applications a ON a.id = d.application_id
           WHERE ($1::uuid IS NULL OR d.id = $1)
             AND ($2::uuid IS NULL OR d.platform_id = $2)
             AND ($3::timestamptz IS NULL OR d.ends_at > $3)
             AND ($4::timestamptz IS NULL OR d.starts_at < $4)
           ORDER BY d.starts_at, d.id"#,
        id,
        platform_id,
        from,
        to,
    )
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut items = action_items_of(conn, &[], &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = items.extract_if(.., |i| i.drill_id == Some(r.id)).collect();
            r.into_model(mine)
        })
        .collect())
}

async fn fetch(conn: &mut PgConnection, id: Uuid) -> Result<Drill> {
    load(conn, Some(id), None, None, None)
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("drill"))
}

/// Drills, by start.
pub async fn list(pool: &PgPool, caller: &Caller, platform_id: Option<Uuid>) -> Result<Vec<Drill>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    load(&mut conn, None, platform_id, None, None).await
}

/// Planned drills whose time has passed without a recorded result (neither measured nor called
/// off), the longest overdue first: what the dashboard chases, since a drill that is not
/// recorded proves nothing to an auditor.
pub async fn results_overdue(
    pool: &PgPool,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<Vec<Drill>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    let mut overdue: Vec<Drill> = load(&mut conn, None, None, None, Some(now))
        .await?
        .into_iter()
        .filter(|d| d.state == "planned" && d.ends_at <= now)
        .collect();
    overdue.sort_by_key(|d| (d.ends_at, d.id));
    Ok(overdue)
}

pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Drill> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id).await
}

/// Platform drills are the platform team's; an application's drill is also its team's.
async fn authorize(
    conn: &mut PgConnection,
    caller: &Caller,
    application_id: Option<Uuid>,
) -> Result<()> {
    match application_id {
        None => caller.actor.authorize(Action::ManageCalendar),
        Some(app) => {
            let team = sqlx::query_scalar!(
                "SELECT t.slug FROM applications a JOIN teams t ON t.id = a.team_id WHERE a.id = $1",
                app
            )
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| Error::invalid("application_id", "no such application"))?;
            caller
                .actor
                .authorize(Action::WorkOnTeamCalendar { team: &team })
        }
    }
}

/// Whether the drill's platform exists, and whether its application (if any) runs there.
struct Placement {
    platform: bool,
    application: bool,
}

async fn placement(conn: &mut PgConnection, form: &DrillForm) -> Result<Placement> {
    let row = sqlx::query!(
        r#"SELECT
             EXISTS (SELECT 1 FROM platforms WHERE id = $1 AND archived_at IS NULL) AS "platform!",
             ($2::uuid IS NULL OR EXISTS (
                 SELECT 1 FROM application_namespaces n JOIN environments e ON e.id = n.environment_id
                 WHERE n.application_id = $2 AND e.platform_id = $1)) AS "application!""#,
        form.platform_id,
        form.application_id,
    )
    .fetch_one(conn)
    .await?;
    Ok(Placement {
        platform: row.platform,
        application: row.application,
    })
}

fn validate(placement: &Placement, form: &mut DrillForm) -> Result<()> {
    let mut p = Problems::default();
    for (field, value, required, max) in [
        ("title", &mut form.title, true, 160),
        ("goal", &mut form.goal, true, 4000),
        ("scenario", &mut form.scenario, true, 4000),
        ("starting_state", &mut form.starting_state, false, 4000),
        ("participants", &mut form.participants, false, 2000),
        ("observers", &mut form.observers, false, 2000),
        ("leader", &mut form.leader, true, 120),
    ] {
        *value = value.trim().to_owned();
        if required && value.is_empty() {
            p.add(field, "is required");
        } else if value.chars().count() > max {
            p.add(field, format!("must be at most {max} characters"));
        }
    }
    if !placement.platform {
        p.add("platform_id", "no such platform");
    } else if !placement.application {
        p.add(
            "application_id",
            "does not run on this platform (it has no namespace in any of its environments)",
        );
    }
    crate::validate::instant(&mut p, "starts_at", form.starts_at);
    crate::validate::instant(&mut p, "ends_at", form.ends_at);
    if form.ends_at <= form.starts_at {
        p.add("ends_at", "must come after the start");
    } else if form.ends_at - form.starts_at > Duration::days(7) {
        p.add("ends_at", "a drill lasts at most 7 days");
    }
    for (field, value, max) in [
        ("target_rpo_minutes", form.target_rpo_minutes, 525_600),
        ("target_rto_minutes", form.target_rto_minutes, 525_600),
        ("target_retention_days", form.target_retention_days, 3_650),
    ] {
        if !(0..=max).contains(&value) {
            p.add(field, format!("must be between 0 and {max}"));
        }
    }
    p.finish()
}

/// Plans a drill.
#[tracing::instrument(skip_all)]
pub async fn create(pool: &PgPool, caller: &Caller, mut form: DrillForm) -> Result<Drill> {
    let mut tx = pool.begin().await?;
    authorize(&mut tx, caller, form.application_id).await?;
    let placement = placement(&mut tx, &form).await?;
    validate(&placement, &mut form)?;
    let id = sqlx::query_scalar!(
        "INSERT INTO dr_drills (platform_id, application_id, title, goal, scenario, starting_state,
             participants, leader, starts_at, ends_at, target_rpo_minutes, target_rto_minutes,
             target_retention_days, created_by, observers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        form.platform_id,
        form.application_id,
        form.title,
        form.goal,
        form.scenario,
        form.starting_state,
        form.participants,
        form.leader,
        form.starts_at,
        form.ends_at,
        form.target_rpo_minutes as i32,
        form.target_rto_minutes as i32,
        form.target_retention_days as i32,
        caller.actor.name,
        form.observers,
    )
    .fetch_one(&mut *tx)
    .await?;
    let drill = fetch(&mut tx, id).await?;
    audit::record::<(), _>(
        &mut tx,
        caller,
        "drill.create",
        "drill",
        &id.to_string(),
        None,
        Some(&drill),
    )
    .await?;
    tx.commit().await?;
    Ok(drill)
}

/// Changes a planned drill (reschedules it, refines its scenario or targets). It stays on its
/// platform and application; `version` is the one the caller saw.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    version: i32,
    mut form: DrillForm,
) -> Result<Drill> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, id).await?;
    let before = fetch(&mut tx, id).await?;
    authorize(&mut tx, caller, before.application_id).await?;
    if form.platform_id != before.platform_id || form.application_id != before.application_id {
        return Err(Error::invalid(
            "platform_id",
            "A drill stays on its platform and application: cancel it and plan a new one.",
        ));
    }
    if before.state != "planned" {
        return Err(Error::Conflict {
            message: format!(
                "This drill is {}; only a planned one can be changed.",
                before.state
            ),
        });
    }
    if before.version != version {
        return Err(Error::stale("drill"));
    }
    let placement = placement(&mut tx, &form).await?;
    validate(&placement, &mut form)?;
    sqlx::query!(
        "UPDATE dr_drills SET title = $2, goal = $3, scenario = $4, starting_state = $5,
             participants = $6, observers = $7, leader = $8, starts_at = $9, ends_at = $10,
             target_rpo_minutes = $11, target_rto_minutes = $12, target_retention_days = $13,
             version = version + 1
         WHERE id = $1",
        id,
        form.title,
        form.goal,
        form.scenario,
        form.starting_state,
        form.participants,
        form.observers,
        form.leader,
        form.starts_at,
        form.ends_at,
        form.target_rpo_minutes as i32,
        form.target_rto_minutes as i32,
        form.target_retention_days as i32,
    )
    .execute(&mut *tx)
    .await?;
    commit_change(tx, caller, "drill.update", before).await
}

/// Ends a change of a drill: reads it again, records before and after in the audit log, commits.
async fn commit_change(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    caller: &Caller,
    action: &str,
    before: Drill,
) -> Result<Drill> {
    let after = fetch(&mut tx, before.id).await?;
    audit::record(
        &mut tx,
        caller,
        action,
        "drill",
        &before.id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Locks a drill's row for a change, or says it does not exist.
async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    sqlx::query!("SELECT id FROM dr_drills WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| Error::not_found("drill"))
}

/// Records what a drill measured and its retrospective; the drill is then completed.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn record_result(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    form: DrillResultForm,
    now: DateTime<Utc>,
) -> Result<Drill> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, id).await?;
    let before = fetch(&mut tx, id).await?;
    authorize(&mut tx, caller, before.application_id).await?;
    if before.state != "planned" {
        return Err(Error::Conflict {
            message: format!(
                "This drill is {}; its result is already recorded.",
                before.state
            ),
        });
    }
    if before.starts_at > now {
        return Err(Error::Conflict {
            message: "This drill has not started yet; record its result afterwards.".into(),
        });
    }
    let mut p = Problems::default();
    for (field, value) in [
        ("measured_rpo_minutes", form.measured_rpo_minutes),
        ("measured_rto_minutes", form.measured_rto_minutes),
    ] {
        if !(0..=525_600).contains(&value) {
            p.add(field, "must be between 0 and 525600 minutes");
        }
    }
    p.finish()?;
    let mut retrospective = form.retrospective();
    validate_retrospective(&mut retrospective)?;
    sqlx::query!(
        "UPDATE dr_drills SET state = 'completed', measured_rpo_minutes = $2,
             measured_rto_minutes = $3, retention_verified = $4, went_well = $5, to_improve = $6,
             completed_at = $7, version = version + 1
         WHERE id = $1",
        id,
        form.measured_rpo_minutes as i32,
        form.measured_rto_minutes as i32,
        form.retention_verified,
        retrospective.went_well,
        retrospective.to_improve,
        now,
    )
    .execute(&mut *tx)
    .await?;
    insert_action_items(&mut tx, None, Some(id), &retrospective.action_items).await?;
    commit_change(tx, caller, "drill.complete", before).await
}

/// Cancels a planned drill, saying why (it stays on record, with the reason).
pub async fn cancel(pool: &PgPool, caller: &Caller, id: Uuid, reason: &str) -> Result<Drill> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(Error::invalid(
            "reason",
            "Say why the drill is called off (up to 2,000 characters).",
        ));
    }
    let mut tx = pool.begin().await?;
    lock(&mut tx, id).await?;
    let before = fetch(&mut tx, id).await?;
    authorize(&mut tx, caller, before.application_id).await?;
    if before.state != "planned" {
        return Err(Error::Conflict {
            message: format!(
                "This drill is {}; only a planned one can be cancelled.",
                before.state
            ),
        });
    }
    sqlx::query!(
        "UPDATE dr_drills SET state = 'cancelled', cancel_reason = $2, version = version + 1 WHERE id = $1",
        id,
        reason
    )
    .execute(&mut *tx)
    .await?;
    commit_change(tx, caller, "drill.cancel", before).await
}
