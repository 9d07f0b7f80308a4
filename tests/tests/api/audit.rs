//! The audit log: every change is recorded with who, before/after and the request, and the
//! database itself refuses to change or delete the record.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;

use super::support::{etag, get, id, same_origin};

/// Sends a request with an `x-request-id` and checks the server echoes it.
async fn send_with_id(request: reqwest::RequestBuilder, request_id: &str) -> (StatusCode, Value) {
    let response = request
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(request_id),
        "the request id comes back in the response"
    );
    tests::json(response).await
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_with_actor_before_after_and_request_id() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat_secret = app.api_token("pat").await;
    let pat = app.bearer(&pat_secret);
    let alice = app.login("alice").await;

    let (status, team) = send_with_id(
        pat.post(app.url("/api/v1/teams"))
            .json(&json!({ "slug": "ledger-team", "name": "Ledger" })),
        "req-team-create",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let team_id = id(&team);
    let (status, _) = send_with_id(
        pat.put(app.url(&format!("/api/v1/teams/{team_id}")))
            .header("if-match", etag(1))
            .json(&json!({ "slug": "ledger-team", "name": "Ledger & Billing" })),
        "req-team-update",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send_with_id(
        pat.post(app.url(&format!("/api/v1/teams/{team_id}/archive")))
            .header("if-match", etag(2)),
        "req-team-archive",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, application) = send_with_id(
        same_origin(&app, alice.post(app.url("/api/v1/applications")))
            .json(&json!({ "team_id": seed.payments, "slug": "refunds", "name": "Refunds" })),
        "req-alice-app",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");

    // A request without an id gets one from the server, and the log records that one.
    let response = pat
        .post(app.url("/api/v1/platforms"))
        .json(&json!({ "slug": "edge", "name": "Edge" }))
        .send()
        .await
        .unwrap();
    let generated = response
        .headers()
        .get("x-request-id")
        .expect("a generated request id")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!generated.is_empty());
    let (_, platform) = tests::json(response).await;

    // An id that could forge log lines (spaces, quotes) or is too long is replaced by the server's.
    for forged in ["abc\" level=ERROR msg=\"forged", &"x".repeat(65)] {
        let response = pat
            .get(app.url("/api/v1/teams"))
            .header("x-request-id", forged)
            .send()
            .await
            .unwrap();
        let echoed = response
            .headers()
            .get("x-request-id")
            .expect("an id")
            .to_str()
            .unwrap();
        assert_ne!(echoed, forged);
        assert_eq!(echoed.len(), 36, "a UUID instead of {forged:?}: {echoed}");
    }

    let admin = app.login("admin").await;
    let (status, entries) = get(
        &app,
        &admin,
        &format!("/api/v1/audit-entries?entity_type=team&entity_id={team_id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    let entries = entries.as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["archive", "update", "create"], "newest first");
    for entry in entries {
        assert_eq!(entry["actor_kind"], "token");
        assert_eq!(entry["actor_name"], "token pat write token");
    }
    let [archive, update, create] = entries.as_slice() else {
        unreachable!()
    };
    assert_eq!(create["request_id"], "req-team-create");
    assert!(create["before"].is_null());
    assert_eq!(create["after"]["name"], "Ledger");
    assert_eq!(update["request_id"], "req-team-update");
    assert_eq!(update["before"]["name"], "Ledger");
    assert_eq!(update["after"]["name"], "Ledger & Billing");
    assert_eq!(archive["request_id"], "req-team-archive");
    assert!(archive["before"]["archived_at"].is_null());
    assert!(archive["after"]["archived_at"].is_string());

    let (_, by_alice) = get(
        &app,
        &admin,
        &format!(
            "/api/v1/audit-entries?entity_type=application&entity_id={}",
            id(&application)
        ),
    )
    .await;
    assert_eq!(by_alice[0]["action"], "create");
    assert_eq!(by_alice[0]["actor_kind"], "user");
    assert_eq!(by_alice[0]["actor_name"], "Alice Payments");
    assert_eq!(by_alice[0]["request_id"], "req-alice-app");
    assert_eq!(by_alice[0]["after"]["team_slug"], "payments");

    let (_, platform_entries) = get(
        &app,
        &admin,
        &format!(
            "/api/v1/audit-entries?entity_type=platform&entity_id={}",
            id(&platform)
        ),
    )
    .await;
    assert_eq!(platform_entries[0]["request_id"], generated.as_str());

    // Logins and token creation are on record too.
    let (_, logins) = get(&app, &admin, "/api/v1/audit-entries?action=login").await;
    let names: Vec<&str> = logins
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    for person in ["Pat Platform", "Alice Payments", "Ada Admin"] {
        assert!(
            names.contains(&person),
            "the login of {person} is recorded: {names:?}"
        );
    }
    let alice_login = logins
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["actor_name"] == "Alice Payments")
        .unwrap();
    assert_eq!(alice_login["after"]["groups"], json!(["team-payments"]));
    // A time outside the years Demarc knows is the caller's mistake, named.
    for (query, field) in [
        ("since=0001-01-01T00:00:00Z", "since"),
        ("until=2999-01-01T00:00:00Z", "until"),
    ] {
        let (status, body) = get(&app, &admin, &format!("/api/v1/audit-entries?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert!(
            body["error"]["fields"][field]
                .as_str()
                .unwrap()
                .contains("1970 to 2200"),
            "{body}"
        );
    }
    let (_, tokens) = get(&app, &admin, "/api/v1/audit-entries?entity_type=api_token").await;
    assert_eq!(tokens[0]["action"], "create");
    assert!(
        !tokens.to_string().contains(&pat_secret),
        "no token secrets in the log: {tokens}"
    );
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_audit_records() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(before > 0, "the demo data was audited");

    for statement in [
        "UPDATE audit_log SET actor_name = 'someone else'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)",
        "TRUNCATE audit_log",
    ] {
        let error = sqlx::query(statement)
            .execute(&app.pool)
            .await
            .expect_err(statement);
        let db = error
            .as_database_error()
            .unwrap_or_else(|| panic!("{statement}: {error}"));
        assert_eq!(db.code().as_deref(), Some("42501"), "{statement}: {db}");
        assert!(db.message().contains("append-only"), "{statement}: {db}");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(after, before, "nothing was changed or deleted");
    let renamed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor_name = 'someone else'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(renamed, 0);
}

#[tokio::test]
async fn the_audit_page_offers_what_was_recorded_and_pages_with_its_filters() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let token = app.bearer(&app.api_token("admin").await);
    for i in 0..101 {
        let (status, body) = super::support::post(
            &app,
            &token,
            "/api/v1/teams",
            &json!({ "slug": format!("audited-{i}"), "name": format!("Audited {i}") }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let admin = app.login("admin").await;
    let page = |path: String| {
        let admin = admin.clone();
        let url = app.url(&path);
        async move { admin.get(url).send().await.unwrap().text().await.unwrap() }
    };

    // The choices are what the log holds (here also the tokens and the logins), not a fixed list.
    let html = page("/audit".into()).await;
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT entity_type FROM audit_log UNION SELECT DISTINCT action FROM audit_log",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(recorded.len() > 6, "{recorded:?}");
    for value in &recorded {
        assert!(
            html.contains(&format!("<option value=\"{value}\"")),
            "no choice {value}"
        );
    }

    // A full page links to older entries with the same filters.
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let html = page(format!(
        "/audit?entity_type=team&action=create&since={today}&until={today}"
    ))
    .await;
    let older = html
        .split("href=\"")
        .map(|h| h.split('"').next().unwrap().replace("&amp;", "&"))
        .find(|h| h.contains("before_id="))
        .expect("a link to older entries");
    for filter in [
        "entity_type=team",
        "action=create",
        &format!("since={today}"),
    ] {
        assert!(older.contains(filter), "{older}");
    }
    let html = page(older).await;
    assert!(
        html.contains("audited-0") || html.contains("Audited 0"),
        "the oldest team is on the older page"
    );
    assert!(!html.contains("Audited 100"), "the newest is not");

    // A date that is not one is refused, naming the field.
    let html = page("/audit?since=last-week".into()).await;
    assert!(html.contains("YYYY-MM-DD"), "{html}");
}
