//! Maintenances along their lifecycle under the changes people make around them: production
//! repeating exactly what staging received (also after staging's maintenance was edited), the
//! announcement every planned change needs before it starts, the notice of a major update at
//! its announcement, and blackouts added over announced maintenances.

use chrono::{TimeZone, Utc};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::TestApp;
use uuid::Uuid;

use super::super::support::{call, get_text};
use super::{
    announce_minor_update, drill, ended_emergency, field, maintenance, on_monday, plan_core,
    post_blackout, queue_settled, step, update_maintenance,
};

/// Creates a maintenance from `form`: its id.
async fn create(app: &TestApp, pat: &Client, form: &Value) -> String {
    let (status, body) = call(
        app,
        pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(form),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["maintenance"]["id"].as_str().unwrap().to_owned()
}

/// A major update to Kubernetes 1.37 in `env`'s window on `window` (1.36 is supported until
/// June 2027).
fn major(env: Uuid, window: &str) -> Value {
    let mut form = maintenance(env, "major", window);
    form["title"] = json!("Kubernetes 1.37");
    form["kubernetes_from"] = json!("1.36");
    form["kubernetes_to"] = json!("1.37");
    form
}

/// Whether `body` is a 422 on `staging_maintenance_id` whose message says all of `says`.
fn refused_naming(status: StatusCode, body: &Value, says: &[&str]) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = field(body, "staging_maintenance_id");
    assert!(says.iter().all(|s| message.contains(s)), "{body}");
}

#[tokio::test]
async fn production_repeats_exactly_the_change_staging_received_even_after_staging_is_edited() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let mut staged = maintenance(seed.staging, "minor", "2027-01-12");
    staged["title"] = json!("Node image and CoreDNS");
    staged["kubernetes_from"] = json!("");
    staged["kubernetes_to"] = json!("");
    staged["node_image"] = json!("Flatcar 4230.2.1");
    staged["components"] = json!("CoreDNS 1.12");
    let staged_id = create(&app, &pat, &staged).await;
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

    // Another node image, more components or a Kubernetes upgrade staging never had: refused,
    // naming the field that differs and what staging received.
    let mut repeat = staged.clone();
    repeat["environment_id"] = json!(seed.production);
    repeat["window_date"] = json!("2027-01-19");
    repeat["staging_maintenance_id"] = json!(staged_id);
    let mut other_image = repeat.clone();
    other_image["node_image"] = json!("Flatcar 4230.2.2");
    let (status, body) = post(other_image).await;
    refused_naming(
        status,
        &body,
        &[
            "node_image differs",
            "“Flatcar 4230.2.1”",
            "“Flatcar 4230.2.2”",
        ],
    );
    let mut more = repeat.clone();
    more["components"] = json!("CoreDNS 1.12, metrics-server 0.8");
    let (status, body) = post(more).await;
    refused_naming(status, &body, &["components differs"]);
    let mut upgrade = repeat.clone();
    upgrade["kubernetes_from"] = json!("1.35");
    upgrade["kubernetes_to"] = json!("1.36");
    let (status, body) = post(upgrade).await;
    refused_naming(status, &body, &["kubernetes_to differs"]);
    // The same change, however spaced: planned.
    let mut same = repeat.clone();
    same["node_image"] = json!(" Flatcar  4230.2.1 ");
    let repeat_id = create(&app, &pat, &same).await;

    // Staging's maintenance is edited after production named it: another node image lands there.
    staged["node_image"] = json!("Flatcar 4230.2.3");
    let (status, body) = update_maintenance(&app, &pat, &staged_id, &staged).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in [&staged_id, &repeat_id] {
        let (status, body) = step(&app, &pat, id, "announce").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 19, 0, 0).unwrap());
    for s in ["start", "complete"] {
        let (status, body) = step(&app, &pat, &staged_id, s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // In production's window, staging completed, but not the change production would make.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 19, 21, 0, 0).unwrap());
    let (status, body) = step(&app, &pat, &repeat_id, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("node_image differs")
            && message.contains("“Flatcar 4230.2.3”")
            && message.contains("“Flatcar 4230.2.1”"),
        "{body}"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM maintenances WHERE id = $1")
        .bind(Uuid::parse_str(&repeat_id).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "announced");

    // Edited before its window to repeat what staging received, it starts.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 19, 20, 0, 0).unwrap());
    same["node_image"] = json!("Flatcar 4230.2.3");
    let (status, body) = update_maintenance(&app, &pat, &repeat_id, &same).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 19, 21, 0, 0).unwrap());
    let (status, body) = step(&app, &pat, &repeat_id, "start").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_major_update_announced_late_warns_of_the_notice_the_teams_really_get() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    // Planned on Monday 4 January for Tue 13 April: 99 days ahead, nothing to warn of.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&major(seed.staging, "2027-04-13")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    let id = body["maintenance"]["id"].as_str().unwrap().to_owned();

    // Announced only on Mon 1 March: the teams get 43 days, which the answer says.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap());
    let (status, body) = step(&app, &pat, &id, "announce").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["maintenance"]["state"], "announced");
    assert_eq!(
        body["warnings"],
        json!([
            "Application teams get 43 days' notice; two months gives them time to test on staging."
        ]),
        "{body}"
    );

    // From the page, the announcement leads back to the maintenance with that warning shown.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/maintenances",
        None,
        Some(&major(seed.staging, "2027-05-11")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let may = body["maintenance"]["id"].as_str().unwrap().to_owned();
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 3, 29, 9, 0, 0).unwrap());
    let page = app.url(&format!("/calendar/maintenances/{may}"));
    let request = pat.post(app.url(&super::super::support::server_fn_path("maintenance_step")));
    let response = super::super::support::same_origin(&app, request)
        .header("accept", "text/html")
        .header("referer", page)
        .form(&[("id", may.clone()), ("step", "announce".to_owned())])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("warnings="), "{location}");
    let html = get_text(&app, &pat, &location).await;
    let shown = html
        .split("id=\"maintenance-warnings\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no warnings on the page:\n{html}"));
    assert!(shown.contains("get 43 days' notice"), "{shown}");
}

