//! Storage of browser sessions (the HTTP layer owns their format; this module only stores them).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::PgPool;

fn key(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

/// Inserts a new session; false when the id is taken (the caller picks another).
pub async fn create(
    pool: &PgPool,
    id: &str,
    data: &serde_json::Value,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        key(id),
        data,
        expires_at
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Updates a session that exists. A session that is gone stays gone: a request still in flight
/// when its session was ended (sign-out, a change of roles) must not bring it back. New sessions
/// go through [`create`].
pub async fn save(
    pool: &PgPool,
    id: &str,
    data: &serde_json::Value,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sessions SET data = $2, expires_at = $3 WHERE id_hash = $1",
        key(id),
        data,
        expires_at
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Loads a live session.
pub async fn load(
    pool: &PgPool,
    id: &str,
) -> sqlx::Result<Option<(serde_json::Value, DateTime<Utc>)>> {
    let row = sqlx::query!(
        "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > now()",
        key(id)
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.data, r.expires_at)))
}

/// Deletes a session.
pub async fn delete(pool: &PgPool, id: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE id_hash = $1", key(id))
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes expired sessions; returns how many.
pub async fn delete_expired(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM sessions WHERE expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Ends every session in which `user_key` (the HTTP layer's name for the signed-in person in a
/// session's data) holds `user_id`: for when a person's roles changed under their sessions.
pub async fn end_for_user(pool: &PgPool, user_key: &str, user_id: uuid::Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE data -> $1::text ->> 'user_id' = $2::text",
        user_key,
        user_id.to_string(),
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
