//! The browser side of login and logout.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::oidc::{OidcError, PendingLogin};
use super::{SESSION_USER, SessionUser};
use crate::state::AppState;

const PENDING_LOGIN: &str = "pending_login";

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only local paths are accepted as a post-login destination (no open redirect). Browsers drop
/// tabs and line breaks from a URL and read a backslash as a slash, so `/\t/evil.example` or
/// `/\\evil.example` would leave the site: a path with either is refused, whatever its place.
fn local_path(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    })
    .unwrap_or_else(|| "/".into())
}

/// GET /auth/login: sends the browser to the provider.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
    let (url, pending) = state.oidc.start(local_path(q.next));
    if let Err(e) = session.insert(PENDING_LOGIN, &pending).await {
        tracing::warn!(error = %e, "could not store the pending login");
        return failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "Demarc cannot store your session right now.",
        );
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// GET /auth/callback: the provider sends the browser back here with a code.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: axum::http::HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let pending: Option<PendingLogin> = session.remove(PENDING_LOGIN).await.unwrap_or(None);
    let result = async {
        if let Some(error) = q.error {
            return Err(OidcError::Provider(format!(
                "{error} {}",
                q.error_description.unwrap_or_default()
            )));
        }
        let pending = pending.ok_or(OidcError::NoPendingLogin)?;
        let (Some(code), Some(returned_state)) = (q.code, q.state) else {
            return Err(OidcError::Provider(
                "the callback lacks code or state".into(),
            ));
        };
        let login = state
            .oidc
            .finish(&pending, &code, &returned_state, q.iss.as_deref())
            .await?;
        Ok((pending.next, login))
    }
    .await;
    let (next, login) = match result {
        Ok(ok) => ok,
        Err(e) => {
            // Debug formatting escapes line breaks, so a provider's error text cannot forge log lines.
            tracing::warn!(reason = ?e.to_string(), "login refused");
            let message = match e {
                OidcError::Provider(_) => "The identity provider did not complete the sign-in.",
                OidcError::Discovery(_) => "The identity provider cannot be reached right now.",
                _ => "The sign-in response could not be verified, so it was refused.",
            };
            return failure(StatusCode::BAD_REQUEST, message);
        }
    };
    let (roles, teams) = state.config.groups.resolve(&login.groups);
    let record = domain::users::Login {
        issuer: login.issuer.clone(),
        subject: login.subject.clone(),
        name: login.name.clone(),
        email: login.email.clone(),
        groups: login.groups.clone(),
    };
    let recorded = match domain::users::record_login(&state.pool, &record, &roles, request_id).await
    {
        Ok(recorded) => recorded,
        Err(e) => return failure(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let user_id = recorded.user_id;
    // Sessions started with other groups carry roles this sign-in may no longer give: they end
    // (this one is stored only after this request).
    if recorded.groups_changed
        && let Err(e) = domain::sessions::end_for_user(&state.pool, SESSION_USER, user_id).await
    {
        tracing::warn!(error = %e, "could not end the person's older sessions");
    }
    let now = chrono::Utc::now().timestamp();
    let user = SessionUser {
        user_id,
        name: login.name,
        roles,
        teams,
        login_at: now,
        seen_at: now,
    };
    // A new session id at login, so a session id planted before login is worthless.
    if let Err(e) = async {
        session.cycle_id().await?;
        session.insert(SESSION_USER, &user).await
    }
    .await
    {
        tracing::warn!(error = %e, "could not store the session");
        return failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "Demarc cannot store your session right now.",
        );
    }
    tracing::info!(user = %user_id, "signed in");
    Redirect::to(&next).into_response()
}

/// POST /auth/logout: ends the session here and at the provider.
pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    let user: Option<SessionUser> = session.get(SESSION_USER).await.unwrap_or(None);
    if let Err(e) = session.flush().await {
        tracing::warn!(error = %e, "could not delete the session");
    }
    let home = state.config.url("/");
    match state.oidc.logout_url(&home) {
        Some(url) if user.is_some() => Redirect::to(url.as_str()).into_response(),
        _ => Redirect::to("/").into_response(),
    }
}

#[derive(Template)]
#[template(path = "auth_error.html")]
struct AuthError<'a> {
    message: &'a str,
    at: String,
}

fn failure(status: StatusCode, message: &str) -> Response {
    let page = AuthError {
        message,
        at: chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    }
}
