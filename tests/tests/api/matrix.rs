//! The authorization matrix: every route the app serves, called by every kind of person, must
//! answer as the policy says. The routes are enumerated from the app itself (page routes from
//! the Leptos router, server functions from their registry, REST operations from the OpenAPI
//! document), so a new route that is missing from the tables below fails the test by name.
//!
//! The policy is the one of `domain/src/auth.rs` (`Actor::may`) and `server/src/pages.rs`:
//! anonymous people sign in first; people without any group (nobody) see nothing; everybody
//! with access reads the catalogue; team members (alice, team payments) manage their team's
//! applications; auditors (audrey) read everything including the audit log and the token list
//! and change nothing; platform engineers (pat) manage teams, platforms, applications and
//! tokens; administrators (admin) do all of that and read the audit log.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::db::Caller;
use domain::model::{EnvironmentInput, PlatformInput, TeamInput};
use reqwest::header::{LOCATION, ORIGIN};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::{Seed, TestApp};
use uuid::Uuid;

use super::support::{server_fn_name, server_fn_path};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Nobody,
    Alice,
    Audrey,
    Pat,
    Admin,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::Nobody,
    Who::Alice,
    Who::Audrey,
    Who::Pat,
    Who::Admin,
];

impl Who {
    fn user(self) -> Option<&'static str> {
        match self {
            Who::Anonymous => None,
            Who::Nobody => Some("nobody"),
            Who::Alice => Some("alice"),
            Who::Audrey => Some("audrey"),
            Who::Pat => Some("pat"),
            Who::Admin => Some("admin"),
        }
    }

    fn index(self) -> usize {
        EVERYONE.iter().position(|w| *w == self).expect("listed")
    }
}

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in (the caller's own identity).
    SignedIn,
    /// Read the catalogue.
    Read,
    ManageTeams,
    ManagePlatforms,
    /// Change applications of team payments (alice's team).
    ManagePaymentsApps,
    AuditLog,
    /// See the token list: platform staff and auditors.
    TokenList,
    /// Create and revoke tokens (the revoked token is pat's own).
    ManageTokens,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// It works.
    Allowed,
    /// Signed in, but refused (403; a server function's error says "forbidden").
    Denied,
    /// Not signed in: a redirect to the login (pages), 401 (REST; a server function's error
    /// says "unauthenticated").
    SignInFirst,
}

use Outcome::{Allowed as A, Denied as D, SignInFirst as S};

/// The policy, one row per rule, one column per person.
#[rustfmt::skip]
const POLICY: &[(Rule, [Outcome; 6])] = &[
    //                           anonymous nobody alice audrey pat  admin
    (Rule::Public,              [A,        A,     A,    A,     A,   A]),
    (Rule::SignedIn,            [S,        A,     A,    A,     A,   A]),
    (Rule::Read,                [S,        D,     A,    A,     A,   A]),
    (Rule::ManageTeams,         [S,        D,     D,    D,     A,   A]),
    (Rule::ManagePlatforms,     [S,        D,     D,    D,     A,   A]),
    (Rule::ManagePaymentsApps,  [S,        D,     A,    D,     A,   A]),
    (Rule::AuditLog,            [S,        D,     D,    A,     D,   A]),
    (Rule::TokenList,           [S,        D,     D,    A,     A,   A]),
    (Rule::ManageTokens,        [S,        D,     D,    D,     A,   A]),
];

fn expected(rule: Rule, who: Who) -> Outcome {
    POLICY
        .iter()
        .find(|(r, _)| *r == rule)
        .expect("every rule has a row")
        .1[who.index()]
}

/// Every page (GET) and what it needs. `{id}` is replaced by a real id.
const PAGES: &[(&str, Rule)] = &[
    ("/", Rule::Read),
    ("/teams", Rule::Read),
    ("/teams/new", Rule::Read),
    ("/teams/{id}", Rule::Read),
    ("/platforms", Rule::Read),
    ("/platforms/new", Rule::Read),
    ("/platforms/{id}", Rule::Read),
    ("/applications", Rule::Read),
    ("/applications/new", Rule::Read),
    ("/applications/{id}", Rule::Read),
    ("/audit", Rule::AuditLog),
    ("/tokens", Rule::TokenList),
];

