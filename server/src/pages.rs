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
    /// A form that only serves people who may do this (a team-free action).
    Form(Action<'static>),
    /// A form for work that a team's members do for their own team and platform staff for any
    /// (a new application, an application's drill): platform staff and members of some team.
    TeamForm,
}

/// The rule for a page path (a Leptos route). Reading pages need read access; the forms that
/// create or edit something need the right to do it, so nobody is shown a form that can only
/// refuse them.
pub fn rule(path: &str) -> PageRule {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["audit", ..] => PageRule::AuditLog,
        ["tokens", ..] => PageRule::Tokens,
        ["teams", "new"] => PageRule::Form(Action::ManageTeams),
        ["platforms", "new"] => PageRule::Form(Action::ManagePlatforms),
        ["calendar", "maintenances", "new"] | ["calendar", "maintenances", _, "edit"] => {
            PageRule::Form(Action::ManageCalendar)
        }
        ["applications", "new"] | ["calendar", "drills", "new"] => PageRule::TeamForm,
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
        PageRule::Form(action) => a.may(action),
        PageRule::TeamForm => a.works_for_some_team(),
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
            "You signed in, but your account is not in any group that Demarc knows: a role group, \
             or the group of a team that exists in Demarc. Ask a Demarc administrator to add you \
             to a role group, or a platform engineer to create your team.",
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
