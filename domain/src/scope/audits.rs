//! Audits of what is outside the fence: application audits and (usually yearly) provider audits,
//! each with a due date, an outcome, findings and follow-up actions.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::model::*;
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::platforms;

struct Row {
    id: Uuid,
    platform_id: Uuid,
    platform_name: String,
    kind: String,
    title: String,
    subject: String,
    application_id: Option<Uuid>,
    aspects: Vec<String>,
    due_on: NaiveDate,
    status: String,
    completed_on: Option<NaiveDate>,
    outcome: Option<String>,
    findings: String,
    actions: Json<Vec<FollowUpAction>>,
    repeats_yearly: bool,
    overdue: bool,
    version: i32,
    updated_at: DateTime<Utc>,
}

impl From<Row> for ScopeAudit {
    fn from(r: Row) -> Self {
        ScopeAudit {
            id: r.id,
            platform_id: r.platform_id,
            platform_name: r.platform_name,
            kind: AuditKind::parse(&r.kind).unwrap_or(AuditKind::Application),
            title: r.title,
            subject: r.subject,
            application_id: r.application_id,
            aspects: r.aspects,
            due_on: r.due_on,
            status: AuditStatus::parse(&r.status).unwrap_or(AuditStatus::Planned),
            completed_on: r.completed_on,
            outcome: r.outcome.as_deref().and_then(AuditOutcome::parse),
            findings: r.findings,
            actions: r.actions.0,
            repeats_yearly: r.repeats_yearly,
            overdue: r.overdue,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

/// Lists audits, soonest due first.
#[tracing::instrument(skip_all)]
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    query: &AuditListQuery,
) -> Result<Vec<ScopeAudit>> {
    caller.actor.authorize(Action::Read)?;
    if let Some(s) = query.status.as_deref()
        && AuditStatus::parse(s).is_none()
    {
        return Err(Error::invalid(
            "status",
            "must be planned, completed or cancelled",
        ));
    }
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT s.id, s.platform_id, p.name AS platform_name, s.kind, s.title, s.subject,
                  s.application_id, s.aspects, s.due_on, s.status, s.completed_on, s.outcome,
                  s.findings, s.actions AS "actions: Json<Vec<FollowUpAction>>", s.repeats_yearly,
                  (s.status = 'planned' AND s.due_on < current_date) AS "overdue!",
                  s.version, s.updated_at
           FROM scope_audits s JOIN platforms p ON p.id = s.platform_id
           WHERE ($1::uuid IS NULL OR s.platform_id = $1)
             AND (NOT $2 OR (s.status = 'planned' AND s.due_on < current_date))
             AND ($3::text IS NULL OR s.status = $3)
           ORDER BY s.due_on, s.title, s.id
           LIMIT 500"#,
        query.platform_id,
        query.overdue,
        query.status,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ScopeAudit::from).collect())
}

async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<ScopeAudit> {
    let row = if lock {
        sqlx::query_as!(
            Row,
            r#"SELECT s.id, s.platform_id, p.name AS platform_name, s.kind, s.title, s.subject,
                      s.application_id, s.aspects, s.due_on, s.status, s.completed_on, s.outcome,
                      s.findings, s.actions AS "actions: Json<Vec<FollowUpAction>>", s.repeats_yearly,
                      (s.status = 'planned' AND s.due_on < current_date) AS "overdue!",
                      s.version, s.updated_at
               FROM scope_audits s JOIN platforms p ON p.id = s.platform_id
               WHERE s.id = $1 FOR UPDATE OF s"#,
            id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Row,
            r#"SELECT s.id, s.platform_id, p.name AS platform_name, s.kind, s.title, s.subject,
                      s.application_id, s.aspects, s.due_on, s.status, s.completed_on, s.outcome,
                      s.findings, s.actions AS "actions: Json<Vec<FollowUpAction>>", s.repeats_yearly,
                      (s.status = 'planned' AND s.due_on < current_date) AS "overdue!",
                      s.version, s.updated_at
               FROM scope_audits s JOIN platforms p ON p.id = s.platform_id
               WHERE s.id = $1"#,
            id
        )
        .fetch_optional(conn)
        .await?
    };
    row.map(ScopeAudit::from)
        .ok_or_else(|| Error::not_found("audit"))
}

/// Reads one audit.
pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<ScopeAudit> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id, false).await
}

/// Checks the input against the database: the application exists (its name becomes the subject
/// of an application audit).
async fn check(conn: &mut PgConnection, input: &mut ScopeAuditInput) -> Result<()> {
    validate_audit(input)?;
    if input.kind == AuditKind::Application {
        let id = input.application_id.expect("validated");
        let name = sqlx::query_scalar!("SELECT name FROM applications WHERE id = $1", id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| Error::invalid("application_id", "is not a known application"))?;
        if input.subject.is_empty() {
            input.subject = name;
        }
    } else {
        input.application_id = None;
    }
    input.aspects.sort();
    input.aspects.dedup();
    Ok(())
}

