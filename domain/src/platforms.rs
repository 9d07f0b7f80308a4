//! Platforms: the Kubernetes platform offerings the platform team runs.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit;
use crate::auth::Action;
use crate::db::{self, Caller, PgPool, Versioned};
use crate::error::{Error, Result};
use crate::model::{ListQuery, Page, Platform, PlatformInput};
use crate::validate;

/// Lists platforms, by name.
#[tracing::instrument(skip_all)]
pub async fn list(pool: &PgPool, caller: &Caller, query: &ListQuery) -> Result<Page<Platform>> {
    caller.actor.authorize(Action::Read)?;
    let (limit, offset) = query.limit_offset();
    let pattern = query.pattern();
    let mut tx = pool.begin().await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM platforms
           WHERE ($1 OR archived_at IS NULL) AND ($2::text IS NULL OR name ILIKE $2 OR slug ILIKE $2)"#,
        query.include_archived,
        pattern,
    )
    .fetch_one(&mut *tx)
    .await?;
    let items = sqlx::query_as!(
        Platform,
        r#"SELECT id, slug, name, description, archived_at, version, created_at, updated_at
           FROM platforms
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

/// Reads one platform.
pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Platform> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id, false).await
}

pub(crate) async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Platform> {
    let platform = if lock {
        sqlx::query_as!(
            Platform,
            "SELECT id, slug, name, description, archived_at, version, created_at, updated_at
             FROM platforms WHERE id = $1 FOR UPDATE",
            id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Platform,
            "SELECT id, slug, name, description, archived_at, version, created_at, updated_at
             FROM platforms WHERE id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
    };
    platform.ok_or_else(|| Error::not_found("platform"))
}

/// Creates a platform.
#[tracing::instrument(skip_all)]
pub async fn create(pool: &PgPool, caller: &Caller, mut input: PlatformInput) -> Result<Platform> {
    caller.actor.authorize(Action::ManagePlatforms)?;
    validate::platform(&mut input)?;
    let mut tx = pool.begin().await?;
    let platform = sqlx::query_as!(
        Platform,
        "INSERT INTO platforms (slug, name, description) VALUES ($1, $2, $3)
         RETURNING id, slug, name, description, archived_at, version, created_at, updated_at",
        input.slug,
        input.name,
        input.description,
    )
    .fetch_one(&mut *tx)
    .await?;
    let id = platform.id.to_string();
    audit::record(
        &mut tx,
        caller,
        "create",
        "platform",
        &id,
        None::<&Platform>,
        Some(&platform),
    )
    .await?;
    tx.commit().await?;
    Ok(platform)
}

/// Edits a platform if nobody changed it since `expected_version`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    mut input: PlatformInput,
) -> Result<Platform> {
    caller.actor.authorize(Action::ManagePlatforms)?;
    validate::platform(&mut input)?;
    db::versioned_change(
        pool,
        caller,
        "platform",
        "update",
        id,
        expected_version,
        async |conn| fetch(conn, id, true).await,
        async |conn, _| Ok(sqlx::query_as!(
                Platform,
                "UPDATE platforms SET slug = $2, name = $3, description = $4, version = version + 1
                 WHERE id = $1
                 RETURNING id, slug, name, description, archived_at, version, created_at, updated_at",
                id,
                input.slug,
                input.name,
                input.description,
            )
        .fetch_one(conn)
        .await?),
    )
    .await
}

/// Archives (or restores) a platform.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_archived(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    archived: bool,
) -> Result<Platform> {
    caller.actor.authorize(Action::ManagePlatforms)?;
    let action = if archived { "archive" } else { "restore" };
    db::versioned_change(
        pool,
        caller,
        "platform",
        action,
        id,
        expected_version,
        async |conn| fetch(conn, id, true).await,
        async |conn, _| Ok(sqlx::query_as!(
                Platform,
                "UPDATE platforms SET archived_at = CASE WHEN $2 THEN coalesce(archived_at, now()) END, version = version + 1
                 WHERE id = $1
                 RETURNING id, slug, name, description, archived_at, version, created_at, updated_at",
                id,
                archived,
            )
        .fetch_one(conn)
        .await?),
    )
    .await
}

impl Versioned for Platform {
    fn version(&self) -> i32 {
        self.version
    }
}
