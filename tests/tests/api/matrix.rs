//! The authorization matrix: every route the app serves, called by every kind of person, must
//! answer as the policy says. The routes are enumerated from the app itself (page routes from
//! the Leptos router, server functions from their registry, REST operations from the OpenAPI
//! document), so a new route that is missing from the tables below fails the test by name.
//!
//! The policy is the one of `domain/src/auth.rs` (`Actor::may`) and `server/src/pages.rs`:
//! anonymous people sign in first; people without any group (nobody) see nothing; everybody
//! with access reads the catalogue; team members (alice, team payments) manage their team's
//! applications, and a member of another team (bob) reads them but changes nothing of theirs;
//! auditors (audrey) read everything including the audit log and the token list and change
//! nothing; platform engineers (pat) manage teams, platforms, applications and tokens;
//! administrators (admin) do all of that and read the audit log. Platform scope: pat and admin
//! edit and publish it; team members acknowledge it for their own team only (alice for
//! payments; platform engineers do not acknowledge for teams); everyone with access reads it.
//! The forms that create or edit something are refused to those who could not submit them.
//! Routes registered outside the three registries come from `server::other_routes()`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::db::Caller;
use domain::model::{EnvironmentInput, PlatformInput, TeamInput};
use domain::scope::{
    ApplyTemplateInput, AuditKind, AuditStatus, PublishInput, ScopeAuditInput, ScopeItemInput,
    TemplateInput, TenantRuleInput, audits, store,
};
use reqwest::header::{LOCATION, ORIGIN};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::{Seed, TestApp};
use uuid::Uuid;

use super::support::{server_fn_name, server_fn_path};

mod calendar;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Nobody,
    Alice,
    /// A member of another team (search): reads everything, changes nothing of payments.
    Bob,
    Audrey,
    Pat,
    Admin,
}