async fn insert(
    conn: &mut PgConnection,
    platform_id: Uuid,
    input: &ScopeAuditInput,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO scope_audits (platform_id, kind, title, subject, application_id, aspects, due_on,
                                   status, completed_on, outcome, findings, actions, repeats_yearly)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING id",
        platform_id,
        input.kind.as_str(),
        input.title,
        input.subject,
        input.application_id,
        &input.aspects,
        input.due_on,
        input.status.as_str(),
        input.completed_on,
        input.outcome.map(AuditOutcome::as_str),
        input.findings,
        Json(&input.actions) as _,
        input.repeats_yearly,
    )
    .fetch_one(conn)
    .await?)
}

/// Plans an audit of something outside a platform's fence.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn create(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    mut input: ScopeAuditInput,
) -> Result<ScopeAudit> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    check(&mut tx, &mut input).await?;
    platforms::fetch(&mut tx, platform_id, false).await?;
    let id = insert(&mut tx, platform_id, &input).await?;
    let audit = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        caller,
        "create",
        "scope_audit",
        &id.to_string(),
        None::<&()>,
        Some(&audit),
    )
    .await?;
    tx.commit().await?;
    Ok(audit)
}

/// The same day a year later (28 February for 29 February).
fn a_year_after(d: NaiveDate) -> NaiveDate {
    d.with_year(d.year() + 1)
        .or_else(|| NaiveDate::from_ymd_opt(d.year() + 1, d.month(), 28))
        .unwrap_or(d)
}

/// Edits an audit (records its outcome, findings and actions) if nobody changed it since
/// `expected_version`. Completing an audit that repeats yearly plans the next one. A completed or
/// cancelled audit keeps its outcome: it can be corrected, not reopened.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    mut input: ScopeAuditInput,
) -> Result<ScopeAudit> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    check(&mut tx, &mut input).await?;
    let before = fetch(&mut tx, id, true).await?;
    if before.version != expected_version {
        return Err(Error::stale("audit"));
    }
    if before.status != AuditStatus::Planned && input.status == AuditStatus::Planned {
        return Err(Error::invalid(
            "status",
            "a completed or cancelled audit cannot be planned again; plan a new one",
        ));
    }
    if before.kind != input.kind {
        return Err(Error::invalid(
            "kind",
            "cannot change once the audit is planned",
        ));
    }
    sqlx::query!(
        "UPDATE scope_audits SET title = $2, subject = $3, application_id = $4, aspects = $5,
                due_on = $6, status = $7, completed_on = $8, outcome = $9, findings = $10,
                actions = $11, repeats_yearly = $12, version = version + 1
         WHERE id = $1",
        id,
        input.title,
        input.subject,
        input.application_id,
        &input.aspects,
        input.due_on,
        input.status.as_str(),
        input.completed_on,
        input.outcome.map(AuditOutcome::as_str),
        input.findings,
        Json(&input.actions) as _,
        input.repeats_yearly,
    )
    .execute(&mut *tx)
    .await?;
    let after = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        caller,
        "update",
        "scope_audit",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    if before.status == AuditStatus::Planned
        && after.status == AuditStatus::Completed
        && after.repeats_yearly
    {
        let next = ScopeAuditInput {
            kind: after.kind,
            title: after.title.clone(),
            subject: after.subject.clone(),
            application_id: after.application_id,
            aspects: after.aspects.clone(),
            due_on: a_year_after(after.due_on),
            status: AuditStatus::Planned,
            completed_on: None,
            outcome: None,
            findings: String::new(),
            actions: vec![],
            repeats_yearly: true,
        };
        let next_id = insert(&mut tx, after.platform_id, &next).await?;
        let planned = fetch(&mut tx, next_id, false).await?;
        audit::record(
            &mut tx,
            caller,
            "create",
            "scope_audit",
            &next_id.to_string(),
            None::<&()>,
            Some(&planned),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// The overdue audits, for the dashboard (at most `limit`), and their total.
pub(crate) async fn overdue(pool: &PgPool, limit: i64) -> Result<(i64, Vec<ScopeAudit>)> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM scope_audits WHERE status = 'planned' AND due_on < current_date"#
    )
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT s.id, s.platform_id, p.name AS platform_name, s.kind, s.title, s.subject,
                  s.application_id, s.aspects, s.due_on, s.status, s.completed_on, s.outcome,
                  s.findings, s.actions AS "actions: Json<Vec<FollowUpAction>>", s.repeats_yearly,
                  true AS "overdue!", s.version, s.updated_at
           FROM scope_audits s JOIN platforms p ON p.id = s.platform_id
           WHERE s.status = 'planned' AND s.due_on < current_date
           ORDER BY s.due_on, s.id LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok((total, rows.into_iter().map(ScopeAudit::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_after_keeps_the_day_or_falls_back_to_the_28th() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(a_year_after(d(2026, 3, 15)), d(2027, 3, 15));
        assert_eq!(a_year_after(d(2028, 2, 29)), d(2029, 2, 28));
    }
}
