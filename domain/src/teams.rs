//! Teams: the application teams that own applications.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit;
use crate::auth::Action;
use crate::db::{self, Caller, PgPool, Versioned};
use crate::error::{Error, Result};
use crate::model::{ListQuery, Page, Team, TeamInput};
use crate::validate;

/// Lists teams, by name.
#[tracing::instrument(skip_all)]
pub async fn list(pool: &PgPool, caller: &Caller, query: &ListQuery) -> Result<Page<Team>> {
    caller.actor.authorize(Action::Read)?;
    let (limit, offset) = query.limit_offset();
    let pattern = query.pattern();
    let mut tx = pool.begin().await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM teams
           WHERE ($1 OR archived_at IS NULL) AND ($2::text IS NULL OR name ILIKE $2 OR slug ILIKE $2)"#,
        query.include_archived,
        pattern,
    )
    .fetch_one(&mut *tx)
    .await?;
    let items = sqlx::query_as!(
        Team,
        r#"SELECT id, slug, name, description, contact, archived_at, version, created_at, updated_at
           FROM teams
           WHERE ($1 OR archived_at IS NULL) AND ($2::text IS NULL OR name ILIKE $2 OR slug ILIKE $2)
           ORDER BY name, id LIMIT $3 OFFSET $4"#,
        query.include_archived,
        pattern,
        limit,
        offset,
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(Page {
        items,
        page: query.page.max(1),
        per_page: limit as u32,
        total,
    })
}

/// Reads one team.
pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Team> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id, false).await
}

async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Team> {
    let team = if lock {
        sqlx::query_as!(
            Team,
            "SELECT id, slug, name, description, contact, archived_at, version, created_at, updated_at
             FROM teams WHERE id = $1 FOR UPDATE",
            id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Team,
            "SELECT id, slug, name, description, contact, archived_at, version, created_at, updated_at
             FROM teams WHERE id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
    };
    team.ok_or_else(|| Error::not_found("team"))
}

/// Creates a team.
#[tracing::instrument(skip_all)]
pub async fn create(pool: &PgPool, caller: &Caller, mut input: TeamInput) -> Result<Team> {
    caller.actor.authorize(Action::ManageTeams)?;
    validate::team(&mut input)?;
    let mut tx = pool.begin().await?;
    let team = sqlx::query_as!(
        Team,
        "INSERT INTO teams (slug, name, description, contact) VALUES ($1, $2, $3, $4)
         RETURNING id, slug, name, description, contact, archived_at, version, created_at, updated_at",
        input.slug,
        input.name,
        input.description,
        input.contact,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "create",
        "team",
        &team.id.to_string(),
        None::<&Team>,
        Some(&team),
    )
    .await?;
    tx.commit().await?;
    Ok(team)
}

/// Edits a team if nobody changed it since `expected_version`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    mut input: TeamInput,
) -> Result<Team> {
    caller.actor.authorize(Action::ManageTeams)?;
    validate::team(&mut input)?;
    db::versioned_change(
        pool,
        caller,
        "team",
        "update",
        id,
        expected_version,
        async |conn| fetch(conn, id, true).await,
        async |conn, _| Ok(sqlx::query_as!(
                Team,
                "UPDATE teams SET slug = $2, name = $3, description = $4, contact = $5, version = version + 1
                 WHERE id = $1
                 RETURNING id, slug, name, description, contact, archived_at, version, created_at, updated_at",
                id,
                input.slug,
                input.name,
                input.description,
                input.contact,
            )
        .fetch_one(conn)
        .await?),
    )
    .await
}

/// Archives (or restores) a team. Archived teams keep their history and applications.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_archived(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    archived: bool,
) -> Result<Team> {
    caller.actor.authorize(Action::ManageTeams)?;
    let action = if archived { "archive" } else { "restore" };
    db::versioned_change(
        pool,
        caller,
        "team",
        action,
        id,
        expected_version,
        async |conn| fetch(conn, id, true).await,
        async |conn, _| Ok(sqlx::query_as!(
                Team,
                "UPDATE teams SET archived_at = CASE WHEN $2 THEN coalesce(archived_at, now()) END, version = version + 1
                 WHERE id = $1
                 RETURNING id, slug, name, description, contact, archived_at, version, created_at, updated_at",
                id,
                archived,
            )
        .fetch_one(conn)
        .await?),
    )
    .await
}

/// Finds a team by slug (for the UI's team pages and the policy's team checks).
pub async fn slug_of(conn: &mut PgConnection, id: Uuid) -> Result<String> {
    sqlx::query_scalar!("SELECT slug FROM teams WHERE id = $1", id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::invalid("team_id", "refers to a team that does not exist"))
}

impl Versioned for Team {
    fn version(&self) -> i32 {
        self.version
    }
}

/// The slugs of the teams Demarc knows (not archived), remembered per data version: a group
/// named like a team (`team-<slug>`) makes its members part of the team only when the team
/// exists, so an unrelated `team-*` group of the identity provider opens nothing.
pub async fn known_slugs(
    pool: &PgPool,
    cache: &crate::cache::CatalogueCache,
) -> Result<std::sync::Arc<std::collections::HashSet<String>>> {
    let key = (cache.version(pool).await?, 0);
    if let Some(slugs) = cache.memo("team_slugs", key) {
        return Ok(slugs);
    }
    let slugs: std::sync::Arc<std::collections::HashSet<String>> = std::sync::Arc::new(
        sqlx::query_scalar!("SELECT slug FROM teams WHERE archived_at IS NULL")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
    );
    cache.put_memo("team_slugs", key, slugs.clone());
    Ok(slugs)
}
