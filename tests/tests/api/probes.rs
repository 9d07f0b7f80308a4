//! Probes, metrics and the API description.

use reqwest::StatusCode;
use serde_json::Value;
use tests::TestApp;

/// The metrics text of the ops port.
async fn scrape(http: &reqwest::Client, ops: &str) -> String {
    let answer = http.get(format!("{ops}/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    answer.text().await.unwrap()
}

#[tokio::test]
async fn the_probes_answer_and_metrics_count_requests() {
    let app = TestApp::spawn().await;
    let http = app.client();

    let live = http.get(format!("{}/livez", app.ops)).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = http
        .get(format!("{}/readyz", app.ops))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "ready with a database");

    // Some traffic on the public port, then the scrape.
    let anonymous = http.get(app.url("/api/v1/teams")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let text = scrape(&http, &app.ops).await;
    assert!(
        text.contains("http_requests_total"),
        "the scrape counts the requests served before it:\n{text}"
    );
    assert!(
        text.contains("route=\"/api/v1/teams\""),
        "requests are counted by route template:\n{text}"
    );
    assert!(text.contains("db_pool_connections"), "{text}");

    // The shared job queue per kind and state: a job no worker takes (none runs here) is due.
    let mut app = app;
    app.restart_workers(0);
    let mut tx = app.pool.begin().await.unwrap();
    domain::jobs::enqueue(
        &mut tx,
        "probe_check",
        &serde_json::json!({}),
        chrono::Utc::now(),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let text = scrape(&http, &app.ops).await;
    let line =
        |state: &str, n: u32| format!("demarc_jobs{{kind=\"probe_check\",state=\"{state}\"}} {n}");
    for (state, n) in [("due", 1), ("running", 0), ("retrying", 0), ("failed", 0)] {
        let line = line(state, n);
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    // Once done, the kind reads zero (not its last figure).
    sqlx::query("UPDATE jobs SET done_at = now() WHERE kind = 'probe_check'")
        .execute(&app.pool)
        .await
        .unwrap();
    let text = scrape(&http, &app.ops).await;
    assert!(text.lines().any(|l| l == line("due", 0)), "{text}");

    // Probes and metrics are not on the public port.
    let public = http.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        !public.text().await.unwrap().contains("http_requests_total"),
        "metrics are not public"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.pool.close().await;
    let http = app.client();
    let ready = http
        .get(format!("{}/readyz", app.ops))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let live = http.get(format!("{}/livez", app.ops)).send().await.unwrap();
    assert_eq!(
        live.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_the_api() {
    let app = TestApp::spawn().await;
    let response = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/v1/teams",
        "/api/v1/teams/{id}",
        "/api/v1/applications",
        "/api/v1/audit-entries",
        "/api/v1/tokens",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is described");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    let docs = app
        .client()
        .get(app.url("/api/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("swagger")
    );
}
