//! The append-only audit log. Every domain operation that changes something calls [`record`]
//! inside its own transaction, so a change and its audit record commit or fail together. The
//! database rejects UPDATE, DELETE and TRUNCATE on the table (see the migration).

use serde::Serialize;
use sqlx::PgConnection;

use crate::auth::{Action, ActorKind};
use crate::db::{Caller, PgPool};
use crate::error::{Result, internal};
use crate::model::{AuditEntry, AuditFacets, AuditQuery};

/// Appends one record: who did what to which entity, before and after.
pub async fn record<B: Serialize, A: Serialize>(
    conn: &mut PgConnection,
    caller: &Caller,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    let (kind, id) = actor_ref(&caller.actor.kind);
    let before = before
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| internal(&e))?;
    let after = after
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| internal(&e))?;
    sqlx::query!(
        "INSERT INTO audit_log (actor_kind, actor_id, actor_name, action, entity_type, entity_id, before, after, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        kind,
        id,
        caller.actor.name,
        action,
        entity_type,
        entity_id,
        before,
        after,
        caller.request_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn actor_ref(kind: &ActorKind) -> (&'static str, String) {
    match kind {
        ActorKind::User { id } => ("user", id.to_string()),
        ActorKind::Token { id } => ("token", id.to_string()),
        ActorKind::Client { client_id } => ("token", format!("client:{client_id}")),
        ActorKind::System => ("system", "system".to_owned()),
    }
}

/// The entity types and actions the log holds, for the audit page's filters: a few index
/// lookups per distinct value, however long the log grows.
#[tracing::instrument(skip_all)]
pub async fn facets(pool: &PgPool, caller: &Caller) -> Result<AuditFacets> {
    caller.actor.authorize(Action::ReadAuditLog)?;
    // Each list skips along an index from one value to the next (a loose index scan).
    let rows = sqlx::query!(
        r#"WITH RECURSIVE
             e(v) AS (SELECT min(entity_type) FROM audit_log
                      UNION ALL
                      SELECT (SELECT min(entity_type) FROM audit_log WHERE entity_type > e.v) FROM e WHERE e.v IS NOT NULL),
             a(v) AS (SELECT min(action) FROM audit_log
                      UNION ALL
                      SELECT (SELECT min(action) FROM audit_log WHERE action > a.v) FROM a WHERE a.v IS NOT NULL)
           SELECT 'entity' AS "facet!", v AS "value!" FROM e WHERE v IS NOT NULL
           UNION ALL
           SELECT 'action', v FROM a WHERE v IS NOT NULL"#
    )
    .fetch_all(pool)
    .await?;
    let (entities, actions): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.facet == "entity");
    let entity_types = entities.into_iter().map(|r| r.value).collect();
    let actions = actions.into_iter().map(|r| r.value).collect();
    Ok(AuditFacets {
        entity_types,
        actions,
    })
}

/// Reads the log, newest first, with filters. Admins and auditors only.
#[tracing::instrument(skip_all)]
pub async fn list(pool: &PgPool, caller: &Caller, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    caller.actor.authorize(Action::ReadAuditLog)?;
    let mut problems = crate::validate::Problems::default();
    for (field, at) in [("since", query.since), ("until", query.until)] {
        if let Some(at) = at {
            crate::validate::instant(&mut problems, field, at);
        }
    }
    problems.finish()?;
    let limit = i64::from(query.limit.unwrap_or(100).clamp(1, 500));
    let actor = query
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{s}%"));
    let entries = sqlx::query_as!(
        AuditEntry,
        r#"SELECT id, at, actor_kind, actor_id, actor_name, action, entity_type, entity_id, before, after, request_id
           FROM audit_log
           WHERE ($1::text IS NULL OR entity_type = $1)
             AND ($2::text IS NULL OR entity_id = $2)
             AND ($3::text IS NULL OR actor_name ILIKE $3 OR actor_id ILIKE $3)
             AND ($4::text IS NULL OR action = $4)
             AND ($5::timestamptz IS NULL OR at >= $5)
             AND ($6::timestamptz IS NULL OR at < $6)
             AND ($7::bigint IS NULL OR id < $7)
           ORDER BY id DESC
           LIMIT $8"#,
        query.entity_type.as_deref().filter(|s| !s.is_empty()),
        query.entity_id.as_deref().filter(|s| !s.is_empty()),
        actor,
        query.action.as_deref().filter(|s| !s.is_empty()),
        query.since,
        query.until,
        query.before_id,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(entries)
}

/// The latest changes, for the dashboard of anyone who may read the log.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as!(
        AuditEntry,
        r#"SELECT id, at, actor_kind, actor_id, actor_name, action, entity_type, entity_id, before, after, request_id
           FROM audit_log ORDER BY id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await?)
}
