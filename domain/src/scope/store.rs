//! The scope in PostgreSQL: the draft's items and rules, published revisions (frozen JSON copies
//! that the database refuses to change), acknowledgements and templates.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::diff::{ScopeDiff, diff as compute_diff};
use super::model::*;
use super::template::{BUILTIN_TEMPLATE_ID, builtin_template};
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::platforms;

/// The teams a party written as text may name.
pub(crate) async fn team_refs(conn: &mut PgConnection) -> Result<Vec<TeamRef>> {
    Ok(sqlx::query_as!(
        TeamRef,
        "SELECT id, slug, name FROM teams WHERE archived_at IS NULL ORDER BY slug"
    )
    .fetch_all(conn)
    .await?)
}

struct ItemRow {
    id: Uuid,
    name: String,
    category: String,
    inside: bool,
    responsible: Json<Party>,
    escalation_contact: String,
    notes: String,
    raci: Json<Vec<RaciRow>>,
    position: i32,
    version: i32,
}

impl From<ItemRow> for ScopeItem {
    fn from(r: ItemRow) -> Self {
        ScopeItem {
            id: r.id,
            name: r.name,
            category: r.category,
            inside: r.inside,
            responsible: r.responsible.0,
            escalation_contact: r.escalation_contact,
            notes: r.notes,
            raci: r.raci.0,
            position: r.position,
            version: r.version,
        }
    }
}

