//! Server-side access control for the UI's pages. Every page needs a signed-in person with some
//! access; some pages need more. Hiding a link is not enough: this guard runs before rendering.

use askama::Template;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::Action;
use domain::db::Caller;

/// What a page needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRule {
    /// Anyone with some access to Demarc.
    Read,
    /// Administrators and auditors.
    AuditLog,
    /// Platform staff and auditors (token list).
    Tokens,
}

/// The rule for a page path (a Leptos route).
pub fn rule(path: &str) -> PageRule {
    match path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
    {
        "audit" => PageRule::AuditLog,
        "tokens" => PageRule::Tokens,
        _ => PageRule::Read,
    }
}

/// True when the actor satisfies the rule.
pub fn allows(rule: PageRule, caller: &Caller) -> bool {
    let a = &caller.actor;
    match rule {
        PageRule::Read => a.may(Action::Read),
        PageRule::AuditLog => a.may(Action::ReadAuditLog),
        PageRule::Tokens => a.may(Action::ManageTokens) || a.has(domain::Role::Auditor),
    }
}

#[derive(Template)]
#[template(path = "denied.html")]
struct Denied<'a> {
    title: &'a str,
    message: &'a str,
    name: &'a str,
}

/// The guard for page requests (mounted on the Leptos routes only).
pub async fn guard(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/auth/login?next={next_param}")).into_response();
    };
    let rule = rule(&path);
    if allows(rule, &caller) {
        return next.run(req).await;
    }
    let (title, message) = if !caller.actor.has_access() {
        (
            "No access yet",
            "You signed in, but your account is not in any group that Demarc knows. Ask a Demarc \
             administrator to add you to your team's group or to a role group.",
        )
    } else {
        (
            "Not for your role",
            "This page is for other roles. Your role does not include it.",
        )
    };
    let page = Denied {
        title,
        message,
        name: &caller.actor.name,
    };
    let html = page.render().unwrap_or_else(|_| message.to_owned());
    (StatusCode::FORBIDDEN, Html(html)).into_response()
}
