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