/// The draft's items and rules, in display order.
async fn draft_content(conn: &mut PgConnection, platform_id: Uuid) -> Result<ScopeContent> {
    let items = sqlx::query_as!(
        ItemRow,
        r#"SELECT id, name, category, inside, responsible AS "responsible: Json<Party>",
                  escalation_contact, notes, raci AS "raci: Json<Vec<RaciRow>>", position, version
           FROM scope_items WHERE platform_id = $1 ORDER BY position, name, id"#,
        platform_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let rules = sqlx::query_as!(
        TenantRule,
        "SELECT id, title, description, reason, exception_process, position, version
         FROM scope_rules WHERE platform_id = $1 ORDER BY position, title, id",
        platform_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(ScopeContent {
        items: items.into_iter().map(ScopeItem::from).collect(),
        rules,
    })
}

struct RevisionRow {
    number: i32,
    summary: String,
    published_at: DateTime<Utc>,
    published_by: String,
    content: Json<ScopeContent>,
}

impl RevisionRow {
    fn split(self) -> (ScopeRevisionMeta, ScopeContent) {
        (
            ScopeRevisionMeta {
                number: self.number,
                summary: self.summary,
                published_at: self.published_at,
                published_by: self.published_by,
            },
            self.content.0,
        )
    }
}

async fn revision(
    conn: &mut PgConnection,
    platform_id: Uuid,
    number: i32,
) -> Result<(ScopeRevisionMeta, ScopeContent)> {
    sqlx::query_as!(
        RevisionRow,
        r#"SELECT number, summary, published_at, published_by, content AS "content: Json<ScopeContent>"
           FROM scope_revisions WHERE platform_id = $1 AND number = $2"#,
        platform_id,
        number
    )
    .fetch_optional(conn)
    .await?
    .map(RevisionRow::split)
    .ok_or_else(|| Error::not_found("scope revision"))
}

/// The revision in force at `at` (the last one published by then), if any.
async fn revision_at(
    conn: &mut PgConnection,
    platform_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(ScopeRevisionMeta, ScopeContent)>> {
    Ok(sqlx::query_as!(
        RevisionRow,
        r#"SELECT number, summary, published_at, published_by, content AS "content: Json<ScopeContent>"
           FROM scope_revisions WHERE platform_id = $1 AND published_at <= $2
           ORDER BY number DESC LIMIT 1"#,
        platform_id,
        at
    )
    .fetch_optional(conn)
    .await?
    .map(RevisionRow::split))
}

async fn latest_number(conn: &mut PgConnection, platform_id: Uuid) -> Result<Option<i32>> {
    Ok(sqlx::query_scalar!(
        "SELECT max(number) FROM scope_revisions WHERE platform_id = $1",
        platform_id
    )
    .fetch_one(conn)
    .await?)
}

/// The content of revision `number` (the newest one, as the caller read it), or nothing.
async fn content_of(
    conn: &mut PgConnection,
    platform_id: Uuid,
    number: Option<i32>,
) -> Result<ScopeContent> {
    Ok(match number {
        Some(n) => revision(conn, platform_id, n).await?.1,
        None => ScopeContent::default(),
    })
}

/// A platform's published scope: the revision asked for, the one in force at `as_of`, or the
/// newest one. Before anything is published the content is empty and `revision` is None.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn view(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    query: &ScopeQuery,
) -> Result<ScopeView> {
    caller.actor.authorize(Action::Read)?;
    if query.revision.is_some() && query.as_of.is_some() {
        return Err(Error::invalid(
            "as_of",
            "ask for a revision or for a date, not both",
        ));
    }
    let as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
    let mut conn = pool.acquire().await?;
    let platform = platforms::fetch(&mut conn, platform_id, false).await?;
    let latest = latest_number(&mut conn, platform_id).await?;
    let shown = match (query.revision, as_of) {
        (Some(n), _) => Some(revision(&mut conn, platform_id, n).await?),
        (None, Some(at)) => revision_at(&mut conn, platform_id, at).await?,
        (None, None) => match latest {
            Some(n) => Some(revision(&mut conn, platform_id, n).await?),
            None => None,
        },
    };
    let (revision, content) = match shown {
        Some((meta, content)) => (Some(meta), content),
        None => (None, ScopeContent::default()),
    };
    Ok(ScopeView {
        platform_id,
        platform_slug: platform.slug,
        platform_name: platform.name,
        revision,
        latest_revision: latest,
        draft: None,
        as_of,
        content,
    })
}

/// The draft, with its version and whether it differs from the newest revision.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn draft(pool: &PgPool, caller: &Caller, platform_id: Uuid) -> Result<ScopeView> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    let platform = platforms::fetch(&mut conn, platform_id, false).await?;
    let version = sqlx::query_scalar!(
        "SELECT version FROM scope_drafts WHERE platform_id = $1",
        platform_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(0);
    let content = draft_content(&mut conn, platform_id).await?;
    let latest = latest_number(&mut conn, platform_id).await?;
    let published = content_of(&mut conn, platform_id, latest).await?;
    let has_changes = !compute_diff(&published, &content, latest, None).is_empty();
    Ok(ScopeView {
        platform_id,
        platform_slug: platform.slug,
        platform_name: platform.name,
        revision: None,
        latest_revision: latest,
        draft: Some(DraftInfo {
            version,
            has_changes,
        }),
        as_of: None,
        content,
    })
}

/// The published revisions, newest first.
pub async fn revisions(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<Vec<ScopeRevisionMeta>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    platforms::fetch(&mut conn, platform_id, false).await?;
    Ok(sqlx::query_as!(
        ScopeRevisionMeta,
        "SELECT number, summary, published_at, published_by FROM scope_revisions
         WHERE platform_id = $1 ORDER BY number DESC",
        platform_id
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// What changed between two revisions. `from` None means "nothing published"; `to` None means
/// the draft.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn diff(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<ScopeDiff> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    platforms::fetch(&mut conn, platform_id, false).await?;
    let before = match from {
        Some(n) => revision(&mut conn, platform_id, n).await?.1,
        None => ScopeContent::default(),
    };
    let after = match to {
        Some(n) => revision(&mut conn, platform_id, n).await?.1,
        None => draft_content(&mut conn, platform_id).await?,
    };
    Ok(compute_diff(&before, &after, from, to))
}

/// Locks the platform for a change of its scope draft: it must exist and not be archived. Moves
/// the draft's version, which also serialises draft changes with a publish.
async fn begin_draft_change(conn: &mut PgConnection, platform_id: Uuid) -> Result<i32> {
    let platform = platforms::fetch(&mut *conn, platform_id, false).await?;
    if platform.archived_at.is_some() {
        return Err(Error::Conflict {
            message: format!(
                "Platform {} is archived; restore it before changing its scope.",
                platform.name
            ),
        });
    }
    Ok(sqlx::query_scalar!(
        "INSERT INTO scope_drafts (platform_id) VALUES ($1)
         ON CONFLICT (platform_id) DO UPDATE SET version = scope_drafts.version + 1, updated_at = now()
         RETURNING version",
        platform_id
    )
    .fetch_one(conn)
    .await?)
}

async fn lock_item(conn: &mut PgConnection, platform_id: Uuid, id: Uuid) -> Result<ScopeItem> {
    sqlx::query_as!(
        ItemRow,
        r#"SELECT id, name, category, inside, responsible AS "responsible: Json<Party>",
                  escalation_contact, notes, raci AS "raci: Json<Vec<RaciRow>>", position, version
           FROM scope_items WHERE platform_id = $1 AND id = $2 FOR UPDATE"#,
        platform_id,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(ScopeItem::from)
    .ok_or_else(|| Error::not_found("scope item"))
}

async fn lock_rule(conn: &mut PgConnection, platform_id: Uuid, id: Uuid) -> Result<TenantRule> {
    sqlx::query_as!(
        TenantRule,
        "SELECT id, title, description, reason, exception_process, position, version
         FROM scope_rules WHERE platform_id = $1 AND id = $2 FOR UPDATE",
        platform_id,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("tenant rule"))
}

async fn insert_item(
    conn: &mut PgConnection,
    platform_id: Uuid,
    input: &ScopeItemInput,
    responsible: &Party,
    raci: &[RaciRow],
) -> Result<ScopeItem> {
    Ok(sqlx::query_as!(
        ItemRow,
        r#"INSERT INTO scope_items
             (platform_id, name, category, inside, responsible, escalation_contact, notes, raci, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING id, name, category, inside, responsible AS "responsible: Json<Party>",
                     escalation_contact, notes, raci AS "raci: Json<Vec<RaciRow>>", position, version"#,
        platform_id,
        input.name,
        input.category,
        input.inside,
        Json(responsible) as _,
        input.escalation_contact,
        input.notes,
        Json(raci) as _,
        input.position,
    )
    .fetch_one(conn)
    .await?
    .into())
}

async fn insert_rule(
    conn: &mut PgConnection,
    platform_id: Uuid,
    input: &TenantRuleInput,
) -> Result<TenantRule> {
    Ok(sqlx::query_as!(
        TenantRule,
        "INSERT INTO scope_rules (platform_id, title, description, reason, exception_process, position)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, title, description, reason, exception_process, position, version",
        platform_id,
        input.title,
        input.description,
        input.reason,
        input.exception_process,
        input.position,
    )
    .fetch_one(conn)
    .await?)
}

/// Adds an item to the draft.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn create_item(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    input: ScopeItemInput,
) -> Result<ScopeItem> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    let teams = team_refs(&mut tx).await?;
    let (input, responsible, raci) = resolve_item(&input, &teams)?;
    begin_draft_change(&mut tx, platform_id).await?;
    let item = insert_item(&mut tx, platform_id, &input, &responsible, &raci).await?;
    let id = item.id.to_string();
    audit::record(
        &mut tx,
        caller,
        "create",
        "scope_item",
        &id,
        None::<&ScopeItem>,
        Some(&item),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

/// Edits a draft item if nobody changed it since `expected_version`.
#[tracing::instrument(skip_all, fields(%platform_id, %id))]
pub async fn update_item(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    id: Uuid,
    expected_version: i32,
    input: ScopeItemInput,
) -> Result<ScopeItem> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    let teams = team_refs(&mut tx).await?;
    let (input, responsible, raci) = resolve_item(&input, &teams)?;
    begin_draft_change(&mut tx, platform_id).await?;
    let before = lock_item(&mut tx, platform_id, id).await?;
    if before.version != expected_version {
        return Err(Error::stale("scope item"));
    }
    let after: ScopeItem = sqlx::query_as!(
        ItemRow,
        r#"UPDATE scope_items SET name = $2, category = $3, inside = $4, responsible = $5,
                  escalation_contact = $6, notes = $7, raci = $8, position = $9, version = version + 1
           WHERE id = $1
           RETURNING id, name, category, inside, responsible AS "responsible: Json<Party>",
                     escalation_contact, notes, raci AS "raci: Json<Vec<RaciRow>>", position, version"#,
        id,
        input.name,
        input.category,
        input.inside,
        Json(&responsible) as _,
        input.escalation_contact,
        input.notes,
        Json(&raci) as _,
        input.position,
    )
    .fetch_one(&mut *tx)
    .await?
    .into();
    audit::record(
        &mut tx,
        caller,
        "update",
        "scope_item",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes an item from the draft (published revisions keep it).
#[tracing::instrument(skip_all, fields(%platform_id, %id))]
pub async fn delete_item(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    id: Uuid,
    expected_version: i32,
) -> Result<()> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    begin_draft_change(&mut tx, platform_id).await?;
    let before = lock_item(&mut tx, platform_id, id).await?;
    if before.version != expected_version {
        return Err(Error::stale("scope item"));
    }
    sqlx::query!("DELETE FROM scope_items WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        caller,
        "delete",
        "scope_item",
        &id.to_string(),
        Some(&before),
        None::<&ScopeItem>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a tenant rule to the draft.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn create_rule(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    mut input: TenantRuleInput,
) -> Result<TenantRule> {
    caller.actor.authorize(Action::EditScope)?;
    validate_rule(&mut input)?;
    let mut tx = pool.begin().await?;
    begin_draft_change(&mut tx, platform_id).await?;
    let rule = insert_rule(&mut tx, platform_id, &input).await?;
    audit::record(
        &mut tx,
        caller,
        "create",
        "tenant_rule",
        &rule.id.to_string(),
        None::<&TenantRule>,
        Some(&rule),
    )
    .await?;
    tx.commit().await?;
    Ok(rule)
}

/// Edits a draft tenant rule if nobody changed it since `expected_version`.
#[tracing::instrument(skip_all, fields(%platform_id, %id))]
pub async fn update_rule(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    id: Uuid,
    expected_version: i32,
    mut input: TenantRuleInput,
) -> Result<TenantRule> {
    caller.actor.authorize(Action::EditScope)?;
    validate_rule(&mut input)?;
    let mut tx = pool.begin().await?;
    begin_draft_change(&mut tx, platform_id).await?;
    let before = lock_rule(&mut tx, platform_id, id).await?;
    if before.version != expected_version {
        return Err(Error::stale("tenant rule"));
    }
    let after = sqlx::query_as!(
        TenantRule,
        "UPDATE scope_rules SET title = $2, description = $3, reason = $4, exception_process = $5,
                position = $6, version = version + 1
         WHERE id = $1
         RETURNING id, title, description, reason, exception_process, position, version",
        id,
        input.title,
        input.description,
        input.reason,
        input.exception_process,
        input.position,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "update",
        "tenant_rule",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes a tenant rule from the draft.
#[tracing::instrument(skip_all, fields(%platform_id, %id))]
pub async fn delete_rule(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    id: Uuid,
    expected_version: i32,
) -> Result<()> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    begin_draft_change(&mut tx, platform_id).await?;
    let before = lock_rule(&mut tx, platform_id, id).await?;
    if before.version != expected_version {
        return Err(Error::stale("tenant rule"));
    }
    sqlx::query!("DELETE FROM scope_rules WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        caller,
        "delete",
        "tenant_rule",
        &id.to_string(),
        Some(&before),
        None::<&TenantRule>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn template_content(conn: &mut PgConnection, id: &str) -> Result<ScopeContent> {
    if id == BUILTIN_TEMPLATE_ID {
        return Ok(builtin_template());
    }
    let uuid = Uuid::parse_str(id)
        .map_err(|_| Error::invalid("template_id", "is not a known template"))?;
    sqlx::query_scalar!(
        r#"SELECT content AS "content: Json<ScopeContent>" FROM scope_templates WHERE id = $1"#,
        uuid
    )
    .fetch_optional(conn)
    .await?
    .map(|c| c.0)
    .ok_or_else(|| Error::invalid("template_id", "is not a known template"))
}

/// Fills the draft from a template. A draft that already has content is only replaced when the
/// caller says so. Teams named in a saved template that no longer exist become external parties
/// by name, so nothing points at a missing team.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn apply_template(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    input: ApplyTemplateInput,
) -> Result<ScopeView> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    let content = template_content(&mut tx, input.template_id.trim()).await?;
    begin_draft_change(&mut tx, platform_id).await?;
    let existing = draft_content(&mut tx, platform_id).await?;
    if !(existing.items.is_empty() && existing.rules.is_empty()) {
        if !input.replace {
            return Err(Error::Conflict {
                message: "The draft already has items or rules. Choose to replace them to start \
                          over from the template."
                    .into(),
            });
        }
        sqlx::query!(
            "DELETE FROM scope_items WHERE platform_id = $1",
            platform_id
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "DELETE FROM scope_rules WHERE platform_id = $1",
            platform_id
        )
        .execute(&mut *tx)
        .await?;
    }
    let teams = team_refs(&mut tx).await?;
    let keep = |p: &Party| match p {
        Party::Team { id, name, .. } if !teams.iter().any(|t| t.id == *id) => {
            Party::External { name: name.clone() }
        }
        other => other.clone(),
    };
    for item in &content.items {
        let raci: Vec<RaciRow> = item
            .raci
            .iter()
            .map(|r| RaciRow {
                activity: r.activity.clone(),
                responsible: r.responsible.iter().map(keep).collect(),
                accountable: keep(&r.accountable),
                consulted: r.consulted.iter().map(keep).collect(),
                informed: r.informed.iter().map(keep).collect(),
            })
            .collect();
        let input = ScopeItemInput {
            name: item.name.clone(),
            category: item.category.clone(),
            inside: item.inside,
            responsible: String::new(),
            escalation_contact: item.escalation_contact.clone(),
            notes: item.notes.clone(),
            raci: vec![],
            position: item.position,
        };
        insert_item(
            &mut tx,
            platform_id,
            &input,
            &keep(&item.responsible),
            &raci,
        )
        .await?;
    }
    for rule in &content.rules {
        let input = TenantRuleInput {
            title: rule.title.clone(),
            description: rule.description.clone(),
            reason: rule.reason.clone(),
            exception_process: rule.exception_process.clone(),
            position: rule.position,
        };
        insert_rule(&mut tx, platform_id, &input).await?;
    }
    let applied = draft_content(&mut tx, platform_id).await?;
    audit::record(
        &mut tx,
        caller,
        "apply_template",
        "scope_draft",
        &platform_id.to_string(),
        Some(&existing),
        Some(&serde_json::json!({ "template_id": input.template_id, "content": applied })),
    )
    .await?;
    tx.commit().await?;
    draft(pool, caller, platform_id).await
}

/// Publishes the draft as the next numbered revision, if the draft is still the one the caller
/// reviewed (`expected_draft_version`) and differs from the newest revision.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn publish(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    expected_draft_version: i32,
    input: PublishInput,
) -> Result<ScopeRevisionMeta> {
    caller.actor.authorize(Action::EditScope)?;
    let summary = input.summary.trim().to_owned();
    if summary.is_empty() {
        return Err(Error::invalid(
            "summary",
            "is required: say what changed, for the teams that acknowledge it",
        ));
    }
    if summary.chars().count() > 2000 {
        return Err(Error::invalid("summary", "must be at most 2000 characters"));
    }
    let mut tx = pool.begin().await?;
    let platform = platforms::fetch(&mut tx, platform_id, false).await?;
    if platform.archived_at.is_some() {
        return Err(Error::Conflict {
            message: format!(
                "Platform {} is archived; restore it before publishing.",
                platform.name
            ),
        });
    }
    let version = sqlx::query_scalar!(
        "SELECT version FROM scope_drafts WHERE platform_id = $1 FOR UPDATE",
        platform_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or(0);
    if version != expected_draft_version {
        return Err(Error::stale("scope draft"));
    }
    let content = draft_content(&mut tx, platform_id).await?;
    if content.items.is_empty() {
        return Err(Error::Conflict {
            message: "The draft has no items: add what is inside and outside the fence first."
                .into(),
        });
    }
    let latest = latest_number(&mut tx, platform_id).await?;
    let published = content_of(&mut tx, platform_id, latest).await?;
    if compute_diff(&published, &content, latest, None).is_empty() {
        return Err(Error::Conflict {
            message: format!(
                "Nothing changed since revision {}: there is nothing to publish.",
                latest.unwrap_or(0)
            ),
        });
    }
    let number = latest.unwrap_or(0) + 1;
    let meta = sqlx::query_as!(
        ScopeRevisionMeta,
        "INSERT INTO scope_revisions (platform_id, number, summary, content, published_by)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING number, summary, published_at, published_by",
        platform_id,
        number,
        summary,
        Json(&content) as _,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "publish",
        "scope_revision",
        &format!("{platform_id}/{number}"),
        None::<&()>,
        Some(&serde_json::json!({ "revision": meta, "content": content })),
    )
    .await?;
    tx.commit().await?;
    Ok(meta)
}

struct AckRow {
    team_id: Uuid,
    team_slug: String,
    team_name: String,
    applications: i64,
    revision: Option<i32>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
}

/// Each application team on the platform (placed in one of its environments, or that has
/// acknowledged before) and the revision it last acknowledged.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn acknowledgements(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<Vec<AckStatus>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    platforms::fetch(&mut conn, platform_id, false).await?;
    let latest = latest_number(&mut conn, platform_id).await?;
    let rows = sqlx::query_as!(
        AckRow,
        r#"WITH placed AS (
               SELECT a.team_id, count(DISTINCT a.id) AS apps
               FROM applications a
               JOIN application_namespaces n ON n.application_id = a.id
               JOIN environments e ON e.id = n.environment_id
               WHERE e.platform_id = $1 AND a.archived_at IS NULL AND e.archived_at IS NULL
               GROUP BY a.team_id),
           acked AS (
               SELECT DISTINCT ON (team_id) team_id, revision, acknowledged_at, acknowledged_by
               FROM scope_acknowledgements WHERE platform_id = $1
               ORDER BY team_id, revision DESC, acknowledged_at DESC)
           SELECT t.id AS team_id, t.slug AS team_slug, t.name AS team_name,
                  coalesce(p.apps, 0) AS "applications!",
                  k.revision AS "revision?", k.acknowledged_at AS "acknowledged_at?",
                  k.acknowledged_by AS "acknowledged_by?"
           FROM teams t
           LEFT JOIN placed p ON p.team_id = t.id
           LEFT JOIN acked k ON k.team_id = t.id
           WHERE t.archived_at IS NULL AND (p.team_id IS NOT NULL OR k.team_id IS NOT NULL)
           ORDER BY t.name, t.id"#,
        platform_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AckStatus {
            up_to_date: latest.is_some() && r.revision == latest,
            team_id: r.team_id,
            team_slug: r.team_slug,
            team_name: r.team_name,
            acknowledged_revision: r.revision,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: r.acknowledged_by,
            applications: r.applications,
        })
        .collect())
}

/// Records that a team works under a published revision. Only the team's members may do it.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn acknowledge(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    input: AckInput,
) -> Result<Acknowledgement> {
    caller.actor.authorize(Action::Read)?;
    let mut tx = pool.begin().await?;
    let team = sqlx::query!(
        "SELECT slug, archived_at IS NOT NULL AS \"archived!\" FROM teams WHERE id = $1",
        input.team_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::invalid("team_id", "is not a known team"))?;
    caller
        .actor
        .authorize(Action::AcknowledgeScope { team: &team.slug })?;
    if team.archived {
        return Err(Error::invalid("team_id", "this team is archived"));
    }
    platforms::fetch(&mut tx, platform_id, false).await?;
    let latest = latest_number(&mut tx, platform_id).await?;
    match latest {
        None => {
            return Err(Error::Conflict {
                message: "Nothing has been published for this platform yet.".into(),
            });
        }
        Some(n) if input.revision < 1 || input.revision > n => {
            return Err(Error::invalid(
                "revision",
                format!("must be a published revision, 1 to {n}"),
            ));
        }
        _ => {}
    }
    let ack = sqlx::query_as!(
        Acknowledgement,
        "INSERT INTO scope_acknowledgements (platform_id, revision, team_id, acknowledged_by)
         VALUES ($1, $2, $3, $4)
         RETURNING platform_id, team_id, revision, acknowledged_at, acknowledged_by",
        platform_id,
        input.revision,
        input.team_id,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "acknowledge",
        "scope_revision",
        &format!("{platform_id}/{}", input.revision),
        None::<&()>,
        Some(&ack),
    )
    .await?;
    tx.commit().await?;
    Ok(ack)
}

/// The scope revisions the given teams (slugs) have not acknowledged yet, on platforms where
/// they run applications.
pub async fn pending_for_teams(pool: &PgPool, teams: &[String]) -> Result<Vec<PendingAck>> {
    if teams.is_empty() {
        return Ok(vec![]);
    }
    Ok(sqlx::query_as!(
        PendingAck,
        r#"WITH latest AS (
               SELECT platform_id, max(number) AS n FROM scope_revisions GROUP BY platform_id),
           placed AS (
               SELECT DISTINCT e.platform_id, a.team_id
               FROM applications a
               JOIN application_namespaces ns ON ns.application_id = a.id
               JOIN environments e ON e.id = ns.environment_id
               JOIN teams t ON t.id = a.team_id
               WHERE t.slug = ANY($1) AND a.archived_at IS NULL AND e.archived_at IS NULL)
           SELECT p.id AS platform_id, p.name AS platform_name, t.id AS team_id,
                  t.slug AS team_slug, t.name AS team_name, l.n AS "latest_revision!",
                  (SELECT max(revision) FROM scope_acknowledgements s
                   WHERE s.platform_id = p.id AND s.team_id = t.id) AS acknowledged_revision
           FROM placed x
           JOIN platforms p ON p.id = x.platform_id AND p.archived_at IS NULL
           JOIN teams t ON t.id = x.team_id
           JOIN latest l ON l.platform_id = p.id
           WHERE coalesce((SELECT max(revision) FROM scope_acknowledgements s
                           WHERE s.platform_id = p.id AND s.team_id = t.id), 0) < l.n
           ORDER BY p.name, t.name"#,
        teams
    )
    .fetch_all(pool)
    .await?)
}

struct TemplateRow {
    id: Uuid,
    name: String,
    description: String,
    created_by: String,
    content: Json<ScopeContent>,
}

/// The built-in template and the saved ones.
pub async fn templates(pool: &PgPool, caller: &Caller) -> Result<Vec<ScopeTemplate>> {
    caller.actor.authorize(Action::Read)?;
    let saved = sqlx::query_as!(
        TemplateRow,
        r#"SELECT id, name, description, created_by, content AS "content: Json<ScopeContent>"
           FROM scope_templates ORDER BY name"#
    )
    .fetch_all(pool)
    .await?;
    let mut out = vec![ScopeTemplate {
        id: BUILTIN_TEMPLATE_ID.to_owned(),
        name: "Known-to-work split".to_owned(),
        description: "Clusters, platform services, the CD tool and data services inside the \
                      fence; application code, CI and CD code, the CI tool, the identity \
                      provider and the infrastructure outside it."
            .to_owned(),
        builtin: true,
        created_by: "Demarc".to_owned(),
        content: builtin_template(),
    }];
    out.extend(saved.into_iter().map(|t| ScopeTemplate {
        id: t.id.to_string(),
        name: t.name,
        description: t.description,
        builtin: false,
        created_by: t.created_by,
        content: t.content.0,
    }));
    Ok(out)
}

/// Saves a platform's draft as a template.
#[tracing::instrument(skip_all)]
pub async fn save_template(
    pool: &PgPool,
    caller: &Caller,
    input: TemplateInput,
) -> Result<ScopeTemplate> {
    caller.actor.authorize(Action::EditScope)?;
    let name = input.name.trim().to_owned();
    let mut p = crate::validate::Problems::default();
    crate::validate::name(&mut p, "name", &name);
    if input.description.chars().count() > 2000 {
        p.add("description", "must be at most 2000 characters");
    }
    p.finish()?;
    let mut tx = pool.begin().await?;
    platforms::fetch(&mut tx, input.platform_id, false)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid("platform_id", "is not a known platform"),
            other => other,
        })?;
    let content = draft_content(&mut tx, input.platform_id).await?;
    if content.items.is_empty() && content.rules.is_empty() {
        return Err(Error::invalid(
            "platform_id",
            "this platform's draft is empty: there is nothing to save",
        ));
    }
    let taken = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM scope_templates WHERE lower(name) = lower($1)) AS \"e!\"",
        name
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(Error::invalid("name", "a template with this name exists"));
    }
    let row = sqlx::query_as!(
        TemplateRow,
        r#"INSERT INTO scope_templates (name, description, content, created_by)
           VALUES ($1, $2, $3, $4)
           RETURNING id, name, description, created_by, content AS "content: Json<ScopeContent>""#,
        name,
        input.description.trim(),
        Json(&content) as _,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    let template = ScopeTemplate {
        id: row.id.to_string(),
        name: row.name,
        description: row.description,
        builtin: false,
        created_by: row.created_by,
        content: row.content.0,
    };
    audit::record(
        &mut tx,
        caller,
        "create",
        "scope_template",
        &template.id,
        None::<&()>,
        Some(&template),
    )
    .await?;
    tx.commit().await?;
    Ok(template)
}

/// Deletes a saved template (drafts started from it keep their content).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete_template(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<()> {
    caller.actor.authorize(Action::EditScope)?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query_as!(
        TemplateRow,
        r#"DELETE FROM scope_templates WHERE id = $1
           RETURNING id, name, description, created_by, content AS "content: Json<ScopeContent>""#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("scope template"))?;
    audit::record(
        &mut tx,
        caller,
        "delete",
        "scope_template",
        &id.to_string(),
        Some(&serde_json::json!({ "name": row.name, "description": row.description, "content": row.content.0 })),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
