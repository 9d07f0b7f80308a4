//! Who is calling: a person with a session, an API token, or an automation client with an
//! access token from the OpenID provider. The middleware here resolves the caller once per request
//! and puts a [`Caller`] in the request's extensions; handlers, server functions and page guards
//! read it from there. It also protects browser requests against cross-site request forgery.

pub mod oidc;
pub mod web;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::db::Caller;
use domain::{Actor, ActorKind, Role};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::state::AppState;

/// What the session remembers about a signed-in person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: uuid::Uuid,
    pub name: String,
    pub roles: Vec<Role>,
    pub teams: Vec<String>,
    /// Unix time of the login, for the absolute timeout.
    pub login_at: i64,
    /// Unix time of the last request, refreshed at most once a minute (idle timeout).
    pub seen_at: i64,
}

/// Session key of [`SessionUser`].
pub const SESSION_USER: &str = "user";

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    Bearer,
}

/// Resolves the caller and enforces CSRF protection for cookie-authenticated writes.
pub async fn resolve_caller(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bearer = bearer_token(req.headers());
    let resolved = match bearer {
        Some(token) => match actor_from_bearer(&state, &token).await {
            Ok(Some(actor)) => Some((actor, Via::Bearer)),
            Ok(None) => {
                return crate::api::error::unauthenticated(
                    "The bearer token is not valid, has expired or was revoked.",
                );
            }
            Err(e) => return crate::api::error::ApiError(e).into_response(),
        },
        None => match actor_from_session(&state, &session).await {
            Ok(actor) => actor.map(|a| (a, Via::Session)),
            Err(resp) => return resp,
        },
    };
    // Team memberships count only for teams that exist (see `domain::teams::known_slugs`).
    let resolved = match resolved {
        Some((mut actor, via)) if !actor.teams.is_empty() => {
            match domain::teams::known_slugs(&state.pool, &state.cache).await {
                Ok(known) => {
                    actor.teams.retain(|t| known.contains(t));
                    Some((actor, via))
                }
                Err(e) => return crate::api::error::ApiError(e).into_response(),
            }
        }
        other => other,
    };
    if resolved
        .as_ref()
        .is_none_or(|(_, via)| *via == Via::Session)
        && !is_safe(req.method())
        && !same_origin(&state, req.headers())
    {
        tracing::warn!("rejected a cross-site write");
        let message =
            "Cross-site request refused: send it from Demarc's own pages, or use an API token.";
        if req.uri().path().starts_with("/api/") {
            return crate::api::error::plain(StatusCode::FORBIDDEN, "cross_site", message);
        }
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let write = resolved.is_some() && !is_safe(req.method());
    if let Some((actor, via)) = resolved {
        req.extensions_mut().insert(Caller { actor, request_id });
        req.extensions_mut().insert(via);
    }
    let response = next.run(req).await;
    if write {
        // Read-your-writes on this replica: the cache must know the version this write made
        // before the client can ask again (other replicas learn it by notification).
        state.cache.after_local_write(&state.pool).await;
    }
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A write from a browser must come from our own pages: the Origin (or, failing that, the
/// Referer) must be Demarc's public origin. Browsers always send Origin on POST.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = state.config.public_url.origin().ascii_serialization();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == expected;
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .is_some_and(|r| r.origin().ascii_serialization() == expected)
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn actor_from_bearer(state: &AppState, token: &str) -> domain::Result<Option<Actor>> {
    if token.starts_with(domain::tokens::TOKEN_PREFIX) {
        return domain::tokens::authenticate(&state.pool, &state.cache, token).await;
    }
    match state.oidc.verify_access_token(token).await {
        Ok(claims) => {
            let groups = state.oidc.groups_of(&claims);
            let (roles, teams) = state.config.groups.resolve(&groups);
            let client_id = claims
                .client_id
                .clone()
                .or(claims.sub.clone())
                .unwrap_or_else(|| "unknown".into());
            let can_write = claims.scope.split(' ').any(|s| s == "demarc:write");
            Ok(Some(Actor {
                kind: ActorKind::Client {
                    client_id: client_id.clone(),
                },
                name: format!("client {client_id}"),
                roles,
                teams,
                can_write,
            }))
        }
        Err(e) => {
            tracing::info!(reason = %e, "refused an access token");
            Ok(None)
        }
    }
}

async fn actor_from_session(
    state: &AppState,
    session: &Session,
) -> Result<Option<Actor>, Response> {
    let user: Option<SessionUser> = session
        .get(SESSION_USER)
        .await
        .map_err(session_unavailable)?;
    let Some(mut user) = user else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp();
    let idle = state.config.session_idle_minutes * 60;
    let absolute = state.config.session_absolute_hours * 3600;
    if now - user.login_at > absolute || now - user.seen_at > idle {
        session.flush().await.map_err(session_unavailable)?;
        return Ok(None);
    }
    if now - user.seen_at > 60 {
        user.seen_at = now;
        session
            .insert(SESSION_USER, &user)
            .await
            .map_err(session_unavailable)?;
    }
    Ok(Some(Actor {
        kind: ActorKind::User { id: user.user_id },
        name: user.name,
        roles: user.roles,
        teams: user.teams,
        can_write: true,
    }))
}

fn session_unavailable(e: tower_sessions::session::Error) -> Response {
    tracing::warn!(error = %e, "session store unavailable");
    crate::api::error::ApiError(domain::Error::Unavailable).into_response()
}