/// Every REST operation (method, OpenAPI path) and what it needs.
const REST: &[(&str, &str, Rule)] = &[
    ("GET", "/api/v1/teams", Rule::Read),
    ("POST", "/api/v1/teams", Rule::ManageTeams),
    ("GET", "/api/v1/teams/{id}", Rule::Read),
    ("PUT", "/api/v1/teams/{id}", Rule::ManageTeams),
    ("POST", "/api/v1/teams/{id}/archive", Rule::ManageTeams),
    ("POST", "/api/v1/teams/{id}/restore", Rule::ManageTeams),
    ("GET", "/api/v1/platforms", Rule::Read),
    ("POST", "/api/v1/platforms", Rule::ManagePlatforms),
    ("GET", "/api/v1/platforms/{id}", Rule::Read),
    ("PUT", "/api/v1/platforms/{id}", Rule::ManagePlatforms),
    (
        "POST",
        "/api/v1/platforms/{id}/archive",
        Rule::ManagePlatforms,
    ),
    (
        "POST",
        "/api/v1/platforms/{id}/restore",
        Rule::ManagePlatforms,
    ),
    ("GET", "/api/v1/platforms/{id}/environments", Rule::Read),
    (
        "POST",
        "/api/v1/platforms/{id}/environments",
        Rule::ManagePlatforms,
    ),
    ("GET", "/api/v1/environments/{id}", Rule::Read),
    ("PUT", "/api/v1/environments/{id}", Rule::ManagePlatforms),
    (
        "POST",
        "/api/v1/environments/{id}/archive",
        Rule::ManagePlatforms,
    ),
    (
        "POST",
        "/api/v1/environments/{id}/restore",
        Rule::ManagePlatforms,
    ),
    ("GET", "/api/v1/applications", Rule::Read),
    ("POST", "/api/v1/applications", Rule::ManagePaymentsApps),
    ("GET", "/api/v1/applications/{id}", Rule::Read),
    ("PUT", "/api/v1/applications/{id}", Rule::ManagePaymentsApps),
    (
        "POST",
        "/api/v1/applications/{id}/archive",
        Rule::ManagePaymentsApps,
    ),
    (
        "POST",
        "/api/v1/applications/{id}/restore",
        Rule::ManagePaymentsApps,
    ),
    ("GET", "/api/v1/audit-entries", Rule::AuditLog),
    ("GET", "/api/v1/tokens", Rule::TokenList),
    ("POST", "/api/v1/tokens", Rule::ManageTokens),
    ("POST", "/api/v1/tokens/{id}/revoke", Rule::ManageTokens),
    ("GET", "/api/v1/me", Rule::SignedIn),
];

/// Every server function, what it needs, and the calls made (one per variant).
const SERVER_FNS: &[(&str, Rule, &[&str])] = &[
    ("whoami", Rule::Public, &["call"]),
    ("load_dashboard", Rule::Read, &["call"]),
    ("list_teams", Rule::Read, &["call"]),
    ("load_team", Rule::Read, &["call"]),
    ("save_team", Rule::ManageTeams, &["create", "update"]),
    ("archive_team", Rule::ManageTeams, &["archive", "restore"]),
    ("list_platforms", Rule::Read, &["call"]),
    ("load_platform", Rule::Read, &["call"]),
    (
        "save_platform",
        Rule::ManagePlatforms,
        &["create", "update"],
    ),
    (
        "archive_platform",
        Rule::ManagePlatforms,
        &["archive", "restore"],
    ),
    (
        "save_environment",
        Rule::ManagePlatforms,
        &["create", "update"],
    ),
    (
        "archive_environment",
        Rule::ManagePlatforms,
        &["archive", "restore"],
    ),
    ("list_applications", Rule::Read, &["call"]),
    ("application_choices", Rule::Read, &["call"]),
    ("load_application", Rule::Read, &["call"]),
    (
        "save_application",
        Rule::ManagePaymentsApps,
        &["create", "update"],
    ),
    (
        "archive_application",
        Rule::ManagePaymentsApps,
        &["archive", "restore"],
    ),
    ("audit_log", Rule::AuditLog, &["call"]),
    ("list_tokens", Rule::TokenList, &["call"]),
    ("create_token", Rule::ManageTokens, &["call"]),
    ("revoke_token", Rule::ManageTokens, &["call"]),
];

