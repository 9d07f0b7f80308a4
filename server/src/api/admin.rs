//! REST handlers for the audit log, API tokens and the caller's own identity.

use axum::extract::State;
use axum::http::StatusCode;
use domain::model::{ApiToken, ApiTokenInput, AuditEntry, AuditQuery, CreatedApiToken};
use domain::{audit, tokens};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiCaller, ApiError, ApiPath, ApiQuery, ErrorBody, JsonBody};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;
use axum::Json;

/// Read the audit log, newest first. Administrators and auditors.
#[utoipa::path(get, path = "/api/v1/audit-entries", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn list_audit_entries(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>> {
    Ok(Json(audit::list(&s.pool, &c, &q).await?))
}

/// List API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
) -> Result<Json<Vec<ApiToken>>> {
    Ok(Json(tokens::list(&s.pool, &c).await?))
}

/// Create an API token. Only a signed-in person can: tokens do not mint tokens.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = ApiTokenInput,
    responses((status = 201, body = CreatedApiToken), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(input): JsonBody<ApiTokenInput>,
) -> Result<(StatusCode, Json<CreatedApiToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(tokens::create(&s.pool, &c, input).await?),
    ))
}

/// Revoke an API token at once.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "tokens", params(("id" = Uuid, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ApiToken>> {
    Ok(Json(tokens::revoke(&s.pool, &c, id).await?))
}

/// Who the API thinks the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    pub roles: Vec<String>,
    pub teams: Vec<String>,
    pub can_write: bool,
}

/// The caller's identity, roles and teams.
#[utoipa::path(get, path = "/api/v1/me", tag = "tokens", responses((status = 200, body = Me)))]
pub async fn me(ApiCaller(c): ApiCaller) -> Json<Me> {
    let a = c.actor;
    Json(Me {
        can_write: !a.is_read_only(),
        name: a.name,
        roles: a.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        teams: a.teams,
    })
}
