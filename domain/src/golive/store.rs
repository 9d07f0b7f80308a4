//! Templates, reviews, attestations, waivers, sign-off and the board in PostgreSQL.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::model::*;
use super::template::{default_items, validate_items};
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::platforms;

// ------------------------------------------------------------------------------------------------
// Templates
// ------------------------------------------------------------------------------------------------

struct TemplateRow {
    platform_id: Uuid,
    version: i32,
    items: Json<Vec<ItemDef>>,
    note: String,
    created_by: String,
    created_at: DateTime<Utc>,
}

impl From<TemplateRow> for ChecklistTemplate {
    fn from(r: TemplateRow) -> Self {
        ChecklistTemplate {
            platform_id: r.platform_id,
            version: r.version,
            items: r.items.0,
            note: r.note,
            created_by: r.created_by,
            created_at: Some(r.created_at),
        }
    }
}

async fn latest_template(
    conn: &mut PgConnection,
    platform_id: Uuid,
) -> Result<Option<ChecklistTemplate>> {
    Ok(sqlx::query_as!(
        TemplateRow,
        r#"SELECT platform_id, version, items AS "items: Json<Vec<ItemDef>>", note, created_by, created_at
           FROM checklist_templates WHERE platform_id = $1 ORDER BY version DESC LIMIT 1"#,
        platform_id
    )
    .fetch_optional(conn)
    .await?
    .map(Into::into))
}

/// The platform's current template; before the first save, the default (version 0).
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn template(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<ChecklistTemplate> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    platforms::fetch(&mut conn, platform_id, false).await?;
    Ok(latest_template(&mut conn, platform_id)
        .await?
        .unwrap_or_else(|| ChecklistTemplate {
            platform_id,
            version: 0,
            items: default_items(),
            note: "Demarc's default checklist".into(),
            created_by: String::new(),
            created_at: None,
        }))
}

