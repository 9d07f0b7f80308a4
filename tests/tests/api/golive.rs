//! Go-live over REST with real parts: checklist templates, reviews, attestations with evidence,
//! waivers that expire, sign-off with frozen evidence, verification runs through the job queue
//! against the Kubernetes API test server (progress, results, evidence), uploads of kubectl
//! Lists, CI reports, sealed cluster credentials, and drift after go-live sent to a team webhook.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use domain::db::Caller;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::TestApp;
use uuid::Uuid;

use super::support::{call, fields, same_origin};

fn manual(key: &str, required: bool) -> Value {
    json!({ "key": key, "title": format!("Manual {key}"), "required": required })
}

fn automatic(key: &str, check: &str, required: bool) -> Value {
    json!({ "key": key, "title": format!("Check {check}"), "required": required, "check": check })
}

/// Saves platform core's template with the given items; returns its version.
async fn save_template(app: &TestApp, pat: &Client, platform: Uuid, items: Value) -> i64 {
    let path = format!("/api/v1/platforms/{platform}/checklist-template");
    let (status, current) = call(app, pat, Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    let etag = format!("\"{}\"", current["version"]);
    let (status, saved) = call(
        app,
        pat,
        Method::PUT,
        &path,
        Some(&etag),
        Some(&json!({ "items": items, "note": "for the test" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    saved["version"].as_i64().unwrap()
}

/// The server `app` with the demo data, pat and alice signed in, and the core platform's
/// checklist template set to `items`.
async fn with_template(app: TestApp, items: Value) -> (TestApp, tests::Seed, Client, Client) {
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    save_template(&app, &pat, seed.core, items).await;
    (app, seed, pat, alice)
}

/// An application of team payments running in `namespace` on production.
async fn application(
    app: &TestApp,
    pat: &Client,
    seed: &tests::Seed,
    slug: &str,
    namespace: &str,
) -> Uuid {
    let (status, body) = call(
        app,
        pat,
        Method::POST,
        "/api/v1/applications",
        None,
        Some(&json!({
            "team_id": seed.payments, "slug": slug, "name": slug,
            "placements": [{ "environment_id": seed.production, "namespace": namespace }],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().parse().unwrap()
}

async fn open_review(
    app: &TestApp,
    client: &Client,
    application: Uuid,
    environment: Uuid,
) -> Value {
    let (status, review) = call(
        app,
        client,
        Method::POST,
        "/api/v1/golive/reviews",
        None,
        Some(&json!({ "application_id": application, "environment_id": environment })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    review
}

/// The team (`team`) and the platform (`platform`) sign the review off: it is approved.
async fn sign_off_both(app: &TestApp, team: &Client, platform: &Client, id: &str) {
    for (client, side) in [(team, "team"), (platform, "platform")] {
        let (status, body) = call(
            app,
            client,
            Method::POST,
            &format!("/api/v1/golive/reviews/{id}/signoffs"),
            None,
            Some(&json!({"side": side})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

fn item<'a>(review: &'a Value, key: &str) -> &'a Value {
    review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no item {key} in {review}"))
}

async fn attest(
    app: &TestApp,
    client: &Client,
    review: &Value,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let id = review["id"].as_str().unwrap();
    let mut body = body;
    body["version"] = item(review, key)["version"].clone();
    call(
        app,
        client,
        Method::PUT,
        &format!("/api/v1/golive/reviews/{id}/items/{key}"),
        None,
        Some(&body),
    )
    .await
}

async fn reload(app: &TestApp, client: &Client, review: &Value) -> Value {
    let id = review["id"].as_str().unwrap();
    let (status, body) = call(
        app,
        client,
        Method::GET,
        &format!("/api/v1/golive/reviews/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Points an environment at a cluster (token mode).
async fn connect(app: &TestApp, pat: &Client, environment: Uuid, url: &str, token: &str) -> Value {
    let path = format!("/api/v1/environments/{environment}/cluster-connection");
    let version = match call(app, pat, Method::GET, &path, None, None).await {
        (StatusCode::OK, c) => c["version"].as_i64().unwrap(),
        _ => 0,
    };
    let (status, body) = call(
        app,
        pat,
        Method::PUT,
        &path,
        None,
        Some(&json!({ "mode": "token", "server_url": url, "secret": token, "version": version })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Starts a verification and waits for it to finish; returns the finished run and every
/// progress step seen on the way.
async fn verify(app: &TestApp, client: &Client, review: &Value) -> (Value, Vec<String>) {
    let run_id = request_run(app, client, review).await;
    wait_run(app, client, &run_id).await
}

/// Asks for a verification of the review; returns the run's id.
async fn request_run(app: &TestApp, client: &Client, review: &Value) -> String {
    let id = review["id"].as_str().unwrap();
    let (status, run) = call(
        app,
        client,
        Method::POST,
        &format!("/api/v1/golive/reviews/{id}/runs"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    run["id"].as_str().unwrap().to_owned()
}

/// A run as the REST API shows it.
async fn run_of(app: &TestApp, client: &Client, run_id: impl std::fmt::Display) -> Value {
    let (status, run) = call(
        app,
        client,
        Method::GET,
        &format!("/api/v1/golive/runs/{run_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run
}

/// Waits for a run to finish; returns it and every progress step seen on the way.
async fn wait_run(app: &TestApp, client: &Client, run_id: &str) -> (Value, Vec<String>) {
    let mut steps = vec![];
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let run = run_of(app, client, run_id).await;
        let step = run["progress"]["step"].as_str().unwrap_or("").to_owned();
        if steps.last() != Some(&step) {
            steps.push(step);
        }
        if run["state"] == "succeeded" || run["state"] == "failed" {
            return (run, steps);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish in 30 s: {run}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A test API server with `objects`, connected as the production cluster.
async fn serve_production(
    app: &TestApp,
    pat: &Client,
    seed: &tests::Seed,
    objects: Vec<Value>,
) -> kube_fixture::Running {
    let cluster = kube_fixture::start(kube_fixture::Config::new().objects(objects))
        .await
        .unwrap();
    connect(app, pat, seed.production, &cluster.url, "any").await;
    cluster
}

/// A run's results over REST.
async fn results_of(app: &TestApp, client: &Client, run: &Value) -> Vec<Value> {
    let (status, results) = call(
        app,
        client,
        Method::GET,
        &format!(
            "/api/v1/golive/runs/{}/results",
            run["id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    results.as_array().unwrap().clone()
}

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cluster")
}

#[tokio::test]
async fn a_review_is_attested_waived_signed_off_and_its_evidence_frozen() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let audrey = app.login("audrey").await;

    // The default template: six manual items and one per automatic check.
    let path = format!("/api/v1/platforms/{}/checklist-template", seed.core);
    let (_, default) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(default["version"], 0);
    let items = default["items"].as_array().unwrap();
    assert_eq!(items.iter().filter(|i| i["check"].is_null()).count(), 6);
    assert_eq!(items.iter().filter(|i| !i["check"].is_null()).count(), 16);

    // A bad template names the item and field; nobody but platform staff saves one.
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        Some("\"0\""),
        Some(&json!({ "items": [manual("x", true), { "key": "x", "title": "" }] })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(fields(&body).contains(&"items[1].key".to_owned()), "{body}");
    assert!(
        fields(&body).contains(&"items[1].title".to_owned()),
        "{body}"
    );
    let (status, _) = call(
        &app,
        &alice,
        Method::PUT,
        &path,
        Some("\"0\""),
        Some(&json!({ "items": [manual("x", true)] })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let items = json!([
        manual("load-test", true),
        manual("dr-drill", false),
        automatic("replicas", "replicas", true),
        { "key": "staging-only", "title": "Only on staging", "environments": ["@non-production"] },
    ]);
    let version = save_template(&app, &pat, seed.core, items).await;
    assert_eq!(version, 1);
    // Saving from a stale version is refused.
    let (status, _) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        Some("\"0\""),
        Some(&json!({ "items": [manual("x", true)] })),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    let review = open_review(&app, &alice, seed.checkout, seed.production).await;
    assert_eq!(review["template_version"], 1);
    let keys: Vec<&str> = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["load-test", "dr-drill", "replicas"],
        "production skips staging-only items"
    );
    assert_eq!(review["go_live"], "in_progress");
    // One live review per application and environment.
    let (status, _) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/golive/reviews",
        None,
        Some(&json!({ "application_id": seed.checkout, "environment_id": seed.production })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Bob is not in team payments; auditors never write.
    for who in [&bob, &audrey] {
        let (status, _) = attest(
            &app,
            who,
            &review,
            "load-test",
            json!({"status": "passed", "note": "x"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // Passing a manual item needs evidence; the cluster answers automatic items.
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "load-test",
        json!({"status": "passed"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["note"]);
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "replicas",
        json!({"status": "passed", "note": "trust me"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["status"]);
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "load-test",
        json!({"status": "passed", "note": "p99 180 ms at 2x peak", "link": "not a link"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["link"]);
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "load-test",
        json!({"status": "passed", "note": "p99 180 ms at 2x peak", "link": "https://reports.example.com/lt/42"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "passed");
    assert_eq!(body["attestation"]["by"], "Alice Payments");
    // A stale attest (the old item version) is refused.
    let (status, _) = attest(
        &app,
        &alice,
        &review,
        "load-test",
        json!({"status": "failed", "note": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    // An evidence file: stored with its hash, downloadable, attached to the item.
    let id = review["id"].as_str().unwrap();
    let response = same_origin(
        &app,
        alice.post(app.url(&format!(
            "/api/v1/golive/reviews/{id}/items/dr-drill/files?name=restore.log"
        ))),
    )
    .header("content-type", "text/plain")
    .body("restore finished in 42 minutes")
    .send()
    .await
    .unwrap();
    let (status, file) = tests::json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let review = reload(&app, &alice, &review).await;
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "dr-drill",
        json!({"status": "passed", "note": "restored", "file_id": file["id"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["attestation"]["file_name"], "restore.log");
    let download = audrey
        .get(app.url(&format!(
            "/api/v1/golive/files/{}",
            file["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.text().await.unwrap(),
        "restore finished in 42 minutes"
    );

    // Not ready: the team cannot sign off yet, and the message says what is open.
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/golive/reviews/{id}/signoffs"),
        None,
        Some(&json!({"side": "team"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Check replicas"),
        "{body}"
    );

    // A waiver needs a reason and a future expiry within a year; only platform staff approve.
    let waivers = format!("/api/v1/golive/reviews/{id}/items/replicas/waivers");
    let past = (Utc::now() - chrono::Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &waivers,
        None,
        Some(&json!({"reason": "", "expires_at": past})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["expires_at", "reason"]);
    let expires = Utc::now() + chrono::Duration::days(30);
    let waiver_body = json!({"reason": "Single replica until the session store is shared (JIRA-12)",
                             "expires_at": expires.to_rfc3339_opts(SecondsFormat::Secs, true)});
    let (status, _) = call(
        &app,
        &alice,
        Method::POST,
        &waivers,
        None,
        Some(&waiver_body),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, waiver) = call(&app, &pat, Method::POST, &waivers, None, Some(&waiver_body)).await;
    assert_eq!(status, StatusCode::CREATED, "{waiver}");
    assert_eq!(waiver["approved_by"], "Pat Platform");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "waived");
    assert_eq!(review["go_live"], "ready_for_signoff");

    // The waiver's expiry turns the item back to failing (the clock of the domain, moved on).
    let later = expires + chrono::Duration::days(1);
    let then =
        domain::golive::store::review(&app.pool, &Caller::system(), id.parse().unwrap(), later)
            .await
            .unwrap();
    let replicas = then.items.iter().find(|i| i.key == "replicas").unwrap();
    assert_eq!(replicas.status, domain::golive::model::ItemStatus::Failed);
    assert!(replicas.reason.contains("expired"), "{}", replicas.reason);
    assert_eq!(then.go_live, domain::golive::model::GoLiveState::Blocked);

    // Sign-off: the platform side cannot be signed by the team and vice versa.
    let signoffs = format!("/api/v1/golive/reviews/{id}/signoffs");
    let (status, _) = call(
        &app,
        &pat,
        Method::POST,
        &signoffs,
        None,
        Some(&json!({"side": "team"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        &alice,
        Method::POST,
        &signoffs,
        None,
        Some(&json!({"side": "platform"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &signoffs,
        None,
        Some(&json!({"side": "sideways"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["side"]);
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &signoffs,
        None,
        Some(&json!({"side": "team"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "open");
    let (status, _) = call(
        &app,
        &alice,
        Method::POST,
        &signoffs,
        None,
        Some(&json!({"side": "team"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a side signs once");
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &signoffs,
        None,
        Some(&json!({"side": "platform"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "approved");
    assert_eq!(body["go_live"], "approved");

    // The signed answers stay: after go-live one side alone changes no item, not even over REST
    // (the page offers no form for it).
    for change in [
        json!({"status": "not_applicable", "note": "Not needed after all"}),
        json!({"status": "pending"}),
    ] {
        let (status, refused) = attest(&app, &alice, &body, "load-test", change).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("frozen"),
            "{refused}"
        );
    }
    assert_eq!(
        item(&reload(&app, &alice, &body).await, "load-test")["status"],
        "passed"
    );

    // The frozen evidence is kept, and the database refuses to change it.
    let (status, frozen) = call(
        &app,
        &audrey,
        Method::GET,
        &format!("/api/v1/golive/reviews/{id}/frozen"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{frozen}");
    assert_eq!(frozen["signoffs"].as_array().unwrap().len(), 2);
    let load_test = frozen["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "load-test")
        .unwrap();
    assert_eq!(
        load_test["attestation"]["link"],
        "https://reports.example.com/lt/42"
    );
    let tamper = sqlx::query("UPDATE golive_reviews SET frozen = '{}' WHERE id = $1")
        .bind(id.parse::<Uuid>().unwrap())
        .execute(&app.pool)
        .await;
    assert!(tamper.is_err(), "frozen evidence must not change");
    let tamper = sqlx::query("DELETE FROM golive_signoffs")
        .execute(&app.pool)
        .await;
    assert!(tamper.is_err(), "sign-offs are history");

    // The board shows it approved; the audit log has every step.
    let (_, board) = call(
        &app,
        &audrey,
        Method::GET,
        &format!(
            "/api/v1/golive/board?team=payments&platform_id={}",
            seed.core
        ),
        None,
        None,
    )
    .await;
    let row = board
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["review_id"] == review["id"])
        .unwrap();
    assert_eq!(row["state"], "approved");
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE entity_type LIKE 'golive%' OR entity_type = 'checklist_template' ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for wanted in [
        "checklist_template.save",
        "golive_review.open",
        "golive_item.attest",
        "golive_waiver.grant",
        "golive_review.sign_off",
    ] {
        assert!(
            actions.iter().any(|a| a == wanted),
            "{wanted} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_verification_reads_the_cluster_through_the_queue_and_keeps_the_evidence() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let cluster = kube_fixture::start(
        kube_fixture::Config::from_dir(fixture_dir())
            .expect("fixtures load")
            .token("fixture-token-123"),
    )
    .await
    .expect("the test API server starts");

    // The token is sealed at rest and never shown again.
    let connection = connect(
        &app,
        &pat,
        seed.production,
        &cluster.url,
        "fixture-token-123",
    )
    .await;
    assert_eq!(connection["has_secret"], true);
    assert!(!connection.to_string().contains("fixture-token-123"));
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT secret FROM cluster_connections WHERE environment_id = $1")
            .bind(seed.production)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!sealed.windows(17).any(|w| w == b"fixture-token-123"));
    let audit: String =
        sqlx::query_scalar("SELECT string_agg(coalesce(after::text, ''), ' ') FROM audit_log")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        !audit.contains("fixture-token-123"),
        "the audit log must not hold the secret"
    );

    // Test connection: the version and no missing permission.
    let (status, test) = call(
        &app,
        &pat,
        Method::POST,
        &format!(
            "/api/v1/environments/{}/cluster-connection/test",
            seed.production
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["ok"], true, "{test}");
    assert!(
        test["server_version"].as_str().unwrap().starts_with("v1."),
        "{test}"
    );

    save_template(
        &app,
        &pat,
        seed.core,
        json!([
            automatic("replicas", "replicas", true),
            automatic("probes", "probes", true),
            automatic("image", "image", true),
            automatic("backups", "backups", false)
        ]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let (run, steps) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert!(steps.len() >= 2, "progress was reported: {steps:?}");
    assert_eq!(run["source"]["kind"], "cluster");
    assert!(run["summary"]["fail"].as_u64().unwrap() >= 1, "{run}");

    // Results carry evidence: the objects read with their resourceVersion, and what was seen.
    let (_, results) = call(
        &app,
        &alice,
        Method::GET,
        &format!(
            "/api/v1/golive/runs/{}/results",
            run["id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    let legacy = results
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "replicas" && r["subject"]["name"] == "legacy")
        .unwrap_or_else(|| panic!("no replicas result for legacy: {results}"));
    assert_eq!(legacy["outcome"], "fail");
    assert!(
        legacy["message"].as_str().unwrap().contains("1 replica"),
        "{legacy}"
    );
    let objects = legacy["evidence"]["objects"].as_array().unwrap();
    assert!(
        objects
            .iter()
            .any(|o| o["kind"] == "Deployment" && o["resource_version"] == "39001"),
        "{legacy}"
    );
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "failed");
    assert_eq!(item(&review, "image")["status"], "failed");
    assert_eq!(review["go_live"], "blocked");

    // A cluster that refuses a kind: an error, never a failure of the application.
    let denied = kube_fixture::start(
        kube_fixture::Config::from_dir(fixture_dir())
            .unwrap()
            .token("fixture-token-123")
            .deny("apps", "deployments", None)
            .fail_reviews("", "services"),
    )
    .await
    .unwrap();
    // (Another API server: the token is given again, a stored one is never sent elsewhere.)
    connect(
        &app,
        &pat,
        seed.production,
        &denied.url,
        "fixture-token-123",
    )
    .await;
    let (_, test) = call(
        &app,
        &pat,
        Method::POST,
        &format!(
            "/api/v1/environments/{}/cluster-connection/test",
            seed.production
        ),
        None,
        None,
    )
    .await;
    assert_eq!(test["ok"], false);
    assert!(
        test["missing"].to_string().contains("deployments"),
        "{test}"
    );
    // A review the cluster could not answer names its permission and why.
    assert!(
        test["missing"]
            .to_string()
            .contains("list services: could not be checked: "),
        "{test}"
    );
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let review = reload(&app, &alice, &review).await;
    let replicas = item(&review, "replicas");
    assert_eq!(replicas["outcome"], "error", "{replicas}");
    assert_eq!(
        replicas["status"], "failed",
        "an error leaves the status as it was"
    );
    // The progress says the item was not checked last time, and how to let Demarc read it.
    assert!(
        review["progress"]["unverified"]
            .as_array()
            .unwrap()
            .contains(&replicas["definition"]["title"]),
        "{review}"
    );
    assert!(
        replicas["message"]
            .as_str()
            .unwrap()
            .contains("grant get and list on deployments"),
        "{replicas}"
    );

    // A wrong token: the run fails with the reason, and the token is not in it.
    connect(&app, &pat, seed.production, &cluster.url, "wrong-token").await;
    let (run, _) = verify(&app, &alice, &review).await;
    let text = run.to_string();
    assert!(!text.contains("wrong-token"), "{text}");
    let review_after = reload(&app, &alice, &review).await;
    assert_eq!(item(&review_after, "replicas")["outcome"], "error", "{run}");

    // Without a connection a run cannot start, and says why.
    let (status, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!(
            "/api/v1/environments/{}/cluster-connection",
            seed.production
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!(
            "/api/v1/golive/reviews/{}/runs",
            review["id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["environment"]);
    cluster.shutdown().await;
    denied.shutdown().await;
}

/// A kubeconfig as `kubectl config view --raw` prints it: two clusters, the current context on
/// the wrong one, and a token user for the fixture cluster.
fn kubeconfig(url: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:1
  name: elsewhere
- cluster:
    server: {url}
  name: fixture
contexts:
- context:
    cluster: elsewhere
    user: reader
  name: elsewhere
- context:
    cluster: fixture
    namespace: shop
    user: reader
  name: fixture
current-context: elsewhere
preferences: {{}}
users:
- name: reader
  user:
    token: {token}
"
    )
}

#[tokio::test]
async fn verifications_of_one_cluster_waiting_together_share_one_read() {
    // A fixed clock: the runs compared are minutes apart, and backup ages are in hours.
    let mut app = TestApp::spawn_with(tests::Options {
        clock: Some(Utc::now()),
        ..Default::default()
    })
    .await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let cluster = kube_fixture::start(
        kube_fixture::Config::from_dir(fixture_dir())
            .expect("fixtures load")
            .token("fixture-token-123"),
    )
    .await
    .expect("the test API server starts");
    connect(
        &app,
        &pat,
        seed.production,
        &cluster.url,
        "fixture-token-123",
    )
    .await;
    save_template(
        &app,
        &pat,
        seed.core,
        json!([
            automatic("replicas", "replicas", true),
            automatic("drain", "drain_capacity", true),
            automatic("pdb", "disruption_budget", true),
            automatic("backups", "backups", false)
        ]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let ledger = application(&app, &pat, &seed, "books", "payments").await;
    let shop_review = open_review(&app, &alice, shop, seed.production).await;
    let ledger_review = open_review(&app, &alice, ledger, seed.production).await;

    // Each application verified on its own: what the shared read must reproduce.
    let before = cluster.requests();
    let (shop_alone, _) = verify(&app, &alice, &shop_review).await;
    let one_read = cluster.requests() - before;
    let (ledger_alone, _) = verify(&app, &alice, &ledger_review).await;
    assert_eq!(shop_alone["state"], "succeeded", "{shop_alone}");
    assert_eq!(ledger_alone["state"], "succeeded", "{ledger_alone}");

    // Both requested while no worker runs: the worker that picks them up reads the cluster
    // once for the two and evaluates each application's namespaces on their own.
    app.restart_workers(0);
    let shop_run = request_run(&app, &alice, &shop_review).await;
    let ledger_run = request_run(&app, &alice, &ledger_review).await;
    let before = cluster.requests();
    app.restart_workers(1);
    let (shop_shared, _) = wait_run(&app, &alice, &shop_run).await;
    let (ledger_shared, _) = wait_run(&app, &alice, &ledger_run).await;
    let shared_reads = cluster.requests() - before;
    assert_eq!(shop_shared["state"], "succeeded", "{shop_shared}");
    assert_eq!(ledger_shared["state"], "succeeded", "{ledger_shared}");
    assert_eq!(
        shop_shared["source"], ledger_shared["source"],
        "one read for both runs"
    );
    assert!(
        shared_reads < 2 * one_read,
        "{shared_reads} requests for two runs, {one_read} for one alone"
    );
    for (alone, shared, namespace) in [
        (&shop_alone, &shop_shared, "shop"),
        (&ledger_alone, &ledger_shared, "payments"),
    ] {
        let expected = results_of(&app, &alice, alone).await;
        let got = results_of(&app, &alice, shared).await;
        assert!(expected.len() >= 4, "{expected:?}");
        assert_eq!(
            got, expected,
            "{namespace}: the shared read changed the verdicts"
        );
        assert!(
            got.iter().all(
                |r| r["subject"]["namespace"] == namespace || r["subject"]["name"] == namespace
            ),
            "{namespace}: {got:?}"
        );
        assert_eq!(alone["summary"], shared["summary"]);
    }

    // The review's items show the results of the run that last set them.
    let shop_now = reload(&app, &alice, &shop_review).await;
    let replicas = item(&shop_now, "replicas");
    assert_eq!(replicas["run_id"], shop_shared["id"]);
    let legacy = replicas["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"]["name"] == "legacy")
        .unwrap_or_else(|| panic!("no result for legacy: {replicas}"));
    assert_eq!(legacy["outcome"], "fail");
    assert!(
        replicas["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["check"] == "replicas"),
        "{replicas}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_kubeconfig_connection_is_tested_and_verifies_through_the_cluster() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let cluster = kube_fixture::start(
        kube_fixture::Config::from_dir(fixture_dir())
            .expect("fixtures load")
            .token("kubeconfig-token-456"),
    )
    .await
    .expect("the test API server starts");

    // Saved in kubeconfig mode with a context that is not the file's current one; the file is
    // sealed like a token and never shown again.
    let path = format!(
        "/api/v1/environments/{}/cluster-connection",
        seed.production
    );
    let (status, connection) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        None,
        Some(&json!({
            "mode": "kubeconfig",
            "secret": kubeconfig(&cluster.url, "kubeconfig-token-456"),
            "context": "fixture",
            "version": 0,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    assert_eq!(connection["mode"], "kubeconfig");
    assert_eq!(connection["context"], "fixture");
    assert_eq!(connection["has_secret"], true);
    assert!(!connection.to_string().contains("kubeconfig-token-456"));

    // Test connection goes through the kubeconfig's context: the version, nothing missing.
    let test_path = format!("{path}/test");
    let (status, test) = call(&app, &pat, Method::POST, &test_path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["ok"], true, "{test}");
    assert!(
        test["server_version"].as_str().unwrap().starts_with("v1."),
        "{test}"
    );
    let (_, stored) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(stored["last_server_version"], test["server_version"]);

    // A verification reads the cluster through the same connection.
    save_template(
        &app,
        &pat,
        seed.core,
        json!([automatic("replicas", "replicas", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["source"]["kind"], "cluster");
    assert_eq!(run["source"]["server"], cluster.url.as_str(), "{run}");
    assert_eq!(run["source"]["server_version"], test["server_version"]);
    let review = reload(&app, &alice, &review).await;
    let replicas = item(&review, "replicas");
    assert_eq!(replicas["status"], "failed", "{replicas}");
    assert!(
        replicas["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["subject"]["name"] == "legacy" && r["outcome"] == "fail"),
        "the fixture cluster's objects were read: {replicas}"
    );

    // The kubeconfig with a token the cluster refuses: test connection says so, without the token.
    let (status, _) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        None,
        Some(&json!({
            "mode": "kubeconfig",
            "secret": kubeconfig(&cluster.url, "revoked-token-789"),
            "context": "fixture",
            "version": stored["version"],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, test) = call(&app, &pat, Method::POST, &test_path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["ok"], false, "{test}");
    assert!(!test.to_string().contains("revoked-token-789"), "{test}");

    // A kubeconfig whose user runs a credential plugin would run a program on Demarc's machine:
    // refused by field, and the stored connection is left as it was.
    let (_, stored) = call(&app, &pat, Method::GET, &path, None, None).await;
    let plugin = kubeconfig(&cluster.url, "x").replace(
        "token: x",
        "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}",
    );
    assert!(plugin.contains("exec:"), "{plugin}");
    let (status, refused) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        None,
        Some(&json!({ "mode": "kubeconfig", "secret": plugin, "version": stored["version"] })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["fields"]["secret"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("plugin"), "{refused}");
    let (_, after) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(after["version"], stored["version"]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn marking_an_item_not_applicable_needs_a_reason_and_is_recorded() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([
            manual("zone-failure", true),
            automatic("backups", "backups", true),
            automatic("replicas", "replicas", true)
        ]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;

    // Without a reason (or with only blanks), refused, naming the field.
    for note in [None, Some("   ")] {
        let mut body = json!({"status": "not_applicable"});
        if let Some(n) = note {
            body["note"] = json!(n);
        }
        let (status, body) = attest(&app, &alice, &review, "zone-failure", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(&body), ["note"], "{body}");
    }
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "zone-failure")["status"], "pending");

    // With one: recorded with the reason and who decided, for a manual and an automatic item.
    let why = "Single-zone cluster: there is no zone to lose";
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "zone-failure",
        json!({"status": "not_applicable", "note": why}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "not_applicable");
    assert_eq!(body["reason"], why);
    assert_eq!(body["attestation"]["by"], "Alice Payments");
    let stateless = "Stateless: nothing to back up, the data lives in the payments database";
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "backups",
        json!({"status": "not_applicable", "note": stateless}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reason"], stateless);

    // A verification does not overrule a person's decision; the items count as done.
    let cluster = kube_fixture::start(kube_fixture::Config::new().objects(cart(2)))
        .await
        .unwrap();
    let connection = connect(&app, &pat, seed.production, &cluster.url, "any").await;
    assert!(connection["last_server_version"].is_null(), "{connection}");
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    // The run read the cluster's version too (the calendar's end-of-life warnings use it).
    let (_, connection) = call(
        &app,
        &pat,
        Method::GET,
        &format!(
            "/api/v1/environments/{}/cluster-connection",
            seed.production
        ),
        None,
        None,
    )
    .await;
    assert!(
        connection["last_server_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("v1.")),
        "{connection}"
    );
    let review = reload(&app, &alice, &review).await;
    for (key, reason) in [("zone-failure", why), ("backups", stateless)] {
        let i = item(&review, key);
        assert_eq!(i["status"], "not_applicable", "{i}");
        assert_eq!(i["reason"], reason, "{i}");
    }
    assert_eq!(review["progress"]["required_done"], 3, "{review}");
    assert_eq!(review["go_live"], "ready_for_signoff", "{review}");
    // Nor does the next one (the decision is the person's, not the last run's).
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(
        item(&review, "backups")["status"],
        "not_applicable",
        "{review}"
    );
    assert_eq!(item(&review, "backups")["reason"], stateless, "{review}");

    // Sign-off takes two people: someone who is both a platform engineer and a member of the
    // team signs one side, not both.
    let both = domain::db::Caller {
        actor: domain::Actor {
            kind: domain::ActorKind::System,
            name: "Sam Both".into(),
            roles: vec![domain::Role::PlatformEngineer],
            teams: vec!["payments".into()],
            can_write: true,
        },
        request_id: None,
    };
    let id: Uuid = review["id"].as_str().unwrap().parse().unwrap();
    let now = chrono::Utc::now();
    use domain::golive::{model::SignoffSide, store};
    store::sign_off(&app.pool, &both, id, SignoffSide::Team, now)
        .await
        .unwrap();
    let refused = store::sign_off(&app.pool, &both, id, SignoffSide::Platform, now)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("someone else"), "{refused}");

    // The audit log keeps the decision with its reason.
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT after::text FROM audit_log WHERE action = 'golive_item.attest' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded[0].contains(why) && recorded[1].contains(stateless));
    cluster.shutdown().await;
}

#[tokio::test]
async fn uploaded_lists_and_ci_reports_are_verified_with_the_same_engine() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([
            automatic("replicas", "replicas", true),
            automatic("rollout", "rollout", true)
        ]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let id = review["id"].as_str().unwrap();

    let list = json!({
        "apiVersion": "v1", "kind": "List", "items": [{
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "cart", "namespace": "shop", "resourceVersion": "7" },
            "spec": { "replicas": 3, "selector": { "matchLabels": { "app": "cart" } },
                      "strategy": { "type": "RollingUpdate" },
                      "template": { "metadata": { "labels": { "app": "cart" } },
                                    "spec": { "containers": [{ "name": "cart", "image": "registry.example.com/cart:1.4.2" }] } } },
            "status": { "replicas": 3, "readyReplicas": 3 }
        }]
    });
    let response = same_origin(
        &app,
        alice.post(app.url(&format!(
            "/api/v1/golive/reviews/{id}/uploads?name=cart.json"
        ))),
    )
    .header("content-type", "application/json")
    .body(list.to_string())
    .send()
    .await
    .unwrap();
    let (status, run) = tests::json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["trigger"], "upload");
    assert_eq!(run["state"], "succeeded");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "passed", "{review}");
    assert_eq!(item(&review, "rollout")["status"], "passed");

    // A broken upload names the problem and leaves nothing behind.
    let response = same_origin(
        &app,
        alice.post(app.url(&format!("/api/v1/golive/reviews/{id}/uploads"))),
    )
    .body("{ not json")
    .send()
    .await
    .unwrap();
    let (status, body) = tests::json(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM verification_runs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 1);

    // A CI pipeline posts its results for the application's review on the environment.
    let report = json!({
        "application": "shop", "environment": "production",
        "results": [{
            "check": "replicas", "subject": { "kind": "Deployment", "namespace": "shop", "name": "cart" },
            "outcome": "fail", "message": "Deployment shop/cart has 1 replica", "evidence": { "objects": [], "values": {} }
        }]
    });
    let (status, run) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/check-reports",
        None,
        Some(&report),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["trigger"], "ci");
    assert_eq!(run["applied"], true);
    assert_eq!(run["source"]["kind"], "report", "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "failed");
    // A pipeline may say it read the cluster; Demarc did not, and records it as a report.
    let mut claimed = report.clone();
    claimed["source"] = json!({
        "kind": "cluster", "name": "production", "server": "https://10.0.0.1",
        "read_at": "2026-01-01T00:00:00Z"
    });
    let (status, run) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/check-reports",
        None,
        Some(&claimed),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["source"]["kind"], "report", "{run}");
    assert_eq!(run["source"]["name"], "cluster production", "{run}");
    assert!(run["source"]["server"].is_null(), "{run}");
    // The report said nothing about rollouts: a pipeline that ran some checks only does not
    // turn the others "not applicable".
    assert_eq!(item(&review, "rollout")["status"], "passed", "{review}");

    // A List without a single workload in the application's namespaces (the wrong namespace
    // exported) would check nothing: refused, naming the namespaces found and expected, and
    // the items keep what they were.
    let elsewhere = list
        .to_string()
        .replace("\"namespace\":\"shop\"", "\"namespace\":\"other\"");
    assert!(elsewhere.contains("\"other\""), "{elsewhere}");
    let response = same_origin(
        &app,
        alice.post(app.url(&format!(
            "/api/v1/golive/reviews/{id}/uploads?name=other.json"
        ))),
    )
    .header("content-type", "application/json")
    .body(elsewhere)
    .send()
    .await
    .unwrap();
    let (status, body) = tests::json(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["file"], "{body}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "failed", "{review}");
    assert_eq!(item(&review, "rollout")["status"], "passed", "{review}");

    // Once Demarc reads the environment live, reports are kept as evidence and the cluster
    // decides the items.
    connect(&app, &pat, seed.production, "http://127.0.0.1:9", "any").await;
    let mut passing = report.clone();
    passing["results"][0]["outcome"] = json!("pass");
    let (status, run) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/check-reports",
        None,
        Some(&passing),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["applied"], false, "{run}");
    assert_eq!(run["summary"]["pass"], 1, "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "failed", "{review}");
    let mut unknown = report.clone();
    unknown["application"] = json!("nope");
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/check-reports",
        None,
        Some(&unknown),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["application"]);
    // A misspelt field is named beside the one it was meant to be.
    let mut misspelt = report.clone();
    let object = misspelt.as_object_mut().unwrap();
    let environment = object.remove("environment").unwrap();
    object.insert("enviroment".into(), environment);
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/check-reports",
        None,
        Some(&misspelt),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["enviroment", "environment"], "{body}");
}

#[tokio::test]
async fn a_ci_report_judged_with_other_parameters_than_the_checklist_is_refused() {
    let mut three = automatic("replicas", "replicas", true);
    three["params"] = json!({"min_replicas": 3});
    let (app, seed, pat, alice) = with_template(TestApp::spawn().await, json!([three])).await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let report = |params: Value| {
        json!({
            "application": "shop", "environment": "production", "params": params,
            "results": [{
                "check": "replicas", "subject": { "kind": "Deployment", "namespace": "shop", "name": "cart" },
                "outcome": "pass", "message": "Deployment shop/cart has 2 replicas",
                "evidence": { "objects": [], "values": {} }
            }]
        })
    };
    // Judged with the defaults (two replicas), the report cannot pass an item asking for three.
    for params in [json!({}), json!({"min_replicas": 2})] {
        let (status, body) = call(
            &app,
            &alice,
            Method::POST,
            "/api/v1/check-reports",
            None,
            Some(&report(params)),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(&body), ["params"], "{body}");
        assert!(
            body["error"]["fields"]["params"]
                .as_str()
                .unwrap()
                .contains("--param min_replicas=3"),
            "{body}"
        );
    }
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM verification_runs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 0, "nothing was recorded");
    // Other checks' parameters do not matter; the same ones are accepted.
    let (status, run) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/check-reports",
        None,
        Some(&report(json!({"min_replicas": 3, "rpo_hours": 6}))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "passed", "{review}");

    // The command line writes the parameters it used into its report.
    let out = std::env::temp_dir().join(format!("demarc-params-{}.json", Uuid::new_v4()));
    let args: Vec<String> = [
        fixture_dir().join("shop-cart.yaml").to_str().unwrap(),
        "--checks",
        "replicas",
        "--param",
        "min_replicas=3",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    server::cli::run(args).await;
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    assert_eq!(written["params"], json!({"min_replicas": 3}), "{written}");
}

/// A workload whose replica count the test chooses.
fn cart(replicas: i32) -> Vec<Value> {
    vec![json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "cart", "namespace": "shop", "resourceVersion": format!("{}", 100 + replicas), "labels": { "app": "cart" } },
        "spec": { "replicas": replicas, "selector": { "matchLabels": { "app": "cart" } },
                  "template": { "metadata": { "labels": { "app": "cart" } },
                                "spec": { "containers": [{ "name": "cart", "image": "registry.example.com/cart:1.4.2" }] } } },
        "status": { "replicas": replicas, "readyReplicas": replicas }
    })]
}

/// `n` Deployments in namespace shop, `service-0` .. `service-{n-1}`, with `replicas(i)` each.
fn services(n: usize, replicas: impl Fn(usize) -> i32) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let name = format!("service-{i}");
            let r = replicas(i);
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": { "name": name, "namespace": "shop", "resourceVersion": "7", "labels": { "app": name } },
                "spec": { "replicas": r, "selector": { "matchLabels": { "app": name } },
                          "template": { "metadata": { "labels": { "app": name } },
                                        "spec": { "containers": [{ "name": "app", "image": "registry.example.com/app:1.0.0" }] } } },
                "status": { "replicas": r, "readyReplicas": r }
            })
        })
        .collect()
}

#[tokio::test]
async fn the_review_page_lists_the_results_that_need_attention_first_and_all_on_request() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([automatic("replicas", "replicas", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    // 70 services, every tenth with a single replica: 7 failures among passes.
    let cluster = kube_fixture::start(
        kube_fixture::Config::new().objects(services(70, |i| if i % 10 == 3 { 1 } else { 2 })),
    )
    .await
    .unwrap();
    connect(&app, &pat, seed.production, &cluster.url, "t").await;
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let id = review["id"].as_str().unwrap();
    let page = |query: &'static str| {
        let url = app.url(&format!("/golive/reviews/{id}{query}"));
        let alice = alice.clone();
        async move {
            let response = alice.get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.unwrap()
        }
    };
    let rows = |html: &str| html.matches("class=\"check-result\"").count();

    let html = page("").await;
    assert_eq!(rows(&html), 50, "at most 50 results on the page");
    assert!(
        html.contains("The 50 of 70 results that most need attention (7 failing or in error)."),
        "{html}"
    );
    for failing in (0..70).filter(|i| i % 10 == 3) {
        assert!(
            html.contains(&format!("Deployment shop/service-{failing} has 1 replica")),
            "the failure of service-{failing} is listed"
        );
    }
    assert!(html.contains(&format!("/golive/reviews/{id}?all=replicas#item-replicas")));

    let html = page("?all=replicas").await;
    assert_eq!(rows(&html), 70, "every result on request");
    assert!(!html.contains("most need attention"));
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_refused_plain_post_from_one_item_shows_only_in_that_items_form() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([manual("runbook", true), manual("loadtest", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let id = review["id"].as_str().unwrap();
    let page = app.url(&format!("/golive/reviews/{id}"));

    // Without scripts, the runbook's form posts an outcome that does not exist.
    let html = super::forms::refused_plain_post(
        &app,
        &alice,
        "attest_item",
        &page,
        &[
            ("review_id", id.to_owned()),
            ("key", "runbook".to_owned()),
            ("version", item(&review, "runbook")["version"].to_string()),
            ("status", "done-ish".to_owned()),
        ],
    )
    .await;

    // Both items' forms post to the same function; only the runbook's shows the refusal.
    let form_of = |key: &str| super::forms::form_with(&html, "key", key);
    let runbook = form_of("runbook");
    assert!(runbook.contains("form-error"), "{runbook}");
    assert!(runbook.contains("class=\"field invalid\""), "{runbook}");
    let loadtest = form_of("loadtest");
    assert!(!loadtest.contains("form-error"), "{loadtest}");
    assert!(!loadtest.contains("field invalid"), "{loadtest}");
    assert_eq!(
        html.matches("form-error").count(),
        1,
        "one alert on the page"
    );
}

#[tokio::test]
async fn a_regression_after_go_live_is_drift_and_reaches_the_team_webhook() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;

    // The team's webhook receiver (the secret in its URL must never be shown or stored in clear).
    let (url, received) = super::support::webhook_receiver().await;
    let hook_url = format!("{url}?secret=s3cr3t");
    let (status, webhook) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": hook_url, "format": "json"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    assert!(!webhook.to_string().contains("s3cr3t"));
    // And a Slack-compatible one (an incoming-webhook address receives `{"text": ...}`).
    let (slack_url, slack_received) = super::support::webhook_receiver().await;
    let (status, slack) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": slack_url, "format": "slack"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{slack}");
    assert_eq!(slack["format"], "slack", "{slack}");
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": "ftp://x", "format": "teams"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["format", "url"]);
    // A team member cannot point Demarc at its own network: private, link-local (the cloud's
    // metadata service) addresses are refused unless the operator allows the network (this
    // server allows loopback only, for the receivers above).
    for inside in [
        "http://10.0.0.5:8500/v1/agent",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/hook",
    ] {
        let (status, body) = call(
            &app,
            &alice,
            Method::POST,
            &format!("/api/v1/teams/{}/webhooks", seed.payments),
            None,
            Some(&json!({"url": inside, "format": "json"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{inside}: {body}");
        assert!(
            body["error"]["fields"]["url"]
                .as_str()
                .unwrap_or_default()
                .contains("DEMARC_WEBHOOK_ALLOWED_NETWORKS"),
            "{body}"
        );
    }

    save_template(
        &app,
        &pat,
        seed.core,
        json!([automatic("replicas", "replicas", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let healthy = serve_production(&app, &pat, &seed, cart(3)).await;
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "passed", "{review}");
    // Each item's results say which cluster they were read from, and when.
    let source = &item(&review, "replicas")["source"];
    assert_eq!(source["kind"], "cluster", "{review}");
    assert_eq!(source["server"], healthy.url.as_str(), "{source}");
    assert!(source["server_version"].as_str().is_some(), "{source}");
    assert!(
        source["name"].as_str().unwrap().contains("Production"),
        "{source}"
    );
    assert!(source["read_at"].as_str().is_some(), "{source}");
    let id = review["id"].as_str().unwrap();
    sign_off_both(&app, &alice, &pat, id).await;

    // After go-live someone scales the Deployment down to one replica.
    let regressed = serve_production(&app, &pat, &seed, cart(1)).await;
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "drifted", "{review}");
    assert_eq!(review["drift"][0]["item_key"], "replicas");
    assert_eq!(
        item(&review, "replicas")["source"]["server"],
        regressed.url.as_str()
    );
    // The evidence frozen at sign-off still names the cluster and time it was read from.
    let (status, frozen) = call(
        &app,
        &alice,
        Method::GET,
        &format!("/api/v1/golive/reviews/{id}/frozen"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{frozen}");
    let frozen_item = frozen["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "replicas")
        .unwrap();
    assert_eq!(frozen_item["source"], *source, "{frozen_item}");
    assert_eq!(
        review["state"], "approved",
        "go-live approval stays; the drift is shown beside it"
    );

    // Each webhook gets exactly one notice in its format, and each attempt is recorded.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().is_empty() || slack_received.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no webhook call within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["event"], "golive.drift");
    assert_eq!(calls[0]["drift"]["regressions"][0]["item"], "replicas");
    let slack_calls = slack_received.lock().unwrap().clone();
    assert_eq!(slack_calls.len(), 1, "{slack_calls:?}");
    let body = slack_calls[0].as_object().unwrap();
    assert_eq!(
        body.keys().collect::<Vec<_>>(),
        ["text"],
        "a Slack incoming webhook takes a text: {body:?}"
    );
    let text = body["text"].as_str().unwrap();
    let (head, lines) = text.split_once('\n').unwrap();
    assert!(
        head.starts_with(":warning: *shop* on ")
            && head.ends_with(" no longer passes 1 go-live check:"),
        "{text}"
    );
    assert!(
        lines.starts_with("• *Check replicas*: ") && lines.contains("shop/cart"),
        "the item's title and the message a developer can act on: {text}"
    );
    let attempts: Vec<(bool, String)> =
        sqlx::query_as("SELECT ok, target FROM delivery_attempts ORDER BY target")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(attempts.iter().all(|a| a.0), "{attempts:?}");
    assert!(
        attempts.iter().all(|a| !a.1.contains("s3cr3t")),
        "attempts record the host, not the secret URL"
    );

    // Fixed again: the drift is resolved.
    connect(&app, &pat, seed.production, &healthy.url, "any").await;
    verify(&app, &alice, &review).await;
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "approved", "{review}");

    // The cluster goes away: the run fails with the reason, and the team hears of the first
    // failure only (nothing watches the application until the cluster can be read again).
    healthy.shutdown().await;
    let before = received.lock().unwrap().len();
    for _ in 0..2 {
        let (run, _) = verify(&app, &alice, &review).await;
        assert_eq!(run["state"], "failed", "{run}");
        assert!(
            run["error"]
                .as_str()
                .unwrap_or_default()
                .starts_with("The cluster could not be read: "),
            "{run}"
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "no failure notice within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = received.lock().unwrap().clone();
    assert_eq!(
        calls.len(),
        before + 1,
        "one notice for two failed runs: {calls:?}"
    );
    let failure = &calls[before];
    assert_eq!(failure["event"], "golive.verification_failed", "{failure}");
    assert_eq!(failure["failure"]["application"], "shop", "{failure}");
    assert_eq!(failure["failure"]["review_id"], review["id"], "{failure}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(
        item(&review, "replicas")["status"],
        "passed",
        "the last reading stands"
    );
    regressed.shutdown().await;

    // Removing the Slack receiver: the audit log keeps what was removed (never the address),
    // and a second removal finds nothing.
    let slack_id = slack["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{slack_id}");
    let (status, body) = call(&app, &alice, Method::DELETE, &path, None, None).await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = call(&app, &alice, Method::DELETE, &path, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let before: serde_json::Value = sqlx::query_scalar(
        "SELECT before FROM audit_log WHERE action = 'team_webhook.remove' AND entity_id = $1",
    )
    .bind(slack_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(before["format"], "slack", "{before}");
    assert_eq!(before["hint"], slack["hint"], "{before}");
    assert!(!before.to_string().contains(&slack_url), "{before}");
}

#[tokio::test]
async fn an_item_that_did_not_apply_at_go_live_and_fails_later_is_drift() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([automatic("tls", "tls", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    // No Ingress at go-live: TLS does not apply.
    let internal = serve_production(&app, &pat, &seed, cart(2)).await;
    verify(&app, &alice, &review).await;
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "tls")["status"], "not_applicable", "{review}");
    sign_off_both(&app, &alice, &pat, review["id"].as_str().unwrap()).await;

    // Later the cart is published over plain HTTP.
    let mut objects = cart(2);
    objects.push(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": "cart", "namespace": "shop", "resourceVersion": "301" },
        "spec": { "selector": { "app": "cart" }, "ports": [{ "port": 80 }] }
    }));
    objects.push(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": { "name": "cart", "namespace": "shop", "resourceVersion": "302" },
        "spec": { "rules": [{ "host": "cart.example.com", "http": { "paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": { "service": { "name": "cart", "port": { "number": 80 } } } }] } }] }
    }));
    let _exposed = serve_production(&app, &pat, &seed, objects).await;
    verify(&app, &alice, &review).await;
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "tls")["status"], "failed", "{review}");
    assert_eq!(review["go_live"], "drifted", "{review}");
    assert_eq!(review["drift"][0]["item_key"], "tls", "{review}");
    assert_eq!(review["drift"][0]["previous"], "not_applicable", "{review}");

    // The Ingress goes again: nothing fails any more, and the drift ends.
    connect(&app, &pat, seed.production, &internal.url, "any").await;
    verify(&app, &alice, &review).await;
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "tls")["status"], "not_applicable", "{review}");
    assert_eq!(review["go_live"], "approved", "{review}");
    assert!(review["drift"][0]["resolved_at"].is_string(), "{review}");
}

#[tokio::test]
async fn a_waiver_that_runs_out_after_go_live_is_warned_of_then_drift_each_sent_once() {
    let t0 = Utc::now();
    let app = TestApp::spawn_with(tests::Options {
        clock: Some(t0),
        ..Default::default()
    })
    .await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    let received = super::support::payments_webhook(&app, &seed, "json").await;

    // A required restore test nobody has done yet goes live under a ten-day waiver.
    save_template(&app, &pat, seed.core, json!([manual("restore", true)])).await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let id = review["id"].as_str().unwrap();
    let expires = t0 + chrono::Duration::days(10);
    let waive = |until: chrono::DateTime<Utc>| {
        json!({"reason": "Restore test booked for next sprint",
               "expires_at": until.to_rfc3339_opts(SecondsFormat::Secs, true)})
    };
    let waivers = format!("/api/v1/golive/reviews/{id}/items/restore/waivers");
    let (status, waiver) = call(
        &app,
        &pat,
        Method::POST,
        &waivers,
        None,
        Some(&waive(expires)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{waiver}");
    sign_off_both(&app, &alice, &pat, id).await;
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "approved", "{review}");

    // Nine days ahead the team hears nothing yet; six days ahead it hears once, whichever
    // replica's scheduler looks first; before the expiry nothing is drift.
    use domain::golive::runs::{note_expired_waivers, warn_expiring_waivers};
    let early = t0 + chrono::Duration::days(1);
    assert_eq!(warn_expiring_waivers(&app.pool, early).await.unwrap(), 0);
    let html = super::support::get_text(&app, &alice, &format!("/golive/reviews/{id}")).await;
    assert!(!html.contains("waiver-ending"), "ten days left");
    let ahead = t0 + chrono::Duration::days(4);
    app.state.clock.set(ahead);
    let (a, b) = tokio::join!(
        warn_expiring_waivers(&app.pool, ahead),
        warn_expiring_waivers(&app.pool, ahead),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(warn_expiring_waivers(&app.pool, ahead).await.unwrap(), 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no warning within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let warning = received.lock().unwrap()[0].clone();
    assert_eq!(warning["event"], "golive.waiver_expiring", "{warning}");
    assert_eq!(warning["expiring"]["application_slug"], "shop", "{warning}");
    assert_eq!(
        warning["expiring"]["waivers"][0]["item"], "restore",
        "{warning}"
    );
    assert_eq!(
        warning["expiring"]["waivers"][0]["expires_at"], waiver["expires_at"],
        "{warning}"
    );
    // The dashboard lists it among the waivers that run out within a week.
    let html = super::support::get_text(&app, &alice, "/").await;
    let ending = html
        .split("id=\"dashboard-waivers-ending\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no waivers on the dashboard:\n{html}"));
    assert!(
        ending.contains(&format!("href=\"/golive/reviews/{id}\""))
            && ending.contains("Manual restore"),
        "{ending}"
    );
    assert!(!html.contains("dashboard-drift"), "nothing drifted yet");
    // The review page says so too.
    let html = super::support::get_text(&app, &alice, &format!("/golive/reviews/{id}")).await;
    assert!(html.contains("waiver-ending"), "{html}");
    let noted = note_expired_waivers(&app.pool, t0 + chrono::Duration::days(5))
        .await
        .unwrap();
    assert_eq!(noted, 0);

    // After it, two replicas' schedulers look at the same moment: one drift event between them.
    let later = expires + chrono::Duration::hours(1);
    app.state.clock.set(later);
    let (a, b) = tokio::join!(
        note_expired_waivers(&app.pool, later),
        note_expired_waivers(&app.pool, later),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        note_expired_waivers(&app.pool, later).await.unwrap(),
        0,
        "an expiry is noted once"
    );
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "drifted", "{review}");
    assert_eq!(review["state"], "approved", "{review}");
    let html = super::support::get_text(&app, &alice, "/").await;
    let drifted = html
        .split("id=\"dashboard-drift\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no drift on the dashboard:\n{html}"));
    assert!(
        drifted.contains(&format!("href=\"/golive/reviews/{id}\""))
            && drifted.contains("Manual restore failing since"),
        "{drifted}"
    );
    assert!(
        !html.contains("dashboard-waivers-ending"),
        "the waiver ran out"
    );
    // Platform staff see every team's; another team's members only their own.
    let html = super::support::get_text(&app, &pat, "/").await;
    assert!(html.contains("id=\"dashboard-drift\""), "{html}");
    let bob = app.login("bob").await;
    let html = super::support::get_text(&app, &bob, "/").await;
    assert!(
        !html.contains("dashboard-drift"),
        "payments' drift is not search's business: {html}"
    );
    // A waiver that ran out is not revoked (nor its drift recorded twice).
    let (status, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/golive/waivers/{}", waiver["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let drift = &review["drift"][0];
    assert_eq!(drift["item_key"], "restore", "{drift}");
    assert_eq!(drift["previous"], "waived", "{drift}");
    assert_eq!(drift["current"], "failed", "{drift}");
    assert_eq!(drift["waiver_id"], waiver["id"], "{drift}");
    assert!(drift["run_id"].is_null(), "{drift}");
    assert!(drift["resolved_at"].is_null(), "{drift}");

    // The team hears about it once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no drift call within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "a warning, then the drift: {calls:?}");
    assert_eq!(calls[1]["event"], "golive.drift");
    assert!(calls[1]["drift"]["run_id"].is_null(), "{calls:?}");
    let regression = &calls[1]["drift"]["regressions"][0];
    assert_eq!(regression["item"], "restore");
    assert!(
        regression["message"]
            .as_str()
            .unwrap()
            .contains("waiver ran out"),
        "{regression}"
    );

    // A new waiver covers the item again: the drift is resolved and the review is live again.
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &waivers,
        None,
        Some(&waive(later + chrono::Duration::days(30))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "approved", "{review}");
    assert!(review["drift"][0]["resolved_at"].is_string(), "{review}");

    // The platform revokes that waiver: the item fails again, which is drift the team hears of.
    let (status, revoked) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/golive/waivers/{}", body["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{revoked}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "drifted", "{review}");
    let open: Vec<&Value> = review["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["resolved_at"].is_null())
        .collect();
    assert_eq!(open.len(), 1, "{review}");
    assert_eq!(open[0]["waiver_id"], body["id"], "{review}");
    assert_eq!(open[0]["current"], "pending", "{review}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no drift call for the revocation within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls[2]["event"], "golive.drift", "{calls:?}");
    assert!(
        calls[2]["drift"]["regressions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked the waiver"),
        "{calls:?}"
    );

    // The restore test is done after all: its evidence is what a live review still takes from
    // the team alone, and it ends the drift.
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "restore",
        json!({"status": "passed", "note": "Restored last night's backup in 38 minutes"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "approved", "{review}");
    assert!(
        review["drift"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["resolved_at"].is_string()),
        "{review}"
    );
}

#[tokio::test]
async fn each_job_is_claimed_by_one_worker_only() {
    let app = TestApp::spawn().await;
    // Jobs of a kind no worker knows would be failed by the running worker: stop it from
    // seeing them by scheduling them in the future and claiming with a clock past that.
    let at = Utc::now() + chrono::Duration::days(365);
    let mut tx = app.pool.begin().await.unwrap();
    for i in 0..60 {
        domain::jobs::enqueue(&mut tx, "test_job", &json!({ "i": i }), at, None)
            .await
            .unwrap();
    }
    // A dedupe key is taken once.
    let first = domain::jobs::enqueue(&mut tx, "test_job", &json!({}), at, Some("slot-1"))
        .await
        .unwrap();
    let second = domain::jobs::enqueue(&mut tx, "test_job", &json!({}), at, Some("slot-1"))
        .await
        .unwrap();
    assert!(first.is_some() && second.is_none());
    tx.commit().await.unwrap();
    let now = at + chrono::Duration::seconds(1);
    let mut workers = vec![];
    for w in 0..4 {
        let pool = app.pool.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = vec![];
            while let Some(job) =
                domain::jobs::claim(&pool, &format!("w{w}"), now, chrono::Duration::minutes(5))
                    .await
                    .unwrap()
            {
                mine.push(job.id);
                domain::jobs::complete(&pool, &job, &format!("w{w}"), now)
                    .await
                    .unwrap();
            }
            mine
        }));
    }
    let mut all = vec![];
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count, "a job was claimed twice");
    assert_eq!(count, 61);

    // A failed job comes back after its backoff; a leased job is not claimed by another worker.
    let mut tx = app.pool.begin().await.unwrap();
    domain::jobs::enqueue(&mut tx, "test_job", &json!({}), at, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let job = domain::jobs::claim(&app.pool, "a", now, chrono::Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert!(
        domain::jobs::claim(&app.pool, "b", now, chrono::Duration::minutes(5))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        domain::jobs::fail(&app.pool, &job, "a", now, "boom")
            .await
            .unwrap()
    );
    assert!(
        domain::jobs::claim(&app.pool, "b", now, chrono::Duration::minutes(5))
            .await
            .unwrap()
            .is_none()
    );
    let again = domain::jobs::claim(
        &app.pool,
        "b",
        now + chrono::Duration::seconds(11),
        chrono::Duration::minutes(5),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(again.id, job.id);
    assert_eq!(again.attempt, 2);

    // A worker still busy after its lease keeps the job: its heartbeat extends the lease, and
    // only its own. Shutting down, it gives the job up at once instead of after the lease.
    let lease = chrono::Duration::minutes(5);
    let later = now + chrono::Duration::minutes(4);
    assert_eq!(
        domain::jobs::extend_leases(&app.pool, "b", later, lease)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        domain::jobs::extend_leases(&app.pool, "a", later, lease)
            .await
            .unwrap(),
        0,
        "a holds nothing"
    );
    let past_first_lease = now + chrono::Duration::minutes(7);
    assert!(
        domain::jobs::claim(&app.pool, "c", past_first_lease, lease)
            .await
            .unwrap()
            .is_none(),
        "the extended lease still holds"
    );
    assert_eq!(
        domain::jobs::release_leases(&app.pool, "b", past_first_lease)
            .await
            .unwrap(),
        1
    );
    let taken_over = domain::jobs::claim(&app.pool, "c", past_first_lease, lease)
        .await
        .unwrap()
        .expect("released at shutdown: claimable at once");
    assert_eq!(taken_over.id, job.id);
    assert_eq!(taken_over.attempt, 3);
    assert_eq!(
        domain::jobs::extend_leases(&app.pool, "b", past_first_lease, lease)
            .await
            .unwrap(),
        0,
        "b gave it up"
    );
}

#[tokio::test]
async fn finished_bookkeeping_jobs_are_pruned_after_their_retention_and_deliveries_stay() {
    let app = TestApp::spawn().await;
    // Two years ahead: the app's own scheduler, which prunes too, on today's clock, leaves
    // these jobs to this test.
    let now = Utc::now() + chrono::Duration::days(730);
    let old = now - domain::jobs::RETENTION - chrono::Duration::hours(1);
    let recent = now - domain::jobs::RETENTION + chrono::Duration::hours(1);
    // (name, kind, done_at, failed_at, delivery attempt recorded, pruned)
    let cases = [
        (
            "old verification",
            domain::golive::runs::JOB_VERIFY,
            Some(old),
            None,
            false,
            true,
        ),
        (
            "old failed verification",
            domain::golive::runs::JOB_VERIFY,
            None,
            Some(old),
            false,
            true,
        ),
        (
            "old slot",
            domain::golive::runs::JOB_VERIFY_ENVIRONMENT,
            Some(old),
            None,
            false,
            true,
        ),
        (
            "old reminder",
            domain::calendar::notices::JOB_REMINDER,
            Some(old),
            None,
            false,
            true,
        ),
        (
            "recent verification",
            domain::golive::runs::JOB_VERIFY,
            Some(recent),
            None,
            false,
            false,
        ),
        (
            "old but waiting",
            domain::golive::runs::JOB_VERIFY,
            None,
            None,
            false,
            false,
        ),
        (
            "old webhook",
            domain::golive::notify::JOB_WEBHOOK,
            Some(old),
            None,
            true,
            false,
        ),
        (
            "old e-mail",
            domain::calendar::notices::JOB_EMAIL,
            None,
            Some(old),
            false,
            false,
        ),
        (
            "old reminder with an attempt",
            domain::calendar::notices::JOB_REMINDER,
            Some(old),
            None,
            true,
            false,
        ),
    ];
    let mut ids = Vec::new();
    for (name, kind, done_at, failed_at, attempted, _) in &cases {
        // A job still waiting runs a year after `now`, far out of the running worker's reach.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, dedupe_key, done_at, failed_at, created_at)
             VALUES ($1, '{}', $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(kind)
        .bind(now + chrono::Duration::days(365))
        .bind(format!("prune-test:{name}"))
        .bind(done_at)
        .bind(failed_at)
        .bind(old)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if *attempted {
            sqlx::query(
                "INSERT INTO delivery_attempts (job_id, target, attempt, ok) VALUES ($1, 'x', 1, true)",
            )
            .bind(id)
            .execute(&app.pool)
            .await
            .unwrap();
        }
        ids.push(id);
    }
    let removed = domain::jobs::prune(&app.pool, now).await.unwrap();
    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for ((name, .., pruned), id) in cases.iter().zip(&ids) {
        assert_eq!(!left.contains(id), *pruned, "{name}");
    }
    assert_eq!(removed, 4);
    // A pruned slot's dedupe key is free again; a kept one stays taken.
    let mut tx = app.pool.begin().await.unwrap();
    let at = now + chrono::Duration::days(365);
    for (name, again) in [("old slot", true), ("recent verification", false)] {
        let key = format!("prune-test:{name}");
        let id = domain::jobs::enqueue(&mut tx, "test_job", &json!({}), at, Some(&key))
            .await
            .unwrap();
        assert_eq!(id.is_some(), again, "{name}");
    }
    tx.rollback().await.unwrap();
    // Nothing left to prune: a second pass removes nothing.
    assert_eq!(domain::jobs::prune(&app.pool, now).await.unwrap(), 0);
}

#[tokio::test]
async fn the_command_line_checks_manifests_for_ci_and_posts_its_report() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([
            automatic("replicas", "replicas", true),
            automatic("image", "image", true)
        ]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let token = app.api_token("pat").await;
    let dir = std::env::temp_dir().join(format!("demarc-cli-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let legacy = fixture_dir().join("shop-legacy.yaml");
    let cart = fixture_dir().join("shop-cart.yaml");
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        async move { format!("{:?}", server::cli::run(args).await) }
    };
    let ok = format!("{:?}", std::process::ExitCode::SUCCESS);
    let failed = format!("{:?}", std::process::ExitCode::from(1));
    let usage = format!("{:?}", std::process::ExitCode::from(2));

    // A required failure exits 1; JUnit and SARIF come out parseable with the failures in them.
    let junit = dir.join("legacy.xml");
    let code = run(&[
        legacy.to_str().unwrap(),
        "--checks",
        "replicas,image",
        "--format",
        "junit",
        "--output",
        junit.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, failed);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains("<failure"),
        "{xml}"
    );
    let sarif = dir.join("legacy.sarif");
    run(&[
        legacy.to_str().unwrap(),
        "--checks",
        "image",
        "--format",
        "sarif",
        "--output",
        sarif.to_str().unwrap(),
    ])
    .await;
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{sarif}"
    );
    // The good application passes; bad input is a usage error naming the file.
    let code = run(&[
        cart.to_str().unwrap(),
        "--checks",
        "replicas,image",
        "--format",
        "json",
        "--output",
        dir.join("cart.json").to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, ok);
    assert_eq!(run(&["/nonexistent/manifests"]).await, usage);
    assert_eq!(
        run(&[cart.to_str().unwrap(), "--checks", "nope"]).await,
        usage
    );

    // Posted to Demarc, the report becomes a run of the application's review.
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let code = run(&[
        legacy.to_str().unwrap(),
        "--checks",
        "replicas,image",
        "--format",
        "json",
        "--output",
        dir.join("posted.json").to_str().unwrap(),
        "--post",
        &app.url(""),
        "--token-file",
        token_file.to_str().unwrap(),
        "--application",
        "shop",
        "--environment",
        "production",
    ])
    .await;
    assert_eq!(
        code, failed,
        "the report is posted and the exit code still says it failed"
    );
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "failed", "{review}");
    let (_, runs) = call(
        &app,
        &alice,
        Method::GET,
        &format!(
            "/api/v1/golive/reviews/{}/runs",
            review["id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(runs[0]["trigger"], "ci", "{runs}");

    // A post Demarc refuses (no such review): a required failure still exits 1, a clean
    // report exits 2, the post's error being the one problem.
    let refused = |manifests: std::path::PathBuf| {
        let (token_file, url) = (token_file.clone(), app.url(""));
        async move {
            run(&[
                manifests.to_str().unwrap(),
                "--checks",
                "replicas,image",
                "--post",
                &url,
                "--token-file",
                token_file.to_str().unwrap(),
                "--application",
                "no-such-application",
                "--environment",
                "production",
            ])
            .await
        }
    };
    assert_eq!(refused(legacy.clone()).await, failed);
    assert_eq!(refused(cart.clone()).await, usage);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn scheduled_verifications_are_queued_once_per_slot_whatever_the_number_of_replicas() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([automatic("replicas", "replicas", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    open_review(&app, &alice, shop, seed.production).await;
    let cluster = kube_fixture::start(kube_fixture::Config::new().objects(cart(3)))
        .await
        .unwrap();
    let path = format!(
        "/api/v1/environments/{}/cluster-connection",
        seed.production
    );
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        None,
        Some(
            &json!({ "mode": "token", "server_url": cluster.url, "secret": "t",
                      "verify_every_minutes": 60, "version": 0 }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        None,
        Some(
            &json!({ "mode": "token", "server_url": cluster.url, "verify_every_minutes": 2,
                      "version": body["version"] }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["verify_every_minutes"]);

    // Two replicas' schedulers at the same moment queue one job; the next hour queues another.
    // (A time far from now, so this replica's own scheduler, on the real clock, is not involved.)
    let at = Utc::now() + chrono::Duration::days(400);
    let first = domain::golive::runs::schedule_due(&app.pool, at)
        .await
        .unwrap();
    let second = domain::golive::runs::schedule_due(&app.pool, at)
        .await
        .unwrap();
    assert_eq!((first, second), (1, 0));
    let later = domain::golive::runs::schedule_due(&app.pool, at + chrono::Duration::minutes(61))
        .await
        .unwrap();
    assert_eq!(later, 1);

    // The environment job queues a scheduled run per live review, which the worker runs.
    let queued = domain::golive::runs::verify_environment(&app.pool, seed.production, Utc::now())
        .await
        .unwrap();
    assert_eq!(queued, 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let states: Vec<String> =
            sqlx::query_scalar("SELECT state FROM verification_runs WHERE trigger = 'schedule'")
                .fetch_all(&app.pool)
                .await
                .unwrap();
        if states.iter().any(|s| s == "succeeded") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "scheduled run not done: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_sign_off_given_before_the_answers_changed_lapses_and_its_side_signs_again() {
    let (app, seed, pat, alice) =
        with_template(TestApp::spawn().await, json!([manual("load-test", true)])).await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let id = review["id"].as_str().unwrap().to_owned();
    let evidence = |link: &str| json!({"status": "passed", "note": "k6 at 2x peak", "link": link});
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "load-test",
        evidence("https://reports.example.com/lt/1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signoffs = format!("/api/v1/golive/reviews/{id}/signoffs");
    let sign = |client: Client, side: &'static str| {
        let (app, signoffs) = (&app, signoffs.clone());
        async move {
            call(
                app,
                &client,
                Method::POST,
                &signoffs,
                None,
                Some(&json!({ "side": side })),
            )
            .await
        }
    };
    let (status, body) = sign(pat.clone(), "platform").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["signoffs"][0]["current"], true, "{body}");

    // The team swaps the evidence the platform signed for: that signature no longer counts.
    let review = reload(&app, &alice, &review).await;
    let (status, body) = attest(
        &app,
        &alice,
        &review,
        "load-test",
        evidence("https://reports.example.com/lt/2"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["signoffs"][0]["side"], "platform");
    assert_eq!(review["signoffs"][0]["current"], false, "{review}");
    let page = alice
        .get(app.url(&format!("/golive/reviews/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("the answers changed since"), "{page}");

    // The team's signature does not approve the review: the platform's lapses, and it signs
    // again on what the team signed.
    let (status, body) = sign(alice.clone(), "team").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "open", "{body}");
    let sides: Vec<&str> = body["signoffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["side"].as_str().unwrap())
        .collect();
    assert_eq!(sides, ["team"], "{body}");
    let (status, body) = sign(pat.clone(), "platform").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "approved", "{body}");
    let (_, frozen) = call(
        &app,
        &alice,
        Method::GET,
        &format!("/api/v1/golive/reviews/{id}/frozen"),
        None,
        None,
    )
    .await;
    assert_eq!(
        item(&frozen, "load-test")["attestation"]["link"],
        "https://reports.example.com/lt/2"
    );
    // The lapsed signature stays as history, with the time it lapsed.
    let (kept, lapsed): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(lapsed_at) FROM golive_signoffs WHERE review_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((kept, lapsed), (3, 1));
    let lapses: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'golive_review.sign_off_lapsed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(lapses, 1);
    let tamper = sqlx::query("UPDATE golive_signoffs SET signed_by = 'someone else'")
        .execute(&app.pool)
        .await;
    assert!(tamper.is_err(), "a sign-off only ever lapses");
    let tamper =
        sqlx::query("UPDATE golive_signoffs SET lapsed_at = now() WHERE lapsed_at IS NULL")
            .execute(&app.pool)
            .await;
    assert!(
        tamper.is_err(),
        "an approved review's sign-offs do not lapse"
    );
}

/// A run recorded as queued with no job row: no worker takes it, the test runs it by hand.
async fn queued_run_without_job(app: &TestApp, review_id: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO verification_runs (review_id, trigger, requested_by) VALUES ($1, 'api', 'test') RETURNING id",
    )
    .bind(review_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_verification_the_queue_gives_up_on_is_finished_as_failed_with_the_reason() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let alice = app.login("alice").await;
    let review = open_review(&app, &alice, seed.checkout, seed.production).await;
    let review_id: Uuid = review["id"].as_str().unwrap().parse().unwrap();
    // A run whose job kept failing (no job row: the worker must not pick it up here).
    let run_id = queued_run_without_job(&app, review_id).await;
    let job = domain::jobs::Job {
        id: 0,
        kind: domain::golive::runs::JOB_VERIFY.into(),
        payload: json!({ "run_id": run_id }),
        attempt: 5,
        max_attempts: 5,
    };
    domain::golive::runs::abandon(&app.pool, &job, "database unavailable", Utc::now())
        .await
        .unwrap();
    let run = run_of(&app, &alice, run_id).await;
    assert_eq!(run["state"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("Gave up after 5 attempts"),
        "{run}"
    );
}

#[tokio::test]
async fn a_queued_verification_of_an_application_that_lost_its_namespaces_reads_nothing() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    // A cluster with other teams' workloads: none of them may end up in this review.
    let cluster = serve_production(&app, &pat, &seed, cart(1)).await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let review_id: Uuid = review["id"].as_str().unwrap().parse().unwrap();
    // Queued (no job row, so no worker takes it), then the namespaces go before it runs.
    let run_id = queued_run_without_job(&app, review_id).await;
    sqlx::query("DELETE FROM application_namespaces WHERE application_id = $1")
        .bind(shop)
        .execute(&app.pool)
        .await
        .unwrap();
    let read_before = cluster.requests();
    domain::golive::runs::execute(&app.pool, &app.state.secrets, "test", run_id, Utc::now)
        .await
        .unwrap();
    let run = run_of(&app, &alice, run_id).await;
    assert_eq!(run["state"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("has no namespaces on"),
        "{run}"
    );
    assert!(results_of(&app, &alice, &run).await.is_empty(), "{run}");
    assert_eq!(cluster.requests(), read_before, "the cluster was not read");
}

/// A multipart body as a browser sends a form with a file.
fn multipart(fields: &[(&str, &str)], file: (&str, &str)) -> (String, Vec<u8>) {
    let boundary = "demarc-test-boundary-7d1f";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    let (file_name, content) = file;
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/plain\r\n\r\n{content}\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn a_file_uploaded_from_the_review_page_is_the_items_evidence() {
    let (app, seed, pat, alice) =
        with_template(TestApp::spawn().await, json!([manual("load-test", true)])).await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let id = review["id"].as_str().unwrap().to_owned();
    let page = app.url(&format!("/golive/reviews/{id}"));
    let html = alice.get(&page).send().await.unwrap().text().await.unwrap();
    let form = html
        .split("<form ")
        .find(|f| f.contains("action=\"/golive/evidence\""))
        .expect("the file form on the page");
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    assert!(form.contains("type=\"file\""), "{form}");

    let post = |client: &Client, version: &str, content: &str| {
        let (content_type, body) = multipart(
            &[
                ("review_id", id.as_str()),
                ("key", "load-test"),
                ("version", version),
                ("note", "k6 run, p99 180 ms"),
            ],
            ("load-test.txt", content),
        );
        same_origin(&app, client.post(app.url("/golive/evidence")))
            .header("referer", page.clone())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let files = || async { super::support::count(&app, "evidence_files").await };

    // A stale version: back to the page with the refusal in the item's form, and no file kept.
    let refused = post(&alice, "7", "report").await.unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let back = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("/golive/reviews/{id}?")) && back.contains("__err="),
        "{back}"
    );
    let html = alice
        .get(app.url(&back))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = html
        .split("<form ")
        .find(|f| f.contains("action=\"/golive/evidence\""))
        .unwrap();
    assert!(
        form.contains("form-error"),
        "the refusal shows in the file form: {form}"
    );
    assert_eq!(files().await, 0, "nothing half-written");

    // An auditor reads but never writes.
    let audrey = app.login("audrey").await;
    let refused = post(&audrey, "1", "report").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(files().await, 0);
    // A member of another team sends a complete, current form: refused on the item, nothing kept.
    let bob = app.login("bob").await;
    let refused = post(&bob, "1", "report").await.unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let back = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="), "{back}");
    assert_eq!(files().await, 0, "another team's member attests nothing");
    let review_now = reload(&app, &alice, &review).await;
    assert_eq!(
        item(&review_now, "load-test")["status"],
        "pending",
        "{review_now}"
    );

    // The item's version: passed, with the file as evidence, downloadable from the page.
    let done = post(&alice, "1", "p99 180 ms at 400 rps").await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"],
        format!("/golive/reviews/{id}#item-load-test")
    );
    let review = reload(&app, &alice, &review).await;
    let attested = item(&review, "load-test");
    assert_eq!(attested["status"], "passed", "{attested}");
    assert_eq!(attested["attestation"]["file_name"], "load-test.txt");
    assert_eq!(attested["attestation"]["note"], "k6 run, p99 180 ms");
    let file_id = attested["attestation"]["file_id"].as_str().unwrap();
    let html = alice.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"/api/v1/golive/files/{file_id}\"")),
        "a download link"
    );
    let download = alice
        .get(app.url(&format!("/api/v1/golive/files/{file_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(download.text().await.unwrap(), "p99 180 ms at 400 rps");
}

/// Posts `body` to a review's uploads as the review page's script would; the status and answer.
async fn upload(
    app: &TestApp,
    client: &Client,
    review: &Value,
    name: &str,
    body: &str,
) -> (StatusCode, Value) {
    let id = review["id"].as_str().unwrap();
    let response = same_origin(
        app,
        client.post(app.url(&format!("/api/v1/golive/reviews/{id}/uploads?name={name}"))),
    )
    .header("content-type", "application/json")
    .body(body.to_owned())
    .send()
    .await
    .unwrap();
    tests::json(response).await
}

/// How many verification runs the database holds.
async fn runs_stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM verification_runs")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stored_token_is_sent_only_to_the_server_it_was_saved_for() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let production = kube_fixture::start(
        kube_fixture::Config::new()
            .token("production-token-123")
            .server_version("v1.31.4"),
    )
    .await
    .unwrap();
    // Someone who may edit connections but never saw the token runs a server of their own.
    let attacker = kube_fixture::start(kube_fixture::Config::new())
        .await
        .unwrap();
    let connection = connect(
        &app,
        &pat,
        seed.production,
        &production.url,
        "production-token-123",
    )
    .await;
    let path = format!(
        "/api/v1/environments/{}/cluster-connection",
        seed.production
    );
    let put = |body: Value| {
        let (app, pat, path) = (&app, &pat, &path);
        async move { call(app, pat, Method::PUT, path, None, Some(&body)).await }
    };

    // Another server address, or another CA, with an empty secret: refused, naming the secret.
    let ca = "-----BEGIN CERTIFICATE-----\nMIIBattacker\n-----END CERTIFICATE-----";
    for (server_url, ca_pem) in [(attacker.url.as_str(), ""), (production.url.as_str(), ca)] {
        let (status, body) = put(json!({
            "mode": "token", "server_url": server_url, "ca_pem": ca_pem, "secret": "",
            "version": connection["version"],
        }))
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(&body), ["secret"], "{body}");
        assert!(
            body["error"]["fields"]["secret"]
                .as_str()
                .unwrap()
                .contains("give the bearer token again"),
            "{body}"
        );
    }
    let (_, stored) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(stored["server_url"], production.url.as_str(), "{stored}");
    assert_eq!(stored["version"], connection["version"], "{stored}");
    // So Test connection still goes to the production server, never to the other one.
    let test_path = format!("{path}/test");
    let (status, test) = call(&app, &pat, Method::POST, &test_path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["ok"], true, "{test}");
    assert_eq!(test["server_version"], "v1.31.4", "{test}");
    assert_eq!(attacker.requests(), 0, "the other server heard nothing");

    // The same address with an empty secret keeps the token (a new schedule), and the known
    // server version with it.
    let (status, saved) = put(json!({
        "mode": "token", "server_url": production.url, "secret": "",
        "verify_every_minutes": 60, "version": stored["version"],
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["has_secret"], true, "{saved}");
    assert_eq!(saved["last_server_version"], "v1.31.4", "{saved}");
    // Another address with a token given again is accepted, and forgets the old cluster's version.
    let (status, moved) = put(json!({
        "mode": "token", "server_url": attacker.url, "secret": "its-own-token",
        "version": saved["version"],
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert!(moved["last_server_version"].is_null(), "{moved}");
    production.shutdown().await;
    attacker.shutdown().await;
}

#[tokio::test]
async fn a_failed_connection_test_is_recorded_and_keeps_the_known_server_version() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let cluster = kube_fixture::start(kube_fixture::Config::new().server_version("v1.30.2"))
        .await
        .unwrap();
    connect(&app, &pat, seed.production, &cluster.url, "any").await;
    let path = format!(
        "/api/v1/environments/{}/cluster-connection",
        seed.production
    );
    let test_path = format!("{path}/test");
    let (status, test) = call(&app, &pat, Method::POST, &test_path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["server_version"], "v1.30.2", "{test}");

    // The API server cannot be reached for a while: the failure is recorded, but the version
    // the calendar's end-of-life warnings read stays.
    cluster.shutdown().await;
    let (status, test) = call(&app, &pat, Method::POST, &test_path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["ok"], false, "{test}");
    assert!(test["error"].is_string(), "{test}");
    let (_, stored) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(stored["last_test_error"], test["error"], "{stored}");
    assert!(stored["last_tested_at"].is_string(), "{stored}");
    assert_eq!(stored["last_server_version"], "v1.30.2", "{stored}");
}

#[tokio::test]
async fn a_waived_item_that_fails_again_after_go_live_is_not_drift_while_its_waiver_lasts() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([automatic("replicas", "replicas", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    let id = review["id"].as_str().unwrap().to_owned();
    let deliveries = || async {
        let (status, page) = call(
            &app,
            &alice,
            Method::GET,
            &format!("/api/v1/teams/{}/deliveries", seed.payments),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["total"].as_i64().unwrap()
    };
    let _received = super::support::payments_webhook(&app, &seed, "json").await;

    // One replica at go-live, waived for a month by the platform.
    let single = serve_production(&app, &pat, &seed, cart(1)).await;
    verify(&app, &alice, &review).await;
    let expires = Utc::now() + chrono::Duration::days(30);
    let (status, waiver) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/golive/reviews/{id}/items/replicas/waivers"),
        None,
        Some(
            &json!({"reason": "Second replica after the licence upgrade",
                     "expires_at": expires.to_rfc3339_opts(SecondsFormat::Secs, true)}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{waiver}");
    sign_off_both(&app, &alice, &pat, &id).await;

    // The team scales up (the item passes), then back down while the waiver still runs.
    let _scaled = serve_production(&app, &pat, &seed, cart(3)).await;
    verify(&app, &alice, &review).await;
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "passed", "{review}");
    connect(&app, &pat, seed.production, &single.url, "any").await;
    let (run, _) = verify(&app, &alice, &review).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "waived", "{review}");
    assert_eq!(review["go_live"], "approved", "{review}");
    assert_eq!(review["drift"], json!([]), "{review}");
    assert_eq!(deliveries().await, 0, "no drift notice for a waived item");

    // Without the waiver the failing item is drift, and the team hears of it.
    let (status, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("/api/v1/golive/waivers/{}", waiver["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "drifted", "{review}");
    assert_eq!(review["drift"][0]["item_key"], "replicas", "{review}");
    assert_eq!(deliveries().await, 1);
}

/// A Deployment of `replicas` named `name`, in `namespace` (none: the manifest names none).
fn deployment(name: &str, namespace: Option<&str>, replicas: i32) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": name },
        "spec": { "replicas": replicas, "selector": { "matchLabels": { "app": name } },
                  "strategy": { "type": "RollingUpdate" },
                  "template": { "metadata": { "labels": { "app": name } },
                                "spec": { "containers": [{ "name": name, "image": "registry.example.com/app:1.0.0" }] } } },
        "status": { "replicas": replicas, "readyReplicas": replicas }
    });
    if let Some(ns) = namespace {
        d["metadata"]["namespace"] = json!(ns);
    }
    d
}

#[tokio::test]
async fn an_upload_without_a_workload_in_the_applications_namespaces_is_refused() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([
            automatic("replicas", "replicas", true),
            automatic("rollout", "rollout", true)
        ]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;

    // `helm template` output names no namespace: its objects are the application's, in its
    // only namespace on the environment.
    let helm = "---\n# Source: cart/templates/deployment.yaml\n".to_owned()
        + &serde_json::to_string(&deployment("cart", None, 3)).unwrap();
    let (status, run) = upload(&app, &alice, &review, "helm.yaml", &helm).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let results = results_of(&app, &alice, &run).await;
    assert!(
        results
            .iter()
            .any(|r| r["subject"]["namespace"] == "shop" && r["subject"]["name"] == "cart"),
        "{results:?}"
    );
    let review = reload(&app, &alice, &review).await;
    assert_eq!(item(&review, "replicas")["status"], "passed", "{review}");
    assert_eq!(item(&review, "rollout")["status"], "passed", "{review}");
    sign_off_both(&app, &alice, &pat, review["id"].as_str().unwrap()).await;
    let stored = runs_stored(&app).await;

    // `kubectl get netpol,pdb -n shop -o json`: objects of the namespace, but no workload.
    let policies = json!({ "apiVersion": "v1", "kind": "List", "items": [
        { "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": { "name": "deny-all", "namespace": "shop" },
          "spec": { "podSelector": {}, "policyTypes": ["Ingress"] } },
        { "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
          "metadata": { "name": "cart", "namespace": "shop" },
          "spec": { "maxUnavailable": 1, "selector": { "matchLabels": { "app": "cart" } } } }
    ]});
    let (status, body) = upload(
        &app,
        &alice,
        &review,
        "policies.json",
        &policies.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["file"], "{body}");
    let message = body["error"]["fields"]["file"].as_str().unwrap();
    assert!(
        message.contains("no workload") && message.contains("only other objects, in shop"),
        "{message}"
    );
    // Workloads of another namespace: the message names where they are and where they should be.
    let other = json!({ "apiVersion": "v1", "kind": "List",
                        "items": [deployment("cart", Some("shop-old"), 3)] });
    let (status, body) = upload(&app, &alice, &review, "other.json", &other.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["fields"]["file"].as_str().unwrap();
    assert!(
        message.contains("in shop, the namespace of shop on Production")
            && message.contains("Its workloads are in shop-old."),
        "{message}"
    );
    // Nothing was stored, and the review stays live without drift.
    assert_eq!(runs_stored(&app).await, stored);
    let review = reload(&app, &alice, &review).await;
    assert_eq!(review["go_live"], "approved", "{review}");
    assert_eq!(item(&review, "replicas")["status"], "passed", "{review}");

    // An application with two namespaces there: an object without one is not guessed into
    // either (it lands in `default`, as kubectl would put it).
    let (status, two) = call(
        &app,
        &pat,
        Method::POST,
        "/api/v1/applications",
        None,
        Some(&json!({
            "team_id": seed.payments, "slug": "split", "name": "split",
            "placements": [
                { "environment_id": seed.production, "namespace": "split-api" },
                { "environment_id": seed.production, "namespace": "split-web" }
            ],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{two}");
    let split = open_review(
        &app,
        &alice,
        two["id"].as_str().unwrap().parse().unwrap(),
        seed.production,
    )
    .await;
    let (status, body) = upload(&app, &alice, &split, "helm.yaml", &helm).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["fields"]["file"].as_str().unwrap();
    assert!(
        message.contains("in split-api, split-web, the namespaces of split")
            && message.contains("Its workloads are in default."),
        "{message}"
    );
    assert_eq!(runs_stored(&app).await, stored);
}

#[tokio::test]
async fn an_upload_is_refused_to_whoever_may_not_work_on_the_review_before_it_is_read() {
    let (app, seed, pat, alice) = with_template(
        TestApp::spawn().await,
        json!([automatic("replicas", "replicas", true)]),
    )
    .await;
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let review = open_review(&app, &alice, shop, seed.production).await;
    // Not even a broken file is looked at for a member of another team or an auditor: the
    // answer is the refusal, not the file's problem.
    for who in ["bob", "audrey"] {
        let client = app.login(who).await;
        let (status, body) = upload(&app, &client, &review, "broken.json", "{ not json").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    assert_eq!(runs_stored(&app).await, 0);
    // Whoever may is told what is wrong with the file.
    let (status, body) = upload(&app, &alice, &review, "broken.json", "{ not json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["file"], "{body}");
}

#[tokio::test]
async fn a_review_is_opened_only_where_the_application_has_namespaces() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;
    // Shop runs on production only.
    let shop = application(&app, &pat, &seed, "shop", "shop").await;
    let (status, body) = call(
        &app,
        &alice,
        Method::POST,
        "/api/v1/golive/reviews",
        None,
        Some(&json!({ "application_id": shop, "environment_id": seed.staging })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["environment_id"], "{body}");
    let message = body["error"]["fields"]["environment_id"].as_str().unwrap();
    assert!(
        message.contains("has no namespaces there") && message.contains("Add its namespaces"),
        "{message}"
    );
    let reviews: i64 =
        sqlx::query_scalar("SELECT count(*) FROM golive_reviews WHERE application_id = $1")
            .bind(shop)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(reviews, 0, "nothing was opened");
    // Where it runs, the review opens.
    open_review(&app, &alice, shop, seed.production).await;
}