/// Routes outside the three registries, with the exact status per person
/// (anonymous, nobody, alice, audrey, pat, admin). `/auth/logout` runs last: it ends sessions.
const OTHER_ROUTES: &[(&str, &str, [u16; 6])] = &[
    ("GET", "/api/v1/openapi.json", [200; 6]),
    ("GET", "/api/docs/", [200; 6]),
    // Starts a login at the provider, whoever asks.
    ("GET", "/auth/login", [303; 6]),
    // Without a code and a pending login: the refusal page.
    ("GET", "/auth/callback", [400; 6]),
    ("POST", "/auth/logout", [303; 6]),
];

/// Data the calls work on. Writes go to entities of their own, so that archiving one does not
/// break another route's call.
struct Ctx<'a> {
    app: &'a TestApp,
    seed: Seed,
    /// Updated, archived and restored by the team routes.
    team: Uuid,
    /// Updated, archived and restored by the platform routes.
    platform: Uuid,
    /// An environment of platform core: updated, archived, restored.
    environment: Uuid,
    /// Sets up tokens to revoke.
    pat: Client,
    counter: AtomicUsize,
}

impl Ctx<'_> {
    fn unique(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.counter.fetch_add(1, Ordering::SeqCst))
    }

    async fn version(&self, table: &str, id: Uuid) -> String {
        self.app.version_of(table, id).await.to_string()
    }

    /// A fresh token of pat's, to be revoked.
    async fn pats_token(&self) -> String {
        let response = self
            .pat
            .post(self.app.url("/api/v1/tokens"))
            .header(ORIGIN, self.app.origin())
            .json(
                &json!({ "name": self.unique("revocable"), "scope": "read", "expires_in_days": 1 }),
            )
            .send()
            .await
            .unwrap();
        let (status, body) = tests::json(response).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "pat creates a token to revoke: {body}"
        );
        body["token"]["id"].as_str().unwrap().to_owned()
    }

    fn checkout_placements(&self) -> Value {
        json!([
            { "environment_id": self.seed.staging, "namespace": "payments-checkout" },
            { "environment_id": self.seed.production, "namespace": "payments-checkout" },
        ])
    }
}

struct Failures(Vec<String>);