/// Every saved version, newest first.
pub async fn template_versions(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<Vec<ChecklistTemplate>> {
    caller.actor.authorize(Action::Read)?;
    let rows = sqlx::query_as!(
        TemplateRow,
        r#"SELECT platform_id, version, items AS "items: Json<Vec<ItemDef>>", note, created_by, created_at
           FROM checklist_templates WHERE platform_id = $1 ORDER BY version DESC"#,
        platform_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Saves a new version of the platform's template. Reviews already open keep their version.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn save_template(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    mut input: TemplateInput,
) -> Result<ChecklistTemplate> {
    caller.actor.authorize(Action::ManageGoLive)?;
    for item in &mut input.items {
        item.key = item.key.trim().to_owned();
        item.title = item.title.trim().to_owned();
        item.environments.retain(|e| !e.trim().is_empty());
    }
    let mut problems = validate_items(&input.items);
    if input.note.chars().count() > 500 {
        problems.add("note", "At most 500 characters.");
    }
    problems.finish()?;
    let mut tx = pool.begin().await?;
    // Locking the platform serialises saves of its template.
    platforms::fetch(&mut tx, platform_id, true).await?;
    let current = latest_template(&mut tx, platform_id).await?;
    let current_version = current.as_ref().map_or(0, |t| t.version);
    if input.base_version != current_version {
        return Err(Error::stale("checklist template"));
    }
    let saved: ChecklistTemplate = sqlx::query_as!(
        TemplateRow,
        r#"INSERT INTO checklist_templates (platform_id, version, items, note, created_by)
           VALUES ($1, $2, $3, $4, $5)
           RETURNING platform_id, version, items AS "items: Json<Vec<ItemDef>>", note, created_by, created_at"#,
        platform_id,
        current_version + 1,
        Json(&input.items) as _,
        input.note.trim(),
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?
    .into();
    audit::record(
        &mut tx,
        caller,
        "checklist_template.save",
        "checklist_template",
        &format!("{platform_id}/{}", saved.version),
        current.as_ref(),
        Some(&saved),
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

// ------------------------------------------------------------------------------------------------
// Reviews
// ------------------------------------------------------------------------------------------------

pub(crate) struct ReviewHead {
    pub application_id: Uuid,
    pub environment_id: Uuid,
    pub template_version: i32,
    pub state: String,
    pub approved_at: Option<DateTime<Utc>>,
    pub has_frozen: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

pub(crate) async fn head(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<ReviewHead> {
    let row = if lock {
        sqlx::query_as!(
            ReviewHead,
            r#"SELECT application_id, environment_id, template_version, state, approved_at,
                      frozen IS NOT NULL AS "has_frozen!", created_by, created_at, version
               FROM golive_reviews WHERE id = $1 FOR UPDATE"#,
            id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            ReviewHead,
            r#"SELECT application_id, environment_id, template_version, state, approved_at,
                      frozen IS NOT NULL AS "has_frozen!", created_by, created_at, version
               FROM golive_reviews WHERE id = $1"#,
            id
        )
        .fetch_optional(conn)
        .await?
    };
    row.ok_or_else(|| Error::not_found("go-live review"))
}

pub(crate) async fn context(
    conn: &mut PgConnection,
    application_id: Uuid,
    environment_id: Uuid,
) -> Result<ReviewContext> {
    let row = sqlx::query!(
        r#"SELECT a.id AS application_id, a.slug AS application_slug, a.name AS application_name,
                  t.slug AS team_slug, t.name AS team_name,
                  p.id AS platform_id, p.name AS platform_name,
                  e.id AS environment_id, e.slug AS environment_slug, e.name AS environment_name,
                  e.is_production,
                  COALESCE((SELECT array_agg(n.namespace ORDER BY n.namespace) FROM application_namespaces n
                            WHERE n.application_id = a.id AND n.environment_id = e.id), '{}') AS "namespaces!"
           FROM applications a JOIN teams t ON t.id = a.team_id, environments e JOIN platforms p ON p.id = e.platform_id
           WHERE a.id = $1 AND e.id = $2"#,
        application_id,
        environment_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("application or environment"))?;
    Ok(ReviewContext {
        application_id: row.application_id,
        application_slug: row.application_slug,
        application_name: row.application_name,
        team_slug: row.team_slug,
        team_name: row.team_name,
        platform_id: row.platform_id,
        platform_name: row.platform_name,
        environment_id: row.environment_id,
        environment_slug: row.environment_slug,
        environment_name: row.environment_name,
        is_production: row.is_production,
        namespaces: row.namespaces,
    })
}

struct ItemRow {
    review_id: Uuid,
    key: String,
    definition: Json<ItemDef>,
    status: String,
    reason: String,
    attestation: Option<Json<Attestation>>,
    outcome: Option<String>,
    message: String,
    run_id: Option<Uuid>,
    checked_at: Option<DateTime<Utc>>,
    source: Option<Json<checks::SourceInfo>>,
    updated_by: String,
    updated_at: DateTime<Utc>,
    version: i32,
}

fn parse_outcome(s: &str) -> Option<Outcome> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn recorded_status(s: &str) -> ItemStatus {
    ItemStatus::parse_settable(s).unwrap_or(ItemStatus::Pending)
}

/// The items of a review, in order, without their results (see [`attach_results`]).
pub(crate) async fn items(
    conn: &mut PgConnection,
    review_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<ReviewItem>> {
    Ok(items_of_reviews(conn, &[review_id], now)
        .await?
        .remove(&review_id)
        .unwrap_or_default())
}

struct WaiverRow {
    review_id: Uuid,
    id: Uuid,
    item_key: String,
    reason: String,
    approved_by: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_by: Option<String>,
}

/// One stored result of a run (`verification_results`).
pub(crate) struct ResultRow {
    pub run_id: Uuid,
    pub check_id: String,
    pub subject: Json<checks::ObjectRef>,
    pub outcome: String,
    pub message: String,
    pub evidence: Json<checks::Evidence>,
}

impl ResultRow {
    /// The result; None for a row written by a version that knew a check this one does not.
    pub fn into_result(self) -> Option<CheckResult> {
        Some(CheckResult {
            check: CheckId::parse(&self.check_id)?,
            subject: self.subject.0,
            outcome: parse_outcome(&self.outcome)?,
            message: self.message,
            evidence: self.evidence.0,
        })
    }
}

/// Fills in the results of automatic items: each shows its check's results in the run that last
/// set it. The results are stored once, with the run (one query here, whatever the number of
/// items); lists that only need statuses (boards, sign-off checks) leave them out.
pub(crate) async fn attach_results(
    conn: &mut PgConnection,
    items: &mut [ReviewItem],
) -> Result<()> {
    let wanted: HashSet<(Uuid, CheckId)> = items
        .iter()
        .filter_map(|i| Some((i.run_id?, i.definition.check?)))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let runs: Vec<Uuid> = wanted
        .iter()
        .map(|(r, _)| *r)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let checks: Vec<&str> = wanted.iter().map(|(_, c)| c.as_str()).collect();
    let rows = sqlx::query_as!(
        ResultRow,
        r#"SELECT run_id, check_id, subject AS "subject: Json<checks::ObjectRef>", outcome, message,
                  evidence AS "evidence: Json<checks::Evidence>"
           FROM verification_results WHERE run_id = ANY($1) AND check_id = ANY($2)
           ORDER BY run_id, position"#,
        &runs,
        &checks as &[&str],
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_item: HashMap<(Uuid, CheckId), Vec<CheckResult>> = HashMap::new();
    for row in rows {
        let run = row.run_id;
        if let Some(result) = row.into_result()
            && wanted.contains(&(run, result.check))
        {
            by_item.entry((run, result.check)).or_default().push(result);
        }
    }
    for item in items {
        if let (Some(run), Some(check)) = (item.run_id, item.definition.check) {
            item.results = by_item.get(&(run, check)).cloned().unwrap_or_default();
        }
    }
    Ok(())
}

/// The items of several reviews (two queries, whatever the number of reviews), in order, with
/// their newest unrevoked waiver applied as of `now`, without their results.
pub(crate) async fn items_of_reviews(
    conn: &mut PgConnection,
    review_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Vec<ReviewItem>>> {
    let rows = sqlx::query_as!(
        ItemRow,
        r#"SELECT i.review_id, i.key, i.definition AS "definition: Json<ItemDef>", i.status, i.reason,
                  i.attestation AS "attestation: Json<Attestation>", i.outcome, i.message,
                  i.run_id, i.checked_at,
                  r.source AS "source?: Json<checks::SourceInfo>", i.updated_by, i.updated_at, i.version
           FROM golive_items i LEFT JOIN verification_runs r ON r.id = i.run_id
           WHERE i.review_id = ANY($1) ORDER BY i.review_id, i.position"#,
        review_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    // Newest first, so the first unrevoked one per item is the one in force.
    let waivers = sqlx::query_as!(
        WaiverRow,
        "SELECT review_id, id, item_key, reason, approved_by, expires_at, created_at, revoked_at, revoked_by
         FROM golive_waivers WHERE review_id = ANY($1) AND revoked_at IS NULL ORDER BY created_at DESC",
        review_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<ReviewItem>> = HashMap::new();
    for r in rows {
        let waiver = waivers
            .iter()
            .find(|w| w.review_id == r.review_id && w.item_key == r.key)
            .map(|w| Waiver {
                id: w.id,
                item_key: w.item_key.clone(),
                reason: w.reason.clone(),
                approved_by: w.approved_by.clone(),
                expires_at: w.expires_at,
                created_at: w.created_at,
                revoked_at: w.revoked_at,
                revoked_by: w.revoked_by.clone(),
            });
        let recorded = recorded_status(&r.status);
        let (status, why) = effective_status(recorded, waiver.as_ref(), now);
        out.entry(r.review_id).or_default().push(ReviewItem {
            key: r.key,
            definition: r.definition.0,
            status,
            recorded_status: recorded,
            reason: why.unwrap_or(r.reason),
            attestation: r.attestation.map(|a| a.0),
            outcome: r.outcome.as_deref().and_then(parse_outcome),
            message: r.message,
            results: Vec::new(),
            checked_at: r.checked_at,
            run_id: r.run_id,
            source: r.source.map(|s| s.0),
            waiver,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
            version: r.version,
        });
    }
    Ok(out)
}

/// The live sign-offs of a review; with `answers` (the items' answers now, for an open review),
/// each says whether it was given on these answers.
async fn signoffs(
    conn: &mut PgConnection,
    review_id: Uuid,
    answers: Option<&str>,
) -> Result<Vec<Signoff>> {
    let rows = sqlx::query!(
        "SELECT side, signed_by, signed_at, answers FROM golive_signoffs
         WHERE review_id = $1 AND lapsed_at IS NULL ORDER BY signed_at",
        review_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Signoff {
                side: SignoffSide::parse(&r.side)?,
                signed_by: r.signed_by,
                signed_at: r.signed_at,
                // Sign-offs from before answers were recorded count as they always did.
                current: match (answers, r.answers.as_deref()) {
                    (Some(now), Some(then)) => now == then,
                    _ => true,
                },
            })
        })
        .collect())
}

pub(crate) async fn open_drift(
    conn: &mut PgConnection,
    review_id: Uuid,
) -> Result<Vec<DriftEvent>> {
    Ok(sqlx::query_as!(
        DriftEvent,
        "SELECT id, review_id, run_id, waiver_id, item_key, previous, current, message, detected_at, resolved_at
         FROM drift_events WHERE review_id = $1 ORDER BY detected_at DESC LIMIT 50",
        review_id
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn load(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<Review> {
    let head = head(conn, id, false).await?;
    let context = context(conn, head.application_id, head.environment_id).await?;
    let mut items = items(conn, id, now).await?;
    attach_results(conn, &mut items).await?;
    let answers = (head.state == "open").then(|| answers_of(&items));
    let signoffs = signoffs(conn, id, answers.as_deref()).await?;
    let drift = open_drift(conn, id).await?;
    let progress = Progress::of(&items);
    let go_live = if head.state == "withdrawn" {
        GoLiveState::NotStarted
    } else {
        Review::state_of(
            &head.state,
            &progress,
            drift.iter().any(|d| d.resolved_at.is_none()),
        )
    };
    Ok(Review {
        id,
        context,
        template_version: head.template_version,
        state: head.state,
        go_live,
        approved_at: head.approved_at,
        created_by: head.created_by,
        created_at: head.created_at,
        version: head.version,
        items,
        signoffs,
        progress,
        drift,
        has_frozen: head.has_frozen,
    })
}

/// One review with its items, waivers applied as of `now`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn review(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Review> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    load(&mut conn, id, now).await
}

/// The live review of an application on an environment, if any.
pub async fn find_review(
    pool: &PgPool,
    caller: &Caller,
    application_id: Uuid,
    environment_id: Uuid,
) -> Result<Option<Uuid>> {
    caller.actor.authorize(Action::Read)?;
    Ok(sqlx::query_scalar!(
        "SELECT id FROM golive_reviews WHERE application_id = $1 AND environment_id = $2 AND state <> 'withdrawn'",
        application_id,
        environment_id
    )
    .fetch_optional(pool)
    .await?)
}

/// Opens the go-live review of an application on an environment from the platform's current
/// template (its items that apply to the environment).
#[tracing::instrument(skip_all, fields(%application_id, %environment_id))]
pub async fn open_review(
    pool: &PgPool,
    caller: &Caller,
    application_id: Uuid,
    environment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Review> {
    caller.actor.authorize(Action::Read)?;
    let mut tx = pool.begin().await?;
    let ctx = context(&mut tx, application_id, environment_id).await?;
    caller.actor.authorize(Action::WorkOnGoLive {
        team: &ctx.team_slug,
    })?;
    let archived = sqlx::query_scalar!(
        r#"SELECT (a.archived_at IS NOT NULL OR e.archived_at IS NOT NULL) AS "archived!"
           FROM applications a, environments e WHERE a.id = $1 AND e.id = $2"#,
        application_id,
        environment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if archived {
        return Err(Error::Conflict {
            message: "The application or the environment is archived.".into(),
        });
    }
    // A review is of an application where it runs: without namespaces there, nothing could be
    // verified (and a verification of no namespaces would read every tenant's).
    if ctx.namespaces.is_empty() {
        return Err(Error::invalid(
            "environment_id",
            format!(
                "{} does not run on {}: it has no namespaces there. Add its namespaces on {} to the application first, then open the review.",
                ctx.application_name, ctx.environment_name, ctx.environment_name
            ),
        ));
    }
    platforms::fetch(&mut tx, ctx.platform_id, true).await?;
    let existing = sqlx::query_scalar!(
        "SELECT id FROM golive_reviews WHERE application_id = $1 AND environment_id = $2 AND state <> 'withdrawn'",
        application_id,
        environment_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if existing.is_some() {
        return Err(Error::Conflict {
            message: format!(
                "{} already has a go-live review on {}.",
                ctx.application_name, ctx.environment_name
            ),
        });
    }
    let template = match latest_template(&mut tx, ctx.platform_id).await? {
        Some(t) => t,
        None => {
            // The first review of a platform freezes the default as its version 1.
            let items = default_items();
            sqlx::query!(
                "INSERT INTO checklist_templates (platform_id, version, items, note, created_by)
                 VALUES ($1, 1, $2, 'Demarc''s default checklist', 'Demarc')",
                ctx.platform_id,
                Json(&items) as _,
            )
            .execute(&mut *tx)
            .await?;
            ChecklistTemplate {
                platform_id: ctx.platform_id,
                version: 1,
                items,
                note: String::new(),
                created_by: "Demarc".into(),
                created_at: Some(now),
            }
        }
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO golive_reviews (application_id, environment_id, platform_id, template_version, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        application_id,
        environment_id,
        ctx.platform_id,
        template.version,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    let applicable: Vec<&ItemDef> = template
        .items
        .iter()
        .filter(|i| i.applies_to(&ctx.environment_slug, ctx.is_production))
        .collect();
    for (position, def) in applicable.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO golive_items (review_id, key, position, definition, updated_by) VALUES ($1, $2, $3, $4, $5)",
            id,
            def.key,
            position as i32,
            Json(def) as _,
            caller.actor.name,
        )
        .execute(&mut *tx)
        .await?;
    }
    let review = load(&mut tx, id, now).await?;
    audit::record(
        &mut tx,
        caller,
        "golive_review.open",
        "golive_review",
        &id.to_string(),
        None::<&()>,
        Some(&serde_json::json!({
            "application": ctx.application_slug,
            "environment": ctx.environment_slug,
            "template_version": template.version,
            "items": applicable.len(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(review)
}

/// Withdraws an open review (e.g. to start again from a newer template). It stays in history.
pub async fn withdraw_review(pool: &PgPool, caller: &Caller, id: Uuid, version: i32) -> Result<()> {
    let mut tx = pool.begin().await?;
    let head = head(&mut tx, id, true).await?;
    let ctx = context(&mut tx, head.application_id, head.environment_id).await?;
    caller.actor.authorize(Action::WorkOnGoLive {
        team: &ctx.team_slug,
    })?;
    if head.version != version {
        return Err(Error::stale("go-live review"));
    }
    if head.state != "open" {
        return Err(Error::Conflict {
            message: "Only an open review can be withdrawn; an approved one is history.".into(),
        });
    }
    sqlx::query!(
        "UPDATE golive_reviews SET state = 'withdrawn', version = version + 1 WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "golive_review.withdraw",
        "golive_review",
        &id.to_string(),
        Some(&serde_json::json!({"state": head.state})),
        Some(&serde_json::json!({"state": "withdrawn"})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Locks a review for a change by someone working on it; returns it with its context.
async fn lock_for_work(
    conn: &mut PgConnection,
    caller: &Caller,
    review_id: Uuid,
) -> Result<(ReviewHead, ReviewContext)> {
    caller.actor.authorize(Action::Read)?;
    let head = head(conn, review_id, true).await?;
    let ctx = context(conn, head.application_id, head.environment_id).await?;
    caller.actor.authorize(Action::WorkOnGoLive {
        team: &ctx.team_slug,
    })?;
    if head.state == "withdrawn" {
        return Err(Error::Conflict {
            message: "This review was withdrawn.".into(),
        });
    }
    Ok((head, ctx))
}

/// Not found unless the review has an item with this key.
async fn ensure_item(conn: &mut PgConnection, review_id: Uuid, key: &str) -> Result<()> {
    let exists = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM golive_items WHERE review_id = $1 AND key = $2"#,
        review_id,
        key
    )
    .fetch_one(conn)
    .await?;
    if exists == 0 {
        return Err(Error::not_found("checklist item"));
    }
    Ok(())
}

fn valid_link(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && s.len() <= 2000
        && !s.contains(char::is_whitespace)
}

/// Who signs, as an identity: a person (also through one of their API tokens), an automation
/// client, or the system.
async fn signer_of(conn: &mut PgConnection, caller: &Caller) -> Result<String> {
    use crate::auth::ActorKind;
    Ok(match &caller.actor.kind {
        ActorKind::User { id } => format!("user:{id}"),
        ActorKind::Token { id } => {
            let owner = sqlx::query_scalar!("SELECT created_by FROM api_tokens WHERE id = $1", id)
                .fetch_optional(conn)
                .await?;
            owner.map_or_else(|| format!("token:{id}"), |user| format!("user:{user}"))
        }
        ActorKind::Client { client_id } => format!("client:{client_id}"),
        ActorKind::System => format!("system:{}", caller.actor.name),
    })
}

/// Records a person's answer for an item: a manual attestation with evidence, or a
/// not-applicable decision (with its reason) on any item.
#[tracing::instrument(skip_all, fields(%review_id, key))]
pub async fn attest(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    key: &str,
    input: AttestInput,
    now: DateTime<Utc>,
) -> Result<ReviewItem> {
    let mut tx = pool.begin().await?;
    let after = attest_in(&mut tx, caller, review_id, key, input, now).await?;
    tx.commit().await?;
    Ok(after)
}

/// A file sent with an attestation (the browser's form): see [`attest_with_file`].
pub struct NewFile<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

/// Records an attestation with the file that is its evidence, in one transaction: when the
/// attestation is refused (a stale version, a missing field) no file is left behind.
#[tracing::instrument(skip_all, fields(%review_id, key))]
pub async fn attest_with_file(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    key: &str,
    mut input: AttestInput,
    file: NewFile<'_>,
    now: DateTime<Utc>,
) -> Result<ReviewItem> {
    check_file(file.name, file.data)?;
    let mut tx = pool.begin().await?;
    input.file_id = Some(
        insert_file(
            &mut tx,
            caller,
            review_id,
            key,
            file.name.trim(),
            file.content_type,
            file.data,
        )
        .await?,
    );
    let after = attest_in(&mut tx, caller, review_id, key, input, now).await?;
    tx.commit().await?;
    Ok(after)
}

async fn attest_in(
    tx: &mut PgConnection,
    caller: &Caller,
    review_id: Uuid,
    key: &str,
    input: AttestInput,
    now: DateTime<Utc>,
) -> Result<ReviewItem> {
    let (head, _ctx) = lock_for_work(&mut *tx, caller, review_id).await?;
    let before = items(&mut *tx, review_id, now)
        .await?
        .into_iter()
        .find(|i| i.key == key)
        .ok_or_else(|| Error::not_found("checklist item"))?;
    let mut problems = crate::validate::Problems::default();
    let status = ItemStatus::parse_settable(input.status.trim());
    let note = input.note.trim().to_owned();
    let link = input.link.trim().to_owned();
    match status {
        None => problems.add(
            "status",
            "Choose passed, failed, not applicable or pending.",
        ),
        Some(ItemStatus::Passed | ItemStatus::Failed) if before.definition.is_automatic() => {
            problems.add(
                "status",
                "The cluster answers this item: run a verification, or mark it not applicable with a reason.",
            )
        }
        Some(ItemStatus::Passed) if note.is_empty() && link.is_empty() && input.file_id.is_none() => {
            problems.add(
                "note",
                "Attach evidence: a note, a link or a file that shows the outcome.",
            )
        }
        Some(ItemStatus::NotApplicable) if note.is_empty() => {
            problems.add("note", "Say why this item does not apply.")
        }
        _ => {}
    }
    if !link.is_empty() && !valid_link(&link) {
        problems.add("link", "Give an http(s) address without spaces.");
    }
    if note.chars().count() > 4000 {
        problems.add("note", "At most 4,000 characters.");
    }
    let file_name = match input.file_id {
        Some(file_id) => {
            let name = sqlx::query_scalar!(
                "SELECT name FROM evidence_files WHERE id = $1 AND review_id = $2 AND item_key = $3",
                file_id,
                review_id,
                key
            )
            .fetch_optional(&mut *tx)
            .await?;
            if name.is_none() {
                problems.add("file_id", "No such file on this item: upload it first.");
            }
            name
        }
        None => None,
    };
    problems.finish()?;
    let status = status.unwrap_or(ItemStatus::Pending);
    // After go-live the answers both sides signed stay, except that a manual item gets new
    // evidence that it passes (the restore test done after going live under a waiver), from
    // anyone who works on the review. Anything else changes through the cluster (a fix and a
    // verification) or a waiver the platform approves.
    let new_evidence = status == ItemStatus::Passed && !before.definition.is_automatic();
    if let (Some(at), true) = (head.approved_at, head.state == "approved")
        && !new_evidence
    {
        return Err(Error::Conflict {
            message: format!(
                "This review was approved on {}: its answers are frozen with the sign-off, except for new evidence that a manual item passes. Fix a failing item and run a verification, or ask the platform team for a waiver.",
                at.format("%Y-%m-%d")
            ),
        });
    }
    if before.version != input.version {
        return Err(Error::stale("checklist item"));
    }
    let attestation = (!before.definition.is_automatic()).then(|| Attestation {
        note: note.clone(),
        link,
        file_id: input.file_id,
        file_name,
        by: caller.actor.name.clone(),
        at: now,
    });
    let reason = if status == ItemStatus::NotApplicable {
        note
    } else {
        String::new()
    };
    sqlx::query!(
        "UPDATE golive_items SET status = $3, reason = $4, attestation = COALESCE($5, attestation),
                updated_by = $6, decided_by_person = $7, version = version + 1
         WHERE review_id = $1 AND key = $2",
        review_id,
        key,
        status.as_str(),
        reason,
        attestation.map(Json) as _,
        caller.actor.name,
        status == ItemStatus::NotApplicable,
    )
    .execute(&mut *tx)
    .await?;
    let mut after = items(&mut *tx, review_id, now)
        .await?
        .into_iter()
        .find(|i| i.key == key)
        .ok_or_else(|| Error::not_found("checklist item"))?;
    // The audit keeps the decision, not the evidence (which stays with its run).
    audit::record(
        &mut *tx,
        caller,
        "golive_item.attest",
        "golive_item",
        &format!("{review_id}/{key}"),
        Some(&before),
        Some(&after),
    )
    .await?;
    if after.status.is_done() {
        resolve_drift(&mut *tx, review_id, key, now).await?;
    }
    attach_results(&mut *tx, std::slice::from_mut(&mut after)).await?;
    Ok(after)
}

/// Closes an item's open drift: it no longer fails (it passes again, a person decided it does
/// not apply, or a waiver covers it).
async fn resolve_drift(
    conn: &mut PgConnection,
    review_id: Uuid,
    key: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "UPDATE drift_events SET resolved_at = $3
             WHERE review_id = $1 AND item_key = $2 AND resolved_at IS NULL",
        review_id,
        key,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The longest a waiver may run.
pub const MAX_WAIVER_DAYS: i64 = 365;

/// Grants a waiver on an item: the approver is the caller (platform staff).
#[tracing::instrument(skip_all, fields(%review_id, key))]
pub async fn waive(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    key: &str,
    input: WaiverInput,
    now: DateTime<Utc>,
) -> Result<Waiver> {
    caller.actor.authorize(Action::ManageGoLive)?;
    let mut problems = crate::validate::Problems::default();
    let reason = input.reason.trim();
    if reason.is_empty() {
        problems.add("reason", "Say why the item may be waived.");
    } else if reason.chars().count() > 2000 {
        problems.add("reason", "At most 2,000 characters.");
    }
    match input.expires_at {
        None => problems.add("expires_at", "Give the date the waiver ends."),
        Some(at) if at <= now => problems.add("expires_at", "The expiry must be in the future."),
        Some(at) if at > now + Duration::days(MAX_WAIVER_DAYS) => problems.add(
            "expires_at",
            format!("A waiver can run for at most {MAX_WAIVER_DAYS} days."),
        ),
        _ => {}
    }
    problems.finish()?;
    let expires_at = input.expires_at.unwrap_or(now);
    let mut tx = pool.begin().await?;
    let head = head(&mut tx, review_id, true).await?;
    if head.state == "withdrawn" {
        return Err(Error::Conflict {
            message: "This review was withdrawn.".into(),
        });
    }
    ensure_item(&mut tx, review_id, key).await?;
    // A new waiver replaces the previous one.
    sqlx::query!(
        "UPDATE golive_waivers SET revoked_at = $3, revoked_by = $4
         WHERE review_id = $1 AND item_key = $2 AND revoked_at IS NULL",
        review_id,
        key,
        now,
        caller.actor.name
    )
    .execute(&mut *tx)
    .await?;
    let waiver = sqlx::query_as!(
        Waiver,
        "INSERT INTO golive_waivers (review_id, item_key, reason, approved_by, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, item_key, reason, approved_by, expires_at, created_at, revoked_at, revoked_by",
        review_id,
        key,
        reason,
        caller.actor.name,
        expires_at,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    // An active waiver leaves its item done (waived, or passing already): no drift is left open.
    resolve_drift(&mut tx, review_id, key, now).await?;
    audit::record(
        &mut tx,
        caller,
        "golive_waiver.grant",
        "golive_waiver",
        &waiver.id.to_string(),
        None::<&()>,
        Some(&waiver),
    )
    .await?;
    tx.commit().await?;
    Ok(waiver)
}

/// Ends a waiver before its expiry.
pub async fn revoke_waiver(
    pool: &PgPool,
    caller: &Caller,
    waiver_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Waiver> {
    caller.actor.authorize(Action::ManageGoLive)?;
    let mut tx = pool.begin().await?;
    let review_id = sqlx::query_scalar!(
        "SELECT review_id FROM golive_waivers WHERE id = $1",
        waiver_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("waiver"))?;
    // The review first, as a sign-off does: a review is never approved on a waiver revoked at
    // the same moment, and what the revocation leaves is judged on the review as it stands.
    let review = head(&mut tx, review_id, true).await?;
    let before = sqlx::query_as!(
        Waiver,
        "SELECT id, item_key, reason, approved_by, expires_at, created_at, revoked_at, revoked_by
         FROM golive_waivers WHERE id = $1 FOR UPDATE",
        waiver_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if before.revoked_at.is_some() {
        return Err(Error::Conflict {
            message: "This waiver was already revoked.".into(),
        });
    }
    if before.expires_at <= now {
        return Err(Error::Conflict {
            message: format!(
                "This waiver already ran out on {}.",
                before.expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
        });
    }
    let after = sqlx::query_as!(
        Waiver,
        "UPDATE golive_waivers SET revoked_at = $2, revoked_by = $3 WHERE id = $1
         RETURNING id, item_key, reason, approved_by, expires_at, created_at, revoked_at, revoked_by",
        waiver_id,
        now,
        caller.actor.name
    )
    .fetch_one(&mut *tx)
    .await?;
    if review.state == "approved" {
        super::runs::waiver_revoked(&mut tx, review_id, &after, &caller.actor.name, now).await?;
    }
    audit::record(
        &mut tx,
        caller,
        "golive_waiver.revoke",
        "golive_waiver",
        &waiver_id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Signs a review off for one side. When both sides have signed, the review is approved for
/// go-live and its evidence is frozen.
#[tracing::instrument(skip_all, fields(%review_id))]
pub async fn sign_off(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    side: SignoffSide,
    now: DateTime<Utc>,
) -> Result<Review> {
    caller.actor.authorize(Action::Read)?;
    let mut tx = pool.begin().await?;
    let head = head(&mut tx, review_id, true).await?;
    let ctx = context(&mut tx, head.application_id, head.environment_id).await?;
    match side {
        SignoffSide::Team => caller.actor.authorize(Action::SignOffForTeam {
            team: &ctx.team_slug,
        })?,
        SignoffSide::Platform => caller.actor.authorize(Action::ManageGoLive)?,
    }
    if head.state != "open" {
        return Err(Error::Conflict {
            message: format!(
                "This review is {}; only an open review can be signed.",
                head.state
            ),
        });
    }
    let mut current = items(&mut tx, review_id, now).await?;
    let progress = Progress::of(&current);
    if !progress.ready() {
        let mut open: Vec<String> = progress.failing.clone();
        open.extend(progress.pending.iter().cloned());
        return Err(Error::Conflict {
            message: format!(
                "Every required item must pass, be waived or not apply before sign-off. Still open: {}.",
                open.join(", ")
            ),
        });
    }
    // A sign-off covers the answers it was given on: one given before they changed lapses, and
    // its side signs again.
    let answers = answers_of(&current);
    let lapsed = sqlx::query!(
        "UPDATE golive_signoffs SET lapsed_at = $3
         WHERE review_id = $1 AND lapsed_at IS NULL AND answers IS NOT NULL AND answers <> $2
         RETURNING side, signed_by, signed_at",
        review_id,
        answers,
        now
    )
    .fetch_all(&mut *tx)
    .await?;
    for l in &lapsed {
        audit::record(
            &mut tx,
            caller,
            "golive_review.sign_off_lapsed",
            "golive_review",
            &review_id.to_string(),
            Some(&serde_json::json!({"side": l.side, "signed_by": l.signed_by, "signed_at": l.signed_at})),
            None::<&()>,
        )
        .await?;
    }
    // Two sides, two people: someone who is both a platform engineer and a team member (or an
    // administrator) signs one side only, in the browser or with a token of theirs.
    let signer = signer_of(&mut tx, caller).await?;
    let same = sqlx::query_scalar!(
        "SELECT signed_by FROM golive_signoffs
         WHERE review_id = $1 AND side <> $2 AND lapsed_at IS NULL
           AND (signer = $3 OR (signer IS NULL AND signed_by = $4))",
        review_id,
        side.as_str(),
        signer,
        caller.actor.name,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(who) = same {
        return Err(Error::Conflict {
            message: format!(
                "{who} signed the other side already: this side needs someone else's sign-off."
            ),
        });
    }
    let done = sqlx::query!(
        "INSERT INTO golive_signoffs (review_id, side, signed_by, signed_at, signer, answers)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (review_id, side) WHERE lapsed_at IS NULL DO NOTHING",
        review_id,
        side.as_str(),
        caller.actor.name,
        now,
        signer,
        answers,
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict {
            message: format!("The {} side has already signed off.", side.as_str()),
        });
    }
    let all = signoffs(&mut tx, review_id, Some(&answers)).await?;
    let both = [SignoffSide::Team, SignoffSide::Platform]
        .iter()
        .all(|s| all.iter().any(|x| x.side == *s));
    if both {
        // The evidence at sign-off, kept with the review whatever later runs find.
        attach_results(&mut tx, &mut current).await?;
        let frozen = FrozenReview {
            approved_at: now,
            items: current,
            signoffs: all,
        };
        sqlx::query!(
            "UPDATE golive_reviews SET state = 'approved', approved_at = $2, frozen = $3, version = version + 1
             WHERE id = $1",
            review_id,
            now,
            Json(&frozen) as _,
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE golive_reviews SET version = version + 1 WHERE id = $1",
            review_id
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        caller,
        "golive_review.sign_off",
        "golive_review",
        &review_id.to_string(),
        None::<&()>,
        Some(&serde_json::json!({"side": side.as_str(), "approved": both})),
    )
    .await?;
    let review = load(&mut tx, review_id, now).await?;
    tx.commit().await?;
    Ok(review)
}

/// The evidence as it was at sign-off.
pub async fn frozen(pool: &PgPool, caller: &Caller, review_id: Uuid) -> Result<FrozenReview> {
    caller.actor.authorize(Action::Read)?;
    let row = sqlx::query_scalar!(
        r#"SELECT frozen AS "frozen: Json<FrozenReview>" FROM golive_reviews WHERE id = $1"#,
        review_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::not_found("go-live review"))?;
    row.map(|f| f.0).ok_or_else(|| Error::NotFound {
        entity: "sign-off (this review is not approved yet)".into(),
    })
}

// ------------------------------------------------------------------------------------------------
// Evidence files
// ------------------------------------------------------------------------------------------------

/// The largest evidence file accepted.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// A stored evidence file.
pub struct EvidenceFile {
    pub id: Uuid,
    pub name: String,
    pub content_type: String,
    pub sha256: String,
    pub data: Vec<u8>,
}

/// Stores an evidence file for an item; attach it with [`attest`].
pub async fn upload_file(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    key: &str,
    name: &str,
    content_type: &str,
    data: &[u8],
) -> Result<Uuid> {
    check_file(name, data)?;
    let mut tx = pool.begin().await?;
    let id = insert_file(
        &mut tx,
        caller,
        review_id,
        key,
        name.trim(),
        content_type,
        data,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A file's name and size, before anything is stored.
fn check_file(name: &str, data: &[u8]) -> Result<()> {
    let name = name.trim();
    let mut problems = crate::validate::Problems::default();
    if name.is_empty() || name.chars().count() > 200 || name.contains(['/', '\\']) {
        problems.add(
            "file",
            "Give the file a name of 1 to 200 characters without slashes.",
        );
    }
    if data.is_empty() {
        problems.add("file", "The file is empty.");
    }
    if data.len() > MAX_FILE_BYTES {
        problems.add("file", "Files can be at most 10 MiB.");
    }
    problems.finish()
}

/// Stores a checked file on an item, with its audit record (in the caller's transaction).
async fn insert_file(
    tx: &mut PgConnection,
    caller: &Caller,
    review_id: Uuid,
    key: &str,
    name: &str,
    content_type: &str,
    data: &[u8],
) -> Result<Uuid> {
    use sha2::Digest;
    lock_for_work(&mut *tx, caller, review_id).await?;
    ensure_item(&mut *tx, review_id, key).await?;
    let sha = format!("{:x}", sha2::Sha256::digest(data));
    let content_type = if content_type.trim().is_empty() {
        "application/octet-stream"
    } else {
        content_type.trim()
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO evidence_files (review_id, item_key, name, content_type, size, sha256, data, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        review_id,
        key,
        name,
        content_type,
        data.len() as i32,
        sha,
        data,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        caller,
        "evidence_file.upload",
        "evidence_file",
        &id.to_string(),
        None::<&()>,
        Some(&serde_json::json!({"review": review_id, "item": key, "name": name, "sha256": sha, "size": data.len()})),
    )
    .await?;
    Ok(id)
}

/// Reads an evidence file.
pub async fn file(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<EvidenceFile> {
    caller.actor.authorize(Action::Read)?;
    let row = sqlx::query_as!(
        EvidenceFile,
        "SELECT id, name, content_type, sha256, data FROM evidence_files WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| Error::not_found("evidence file"))
}

// ------------------------------------------------------------------------------------------------
// Board
// ------------------------------------------------------------------------------------------------

/// What the board shows: one platform, one team, or everything.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BoardFilter {
    pub platform_id: Option<Uuid>,
    pub team: Option<String>,
}

/// How many rows of each list [`attention`] returns.
const ATTENTION_ROWS: i64 = 100;

/// Approved reviews with open drift (oldest first) and waivers on approved reviews that run out
/// soon (soonest first): what the dashboard asks people to look at. `teams` narrows both lists
/// to those teams' applications (in the query, so a team's own rows are never crowded out by
/// other teams'); `None` is every team's.
pub async fn attention(
    pool: &PgPool,
    caller: &Caller,
    now: DateTime<Utc>,
    teams: Option<&[String]>,
) -> Result<GoLiveAttention> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    let drifted = sqlx::query!(
        r#"SELECT r.id, t.slug AS team, a.name AS application, e.name AS environment, p.name AS platform,
                  array_agg(DISTINCT i.definition->>'title') AS "items!: Vec<String>",
                  min(d.detected_at) AS "since!"
           FROM drift_events d
           JOIN golive_items i ON i.review_id = d.review_id AND i.key = d.item_key
           JOIN golive_reviews r ON r.id = d.review_id
           JOIN applications a ON a.id = r.application_id
           JOIN teams t ON t.id = a.team_id
           JOIN environments e ON e.id = r.environment_id
           JOIN platforms p ON p.id = e.platform_id
           WHERE d.resolved_at IS NULL AND r.state = 'approved' AND a.archived_at IS NULL
             AND ($2::text[] IS NULL OR t.slug = ANY($2))
           GROUP BY r.id, t.slug, a.name, e.name, p.name
           ORDER BY min(d.detected_at), a.name LIMIT $1"#,
        ATTENTION_ROWS,
        teams
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| AttentionRow {
        review_id: r.id,
        team: r.team,
        application: r.application,
        environment: r.environment,
        platform: r.platform,
        items: r.items,
        at: r.since,
    })
    .collect();
    let waivers_ending = sqlx::query!(
        r#"SELECT r.id, t.slug AS team, a.name AS application, e.name AS environment, p.name AS platform,
                  i.definition->>'title' AS "title!", w.expires_at
           FROM golive_waivers w
           JOIN golive_items i ON i.review_id = w.review_id AND i.key = w.item_key
           JOIN golive_reviews r ON r.id = w.review_id
           JOIN applications a ON a.id = r.application_id
           JOIN teams t ON t.id = a.team_id
           JOIN environments e ON e.id = r.environment_id
           JOIN platforms p ON p.id = e.platform_id
           WHERE r.state = 'approved' AND a.archived_at IS NULL AND w.revoked_at IS NULL
             AND w.expires_at > $1 AND w.expires_at <= $2
             AND ($4::text[] IS NULL OR t.slug = ANY($4))
           ORDER BY w.expires_at, a.name LIMIT $3"#,
        now,
        now + Duration::days(WAIVER_WARNING_DAYS),
        ATTENTION_ROWS,
        teams
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| AttentionRow {
        review_id: r.id,
        team: r.team,
        application: r.application,
        environment: r.environment,
        platform: r.platform,
        items: vec![r.title],
        at: r.expires_at,
    })
    .collect();
    Ok(GoLiveAttention {
        drifted,
        waivers_ending,
    })
}

/// Applications by go-live state: every application placed on (or reviewed for) an environment,
/// production environments first.
#[tracing::instrument(skip_all)]
pub async fn board(
    pool: &PgPool,
    caller: &Caller,
    filter: &BoardFilter,
    now: DateTime<Utc>,
) -> Result<Vec<BoardRow>> {
    caller.actor.authorize(Action::Read)?;
    let team = filter
        .team
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let mut conn = pool.acquire().await?;
    let pairs = sqlx::query!(
        r#"SELECT a.id AS "application_id!", a.slug AS "application_slug!", a.name AS "application_name!",
                  t.slug AS "team_slug!", t.name AS "team_name!",
                  e.id AS "environment_id!", e.name AS "environment_name!", e.is_production AS "is_production!",
                  r.id AS "review_id?", r.state AS "state?", r.approved_at
           FROM (SELECT DISTINCT application_id, environment_id FROM application_namespaces
                 UNION SELECT application_id, environment_id FROM golive_reviews WHERE state <> 'withdrawn') pair
           JOIN applications a ON a.id = pair.application_id AND a.archived_at IS NULL
           JOIN teams t ON t.id = a.team_id
           JOIN environments e ON e.id = pair.environment_id AND e.archived_at IS NULL
           LEFT JOIN golive_reviews r ON r.application_id = a.id AND r.environment_id = e.id AND r.state <> 'withdrawn'
           WHERE ($1::uuid IS NULL OR e.platform_id = $1) AND ($2::text IS NULL OR t.slug = $2)
           ORDER BY e.is_production DESC, a.name, e.position"#,
        filter.platform_id,
        team
    )
    .fetch_all(&mut *conn)
    .await?;
    let review_ids: Vec<Uuid> = pairs.iter().filter_map(|p| p.review_id).collect();
    let mut items_by_review = items_of_reviews(&mut conn, &review_ids, now).await?;
    let drifted: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT DISTINCT review_id FROM drift_events WHERE review_id = ANY($1) AND resolved_at IS NULL",
        &review_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut rows = Vec::with_capacity(pairs.len());
    for p in pairs {
        let (state, progress, last_checked_at) = match (p.review_id, p.state.as_deref()) {
            (Some(id), Some(state)) => {
                let items = items_by_review.remove(&id).unwrap_or_default();
                let progress = Progress::of(&items);
                let checked = items.iter().filter_map(|i| i.checked_at).max();
                (
                    Review::state_of(state, &progress, drifted.contains(&id)),
                    progress,
                    checked,
                )
            }
            _ => (GoLiveState::NotStarted, Progress::default(), None),
        };
        rows.push(BoardRow {
            application_id: p.application_id,
            application_slug: p.application_slug,
            application_name: p.application_name,
            team_slug: p.team_slug,
            team_name: p.team_name,
            environment_id: p.environment_id,
            environment_name: p.environment_name,
            is_production: p.is_production,
            review_id: p.review_id,
            state,
            progress,
            approved_at: p.approved_at,
            last_checked_at,
        });
    }
    Ok(rows)
}
