//! Environments of a platform, ordered so that "staging before production" can be expressed.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit;
use crate::auth::Action;
use crate::db::{self, Caller, PgPool, Versioned};
use crate::error::{Error, Result};
use crate::model::{Environment, EnvironmentInput};
use crate::{platforms, validate};

/// Lists a platform's environments in their order.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    include_archived: bool,
) -> Result<Vec<Environment>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    platforms::fetch(&mut conn, platform_id, false).await?;
    Ok(sqlx::query_as!(
        Environment,
        "SELECT id, platform_id, slug, name, position, is_production, archived_at, version, created_at, updated_at
         FROM environments WHERE platform_id = $1 AND ($2 OR archived_at IS NULL)
         ORDER BY position, name",
        platform_id,
        include_archived,
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Every active environment of every active platform, for pickers.
pub async fn all(pool: &PgPool, caller: &Caller) -> Result<Vec<Environment>> {
    caller.actor.authorize(Action::Read)?;
    Ok(sqlx::query_as!(
        Environment,
        "SELECT e.id, e.platform_id, e.slug, e.name, e.position, e.is_production, e.archived_at, e.version,
                e.created_at, e.updated_at
         FROM environments e JOIN platforms p ON p.id = e.platform_id
         WHERE e.archived_at IS NULL AND p.archived_at IS NULL
         ORDER BY p.name, e.position, e.name",
    )
    .fetch_all(pool)
    .await?)
}

/// Reads one environment.
pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Environment> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id, false).await
}

async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Environment> {
    let env = if lock {
        sqlx::query_as!(
            Environment,
            "SELECT id, platform_id, slug, name, position, is_production, archived_at, version, created_at, updated_at
             FROM environments WHERE id = $1 FOR UPDATE",
            id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Environment,
            "SELECT id, platform_id, slug, name, position, is_production, archived_at, version, created_at, updated_at
             FROM environments WHERE id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
    };
    env.ok_or_else(|| Error::not_found("environment"))
}

/// Adds an environment to a platform.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn create(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    mut input: EnvironmentInput,
) -> Result<Environment> {
    caller.actor.authorize(Action::ManagePlatforms)?;
    validate::environment(&mut input)?;
    let mut tx = pool.begin().await?;
    let platform = platforms::fetch(&mut tx, platform_id, false).await?;
    if platform.archived_at.is_some() {
        return Err(Error::Conflict {
            message: "This platform is archived; restore it first.".into(),
        });
    }
    let env = sqlx::query_as!(
        Environment,
        "INSERT INTO environments (platform_id, slug, name, position, is_production) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, platform_id, slug, name, position, is_production, archived_at, version, created_at, updated_at",
        platform_id,
        input.slug,
        input.name,
        input.position,
        input.is_production,
    )
    .fetch_one(&mut *tx)
    .await?;
    let id = env.id.to_string();
    audit::record(
        &mut tx,
        caller,
        "create",
        "environment",
        &id,
        None::<&Environment>,
        Some(&env),
    )
    .await?;
    tx.commit().await?;
    Ok(env)
}

/// Edits an environment if nobody changed it since `expected_version`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    mut input: EnvironmentInput,
) -> Result<Environment> {
    caller.actor.authorize(Action::ManagePlatforms)?;
    validate::environment(&mut input)?;
    db::versioned_change(
        pool,
        caller,
        "environment",
        "update",
        id,
        expected_version,
        async |conn| fetch(conn, id, true).await,
        async |conn, _| Ok(sqlx::query_as!(
                Environment,
                "UPDATE environments SET slug = $2, name = $3, position = $4, is_production = $5, version = version + 1
                 WHERE id = $1
                 RETURNING id, platform_id, slug, name, position, is_production, archived_at, version, created_at, updated_at",
                id,
                input.slug,
                input.name,
                input.position,
                input.is_production,
            )
        .fetch_one(conn)
        .await?),
    )
    .await
}

/// Archives (or restores) an environment. An archived environment has no maintenance windows, so
/// archiving one whose plan other active environments' plans follow is refused, naming them (their
/// windows would silently go); so is restoring one whose plan follows an archived environment.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_archived(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    archived: bool,
) -> Result<Environment> {
    caller.actor.authorize(Action::ManagePlatforms)?;
    let action = if archived { "archive" } else { "restore" };
    db::versioned_change(
        pool,
        caller,
        "environment",
        action,
        id,
        expected_version,
        async |conn| fetch(conn, id, true).await,
        async |conn, env| {
            if archived && env.archived_at.is_none() {
                refuse_archiving_a_followed_plan(conn, env).await?;
            }
            if !archived && env.archived_at.is_some() {
                refuse_restoring_a_follower_of_an_archived_plan(conn, env).await?;
            }
            Ok(sqlx::query_as!(
                Environment,
                "UPDATE environments SET archived_at = CASE WHEN $2 THEN coalesce(archived_at, now()) END, version = version + 1
                 WHERE id = $1
                 RETURNING id, platform_id, slug, name, position, is_production, archived_at, version, created_at, updated_at",
                id,
                archived,
            )
            .fetch_one(conn)
            .await?)
        },
    )
    .await
}

/// Refuses to archive `env` while other active environments' plans follow its plan. The
/// environment is locked for update, and saving a plan that follows it share-locks it, so no
/// follower appears meanwhile.
async fn refuse_archiving_a_followed_plan(
    conn: &mut PgConnection,
    env: &Environment,
) -> Result<()> {
    let followers = sqlx::query_scalar!(
        "SELECT e.slug FROM maintenance_plans p JOIN environments e ON e.id = p.environment_id
         WHERE p.follows_environment_id = $1 AND e.archived_at IS NULL
         ORDER BY e.position, e.slug",
        env.id
    )
    .fetch_all(conn)
    .await?;
    if followers.is_empty() {
        return Ok(());
    }
    let one = followers.len() == 1;
    Err(Error::Conflict {
        message: format!(
            "{} follow{} the maintenance plan of {}, which would have no windows once archived: change or remove the plan of {} first, or archive {} too.",
            followers.join(", "),
            if one { "s" } else { "" },
            env.slug,
            followers.join(", "),
            if one { "it" } else { "them" },
        ),
    })
}

/// Refuses to restore `env` while its plan follows an archived environment's plan: it would have
/// no windows. The environment followed is share-locked, so it is not archived meanwhile.
async fn refuse_restoring_a_follower_of_an_archived_plan(
    conn: &mut PgConnection,
    env: &Environment,
) -> Result<()> {
    let leader = sqlx::query!(
        r#"SELECT l.slug, l.archived_at IS NOT NULL AS "archived!"
           FROM maintenance_plans p JOIN environments l ON l.id = p.follows_environment_id
           WHERE p.environment_id = $1
           FOR SHARE OF l"#,
        env.id
    )
    .fetch_optional(conn)
    .await?;
    match leader {
        Some(l) if l.archived => Err(Error::Conflict {
            message: format!(
                "The maintenance plan of {} follows the plan of {}, which is archived: restore {} first, or remove the plan of {}.",
                env.slug, l.slug, l.slug, env.slug
            ),
        }),
        _ => Ok(()),
    }
}

impl Versioned for Environment {
    fn version(&self) -> i32 {
        self.version
    }
}