impl Failures {
    fn add(&mut self, message: String) {
        self.0.push(message);
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_policy_says() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let system = Caller::system();
    let team = domain::teams::create(
        &app.pool,
        &system,
        TeamInput {
            slug: "matrix-team".into(),
            name: "Matrix team".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let platform = domain::platforms::create(
        &app.pool,
        &system,
        PlatformInput {
            slug: "matrix-platform".into(),
            name: "Matrix platform".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let environment = domain::environments::create(
        &app.pool,
        &system,
        seed.core,
        EnvironmentInput {
            slug: "matrix-env".into(),
            name: "Matrix environment".into(),
            position: 5,
            is_production: false,
        },
    )
    .await
    .unwrap();

    let mut clients = Vec::new();
    for who in EVERYONE {
        clients.push(match who.user() {
            None => app.client(),
            Some(user) => app.login(user).await,
        });
    }
    let ctx = Ctx {
        app: &app,
        seed,
        team: team.id,
        platform: platform.id,
        environment: environment.id,
        pat: clients[Who::Pat.index()].clone(),
        counter: AtomicUsize::new(0),
    };
    let mut failures = Failures(vec![]);

    check_pages(&ctx, &clients, &mut failures).await;
    check_rest(&ctx, &clients, &mut failures).await;
    check_server_fns(&ctx, &clients, &mut failures).await;
    check_other_routes(&ctx, &clients, &mut failures).await;

    assert!(
        failures.0.is_empty(),
        "{} route(s) do not answer as the policy says:\n  {}",
        failures.0.len(),
        failures.0.join("\n  ")
    );
}

// ---- pages ----------------------------------------------------------------------------------

async fn check_pages(ctx: &Ctx<'_>, clients: &[Client], failures: &mut Failures) {
    let served: BTreeSet<String> = tests::generate_route_list()
        .await
        .iter()
        .filter(|route| route.methods().any(|m| m == leptos_router::Method::Get))
        .map(|route| normalize_page_path(route.path()))
        .collect();
    let listed: BTreeSet<String> = PAGES.iter().map(|(p, _)| (*p).to_owned()).collect();
    for missing in served.difference(&listed) {
        failures.add(format!(
            "page {missing} is served by the app but missing from PAGES: add its rule"
        ));
    }
    for stale in listed.difference(&served) {
        failures.add(format!(
            "page {stale} is in PAGES but the app does not serve it"
        ));
    }
    for (template, rule) in PAGES {
        let path = match *template {
            "/teams/{id}" => format!("/teams/{}", ctx.seed.payments),
            "/platforms/{id}" => format!("/platforms/{}", ctx.seed.core),
            "/applications/{id}" => format!("/applications/{}", ctx.seed.checkout),
            other if other.contains('{') => {
                failures.add(format!(
                    "page {other}: no id to fill in; add one in check_pages"
                ));
                continue;
            }
            other => other.to_owned(),
        };
        for who in EVERYONE {
            let response = match clients[who.index()].get(ctx.app.url(&path)).send().await {
                Ok(response) => response,
                Err(e) => {
                    failures.add(format!("page GET {template} as {who:?}: no answer: {e}"));
                    continue;
                }
            };
            let status = response.status();
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let html = response.text().await.unwrap_or_default();
            let want = expected(*rule, who);
            let ok = match want {
                Outcome::Allowed => status == StatusCode::OK && !html.contains("alert-error"),
                Outcome::Denied => status == StatusCode::FORBIDDEN,
                Outcome::SignInFirst => {
                    status.is_redirection()
                        && location
                            .as_deref()
                            .is_some_and(|l| l.starts_with("/auth/login?next="))
                }
            };
            if !ok {
                let detail = if status.is_redirection() {
                    format!("redirect to {location:?}")
                } else if html.contains("alert-error") {
                    format!("an error on the page: {}", excerpt(&html, "alert-error"))
                } else {
                    String::new()
                };
                failures.add(format!(
                    "page GET {template} as {who:?}: expected {want:?}, got {status} {detail}"
                ));
            }
        }
    }
}

/// `/teams/:id` (Leptos) and `/teams/{id}` (axum) both become `/teams/{id}`.
fn normalize_page_path(path: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    path.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn excerpt(html: &str, marker: &str) -> String {
    let at = html.find(marker).unwrap_or(0);
    let end = (at + 200).min(html.len());
    let mut end = end;
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    html[at..end].to_owned()
}

// ---- REST -----------------------------------------------------------------------------------

async fn check_rest(ctx: &Ctx<'_>, clients: &[Client], failures: &mut Failures) {
    let (_, openapi) = server::api::router();
    let doc = serde_json::to_value(&openapi).expect("the OpenAPI document serializes");
    let mut served = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                served.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let listed: BTreeSet<(String, String)> = REST
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    for (method, path) in served.difference(&listed) {
        failures.add(format!(
            "REST {method} {path} is in the OpenAPI document but missing from REST: add its rule"
        ));
    }
    for (method, path) in listed.difference(&served) {
        failures.add(format!(
            "REST {method} {path} is in REST but not in the OpenAPI document"
        ));
    }

    for (method, template, rule) in REST {
        for who in EVERYONE {
            let Some((path, body, if_match)) = rest_call(ctx, method, template).await else {
                failures.add(format!(
                    "REST {method} {template}: no request defined in rest_call"
                ));
                break;
            };
            let mut request = clients[who.index()]
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    ctx.app.url(&path),
                )
                .header(ORIGIN, ctx.app.origin());
            if let Some(body) = &body {
                request = request.json(body);
            }
            if let Some(version) = if_match {
                request = request.header("if-match", format!("\"{version}\""));
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    failures.add(format!(
                        "REST {method} {template} as {who:?}: no answer: {e}"
                    ));
                    continue;
                }
            };
            let (status, answer) = tests::json(response).await;
            let want = expected(*rule, who);
            let wanted_status = match want {
                Outcome::Allowed
                    if *method == "POST"
                        && !template.ends_with("}/archive")
                        && !template.ends_with("}/restore")
                        && !template.ends_with("}/revoke") =>
                {
                    StatusCode::CREATED
                }
                Outcome::Allowed => StatusCode::OK,
                Outcome::Denied => StatusCode::FORBIDDEN,
                Outcome::SignInFirst => StatusCode::UNAUTHORIZED,
            };
            if status != wanted_status {
                failures.add(format!(
                    "REST {method} {template} as {who:?}: expected {wanted_status} ({want:?}), got {status}: {answer}"
                ));
            }
        }
    }
}

/// The concrete path, JSON body and If-Match version of one call of a REST operation.
async fn rest_call(
    ctx: &Ctx<'_>,
    method: &str,
    template: &str,
) -> Option<(String, Option<Value>, Option<String>)> {
    let s = &ctx.seed;
    let call = match (method, template) {
        (
            "GET",
            "/api/v1/teams"
            | "/api/v1/platforms"
            | "/api/v1/applications"
            | "/api/v1/audit-entries",
        )
        | ("GET", "/api/v1/tokens" | "/api/v1/me") => (template.to_owned(), None, None),
        ("POST", "/api/v1/teams") => (
            template.to_owned(),
            Some(json!({ "slug": ctx.unique("rest-team"), "name": "Matrix" })),
            None,
        ),
        ("GET", "/api/v1/teams/{id}") => (format!("/api/v1/teams/{}", ctx.team), None, None),
        ("PUT", "/api/v1/teams/{id}") => (
            format!("/api/v1/teams/{}", ctx.team),
            Some(json!({ "slug": "matrix-team", "name": ctx.unique("Matrix team") })),
            Some(ctx.version("teams", ctx.team).await),
        ),
        ("POST", "/api/v1/teams/{id}/archive") => (
            format!("/api/v1/teams/{}/archive", ctx.team),
            None,
            Some(ctx.version("teams", ctx.team).await),
        ),
        ("POST", "/api/v1/teams/{id}/restore") => (
            format!("/api/v1/teams/{}/restore", ctx.team),
            None,
            Some(ctx.version("teams", ctx.team).await),
        ),
        ("POST", "/api/v1/platforms") => (
            template.to_owned(),
            Some(json!({ "slug": ctx.unique("rest-platform"), "name": "Matrix" })),
            None,
        ),
        ("GET", "/api/v1/platforms/{id}") => {
            (format!("/api/v1/platforms/{}", ctx.platform), None, None)
        }
        ("PUT", "/api/v1/platforms/{id}") => (
            format!("/api/v1/platforms/{}", ctx.platform),
            Some(json!({ "slug": "matrix-platform", "name": ctx.unique("Matrix platform") })),
            Some(ctx.version("platforms", ctx.platform).await),
        ),
        ("POST", "/api/v1/platforms/{id}/archive") => (
            format!("/api/v1/platforms/{}/archive", ctx.platform),
            None,
            Some(ctx.version("platforms", ctx.platform).await),
        ),
        ("POST", "/api/v1/platforms/{id}/restore") => (
            format!("/api/v1/platforms/{}/restore", ctx.platform),
            None,
            Some(ctx.version("platforms", ctx.platform).await),
        ),
        ("GET", "/api/v1/platforms/{id}/environments") => (
            format!("/api/v1/platforms/{}/environments", s.core),
            None,
            None,
        ),
        ("POST", "/api/v1/platforms/{id}/environments") => (
            format!("/api/v1/platforms/{}/environments", s.core),
            Some(json!({ "slug": ctx.unique("rest-env"), "name": "Matrix", "position": 7 })),
            None,
        ),
        ("GET", "/api/v1/environments/{id}") => (
            format!("/api/v1/environments/{}", ctx.environment),
            None,
            None,
        ),
        ("PUT", "/api/v1/environments/{id}") => (
            format!("/api/v1/environments/{}", ctx.environment),
            Some(
                json!({ "slug": "matrix-env", "name": ctx.unique("Matrix environment"), "position": 5 }),
            ),
            Some(ctx.version("environments", ctx.environment).await),
        ),
        ("POST", "/api/v1/environments/{id}/archive") => (
            format!("/api/v1/environments/{}/archive", ctx.environment),
            None,
            Some(ctx.version("environments", ctx.environment).await),
        ),
        ("POST", "/api/v1/environments/{id}/restore") => (
            format!("/api/v1/environments/{}/restore", ctx.environment),
            None,
            Some(ctx.version("environments", ctx.environment).await),
        ),
        ("POST", "/api/v1/applications") => (
            template.to_owned(),
            Some(
                json!({ "team_id": s.payments, "slug": ctx.unique("rest-app"), "name": "Matrix" }),
            ),
            None,
        ),
        ("GET", "/api/v1/applications/{id}") => {
            (format!("/api/v1/applications/{}", s.checkout), None, None)
        }
        ("PUT", "/api/v1/applications/{id}") => (
            format!("/api/v1/applications/{}", s.checkout),
            Some(
                json!({ "team_id": s.payments, "slug": "checkout", "name": ctx.unique("Checkout"),
                         "placements": ctx.checkout_placements() }),
            ),
            Some(ctx.version("applications", s.checkout).await),
        ),
        ("POST", "/api/v1/applications/{id}/archive") => (
            format!("/api/v1/applications/{}/archive", s.checkout),
            None,
            Some(ctx.version("applications", s.checkout).await),
        ),
        ("POST", "/api/v1/applications/{id}/restore") => (
            format!("/api/v1/applications/{}/restore", s.checkout),
            None,
            Some(ctx.version("applications", s.checkout).await),
        ),
        ("POST", "/api/v1/tokens") => (
            template.to_owned(),
            Some(
                json!({ "name": ctx.unique("matrix token"), "scope": "read", "expires_in_days": 1 }),
            ),
            None,
        ),
        ("POST", "/api/v1/tokens/{id}/revoke") => (
            format!("/api/v1/tokens/{}/revoke", ctx.pats_token().await),
            None,
            None,
        ),
        _ => return None,
    };
    Some(call)
}

// ---- server functions -------------------------------------------------------------------------

async fn check_server_fns(ctx: &Ctx<'_>, clients: &[Client], failures: &mut Failures) {
    let mut served: BTreeMap<String, String> = BTreeMap::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let name = server_fn_name(path).unwrap_or(path).to_owned();
        if method != http::Method::POST {
            failures.add(format!(
                "server function {name} ({path}) uses {method}: the matrix expects POST"
            ));
        }
        served.insert(name, path.to_owned());
    }
    let listed: BTreeSet<&str> = SERVER_FNS.iter().map(|(n, _, _)| *n).collect();
    for (name, path) in &served {
        if !listed.contains(name.as_str()) {
            failures.add(format!("server function {name} ({path}) is registered but missing from SERVER_FNS: add its rule"));
        }
    }
    for name in &listed {
        if !served.contains_key(*name) {
            failures.add(format!(
                "server function {name} is in SERVER_FNS but the app does not register it"
            ));
        }
    }

    for (name, rule, variants) in SERVER_FNS {
        if !served.contains_key(*name) {
            continue;
        }
        let path = server_fn_path(name);
        for variant in *variants {
            for who in EVERYONE {
                let Some(args) = server_fn_args(ctx, name, variant).await else {
                    failures.add(format!(
                        "server function {name} ({variant}): no arguments defined in server_fn_args"
                    ));
                    break;
                };
                let response = clients[who.index()]
                    .post(ctx.app.url(&path))
                    .header(ORIGIN, ctx.app.origin())
                    .form(&args)
                    .send()
                    .await;
                let response = match response {
                    Ok(response) => response,
                    Err(e) => {
                        failures.add(format!(
                            "server function {name} ({variant}) as {who:?}: no answer: {e}"
                        ));
                        continue;
                    }
                };
                let (status, answer) = tests::json(response).await;
                // What a script calling the function sees: the status and the error's kind.
                let got = match (status.as_u16(), answer["kind"].as_str()) {
                    (200..=299, _) => Some(Outcome::Allowed),
                    (403, Some("forbidden")) => Some(Outcome::Denied),
                    (401, Some("unauthenticated")) => Some(Outcome::SignInFirst),
                    _ => None,
                };
                let want = expected(*rule, who);
                if got != Some(want) {
                    failures.add(format!(
                        "server function {name} ({variant}) as {who:?}: expected {want:?}, got {status}: {answer}"
                    ));
                }
            }
        }
    }
}

/// Form arguments of one call of a server function.
async fn server_fn_args(ctx: &Ctx<'_>, name: &str, variant: &str) -> Option<Vec<(String, String)>> {
    let s = &ctx.seed;
    let pairs = |items: &[(&str, String)]| {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Vec<_>>()
    };
    let args = match (name, variant) {
        (
            "whoami" | "load_dashboard" | "application_choices" | "audit_log" | "list_tokens",
            "call",
        ) => vec![],
        ("list_teams", "call") => {
            pairs(&[("include_archived", "false".into()), ("page", "1".into())])
        }
        ("load_team", "call") => pairs(&[("id", s.payments.to_string())]),
        ("save_team", "create") => pairs(&[
            ("slug", ctx.unique("fn-team")),
            ("name", "Matrix".into()),
            ("description", String::new()),
            ("contact", String::new()),
        ]),
        ("save_team", "update") => pairs(&[
            ("id", ctx.team.to_string()),
            ("version", ctx.version("teams", ctx.team).await),
            ("slug", "matrix-team".into()),
            ("name", ctx.unique("Matrix team")),
            ("description", String::new()),
            ("contact", String::new()),
        ]),
        ("archive_team", "archive" | "restore") => pairs(&[
            ("id", ctx.team.to_string()),
            ("version", ctx.version("teams", ctx.team).await),
            ("archive", (variant == "archive").to_string()),
        ]),
        ("list_platforms", "call") => pairs(&[("include_archived", "false".into())]),
        ("load_platform", "call") => pairs(&[("id", s.core.to_string())]),
        ("save_platform", "create") => pairs(&[
            ("slug", ctx.unique("fn-platform")),
            ("name", "Matrix".into()),
            ("description", String::new()),
        ]),
        ("save_platform", "update") => pairs(&[
            ("id", ctx.platform.to_string()),
            ("version", ctx.version("platforms", ctx.platform).await),
            ("slug", "matrix-platform".into()),
            ("name", ctx.unique("Matrix platform")),
            ("description", String::new()),
        ]),
        ("archive_platform", "archive" | "restore") => pairs(&[
            ("id", ctx.platform.to_string()),
            ("version", ctx.version("platforms", ctx.platform).await),
            ("archive", (variant == "archive").to_string()),
        ]),
        ("save_environment", "create") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("slug", ctx.unique("fn-env")),
            ("name", "Matrix".into()),
            ("position", "8".into()),
        ]),
        ("save_environment", "update") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("id", ctx.environment.to_string()),
            (
                "version",
                ctx.version("environments", ctx.environment).await,
            ),
            ("slug", "matrix-env".into()),
            ("name", ctx.unique("Matrix environment")),
            ("position", "5".into()),
        ]),
        ("archive_environment", "archive" | "restore") => pairs(&[
            ("id", ctx.environment.to_string()),
            (
                "version",
                ctx.version("environments", ctx.environment).await,
            ),
            ("archive", (variant == "archive").to_string()),
        ]),
        ("list_applications", "call") => {
            pairs(&[("include_archived", "false".into()), ("page", "1".into())])
        }
        ("load_application", "call") => pairs(&[("id", s.checkout.to_string())]),
        ("save_application", "create") => {
            let slug = ctx.unique("fn-app");
            pairs(&[
                ("team_id", s.payments.to_string()),
                ("slug", slug.clone()),
                ("name", "Matrix".into()),
                ("description", String::new()),
                ("placements[0][environment_id]", s.staging.to_string()),
                ("placements[0][namespaces]", slug),
            ])
        }
        ("save_application", "update") => pairs(&[
            ("id", s.checkout.to_string()),
            ("version", ctx.version("applications", s.checkout).await),
            ("team_id", s.payments.to_string()),
            ("slug", "checkout".into()),
            ("name", ctx.unique("Checkout")),
            ("description", String::new()),
            ("placements[0][environment_id]", s.staging.to_string()),
            ("placements[0][namespaces]", "payments-checkout".into()),
            ("placements[1][environment_id]", s.production.to_string()),
            ("placements[1][namespaces]", "payments-checkout".into()),
        ]),
        ("archive_application", "archive" | "restore") => pairs(&[
            ("id", s.checkout.to_string()),
            ("version", ctx.version("applications", s.checkout).await),
            ("archive", (variant == "archive").to_string()),
        ]),
        ("create_token", "call") => pairs(&[
            ("name", ctx.unique("fn token")),
            ("scope", "read".into()),
            ("expires_in_days", "1".into()),
        ]),
        ("revoke_token", "call") => pairs(&[("id", ctx.pats_token().await)]),
        _ => return None,
    };
    Some(args)
}

// ---- the rest ---------------------------------------------------------------------------------

async fn check_other_routes(ctx: &Ctx<'_>, clients: &[Client], failures: &mut Failures) {
    for (method, path, statuses) in OTHER_ROUTES {
        for who in EVERYONE {
            let response = clients[who.index()]
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    ctx.app.url(path),
                )
                .header(ORIGIN, ctx.app.origin())
                .send()
                .await;
            let response = match response {
                Ok(response) => response,
                Err(e) => {
                    failures.add(format!("{method} {path} as {who:?}: no answer: {e}"));
                    continue;
                }
            };
            let status = response.status().as_u16();
            let want = statuses[who.index()];
            if status != want {
                let body = response.text().await.unwrap_or_default();
                let body: String = body.chars().take(300).collect();
                failures.add(format!(
                    "{method} {path} as {who:?}: expected {want}, got {status}: {body}"
                ));
            }
        }
    }
}
