//! People who signed in through OpenID Connect, keyed by (issuer, subject).

use uuid::Uuid;

use crate::audit;
use crate::auth::Role;
use crate::db::{Caller, PgPool};
use crate::error::Result;

/// What the identity provider said about a person at login.
#[derive(Debug, Clone)]
pub struct Login {
    pub issuer: String,
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// Creates or refreshes the person's record and returns Demarc's id for them. The login is
/// recorded in the audit log with the groups it carried, so access can be traced later.
///
/// A token acts with the role its creator had when creating it. A login is when Demarc learns
/// that a person's groups changed, so the person's live tokens whose role the login no longer
/// gives (an administrator's after leaving the administrators' group, any after leaving the
/// platform team) are revoked here, each with its own audit entry.
#[tracing::instrument(skip_all)]
pub async fn record_login(
    pool: &PgPool,
    login: &Login,
    roles: &[Role],
    request_id: Option<String>,
) -> Result<Recorded> {
    let mut tx = pool.begin().await?;
    let previous_groups = sqlx::query_scalar!(
        "SELECT groups FROM users WHERE issuer = $1 AND subject = $2 FOR UPDATE",
        login.issuer,
        login.subject,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO users (issuer, subject, name, email, groups) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (issuer, subject) DO UPDATE
           SET name = EXCLUDED.name, email = EXCLUDED.email, groups = EXCLUDED.groups, last_login_at = now()
         RETURNING id",
        login.issuer,
        login.subject,
        login.name,
        login.email,
        &login.groups,
    )
    .fetch_one(&mut *tx)
    .await?;
    let caller = Caller {
        actor: crate::auth::Actor {
            kind: crate::auth::ActorKind::User { id },
            name: login.name.clone(),
            roles: vec![],
            teams: vec![],
            can_write: false,
        },
        request_id,
    };
    let after = serde_json::json!({ "groups": login.groups });
    audit::record(
        &mut tx,
        &caller,
        "login",
        "user",
        &id.to_string(),
        None::<&()>,
        Some(&after),
    )
    .await?;
    crate::tokens::revoke_beyond_roles(&mut tx, &caller, id, roles).await?;
    tx.commit().await?;
    Ok(Recorded {
        user_id: id,
        groups_changed: previous_groups.is_some_and(|g| g != login.groups),
    })
}

/// What a recorded login tells the caller.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    pub user_id: Uuid,
    /// The provider gave other groups than at the person's last login: sessions started before
    /// carry roles that may be gone.
    pub groups_changed: bool,
}