/// A kubectl List with one Deployment that names no namespace: uploaded to a review, it lands in
/// the application's only namespace there (an upload without a workload there is refused).
const UPLOAD: &str = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"registry.example.com/web:1.0.0"}]}}}}]}"#;

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::Nobody,
    Who::Alice,
    Who::Bob,
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
            Who::Bob => Some("bob"),
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
    /// Edit and publish platform scope, templates and audits of what is outside the fence.
    EditScope,
    /// Acknowledge a scope revision for team payments (alice's team): its members only.
    AcknowledgePayments,
    /// Checklist templates, cluster connections, waivers, the platform's sign-off.
    ManageGoLive,
    /// Work on the go-live reviews of team payments' applications: members and platform staff.
    GoLivePayments,
    /// Sign a review off for team payments: its members only.
    SignOffPayments,
    /// Plans, blackouts, maintenances, platform drills and feeds: platform staff.
    ManageCalendar,
    /// Team payments' e-mail recipients, feed and application drills: members and staff.
    CalendarPayments,
    /// A form for some team's work (a new application, an application's drill): platform staff
    /// and members of any team.
    TeamForm,
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
const POLICY: &[(Rule, [Outcome; 7])] = &[
    //                           anonymous nobody alice bob  audrey pat  admin
    (Rule::Public,              [A,        A,     A,    A,    A,     A,   A]),
    (Rule::SignedIn,            [S,        A,     A,    A,    A,     A,   A]),
    (Rule::Read,                [S,        D,     A,    A,    A,     A,   A]),
    (Rule::ManageTeams,         [S,        D,     D,    D,    D,     A,   A]),
    (Rule::ManagePlatforms,     [S,        D,     D,    D,    D,     A,   A]),
    (Rule::ManagePaymentsApps,  [S,        D,     A,    D,    D,     A,   A]),
    (Rule::AuditLog,            [S,        D,     D,    D,    A,     D,   A]),
    (Rule::TokenList,           [S,        D,     D,    D,    A,     A,   A]),
    (Rule::ManageTokens,        [S,        D,     D,    D,    D,     A,   A]),
    (Rule::EditScope,           [S,        D,     D,    D,    D,     A,   A]),
    (Rule::AcknowledgePayments, [S,        D,     A,    D,    D,     D,   D]),
    (Rule::ManageGoLive,        [S,        D,     D,    D,    D,     A,   A]),
    (Rule::GoLivePayments,      [S,        D,     A,    D,    D,     A,   A]),
    (Rule::SignOffPayments,     [S,        D,     A,    D,    D,     D,   D]),
    (Rule::ManageCalendar,      [S,        D,     D,    D,    D,     A,   A]),
    (Rule::CalendarPayments,    [S,        D,     A,    D,    D,     A,   A]),
    (Rule::TeamForm,            [S,        D,     A,    A,    D,     A,   A]),
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
    ("/teams/new", Rule::ManageTeams),
    ("/teams/{id}", Rule::Read),
    ("/platforms", Rule::Read),
    ("/platforms/new", Rule::ManagePlatforms),
    ("/platforms/{id}", Rule::Read),
    ("/applications", Rule::Read),
    ("/applications/new", Rule::TeamForm),
    ("/applications/{id}", Rule::Read),
    ("/audit", Rule::AuditLog),
    ("/tokens", Rule::TokenList),
    ("/scope", Rule::Read),
    ("/scope/audits", Rule::Read),
    ("/scope/audits/{id}", Rule::Read),
    ("/platforms/{id}/scope", Rule::Read),
    ("/platforms/{id}/scope/draft", Rule::Read),
    ("/platforms/{id}/scope/diff", Rule::Read),
    ("/golive", Rule::Read),
    ("/golive/clusters", Rule::Read),
    ("/golive/reviews/{id}", Rule::Read),
    ("/golive/reviews/{id}/frozen", Rule::Read),
    ("/platforms/{id}/checklist", Rule::Read),
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
    ("GET", "/api/v1/platforms/{id}/scope", Rule::Read),
    ("GET", "/api/v1/platforms/{id}/scope/draft", Rule::Read),
    (
        "POST",
        "/api/v1/platforms/{id}/scope/items",
        Rule::EditScope,
    ),
    (
        "PUT",
        "/api/v1/platforms/{id}/scope/items/{item_id}",
        Rule::EditScope,
    ),
    (
        "DELETE",
        "/api/v1/platforms/{id}/scope/items/{item_id}",
        Rule::EditScope,
    ),
    (
        "POST",
        "/api/v1/platforms/{id}/scope/rules",
        Rule::EditScope,
    ),
    (
        "PUT",
        "/api/v1/platforms/{id}/scope/rules/{rule_id}",
        Rule::EditScope,
    ),
    (
        "DELETE",
        "/api/v1/platforms/{id}/scope/rules/{rule_id}",
        Rule::EditScope,
    ),
    (
        "POST",
        "/api/v1/platforms/{id}/scope/apply-template",
        Rule::EditScope,
    ),
    ("GET", "/api/v1/platforms/{id}/scope/revisions", Rule::Read),
    (
        "POST",
        "/api/v1/platforms/{id}/scope/revisions",
        Rule::EditScope,
    ),
    (
        "GET",
        "/api/v1/platforms/{id}/scope/revisions/{number}",
        Rule::Read,
    ),
    ("GET", "/api/v1/platforms/{id}/scope/diff", Rule::Read),
    (
        "GET",
        "/api/v1/platforms/{id}/scope/acknowledgements",
        Rule::Read,
    ),
    (
        "POST",
        "/api/v1/platforms/{id}/scope/acknowledgements",
        Rule::AcknowledgePayments,
    ),
    ("GET", "/api/v1/platforms/{id}/scope/export.csv", Rule::Read),
    ("GET", "/api/v1/scope-templates", Rule::Read),
    ("POST", "/api/v1/scope-templates", Rule::EditScope),
    ("DELETE", "/api/v1/scope-templates/{id}", Rule::EditScope),
    ("GET", "/api/v1/scope-audits", Rule::Read),
    (
        "POST",
        "/api/v1/platforms/{id}/scope/audits",
        Rule::EditScope,
    ),
    ("GET", "/api/v1/scope-audits/{id}", Rule::Read),
    ("PUT", "/api/v1/scope-audits/{id}", Rule::EditScope),
    (
        "GET",
        "/api/v1/platforms/{id}/checklist-template",
        Rule::Read,
    ),
    (
        "PUT",
        "/api/v1/platforms/{id}/checklist-template",
        Rule::ManageGoLive,
    ),
    (
        "GET",
        "/api/v1/platforms/{id}/checklist-template/versions",
        Rule::Read,
    ),
    ("GET", "/api/v1/golive/board", Rule::Read),
    ("POST", "/api/v1/golive/reviews", Rule::GoLivePayments),
    ("GET", "/api/v1/golive/reviews/{id}", Rule::Read),
    (
        "POST",
        "/api/v1/golive/reviews/{id}/withdraw",
        Rule::GoLivePayments,
    ),
    (
        "PUT",
        "/api/v1/golive/reviews/{id}/items/{key}",
        Rule::GoLivePayments,
    ),
    (
        "POST",
        "/api/v1/golive/reviews/{id}/items/{key}/waivers",
        Rule::ManageGoLive,
    ),
    ("DELETE", "/api/v1/golive/waivers/{id}", Rule::ManageGoLive),
    (
        "POST",
        "/api/v1/golive/reviews/{id}/signoffs",
        Rule::SignOffPayments,
    ),
    ("GET", "/api/v1/golive/reviews/{id}/frozen", Rule::Read),
    (
        "POST",
        "/api/v1/golive/reviews/{id}/items/{key}/files",
        Rule::GoLivePayments,
    ),
    ("GET", "/api/v1/golive/files/{id}", Rule::Read),
    (
        "POST",
        "/api/v1/golive/reviews/{id}/runs",
        Rule::GoLivePayments,
    ),
    ("GET", "/api/v1/golive/reviews/{id}/runs", Rule::Read),
    ("GET", "/api/v1/golive/runs/{id}", Rule::Read),
    ("GET", "/api/v1/golive/runs/{id}/results", Rule::Read),
    (
        "POST",
        "/api/v1/golive/reviews/{id}/uploads",
        Rule::GoLivePayments,
    ),
    ("POST", "/api/v1/check-reports", Rule::GoLivePayments),
    (
        "GET",
        "/api/v1/environments/{id}/cluster-connection",
        Rule::Read,
    ),
    (
        "PUT",
        "/api/v1/environments/{id}/cluster-connection",
        Rule::ManageGoLive,
    ),
    (
        "DELETE",
        "/api/v1/environments/{id}/cluster-connection",
        Rule::ManageGoLive,
    ),
    (
        "POST",
        "/api/v1/environments/{id}/cluster-connection/test",
        Rule::ManageGoLive,
    ),
    ("GET", "/api/v1/teams/{id}/webhooks", Rule::Read),
    ("POST", "/api/v1/teams/{id}/webhooks", Rule::GoLivePayments),
    ("DELETE", "/api/v1/webhooks/{id}", Rule::GoLivePayments),
    ("GET", "/api/v1/teams/{id}/deliveries", Rule::Read),
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
    ("audit_facets", Rule::AuditLog, &["call"]),
    ("list_tokens", Rule::TokenList, &["call"]),
    ("create_token", Rule::ManageTokens, &["call"]),
    ("revoke_token", Rule::ManageTokens, &["call"]),
    ("load_scope_index", Rule::Read, &["call"]),
    ("load_scope", Rule::Read, &["call"]),
    ("load_scope_draft", Rule::Read, &["call"]),
    ("load_scope_diff", Rule::Read, &["call"]),
    ("save_scope_item", Rule::EditScope, &["create", "update"]),
    ("delete_scope_item", Rule::EditScope, &["call"]),
    ("save_tenant_rule", Rule::EditScope, &["create", "update"]),
    ("delete_tenant_rule", Rule::EditScope, &["call"]),
    ("apply_scope_template", Rule::EditScope, &["call"]),
    ("publish_scope", Rule::EditScope, &["call"]),
    ("save_scope_template", Rule::EditScope, &["call"]),
    ("acknowledge_scope", Rule::AcknowledgePayments, &["call"]),
    ("load_scope_audits", Rule::Read, &["call"]),
    ("load_scope_audit", Rule::Read, &["call"]),
    ("save_scope_audit", Rule::EditScope, &["create", "update"]),
    ("load_board", Rule::Read, &["call"]),
    ("load_golive_attention", Rule::Read, &["call"]),
    ("open_review", Rule::GoLivePayments, &["call"]),
    ("load_review", Rule::Read, &["call"]),
    ("load_run", Rule::Read, &["call"]),
    ("request_run", Rule::GoLivePayments, &["call"]),
    ("upload_run", Rule::GoLivePayments, &["call"]),
    ("attest_item", Rule::GoLivePayments, &["call"]),
    ("waive_item", Rule::ManageGoLive, &["call"]),
    ("revoke_waiver", Rule::ManageGoLive, &["call"]),
    ("sign_off", Rule::SignOffPayments, &["call"]),
    ("withdraw_review", Rule::GoLivePayments, &["call"]),
    ("load_frozen", Rule::Read, &["call"]),
    ("load_checklist", Rule::Read, &["call"]),
    (
        "save_checklist_item",
        Rule::ManageGoLive,
        &["create", "update"],
    ),
    ("remove_checklist_item", Rule::ManageGoLive, &["call"]),
    ("load_clusters", Rule::Read, &["call"]),
    ("save_connection", Rule::ManageGoLive, &["call"]),
    ("test_connection", Rule::ManageGoLive, &["call"]),
    ("remove_connection", Rule::ManageGoLive, &["call"]),
    ("add_webhook", Rule::GoLivePayments, &["call"]),
    ("remove_webhook", Rule::GoLivePayments, &["call"]),
];

/// Routes outside the three registries, with the exact status per person
/// (anonymous, nobody, alice, bob, audrey, pat, admin). `/auth/logout` runs last: it ends sessions.
/// `{core}` is replaced by platform core's id.
const OTHER_ROUTES: &[(&str, &str, [u16; 7])] = &[
    // The printable scope statement (askama, behind the page guard): anonymous people are sent
    // to the login, people without access get the "no access" page.
    (
        "GET",
        "/platforms/{core}/scope/statement",
        [303, 403, 200, 200, 200, 200, 200],
    ),
    (
        "GET",
        "/platforms/{core}/scope/statement?as_of=2000-01-01",
        [303, 403, 200, 200, 200, 200, 200],
    ),
    ("GET", "/api/v1/openapi.json", [200; 7]),
    ("GET", "/api/docs/", [200; 7]),
    // Any other path under /api: the API's JSON 404, whoever asks.
    ("GET", "/api/v1/no-such-thing", [404; 7]),
    // Starts a login at the provider, whoever asks.
    ("GET", "/auth/login", [303; 7]),
    // Without a code and a pending login: the refusal page.
    ("GET", "/auth/callback", [400; 7]),
    // ICS feeds: calendar clients cannot sign in; the secret in the URL is the credential.
    ("GET", "/ics/{feed}", [200; 7]),
    ("GET", "/ics/not-a-feed.ics", [404; 7]),
    // The review page's file form (multipart; this empty post is refused by field and sent
    // back): anonymous people go to the login, read-only people are refused before the body.
    (
        "POST",
        "/golive/evidence",
        [303, 403, 303, 303, 403, 303, 303],
    ),
    ("POST", "/auth/logout", [303; 7]),
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
    golive: GoLiveFixtures,
    calendar: calendar::Fixtures,
}