#[tokio::test]
async fn the_end_of_life_check_goes_by_the_version_the_cluster_reported_not_a_typed_one() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    // Staging's cluster last reported a managed 1.35 (end of life Sun 28 Feb 2027).
    sqlx::query(
        "INSERT INTO cluster_connections (environment_id, mode, server_url, last_server_version, updated_by)
         VALUES ($1, 'token', 'https://staging.example:6443', 'v1.35.2-eks-4f1c2a', 'test')",
    )
    .bind(seed.staging)
    .execute(&app.pool)
    .await
    .unwrap();
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
    let upgrade = |window: &str, from: &str, to: &str| {
        let mut form = maintenance(seed.staging, "minor", window);
        form["title"] = json!(format!("Kubernetes {to}"));
        form["kubernetes_from"] = json!(from);
        form["kubernetes_to"] = json!(to);
        form
    };

    // April's window is after 1.35's end of life. Saying the cluster runs 1.36 (supported until
    // June) does not make it so: refused, naming the field and what the cluster reported.
    let (status, body) = post(upgrade("2027-04-13", "1.36", "1.37")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(super::super::support::fields(&body), ["kubernetes_from"]);
    assert_eq!(
        field(&body, "kubernetes_from"),
        "the cluster of staging last reported Kubernetes v1.35.2-eks-4f1c2a (1.35), and no \
         maintenance of staging before this one upgrades it to 1.36: say the version it runs, or \
         plan that upgrade first"
    );
    // An older version than it runs is refused too.
    let (status, body) = post(upgrade("2027-01-12", "1.34", "1.35")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "kubernetes_from").contains("so it no longer runs 1.34"),
        "{body}"
    );
    // Left empty, the reported 1.35 is what April's upgrade must beat: too late.
    let (status, body) = post(upgrade("2027-04-13", "", "1.37")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "window_date").contains("Kubernetes 1.35 reaches end of life"),
        "{body}"
    );

    // With the upgrade to 1.36 planned in February (in time), April may start from 1.36.
    let (status, body) = post(upgrade("2027-02-09", "v1.35", "1.36")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(upgrade("2027-04-13", "1.36", "1.37")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_announced_maintenance_a_blackout_now_covers_gets_no_reminders_and_the_reason_is_kept() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    plan_core(&app, &pat, &seed).await;
    let (url, received) = super::super::support::webhook_receiver().await;
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
    // Announced for Tue 12 Jan and Tue 9 Feb 2027, each at 19:00 UTC.
    let (january, _) = announce_minor_update(&app, &pat, &seed).await;
    let mut cni = maintenance(seed.staging, "minor", "2027-02-09");
    cni["title"] = json!("CNI 1.6");
    cni["kubernetes_from"] = json!("");
    cni["kubernetes_to"] = json!("");
    cni["components"] = json!("Cilium 1.18");
    let february = create(&app, &pat, &cni).await;
    let (status, body) = step(&app, &pat, &february, "announce").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A freeze decided afterwards covers January's window.
    let (status, body) = post_blackout(
        &app,
        &pat,
        &seed,
        json!({"first_day": "2027-01-11", "last_day": "2027-01-13", "reason": "Year-end close"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    queue_settled(&app).await;
    let reminders = || {
        received
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v["event"] == "maintenance.reminder")
            .map(|v| v["maintenance"]["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    // An hour before January's window: it cannot start in the freeze, so no "starts in 1 hour".
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 12, 18, 30, 0).unwrap());
    queue_settled(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(reminders(), Vec::<String>::new());
    let why: Vec<String> = sqlx::query_scalar(
        "SELECT a.error FROM delivery_attempts a JOIN jobs j ON j.id = a.job_id
         WHERE j.kind = 'maintenance_reminder' AND j.payload->>'maintenance_id' = $1",
    )
    .bind(&january)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        why,
        [
            "not sent: the blackout “Year-end close” (Mon 11 Jan 2027 to Wed 13 Jan 2027) covers \
          the window of “Kubernetes 1.36”, which cannot start during it"
        ]
    );

    // February's, outside the freeze, is reminded of as before.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2027, 2, 9, 18, 30, 0).unwrap());
    queue_settled(&app).await;
    assert_eq!(reminders(), [february]);
}

#[tokio::test]
async fn the_dashboard_chases_every_missing_retrospective_and_drill_result_however_old() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    // An emergency ended on Monday 4 January 2027 without its (mandatory) retrospective, and a
    // drill that afternoon whose result nobody records.
    let (emergency, _) = ended_emergency(&app, &pat, &seed).await;
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/drills",
        None,
        Some(&drill(seed.core, None, "2027-01-04T12:00:00Z")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let drill_id = body["id"].as_str().unwrap().to_owned();

    // More than a year later both are still owed.
    app.state
        .clock
        .set(Utc.with_ymd_and_hms(2028, 3, 1, 9, 0, 0).unwrap());
    let dashboard = get_text(&app, &pat, "/").await;
    let list = |id: &str| {
        let part = dashboard
            .split(&format!("id=\"{id}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {id} on the dashboard:\n{dashboard}"));
        part[..part.find("</ul>").unwrap()].to_owned()
    };
    let due = list("retrospectives-due");
    assert!(
        due.contains(&format!("/calendar/maintenances/{emergency}"))
            && due.contains("Emergency")
            && due.contains("ended Mon 4 Jan 2027"),
        "{due}"
    );
    let drills = list("drill-results-overdue");
    assert!(
        drills.contains(&format!("/calendar/drills/{drill_id}"))
            && drills.contains("Restore the ledger database")
            && drills.contains("no result recorded"),
        "{drills}"
    );
}
