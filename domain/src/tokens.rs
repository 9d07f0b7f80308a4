//! API tokens for automation: scoped (read or write), expiring, shown once, stored as a SHA-256
//! hash, last use recorded, revocable.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit;
use crate::auth::{Action, Actor, ActorKind, Role};
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::model::{ApiToken, ApiTokenInput, CreatedApiToken};
use crate::validate;

/// Every Demarc token starts with this, so secret scanners can recognise one.
pub const TOKEN_PREFIX: &str = "dmc_";

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Creates a token for the signed-in person. The token acts with that person's highest staff
/// role; the secret is returned this once.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    caller: &Caller,
    mut input: ApiTokenInput,
) -> Result<CreatedApiToken> {
    caller.actor.authorize(Action::ManageTokens)?;
    let ActorKind::User { id: user_id } = caller.actor.kind else {
        return Err(Error::forbidden(
            "Only a signed-in person can create API tokens.",
        ));
    };
    validate::api_token(&mut input)?;
    let role = if caller.actor.has(Role::Admin) {
        Role::Admin
    } else {
        Role::PlatformEngineer
    };
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let prefix = secret[..TOKEN_PREFIX.len() + 6].to_owned();
    let expires_at = Utc::now() + Duration::days(input.expires_in_days);
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO api_tokens (name, prefix, secret_hash, scope, role, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        input.name,
        prefix,
        hash(&secret),
        input.scope,
        role.as_str(),
        user_id,
        expires_at,
    )
    .fetch_one(&mut *tx)
    .await?;
    let token = fetch(&mut tx, id).await?;
    audit::record(
        &mut tx,
        caller,
        "create",
        "api_token",
        &id.to_string(),
        None::<&ApiToken>,
        Some(&token),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedApiToken { token, secret })
}

async fn fetch(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<ApiToken> {
    sqlx::query_as!(
        ApiToken,
        "SELECT t.id, t.name, t.prefix, t.scope, t.role, u.name AS created_by_name, t.created_at, t.expires_at,
                t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.created_by WHERE t.id = $1",
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("API token"))
}

/// Lists tokens (never their secrets), newest first. Platform staff and auditors.
pub async fn list(pool: &PgPool, caller: &Caller) -> Result<Vec<ApiToken>> {
    if !caller.actor.has(Role::Auditor) {
        caller.actor.authorize(Action::ManageTokens)?;
    }
    Ok(sqlx::query_as!(
        ApiToken,
        "SELECT t.id, t.name, t.prefix, t.scope, t.role, u.name AS created_by_name, t.created_at, t.expires_at,
                t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.created_by ORDER BY t.created_at DESC, t.id"
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes a token at once. Admins revoke any token; platform engineers their own.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn revoke(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<ApiToken> {
    caller.actor.authorize(Action::ManageTokens)?;
    let mut tx = pool.begin().await?;
    let owner = sqlx::query_scalar!(
        "SELECT created_by FROM api_tokens WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("API token"))?;
    let own = matches!(caller.actor.kind, ActorKind::User { id: uid } if uid == owner);
    if !own && !caller.actor.has(Role::Admin) {
        return Err(Error::forbidden(
            "Only administrators can revoke tokens created by someone else.",
        ));
    }
    let after = revoke_locked(&mut tx, caller, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Revokes a token the caller's transaction has locked (a revoked one stays as it was), with
/// its audit record.
async fn revoke_locked(tx: &mut sqlx::PgConnection, caller: &Caller, id: Uuid) -> Result<ApiToken> {
    let before = fetch(&mut *tx, id).await?;
    sqlx::query!(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    let after = fetch(&mut *tx, id).await?;
    audit::record(
        &mut *tx,
        caller,
        "revoke",
        "api_token",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// Revokes the live tokens of `user_id` whose role `roles` (the person's roles at this login) no
/// longer include; see [`crate::users::record_login`].
pub(crate) async fn revoke_beyond_roles(
    tx: &mut sqlx::PgConnection,
    caller: &Caller,
    user_id: Uuid,
    roles: &[Role],
) -> Result<()> {
    // An auditor never writes, whatever else they are: their tokens all go.
    let kept: Vec<&str> = [Role::Admin, Role::PlatformEngineer]
        .into_iter()
        .filter(|r| roles.contains(r) && !roles.contains(&Role::Auditor))
        .map(Role::as_str)
        .collect();
    let ids = sqlx::query_scalar!(
        "SELECT id FROM api_tokens
         WHERE created_by = $1 AND revoked_at IS NULL AND expires_at > now() AND role <> ALL($2)
         FOR UPDATE",
        user_id,
        &kept as &[&str],
    )
    .fetch_all(&mut *tx)
    .await?;
    for id in ids {
        revoke_locked(&mut *tx, caller, id).await?;
    }
    Ok(())
}

/// Resolves a bearer secret to the actor it stands for, or None when it is unknown, expired or
/// revoked. The last-use time is written at most once a minute per token, so busy automation
/// does not turn every read into a write. A token found valid is remembered by the replica's
/// cache, which forgets every token as soon as any token is revoked (see [`crate::cache`]).
pub async fn authenticate(
    pool: &PgPool,
    cache: &crate::cache::CatalogueCache,
    secret: &str,
) -> Result<Option<Actor>> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = hash(secret);
    let now = Utc::now();
    let stale =
        |last_used: Option<DateTime<Utc>>| last_used.is_none_or(|t| now - t > Duration::minutes(1));
    let (cached, epoch) = cache.token(&hash, now);
    if let Some(cached) = cached
        && !stale(cached.last_used_at)
    {
        return Ok(Some(cached.actor));
    }
    let row = sqlx::query!(
        "SELECT id, name, scope, role, expires_at, last_used_at FROM api_tokens
         WHERE secret_hash = $1 AND revoked_at IS NULL AND expires_at > now()",
        hash
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut last_used_at = row.last_used_at;
    if stale(last_used_at) {
        sqlx::query!(
            "UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
            row.id
        )
        .execute(pool)
        .await?;
        last_used_at = Some(now);
    }
    let role = Role::parse(&row.role).unwrap_or(Role::PlatformEngineer);
    let actor = Actor {
        kind: ActorKind::Token { id: row.id },
        name: format!("token {}", row.name),
        roles: vec![role],
        teams: vec![],
        can_write: row.scope == "write",
    };
    cache.put_token(epoch, hash, actor.clone(), row.expires_at, last_used_at);
    Ok(Some(actor))
}
