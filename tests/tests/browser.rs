//! Demarc in a real browser (headless Chromium through chromedriver): sign in through the
//! provider's login form, create a team and an application, find them in the lists, sign out.
//!
//! Needs the site built by `cargo leptos build` (target/site/pkg) and Chromium with
//! chromedriver (`apt-get install chromium chromium-driver`); scripts/test provides both. When
//! something is missing the test fails and says what: it never skips.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use tests::{Chromedriver, Provider, TestApp, workspace_root};

const WAIT: Duration = Duration::from_secs(15);

/// Waits until the current URL satisfies `ok`; fails with the URL and the page on timeout.
async fn wait_for_url(browser: &Client, what: &str, ok: impl Fn(&url::Url) -> bool) -> url::Url {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(url) = browser.current_url().await {
            if ok(&url) {
                return url;
            }
            if Instant::now() > deadline {
                let source = browser.source().await.unwrap_or_default();
                panic!("{what}: still at {url} after {WAIT:?}; the page:\n{source}");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page's text contains `text`.
async fn wait_for_text(browser: &Client, text: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let body = match browser.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains(text) {
            return;
        }
        if Instant::now() > deadline {
            let url = browser
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            panic!("the page at {url} does not show {text:?} after {WAIT:?}; it shows:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn field(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css} on the page: {e}"))
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    let input = field(browser, css).await;
    input
        .clear()
        .await
        .unwrap_or_else(|e| panic!("clear {css}: {e}"));
    input
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Waits until the page is enhanced: the enhancer island marks `<main data-hydrated="true">`
/// once the page's wasm runs in the browser.
async fn wait_hydrated(browser: &Client) {
    if let Err(e) = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("main#main[data-hydrated='true']"))
        .await
    {
        let url = browser
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        panic!(
            "the page at {url} did not hydrate within {WAIT:?} (is target/site/pkg current? `cargo leptos build` makes it): {e}"
        );
    }
}

/// Opens a page of the app and waits until it is hydrated.
async fn open(browser: &Client, url: &str) {
    browser
        .goto(url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    wait_hydrated(browser).await;
}

/// Once the page's island runs, a refused form answers in place: the field's message appears
/// next to the field and the document stays the same (a marker set on `window` survives).
async fn refusals_show_in_place(browser: &Client, app: &TestApp) {
    open(browser, &app.url("/teams/new")).await;
    browser
        .execute(
            "window.__demarc_marker = 'still here'; return null;",
            vec![],
        )
        .await
        .expect("run JS");
    type_into(browser, "#field-slug", "Not A Slug").await;
    type_into(browser, "#field-name", "Refused team").await;
    click(browser, "#save").await;
    let message = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".field.invalid #field-slug-error"))
        .await
        .unwrap_or_else(|e| panic!("no message next to the slug: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(!message.is_empty(), "the slug's message is empty");
    field(browser, "form .form-error[role='alert']").await;
    let marker = browser
        .execute("return window.__demarc_marker || null;", vec![])
        .await
        .expect("run JS");
    assert_eq!(
        marker.as_str(),
        Some("still here"),
        "the refused form loaded a new page instead of answering in place (is target/site/pkg current?)"
    );
}

#[tokio::test]
async fn pat_signs_in_creates_a_team_and_an_application_and_signs_out() {
    let pkg = workspace_root().join("target/site/pkg");
    for file in ["demarc.js", "demarc.wasm", "demarc.css"] {
        assert!(
            pkg.join(file).is_file(),
            "{} is missing: build the site first with `cargo leptos build` (scripts/test does)",
            pkg.join(file).display()
        );
    }
    let app = TestApp::spawn().await;
    let mut driver = Chromedriver::start().await;
    let browser = driver.browser().await;

    // Anonymous: the dashboard sends the browser to the provider's login form.
    browser.goto(&app.url("/")).await.expect("open Demarc");
    let issuer = Provider::get().issuer.clone();
    wait_for_url(&browser, "the login form", |u| {
        u.as_str().starts_with(&issuer)
    })
    .await;
    type_into(&browser, "#login", "pat").await;
    type_into(&browser, "#password", "demo").await;
    field(&browser, "#sign-in")
        .await
        .click()
        .await
        .expect("click Sign in");

    // Back on the dashboard, signed in.
    wait_for_url(&browser, "the dashboard after login", |u| {
        u.as_str() == app.url("/")
    })
    .await;
    wait_for_text(&browser, "Pat Platform").await;

    // The page is enhanced, not only server-rendered: forms answer in place.
    wait_hydrated(&browser).await;
    refusals_show_in_place(&browser, &app).await;

    // A new team.
    open(&browser, &app.url("/teams/new")).await;
    type_into(&browser, "#field-slug", "browser-team").await;
    type_into(&browser, "#field-name", "Browser Team").await;
    type_into(&browser, "#field-contact", "#browser-team").await;
    type_into(&browser, "#field-description", "Made by the browser test.").await;
    field(&browser, "#save")
        .await
        .click()
        .await
        .expect("click Create team");
    let team_url = wait_for_url(&browser, "the new team's page", |u| {
        u.path().starts_with("/teams/") && u.path() != "/teams/new"
    })
    .await;
    wait_for_text(&browser, "Browser Team").await;
    wait_for_text(&browser, "team-browser-team").await;

    open(&browser, &app.url("/teams")).await;
    wait_for_text(&browser, "Browser Team").await;

    // A new application of that team.
    open(&browser, &app.url("/applications/new")).await;
    field(&browser, "#field-team_id")
        .await
        .select_by_label("Browser Team")
        .await
        .expect("choose the team");
    type_into(&browser, "#field-slug", "browser-app").await;
    type_into(&browser, "#field-name", "Browser App").await;
    type_into(
        &browser,
        "#field-description",
        "Registered by the browser test.",
    )
    .await;
    field(&browser, "#save")
        .await
        .click()
        .await
        .expect("click Register application");
    wait_for_url(&browser, "the new application's page", |u| {
        u.path().starts_with("/applications/") && u.path() != "/applications/new"
    })
    .await;
    wait_for_text(&browser, "Browser App").await;
    wait_for_text(&browser, "browser-team").await;

    open(&browser, &app.url("/applications")).await;
    wait_for_text(&browser, "Browser App").await;
    open(&browser, team_url.as_str()).await;
    wait_for_text(&browser, "Browser App").await;

    // What the browser did is on record as pat's doing.
    let actors: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT entity_type, action, actor_name FROM audit_log WHERE entity_type IN ('team', 'application') ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actors,
        [
            (
                "team".to_owned(),
                "create".to_owned(),
                "Pat Platform".to_owned()
            ),
            (
                "application".to_owned(),
                "create".to_owned(),
                "Pat Platform".to_owned()
            ),
        ]
    );

    // An API token: its secret is shown once, in the page, from the creating call's answer.
    open(&browser, &app.url("/tokens")).await;
    type_into(&browser, "#field-name", "browser-automation").await;
    click(&browser, "#create-token").await;
    let secret = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#new-token-box:not([hidden]) #new-token"))
        .await
        .unwrap_or_else(|e| panic!("the new token is not shown: {e}"))
        .text()
        .await
        .unwrap_or_default();
    let prefix: String =
        sqlx::query_scalar("SELECT prefix FROM api_tokens WHERE name = 'browser-automation'")
            .fetch_one(&app.pool)
            .await
            .expect("the token is stored");
    assert!(
        !prefix.is_empty() && secret.starts_with(&prefix),
        "the page shows the new secret ({} characters), which starts with the stored prefix",
        secret.len()
    );
    wait_for_text(&browser, "browser-automation").await;

    // Sign out: the provider session ends too, so Demarc asks for the password again.
    field(&browser, "#sign-out")
        .await
        .click()
        .await
        .expect("click Sign out");
    wait_for_url(&browser, "the login form after logout", |u| {
        u.as_str().starts_with(&issuer)
    })
    .await;
    field(&browser, "#login").await;
    browser
        .goto(&app.url("/teams"))
        .await
        .expect("open Demarc again");
    wait_for_url(&browser, "the login form for a signed-out browser", |u| {
        u.as_str().starts_with(&issuer)
    })
    .await;

    browser.close().await.expect("close the browser");
}

/// Signs in through the provider's login form, starting from a Demarc page.
async fn sign_in(browser: &Client, app: &TestApp, user: &str) {
    browser.goto(&app.url("/")).await.expect("open Demarc");
    let issuer = Provider::get().issuer.clone();
    wait_for_url(browser, "the login form", |u| {
        u.as_str().starts_with(&issuer)
    })
    .await;
    type_into(browser, "#login", user).await;
    type_into(browser, "#password", "demo").await;
    field(browser, "#sign-in")
        .await
        .click()
        .await
        .expect("click Sign in");
    wait_for_url(browser, "the dashboard after login", |u| {
        u.as_str() == app.url("/")
    })
    .await;
    wait_hydrated(browser).await;
}

async fn sign_out(browser: &Client) {
    field(browser, "#sign-out")
        .await
        .click()
        .await
        .expect("click Sign out");
    let issuer = Provider::get().issuer.clone();
    wait_for_url(browser, "the login form after logout", |u| {
        u.as_str().starts_with(&issuer)
    })
    .await;
}

async fn click(browser: &Client, css: &str) {
    field(browser, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

#[tokio::test]
async fn a_scope_is_drafted_published_acknowledged_and_printed_as_of_a_date() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let mut driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    let scope = app.url(&format!("/platforms/{}/scope", seed.core));

    // Pat starts the draft from the built-in template, adds an item and publishes.
    sign_in(&browser, &app, "pat").await;
    open(&browser, &format!("{scope}/draft")).await;
    click(&browser, "#apply-template").await;
    wait_for_text(&browser, "Continuous delivery tool").await;
    wait_for_text(&browser, "Identity provider").await;
    click(&browser, "details.add-item > summary").await;
    type_into(&browser, "#field-new-name", "Service mesh").await;
    type_into(&browser, "#field-new-category", "Platform").await;
    type_into(
        &browser,
        "input[name='responsible'][id='responsible-new']",
        "@platform",
    )
    .await;
    type_into(
        &browser,
        "details.add-item input[name='raci[0][activity]']",
        "Mesh upgrades",
    )
    .await;
    type_into(
        &browser,
        "details.add-item input[name='raci[0][responsible]']",
        "@platform",
    )
    .await;
    // Two accountable parties: refused, with the reason next to the row.
    type_into(
        &browser,
        "details.add-item input[name='raci[0][accountable]']",
        "@platform, payments",
    )
    .await;
    click(&browser, "#add-item").await;
    wait_for_text(&browser, "exactly one Accountable party (found 2)").await;
    type_into(
        &browser,
        "details.add-item input[name='raci[0][accountable]']",
        "@platform",
    )
    .await;
    click(&browser, "#add-item").await;
    wait_for_text(&browser, "Edit “Service mesh”").await;
    type_into(
        &browser,
        "#field-summary",
        "First scope: the known-to-work split plus the mesh.",
    )
    .await;
    click(&browser, "#publish-button").await;
    wait_for_url(&browser, "the published scope", |u| u.as_str() == scope).await;
    wait_for_text(&browser, "Revision 1 · published").await;
    wait_for_text(&browser, "Service mesh").await;
    let first_published = chrono::Utc::now();
    sign_out(&browser).await;

    // Alice acknowledges revision 1 for her team.
    sign_in(&browser, &app, "alice").await;
    open(&browser, &scope).await;
    wait_for_text(&browser, "has not acknowledged this platform's scope yet").await;
    click(&browser, "#acknowledge-payments").await;
    wait_for_text(&browser, "Up to date").await;
    let acked: (i32, String) = sqlx::query_as(
        "SELECT revision, acknowledged_by FROM scope_acknowledgements WHERE team_id = $1",
    )
    .bind(seed.payments)
    .fetch_one(&app.pool)
    .await
    .expect("an acknowledgement");
    assert_eq!(acked, (1, "Alice Payments".to_owned()));
    sign_out(&browser).await;

    // Audrey opens the printable statement as of today.
    sign_in(&browser, &app, "audrey").await;
    let date = first_published.format("%Y-%m-%d");
    browser
        .goto(&format!("{scope}/statement?as_of={date}"))
        .await
        .expect("open the statement");
    wait_for_text(&browser, "Revision 1").await;
    wait_for_text(&browser, "Service mesh").await;
    wait_for_text(&browser, "No hostPath volumes").await;
    browser.close().await.expect("close the browser");
}

/// The value of `attribute` on the first element matching `css`, if both exist.
async fn attribute(browser: &Client, css: &str, attribute: &str) -> Option<String> {
    let element = browser.find(Locator::Css(css)).await.ok()?;
    element.attr(attribute).await.ok().flatten()
}

#[tokio::test]
async fn a_team_verifies_its_application_from_the_ui_and_watches_the_progress() {
    use domain::db::Caller;
    use domain::golive::model::{ConnectionInput, ItemDef, TemplateInput};

    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let system = Caller::system();
    // A slow cluster (every answer 300 ms late), so the progress can be watched even on a busy
    // machine.
    let cluster = kube_fixture::start(
        kube_fixture::Config::from_dir(workspace_root().join("tests/fixtures/cluster"))
            .expect("fixtures load")
            .token("browser-token")
            .failure(kube_fixture::Failure::Slow(Duration::from_millis(300))),
    )
    .await
    .expect("the test API server starts");
    domain::golive::connections::set(
        &app.pool,
        &system,
        &app.state.secrets,
        seed.production,
        ConnectionInput {
            mode: "token".into(),
            server_url: cluster.url.clone(),
            secret: "browser-token".into(),
            ..Default::default()
        },
    )
    .await
    .expect("a connection");
    let items: Vec<ItemDef> = serde_json::from_value(serde_json::json!([
        { "key": "replicas", "title": "At least two replicas", "check": "replicas" },
        { "key": "probes", "title": "Readiness probes", "check": "probes" },
        { "key": "load-test", "title": "Load test at peak" },
    ]))
    .unwrap();
    domain::golive::store::save_template(
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
    .expect("a template");
    domain::applications::create(
        &app.pool,
        &system,
        domain::model::ApplicationInput {
            team_id: seed.payments,
            slug: "shop".into(),
            name: "Shop".into(),
            description: String::new(),
            placements: vec![domain::model::Placement {
                environment_id: seed.production,
                namespace: "shop".into(),
            }],
        },
    )
    .await
    .expect("the application");

    let mut driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    sign_in(&browser, &app, "alice").await;

    // The board lists the application as not started; Alice opens its review.
    open(&browser, &app.url("/golive?team=payments")).await;
    let row = "tr.board-row[data-application='shop']";
    assert_eq!(
        attribute(&browser, row, "data-state").await.as_deref(),
        Some("not_started")
    );
    click(&browser, &format!("{row} button.open-review")).await;
    wait_for_url(&browser, "the new review", |u| {
        u.path().starts_with("/golive/reviews/")
    })
    .await;
    wait_hydrated(&browser).await;
    wait_for_text(&browser, "At least two replicas").await;

    // She starts a verification and watches it: queued or running with steps, then done.
    click(&browser, "#verify").await;
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut states = Vec::new();
    let mut steps = Vec::new();
    loop {
        if let Some(state) = attribute(&browser, "#run-panel", "data-run-state").await
            && states.last() != Some(&state)
        {
            states.push(state);
        }
        if let Ok(step) = browser.find(Locator::Css("#run-step")).await
            && let Ok(text) = step.text().await
            && !text.is_empty()
            && steps.last() != Some(&text)
        {
            steps.push(text);
        }
        if states
            .last()
            .is_some_and(|s| s == "succeeded" || s == "failed")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not finish; states {states:?}, steps {steps:?}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert_eq!(
        states.last().map(String::as_str),
        Some("succeeded"),
        "{states:?}"
    );
    assert!(
        states.iter().any(|s| s == "running"),
        "the page showed the run while it ran: {states:?}"
    );
    assert!(
        steps.iter().any(|s| s.starts_with("Read ")),
        "the page showed the kinds being read: {steps:?}"
    );

    // The results: replicas fails because of the legacy Deployment, with the evidence.
    let replicas = "#item-replicas[data-status='failed']";
    let item = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(replicas))
        .await
        .unwrap_or_else(|e| panic!("{replicas}: {e}"));
    let text = item.text().await.unwrap_or_default();
    assert!(text.contains("legacy"), "{text}");
    let summary = field(&browser, "#run-summary").await.text().await.unwrap();
    assert!(!summary.is_empty());
    assert_eq!(
        attribute(&browser, "#item-load-test", "data-status")
            .await
            .as_deref(),
        Some("pending")
    );
    browser.close().await.expect("close the browser");
    cluster.shutdown().await;
}

#[tokio::test]
async fn pat_plans_staging_and_production_announces_a_major_update_and_sees_both_on_the_month_grid()
{
    use domain::calendar::{add_working_days, plans};
    use domain::db::Caller;

    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let mut driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    sign_in(&browser, &app, "pat").await;

    // Staging: the second Tuesday of every month, 20:00 in Amsterdam, six hours.
    open(
        &browser,
        &app.url(&format!("/calendar/plans?platform={}", seed.core)),
    )
    .await;
    click(&browser, "#rhythm-staging-monthly_weekday").await;
    field(&browser, "#ordinal-staging")
        .await
        .select_by_value("second")
        .await
        .expect("choose the second week");
    field(&browser, "#weekday-staging")
        .await
        .select_by_value("tue")
        .await
        .expect("choose Tuesday");
    type_into(&browser, "#field-staging-start_time", "20:00").await;
    type_into(&browser, "#field-staging-time_zone", "Europe/Amsterdam").await;
    type_into(&browser, "#field-staging-duration_hours", "6").await;
    click(&browser, "#save-plan-staging").await;
    wait_for_text(&browser, "Every second Tuesday of the month").await;

    // Production follows staging by five working days.
    click(&browser, "#rhythm-production-follows").await;
    field(&browser, "#follows-production")
        .await
        .select_by_value(&seed.staging.to_string())
        .await
        .expect("choose staging");
    type_into(&browser, "#soak-production", "5").await;
    type_into(&browser, "#field-production-start_time", "20:00").await;
    type_into(&browser, "#field-production-time_zone", "Europe/Amsterdam").await;
    type_into(&browser, "#field-production-duration_hours", "6").await;
    click(&browser, "#save-plan-production").await;
    wait_for_text(&browser, "Follows staging by 5 working days").await;

    // A major update needs 30 days' notice: the first staging window at least 35 days ahead.
    let now = chrono::Utc::now();
    let first = plans::schedule(
        &app.pool,
        &Caller::system(),
        seed.staging,
        now + chrono::Duration::days(35),
        now + chrono::Duration::days(120),
    )
    .await
    .expect("the staging schedule")
    .windows
    .remove(0);
    let window = first.local_date;
    let production_day = add_working_days(window, 5);

    open(
        &browser,
        &app.url(&format!(
            "/calendar/maintenances/new?environment={}",
            seed.staging
        )),
    )
    .await;
    field(&browser, "#field-category")
        .await
        .select_by_value("major")
        .await
        .expect("choose a major update");
    field(&browser, "#field-window_date")
        .await
        .select_by_value(&window.to_string())
        .await
        .expect("choose the window");
    type_into(&browser, "#field-title", "Ingress controller 2.0").await;
    type_into(&browser, "#field-lead", "Pat Platform").await;
    type_into(&browser, "#field-components", "ingress-nginx 2.0").await;
    type_into(
        &browser,
        "#field-expected_impact",
        "Ingress annotations of the 1.x series stop working.",
    )
    .await;
    type_into(
        &browser,
        "#field-contingency_plan",
        "Reinstall the 1.x chart from the pinned version.",
    )
    .await;
    click(&browser, "#create-maintenance").await;
    wait_for_url(&browser, "the new maintenance", |u| {
        u.path().starts_with("/calendar/maintenances/") && u.path() != "/calendar/maintenances/new"
    })
    .await;
    wait_hydrated(&browser).await;
    wait_for_text(&browser, "Ingress controller 2.0").await;
    // Less than two months' notice: planned, with the rule's warning.
    if first.starts_at - now < chrono::Duration::days(60) {
        wait_for_text(&browser, "two months gives them time").await;
    }

    // Announced to the teams.
    click(&browser, "#step-announce").await;
    field(&browser, "#maintenance-state [data-state='announced']").await;
    let state: String =
        sqlx::query_scalar("SELECT state FROM maintenances WHERE title = 'Ingress controller 2.0'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(state, "announced");

    // A change after the announcement: the edit form, then the detail page with the new title;
    // calendar subscribers see a new SEQUENCE of the same event.
    let sequence = |title: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i32>("SELECT sequence FROM maintenances WHERE title = $1")
                .bind(title)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("maintenance {title}: {e}"))
        }
    };
    let before = sequence("Ingress controller 2.0").await;
    click(&browser, "#edit-maintenance").await;
    wait_for_url(&browser, "the edit form", |u| u.path().ends_with("/edit")).await;
    wait_hydrated(&browser).await;
    type_into(&browser, "#field-title", "Ingress controller 2.1").await;
    click(&browser, "#update-maintenance").await;
    wait_for_url(&browser, "back on the maintenance", |u| {
        u.path().starts_with("/calendar/maintenances/") && !u.path().ends_with("/edit")
    })
    .await;
    wait_for_text(&browser, "Ingress controller 2.1").await;
    assert!(
        sequence("Ingress controller 2.1").await > before,
        "the change bumps the event's SEQUENCE"
    );

    // The month grid: the maintenance on staging's day, production's window five working days
    // later, saying which staging window it follows.
    let month = window.format("%Y-%m");
    open(&browser, &app.url(&format!("/calendar?month={month}"))).await;
    let staging_cell = format!("#month-grid td[data-date='{window}']");
    let maintenance = field(
        &browser,
        &format!("{staging_cell} .entry.kind-maintenance.cat-major[data-environment='staging']"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        maintenance.contains("Ingress controller 2.1"),
        "{maintenance}"
    );
    assert!(maintenance.contains("Announced"), "{maintenance}");
    let production = field(
        &browser,
        &format!(
            "#month-grid td[data-date='{production_day}'] .entry.kind-window[data-environment='production']"
        ),
    )
    .await
    .text()
    .await
    .unwrap();
    let follows = format!("follows staging {}", window.format("%a %-d %b"));
    assert!(production.contains(&follows), "{production}");

    // The agenda pairs them with the soak between.
    open(
        &browser,
        &app.url(&format!("/calendar?month={month}&view=agenda")),
    )
    .await;
    wait_for_text(
        &browser,
        &format!(
            "staging {} → production {}, +5 working days",
            window.format("%a %-d %b"),
            production_day.format("%a %-d %b")
        ),
    )
    .await;
    browser.close().await.expect("close the browser");
}
