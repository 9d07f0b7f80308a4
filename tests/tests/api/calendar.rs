//! The maintenance calendar over REST with real parts: plans with a staging-production skew,
//! blackouts and holiday suggestions, the maintenance rules (notice, staging first, end of life,
//! emergencies), the lifecycle with retrospectives and action items, acknowledgements, reminders
//! from the job queue on a clock the test controls (once, across restarts and replicas), ICS
//! feeds read back by a real parser, and e-mail to a real SMTP server on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::{Options, Seed, TestApp};
use uuid::Uuid;

use super::support::{call, fields, get_text, payments_webhook};

mod maintenances;
mod plans;

/// Monday 4 January 2027, 09:00 UTC: "now" in these tests.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 4, 9, 0, 0).unwrap()
}

/// A server with demo data whose clock stands at [`monday`].
async fn on_monday() -> (TestApp, Seed) {
    let app = TestApp::spawn_with(Options {
        clock: Some(monday()),
        ..Options::default()
    })
    .await;
    let seed = app.seed().await;
    (app, seed)
}

fn field(body: &Value, name: &str) -> String {
    body["error"]["fields"][name]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn staging_plan() -> Value {
    json!({
        "recurrence": { "kind": "monthly_weekday", "ordinal": "second", "weekday": "Tue" },
        "start_time": "20:00",
        "time_zone": "Europe/Amsterdam",
        "duration_hours": 6,
        "allowed_categories": ["security_patch", "minor", "major"],
    })
}

fn production_plan(staging: Uuid, soak: i64) -> Value {
    json!({
        "follows_environment_id": staging,
        "soak_working_days": soak,
        "start_time": "22:00",
        "time_zone": "Europe/Amsterdam",
        "duration_hours": 6,
        "blackout_policy": "move_to_next_allowed_day",
        "allowed_categories": ["security_patch", "minor", "major"],
    })
}

/// Staging on the second Tuesday at 20:00, production 5 working days later at 22:00.
async fn plan_core(app: &TestApp, pat: &Client, seed: &Seed) {
    for (env, body) in [
        (seed.staging, staging_plan()),
        (seed.production, production_plan(seed.staging, 5)),
    ] {
        let (status, plan) = call(
            app,
            pat,
            Method::PUT,
            &format!("/api/v1/environments/{env}/maintenance-plan"),
            Some("\"0\""),
            Some(&body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
    }
}

fn maintenance(env: Uuid, category: &str, window: &str) -> Value {
    json!({
        "environment_id": env,
        "category": category,
        "title": "Kubernetes 1.36",
        "window_date": window,
        "kubernetes_from": "1.35",
        "kubernetes_to": "1.36",
        "description": "The control plane first, then the node pools one by one.",
        "expected_impact": "Nodes drain one by one; pods restart.",
        "contingency_plan": "Roll the node pools back to the previous image.",
        "lead": "Pat Platform",
    })
}

/// Plans a minor update in staging's window of Tue 12 Jan 2027 and announces it: its id and form.
async fn announce_minor_update(app: &TestApp, pat: &Client, seed: &Seed) -> (String, Value) {
    let mut form = maintenance(seed.staging, "minor", "2027-01-12");
    form["kubernetes_from"] = json!("");
    form["kubernetes_to"] = json!("");
    let (status, body) = call(
        app,
        pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["maintenance"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/maintenances/{id}/announce");
    let (status, body) = call(app, pat, Method::POST, &path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, form)
}

/// Waits until `received` holds `n` bodies matching `pred`, then a little longer to catch extras.
async fn expect_calls(received: &Arc<Mutex<Vec<Value>>>, pred: impl Fn(&Value) -> bool, n: usize) {
    let count = || received.lock().unwrap().iter().filter(|v| pred(v)).count();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while count() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "expected {n} webhook calls, got {}: {:?}",
            count(),
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(count(), n, "{:?}", received.lock().unwrap());
}

#[tokio::test]
async fn production_follows_staging_by_a_soak_and_blackouts_are_explained_by_date() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let audrey = app.login("audrey").await;
    let plan_path = |env: Uuid| format!("/api/v1/environments/{env}/maintenance-plan");

    // Bad input names its fields; nothing is stored.
    let mut bad = staging_plan();
    bad["start_time"] = json!("25:00");
    bad["time_zone"] = json!("+01:00");
    bad["duration_hours"] = json!(2);
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &plan_path(seed.staging),
        Some("\"0\""),
        Some(&bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["duration_hours", "start_time", "time_zone"]);
    let (status, _) = call(
        &app,
        &pat,
        Method::GET,
        &plan_path(seed.staging),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without If-Match: refused before anything happens.
    let (status, _) = call(
        &app,
        &pat,
        Method::PUT,
        &plan_path(seed.staging),
        None,
        Some(&staging_plan()),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    // Auditors never write.
    let (status, _) = call(
        &app,
        &audrey,
        Method::PUT,
        &plan_path(seed.staging),
        Some("\"0\""),
        Some(&staging_plan()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Production cannot follow a plan that does not exist yet; staging cannot follow production.
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &plan_path(seed.production),
        Some("\"0\""),
        Some(&production_plan(seed.staging, 5)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "follows_environment_id").contains("no maintenance plan"),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &plan_path(seed.staging),
        Some("\"0\""),
        Some(&production_plan(seed.production, 5)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "follows_environment_id").contains("does not come before"),
        "{body}"
    );

    plan_core(&app, &pat, &seed).await;
    let (status, plan) = call(
        &app,
        &pat,
        Method::GET,
        &plan_path(seed.staging),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plan["rhythm"]["rrule"], "FREQ=MONTHLY;BYDAY=2TU");
    // A stale edit is a conflict, not a lost update.
    let (status, _) = call(
        &app,
        &pat,
        Method::PUT,
        &plan_path(seed.staging),
        Some("\"7\""),
        Some(&staging_plan()),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    // Production: one window per staging window, five working days later, 22:00 local (UTC+1).
    let (status, sched) = call(
        &app,
        &pat,
        Method::GET,
        &format!(
            "/api/v1/environments/{}/schedule?from=2027-01-01&to=2027-04-01",
            seed.production
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sched}");
    let days: Vec<&str> = sched["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["local_date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2027-01-19", "2027-02-16", "2027-03-16"]);
    assert_eq!(sched["windows"][0]["starts_at"], "2027-01-19T21:00:00Z");
    assert_eq!(sched["windows"][0]["follows"], "2027-01-12");
    assert_eq!(sched["skew_violations"], json!([]));

    // A freeze on staging skips its February window, and production's February window goes with
    // it: production repeats what staging received, and staging received nothing that month.
    let (status, blackout) = post_blackout(&app, &pat, &seed, json!({"environment_id": seed.staging, "first_day": "2027-02-08", "last_day": "2027-02-10", "reason": "Release freeze"}))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{blackout}");
    let quarter = format!(
        "/api/v1/environments/{}/schedule?from=2027-01-01&to=2027-04-01",
        seed.production
    );
    let (_, sched) = call(&app, &pat, Method::GET, &quarter, None, None).await;
    let days: Vec<&str> = sched["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["local_date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2027-01-19", "2027-03-16"], "{sched}");
    assert_eq!(
        sched["skipped"],
        json!([{"nominal_date": "2027-02-16", "reason": "Release freeze"}])
    );
    assert_eq!(sched["skew_violations"], json!([]), "{sched}");
    // So production's plan is saved as before.
    let version: i32 =
        sqlx::query_scalar("SELECT version FROM maintenance_plans WHERE environment_id = $1")
            .bind(seed.production)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (status, body) = put_plan(
        &app,
        &pat,
        seed.production,
        version,
        &production_plan(seed.staging, 5),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    // Removing the freeze puts staging's window back, and production's after it.
    let (status, _) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/blackouts/{}", blackout["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, sched) = call(&app, &pat, Method::GET, &quarter, None, None).await;
    let days: Vec<&str> = sched["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["local_date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2027-01-19", "2027-02-16", "2027-03-16"], "{sched}");
    // Staging cannot be removed while production follows it.
    let (status, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &plan_path(seed.staging),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Public holidays as suggestions, from data in the repository.
    let (status, holidays) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/holidays?country=NL&year=2027",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{holidays}");
    assert!(
        holidays
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["date"] == "2027-04-27"),
        "{holidays}"
    );
    let (status, body) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/holidays?country=XX&year=2027",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["country"]);

    // Every change is in the audit log.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type IN ('maintenance_plan', 'blackout') ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "maintenance_plan.create",
            "maintenance_plan.create",
            "blackout.create",
            "maintenance_plan.update",
            "blackout.remove"
        ]
    );
}

#[tokio::test]
async fn maintenances_respect_notice_staging_first_and_end_of_life_and_end_with_a_retrospective() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let audrey = app.login("audrey").await;
    plan_core(&app, &pat, &seed).await;
    let post = |client: &Client, path: &str, body: Value| {
        let (app, client, path) = (&app, client.clone(), path.to_owned());
        async move { call(app, &client, Method::POST, &path, None, Some(&body)).await }
    };

    // Not a window of staging: the next windows are named.
    let (status, body) = post(
        &pat,
        "/api/v1/maintenances",
        maintenance(seed.staging, "minor", "2027-01-13"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "window_date").contains("Tue 12 Jan 2027"),
        "{body}"
    );
    // A major update needs 30 days' notice: January's window is too close; February's is named.
    let (status, body) = post(
        &pat,
        "/api/v1/maintenances",
        maintenance(seed.staging, "major", "2027-01-12"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "window_date").contains("Tue 9 Feb 2027"),
        "{body}"
    );
    // An upgrade must land before the running version's end of life (1.35: 28 Feb 2027).
    let (status, body) = post(
        &pat,
        "/api/v1/maintenances",
        maintenance(seed.staging, "major", "2027-03-09"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let eol = field(&body, "window_date");
    assert!(
        eol.contains("end of life") && eol.contains("Tue 9 Feb 2027"),
        "{body}"
    );

    let (status, staged) = post(
        &pat,
        "/api/v1/maintenances",
        maintenance(seed.staging, "major", "2027-02-09"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{staged}");
    assert_eq!(staged["maintenance"]["starts_at"], "2027-02-09T19:00:00Z");
    assert!(
        staged["warnings"][0].as_str().unwrap().contains("36 days"),
        "{staged}"
    );
    let staging_id = staged["maintenance"]["id"].as_str().unwrap().to_owned();

    // Production receives only what staging received first.
    let (status, body) = post(
        &pat,
        "/api/v1/maintenances",
        maintenance(seed.production, "major", "2027-02-16"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["staging_maintenance_id"]);
    let mut prod = maintenance(seed.production, "major", "2027-02-16");
    prod["staging_maintenance_id"] = json!(staging_id);
    prod["kubernetes_to"] = json!("1.37");
    let (status, body) = post(&pat, "/api/v1/maintenances", prod.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "staging_maintenance_id").contains("not 1.37"),
        "{body}"
    );
    prod["kubernetes_to"] = json!("1.36");
    let (status, produced) = post(&pat, "/api/v1/maintenances", prod).await;
    assert_eq!(status, StatusCode::CREATED, "{produced}");
    assert_eq!(produced["maintenance"]["starts_at"], "2027-02-16T21:00:00Z");
    // On the calendar, production's maintenance names the staging one it repeats.
    let (status, events) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/calendar/events?from=2027-02-01&to=2027-03-01&kind=maintenance,window&platform=core",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let pairs: Vec<(&str, &str, &str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["environment_slug"] == "production")
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["local_date"].as_str().unwrap(),
                e["follows_environment"].as_str().unwrap_or("-"),
                e["follows"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [("maintenance", "2027-02-16", "staging", "2027-02-09")]
    );

    // Auditors and application teams do not plan maintenance.
    for who in [&audrey, &alice] {
        let (status, _) = post(
            who,
            "/api/v1/maintenances",
            maintenance(seed.staging, "minor", "2027-03-09"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // Announce; teams that run applications in staging acknowledge it (only for their own team).
    let m = |id: &str, step: &str| format!("/api/v1/maintenances/{id}/{step}");
    let (status, body) = post(&pat, &m(&staging_id, "start"), json!({})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a major update starts only once announced: {body}"
    );
    let (status, body) = post(&pat, &m(&staging_id, "announce"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["maintenance"]["state"], "announced");
    // Announced today, 36 days ahead: above the minimum, below the two months teams like.
    assert!(
        body["warnings"][0].as_str().unwrap().contains("36 days"),
        "{body}"
    );
    let (status, _) = post(
        &bob,
        &m(&staging_id, "acknowledgements"),
        json!({"team_id": seed.payments}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, acks) = post(
        &alice,
        &m(&staging_id, "acknowledgements"),
        json!({"team_id": seed.payments}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{acks}");
    let acked: Vec<(String, bool)> = acks
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["team_slug"].as_str().unwrap().to_owned(),
                a["acknowledged_by"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        acked,
        [("payments".to_owned(), true), ("search".to_owned(), false)]
    );
    // The dashboard names the team the platform still waits for.
    let dashboard = pat
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let awaiting = dashboard
        .split("id=\"awaiting-acknowledgement\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no awaiting acknowledgements: {dashboard}"));
    let awaiting = &awaiting[..awaiting.find("</ul>").unwrap()];
    assert!(
        awaiting.contains("waiting for Search") && !awaiting.contains("Payments"),
        "{awaiting}"
    );

    // The lifecycle: started, completed, then only a retrospective; nothing goes back or away.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 2, 9, 19, 5, 0).unwrap());
    let (status, body) = post(&pat, &m(&staging_id, "start"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = post(
        &pat,
        &m(&staging_id, "cancel"),
        json!({"reason": "changed our mind"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a started maintenance can only be ended"
    );
    let (status, body) = post(&pat, &m(&staging_id, "complete"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["retrospective_due"], true);
    let ended = format!("\"{}\"", body["version"]);
    let (status, _) = post(&pat, &m(&staging_id, "announce"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let deleted = sqlx::query("DELETE FROM maintenances WHERE id = $1")
        .bind(Uuid::parse_str(&staging_id).unwrap())
        .execute(&app.pool)
        .await;
    assert!(
        deleted.is_err(),
        "the database refuses to delete a maintenance"
    );

    let retro = json!({
        "went_well": "Drains respected every disruption budget.",
        "to_improve": "Announce the node image too.",
        "action_items": [{"title": "Add the node image to the template", "owner": "Pat", "due_on": "2027-03-01"}],
    });
    let (status, body) = call(&app, &pat, Method::PUT, &m(&staging_id, "retrospective"), Some(&ended), Some(&json!({"went_well": " ", "to_improve": "", "action_items": [{"title": "", "owner": "Pat", "due_on": "2027-03-01"}]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["action_items[0].title", "went_well"]);
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &m(&staging_id, "retrospective"),
        Some(&ended),
        Some(&retro),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["retrospective_due"], false);
    let (_, items) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/action-items",
        None,
        None,
    )
    .await;
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    let item = items[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &audrey,
        &format!("/api/v1/action-items/{item}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, done) = post(
        &pat,
        &format!("/api/v1/action-items/{item}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, items) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/action-items",
        None,
        None,
    )
    .await;
    assert_eq!(items, json!([]));

    // An emergency skips windows and notice, but needs a justification and a retrospective.
    let mut emergency = json!({
        "environment_id": seed.production,
        "category": "emergency",
        "title": "Patch the exploited runc escape",
        "starts_at": "2027-02-10T10:00:00Z",
        "ends_at": "2027-02-10T12:00:00Z",
        "lead": "Pat Platform",
        "contingency_plan": "Cordon the patched nodes and move workloads back.",
    });
    let (status, body) = post(&pat, "/api/v1/maintenances", emergency.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["justification"]);
    emergency["justification"] = json!("A public exploit escapes containers on our node version.");
    let (status, body) = post(&pat, "/api/v1/maintenances", emergency).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["maintenance"]["id"].as_str().unwrap().to_owned();
    for step in ["start", "complete"] {
        let (status, body) = post(&pat, &m(&id, step), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, body) = call(
        &app,
        &audrey,
        Method::GET,
        &format!("/api/v1/maintenances/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(body["retrospective_due"], true);

    // Auditors keep the history as CSV: notice given, how it ended, the retrospective.
    let response = audrey
        .get(app.url("/api/v1/maintenances/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("platform,environment,category,title,state,starts_at"),
        "{csv}"
    );
    assert_eq!(lines.len(), 4, "a header and three maintenances: {csv}");
    let staging_row = lines
        .iter()
        .find(|l| l.contains(",staging,major,"))
        .unwrap();
    assert!(
        staging_row.contains(",completed,") && staging_row.contains(",36,"),
        "{staging_row}"
    );

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'maintenance' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "maintenance.create",
            "maintenance.create",
            "maintenance.announced",
            "maintenance.acknowledge",
            "maintenance.in_progress",
            "maintenance.completed",
            "maintenance.retrospective",
            "maintenance.create",
            "maintenance.in_progress",
            "maintenance.completed",
        ]
    );
}

#[tokio::test]
async fn reminders_fire_once_each_across_restarts_and_replicas() {
    let (mut app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;
    let (url, received) = super::support::webhook_receiver().await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // A minor update in staging's window of Tue 12 Jan, 19:00 UTC.
    let (id, mut form) = announce_minor_update(&app, &pat, &seed).await;
    let event = |name: &'static str| move |v: &Value| v["event"] == name;
    let reminder = |minutes: i64| {
        move |v: &Value| v["event"] == "maintenance.reminder" && v["reminder_minutes"] == minutes
    };
    expect_calls(&received, event("maintenance.announced"), 1).await;
    assert_eq!(received.lock().unwrap()[0]["maintenance"]["id"], json!(id));

    // Seven days before: one reminder.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 5, 19, 1, 0).unwrap());
    expect_calls(&received, reminder(10080), 1).await;
    // A restart into two replicas sends nothing again.
    app.restart_workers(2);
    tokio::time::sleep(Duration::from_secs(1)).await;
    expect_calls(&received, reminder(10080), 1).await;

    // A change that keeps the start: teams hear of the change; the reminders stay as they were.
    let etag = format!(
        "\"{}\"",
        app.version_of("maintenances", Uuid::parse_str(&id).unwrap())
            .await
    );
    form["title"] = json!("Minor update: CoreDNS and the CNI");
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &format!("/api/v1/maintenances/{id}"),
        Some(&etag),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    expect_calls(&received, event("maintenance.changed"), 1).await;

    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 9, 19, 1, 0).unwrap());
    expect_calls(&received, reminder(4320), 1).await;
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 1, 0).unwrap());
    expect_calls(&received, reminder(60), 1).await;
    assert_eq!(
        received.lock().unwrap().len(),
        5,
        "announced, changed and three reminders"
    );

    // Every delivery was recorded once.
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM delivery_attempts WHERE ok")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 5);
}

/// The feed's events, parsed by the `icalendar` crate after checking what that parser lets
/// through: CRLF line ends, lines folded at 75 octets, the calendar's VERSION and PRODID, and
/// in every event the properties RFC 5545 requires (UID, DTSTAMP) and a start.
/// Makes a calendar feed (`scope`: environment, platform or team) and returns its URL.
async fn new_feed(app: &TestApp, client: &Client, scope: &str, scope_id: Uuid) -> String {
    let (status, feed) = call(
        app,
        client,
        Method::POST,
        "/api/v1/calendar-feeds",
        None,
        Some(&json!({"scope": scope, "scope_id": scope_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{feed}");
    feed["path"].as_str().unwrap().to_owned()
}

/// Plans staging with `staging` and production five working days after it (both new plans), and
/// returns the address of production's feed.
async fn staging_then_production_feed(
    app: &TestApp,
    pat: &Client,
    seed: &Seed,
    staging: &Value,
) -> String {
    for (env, plan) in [
        (seed.staging, staging.clone()),
        (seed.production, production_plan(seed.staging, 5)),
    ] {
        let (status, body) = put_plan(app, pat, env, 0, &plan).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    new_feed(app, pat, "environment", seed.production).await
}

/// Adds a blackout to platform core (`body` as the API takes it): the answer.
async fn post_blackout(
    app: &TestApp,
    client: &Client,
    seed: &Seed,
    body: Value,
) -> (StatusCode, Value) {
    call(
        app,
        client,
        Method::POST,
        &format!("/api/v1/platforms/{}/blackouts", seed.core),
        None,
        Some(&body),
    )
    .await
}

/// What a calendar client fetching the feed's URL reads.
async fn feed_text(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// The event with `uid` in the feed at `url`, as a calendar client reads it.
async fn feed_event(url: &str, uid: &str) -> icalendar::parser::Component<'static> {
    let text = feed_text(url).await;
    parse_feed(&text)
        .into_iter()
        .find(|e| prop(e, "UID").as_deref() == Some(uid))
        .unwrap_or_else(|| panic!("{uid} in the feed:\n{text}"))
}

/// An event's SEQUENCE.
fn sequence_of(event: &icalendar::parser::Component<'_>) -> i64 {
    prop(event, "SEQUENCE").unwrap().parse().unwrap()
}

fn parse_feed(text: &str) -> Vec<icalendar::parser::Component<'static>> {
    assert!(
        text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
        "CRLF lines"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "a line longer than 75 octets: {line:?}");
    }
    let unfolded = icalendar::parser::unfold(text);
    let leaked: &'static str = Box::leak(unfolded.into_boxed_str());
    let calendar =
        icalendar::parser::read_calendar(leaked).unwrap_or_else(|e| panic!("not ICS: {e}\n{text}"));
    let root = calendar.components.iter().find(|c| c.name == "VCALENDAR");
    if let Some(root) = root {
        assert_eq!(prop(root, "VERSION").as_deref(), Some("2.0"));
        assert!(prop(root, "PRODID").is_some());
    }
    let events: Vec<_> = calendar
        .components
        .into_iter()
        .flat_map(|c| {
            if c.name == "VCALENDAR" {
                c.components
            } else {
                vec![c]
            }
        })
        .filter(|c| c.name == "VEVENT")
        .collect();
    for event in &events {
        for required in ["UID", "DTSTAMP", "DTSTART"] {
            assert!(
                prop(event, required).is_some(),
                "an event without {required}"
            );
        }
    }
    events
}

fn prop(event: &icalendar::parser::Component<'_>, name: &str) -> Option<String> {
    event
        .properties
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.val.to_string())
}

#[tokio::test]
async fn feeds_are_valid_ics_with_stable_uids_sequences_and_cancellations() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    plan_core(&app, &pat, &seed).await;

    let url = new_feed(&app, &pat, "platform", seed.core).await;
    assert!(url.starts_with(&app.base) && url.ends_with(".ics"), "{url}");
    // Team feeds are the team's to make.
    let (status, _) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/calendar-feeds",
        None,
        Some(&json!({"scope": "team", "scope_id": seed.payments})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, team_feed) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/calendar-feeds",
        None,
        Some(&json!({"scope": "team", "scope_id": seed.payments})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team_feed}");

    let fetch = |url: String| async move {
        let response = reqwest::get(&url).await.unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, kind, response.text().await.unwrap())
    };
    let (status, kind, text) = fetch(url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("text/calendar; charset=utf-8"));
    let events = parse_feed(&text);
    // Windows of both environments for the next year: 12 staging + 12 production at least.
    assert!(events.len() >= 24, "{} events", events.len());
    let first = events
        .iter()
        .find(|e| prop(e, "DTSTART").as_deref() == Some("20270112T190000Z"))
        .expect("staging's January window");
    assert!(
        prop(first, "UID")
            .unwrap()
            .starts_with(&format!("window-{}-2027-01-12", seed.staging))
    );
    assert_eq!(prop(first, "STATUS").as_deref(), Some("TENTATIVE"));

    // A maintenance in February's window; changed (SEQUENCE grows); cancelled (STATUS:CANCELLED).
    let mut form = maintenance(seed.staging, "minor", "2027-02-09");
    form["title"] = json!("Node image, with a comma; and a semicolon");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["maintenance"]["id"].as_str().unwrap().to_owned();
    let uid = format!("maintenance-{id}@demarc");
    let find = |text: &str| {
        parse_feed(text)
            .into_iter()
            .find(|e| prop(e, "UID").as_deref() == Some(uid.as_str()))
            .map(|e| {
                (
                    prop(&e, "SEQUENCE"),
                    prop(&e, "STATUS"),
                    prop(&e, "SUMMARY"),
                    prop(&e, "DTSTART"),
                )
            })
    };
    let (_, _, text) = fetch(url.clone()).await;
    let (_, status0, summary, start) = find(&text).expect("the maintenance is in the feed");
    // Planned, it may still move; announced, the teams can count on it.
    assert_eq!(status0.as_deref(), Some("TENTATIVE"));
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/maintenances/{id}/announce"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, text) = fetch(url.clone()).await;
    let (seq0, announced, _, _) = find(&text).unwrap();
    assert_eq!(announced.as_deref(), Some("CONFIRMED"));
    assert_eq!(start.as_deref(), Some("20270209T190000Z"));
    assert!(
        summary
            .unwrap()
            .contains("Node image, with a comma; and a semicolon")
    );
    assert!(
        !parse_feed(&text).iter().any(|e| prop(e, "UID")
            .unwrap()
            .starts_with(&format!("window-{}-2027-02-09", seed.staging))),
        "the maintenance takes its window's place"
    );
    let (status, _) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/maintenances/{id}/cancel"),
        None,
        Some(&json!({"reason": "Folded into March"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, text) = fetch(url.clone()).await;
    let (seq1, status1, _, _) = find(&text).expect("a cancelled maintenance stays in the feed");
    assert_eq!(status1.as_deref(), Some("CANCELLED"));
    let n = |s: Option<String>| s.unwrap().parse::<i64>().unwrap();
    assert!(n(seq1) > n(seq0));

    // The team's feed shows the environments its applications run in.
    let (status, _, text) = fetch(team_feed["path"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(find(&text).is_some());

    // Rotating the token: the old URL stops working, the new one works.
    let (status, rotated) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/calendar-feeds",
        None,
        Some(&json!({"scope": "platform", "scope_id": seed.core})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(rotated["path"], url.as_str());
    assert_eq!(fetch(url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(rotated["path"].as_str().unwrap().to_owned()).await.0,
        StatusCode::OK
    );
    // Tokens are kept only as hashes.
    let token = rotated["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_owned();
    // The row holds the token's SHA-256 (that is how the feed was found above) and the token
    // itself nowhere, in no column.
    let (hashed, in_clear): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE token_hash = sha256(convert_to($1, 'UTF8'))),
                count(*) FILTER (WHERE position($1 in row_to_json(f)::text) > 0)
         FROM calendar_feeds f",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((hashed, in_clear), (1, 0));
}

/// A real SMTP server (Python's aiosmtpd) on a free loopback port, writing to a maildir.
struct SmtpServer {
    child: tokio::process::Child,
    port: u16,
    maildir: std::path::PathBuf,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let maildir = std::env::temp_dir().join(format!("demarc-mail-{}", Uuid::new_v4()));
        let child = tokio::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .kill_on_drop(true)
            .spawn()
            .expect("python3 -m aiosmtpd (scripts/test installs it)");
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in dir.flatten() {
                    out.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

#[tokio::test]
async fn announcements_reach_the_team_by_e_mail_through_a_real_smtp_server() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(Options {
        clock: Some(monday()),
        smtp_url: Some(format!("smtp://127.0.0.1:{}", smtp.port)),
        ..Options::default()
    })
    .await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;

    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/emails", seed.payments),
        None,
        Some(&json!({"address": "not an address"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["address"]);
    let (status, email) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/emails", seed.payments),
        None,
        Some(&json!({"address": "payments-oncall@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{email}");
    assert_eq!(email["hint"], "p…@example.com");
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT address_sealed FROM team_emails")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains("oncall"),
        "sealed at rest"
    );

    announce_minor_update(&app, &pat, &seed).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while smtp.messages().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no e-mail within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message.contains("To: payments-oncall@example.com"),
        "{message}"
    );
    assert!(
        message.contains("Subject: [core / staging] Announced: Kubernetes 1.36"),
        "{message}"
    );
    assert!(message.contains("Roll the node pools back"), "{message}");
    // One Message-ID per notice (the same on a retry), in the sender's domain.
    assert!(
        message
            .lines()
            .map(str::trim_end)
            .any(|l| l.starts_with("Message-ID: <notice-") && l.ends_with("@example.test>")),
        "{message}"
    );
    let attempts: Vec<(bool, String)> = sqlx::query_as("SELECT ok, target FROM delivery_attempts")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(attempts, [(true, "email:p…@example.com".to_owned())]);
}

#[tokio::test]
async fn end_of_life_is_warned_once_per_threshold_and_shown_per_environment() {
    let (app, seed) = on_monday().await;
    let alice = app.login("alice").await;
    let audrey = app.login("audrey").await;
    let (url, received) = super::support::webhook_receiver().await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Staging's cluster last reported a managed 1.35 (end of life Sun 28 Feb 2027: 55 days away).
    sqlx::query(
        "INSERT INTO cluster_connections (environment_id, mode, server_url, last_server_version, updated_by)
         VALUES ($1, 'token', 'https://staging.example:6443', 'v1.35.2-eks-4f1c2a', 'test')",
    )
    .bind(seed.staging)
    .execute(&app.pool)
    .await
    .unwrap();

    let (status, eol) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/kubernetes/end-of-life",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{eol}");
    let staging = eol
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["environment_slug"] == "staging")
        .unwrap();
    assert_eq!(staging["minor"], "1.35");
    assert_eq!(staging["level"], "within_60");
    assert_eq!(staging["days_left"], 55);
    let production = eol
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["environment_slug"] == "production")
        .unwrap();
    assert_eq!(production["level"], "unknown");

    // The scheduler's check, run twice (as two replicas would): one warning.
    let warn = |at: DateTime<Utc>| {
        let pool = app.pool.clone();
        async move {
            domain::calendar::notices::warn_end_of_life(&pool, at)
                .await
                .unwrap();
        }
    };
    let eol_event = |level: &'static str| {
        move |v: &Value| v["event"] == "kubernetes.end_of_life" && v["level"] == level
    };
    warn(monday()).await;
    warn(monday()).await;
    expect_calls(&received, eol_event("within_60"), 1).await;
    assert_eq!(received.lock().unwrap()[0]["environment"], "staging");
    // A month later: the 30-day warning, once.
    let later = Utc.with_ymd_and_hms(2027, 2, 1, 9, 0, 0).unwrap();
    app.state.clock.set(later);
    warn(later).await;
    warn(later).await;
    expect_calls(&received, eol_event("within_30"), 1).await;
    assert_eq!(received.lock().unwrap().len(), 2);
}

/// The maintenance form's server functions: an edit saved against an old version is refused
/// with the domain's message, and a plan another environment follows is not removed.
#[tokio::test]
async fn a_stale_edit_of_a_maintenance_and_removing_a_followed_plan_are_refused_from_the_ui() {
    use domain::calendar::maintenances;
    use domain::db::Caller;
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let system = Caller::system();
    let window = maintenances::open_windows(&app.pool, &system, seed.staging, Utc::now(), 400)
        .await
        .unwrap()[0]
        .local_date;
    let form: domain::calendar::model::MaintenanceForm =
        serde_json::from_value(maintenance(seed.staging, "minor", &window.to_string())).unwrap();
    let m = maintenances::create(&app.pool, &system, form, Utc::now())
        .await
        .unwrap()
        .maintenance;
    let post =
        |name: &'static str, form: Vec<(&'static str, String)>| ui_call(&app, &pat, name, form);
    let message = |body: &Value| body["message"].as_str().unwrap_or_default().to_owned();
    let edit = |title: &str| {
        vec![
            ("id", m.id.to_string()),
            ("base_version", m.version.to_string()),
            ("environment_id", seed.staging.to_string()),
            ("category", "minor".to_owned()),
            ("title", title.to_owned()),
            ("window_date", window.to_string()),
            (
                "description",
                "Kubernetes 1.36 on every node pool.".to_owned(),
            ),
            (
                "contingency_plan",
                "Roll the node pools back to the previous image.".to_owned(),
            ),
            ("lead", "Pat Platform".to_owned()),
        ]
    };

    let (status, body) = post("update_maintenance", edit("Kubernetes 1.36, first")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post("update_maintenance", edit("Kubernetes 1.36, second")).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert!(message(&body).contains("changed by someone else"), "{body}");
    let title = maintenances::get(&app.pool, &system, m.id)
        .await
        .unwrap()
        .title;
    assert_eq!(title, "Kubernetes 1.36, first");

    let staging = vec![("environment_id", seed.staging.to_string())];
    let (status, body) = post("remove_plan", staging).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("production"), "{body}");
    let production = vec![("environment_id", seed.production.to_string())];
    let (status, body) = post("remove_plan", production).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Posts a form to the server function `name` from the app's pages.
async fn ui_call(
    app: &TestApp,
    client: &Client,
    name: &str,
    form: Vec<(&'static str, String)>,
) -> (StatusCode, Value) {
    let request = client.post(app.url(&super::support::server_fn_path(name)));
    let response = super::support::same_origin(app, request)
        .form(&form)
        .send()
        .await
        .unwrap();
    tests::json(response).await
}

/// A second platform, `edge`, beside the demo data's `core`: its id.
async fn edge_platform(app: &TestApp, pat: &Client) -> Uuid {
    let (status, edge) = call(
        app,
        pat,
        Method::POST,
        "/api/v1/platforms",
        None,
        Some(&json!({ "slug": "edge", "name": "Edge" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{edge}");
    edge["id"].as_str().unwrap().parse().unwrap()
}

fn drill(platform: Uuid, application: Option<Uuid>, starts_at: &str) -> Value {
    json!({
        "platform_id": platform,
        "application_id": application,
        "title": "Restore the ledger database",
        "goal": "Prove the ledger can be restored from last night's backup within the targets.",
        "scenario": "The primary database volume is lost.",
        "starting_state": "Nightly Velero backup of namespace ledger.",
        "participants": "payments on-call, platform on-call",
        "leader": "Alice Payments",
        "starts_at": starts_at,
        "ends_at": "2027-01-04T16:00:00Z",
        "target_rpo_minutes": 60,
        "target_rto_minutes": 120,
        "target_retention_days": 30,
    })
}

/// A team plans a drill of its own application; the platform's other teams cannot. After the
/// drill the measurements are compared with the targets, and the retrospective's action items
/// join the open ones until done.
#[tokio::test]
async fn drills_measure_rpo_and_rto_against_their_targets_and_end_with_a_retrospective() {
    let (app, seed) = on_monday().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let audrey = app.login("audrey").await;
    let pat = app.bearer(&app.api_token("pat").await);

    // Bad input names its fields; nothing is stored.
    let edge = edge_platform(&app, &pat).await;
    let mut bad = drill(edge, Some(seed.ledger), "2027-01-04T17:00:00Z");
    bad["title"] = json!(" ");
    bad["target_rto_minutes"] = json!(-1);
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/drills",
        None,
        Some(&bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field(&body, "title"), "is required");
    assert!(
        field(&body, "ends_at").contains("after the start"),
        "{body}"
    );
    assert!(
        field(&body, "target_rto_minutes").contains("between"),
        "{body}"
    );
    assert!(
        field(&body, "application_id").contains("does not run on this platform"),
        "an application is drilled on a platform it runs on: {body}"
    );
    let (_, none) = call(&app, &pat, Method::GET, "/api/v1/drills", None, None).await;
    assert_eq!(none, json!([]));

    // Only the application's team (or platform staff) plans its drill; auditors never write.
    let form = drill(seed.core, Some(seed.ledger), "2027-01-04T10:00:00Z");
    for (who, client) in [("bob", &bob), ("audrey", &audrey)] {
        let (status, body) = call(
            &app,
            client,
            Method::POST,
            "/api/v1/drills",
            None,
            Some(&form),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    let (status, planned) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/drills",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{planned}");
    assert_eq!(planned["state"], "planned");
    assert_eq!(planned["application_slug"], "ledger");
    let id = planned["id"].as_str().unwrap().to_owned();

    // Not before it started.
    let result = json!({
        "measured_rpo_minutes": 45,
        "measured_rto_minutes": 150,
        "retention_verified": true,
        "went_well": "The backup was complete and restored cleanly.",
        "to_improve": "The restore waited 40 minutes for a volume snapshot.",
        "action_items": [
            { "title": "Pre-provision restore volumes", "owner": "platform", "due_on": "2027-02-01" }
        ],
    });
    let path = format!("/api/v1/drills/{id}/result");
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 4, 9, 30, 0).unwrap());
    let (status, early) = call(&app, &alice, Method::POST, &path, None, Some(&result)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{early}");

    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 4, 16, 30, 0).unwrap());
    let mut bad = result.clone();
    bad["measured_rpo_minutes"] = json!(-5);
    let (status, body) = call(&app, &alice, Method::POST, &path, None, Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "measured_rpo_minutes").contains("between"),
        "{body}"
    );
    // A misspelt retrospective field is named, not dropped (with the misspelt one missing).
    let mut misspelt = result.clone();
    misspelt["went_wel"] = misspelt["went_well"].take();
    misspelt.as_object_mut().unwrap().remove("went_well");
    let (status, body) = call(&app, &alice, Method::POST, &path, None, Some(&misspelt)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(field(&body, "went_wel").contains("not a field"), "{body}");
    assert_eq!(field(&body, "went_well"), "is required", "{body}");

    let (status, done) = call(&app, &alice, Method::POST, &path, None, Some(&result)).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "completed");
    assert_eq!(done["rpo_met"], true, "45 minutes of data lost, 60 allowed");
    assert_eq!(
        done["rto_met"], false,
        "150 minutes to recover, 120 allowed"
    );
    let (status, again) = call(&app, &alice, Method::POST, &path, None, Some(&result)).await;
    assert_eq!(status, StatusCode::CONFLICT, "recorded once: {again}");

    let (_, items) = call(
        &app,
        &audrey,
        Method::GET,
        "/api/v1/action-items",
        None,
        None,
    )
    .await;
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["title"], "Pre-provision restore volumes");
    assert_eq!(items[0]["source"], "Restore the ledger database");

    // Auditors export the drills with their outcome.
    let csv = audrey
        .get(app.url("/api/v1/drills/export.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = csv
        .lines()
        .find(|l| l.contains("Restore the ledger database"))
        .unwrap_or_else(|| panic!("no drill row in {csv}"));
    assert!(row.contains("ledger"), "{row}");
    assert!(row.contains("150"), "the measured RTO is exported: {row}");
}

/// A planned drill is moved and refined under its ETag, keeps its observers, stays on its
/// platform and application, and is cancelled only with a reason; a cancelled one is history.
#[tokio::test]
async fn a_planned_drill_is_rescheduled_and_cancelled_with_a_reason() {
    let (app, seed) = on_monday().await;
    let alice = app.login("alice").await;
    let audrey = app.login("audrey").await;
    let mut form = drill(seed.core, Some(seed.ledger), "2027-01-04T10:00:00Z");
    form["observers"] = json!("Audrey from internal audit");
    let (status, planned) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/drills",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{planned}");
    assert_eq!(planned["observers"], "Audrey from internal audit");
    let path = format!("/api/v1/drills/{}", planned["id"].as_str().unwrap());

    // A week later, under the version the team saw.
    let mut moved = form.clone();
    moved["starts_at"] = json!("2027-01-11T10:00:00Z");
    moved["ends_at"] = json!("2027-01-11T16:00:00Z");
    moved["target_rto_minutes"] = json!(90);
    let (status, body) = call(
        &app,
        &alice,
        Method::PUT,
        &path,
        Some("\"7\""),
        Some(&moved),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "a stale version: {body}"
    );
    let (status, body) = call(
        &app,
        &audrey,
        Method::PUT,
        &path,
        Some("\"1\""),
        Some(&moved),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "auditors never write: {body}"
    );
    let mut elsewhere = moved.clone();
    elsewhere["application_id"] = json!(null);
    let (status, body) = call(
        &app,
        &alice,
        Method::PUT,
        &path,
        Some("\"1\""),
        Some(&elsewhere),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["platform_id"]);
    let (status, rescheduled) = call(
        &app,
        &alice,
        Method::PUT,
        &path,
        Some("\"1\""),
        Some(&moved),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rescheduled}");
    assert_eq!(rescheduled["starts_at"], "2027-01-11T10:00:00Z");
    assert_eq!(rescheduled["target_rto_minutes"], 90);
    assert_eq!(rescheduled["observers"], "Audrey from internal audit");
    assert_eq!(rescheduled["version"], 2);

    // Cancelled only with a reason, which stays with it; then it cannot change any more.
    let cancel = format!("{path}/cancel");
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &cancel,
        None,
        Some(&json!({"reason": " "})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["reason"]);
    let why = "The ledger migration moved to February; drilling the old setup proves nothing.";
    let (status, cancelled) = call(
        &app,
        &alice,
        Method::POST,
        &cancel,
        None,
        Some(&json!({"reason": why})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], why);
    let (status, body) = call(
        &app,
        &alice,
        Method::PUT,
        &path,
        Some("\"3\""),
        Some(&moved),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, audited) = call(&app, &audrey, Method::GET, &path, None, None).await;
    assert_eq!(audited["cancel_reason"], why);

    // The auditors' export says who watched and why it was called off.
    let csv = get_text(&app, &audrey, "/api/v1/drills/export.csv").await;
    let rows = super::support::parse_csv(&csv);
    assert_eq!(rows.len(), 2, "{csv}");
    let (header, row) = (&rows[0], &rows[1]);
    assert_eq!(row.len(), header.len(), "{csv}");
    let cell = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(cell("state"), "cancelled", "{csv}");
    assert_eq!(cell("participants"), "payments on-call, platform on-call");
    assert_eq!(cell("observers"), "Audrey from internal audit");
    assert_eq!(cell("cancel_reason"), why);
    assert_eq!(cell("ends_at"), "2027-01-11T16:00:00+00:00");
    assert_eq!(cell("open_action_items"), "0");
}

/// PUT a platform's calendar settings over the version read just before.
async fn put_settings(
    app: &TestApp,
    pat: &Client,
    platform: Uuid,
    body: Value,
) -> (StatusCode, Value) {
    let path = format!("/api/v1/platforms/{platform}/calendar-settings");
    let (status, current) = call(app, pat, Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    let etag = format!("\"{}\"", current["version"]);
    call(app, pat, Method::PUT, &path, Some(&etag), Some(&body)).await
}

/// PUT an environment's plan (`version` is the one edited; 0 creates it).
async fn put_plan(
    app: &TestApp,
    pat: &Client,
    env: Uuid,
    version: i32,
    body: &Value,
) -> (StatusCode, Value) {
    call(
        app,
        pat,
        Method::PUT,
        &format!("/api/v1/environments/{env}/maintenance-plan"),
        Some(&format!("\"{version}\"")),
        Some(body),
    )
    .await
}

/// An environment's schedule in the first quarter of 2027.
async fn first_quarter(app: &TestApp, client: &Client, env: Uuid) -> Value {
    let (status, sched) = call(
        app,
        client,
        Method::GET,
        &format!("/api/v1/environments/{env}/schedule?from=2027-01-01&to=2027-04-01"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sched}");
    sched
}

/// Staging on the second Tuesday at 20:00 (moved past blackouts); production with a rhythm of its
/// own, on the second Thursday at 22:00: two working days after staging.
#[tokio::test]
async fn a_production_plan_with_its_own_rhythm_is_checked_against_staging_by_date() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let mut staging = staging_plan();
    staging["blackout_policy"] = json!("move_to_next_allowed_day");
    // Only production keeps a soak after another environment.
    let mut with_soak = staging.clone();
    with_soak["soak_working_days"] = json!(3);
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &with_soak).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["soak_working_days"]);
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut production = json!({
        "recurrence": { "kind": "monthly_weekday", "ordinal": "second", "weekday": "Thu" },
        "start_time": "22:00",
        "time_zone": "Europe/Amsterdam",
        "duration_hours": 6,
        "soak_working_days": 5,
        "allowed_categories": ["security_patch", "minor", "major"],
    });
    // A soak of five working days: every month's window comes too early, explained by date.
    let (status, body) = put_plan(&app, &pat, seed.production, 0, &production).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = field(&body, "recurrence");
    assert!(
        message.contains(
            "Production on Thu 14 Jan 2027 comes only 2 working days after staging on \
             Tue 12 Jan 2027; the soak period needs at least 5 working days, so production \
             should be on Tue 19 Jan 2027 or later."
        ),
        "{body}"
    );
    assert!(message.contains("more in the next 12 months"), "{body}");
    let (status, _) = call(
        &app,
        &pat,
        Method::GET,
        &format!("/api/v1/environments/{}/maintenance-plan", seed.production),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");

    // Without a soak production only has to come on a later working day: two days is enough.
    production
        .as_object_mut()
        .unwrap()
        .remove("soak_working_days");
    let (status, plan) = put_plan(&app, &pat, seed.production, 0, &production).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["rhythm"]["kind"], "own");
    let sched = first_quarter(&app, &pat, seed.production).await;
    assert_eq!(sched["skew_violations"], json!([]), "{sched}");
    // Each production window is paired with staging's latest window before it, on the plans
    // page and on the calendar: the skew shows at a glance.
    assert_eq!(sched["windows"][0]["local_date"], "2027-01-14", "{sched}");
    assert_eq!(sched["windows"][0]["follows"], "2027-01-12", "{sched}");
    let events = january_events(
        &app,
        &pat,
        &format!("kind=window&environment_id={}", seed.production),
    )
    .await;
    assert_eq!(events[0]["follows_environment"], "staging", "{events}");
    assert_eq!(events[0]["follows"], "2027-01-12", "{events}");

    // A freeze moves staging's February window onto production's day: production would start
    // while staging is still at work.
    let (status, blackout) = post_blackout(&app, &pat, &seed, json!({"environment_id": seed.staging, "first_day": "2027-02-08", "last_day": "2027-02-10", "reason": "Release freeze"}))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{blackout}");
    let sched = first_quarter(&app, &pat, seed.production).await;
    let violations = sched["skew_violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{sched}");
    assert_eq!(violations[0]["production_date"], "2027-02-11");
    assert_eq!(violations[0]["staging_date"], "2027-02-11");
    assert_eq!(
        violations[0]["message"],
        "Production on Thu 11 Feb 2027 starts before the staging window on Thu 11 Feb 2027 \
         (moved from Tue 9 Feb 2027 by the blackout “Release freeze”) has ended; production \
         must come at least 1 working day after staging."
    );
    // The freeze brought that violation, not a save: saving either plan again is not refused,
    // and each answer still explains it.
    let version = plan["version"].as_i64().unwrap() as i32;
    let (status, body) = put_plan(&app, &pat, seed.production, version, &production).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"][0]["kind"], "skew_violation", "{body}");
    assert!(
        body["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Release freeze"),
        "{body}"
    );
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"][0]["date"], "2027-02-11", "{body}");
    // A save that brings a violation of its own is refused: staging on the second Thursday.
    let mut thursday = staging.clone();
    thursday["recurrence"]["weekday"] = json!("Thu");
    let (status, body) = put_plan(&app, &pat, seed.staging, 2, &thursday).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "recurrence").contains("Production on Thu 14 Jan 2027"),
        "{body}"
    );
}

/// Plans a minor update in `env`'s window on `window`, repeating the staging maintenance
/// `repeats` when given: its id.
async fn plan_minor(
    app: &TestApp,
    pat: &Client,
    env: Uuid,
    window: &str,
    title: &str,
    repeats: Option<&str>,
) -> String {
    let mut form = maintenance(env, "minor", window);
    form["title"] = json!(title);
    form["kubernetes_from"] = json!("");
    form["kubernetes_to"] = json!("");
    if let Some(id) = repeats {
        form["staging_maintenance_id"] = json!(id);
    }
    let (status, body) = call(
        app,
        pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["maintenance"]["id"].as_str().unwrap().to_owned()
}

/// One lifecycle step of a maintenance (`cancel` gives a reason).
async fn step(app: &TestApp, pat: &Client, id: &str, step: &str) -> (StatusCode, Value) {
    let body = if step == "cancel" {
        json!({"reason": "Folded into the next window"})
    } else {
        json!({})
    };
    call(
        app,
        pat,
        Method::POST,
        &format!("/api/v1/maintenances/{id}/{step}"),
        None,
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn a_refused_blackout_shows_in_the_blackout_form_not_in_the_holiday_buttons() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let page = app.url(&format!(
        "/calendar/plans?platform={}&country=DE&year=2027",
        seed.core
    ));
    let html = super::forms::refused_plain_post(
        &app,
        &pat,
        "add_blackout",
        &page,
        &[
            ("platform_id", seed.core.to_string()),
            ("first_day", "next Tuesday".to_owned()),
            ("reason", "Release freeze".to_owned()),
            ("form", "blackout".to_owned()),
        ],
    )
    .await;
    let forms: Vec<&str> = html
        .split("<form ")
        .filter(|f| f.contains("add_blackout"))
        .collect();
    let holiday_buttons = forms.iter().filter(|f| f.contains("id=\"holiday-")).count();
    assert!(
        holiday_buttons >= 9,
        "the German holidays of 2027 are offered:\n{html}"
    );
    let blackout = forms
        .iter()
        .find(|f| f.contains("class=\"blackout-form\""))
        .unwrap_or_else(|| panic!("no blackout form:\n{html}"));
    assert!(blackout.contains("form-error"), "{blackout}");
    assert!(blackout.contains("class=\"field invalid\""), "{blackout}");
    assert_eq!(
        html.matches("form-error").count(),
        1,
        "one alert on the page"
    );
}

/// A freeze decided after a maintenance was planned does not silently strand it: the blackout
/// names the planned and announced maintenances on its days (not a cancelled one, not one on
/// another environment), over REST and on the plans page.
#[tokio::test]
async fn a_blackout_names_the_maintenances_planned_on_its_days() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let (announced, _) = announce_minor_update(&app, &pat, &seed).await;
    let (status, called_off) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&maintenance(seed.staging, "security_patch", "2027-01-12")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{called_off}");
    let called_off = called_off["maintenance"]["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/maintenances/{called_off}/cancel"),
        None,
        Some(&json!({"reason": "Folded into the minor update"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let blackouts = format!("/api/v1/platforms/{}/blackouts", seed.core);
    let (status, production_only) = call(
        &app,
        &pat,
        Method::POST,
        &blackouts,
        None,
        Some(
            &json!({"environment_id": seed.production, "first_day": "2027-01-11",
                     "last_day": "2027-01-13", "reason": "Payments release"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{production_only}");
    assert_eq!(
        production_only["conflicts"],
        json!([]),
        "staging's maintenance is not in the way"
    );
    let (status, freeze) = call(
        &app,
        &pat,
        Method::POST,
        &blackouts,
        None,
        Some(&json!({"first_day": "2027-01-11", "last_day": "2027-01-13",
                     "reason": "Year-end close"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{freeze}");
    let conflicts = freeze["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{freeze}");
    assert_eq!(conflicts[0]["maintenance_id"], announced.as_str());
    assert_eq!(conflicts[0]["state"], "announced");
    assert_eq!(conflicts[0]["window_date"], "2027-01-12");
    assert_eq!(conflicts[0]["environment_slug"], "staging");

    // Listed with the platform's blackouts, and shown on the plans page with a link.
    let (_, list) = call(&app, &pat, Method::GET, &blackouts, None, None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == freeze["id"])
        .unwrap();
    assert_eq!(listed["conflicts"], freeze["conflicts"]);
    let html = get_text(
        &app,
        &pat,
        &format!("/calendar/plans?platform={}", seed.core),
    )
    .await;
    let row = html
        .split("<tr class=\"blackout\"")
        .find(|r| r.contains("Year-end close"))
        .unwrap_or_else(|| panic!("no blackout row:\n{html}"));
    assert!(row.contains("blackout-conflicts"), "{row}");
    assert!(
        row.contains(&format!("href=\"/calendar/maintenances/{announced}\"")),
        "{row}"
    );

    // Called off, it is out of the way.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/maintenances/{announced}/cancel"),
        None,
        Some(&json!({"reason": "Moved past the year-end close"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = call(&app, &pat, Method::GET, &blackouts, None, None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|b| b["conflicts"] == json!([])),
        "{list}"
    );
}

#[tokio::test]
async fn production_starts_only_once_staging_has_completed_the_change() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    // Three changes, each planned on staging and then on production five working days later.
    let mut pairs = Vec::new();
    for (staging_day, production_day, title) in [
        ("2027-01-12", "2027-01-19", "CoreDNS 1.12"),
        ("2027-02-09", "2027-02-16", "Node image 4230"),
        ("2027-03-09", "2027-03-16", "Cilium 1.18"),
    ] {
        let s = plan_minor(&app, &pat, seed.staging, staging_day, title, None).await;
        let p = plan_minor(&app, &pat, seed.production, production_day, title, Some(&s)).await;
        pairs.push((s, p));
    }
    // Every one announced: a planned change starts only once the teams have heard of it.
    for (s, p) in &pairs {
        for id in [s, p] {
            let (status, body) = step(&app, &pat, id, "announce").await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    let [
        (completed_s, completed_p),
        (rolled_s, rolled_p),
        (cancelled_s, cancelled_p),
    ] = pairs.try_into().unwrap();
    let at = |month: u32, day: u32, hour: u32, minute: u32| {
        Utc.with_ymd_and_hms(2027, month, day, hour, minute, 0)
            .unwrap()
    };
    let message = |body: &Value| {
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let refused = |body: &Value, why: &str| {
        let message = message(body);
        assert!(
            message.starts_with(
                "production may only receive a change that staging has received first: "
            ) && message.contains(why),
            "{body}"
        );
    };

    // Not before its window: on Monday 4 January neither starts, and the refusal says when the
    // window opens and from when it may start.
    let (status, body) = step(&app, &pat, &completed_s, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        message(&body).contains("Tue 12 Jan 2027 at 19:00 UTC")
            && message(&body).contains("from 18:45 UTC"),
        "{body}"
    );
    let (status, body) = step(&app, &pat, &completed_p, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        message(&body).contains("Tue 19 Jan 2027 at 21:00 UTC"),
        "{body}"
    );
    // A quarter of an hour before the window is early enough; twenty minutes is not.
    app.state.clock.set(at(1, 12, 18, 40));
    let (status, body) = step(&app, &pat, &completed_s, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    app.state.clock.set(at(1, 12, 18, 45));
    assert_eq!(
        step(&app, &pat, &completed_s, "start").await.0,
        StatusCode::OK
    );
    // In production's window, while staging is still in progress: not yet.
    app.state.clock.set(at(1, 19, 21, 0));
    let (status, body) = step(&app, &pat, &completed_p, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    refused(&body, "(it is in progress)");
    // Staging completed: production starts.
    assert_eq!(
        step(&app, &pat, &completed_s, "complete").await.0,
        StatusCode::OK
    );
    let (status, body) = step(&app, &pat, &completed_p, "start").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "in_progress");

    // Rolled back on staging after production was planned: production does not start.
    app.state.clock.set(at(2, 9, 19, 0));
    assert_eq!(step(&app, &pat, &rolled_s, "start").await.0, StatusCode::OK);
    assert_eq!(
        step(&app, &pat, &rolled_s, "roll-back").await.0,
        StatusCode::OK
    );
    app.state.clock.set(at(2, 16, 21, 0));
    let (status, body) = step(&app, &pat, &rolled_p, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    refused(
        &body,
        "“Node image 4230” was rolled back on staging, so its change never landed there",
    );

    // Staging's window passed without the change: production's window comes, and it waits.
    app.state.clock.set(at(3, 16, 21, 0));
    let (status, body) = step(&app, &pat, &cancelled_p, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    refused(
        &body,
        "“Cilium 1.18” has not completed on staging yet (it is announced)",
    );
    // The same refusal from the page without scripts comes back in the Start form only (the
    // page also has a Cancel form posting to the same function).
    let page = app.url(&format!("/calendar/maintenances/{cancelled_p}"));
    let html = super::forms::refused_plain_post(
        &app,
        &pat,
        "maintenance_step",
        &page,
        &[("id", cancelled_p.clone()), ("step", "start".to_owned())],
    )
    .await;
    let form_of = |step: &str| super::forms::form_with(&html, "step", step);
    assert!(form_of("start").contains("has not completed on staging yet"));
    assert!(!form_of("cancel").contains("form-error"));
    assert_eq!(
        html.matches("form-error").count(),
        1,
        "one alert on the page"
    );
    // Cancelled on staging: the change never comes.
    assert_eq!(
        step(&app, &pat, &cancelled_s, "cancel").await.0,
        StatusCode::OK
    );
    let (status, body) = step(&app, &pat, &cancelled_p, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    refused(&body, "“Cilium 1.18” was cancelled on staging");
    // Neither moved; they can still be cancelled.
    let states: Vec<String> =
        sqlx::query_scalar("SELECT state FROM maintenances WHERE id = ANY($1) ORDER BY starts_at")
            .bind(
                [&rolled_p, &cancelled_p]
                    .map(|id| Uuid::parse_str(id).unwrap())
                    .to_vec(),
            )
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(states, ["announced", "announced"]);
    assert_eq!(
        step(&app, &pat, &rolled_p, "cancel").await.0,
        StatusCode::OK
    );

    // An emergency in production waits neither for staging nor for its own start time, so it
    // names no staging maintenance: one that does is told so rather than losing the reference.
    let mut emergency = json!({
        "environment_id": seed.production,
        "category": "emergency",
        "title": "Patch the exploited runc escape",
        "starts_at": "2027-03-17T10:00:00Z",
        "ends_at": "2027-03-17T12:00:00Z",
        "lead": "Pat Platform",
        "contingency_plan": "Cordon the patched nodes and move workloads back.",
        "justification": "A public exploit escapes containers on our node version.",
        "staging_maintenance_id": rolled_s,
    });
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&emergency),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "staging_maintenance_id").contains("an emergency does not wait"),
        "{body}"
    );
    emergency
        .as_object_mut()
        .unwrap()
        .remove("staging_maintenance_id");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&emergency),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let emergency = body["maintenance"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        step(&app, &pat, &emergency, "start").await.0,
        StatusCode::OK
    );
}

/// Creates an audit of platform core: its id.
async fn plan_audit(app: &TestApp, pat: &Client, seed: &Seed, body: Value) -> String {
    let (status, audit) = call(
        app,
        pat,
        Method::POST,
        &format!("/api/v1/platforms/{}/scope/audits", seed.core),
        None,
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{audit}");
    audit["id"].as_str().unwrap().to_owned()
}

/// The calendar's entries of January 2027 for a query (`kind=audit&team=payments`).
async fn january_events(app: &TestApp, client: &Client, query: &str) -> Value {
    let (status, events) = call(
        app,
        client,
        Method::GET,
        &format!("/api/v1/calendar/events?from=2027-01-01&to=2027-02-01&{query}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    events
}

#[tokio::test]
async fn audits_are_on_the_platform_calendar_the_team_calendar_and_the_team_feed() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let provider = plan_audit(
        &app,
        &pat,
        &seed,
        json!({"kind": "provider", "title": "ACME Cloud ISAE 3402", "subject": "ACME Cloud", "due_on": "2027-01-20"}),
    )
    .await;
    let ledger = plan_audit(
        &app,
        &pat,
        &seed,
        json!({"kind": "application", "title": "Ledger backups", "application_id": seed.ledger, "due_on": "2027-01-21"}),
    )
    .await;
    // The indexer (team search) runs in staging only.
    let search = plan_audit(
        &app,
        &pat,
        &seed,
        json!({"kind": "application", "title": "Indexer access", "application_id": seed.indexer, "due_on": "2027-01-22"}),
    )
    .await;
    let uid = |id: &str| format!("audit-{id}@demarc");

    let audits = |query: String| {
        let (app, alice) = (&app, alice.clone());
        async move {
            january_events(app, &alice, &format!("kind=audit&{query}"))
                .await
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    assert_eq!(e["kind"], "audit");
                    e["uid"].as_str().unwrap().to_owned()
                })
                .collect::<Vec<_>>()
        }
    };
    // The platform's calendar has all three, on their due days.
    assert_eq!(
        audits("platform=core".into()).await,
        [uid(&provider), uid(&ledger), uid(&search)]
    );
    // A team's: its provider's audit and its own applications' audits, not other teams'.
    assert_eq!(
        audits("team=payments".into()).await,
        [uid(&provider), uid(&ledger)]
    );
    assert_eq!(
        audits("team=search&platform=core".into()).await,
        [uid(&provider), uid(&search)]
    );
    // An environment's: the provider's and those of the applications that run in it.
    assert_eq!(
        audits(format!("environment_id={}", seed.staging)).await,
        [uid(&provider), uid(&ledger), uid(&search)]
    );
    assert_eq!(
        audits(format!("environment_id={}", seed.production)).await,
        [uid(&provider), uid(&ledger)]
    );

    // The team's ICS feed carries the same audits, as all-day events.
    let feed = new_feed(&app, &alice, "team", seed.payments).await;
    let text = feed_text(&feed).await;
    let events = parse_feed(&text);
    let in_feed: Vec<(String, Option<String>)> = events
        .iter()
        .filter(|e| prop(e, "UID").is_some_and(|u| u.starts_with("audit-")))
        .map(|e| (prop(e, "UID").unwrap(), prop(e, "DTSTART")))
        .collect();
    assert_eq!(
        in_feed,
        [
            (uid(&provider), Some("20270120".to_owned())),
            (uid(&ledger), Some("20270121".to_owned()))
        ],
        "{text}"
    );
}

#[tokio::test]
async fn another_platforms_drills_and_blackouts_stay_off_an_environments_and_a_teams_calendar() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let edge = edge_platform(&app, &pat).await;
    let mut uids = std::collections::HashMap::new();
    for (name, platform) in [("core", seed.core), ("edge", edge)] {
        let (status, body) = call(
            &app,
            &pat,
            Method::POST,
            "/api/v1/drills",
            None,
            Some(&drill(platform, None, "2027-01-04T15:00:00Z")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        uids.insert(
            format!("{name} drill"),
            format!("drill-{}@demarc", body["id"].as_str().unwrap()),
        );
        let (status, body) = call(
            &app,
            &pat,
            Method::POST,
            &format!("/api/v1/platforms/{platform}/blackouts"),
            None,
            Some(&json!({"first_day": "2027-01-20", "last_day": "2027-01-21", "reason": format!("{name} freeze")})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        uids.insert(
            format!("{name} blackout"),
            format!("blackout-{}@demarc", body["id"].as_str().unwrap()),
        );
    }
    let shown = |query: String| {
        let (app, alice, uids) = (&app, alice.clone(), &uids);
        async move {
            let events = january_events(app, &alice, &format!("kind=drill,blackout&{query}")).await;
            let mut names: Vec<String> = events
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let uid = e["uid"].as_str().unwrap();
                    uids.iter()
                        .find(|(_, u)| u.as_str() == uid)
                        .map(|(name, _)| name.clone())
                        .unwrap_or_else(|| panic!("unexpected {e}"))
                })
                .collect();
            names.sort();
            names
        }
    };
    let core = ["core blackout", "core drill"];
    assert_eq!(shown(String::new()).await.len(), 4);
    assert_eq!(
        shown("platform=edge".into()).await,
        ["edge blackout", "edge drill"]
    );
    assert_eq!(shown("platform=core".into()).await, core);
    // The payments team runs on core only; staging is core's.
    assert_eq!(shown("team=payments".into()).await, core);
    assert_eq!(
        shown(format!("environment_id={}", seed.staging)).await,
        core
    );
    // The team's feed agrees.
    let feed = new_feed(&app, &alice, "team", seed.payments).await;
    let text = feed_text(&feed).await;
    for (name, uid) in &uids {
        assert_eq!(
            text.contains(uid.as_str()),
            name.starts_with("core"),
            "{name}: {text}"
        );
    }
}

#[tokio::test]
async fn a_maintenance_of_a_kind_the_windows_do_not_allow_is_refused() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // A plan needs at least one kind of change; emergencies do not count (they need no window).
    let mut plan = staging_plan();
    plan["allowed_categories"] = json!(["emergency"]);
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &plan).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["allowed_categories"]);
    plan["allowed_categories"] = json!(["security_patch"]);
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &plan).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed_categories"], json!(["security_patch"]));

    for category in ["minor", "major"] {
        let (status, body) = call(
            &app,
            &pat,
            Method::POST,
            "/api/v1/maintenances",
            None,
            Some(&maintenance(seed.staging, category, "2027-03-09")),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{category}: {body}"
        );
        assert_eq!(fields(&body), ["category"], "{category}: {body}");
        assert_eq!(
            field(&body, "category"),
            "the windows of staging allow only: Security patch"
        );
    }
    let mut patch = maintenance(seed.staging, "security_patch", "2027-01-12");
    patch["kubernetes_from"] = json!("");
    patch["kubernetes_to"] = json!("");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&patch),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM maintenances")
            .fetch_one(&app.pool)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn teams_hear_of_start_completion_cancellation_and_roll_back_as_json_and_as_slack_text() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let json_hook = payments_webhook(&app, &seed, "json").await;
    let slack_hook = payments_webhook(&app, &seed, "slack").await;

    let completed = plan_minor(&app, &pat, seed.staging, "2027-01-12", "CoreDNS 1.12", None).await;
    let cancelled = plan_minor(&app, &pat, seed.staging, "2027-02-09", "Node image", None).await;
    let rolled_back = plan_minor(&app, &pat, seed.staging, "2027-03-09", "Cilium 1.18", None).await;
    // Each one announced shortly before its window opens (too late for reminders, which would
    // add calls) and started then; the cancelled one on Monday.
    for (id, at, steps) in [
        (&cancelled, monday(), &["announce", "cancel"][..]),
        (
            &completed,
            Utc.with_ymd_and_hms(2027, 1, 12, 18, 50, 0).unwrap(),
            &["announce", "start", "complete"][..],
        ),
        (
            &rolled_back,
            Utc.with_ymd_and_hms(2027, 3, 9, 18, 50, 0).unwrap(),
            &["announce", "start", "roll-back"][..],
        ),
    ] {
        app.state.clock.set(at);
        for s in steps {
            let (status, body) = step(&app, &pat, id, s).await;
            assert_eq!(status, StatusCode::OK, "{s}: {body}");
        }
    }

    // Three announcements, two starts, and how each ended: once each, with the state it is in.
    expect_calls(&json_hook, |_| true, 8).await;
    let mut got: Vec<(String, String, String)> = json_hook
        .lock()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["maintenance"]["title"].as_str().unwrap().to_owned(),
                v["event"].as_str().unwrap().to_owned(),
                v["maintenance"]["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let row = |t: &str, e: &str, s: &str| (t.to_owned(), format!("maintenance.{e}"), s.to_owned());
    assert_eq!(
        got,
        [
            row("Cilium 1.18", "announced", "announced"),
            row("Cilium 1.18", "rolled_back", "rolled_back"),
            row("Cilium 1.18", "started", "in_progress"),
            row("CoreDNS 1.12", "announced", "announced"),
            row("CoreDNS 1.12", "completed", "completed"),
            row("CoreDNS 1.12", "started", "in_progress"),
            row("Node image", "announced", "announced"),
            row("Node image", "cancelled", "cancelled"),
        ]
    );
    // The JSON body says what changes and how it is undone, and why it was called off.
    let bodies = json_hook.lock().unwrap().clone();
    let called_off = bodies
        .iter()
        .find(|v| v["event"] == "maintenance.cancelled")
        .unwrap();
    assert_eq!(
        called_off["maintenance"]["cancel_reason"], "Folded into the next window",
        "{called_off}"
    );
    assert_eq!(
        called_off["maintenance"]["contingency_plan"],
        "Roll the node pools back to the previous image."
    );
    assert!(called_off["maintenance"]["description"].is_string());

    // The Slack-compatible webhook gets the same notices as `{"text": ...}` bodies.
    expect_calls(&slack_hook, |_| true, 8).await;
    let texts: Vec<String> = slack_hook
        .lock()
        .unwrap()
        .iter()
        .map(|v| {
            let object = v.as_object().unwrap();
            assert_eq!(object.keys().collect::<Vec<_>>(), ["text"], "{v}");
            object["text"].as_str().unwrap().to_owned()
        })
        .collect();
    for expected in [
        ":wrench: *Announced*: CoreDNS 1.12 (Minor update) on core / staging\n\
         Tue 12 Jan 2027 19:00 to Wed 13 Jan 01:00 UTC\n\
         Expected impact: Nodes drain one by one; pods restart.",
        ":wrench: *Started*: CoreDNS 1.12 (Minor update) on core / staging\n",
        ":wrench: *Completed*: CoreDNS 1.12 (Minor update) on core / staging\n",
        ":no_entry_sign: *Cancelled*: Node image (Minor update) on core / staging\n",
        ":wrench: *Rolled back*: Cilium 1.18 (Minor update) on core / staging\n",
    ] {
        assert_eq!(
            texts.iter().filter(|t| t.starts_with(expected)).count(),
            1,
            "{expected:?} in {texts:#?}"
        );
    }
}

#[tokio::test]
async fn a_planned_change_starts_only_once_announced_and_teams_hear_when_an_emergency_starts_unannounced()
 {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let received = payments_webhook(&app, &seed, "json").await;

    // Minor updates on staging; a security patch neither.
    let unannounced =
        plan_minor(&app, &pat, seed.staging, "2027-01-12", "CoreDNS 1.12", None).await;
    let called_off = plan_minor(&app, &pat, seed.staging, "2027-03-09", "Cilium 1.18", None).await;
    let missed = plan_minor(&app, &pat, seed.staging, "2027-04-13", "etcd 3.6", None).await;
    let mut patch = maintenance(seed.staging, "security_patch", "2027-02-09");
    patch["title"] = json!("runc 1.3.1");
    patch["kubernetes_from"] = json!("");
    patch["kubernetes_to"] = json!("");
    patch["components"] = json!("runc 1.3.1");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&patch),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let patch = body["maintenance"]["id"].as_str().unwrap().to_owned();
    // Calling off one the teams never heard of tells them nothing.
    let (status, body) = step(&app, &pat, &called_off, "cancel").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // In their windows, neither the minor update nor the security patch starts unannounced: the
    // teams would get no notice and no reminders.
    for (id, at, what) in [
        (
            &unannounced,
            Utc.with_ymd_and_hms(2027, 1, 12, 19, 0, 0).unwrap(),
            "minor update",
        ),
        (
            &patch,
            Utc.with_ymd_and_hms(2027, 2, 9, 19, 0, 0).unwrap(),
            "security patch",
        ),
    ] {
        app.state.clock.set(at);
        let (status, body) = step(&app, &pat, id, "start").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(
            body["error"]["message"],
            format!(
                "This {what} has not been announced: announce it first, so the teams that run \
                 applications in staging hear of it and get their reminders. Only an emergency \
                 starts without notice."
            ),
            "{body}"
        );
        // Its page offers to announce it, not to start it.
        let page = get_text(&app, &pat, &format!("/calendar/maintenances/{id}")).await;
        assert!(page.contains("id=\"step-announce\""), "{page}");
        assert!(!page.contains("id=\"step-start\""), "{page}");
    }

    // An emergency starts without notice, and the teams hear that it started and how it ended.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&json!({
            "environment_id": seed.staging,
            "category": "emergency",
            "title": "Patch the exploited runc escape",
            "starts_at": "2027-02-10T08:00:00Z",
            "ends_at": "2027-02-10T10:00:00Z",
            "lead": "Pat Platform",
            "justification": "A public exploit escapes containers on our node version.",
            "contingency_plan": "Cordon the patched nodes and move workloads back.",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let emergency = body["maintenance"]["id"].as_str().unwrap().to_owned();
    for s in ["start", "complete"] {
        let (status, body) = step(&app, &pat, &emergency, s).await;
        assert_eq!(status, StatusCode::OK, "{s}: {body}");
    }

    // A window that has passed is not started late, announced or not: the teams were told of
    // that window.
    app.state.clock.set(monday());
    let (status, body) = step(&app, &pat, &missed, "announce").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 4, 14, 1, 0, 0).unwrap());
    let (status, body) = step(&app, &pat, &missed, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Its window ended Wed 14 Apr 2027 at 00:00 UTC"),
        "{body}"
    );

    expect_calls(&received, |_| true, 3).await;
    let mut got: Vec<(String, String)> = received
        .lock()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["maintenance"]["title"].as_str().unwrap().to_owned(),
                v["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let row = |t: &str, e: &str| (t.to_owned(), format!("maintenance.{e}"));
    assert_eq!(
        got,
        [
            row("Patch the exploited runc escape", "completed"),
            row("Patch the exploited runc escape", "started"),
            row("etcd 3.6", "announced"),
        ]
    );
}

/// Changes a maintenance with the version it has now.
async fn update_maintenance(
    app: &TestApp,
    pat: &Client,
    id: &str,
    form: &Value,
) -> (StatusCode, Value) {
    let etag = format!(
        "\"{}\"",
        app.version_of("maintenances", Uuid::parse_str(id).unwrap())
            .await
    );
    call(
        app,
        pat,
        Method::PUT,
        &format!("/api/v1/maintenances/{id}"),
        Some(&etag),
        Some(form),
    )
    .await
}

#[tokio::test]
async fn an_announced_major_update_keeps_its_notice_when_it_moves_earlier_or_becomes_major() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let create_and_announce = |form: Value| {
        let (app, pat) = (&app, pat.clone());
        async move {
            let (status, body) = call(
                app,
                &pat,
                Method::POST,
                "/api/v1/maintenances",
                None,
                Some(&form),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let id = body["maintenance"]["id"].as_str().unwrap().to_owned();
            let (status, body) = step(app, &pat, &id, "announce").await;
            assert_eq!(status, StatusCode::OK, "{body}");
            id
        }
    };
    // On Monday 4 January: a major update announced for March, a minor one for March too.
    let mut major = maintenance(seed.staging, "major", "2027-03-09");
    major["kubernetes_from"] = json!("");
    major["kubernetes_to"] = json!("");
    let major_id = create_and_announce(major.clone()).await;
    let mut minor = major.clone();
    minor["category"] = json!("minor");
    minor["title"] = json!("Cilium 1.18");
    let minor_id = create_and_announce(minor.clone()).await;

    // A week later the major one moves to January: 8 days after its announcement, too late.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 11, 9, 0, 0).unwrap());
    major["window_date"] = json!("2027-01-12");
    let (status, body) = update_maintenance(&app, &pat, &major_id, &major).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = field(&body, "window_date");
    assert!(
        message.contains("announced on 2027-01-04 09:00 UTC") && message.contains("30 days"),
        "{body}"
    );
    // February is 36 days after the announcement (29 from today): the teams have known of the
    // change for long enough, with the short-notice warning.
    major["window_date"] = json!("2027-02-09");
    let (status, body) = update_maintenance(&app, &pat, &major_id, &major).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["maintenance"]["starts_at"], "2027-02-09T19:00:00Z");
    assert!(
        body["warnings"][0].as_str().unwrap().contains("36 days"),
        "{body}"
    );

    // On 15 February the minor update of 9 March turns out to be major: the teams hear that
    // only now, 22 days ahead, so it needs a later window.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 2, 15, 9, 0, 0).unwrap());
    minor["category"] = json!("major");
    let (status, body) = update_maintenance(&app, &pat, &minor_id, &minor).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = field(&body, "window_date");
    assert!(
        message.contains("30 days") && message.contains("Tue 13 Apr 2027"),
        "{body}"
    );
    minor["window_date"] = json!("2027-04-13");
    let (status, body) = update_maintenance(&app, &pat, &minor_id, &minor).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_emergency_upgrades_a_cluster_past_its_end_of_life_when_no_window_can() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    // Kubernetes 1.34's support ended on 27 October 2026: no window is in time, and the
    // refusal says what to do instead.
    let mut form = maintenance(seed.staging, "minor", "2027-01-12");
    form["kubernetes_from"] = json!("1.34");
    form["kubernetes_to"] = json!("1.35");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "window_date").contains("declare an emergency"),
        "{body}"
    );
    // Which is then accepted.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&json!({
            "environment_id": seed.staging,
            "category": "emergency",
            "title": "Kubernetes 1.35",
            "kubernetes_from": "1.34",
            "kubernetes_to": "1.35",
            "starts_at": "2027-01-05T10:00:00Z",
            "ends_at": "2027-01-05T14:00:00Z",
            "lead": "Pat Platform",
            "contingency_plan": "Restore the control plane from the etcd snapshot.",
            "justification": "1.34 gets no security fixes any more.",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["maintenance"]["kubernetes_to"], "1.35");

    // With 60 days' notice for a major update, 1.35 (end of life Sun 28 Feb 2027) has no window
    // left that is both in time and far enough ahead: February's window is not suggested.
    let (status, settings) = put_settings(
        &app,
        &pat,
        seed.core,
        json!({"major_notice_days": 60, "reminder_minutes": [60]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&maintenance(seed.staging, "major", "2027-03-09")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let refusal = field(&body, "window_date");
    assert!(
        refusal.contains("declare an emergency") && !refusal.contains("9 Feb 2027"),
        "{body}"
    );
}

#[tokio::test]
async fn production_repeats_a_staging_change_only_after_the_soak_period() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // Staging every Tuesday and Thursday; production five working days after each.
    let mut staging = staging_plan();
    staging["recurrence"] = json!({ "kind": "weekly", "weekdays": ["Tue", "Thu"] });
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = put_plan(
        &app,
        &pat,
        seed.production,
        0,
        &production_plan(seed.staging, 5),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A change on staging on Thu 14 Jan. Production's window of Tue 19 Jan (the one after
    // staging's Tuesday) comes after staging has ended, but only three working days later.
    let staged = plan_minor(&app, &pat, seed.staging, "2027-01-14", "CoreDNS 1.12", None).await;
    let mut form = maintenance(seed.production, "minor", "2027-01-19");
    form["title"] = json!("CoreDNS 1.12");
    form["kubernetes_from"] = json!("");
    form["kubernetes_to"] = json!("");
    form["staging_maintenance_id"] = json!(staged);
    let post = |form: Value| {
        let (app, pat) = (&app, pat.clone());
        async move {
            call(
                app,
                &pat,
                Method::POST,
                "/api/v1/maintenances",
                None,
                Some(&form),
            )
            .await
        }
    };
    let (status, body) = post(form.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["staging_maintenance_id"]);
    let message = field(&body, "staging_maintenance_id");
    assert!(
        message.contains("5 working days") && message.contains("Thu 21 Jan 2027"),
        "{body}"
    );
    // Thu 21 Jan is five working days after it.
    form["window_date"] = json!("2027-01-21");
    let (status, body) = post(form).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let repeat = body["maintenance"]["id"].as_str().unwrap().to_owned();
    // An emergency does not wait for the soak (nor for staging).
    let (status, body) = post(json!({
        "environment_id": seed.production,
        "category": "emergency",
        "title": "Patch the exploited runc escape",
        "starts_at": "2027-01-15T10:00:00Z",
        "ends_at": "2027-01-15T12:00:00Z",
        "lead": "Pat Platform",
        "contingency_plan": "Cordon the patched nodes and move workloads back.",
        "justification": "A public exploit escapes containers on our node version.",
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Staging's change slips to its window of Tue 19 Jan: production's Thursday is then too
    // soon, and starting it is refused, soak counted from the window staging really took.
    let mut slipped = maintenance(seed.staging, "minor", "2027-01-19");
    slipped["title"] = json!("CoreDNS 1.12");
    slipped["kubernetes_from"] = json!("");
    slipped["kubernetes_to"] = json!("");
    let (status, body) = update_maintenance(&app, &pat, &staged, &slipped).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in [&staged, &repeat] {
        let (status, body) = step(&app, &pat, id, "announce").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 19, 19, 0, 0).unwrap());
    for s in ["start", "complete"] {
        let (status, body) = step(&app, &pat, &staged, s).await;
        assert_eq!(status, StatusCode::OK, "{s}: {body}");
    }
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 21, 21, 0, 0).unwrap());
    let (status, body) = step(&app, &pat, &repeat, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Tue 19 Jan 2027") && message.contains("Tue 26 Jan 2027"),
        "{message}"
    );
}

#[tokio::test]
async fn a_production_window_changed_by_a_new_staging_plan_gets_a_new_sequence_in_the_feed() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // Staging every Friday; production five working days later, the next Friday.
    let mut staging = staging_plan();
    staging["recurrence"] = json!({ "kind": "weekly", "weekdays": ["Fri"] });
    let url = staging_then_production_feed(&app, &pat, &seed, &staging).await;
    // Production's window of Fri 15 Jan, as a subscribed calendar sees it.
    let uid = format!("window-{}-2027-01-15@demarc", seed.production);
    let window = async || {
        let event = feed_event(&url, &uid).await;
        (
            sequence_of(&event),
            prop(&event, "DESCRIPTION").unwrap_or_default(),
        )
    };
    let (sequence, description) = window().await;
    assert!(description.contains("Fri 8 Jan 2027"), "{description}");

    // Staging moves to Saturdays. Production keeps its Friday, now after staging's Saturday: the
    // event changed though production's plan did not, so calendar clients must see a new
    // SEQUENCE to take the change.
    staging["recurrence"] = json!({ "kind": "weekly", "weekdays": ["Sat"] });
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (after, description) = window().await;
    assert!(description.contains("Sat 9 Jan 2027"), "{description}");
    assert!(after > sequence, "SEQUENCE {sequence} then {after}");
}

#[tokio::test]
async fn reminders_go_out_at_the_platforms_configured_offsets() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let received = payments_webhook(&app, &seed, "json").await;
    // Two days and half an hour before, instead of 7 days, 72 hours and 1 hour.
    let (status, settings) = put_settings(
        &app,
        &pat,
        seed.core,
        json!({"major_notice_days": 30, "reminder_minutes": [30, 2880]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["reminder_minutes"], json!([2880, 30]));

    // A minor update in staging's window of Tue 12 Jan, 19:00 UTC.
    let (id, _) = announce_minor_update(&app, &pat, &seed).await;
    expect_calls(&received, |v| v["event"] == "maintenance.announced", 1).await;
    let due: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE kind = 'maintenance_reminder' ORDER BY run_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        due,
        [
            Utc.with_ymd_and_hms(2027, 1, 10, 19, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 1, 12, 18, 30, 0).unwrap()
        ]
    );
    let reminder = |minutes: i64| {
        let id = Value::String(id.clone());
        move |v: &Value| {
            v["event"] == "maintenance.reminder"
                && v["reminder_minutes"] == minutes
                && v["maintenance"]["id"] == id
        }
    };
    let reminders = |v: &Value| v["event"] == "maintenance.reminder";

    // The default times (7 days and 72 hours before) pass in silence.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 9, 19, 1, 0).unwrap());
    expect_calls(&received, reminders, 0).await;
    // Two days before, one minute after the time: the first reminder.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 10, 19, 1, 0).unwrap());
    expect_calls(&received, reminder(2880), 1).await;
    // One hour before (the default) nothing; half an hour before, the second.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 1, 0).unwrap());
    expect_calls(&received, reminders, 1).await;
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 31, 0).unwrap());
    expect_calls(&received, reminder(30), 1).await;
    assert_eq!(
        received.lock().unwrap().len(),
        3,
        "announced and two reminders"
    );
}

/// A webhook receiver that answers 500 to its first call and 200 afterwards: its URL, the bodies
/// it accepted and how many calls it had.
async fn flaky_webhook_receiver() -> (
    String,
    Arc<Mutex<Vec<Value>>>,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<Mutex<Vec<String>>>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let accepted: Arc<Mutex<Vec<Value>>> = Default::default();
    let calls: Arc<AtomicUsize> = Default::default();
    let deliveries: Arc<Mutex<Vec<String>>> = Default::default();
    let hook = {
        let (accepted, calls, deliveries) = (accepted.clone(), calls.clone(), deliveries.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                    let (accepted, calls) = (accepted.clone(), calls.clone());
                    let id = headers
                        .get("x-demarc-delivery")
                        .and_then(|v| v.to_str().ok());
                    deliveries
                        .lock()
                        .unwrap()
                        .push(id.unwrap_or_default().to_owned());
                    async move {
                        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down");
                        }
                        accepted.lock().unwrap().push(body);
                        (axum::http::StatusCode::OK, "ok")
                    }
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });
    (url, accepted, calls, deliveries)
}

/// Every delivery attempt so far: (attempt, ok, status code, error).
async fn attempts(app: &TestApp) -> Vec<(i32, bool, Option<i32>, Option<String>)> {
    sqlx::query_as("SELECT attempt, ok, status_code, error FROM delivery_attempts ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_failed_webhook_delivery_is_retried_later_and_every_attempt_is_recorded() {
    use std::sync::atomic::Ordering;
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;
    let (url, accepted, calls, deliveries) = flaky_webhook_receiver().await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (id, _) = announce_minor_update(&app, &pat, &seed).await;
    // The first attempt is answered 500 and recorded as failed.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while attempts(&app).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no attempt in 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = (
        1,
        false,
        Some(500),
        Some("the receiver answered 500 Internal Server Error".to_owned()),
    );
    assert_eq!(attempts(&app).await, std::slice::from_ref(&failed));
    // Not again before its back-off (10 s on the clock the test holds still).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(attempts(&app).await.len(), 1);
    // The team's delivery log shows it retrying, with the receiver's answer and the next try.
    let audrey = app.login("audrey").await;
    let log = format!("/api/v1/teams/{}/deliveries", seed.payments);
    let (status, page) = call(&app, &audrey, Method::GET, &log, None, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let delivery = &page["items"][0];
    assert_eq!(delivery["state"], "retrying", "{delivery}");
    assert_eq!(delivery["channel"], "webhook");
    assert_eq!(delivery["target"], "127.0.0.1", "the host only: {delivery}");
    assert_eq!(delivery["about"], "maintenance.announced: Kubernetes 1.36");
    assert_eq!(delivery["attempts"][0]["status_code"], 500, "{delivery}");
    let next: chrono::DateTime<Utc> = delivery["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > monday(), "{delivery}");
    let (status, body) = call(
        &app,
        &audrey,
        Method::GET,
        &format!("{log}?page=x"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["page"], "{body}");

    // Later: delivered, and both attempts are on record.
    app.state.clock.advance(chrono::Duration::seconds(11));
    expect_calls(&accepted, |v| v["event"] == "maintenance.announced", 1).await;
    assert_eq!(accepted.lock().unwrap()[0]["maintenance"]["id"], json!(id));
    assert_eq!(attempts(&app).await, [failed, (2, true, Some(200), None)]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // Both calls carried the same delivery id, so a receiver can tell a retry from a new notice.
    let ids = deliveries.lock().unwrap().clone();
    assert_eq!(ids.len(), 2);
    assert!(!ids[0].is_empty() && ids[0] == ids[1], "{ids:?}");
    let done: Vec<bool> =
        sqlx::query_scalar("SELECT done_at IS NOT NULL FROM jobs WHERE kind = 'deliver_webhook'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(done, [true]);

    // Delivered on the second attempt: the log says so, over REST and on the team's page, under
    // the number the receiver saw in X-Demarc-Delivery.
    let (_, page) = call(&app, &audrey, Method::GET, &log, None, None).await;
    let delivery = &page["items"][0];
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert!(delivery["next_attempt_at"].is_null(), "{delivery}");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(delivery["id"].to_string(), ids[0]);
    let html = get_text(&app, &audrey, &format!("/teams/{}", seed.payments)).await;
    let row = html
        .split(&format!("data-delivery=\"{}\"", ids[0]))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no delivery {} on the team page:\n{html}", ids[0]));
    assert!(
        row.contains("Delivered") && row.contains("2 attempts"),
        "{row}"
    );
    assert!(
        row.contains("the receiver answered 500 Internal Server Error"),
        "{row}"
    );
}

#[tokio::test]
async fn a_maintenance_is_planned_in_a_window_a_blackout_moved_past_its_own_day() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let mut staging = staging_plan();
    staging["blackout_policy"] = json!("move_to_next_allowed_day");
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A freeze on the week of Tue 9 February moves staging's window to Sat 13 February.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/platforms/{}/blackouts", seed.core),
        None,
        Some(
            &json!({"environment_id": seed.staging, "first_day": "2027-02-08",
                     "last_day": "2027-02-12", "reason": "Release freeze"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let freeze = body["id"].as_str().unwrap().to_owned();

    // A period that starts after the window's own day still holds it, where it moved to: on the
    // plans page and on the month grid.
    let (status, sched) = call(
        &app,
        &pat,
        Method::GET,
        &format!(
            "/api/v1/environments/{}/schedule?from=2027-02-13&to=2027-03-01",
            seed.staging
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sched}");
    let window = &sched["windows"][0];
    assert_eq!(window["local_date"], "2027-02-13", "{sched}");
    assert_eq!(window["moved_from"], "2027-02-09", "{sched}");
    assert_eq!(window["starts_at"], "2027-02-13T19:00:00Z", "{sched}");
    let (status, events) = call(
        &app,
        &pat,
        Method::GET,
        &format!(
            "/api/v1/calendar/events?from=2027-02-13&to=2027-02-20&kind=window&environment_id={}",
            seed.staging
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let days: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["local_date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2027-02-13"], "{events}");

    // Choosing that day plans the maintenance in the moved window.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&maintenance(seed.staging, "minor", "2027-02-13")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let planned = body["maintenance"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["maintenance"]["window_date"], "2027-02-13");
    assert_eq!(body["maintenance"]["starts_at"], "2027-02-13T19:00:00Z");
    // The day it moved from is no window any more.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&maintenance(seed.staging, "minor", "2027-02-09")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "window_date").contains("is not a maintenance window"),
        "{body}"
    );

    // The freeze is called off: the window goes back to Tuesday, and removing the freeze says
    // that the maintenance planned on Saturday is in no window any more.
    let (status, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/blackouts/{freeze}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        warnings_of(&body),
        [(
            "not_a_window".into(),
            "staging".into(),
            "2027-02-13".into(),
            planned
        )],
        "{body}"
    );
}

#[tokio::test]
async fn a_production_window_moved_with_its_staging_window_keeps_its_uid_in_the_feed() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // Staging on the second Tuesday, moved past blackouts; production five working days later.
    let mut staging = staging_plan();
    staging["blackout_policy"] = json!("move_to_next_allowed_day");
    let url = staging_then_production_feed(&app, &pat, &seed, &staging).await;
    // Production's January window: Tue 19 Jan, after staging's Tue 12 Jan.
    let uid = format!("window-{}-2027-01-19@demarc", seed.production);
    let window = async || {
        let event = feed_event(&url, &uid).await;
        (prop(&event, "DTSTART").unwrap(), sequence_of(&event))
    };
    let (start, sequence) = window().await;
    assert_eq!(start, "20270119T210000Z");

    // A freeze on staging's Tuesday and Wednesday moves staging to Thu 14 Jan and production
    // with it, to Thu 21 Jan. Subscribed calendars see the same event move (same UID, higher
    // SEQUENCE), not one event vanish and another appear.
    let (status, body) = post_blackout(&app, &pat, &seed, json!({"environment_id": seed.staging, "first_day": "2027-01-12", "last_day": "2027-01-13", "reason": "Release freeze"}))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (moved, after) = window().await;
    assert_eq!(moved, "20270121T210000Z");
    assert!(after > sequence, "SEQUENCE {sequence} then {after}");
}

#[tokio::test]
async fn a_plan_removed_and_planned_again_gives_its_windows_a_higher_sequence() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &staging_plan()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Two more changes: the revision, and so the SEQUENCE, is 3.
    for version in [1, 2] {
        let (status, body) = put_plan(&app, &pat, seed.staging, version, &staging_plan()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let url = new_feed(&app, &pat, "environment", seed.staging).await;
    let uid = format!("window-{}-2027-01-12@demarc", seed.staging);
    let sequence = || {
        let (url, uid) = (url.clone(), uid.clone());
        async move {
            let text = feed_text(&url).await;
            parse_feed(&text)
                .into_iter()
                .find(|e| prop(e, "UID").as_deref() == Some(uid.as_str()))
                .map(|e| sequence_of(&e))
        }
    };
    let before = sequence().await.expect("the window is in the feed");
    assert_eq!(before, 3);

    // Removed: the window leaves the feed. Planned again, from scratch: the same UID comes back
    // with a SEQUENCE above the one calendar clients hold, so they take the new event.
    let (status, _) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/environments/{}/maintenance-plan", seed.staging),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sequence().await, None);
    let mut evening = staging_plan();
    evening["start_time"] = json!("21:00");
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &evening).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = sequence().await.expect("the window is back in the feed");
    assert!(after > before, "SEQUENCE {before} then {after}");
    // And it keeps growing with the next change.
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &staging_plan()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(sequence().await.unwrap() > after);
}

#[tokio::test]
async fn a_drill_in_the_feed_was_last_modified_when_it_changed_not_when_it_starts() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let mut form = drill(seed.core, None, "2027-03-02T09:00:00Z");
    form["ends_at"] = json!("2027-03-02T13:00:00Z");
    let (status, created) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/drills",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    form["title"] = json!("Restore the ledger database, with observers");
    let (status, updated) = call(
        &app,
        &pat,
        Method::PUT,
        &format!("/api/v1/drills/{id}"),
        Some("\"1\""),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let changed: DateTime<Utc> =
        sqlx::query_scalar("SELECT updated_at FROM dr_drills WHERE id = $1")
            .bind(Uuid::parse_str(&id).unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        updated["updated_at"]
            .as_str()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap()),
        Some(changed)
    );

    let feed = new_feed(&app, &pat, "platform", seed.core).await;
    let text = feed_text(&feed).await;
    let uid = format!("drill-{id}@demarc");
    let event = parse_feed(&text)
        .into_iter()
        .find(|e| prop(e, "UID").as_deref() == Some(uid.as_str()))
        .unwrap_or_else(|| panic!("{uid} in the feed:\n{text}"));
    assert_eq!(prop(&event, "DTSTART").as_deref(), Some("20270302T090000Z"));
    assert_eq!(
        prop(&event, "LAST-MODIFIED"),
        Some(changed.format("%Y%m%dT%H%M%SZ").to_string())
    );
}

#[tokio::test]
async fn calendar_dates_outside_the_supported_years_are_refused_naming_the_field() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &staging_plan()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let get = |path: String| {
        let (app, pat) = (&app, &pat);
        async move { call(app, pat, Method::GET, &path, None, None).await }
    };
    let schedule = format!("/api/v1/environments/{}/schedule", seed.staging);
    // The last day chrono can hold: a year later used to overflow and drop the connection.
    for (query, name) in [
        ("from=%2B262142-12-31", "from"),
        ("from=9999-01-01", "from"),
        ("from=1900-01-01&to=2027-01-01", "from"),
        ("from=2027-01-01&to=%2B262142-12-31", "to"),
    ] {
        let (status, body) = get(format!("{schedule}?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(fields(&body), [name], "{query}: {body}");
        assert!(field(&body, name).contains("1970 to 2200"), "{body}");
    }
    let (status, body) = get(format!("{schedule}?from=2200-06-01")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get("/api/v1/calendar/events?from=%2B262142-12-01".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["from"]);
    let (status, body) = get("/api/v1/maintenances?to=%2B262142-12-31".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["to"]);

    // A blackout at the end of time: refused, nothing stored, the calendar still answers.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/platforms/{}/blackouts", seed.core),
        None,
        Some(
            &json!({"first_day": "+262142-12-30", "last_day": "+262142-12-31",
                     "reason": "Forever"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["first_day", "last_day"]);
    let (status, body) = post_blackout(
        &app,
        &pat,
        &seed,
        json!({"first_day": "1969-12-31", "last_day": "1970-01-02", "reason": "Epoch"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["first_day"]);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM calendar_blackouts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let (status, body) = get("/api/v1/calendar/events?from=2027-01-01&to=2027-02-01".into()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A maintenance's window day and an emergency's or a drill's times.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&maintenance(seed.staging, "minor", "+262142-12-31")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(fields(&body).contains(&"window_date".to_owned()), "{body}");
    assert!(
        field(&body, "window_date").contains("1970 to 2200"),
        "{body}"
    );
    let mut emergency = maintenance(seed.staging, "emergency", "");
    emergency["window_date"] = Value::Null;
    emergency["justification"] = json!("A public exploit.");
    emergency["starts_at"] = json!("2500-01-01T00:00:00Z");
    emergency["ends_at"] = json!("2500-01-01T04:00:00Z");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&emergency),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["ends_at", "starts_at"]);
    let mut form = drill(seed.core, None, "1960-01-01T09:00:00Z");
    form["ends_at"] = json!("1960-01-01T12:00:00Z");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/drills",
        None,
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["ends_at", "starts_at"]);
}

/// A freeze decided after a maintenance was planned or announced holds: the maintenance is
/// neither announced nor started in it, and the refusal names the blackout and what to do. An
/// emergency goes ahead; once the blackout ends, so does the maintenance.
#[tokio::test]
async fn a_maintenance_in_a_blackout_is_neither_announced_nor_started_but_an_emergency_is() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    // Announced for staging's window of Tue 12 Jan, 19:00 UTC; a patch planned beside it.
    let (announced, _) = announce_minor_update(&app, &pat, &seed).await;
    let planned = plan_minor(
        &app,
        &pat,
        seed.staging,
        "2027-01-12",
        "Node image patch",
        None,
    )
    .await;

    let (status, freeze) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/platforms/{}/blackouts", seed.core),
        None,
        Some(&json!({"first_day": "2027-01-11", "last_day": "2027-01-13",
                     "reason": "Year-end close"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{freeze}");
    let freeze_id = freeze["id"].as_str().unwrap().to_owned();

    let refused = |body: &Value, what: &str| {
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("“Year-end close” (Mon 11 Jan 2027 to Wed 13 Jan 2027)")
                && message.contains(&format!("cannot be {what}"))
                && message.contains("Move it to another window, or end the blackout"),
            "{body}"
        );
    };
    let (status, body) = step(&app, &pat, &planned, "announce").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    refused(&body, "announced");

    // An emergency in the blackout is announced and started all the same.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&json!({
            "environment_id": seed.staging,
            "category": "emergency",
            "title": "Patch the exploited runc escape",
            "starts_at": "2027-01-13T08:00:00Z",
            "ends_at": "2027-01-13T10:00:00Z",
            "lead": "Pat Platform",
            "justification": "A public exploit escapes containers on our node version.",
            "contingency_plan": "Cordon the patched nodes and move workloads back.",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let emergency = body["maintenance"]["id"].as_str().unwrap().to_owned();
    let (status, body) = step(&app, &pat, &emergency, "announce").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // In its window, the announced maintenance does not start while the freeze lasts.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 19, 5, 0).unwrap());
    let (status, body) = step(&app, &pat, &announced, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    refused(&body, "started");
    let (status, body) = step(&app, &pat, &emergency, "start").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "in_progress");

    // The freeze ends early: the maintenance goes ahead.
    let (status, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/blackouts/{freeze_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(warnings_of(&body), []);
    let (status, body) = step(&app, &pat, &announced, "start").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The `warnings` of a saved plan or a new blackout, as (kind, environment, date, maintenance).
fn warnings_of(body: &Value) -> Vec<(String, String, String, String)> {
    body["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings array: {body}"))
        .iter()
        .map(|w| {
            (
                w["kind"].as_str().unwrap().to_owned(),
                w["environment_slug"].as_str().unwrap().to_owned(),
                w["date"].as_str().unwrap().to_owned(),
                w["maintenance_id"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

/// Saving a plan or adding a blackout says what it does to what is already planned: maintenances
/// whose window went or that now fall in a blackout, and the soak it breaks; only what the change
/// caused, and on the plans page after saving.
#[tokio::test]
async fn a_new_plan_or_blackout_warns_of_the_maintenances_and_the_soak_it_breaks() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // Staging on the second Tuesday (moved past blackouts); production on the second Thursday.
    let mut staging = staging_plan();
    staging["blackout_policy"] = json!("move_to_next_allowed_day");
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    let mut production = staging_plan();
    production["recurrence"] =
        json!({ "kind": "monthly_weekday", "ordinal": "second", "weekday": "Thu" });
    production["start_time"] = json!("22:00");
    let (status, body) = put_plan(&app, &pat, seed.production, 0, &production).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let january = plan_minor(&app, &pat, seed.staging, "2027-01-12", "CoreDNS 1.12", None).await;
    let february = plan_minor(&app, &pat, seed.staging, "2027-02-09", "Node image", None).await;

    // Staging moves to the second Wednesday: both maintenances lose their window.
    let mut wednesday = staging.clone();
    wednesday["recurrence"]["weekday"] = json!("Wed");
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &wednesday).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2, "the plan's fields stay: {body}");
    assert_eq!(body["rhythm"]["kind"], "own", "{body}");
    assert_eq!(
        warnings_of(&body),
        [
            (
                "not_a_window".into(),
                "staging".into(),
                "2027-01-12".into(),
                january.clone()
            ),
            (
                "not_a_window".into(),
                "staging".into(),
                "2027-02-09".into(),
                february.clone()
            ),
        ]
    );
    let message = body["warnings"][0]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("“CoreDNS 1.12” (staging, Tue 12 Jan 2027) is no longer in a window")
            && message.contains("Move it to another window, or cancel it."),
        "{body}"
    );
    // Back to Tuesday: nothing that was fine is broken, so nothing to warn of.
    let (status, body) = put_plan(&app, &pat, seed.staging, 2, &staging).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");

    // A release freeze on staging's February days: the maintenance falls in it, and staging's
    // window moves onto production's Thursday.
    let (status, freeze) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/platforms/{}/blackouts", seed.core),
        None,
        Some(
            &json!({"environment_id": seed.staging, "first_day": "2027-02-08",
                     "last_day": "2027-02-10", "reason": "Release freeze"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{freeze}");
    assert_eq!(freeze["reason"], "Release freeze", "{freeze}");
    assert_eq!(freeze["conflicts"][0]["maintenance_id"], february.as_str());
    assert_eq!(
        warnings_of(&freeze),
        [
            (
                "in_blackout".into(),
                "staging".into(),
                "2027-02-09".into(),
                february.clone()
            ),
            (
                "skew_violation".into(),
                "production".into(),
                "2027-02-11".into(),
                "-".into()
            ),
        ]
    );
    let blackout = freeze["warnings"][0]["message"].as_str().unwrap();
    assert!(
        blackout.contains(
            "“Node image” (staging, Tue 9 Feb 2027) falls in the blackout “Release freeze” \
             (Mon 8 Feb 2027 to Wed 10 Feb 2027): it cannot be announced or started then."
        ),
        "{freeze}"
    );
    let skew = freeze["warnings"][1]["message"].as_str().unwrap();
    assert!(
        skew.contains("Production on Thu 11 Feb 2027 starts before the staging window"),
        "{freeze}"
    );

    // The plans page shows what the save that led to it warns of: a blackout added from the
    // page over January's maintenance sends the browser back with the warning, sealed.
    let request = pat.post(app.url(&super::support::server_fn_path("add_blackout")));
    let response = super::support::same_origin(&app, request)
        .header("accept", "text/html")
        .header(
            "referer",
            app.url(&format!("/calendar/plans?platform={}", seed.core)),
        )
        .form(&[
            ("platform_id", seed.core.to_string()),
            ("environment_id", seed.staging.to_string()),
            ("first_day", "2027-01-11".to_owned()),
            ("last_day", "2027-01-13".to_owned()),
            ("reason", "Team offsite".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("warnings="), "{location}");
    assert!(
        !location.contains("CoreDNS"),
        "the text is sealed: {location}"
    );
    let html = get_text(&app, &pat, &location).await;
    let shown = html
        .split("id=\"calendar-warnings\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no warnings on the page:\n{html}"));
    assert!(
        shown.contains(
            "“CoreDNS 1.12” (staging, Tue 12 Jan 2027) falls in the blackout “Team offsite”"
        ),
        "{shown}"
    );
    // A link cannot make the page say anything: unsealed or forged warnings show nothing.
    for forged in [
        "warning=Production+on+Thu+11+Feb+2027+comes+too+early",
        "warnings=UHJvZHVjdGlvbiBjb21lcyB0b28gZWFybHk",
    ] {
        let html = get_text(
            &app,
            &pat,
            &format!("/calendar/plans?platform={}&{forged}", seed.core),
        )
        .await;
        assert!(!html.contains("id=\"calendar-warnings\""), "{forged}");
    }
}

/// Every maintenance says what it changes (an emergency may leave that to its justification)
/// and how the change is undone. Each refusal names the field.
#[tokio::test]
async fn a_maintenance_says_what_changes_and_every_one_how_it_is_undone() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let post = |form: Value| {
        let (app, pat) = (&app, pat.clone());
        async move {
            call(
                app,
                &pat,
                Method::POST,
                "/api/v1/maintenances",
                None,
                Some(&form),
            )
            .await
        }
    };
    let mut minor = maintenance(seed.staging, "minor", "2027-01-12");
    for f in ["kubernetes_from", "kubernetes_to", "description"] {
        minor[f] = json!(" ");
    }
    minor["contingency_plan"] = json!("");
    let (status, body) = post(minor.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["changes", "contingency_plan"]);
    assert!(field(&body, "changes").contains("node image"), "{body}");
    // The system components are enough to say what changes; a minor update, too, says how it
    // is undone.
    minor["components"] = json!("CoreDNS 1.12");
    let (status, body) = post(minor.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["contingency_plan"]);
    assert!(
        field(&body, "contingency_plan").contains("required for a minor update"),
        "{body}"
    );
    minor["contingency_plan"] = json!("Roll CoreDNS back to 1.11.");
    let (status, body) = post(minor).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut patch = maintenance(seed.staging, "security_patch", "2027-02-09");
    patch["contingency_plan"] = json!(" ");
    let (status, body) = post(patch).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["contingency_plan"]);
    // The form marks it required.
    let form = get_text(
        &app,
        &pat,
        &format!("/calendar/maintenances/new?environment={}", seed.staging),
    )
    .await;
    let contingency = form
        .split("id=\"field-contingency_plan\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no contingency plan field:\n{form}"));
    assert!(
        contingency[..contingency.find('>').unwrap()].contains("required"),
        "{contingency}"
    );

    let mut major = maintenance(seed.staging, "major", "2027-02-09");
    major["contingency_plan"] = json!("  ");
    let (status, body) = post(major).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["contingency_plan"]);
    assert!(
        field(&body, "contingency_plan").contains("a major update"),
        "{body}"
    );

    // An emergency need not fill in the change fields, but it does say how to undo it.
    let mut emergency = json!({
        "environment_id": seed.production,
        "category": "emergency",
        "title": "Patch the exploited runc escape",
        "starts_at": "2027-01-06T10:00:00Z",
        "ends_at": "2027-01-06T12:00:00Z",
        "lead": "Pat Platform",
        "justification": "A public exploit escapes containers on our node version.",
    });
    let (status, body) = post(emergency.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["contingency_plan"]);
    emergency["contingency_plan"] = json!("Cordon the patched nodes and move workloads back.");
    let (status, body) = post(emergency).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Changed reminder settings apply to maintenances already announced: the reminders no longer
/// wanted stay silent, the new ones go out, and one already sent is not sent again.
#[tokio::test]
async fn changed_reminder_settings_re_plan_the_reminders_of_announced_maintenances() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let received = payments_webhook(&app, &seed, "json").await;
    // Announced for Tue 12 Jan, 19:00 UTC, with the default reminders (7 days, 72 h, 1 h).
    let (id, _) = announce_minor_update(&app, &pat, &seed).await;
    expect_calls(&received, |v| v["event"] == "maintenance.announced", 1).await;
    let reminders = |v: &Value| v["event"] == "maintenance.reminder";
    let reminder = |minutes: i64| {
        let id = Value::String(id.clone());
        move |v: &Value| {
            v["event"] == "maintenance.reminder"
                && v["reminder_minutes"] == minutes
                && v["maintenance"]["id"] == id
        }
    };
    // Seven days before: the first reminder.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 5, 19, 1, 0).unwrap());
    expect_calls(&received, reminder(10080), 1).await;

    // Now: 7 days (sent already), 2 days and half an hour before; no more 72 hours or 1 hour.
    let (status, settings) = put_settings(
        &app,
        &pat,
        seed.core,
        json!({"major_notice_days": 30, "reminder_minutes": [10080, 2880, 30]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    let due: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE kind = 'maintenance_reminder' AND done_at IS NULL
         ORDER BY run_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        due,
        [
            Utc.with_ymd_and_hms(2027, 1, 10, 19, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 1, 12, 18, 30, 0).unwrap()
        ]
    );

    // 72 hours before: silence. Two days before: the new reminder.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 9, 19, 1, 0).unwrap());
    expect_calls(&received, reminders, 1).await;
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 10, 19, 1, 0).unwrap());
    expect_calls(&received, reminder(2880), 1).await;
    // One hour before: silence; half an hour before: the other new one.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 1, 0).unwrap());
    expect_calls(&received, reminders, 2).await;
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 31, 0).unwrap());
    expect_calls(&received, reminder(30), 1).await;
    expect_calls(&received, reminder(10080), 1).await;
    assert_eq!(
        received.lock().unwrap().len(),
        4,
        "announced and three reminders"
    );
}

/// Staging every Sunday at 22:00 in New York: Monday 03:00 UTC.
fn new_york_sunday_plan() -> Value {
    json!({
        "recurrence": { "kind": "weekly", "weekdays": ["Sun"] },
        "start_time": "22:00",
        "time_zone": "America/New_York",
        "duration_hours": 4,
        "allowed_categories": ["security_patch", "minor", "major"],
    })
}

#[tokio::test]
async fn a_window_that_opens_on_the_next_day_in_utc_shows_on_its_local_day_in_grid_and_agenda() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &new_york_sunday_plan()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let windows = |from: &'static str, to: &'static str| {
        let (app, pat) = (&app, pat.clone());
        async move {
            let (status, events) = call(
                app,
                &pat,
                Method::GET,
                &format!(
                    "/api/v1/calendar/events?from={from}&to={to}&kind=window&environment_id={}",
                    seed.staging
                ),
                None,
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{events}");
            events
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["local_date"].as_str().unwrap().to_owned(),
                        e["starts_at"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    // January's grid runs from Mon 28 Dec to Sun 31 Jan; Sunday 31 Jan's window opens on
    // Monday 1 Feb in UTC, and is January's, not February's.
    let january = windows("2026-12-28", "2027-02-01").await;
    assert_eq!(
        january.last().unwrap(),
        &("2027-01-31".to_owned(), "2027-02-01T03:00:00Z".to_owned()),
        "{january:?}"
    );
    assert_eq!(january.first().unwrap().0, "2027-01-03", "{january:?}");
    assert_eq!(january.len(), 5, "{january:?}");
    let february = windows("2027-02-01", "2027-03-08").await;
    assert_eq!(february.first().unwrap().0, "2027-02-07", "{february:?}");
    assert!(
        february.iter().all(|(day, _)| day.as_str() >= "2027-02-01"),
        "{february:?}"
    );

    // The month grid has it in the cell of Sunday 31 January; the agenda of January and
    // February lists it.
    let grid = get_text(
        &app,
        &pat,
        &format!("/calendar?month=2027-01&environment={}", seed.staging),
    )
    .await;
    let cell = grid
        .split_once("data-date=\"2027-01-31\"")
        .and_then(|(_, c)| c.split("</td>").next())
        .unwrap_or_else(|| panic!("no cell for 31 January:\n{grid}"));
    assert!(
        cell.contains("staging maintenance window") && cell.contains("UTC: Mon 1 Feb"),
        "{cell}"
    );
    let agenda = get_text(
        &app,
        &pat,
        &format!(
            "/calendar?month=2027-01&view=agenda&environment={}",
            seed.staging
        ),
    )
    .await;
    assert!(agenda.contains("data-date=\"2027-01-31\""), "{agenda}");
}

#[tokio::test]
async fn a_patch_upgrade_is_newer_and_production_repeats_the_version_however_it_is_written() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let post = |form: Value| {
        let (app, pat) = (&app, pat.clone());
        async move {
            call(
                app,
                &pat,
                Method::POST,
                "/api/v1/maintenances",
                None,
                Some(&form),
            )
            .await
        }
    };
    let mut patch = maintenance(seed.staging, "security_patch", "2027-01-12");
    patch["title"] = json!("Kubernetes 1.35.3");
    patch["kubernetes_from"] = json!("1.35.3");
    patch["kubernetes_to"] = json!("1.35.1");
    let (status, body) = post(patch.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["kubernetes_to"]);
    assert!(field(&body, "kubernetes_to").contains("newer"), "{body}");
    patch["kubernetes_from"] = json!("1.35.1");
    patch["kubernetes_to"] = json!("v1.35.3");
    let (status, body) = post(patch).await;
    assert_eq!(status, StatusCode::CREATED, "a patch upgrade: {body}");

    // Staging upgraded to "1.36"; production's "v1.36" is the same version, "1.36.1" is not.
    let (status, body) = post(maintenance(seed.staging, "minor", "2027-02-09")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let staged = body["maintenance"]["id"].as_str().unwrap().to_owned();
    let mut repeat = maintenance(seed.production, "minor", "2027-02-16");
    repeat["staging_maintenance_id"] = json!(staged);
    repeat["kubernetes_to"] = json!("1.36.1");
    let (status, body) = post(repeat.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "staging_maintenance_id").contains("staging was upgraded to 1.36, not 1.36.1"),
        "{body}"
    );
    repeat["kubernetes_to"] = json!("v1.36");
    let (status, body) = post(repeat).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Plans an emergency on production on the test's Monday and runs it to completion: its id and
/// the ETag it ended with.
async fn ended_emergency(app: &TestApp, pat: &Client, seed: &Seed) -> (String, String) {
    let (status, body) = call(
        app,
        pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&json!({
            "environment_id": seed.production,
            "category": "emergency",
            "title": "Patch the exploited runc escape",
            "starts_at": "2027-01-04T10:00:00Z",
            "ends_at": "2027-01-04T12:00:00Z",
            "lead": "Pat Platform",
            "contingency_plan": "Cordon the patched nodes and move workloads back.",
            "justification": "A public exploit escapes containers on our node version.",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["maintenance"]["id"].as_str().unwrap().to_owned();
    let mut version = Value::Null;
    for s in ["start", "complete"] {
        let (status, body) = step(app, pat, &id, s).await;
        assert_eq!(status, StatusCode::OK, "{s}: {body}");
        version = body["version"].clone();
    }
    (id, format!("\"{version}\""))
}

#[tokio::test]
async fn a_retrospective_is_changed_only_from_what_its_writer_read_and_a_repeat_adds_nothing() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let (id, ended) = ended_emergency(&app, &pat, &seed).await;
    let path = format!("/api/v1/maintenances/{id}/retrospective");
    let put = |etag: Option<String>, body: Value| {
        let (app, pat, path) = (&app, pat.clone(), path.clone());
        async move { call(app, &pat, Method::PUT, &path, etag.as_deref(), Some(&body)).await }
    };
    let retro = json!({
        "went_well": "The patched image rolled out in 40 minutes.",
        "to_improve": "Keep a patched image ready.",
        "action_items": [{"title": "Build images nightly", "owner": "Pat", "due_on": "2027-02-01"}],
    });
    let (status, body) = put(None, retro.clone()).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");

    let (status, first) = put(Some(ended.clone()), retro.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let written = first["version"].clone();
    // The same request again (its answer was lost): nothing changes, no second action item.
    let (status, again) = put(Some(ended.clone()), retro.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["version"], written);
    assert_eq!(
        again["retrospective"]["action_items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{again}"
    );
    // Someone who read it before it was written does not overwrite it.
    let mut other = retro.clone();
    other["went_well"] = json!("Nothing, really.");
    let (status, body) = put(Some(ended.clone()), other.clone()).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (_, now) = call(
        &app,
        &pat,
        Method::GET,
        &format!("/api/v1/maintenances/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        now["retrospective"]["went_well"],
        "The patched image rolled out in 40 minutes."
    );
    // From the current version: the text is replaced, a new item joins the one already there.
    let current = format!("\"{written}\"");
    let mut more = retro.clone();
    more["went_well"] = json!("The patched image rolled out in 35 minutes.");
    more["action_items"]
        .as_array_mut()
        .unwrap()
        .push(json!({"title": "Rehearse the rollout", "owner": "Sam", "due_on": "2027-03-01"}));
    let (status, body) = put(Some(current), more).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let titles: Vec<&str> = body["retrospective"]["action_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Build images nightly", "Rehearse the rollout"]);
    let writes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'maintenance.retrospective'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(writes, 2, "the repeat wrote nothing");

    // The page's form carries the version it shows, and the UI refuses a stale one.
    let version = body["version"].as_i64().unwrap();
    let page = get_text(&app, &pat, &format!("/calendar/maintenances/{id}")).await;
    assert!(
        page.contains(&format!("name=\"base_version\" value=\"{version}\"")),
        "{page}"
    );
    let form = |base_version: i64| {
        vec![
            ("id", id.clone()),
            ("base_version", base_version.to_string()),
            ("went_well", "Written from the page.".to_owned()),
            ("to_improve", String::new()),
        ]
    };
    let (status, body) = ui_call(
        &app,
        &pat,
        "write_maintenance_retrospective",
        form(version - 1),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("changed by someone else"),
        "{body}"
    );
    let (status, body) =
        ui_call(&app, &pat, "write_maintenance_retrospective", form(version)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = call(
        &app,
        &pat,
        Method::GET,
        &format!("/api/v1/maintenances/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(body["retrospective"]["went_well"], "Written from the page.");
    assert_eq!(
        body["retrospective"]["action_items"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{body}"
    );
}

/// Waits until every reminder due on the test's clock has run and every webhook call it queued
/// has been delivered.
async fn queue_settled(app: &TestApp) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs
             WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $1
               AND kind IN ('maintenance_reminder', 'deliver_webhook')",
        )
        .bind(app.state.clock.now())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} jobs still waiting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reminders_that_come_due_late_say_only_what_is_still_true() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;
    let (url, received) = super::support::webhook_receiver().await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Two announced updates: Tue 12 Jan and Tue 9 Feb 2027, each at 19:00 UTC.
    let (january, _) = announce_minor_update(&app, &pat, &seed).await;
    let february = plan_minor(&app, &pat, seed.staging, "2027-02-09", "CNI 1.6", None).await;
    let (status, body) = step(&app, &pat, &february, "announce").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    queue_settled(&app).await;
    let reminders = || {
        received
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v["event"] == "maintenance.reminder")
            .map(|v| {
                (
                    v["maintenance"]["id"].as_str().unwrap().to_owned(),
                    v["reminder_minutes"].as_i64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };

    // The queue was down for a week: at 18:30 on 12 Jan the 7-day, 72-hour and 1-hour
    // reminders of January's update are all due. Only the 1-hour one speaks.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 30, 0).unwrap());
    queue_settled(&app).await;
    assert_eq!(reminders(), [(january.clone(), 60)]);

    // Down again until February's window has opened: none of its reminders speaks any more.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 2, 9, 19, 30, 0).unwrap());
    queue_settled(&app).await;
    let ran: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE kind = 'maintenance_reminder' AND done_at IS NOT NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(ran, 6, "every reminder ran");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(reminders(), [(january, 60)]);
}

/// A reminder whose delivery is still being retried when its window opens is dropped, with the
/// reason recorded, instead of arriving late to say "starts in 1 hour".
#[tokio::test]
async fn a_reminder_still_undelivered_when_its_window_opens_is_dropped() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;
    announce_minor_update(&app, &pat, &seed).await; // 12 Jan, 19:00 UTC
    queue_settled(&app).await;
    // The receiver is down for the first call (the 1-hour reminder), up afterwards.
    let (url, accepted, calls) = failing_webhook_receiver(1).await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let hook = body["id"].as_str().unwrap().to_owned();

    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 30, 0).unwrap());
    queue_settled(&app).await;
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The retry comes due after the window opened.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 19, 5, 0).unwrap());
    queue_settled(&app).await;
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the late reminder was not sent"
    );
    assert!(accepted.lock().unwrap().is_empty());
    let errors: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT a.error FROM delivery_attempts a JOIN jobs j ON j.id = a.job_id
         WHERE j.payload->>'webhook_id' = $1 ORDER BY a.id",
    )
    .bind(&hook)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[1]
            .as_deref()
            .unwrap_or_default()
            .contains("no longer true"),
        "{errors:?}"
    );
}

/// A webhook receiver that answers 500 to its first `failures` calls and 200 afterwards: its
/// URL, the bodies it accepted and how many calls it had.
async fn failing_webhook_receiver(
    failures: usize,
) -> (
    String,
    Arc<Mutex<Vec<Value>>>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let accepted: Arc<Mutex<Vec<Value>>> = Default::default();
    let calls: Arc<AtomicUsize> = Default::default();
    let hook = {
        let (accepted, calls) = (accepted.clone(), calls.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let (accepted, calls) = (accepted.clone(), calls.clone());
                async move {
                    if calls.fetch_add(1, Ordering::SeqCst) < failures {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down");
                    }
                    accepted.lock().unwrap().push(body);
                    (axum::http::StatusCode::OK, "ok")
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });
    (url, accepted, calls)
}

#[tokio::test]
async fn an_announcement_is_still_delivered_after_hours_of_a_receiver_being_down() {
    use std::sync::atomic::Ordering;
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;
    let (url, accepted, calls) = failing_webhook_receiver(8).await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (id, _) = announce_minor_update(&app, &pat, &seed).await;
    // Eight failed attempts, an hour apart at most: the job keeps its place in the queue.
    for attempt in 1..=8 {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (attempts, settled, failed): (i32, bool, bool) = sqlx::query_as(
                "SELECT attempts, locked_by IS NULL, failed_at IS NOT NULL FROM jobs
                 WHERE kind = 'deliver_webhook'",
            )
            .fetch_one(&app.pool)
            .await
            .unwrap();
            assert!(!failed, "given up after {attempts} attempts");
            if attempts == attempt && settled {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "attempt {attempt} did not happen ({attempts} so far)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), attempt as usize);
        app.state.clock.advance(chrono::Duration::hours(1));
    }
    expect_calls(&accepted, |v| v["event"] == "maintenance.announced", 1).await;
    assert_eq!(accepted.lock().unwrap()[0]["maintenance"]["id"], json!(id));
    let attempts = attempts(&app).await;
    assert_eq!(attempts.len(), 9, "{attempts:?}");
    assert!(attempts[8].1, "{attempts:?}");
}

#[tokio::test]
async fn only_an_environment_after_another_names_the_maintenance_it_repeats() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let staged = plan_minor(&app, &pat, seed.staging, "2027-01-12", "CoreDNS 1.12", None).await;
    let post = |form: Value| {
        let (app, pat) = (&app, pat.clone());
        async move {
            call(
                app,
                &pat,
                Method::POST,
                "/api/v1/maintenances",
                None,
                Some(&form),
            )
            .await
        }
    };
    // Staging follows nothing: whatever it names, existing or not, is refused on that field.
    for named in [staged.clone(), Uuid::new_v4().to_string()] {
        let mut form = maintenance(seed.staging, "minor", "2027-02-09");
        form["staging_maintenance_id"] = json!(named);
        let (status, body) = post(form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(&body), ["staging_maintenance_id"], "{body}");
        assert!(
            field(&body, "staging_maintenance_id").contains("follows no earlier environment"),
            "{body}"
        );
    }
    // Nor does a change of a staging maintenance slip one in.
    let mut form = maintenance(seed.staging, "minor", "2027-01-12");
    form["title"] = json!("CoreDNS 1.12");
    form["kubernetes_from"] = json!("");
    form["kubernetes_to"] = json!("");
    form["staging_maintenance_id"] = json!(staged);
    let (status, body) = update_maintenance(&app, &pat, &staged, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["staging_maintenance_id"], "{body}");
    // Production names a maintenance of staging, none of its own and none that does not exist.
    let repeat = plan_minor(
        &app,
        &pat,
        seed.production,
        "2027-01-19",
        "CoreDNS 1.12",
        Some(&staged),
    )
    .await;
    for (named, says) in [
        (repeat, "must be a maintenance of staging"),
        (Uuid::new_v4().to_string(), "no such maintenance"),
    ] {
        let mut form = maintenance(seed.production, "minor", "2027-02-16");
        form["kubernetes_from"] = json!("");
        form["kubernetes_to"] = json!("");
        form["staging_maintenance_id"] = json!(named);
        let (status, body) = post(form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(&body), ["staging_maintenance_id"], "{body}");
        assert!(
            field(&body, "staging_maintenance_id").contains(says),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_feed_is_never_kept_by_a_cache() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let url = new_feed(&app, &pat, "environment", seed.staging).await;
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
}
