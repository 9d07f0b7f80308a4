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
async fn a_shutdown_fails_readiness_refuses_new_connections_and_finishes_requests_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let token = app.api_token("pat").await;
    // A second server on the same state, served the way `server::serve` does after a SIGTERM.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ops_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops = format!("http://{}", ops_listener.local_addr().unwrap());
    let router = tests::app::build_router(&app.state).await;
    let (signal, received) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve_until(
        app.state.clone(),
        router,
        listener,
        ops_listener,
        async move {
            let _ = received.await;
        },
    ));
    let http = app.client();
    let ready = http.get(format!("{ops}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "ready before the shutdown");

    // A request in flight: its headers and half its body are sent before the shutdown.
    let body = br#"{"slug":"late","name":"Late arrival"}"#;
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/teams HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    signal.send(()).unwrap();
    let ready = http.get(format!("{ops}/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness fails at once, so the load balancer stops sending"
    );
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "no new connection is accepted once draining");
    assert!(
        !server.is_finished(),
        "the request in flight holds the server open"
    );

    // The rest of the body: the request completes, then the server returns.
    conn.write_all(&body[10..]).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let finished = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("the server returns once the request is done")
        .unwrap();
    assert!(finished.is_ok(), "{finished:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM teams WHERE slug = 'late'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the request in flight was carried out");
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