/// Go-live things the read routes look at, made once.
struct GoLiveFixtures {
    /// An approved review (frozen evidence).
    approved: Uuid,
    /// An evidence file.
    file: Uuid,
    /// A finished verification run (an upload).
    run: Uuid,
}

/// Alice's team, as the system: signs off for team payments in the set-up.
fn payments_member() -> Caller {
    Caller {
        actor: domain::Actor {
            kind: domain::ActorKind::System,
            name: "Matrix payments member".into(),
            roles: vec![],
            teams: vec!["payments".into()],
            can_write: true,
        },
        request_id: None,
    }
}

async fn golive_setup(app: &TestApp, seed: &Seed) -> GoLiveFixtures {
    use domain::golive::model::{
        AttestInput, ConnectionInput, ItemDef, SignoffSide, TemplateInput,
    };
    use domain::golive::{connections, runs, store};
    let system = Caller::system();
    let now = chrono::Utc::now();
    let items: Vec<ItemDef> = serde_json::from_value(golive_items()).unwrap();
    store::save_template(
        &app.pool,
        &system,
        seed.core,
        TemplateInput {
            items,
            note: String::new(),
            base_version: 0,
        },
    )
    .await
    .unwrap();
    connections::set(
        &app.pool,
        &system,
        &app.state.secrets,
        seed.production,
        ConnectionInput {
            mode: "token".into(),
            server_url: "http://127.0.0.1:9".into(),
            secret: "matrix-token".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let review = store::open_review(&app.pool, &system, seed.checkout, seed.production, now)
        .await
        .unwrap();
    let file = store::upload_file(
        &app.pool,
        &system,
        review.id,
        "evidence",
        "report.txt",
        "text/plain",
        b"42",
    )
    .await
    .unwrap();
    store::attest(
        &app.pool,
        &system,
        review.id,
        "evidence",
        AttestInput {
            status: "passed".into(),
            note: "Report 42".into(),
            file_id: Some(file),
            version: 1,
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    let run = runs::upload(
        &app.pool,
        &system,
        review.id,
        "list.json",
        UPLOAD.into(),
        now,
    )
    .await
    .unwrap()
    .id;
    store::sign_off(
        &app.pool,
        &payments_member(),
        review.id,
        SignoffSide::Team,
        now,
    )
    .await
    .unwrap();
    store::sign_off(&app.pool, &system, review.id, SignoffSide::Platform, now)
        .await
        .unwrap();
    GoLiveFixtures {
        approved: review.id,
        file,
        run,
    }
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

    /// A fresh item in platform core's scope draft, to be changed or removed (version 1).
    async fn scope_item(&self) -> Uuid {
        let input = ScopeItemInput {
            name: self.unique("Matrix item"),
            inside: true,
            responsible: "@platform".into(),
            ..Default::default()
        };
        store::create_item(&self.app.pool, &Caller::system(), self.seed.core, input)
            .await
            .unwrap()
            .id
    }

    /// A fresh tenant rule in platform core's scope draft (version 1).
    async fn scope_rule(&self) -> Uuid {
        let input = TenantRuleInput {
            title: self.unique("Matrix rule"),
            reason: "Because".into(),
            ..Default::default()
        };
        store::create_rule(&self.app.pool, &Caller::system(), self.seed.core, input)
            .await
            .unwrap()
            .id
    }

    /// The version of platform core's scope draft (the ETag a publish sends back).
    async fn draft_version(&self) -> String {
        sqlx::query_scalar::<_, i32>("SELECT version FROM scope_drafts WHERE platform_id = $1")
            .bind(self.seed.core)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
            .to_string()
    }

    /// A fresh saved scope template, to be deleted.
    async fn scope_template(&self) -> String {
        let input = TemplateInput {
            name: self.unique("Matrix template"),
            description: String::new(),
            platform_id: self.seed.core,
        };
        store::save_template(&self.app.pool, &Caller::system(), input)
            .await
            .unwrap()
            .id
    }

    /// A fresh planned provider audit of platform core (version 1).
    async fn scope_audit(&self) -> Uuid {
        audits::create(
            &self.app.pool,
            &Caller::system(),
            self.seed.core,
            self.audit_input(),
        )
        .await
        .unwrap()
        .id
    }

    fn audit_input(&self) -> ScopeAuditInput {
        ScopeAuditInput {
            kind: AuditKind::Provider,
            title: self.unique("Matrix audit"),
            subject: "ACME Cloud".into(),
            application_id: None,
            aspects: vec!["technical".into()],
            due_on: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            status: AuditStatus::Planned,
            completed_on: None,
            outcome: None,
            findings: String::new(),
            actions: vec![],
            repeats_yearly: false,
        }
    }

    /// The current version of platform core's checklist template.
    async fn template_version(&self) -> String {
        sqlx::query_scalar::<_, i32>(
            "SELECT max(version) FROM checklist_templates WHERE platform_id = $1",
        )
        .bind(self.seed.core)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
        .to_string()
    }

    /// Adds an item with a fresh key to platform core's checklist; returns the key.
    async fn extra_checklist_item(&self) -> String {
        use domain::golive::model::{ItemDef, TemplateInput};
        let key = self.unique("extra");
        let current =
            domain::golive::store::template(&self.app.pool, &Caller::system(), self.seed.core)
                .await
                .unwrap();
        let mut items = current.items;
        let mut item: ItemDef =
            serde_json::from_value(json!({ "key": key, "title": "Extra" })).unwrap();
        item.required = false;
        items.push(item);
        domain::golive::store::save_template(
            &self.app.pool,
            &Caller::system(),
            self.seed.core,
            TemplateInput {
                items,
                note: String::new(),
                base_version: current.version,
            },
        )
        .await
        .unwrap();
        key
    }

    /// The position of `key` in platform core's checklist, or one past the end.
    async fn checklist_index(&self, key: &str) -> String {
        let items =
            domain::golive::store::template(&self.app.pool, &Caller::system(), self.seed.core)
                .await
                .unwrap()
                .items;
        items
            .iter()
            .position(|i| i.key == key)
            .unwrap_or(items.len())
            .to_string()
    }

    /// A fresh application of team payments on production, in a namespace of its own (a
    /// namespace belongs to one application).
    async fn golive_app(&self) -> Uuid {
        let slug = self.unique("golive-app");
        domain::applications::create(
            &self.app.pool,
            &Caller::system(),
            domain::model::ApplicationInput {
                team_id: self.seed.payments,
                slug: slug.clone(),
                name: slug.clone(),
                description: String::new(),
                placements: vec![domain::model::Placement {
                    environment_id: self.seed.production,
                    namespace: slug.clone(),
                }],
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn open_review(&self, application: Uuid) -> Uuid {
        domain::golive::store::open_review(
            &self.app.pool,
            &Caller::system(),
            application,
            self.seed.production,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .id
    }

    /// A fresh open review (items at version 1).
    async fn golive_review(&self) -> Uuid {
        let app = self.golive_app().await;
        self.open_review(app).await
    }

    /// A fresh review whose required item passed: ready for sign-off.
    async fn ready_review(&self) -> Uuid {
        let review = self.golive_review().await;
        domain::golive::store::attest(
            &self.app.pool,
            &Caller::system(),
            review,
            "evidence",
            domain::golive::model::AttestInput {
                status: "passed".into(),
                note: "Report".into(),
                version: 1,
                ..Default::default()
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        review
    }

    /// A fresh waiver to revoke.
    async fn golive_waiver(&self) -> Uuid {
        let review = self.golive_review().await;
        domain::golive::store::waive(
            &self.app.pool,
            &Caller::system(),
            review,
            "replicas",
            domain::golive::model::WaiverInput {
                reason: "Matrix".into(),
                expires_at: Some(chrono::Utc::now() + chrono::Duration::days(3)),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .id
    }

    /// A fresh webhook of team payments to remove.
    async fn golive_webhook(&self) -> Uuid {
        domain::golive::notify::add_webhook(
            &self.app.pool,
            &Caller::system(),
            &self.app.state.secrets,
            &self.app.state.config.webhook_egress,
            self.seed.payments,
            domain::golive::model::WebhookInput {
                url: "https://hooks.example.com/remove-me".into(),
                format: "json".into(),
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn connection_version(&self, environment: Uuid) -> i32 {
        sqlx::query_scalar::<_, i32>(
            "SELECT version FROM cluster_connections WHERE environment_id = $1",
        )
        .bind(environment)
        .fetch_optional(&self.app.pool)
        .await
        .unwrap()
        .unwrap_or(0)
    }

    /// (Re)creates a connection of `environment`, to be removed.
    async fn connect(&self, environment: Uuid) {
        domain::golive::connections::set(
            &self.app.pool,
            &Caller::system(),
            &self.app.state.secrets,
            environment,
            domain::golive::model::ConnectionInput {
                mode: "in_cluster".into(),
                version: self.connection_version(environment).await,
                ..Default::default()
            },
        )
        .await
        .unwrap();
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

    // Platform core has a published scope (revision 1) for the scope routes to read, diff and
    // acknowledge.
    store::apply_template(
        &app.pool,
        &system,
        seed.core,
        ApplyTemplateInput {
            template_id: "builtin".into(),
            replace: false,
        },
    )
    .await
    .unwrap();
    let draft = store::draft(&app.pool, &system, seed.core).await.unwrap();
    store::publish(
        &app.pool,
        &system,
        seed.core,
        draft.draft.expect("the draft").version,
        PublishInput {
            summary: "Matrix revision".into(),
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
    let golive = golive_setup(&app, &seed).await;
    let calendar = calendar::setup(&app, &seed).await;
    let ctx = Ctx {
        app: &app,
        seed,
        team: team.id,
        platform: platform.id,
        environment: environment.id,
        pat: clients[Who::Pat.index()].clone(),
        counter: AtomicUsize::new(0),
        golive,
        calendar,
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
    let listed: BTreeSet<String> = PAGES
        .iter()
        .chain(CALENDAR_UI_PAGES)
        .map(|(p, _)| (*p).to_owned())
        .collect();
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
    for (template, rule) in PAGES.iter().chain(CALENDAR_UI_PAGES) {
        let calendar = calendar_ui_page(ctx, template).await;
        let path = match *template {
            _ if calendar.is_some() => calendar.unwrap_or_default(),
            "/teams/{id}" => format!("/teams/{}", ctx.seed.payments),
            "/platforms/{id}" => format!("/platforms/{}", ctx.seed.core),
            "/platforms/{id}/scope"
            | "/platforms/{id}/scope/draft"
            | "/platforms/{id}/scope/diff" => template.replace("{id}", &ctx.seed.core.to_string()),
            "/scope/audits/{id}" => format!("/scope/audits/{}", ctx.scope_audit().await),
            "/golive/reviews/{id}" | "/golive/reviews/{id}/frozen" => {
                template.replace("{id}", &ctx.golive.approved.to_string())
            }
            "/platforms/{id}/checklist" => format!("/platforms/{}/checklist", ctx.seed.core),
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
        .chain(calendar::REST)
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

    for (method, template, rule) in REST.iter().chain(calendar::REST) {
        for who in EVERYONE {
            let call = match rest_call(ctx, method, template).await {
                Some(call) => Some(call),
                None => calendar::rest_call(ctx, method, template).await,
            };
            let Some((path, body, if_match)) = call else {
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
                // Removing a blackout answers what the removal breaks.
                Outcome::Allowed
                    if *method == "DELETE" && *template == "/api/v1/blackouts/{id}" =>
                {
                    StatusCode::OK
                }
                Outcome::Allowed if *method == "DELETE" || template.ends_with("/withdraw") => {
                    StatusCode::NO_CONTENT
                }
                Outcome::Allowed if *method == "POST" && template.ends_with("}/runs") => {
                    StatusCode::ACCEPTED
                }
                Outcome::Allowed
                    if *method == "POST"
                        && (template.ends_with("/signoffs")
                            || template.ends_with("/test")
                            || calendar::post_answers_ok(template)) =>
                {
                    StatusCode::OK
                }
                Outcome::Allowed
                    if *method == "POST"
                        && !template.ends_with("}/archive")
                        && !template.ends_with("}/restore")
                        && !template.ends_with("}/revoke")
                        && !template.ends_with("/apply-template") =>
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
        (
            "GET",
            "/api/v1/platforms/{id}/scope"
            | "/api/v1/platforms/{id}/scope/draft"
            | "/api/v1/platforms/{id}/scope/revisions"
            | "/api/v1/platforms/{id}/scope/acknowledgements"
            | "/api/v1/platforms/{id}/scope/export.csv",
        ) => (template.replace("{id}", &s.core.to_string()), None, None),
        ("GET", "/api/v1/platforms/{id}/scope/revisions/{number}") => (
            format!("/api/v1/platforms/{}/scope/revisions/1", s.core),
            None,
            None,
        ),
        ("GET", "/api/v1/platforms/{id}/scope/diff") => (
            format!("/api/v1/platforms/{}/scope/diff?from=1", s.core),
            None,
            None,
        ),
        ("GET", "/api/v1/scope-templates" | "/api/v1/scope-audits") => {
            (template.to_owned(), None, None)
        }
        ("POST", "/api/v1/platforms/{id}/scope/items") => (
            format!("/api/v1/platforms/{}/scope/items", s.core),
            Some(
                json!({ "name": ctx.unique("REST item"), "inside": true, "responsible": "@platform" }),
            ),
            None,
        ),
        ("PUT", "/api/v1/platforms/{id}/scope/items/{item_id}") => (
            format!(
                "/api/v1/platforms/{}/scope/items/{}",
                s.core,
                ctx.scope_item().await
            ),
            Some(
                json!({ "name": ctx.unique("REST item"), "inside": false, "responsible": "ACME" }),
            ),
            Some("1".to_owned()),
        ),
        ("DELETE", "/api/v1/platforms/{id}/scope/items/{item_id}") => (
            format!(
                "/api/v1/platforms/{}/scope/items/{}",
                s.core,
                ctx.scope_item().await
            ),
            None,
            Some("1".to_owned()),
        ),
        ("POST", "/api/v1/platforms/{id}/scope/rules") => (
            format!("/api/v1/platforms/{}/scope/rules", s.core),
            Some(json!({ "title": ctx.unique("REST rule"), "reason": "Because" })),
            None,
        ),
        ("PUT", "/api/v1/platforms/{id}/scope/rules/{rule_id}") => (
            format!(
                "/api/v1/platforms/{}/scope/rules/{}",
                s.core,
                ctx.scope_rule().await
            ),
            Some(json!({ "title": ctx.unique("REST rule"), "reason": "Changed" })),
            Some("1".to_owned()),
        ),
        ("DELETE", "/api/v1/platforms/{id}/scope/rules/{rule_id}") => (
            format!(
                "/api/v1/platforms/{}/scope/rules/{}",
                s.core,
                ctx.scope_rule().await
            ),
            None,
            Some("1".to_owned()),
        ),
        ("POST", "/api/v1/platforms/{id}/scope/apply-template") => (
            format!("/api/v1/platforms/{}/scope/apply-template", s.core),
            Some(json!({ "template_id": "builtin", "replace": true })),
            None,
        ),
        ("POST", "/api/v1/platforms/{id}/scope/revisions") => {
            // Something new to publish, and the draft's current version.
            ctx.scope_item().await;
            (
                format!("/api/v1/platforms/{}/scope/revisions", s.core),
                Some(json!({ "summary": ctx.unique("REST revision") })),
                Some(ctx.draft_version().await),
            )
        }
        ("POST", "/api/v1/platforms/{id}/scope/acknowledgements") => (
            format!("/api/v1/platforms/{}/scope/acknowledgements", s.core),
            Some(json!({ "team_id": s.payments, "revision": 1 })),
            None,
        ),
        ("POST", "/api/v1/scope-templates") => (
            template.to_owned(),
            Some(json!({ "name": ctx.unique("REST template"), "platform_id": s.core })),
            None,
        ),
        ("DELETE", "/api/v1/scope-templates/{id}") => (
            format!("/api/v1/scope-templates/{}", ctx.scope_template().await),
            None,
            None,
        ),
        ("POST", "/api/v1/platforms/{id}/scope/audits") => (
            format!("/api/v1/platforms/{}/scope/audits", s.core),
            Some(serde_json::to_value(ctx.audit_input()).unwrap()),
            None,
        ),
        ("GET", "/api/v1/scope-audits/{id}") => (
            format!("/api/v1/scope-audits/{}", ctx.scope_audit().await),
            None,
            None,
        ),
        ("PUT", "/api/v1/scope-audits/{id}") => (
            format!("/api/v1/scope-audits/{}", ctx.scope_audit().await),
            Some(serde_json::to_value(ctx.audit_input()).unwrap()),
            Some("1".to_owned()),
        ),
        (
            "GET",
            "/api/v1/platforms/{id}/checklist-template"
            | "/api/v1/platforms/{id}/checklist-template/versions",
        ) => (template.replace("{id}", &s.core.to_string()), None, None),
        ("PUT", "/api/v1/platforms/{id}/checklist-template") => (
            template.replace("{id}", &s.core.to_string()),
            Some(json!({ "items": golive_items() })),
            Some(ctx.template_version().await),
        ),
        ("GET", "/api/v1/golive/board") => (template.to_owned(), None, None),
        ("POST", "/api/v1/golive/reviews") => (
            template.to_owned(),
            Some(
                json!({ "application_id": ctx.golive_app().await, "environment_id": s.production }),
            ),
            None,
        ),
        ("GET", "/api/v1/golive/reviews/{id}" | "/api/v1/golive/reviews/{id}/runs") => (
            template.replace("{id}", &ctx.golive_review().await.to_string()),
            None,
            None,
        ),
        ("POST", "/api/v1/golive/reviews/{id}/withdraw") => (
            template.replace("{id}", &ctx.golive_review().await.to_string()),
            None,
            Some("1".to_owned()),
        ),
        ("PUT", "/api/v1/golive/reviews/{id}/items/{key}") => (
            format!(
                "/api/v1/golive/reviews/{}/items/evidence",
                ctx.golive_review().await
            ),
            Some(json!({ "status": "passed", "note": "Load test report 42", "version": 1 })),
            None,
        ),
        ("POST", "/api/v1/golive/reviews/{id}/items/{key}/waivers") => (
            format!(
                "/api/v1/golive/reviews/{}/items/replicas/waivers",
                ctx.golive_review().await
            ),
            Some(json!({
                "reason": "Matrix",
                "expires_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
            })),
            None,
        ),
        ("DELETE", "/api/v1/golive/waivers/{id}") => (
            format!("/api/v1/golive/waivers/{}", ctx.golive_waiver().await),
            None,
            None,
        ),
        ("POST", "/api/v1/golive/reviews/{id}/signoffs") => (
            format!(
                "/api/v1/golive/reviews/{}/signoffs",
                ctx.ready_review().await
            ),
            Some(json!({ "side": "team" })),
            None,
        ),
        ("GET", "/api/v1/golive/reviews/{id}/frozen") => (
            format!("/api/v1/golive/reviews/{}/frozen", ctx.golive.approved),
            None,
            None,
        ),
        ("POST", "/api/v1/golive/reviews/{id}/items/{key}/files") => (
            format!(
                "/api/v1/golive/reviews/{}/items/evidence/files?name=report.txt",
                ctx.golive_review().await
            ),
            Some(json!({ "report": "attached" })),
            None,
        ),
        ("GET", "/api/v1/golive/files/{id}") => (
            format!("/api/v1/golive/files/{}", ctx.golive.file),
            None,
            None,
        ),
        ("POST", "/api/v1/golive/reviews/{id}/runs") => (
            format!("/api/v1/golive/reviews/{}/runs", ctx.golive_review().await),
            None,
            None,
        ),
        ("GET", "/api/v1/golive/runs/{id}" | "/api/v1/golive/runs/{id}/results") => (
            template.replace("{id}", &ctx.golive.run.to_string()),
            None,
            None,
        ),
        ("POST", "/api/v1/golive/reviews/{id}/uploads") => (
            format!(
                "/api/v1/golive/reviews/{}/uploads",
                ctx.golive_review().await
            ),
            Some(serde_json::from_str(UPLOAD).unwrap()),
            None,
        ),
        ("POST", "/api/v1/check-reports") => {
            let app = ctx.golive_app().await;
            let slug: String = sqlx::query_scalar("SELECT slug FROM applications WHERE id = $1")
                .bind(app)
                .fetch_one(&ctx.app.pool)
                .await
                .unwrap();
            ctx.open_review(app).await;
            (
                template.to_owned(),
                Some(json!({ "application": slug, "environment": "production", "results": [] })),
                None,
            )
        }
        ("GET", "/api/v1/environments/{id}/cluster-connection") => (
            format!("/api/v1/environments/{}/cluster-connection", s.production),
            None,
            None,
        ),
        ("PUT", "/api/v1/environments/{id}/cluster-connection") => (
            format!("/api/v1/environments/{}/cluster-connection", s.production),
            Some(json!({
                "mode": "token", "server_url": "http://127.0.0.1:9", "secret": "matrix-token",
                "version": ctx.connection_version(s.production).await,
            })),
            None,
        ),
        ("DELETE", "/api/v1/environments/{id}/cluster-connection") => {
            ctx.connect(ctx.environment).await;
            (
                format!(
                    "/api/v1/environments/{}/cluster-connection",
                    ctx.environment
                ),
                None,
                None,
            )
        }
        ("POST", "/api/v1/environments/{id}/cluster-connection/test") => (
            format!(
                "/api/v1/environments/{}/cluster-connection/test",
                s.production
            ),
            None,
            None,
        ),
        ("GET", "/api/v1/teams/{id}/deliveries") => (
            format!("/api/v1/teams/{}/deliveries", s.payments),
            None,
            None,
        ),
        ("GET", "/api/v1/teams/{id}/webhooks") => {
            (format!("/api/v1/teams/{}/webhooks", s.payments), None, None)
        }
        ("POST", "/api/v1/teams/{id}/webhooks") => (
            format!("/api/v1/teams/{}/webhooks", s.payments),
            Some(json!({ "url": "https://hooks.example.com/matrix", "format": "slack" })),
            None,
        ),
        ("DELETE", "/api/v1/webhooks/{id}") => (
            format!("/api/v1/webhooks/{}", ctx.golive_webhook().await),
            None,
            None,
        ),
        _ => return None,
    };
    Some(call)
}

/// The checklist the matrix's reviews use: one manual required item, one automatic optional.
fn golive_items() -> Value {
    json!([
        { "key": "evidence", "title": "Matrix evidence", "required": true },
        { "key": "replicas", "title": "Matrix replicas", "required": false, "check": "replicas" },
    ])
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
    let listed: BTreeSet<&str> = SERVER_FNS
        .iter()
        .chain(CALENDAR_UI_FNS)
        .map(|(n, _, _)| *n)
        .collect();
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

    for (name, rule, variants) in SERVER_FNS.iter().chain(CALENDAR_UI_FNS) {
        if !served.contains_key(*name) {
            continue;
        }
        let path = server_fn_path(name);
        for variant in *variants {
            for who in EVERYONE {
                let args = match server_fn_args(ctx, name, variant).await {
                    Some(args) => Some(args),
                    None => calendar_ui_args(ctx, name, variant).await,
                };
                let Some(args) = args else {
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
            "whoami"
            | "load_dashboard"
            | "application_choices"
            | "audit_log"
            | "audit_facets"
            | "list_tokens",
            "call",
        ) => vec![],
        ("list_teams", "call") => {
            pairs(&[("include_archived", "false".into()), ("page", "1".into())])
        }
        ("load_scope_index" | "load_scope_audits", "call") => vec![],
        ("load_scope" | "load_scope_draft", "call") => pairs(&[("id", s.core.to_string())]),
        ("load_scope_diff", "call") => pairs(&[("id", s.core.to_string())]),
        ("load_scope_audit", "call") => pairs(&[("id", ctx.scope_audit().await.to_string())]),
        ("save_scope_item", "create") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("name", ctx.unique("Matrix item")),
            ("category", String::new()),
            ("side", "inside".into()),
            ("responsible", "@platform".into()),
            ("escalation_contact", String::new()),
            ("notes", String::new()),
            ("position", "1".into()),
            ("raci[0][activity]", "Upgrades".into()),
            ("raci[0][responsible]", "@platform".into()),
            ("raci[0][accountable]", "@platform".into()),
        ]),
        ("save_scope_item", "update") => {
            let item = ctx.scope_item().await;
            pairs(&[
                ("platform_id", s.core.to_string()),
                ("id", item.to_string()),
                ("version", "1".into()),
                ("name", ctx.unique("Matrix item")),
                ("category", String::new()),
                ("side", "outside".into()),
                ("responsible", "ACME Cloud".into()),
                ("escalation_contact", String::new()),
                ("notes", String::new()),
                ("position", "1".into()),
            ])
        }
        ("delete_scope_item", "call") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("id", ctx.scope_item().await.to_string()),
            ("version", "1".into()),
        ]),
        ("save_tenant_rule", "create") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("title", ctx.unique("Matrix rule")),
            ("description", String::new()),
            ("reason", "Because.".into()),
            ("exception_process", String::new()),
            ("position", "1".into()),
        ]),
        ("save_tenant_rule", "update") | ("delete_tenant_rule", "call") => {
            let mut args = pairs(&[
                ("platform_id", s.core.to_string()),
                ("id", ctx.scope_rule().await.to_string()),
                ("version", "1".into()),
            ]);
            if name == "save_tenant_rule" {
                args.extend(pairs(&[
                    ("title", ctx.unique("Matrix rule")),
                    ("description", String::new()),
                    ("reason", "Because.".into()),
                    ("exception_process", String::new()),
                    ("position", "1".into()),
                ]));
            }
            args
        }
        ("apply_scope_template", "call") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("template_id", "builtin".into()),
            ("replace", "on".into()),
        ]),
        ("publish_scope", "call") => {
            // A change to publish, and the draft version that includes it.
            ctx.scope_item().await;
            pairs(&[
                ("platform_id", s.core.to_string()),
                ("draft_version", ctx.draft_version().await),
                ("summary", ctx.unique("Matrix revision")),
            ])
        }
        ("save_scope_template", "call") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("name", ctx.unique("Matrix template")),
            ("description", String::new()),
        ]),
        ("acknowledge_scope", "call") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("team_id", s.payments.to_string()),
            ("revision", "1".into()),
        ]),
        ("save_scope_audit", "create") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("kind", "provider".into()),
            ("title", ctx.unique("Matrix audit")),
            ("subject", "ACME Cloud".into()),
            ("due_on", "2027-01-31".into()),
            ("aspects[0]", "technical".into()),
        ]),
        ("save_scope_audit", "update") => pairs(&[
            ("id", ctx.scope_audit().await.to_string()),
            ("version", "1".into()),
            ("kind", "provider".into()),
            ("title", ctx.unique("Matrix audit")),
            ("subject", "ACME Cloud".into()),
            ("due_on", "2027-02-28".into()),
            ("status", "planned".into()),
        ]),
        ("load_board" | "load_clusters" | "load_golive_attention", "call") => vec![],
        ("open_review", "call") => pairs(&[
            ("application_id", ctx.golive_app().await.to_string()),
            ("environment_id", s.production.to_string()),
        ]),
        ("load_review" | "load_frozen", "call") => {
            pairs(&[("id", ctx.golive.approved.to_string())])
        }
        ("load_run", "call") => pairs(&[("id", ctx.golive.run.to_string())]),
        ("request_run", "call") => pairs(&[("review_id", ctx.golive_review().await.to_string())]),
        ("upload_run", "call") => pairs(&[
            ("review_id", ctx.golive_review().await.to_string()),
            ("file_name", "list.json".into()),
            ("text", UPLOAD.into()),
        ]),
        ("attest_item", "call") => pairs(&[
            ("review_id", ctx.golive_review().await.to_string()),
            ("key", "evidence".into()),
            ("version", "1".into()),
            ("status", "passed".into()),
            ("note", "Report 42".into()),
            ("link", String::new()),
        ]),
        ("waive_item", "call") => pairs(&[
            ("review_id", ctx.golive_review().await.to_string()),
            ("key", "replicas".into()),
            ("reason", "Matrix".into()),
            (
                "expires_at",
                (chrono::Utc::now() + chrono::Duration::days(30))
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
        ]),
        ("revoke_waiver", "call") => {
            let waiver = ctx.golive_waiver().await;
            let review: Uuid =
                sqlx::query_scalar("SELECT review_id FROM golive_waivers WHERE id = $1")
                    .bind(waiver)
                    .fetch_one(&ctx.app.pool)
                    .await
                    .unwrap();
            pairs(&[
                ("review_id", review.to_string()),
                ("waiver_id", waiver.to_string()),
            ])
        }
        ("sign_off", "call") => pairs(&[
            ("review_id", ctx.ready_review().await.to_string()),
            ("side", "team".into()),
        ]),
        ("withdraw_review", "call") => pairs(&[
            ("review_id", ctx.golive_review().await.to_string()),
            ("version", "1".into()),
        ]),
        ("load_checklist", "call") => pairs(&[("platform_id", s.core.to_string())]),
        ("save_checklist_item", "create" | "update") => {
            let key = if variant == "create" {
                ctx.unique("new-item")
            } else {
                ctx.extra_checklist_item().await
            };
            pairs(&[
                ("platform_id", s.core.to_string()),
                ("base_version", ctx.template_version().await),
                ("index", ctx.checklist_index(&key).await),
                ("key", key),
                ("title", ctx.unique("Matrix item")),
                ("required", "on".into()),
            ])
        }
        ("remove_checklist_item", "call") => {
            let key = ctx.extra_checklist_item().await;
            pairs(&[
                ("platform_id", s.core.to_string()),
                ("base_version", ctx.template_version().await),
                ("key", key),
            ])
        }
        ("save_connection", "call") => pairs(&[
            ("environment_id", s.production.to_string()),
            (
                "version",
                ctx.connection_version(s.production).await.to_string(),
            ),
            ("mode", "token".into()),
            ("server_url", "http://127.0.0.1:9".into()),
            ("secret", "matrix-token".into()),
        ]),
        ("test_connection", "call") => pairs(&[("environment_id", s.production.to_string())]),
        ("remove_connection", "call") => {
            ctx.connect(ctx.environment).await;
            pairs(&[("environment_id", ctx.environment.to_string())])
        }
        ("add_webhook", "call") => pairs(&[
            ("team_id", s.payments.to_string()),
            ("url", "https://hooks.example.com/fn".into()),
            ("format", "json".into()),
        ]),
        ("remove_webhook", "call") => pairs(&[("id", ctx.golive_webhook().await.to_string())]),
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

// Calendar UI ----------------------------------------------------------------------------------
// The maintenance calendar's pages and server functions. Their fixtures (maintenances in each
// state, drills, action items, feeds) are the ones of the calendar's REST entries
// (matrix/calendar.rs).

/// The calendar's pages and what they need.
const CALENDAR_UI_PAGES: &[(&str, Rule)] = &[
    ("/calendar", Rule::Read),
    ("/calendar/plans", Rule::Read),
    ("/calendar/maintenances/new", Rule::ManageCalendar),
    ("/calendar/maintenances/{id}", Rule::Read),
    ("/calendar/maintenances/{id}/edit", Rule::ManageCalendar),
    ("/calendar/drills/new", Rule::TeamForm),
    ("/calendar/drills/{id}", Rule::Read),
    ("/calendar/feeds", Rule::Read),
];

/// The calendar's server functions, what they need, and their calls. `make_feed` needs platform
/// staff for an environment's or platform's feed, and team payments' members for its feed.
const CALENDAR_UI_FNS: &[(&str, Rule, &[&str])] = &[
    ("load_calendar", Rule::Read, &["month", "agenda"]),
    ("load_plans", Rule::Read, &["call"]),
    ("save_plan", Rule::ManageCalendar, &["call"]),
    ("add_blackout", Rule::ManageCalendar, &["call"]),
    ("remove_blackout", Rule::ManageCalendar, &["call"]),
    ("remove_plan", Rule::ManageCalendar, &["call"]),
    ("save_calendar_settings", Rule::ManageCalendar, &["call"]),
    ("load_maintenance_form", Rule::Read, &["call"]),
    ("create_maintenance", Rule::ManageCalendar, &["call"]),
    ("load_maintenance", Rule::Read, &["call"]),
    ("load_maintenance_edit", Rule::Read, &["call"]),
    ("update_maintenance", Rule::ManageCalendar, &["call"]),
    (
        "maintenance_step",
        Rule::ManageCalendar,
        &["announce", "start", "complete", "roll_back", "cancel"],
    ),
    (
        "write_maintenance_retrospective",
        Rule::ManageCalendar,
        &["call"],
    ),
    ("complete_action_item", Rule::ManageCalendar, &["call"]),
    (
        "acknowledge_maintenance",
        Rule::AcknowledgePayments,
        &["call"],
    ),
    ("load_drill_form", Rule::Read, &["call"]),
    ("save_drill", Rule::ManageCalendar, &["create", "update"]),
    ("load_drill", Rule::Read, &["call"]),
    ("record_drill_result", Rule::ManageCalendar, &["call"]),
    ("cancel_drill", Rule::ManageCalendar, &["call"]),
    ("load_feeds", Rule::Read, &["call"]),
    (
        "make_feed",
        Rule::ManageCalendar,
        &["environment", "platform"],
    ),
    ("make_feed", Rule::CalendarPayments, &["team"]),
    ("remove_feed", Rule::CalendarPayments, &["call"]),
    ("add_team_email", Rule::CalendarPayments, &["call"]),
    ("remove_team_email", Rule::CalendarPayments, &["call"]),
    ("load_calendar_dashboard", Rule::Read, &["call"]),
];

/// The concrete path of a calendar page with an id.
async fn calendar_ui_page(ctx: &Ctx<'_>, template: &str) -> Option<String> {
    use domain::calendar::model::Category;
    Some(match template {
        "/calendar/maintenances/{id}" => format!(
            "/calendar/maintenances/{}",
            ctx.maintenance(Category::Minor, &[]).await.id
        ),
        "/calendar/maintenances/{id}/edit" => format!(
            "/calendar/maintenances/{}/edit",
            ctx.maintenance(Category::Minor, &[]).await.id
        ),
        "/calendar/drills/{id}" => format!("/calendar/drills/{}", ctx.drill().await),
        _ => return None,
    })
}

/// The drill form's fields (as planning and changing a drill post them): a platform drill of
/// core, `days` from now.
fn drill_fields(ctx: &Ctx<'_>, days: i64, title: &str) -> Vec<(&'static str, String)> {
    let start = chrono::Utc::now() + chrono::Duration::days(days);
    let utc = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    vec![
        ("platform_id", ctx.seed.core.to_string()),
        ("title", ctx.unique(title)),
        ("goal", "Measure the restore time".into()),
        ("scenario", "The database volume is lost".into()),
        ("leader", "Pat".into()),
        ("starts_at", utc(start)),
        ("ends_at", utc(start + chrono::Duration::hours(2))),
        ("target_rpo_minutes", "1440".into()),
        ("target_rto_minutes", "240".into()),
        ("target_retention_days", "7".into()),
    ]
}

/// Form arguments of one call of a calendar server function.
async fn calendar_ui_args(
    ctx: &Ctx<'_>,
    name: &str,
    variant: &str,
) -> Option<Vec<(String, String)>> {
    use domain::calendar::maintenances::Transition;
    use domain::calendar::model::Category;
    let s = &ctx.seed;
    let pairs = |items: &[(&str, String)]| {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Vec<_>>()
    };
    let args = match (name, variant) {
        ("load_calendar", "month") => pairs(&[("kinds[0]", "window".into())]),
        ("load_calendar", "agenda") => pairs(&[("view", "agenda".into())]),
        ("load_plans", "call") => pairs(&[
            ("platform", s.core.to_string()),
            ("country", "DE".into()),
            ("year", "2027".into()),
        ]),
        ("save_plan", "call") => pairs(&[
            ("environment_id", s.staging.to_string()),
            ("base_version", ctx.plan_version(s.staging).await),
            ("rhythm", "monthly_weekday".into()),
            ("ordinal", "second".into()),
            ("weekday", "tue".into()),
            ("start_time", "20:00".into()),
            ("time_zone", "Europe/Amsterdam".into()),
            ("duration_hours", "6".into()),
            ("allowed_categories[0]", "security_patch".into()),
            ("allowed_categories[1]", "minor".into()),
            ("allowed_categories[2]", "major".into()),
        ]),
        ("add_blackout", "call") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("first_day", "2041-12-24".into()),
            ("last_day", "2041-12-26".into()),
            ("reason", ctx.unique("Matrix holidays")),
        ]),
        ("remove_blackout", "call") => pairs(&[("id", ctx.blackout().await.to_string())]),
        ("remove_plan", "call") => pairs(&[(
            "environment_id",
            ctx.planned_environment().await.to_string(),
        )]),
        ("save_calendar_settings", "call") => pairs(&[
            ("platform_id", s.core.to_string()),
            ("version", ctx.settings_version(s.core).await),
            ("major_notice_days", "30".into()),
            ("reminders", "7d, 72h, 1h".into()),
        ]),
        ("load_maintenance_form", "call") => pairs(&[("environment", s.staging.to_string())]),
        ("create_maintenance", "call") => {
            let form = ctx.maintenance_form(Category::Minor);
            pairs(&[
                ("environment_id", s.staging.to_string()),
                ("category", "minor".into()),
                ("title", form.title),
                (
                    "window_date",
                    form.window_date.map(|d| d.to_string()).unwrap_or_default(),
                ),
                ("description", form.description),
                ("contingency_plan", form.contingency_plan),
                ("lead", "Pat".into()),
            ])
        }
        ("load_maintenance" | "load_maintenance_edit", "call") => pairs(&[(
            "id",
            ctx.maintenance(Category::Minor, &[]).await.id.to_string(),
        )]),
        ("update_maintenance", "call") => {
            let m = ctx.maintenance(Category::Minor, &[]).await;
            pairs(&[
                ("id", m.id.to_string()),
                ("base_version", m.version.to_string()),
                ("environment_id", m.environment_id.to_string()),
                ("category", "minor".into()),
                ("title", format!("{} (changed)", m.title)),
                (
                    "window_date",
                    m.window_date.map(|d| d.to_string()).unwrap_or_default(),
                ),
                ("description", m.description),
                ("contingency_plan", m.contingency_plan),
                ("lead", "Sam".into()),
            ])
        }
        ("maintenance_step", step) => {
            // On the real clock only an emergency may start now; the others wait for a window.
            let (category, before): (Category, &[Transition]) = match step {
                "start" => (Category::Emergency, &[]),
                "complete" | "roll_back" => (Category::Emergency, &[Transition::Start]),
                _ => (Category::Minor, &[]),
            };
            let m = ctx.maintenance(category, before).await;
            pairs(&[
                ("id", m.id.to_string()),
                ("step", step.to_owned()),
                ("reason", "Matrix".into()),
            ])
        }
        ("write_maintenance_retrospective", "call") => {
            let m = ctx
                .maintenance(
                    Category::Emergency,
                    &[Transition::Start, Transition::Complete],
                )
                .await;
            pairs(&[
                ("id", m.id.to_string()),
                ("base_version", m.version.to_string()),
                ("went_well", "Matrix".into()),
                ("action_items[0][title]", ctx.unique("Matrix follow-up")),
                ("action_items[0][owner]", "Pat".into()),
                ("action_items[0][due_on]", "2030-01-31".into()),
            ])
        }
        ("complete_action_item", "call") => pairs(&[("id", ctx.action_item().await.to_string())]),
        ("acknowledge_maintenance", "call") => {
            let m = ctx
                .maintenance(Category::Major, &[Transition::Announce])
                .await;
            pairs(&[
                ("id", m.id.to_string()),
                ("team_id", s.payments.to_string()),
            ])
        }
        ("load_drill_form" | "load_feeds" | "load_calendar_dashboard", "call") => vec![],
        ("save_drill", "create") => pairs(&drill_fields(ctx, 3, "Matrix drill")),
        ("load_drill", "call") => pairs(&[("id", ctx.drill().await.to_string())]),
        ("cancel_drill", "call") => pairs(&[
            ("id", ctx.drill().await.to_string()),
            ("reason", "Matrix".into()),
        ]),
        ("save_drill", "update") => {
            let mut fields = vec![
                ("id", ctx.drill().await.to_string()),
                ("version", "1".into()),
            ];
            fields.extend(drill_fields(ctx, 4, "Matrix drill moved"));
            pairs(&fields)
        }
        ("record_drill_result", "call") => pairs(&[
            ("id", ctx.drill().await.to_string()),
            ("measured_rpo_minutes", "60".into()),
            ("measured_rto_minutes", "90".into()),
            ("retention_verified", "yes".into()),
            ("went_well", "Matrix".into()),
        ]),
        ("make_feed", scope) => {
            let id = match scope {
                "environment" => s.production,
                "platform" => s.core,
                _ => s.payments,
            };
            pairs(&[("scope", scope.to_owned()), ("scope_id", id.to_string())])
        }
        ("remove_feed", "call") => pairs(&[("id", ctx.team_feed().await.to_string())]),
        ("add_team_email", "call") => pairs(&[
            ("team_id", s.payments.to_string()),
            ("address", format!("{}@example.com", ctx.unique("ui"))),
        ]),
        ("remove_team_email", "call") => pairs(&[("id", ctx.payments_email().await.to_string())]),
        _ => return None,
    };
    Some(args)
}

// ---- the rest ---------------------------------------------------------------------------------

/// A route template with its placeholders blanked and its query dropped, to compare the
/// matrix's concrete entries with the server's templates.
fn template_shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

async fn check_other_routes(ctx: &Ctx<'_>, clients: &[Client], failures: &mut Failures) {
    // Every route the server registers outside the registries has an entry here.
    for route in server::other_routes() {
        let listed = OTHER_ROUTES.iter().any(|(method, path, _)| {
            *method == route.method.as_str() && template_shape(path) == template_shape(route.path)
        });
        if !listed {
            failures.add(format!(
                "{} {} is registered but has no entry in OTHER_ROUTES",
                route.method, route.path
            ));
        }
    }
    for (method, path, statuses) in OTHER_ROUTES {
        let path = &path
            .replace("{core}", &ctx.seed.core.to_string())
            .replace("{feed}", &ctx.calendar.feed_file);
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
