//! Shared plumbing for the store: the caller of an operation and the connection pool.

pub use sqlx::PgPool;

use crate::auth::Actor;

/// Who performs an operation and from which request: what the audit log records.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    /// The id of the HTTP request (x-request-id), when there is one.
    pub request_id: Option<String>,
}

impl Caller {
    /// A caller for Demarc's own work (demo data, maintenance).
    pub fn system() -> Caller {
        Caller {
            actor: Actor::system(),
            request_id: None,
        }
    }
}

/// Applies the migrations in `migrations/` (embedded at build time).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("../migrations").run(pool).await
}

/// True when the database answers a trivial query: what the readiness probe asks.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query_scalar!("SELECT 1 AS \"one!\"")
        .fetch_one(pool)
        .await
        .is_ok()
}

/// Something edited under optimistic concurrency: it carries the version the caller saw.
pub trait Versioned: serde::Serialize {
    /// The version stored with the record; each change increments it.
    fn version(&self) -> i32;
}

/// The one shape of every edit: in a transaction, lock the record, refuse a stale edit, apply the
/// change, append the audit record with before and after, commit. `apply` receives the locked
/// record, so it can check rules that depend on it.
#[allow(clippy::too_many_arguments)]
pub async fn versioned_change<T: Versioned>(
    pool: &PgPool,
    caller: &Caller,
    entity: &'static str,
    action: &str,
    id: uuid::Uuid,
    expected_version: i32,
    lock: impl AsyncFnOnce(&mut sqlx::PgConnection) -> crate::Result<T>,
    apply: impl AsyncFnOnce(&mut sqlx::PgConnection, &T) -> crate::Result<T>,
) -> crate::Result<T> {
    let mut tx = pool.begin().await?;
    let before = lock(&mut tx).await?;
    if before.version() != expected_version {
        return Err(crate::Error::stale(entity));
    }
    let after = apply(&mut tx, &before).await?;
    let id = id.to_string();
    crate::audit::record(
        &mut tx,
        caller,
        action,
        entity,
        &id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
