//! Platform scope over REST and the printable statement: templates, the draft, published
//! revisions that never change, the scope as of a date, the diff, acknowledgements, validation,
//! optimistic concurrency, audits of what is outside the fence, and the exports.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, LOCATION};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::TestApp;
use uuid::Uuid;

use super::support::{code, parse_csv, same_origin};

/// One request: the status, the ETag (if any) and the JSON body.
async fn call(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = same_origin(app, client.request(method.clone(), app.url(path)));
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = tests::json(response).await;
    (status, etag, body)
}

async fn get(app: &TestApp, client: &Client, path: &str) -> (StatusCode, Option<String>, Value) {
    call(app, client, Method::GET, path, None, None).await
}

async fn post(
    app: &TestApp,
    client: &Client,
    path: &str,
    body: &Value,
) -> (StatusCode, Option<String>, Value) {
    call(app, client, Method::POST, path, None, Some(body)).await
}

fn scope(platform: Uuid) -> String {
    format!("/api/v1/platforms/{platform}/scope")
}

/// An item as a caller writes it.
fn item(name: &str, inside: bool, responsible: &str) -> Value {
    json!({
        "name": name,
        "category": "Platform",
        "inside": inside,
        "responsible": responsible,
        "escalation_contact": if inside { "" } else { "#vendor-support" },
        "notes": format!("{name} notes"),
        "raci": [{
            "activity": format!("Operate {name}"),
            "responsible": [responsible],
            "accountable": [responsible],
            "informed": ["@tenants"],
        }],
    })
}

/// Starts the platform's draft from the built-in template (pat).
async fn apply_builtin(app: &TestApp, pat: &Client, platform: Uuid) -> Value {
    let (status, etag, view) = post(
        app,
        pat,
        &format!("{}/apply-template", scope(platform)),
        &json!({ "template_id": "builtin" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "applying the template: {view}");
    assert_eq!(
        etag.as_deref(),
        Some(format!("\"{}\"", view["draft"]["version"]).as_str()),
        "the answer's ETag is the draft's version"
    );
    view
}

/// Publishes the current draft (reading its ETag first); returns the revision's metadata.
async fn publish(app: &TestApp, client: &Client, platform: Uuid, summary: &str) -> Value {
    let (status, etag, draft) = get(app, client, &format!("{}/draft", scope(platform))).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let etag = etag.expect("the draft has an ETag");
    let (status, _, meta) = call(
        app,
        client,
        Method::POST,
        &format!("{}/revisions", scope(platform)),
        Some(&etag),
        Some(&json!({ "summary": summary })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "publishing: {meta}");
    meta
}

fn names(view: &Value) -> Vec<String> {
    view["content"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[tokio::test]
async fn a_scope_starts_from_the_builtin_template_and_is_published_as_revision_1() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);

    let (status, _, templates) = get(&app, &pat, "/api/v1/scope-templates").await;
    assert_eq!(status, StatusCode::OK, "{templates}");
    let builtin = &templates[0];
    assert_eq!(builtin["id"], "builtin");
    let template_items = builtin["content"]["items"].as_array().unwrap().len();
    assert!(template_items > 3, "{builtin}");

    let (status, _, before) = get(&app, &pat, &scope(seed.core)).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert!(before["revision"].is_null(), "nothing is published yet");
    assert_eq!(before["content"]["items"], json!([]));

    let draft = apply_builtin(&app, &pat, seed.core).await;
    assert_eq!(
        draft["content"]["items"].as_array().unwrap().len(),
        template_items
    );
    assert_eq!(draft["draft"]["has_changes"], true);

    let (status, _, body) = post(
        &app,
        &pat,
        &format!("{}/apply-template", scope(seed.core)),
        &json!({ "template_id": "builtin" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a draft with content is only replaced when asked: {body}"
    );

    let meta = publish(&app, &pat, seed.core, "First scope, from the template").await;
    assert_eq!(meta["number"], 1);
    assert_eq!(
        meta["published_by"], "token pat write token",
        "the publisher is the caller: here pat's API token"
    );

    let (status, _, current) = get(&app, &pat, &scope(seed.core)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(current["revision"]["number"], 1);
    assert_eq!(current["latest_revision"], 1);
    assert_eq!(names(&current), names(&draft));

    let (status, _, revisions) = get(&app, &pat, &format!("{}/revisions", scope(seed.core))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revisions.as_array().unwrap().len(), 1);
    let (status, _, one) = get(&app, &pat, &format!("{}/revisions/1", scope(seed.core))).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["revision"]["summary"], "First scope, from the template");
    let (status, _, body) = get(&app, &pat, &format!("{}/revisions/9", scope(seed.core))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, body) = get(&app, &pat, &format!("{}/revisions/one", scope(seed.core))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["number"].is_string(), "{body}");

    let (status, _, draft) = get(&app, &pat, &format!("{}/draft", scope(seed.core))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        draft["draft"]["has_changes"], false,
        "the draft equals revision 1"
    );

    // The publication is in the audit log.
    let entries: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, entity_id, actor_name FROM audit_log WHERE entity_type = 'scope_revision'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        entries,
        vec![(
            "publish".to_owned(),
            format!("{}/1", seed.core),
            "token pat write token".to_owned()
        )]
    );
    let applied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_type = 'scope_draft' AND action = 'apply_template'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(applied, 1, "applying the template is in the audit log too");
}

#[tokio::test]
async fn published_revisions_cannot_be_changed_or_deleted_in_the_database() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    apply_builtin(&app, &pat, seed.core).await;
    publish(&app, &pat, seed.core, "Frozen").await;

    let update = sqlx::query("UPDATE scope_revisions SET summary = 'Rewritten history'")
        .execute(&app.pool)
        .await;
    assert!(update.is_err(), "an UPDATE of a revision must fail");
    assert!(
        update.unwrap_err().to_string().contains("history"),
        "the database says why"
    );
    let delete = sqlx::query("DELETE FROM scope_revisions")
        .execute(&app.pool)
        .await;
    assert!(delete.is_err(), "a DELETE of a revision must fail");
    let truncate = sqlx::query("TRUNCATE scope_revisions CASCADE")
        .execute(&app.pool)
        .await;
    assert!(truncate.is_err(), "a TRUNCATE of revisions must fail");

    let summary: String = sqlx::query_scalar("SELECT summary FROM scope_revisions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(summary, "Frozen");
}

#[tokio::test]
async fn the_scope_as_of_a_date_is_the_revision_published_by_then() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let items = format!("{}/items", scope(seed.core));

    let (status, _, _) = post(
        &app,
        &pat,
        &items,
        &item("Kubernetes cluster", true, "@platform"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let r1 = publish(&app, &pat, seed.core, "The cluster").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (status, _, body) = post(&app, &pat, &items, &item("CI tool", false, "IT systems")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let r2 = publish(&app, &pat, seed.core, "The CI tool is outside").await;
    assert_eq!(r2["number"], 2);

    let (t1, t2) = (time(&r1["published_at"]), time(&r2["published_at"]));
    assert!(t1 < t2);
    let between = t1 + (t2 - t1) / 2;
    let (status, _, then) = get(
        &app,
        &pat,
        &format!("{}?as_of={}", scope(seed.core), rfc3339(between)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{then}");
    assert_eq!(then["revision"]["number"], 1, "{then}");
    assert_eq!(names(&then), ["Kubernetes cluster"]);
    assert_eq!(then["latest_revision"], 2);
    assert!(then["as_of"].is_string());

    let (status, _, now) = get(
        &app,
        &pat,
        &format!("{}?as_of={}", scope(seed.core), rfc3339(t2)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(now["revision"]["number"], 2, "at the moment of publishing");
    assert_eq!(
        names(&now),
        ["CI tool", "Kubernetes cluster"],
        "items come by position, then name"
    );

    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let (_, _, by_day) = get(&app, &pat, &format!("{}?as_of={today}", scope(seed.core))).await;
    assert_eq!(by_day["revision"]["number"], 2, "a day means its end");

    let before = t1 - Duration::days(1);
    let (status, _, empty) = get(
        &app,
        &pat,
        &format!("{}?as_of={}", scope(seed.core), rfc3339(before)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert!(
        empty["revision"].is_null(),
        "nothing was published yet: {empty}"
    );
    assert_eq!(empty["content"]["items"], json!([]));

    for bad in [
        "yesterday",
        "2026-13-40",
        "31.03.2026",
        "1066-10-14",
        "9999-12-31T00:00:00Z",
    ] {
        let (status, _, body) = get(&app, &pat, &format!("{}?as_of={bad}", scope(seed.core))).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "as_of={bad}: {body}"
        );
        assert!(body["error"]["fields"]["as_of"].is_string(), "{body}");
    }
    let (status, _, body) = get(&app, &pat, &format!("{}?revision=two", scope(seed.core))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["revision"].is_string(), "{body}");
}

#[tokio::test]
async fn the_diff_reports_added_removed_and_changed_items() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let items = format!("{}/items", scope(seed.core));

    let (_, _, cluster) = post(
        &app,
        &pat,
        &items,
        &item("Kubernetes cluster", true, "@platform"),
    )
    .await;
    let (_, _, ci) = post(&app, &pat, &items, &item("CI tool", true, "@platform")).await;
    let (_, _, idp) = post(
        &app,
        &pat,
        &items,
        &item("Identity provider", false, "Identity team"),
    )
    .await;
    publish(&app, &pat, seed.core, "Three items").await;

    // Change one (the CI tool moves outside), remove one, add one.
    let mut moved = item("CI tool", false, "IT systems");
    moved["escalation_contact"] = json!("it-systems@example.com");
    let (status, etag, changed) = call(
        &app,
        &pat,
        Method::PUT,
        &format!("{items}/{}", ci["id"].as_str().unwrap()),
        Some("\"1\""),
        Some(&moved),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    let (status, _, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!("{items}/{}", idp["id"].as_str().unwrap()),
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _, _) = post(&app, &pat, &items, &item("Service mesh", true, "@platform")).await;
    assert_eq!(status, StatusCode::CREATED);

    // The draft against revision 1, then the published revisions against each other.
    let (status, _, pending) = get(&app, &pat, &format!("{}/diff?from=1", scope(seed.core))).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert!(pending["to"].is_null(), "no `to` means the draft");
    publish(&app, &pat, seed.core, "CI moves out, IdP goes, mesh comes").await;
    let (status, _, diff) = get(
        &app,
        &pat,
        &format!("{}/diff?from=1&to=2", scope(seed.core)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert_eq!(
        diff["items"], pending["items"],
        "the draft became revision 2"
    );
    let kinds: Vec<(String, String)> = diff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("changed".into(), "CI tool".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("removed".into(), "Identity provider".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("added".into(), "Service mesh".into())),
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 3, "the cluster did not change: {kinds:?}");
    let change = diff["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "changed")
        .unwrap();
    let side = change["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "side")
        .unwrap_or_else(|| panic!("the side changed: {change}"));
    assert_eq!(side["before"], "inside the fence");
    assert_eq!(side["after"], "outside the fence");
    assert_eq!(cluster["name"], "Kubernetes cluster");

    let (status, _, everything) = get(&app, &pat, &format!("{}/diff?to=1", scope(seed.core))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        everything["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["kind"] == "added"),
        "against nothing, everything is new: {everything}"
    );
    let (status, _, body) = get(&app, &pat, &format!("{}/diff?from=x", scope(seed.core))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["from"].is_string(), "{body}");
    let (status, _, body) = get(
        &app,
        &pat,
        &format!("{}/diff?from=1&to=7", scope(seed.core)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn acknowledgements_show_which_teams_work_under_the_current_revision() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let alice = app.login("alice").await;
    let audrey = app.login("audrey").await;
    let pat_session = app.login("pat").await;
    let acks = format!("{}/acknowledgements", scope(seed.core));

    let (status, _, body) = post(
        &app,
        &alice,
        &acks,
        &json!({ "team_id": seed.payments, "revision": 1 }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "nothing to acknowledge yet: {body}"
    );

    apply_builtin(&app, &pat, seed.core).await;
    publish(&app, &pat, seed.core, "First").await;
    let status_of = |list: &Value, team: Uuid| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["team_id"] == json!(team))
            .cloned()
            .unwrap_or_else(|| panic!("team {team} is not listed: {list}"))
    };
    let (status, _, list) = get(&app, &audrey, &acks).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "payments and search run on core: {list}"
    );
    let payments = status_of(&list, seed.payments);
    assert_eq!(payments["up_to_date"], false);
    assert!(payments["acknowledged_revision"].is_null());
    assert_eq!(payments["applications"], 2);

    let (status, _, ack) = post(
        &app,
        &alice,
        &acks,
        &json!({ "team_id": seed.payments, "revision": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    assert_eq!(ack["acknowledged_by"], "Alice Payments");
    let (_, _, list) = get(&app, &alice, &acks).await;
    assert_eq!(status_of(&list, seed.payments)["up_to_date"], true);
    assert_eq!(status_of(&list, seed.payments)["acknowledged_revision"], 1);
    assert_eq!(status_of(&list, seed.search)["up_to_date"], false);

    // Who may acknowledge: only members, only for their own team.
    let (status, _, body) = post(
        &app,
        &alice,
        &acks,
        &json!({ "team_id": seed.search, "revision": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not alice's team: {body}");
    let (status, _, body) = post(
        &app,
        &pat_session,
        &acks,
        &json!({ "team_id": seed.payments, "revision": 1 }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "platform engineers do not acknowledge for a team: {body}"
    );
    let (status, _, body) = post(
        &app,
        &audrey,
        &acks,
        &json!({ "team_id": seed.payments, "revision": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = post(
        &app,
        &alice,
        &acks,
        &json!({ "team_id": seed.payments, "revision": 5 }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["revision"].is_string(), "{body}");

    // A new revision: payments is behind again.
    let (status, _, _) = post(
        &app,
        &pat,
        &format!("{}/items", scope(seed.core)),
        &item("Service mesh", true, "@platform"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    publish(&app, &pat, seed.core, "Second").await;
    let (_, _, list) = get(&app, &alice, &acks).await;
    let payments = status_of(&list, seed.payments);
    assert_eq!(payments["up_to_date"], false, "{payments}");
    assert_eq!(payments["acknowledged_revision"], 1);

    // What changed since the revision payments acknowledged.
    let (_, _, since) = get(
        &app,
        &alice,
        &format!("{}/diff?from=1&to=2", scope(seed.core)),
    )
    .await;
    assert_eq!(since["items"][0]["name"], "Service mesh");

    let acknowledged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_type = 'scope_revision' AND action = 'acknowledge'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(acknowledged, 1, "the acknowledgement is in the audit log");
}

#[tokio::test]
async fn an_auditor_reads_the_scope_but_changes_nothing() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let audrey = app.login("audrey").await;
    apply_builtin(&app, &pat, seed.core).await;
    publish(&app, &pat, seed.core, "First").await;
    let (_, draft_etag, draft) = get(&app, &pat, &format!("{}/draft", scope(seed.core))).await;
    let first = &draft["content"]["items"][0];
    let first_path = format!(
        "{}/items/{}",
        scope(seed.core),
        first["id"].as_str().unwrap()
    );
    let first_etag = format!("\"{}\"", first["version"]);
    let rule = &draft["content"]["rules"][0];
    let rule_path = format!(
        "{}/rules/{}",
        scope(seed.core),
        rule["id"].as_str().unwrap()
    );
    let rule_etag = format!("\"{}\"", rule["version"]);
    let (status, _, audit) = post(
        &app,
        &pat,
        &format!("{}/audits", scope(seed.core)),
        &json!({ "kind": "provider", "title": "Provider audit", "subject": "ACME Cloud",
                 "due_on": "2030-01-01" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{audit}");
    let audit_path = format!("/api/v1/scope-audits/{}", audit["id"].as_str().unwrap());
    let audits_before: i64 = super::support::count(&app, "audit_log").await;

    for path in [
        scope(seed.core),
        format!("{}/draft", scope(seed.core)),
        format!("{}/revisions", scope(seed.core)),
        format!("{}/revisions/1", scope(seed.core)),
        format!("{}/diff?to=1", scope(seed.core)),
        format!("{}/acknowledgements", scope(seed.core)),
        format!("{}/export.csv", scope(seed.core)),
        "/api/v1/scope-templates".to_owned(),
        "/api/v1/scope-audits".to_owned(),
        audit_path.clone(),
    ] {
        let (status, _, body) = get(&app, &audrey, &path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    }

    let rule_input = json!({ "title": "No CRDs", "reason": "Cluster-wide" });
    let audit_input =
        json!({ "kind": "provider", "title": "Mine", "subject": "ACME", "due_on": "2030-01-01" });
    let writes: Vec<(Method, String, Option<String>, Option<Value>)> = vec![
        (
            Method::POST,
            format!("{}/items", scope(seed.core)),
            None,
            Some(item("Mine", true, "@platform")),
        ),
        (
            Method::PUT,
            first_path.clone(),
            Some(first_etag.clone()),
            Some(item("Mine", true, "@platform")),
        ),
        (Method::DELETE, first_path, Some(first_etag), None),
        (
            Method::POST,
            format!("{}/rules", scope(seed.core)),
            None,
            Some(rule_input.clone()),
        ),
        (
            Method::PUT,
            rule_path.clone(),
            Some(rule_etag.clone()),
            Some(rule_input),
        ),
        (Method::DELETE, rule_path, Some(rule_etag), None),
        (
            Method::POST,
            format!("{}/apply-template", scope(seed.core)),
            None,
            Some(json!({ "template_id": "builtin", "replace": true })),
        ),
        (
            Method::POST,
            format!("{}/revisions", scope(seed.core)),
            draft_etag,
            Some(json!({ "summary": "By the auditor" })),
        ),
        (
            Method::POST,
            "/api/v1/scope-templates".to_owned(),
            None,
            Some(json!({ "name": "Audrey's", "platform_id": seed.core })),
        ),
        (
            Method::POST,
            format!("{}/audits", scope(seed.core)),
            None,
            Some(audit_input.clone()),
        ),
        (
            Method::PUT,
            audit_path,
            Some("\"1\"".to_owned()),
            Some(audit_input),
        ),
    ];
    for (method, path, if_match, body) in writes {
        let (status, _, answer) = call(
            &app,
            &audrey,
            method.clone(),
            &path,
            if_match.as_deref(),
            body.as_ref(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(code(&answer), "forbidden");
    }
    assert_eq!(
        super::support::count(&app, "audit_log").await,
        audits_before,
        "nothing changed"
    );
}

#[tokio::test]
async fn items_need_a_responsible_party_and_one_accountable_per_activity() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let items = format!("{}/items", scope(seed.core));

    let mut nobody_responsible = item("Backups", true, "@platform");
    nobody_responsible["responsible"] = json!("  ");
    let (status, _, body) = post(&app, &pat, &items, &nobody_responsible).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid");
    assert!(
        body["error"]["fields"]["responsible"]
            .as_str()
            .unwrap_or_default()
            .contains("required"),
        "{body}"
    );

    let mut no_accountable = item("Backups", true, "@platform");
    no_accountable["raci"][0]["accountable"] = json!([]);
    let (status, _, body) = post(&app, &pat, &items, &no_accountable).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["raci.0.accountable"]
            .as_str()
            .unwrap_or_default()
            .contains("exactly one Accountable"),
        "{body}"
    );

    let mut two_accountable = item("Backups", true, "@platform");
    two_accountable["raci"][0]["accountable"] = json!(["@platform", "payments"]);
    let (status, _, body) = post(&app, &pat, &items, &two_accountable).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["raci.0.accountable"].is_string(),
        "{body}"
    );

    let (status, _, body) = post(&app, &pat, &items, &json!({ "name": "No side" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"].is_object(), "{body}");

    let (status, _, body) = post(
        &app,
        &pat,
        &format!("{}/rules", scope(seed.core)),
        &json!({ "title": "No hostPath", "reason": "" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["reason"].is_string(), "{body}");
    assert_eq!(super::support::count(&app, "scope_items").await, 0);

    // A team named by its slug becomes that team.
    let (status, _, created) = post(
        &app,
        &pat,
        &items,
        &item("Checkout database", false, "payments"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["responsible"]["kind"], "team");
    assert_eq!(created["responsible"]["id"], json!(seed.payments));
}

#[tokio::test]
async fn stale_etags_are_refused_and_an_unchanged_draft_is_not_published() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let items = format!("{}/items", scope(seed.core));

    let (status, etag, created) =
        post(&app, &pat, &items, &item("Cluster", true, "@platform")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    let path = format!("{items}/{}", created["id"].as_str().unwrap());
    let (status, _, body) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        None,
        Some(&item("Cluster", true, "@platform")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    let (status, _, _) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        Some("\"1\""),
        Some(&item("Clusters", true, "@platform")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        Some("\"1\""),
        Some(&item("Lost", true, "@platform")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(code(&body), "precondition_failed");
    let (status, _, body) = call(&app, &pat, Method::DELETE, &path, Some("\"1\""), None).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");

    let (status, rule_etag, rule) = post(
        &app,
        &pat,
        &format!("{}/rules", scope(seed.core)),
        &json!({ "title": "No root containers", "reason": "Escapes", "exception_process": "Ask in #platform" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule_path = format!(
        "{}/rules/{}",
        scope(seed.core),
        rule["id"].as_str().unwrap()
    );
    let change = json!({ "title": "No root containers", "reason": "Container escapes" });
    let (status, _, _) = call(
        &app,
        &pat,
        Method::PUT,
        &rule_path,
        rule_etag.as_deref(),
        Some(&change),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(
        &app,
        &pat,
        Method::PUT,
        &rule_path,
        rule_etag.as_deref(),
        Some(&change),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    // Publishing: a draft that moved since it was read is refused; so is an empty change.
    let (_, old_draft, _) = get(&app, &pat, &format!("{}/draft", scope(seed.core))).await;
    let (status, _, _) = post(&app, &pat, &items, &item("Ingress", true, "@platform")).await;
    assert_eq!(status, StatusCode::CREATED);
    let revisions = format!("{}/revisions", scope(seed.core));
    let summary = json!({ "summary": "Cluster and ingress" });
    let (status, _, body) = call(
        &app,
        &pat,
        Method::POST,
        &revisions,
        old_draft.as_deref(),
        Some(&summary),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (status, _, body) = call(&app, &pat, Method::POST, &revisions, None, Some(&summary)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    let (_, current, _) = get(&app, &pat, &format!("{}/draft", scope(seed.core))).await;
    let (status, _, body) = call(
        &app,
        &pat,
        Method::POST,
        &revisions,
        current.as_deref(),
        Some(&json!({ "summary": " " })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["summary"].is_string(), "{body}");
    publish(&app, &pat, seed.core, "Cluster and ingress").await;

    let (_, current, _) = get(&app, &pat, &format!("{}/draft", scope(seed.core))).await;
    let (status, _, body) = call(
        &app,
        &pat,
        Method::POST,
        &revisions,
        current.as_deref(),
        Some(&json!({ "summary": "Again" })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing changed: {body}");
    assert_eq!(code(&body), "conflict");
    assert_eq!(super::support::count(&app, "scope_revisions").await, 1);
}

#[tokio::test]
async fn a_saved_template_starts_another_platform() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    apply_builtin(&app, &pat, seed.core).await;
    let (status, _, template) = post(
        &app,
        &pat,
        "/api/v1/scope-templates",
        &json!({ "name": "Our split", "description": "Core's scope", "platform_id": seed.core }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    let (status, _, body) = post(
        &app,
        &pat,
        "/api/v1/scope-templates",
        &json!({ "name": "our split", "platform_id": seed.core }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["name"].is_string(), "{body}");

    let (status, _, edge) = post(
        &app,
        &pat,
        "/api/v1/platforms",
        &json!({ "slug": "edge", "name": "Edge" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{edge}");
    let edge_id: Uuid = edge["id"].as_str().unwrap().parse().unwrap();
    let (status, _, draft) = post(
        &app,
        &pat,
        &format!("{}/apply-template", scope(edge_id)),
        &json!({ "template_id": template["id"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(
        draft["content"]["items"].as_array().unwrap().len(),
        template["content"]["items"].as_array().unwrap().len()
    );

    let (status, _, body) = call(
        &app,
        &pat,
        Method::DELETE,
        &format!(
            "/api/v1/scope-templates/{}",
            template["id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, _, templates) = get(&app, &pat, "/api/v1/scope-templates").await;
    assert_eq!(
        templates.as_array().unwrap().len(),
        1,
        "only the built-in one is left"
    );
    let (status, _, body) = post(
        &app,
        &pat,
        &format!("{}/apply-template", scope(edge_id)),
        &json!({ "template_id": "nonsense", "replace": true }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["template_id"].is_string(), "{body}");
}

#[tokio::test]
async fn overdue_audits_are_listed_and_counted_and_yearly_ones_plan_the_next() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);

    let planned = json!({
        "kind": "provider",
        "title": "Yearly provider audit",
        "subject": "ACME Cloud",
        "aspects": ["technical", "legal", "organisational"],
        "due_on": "2020-01-15",
        "repeats_yearly": true,
    });
    let (status, etag, audit) = post(
        &app,
        &pat,
        &format!("{}/audits", scope(seed.core)),
        &planned,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{audit}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(audit["overdue"], true);
    let audit_id = audit["id"].as_str().unwrap().to_owned();
    let (status, _, future) = post(
        &app,
        &pat,
        &format!("{}/audits", scope(seed.core)),
        &json!({ "kind": "application", "title": "Checkout audit", "application_id": seed.checkout,
                 "due_on": "2999-01-01" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{future}");
    assert_eq!(
        future["subject"], "Checkout",
        "an application audit is about the application"
    );

    let (status, _, overdue) = get(&app, &pat, "/api/v1/scope-audits?overdue=true").await;
    assert_eq!(status, StatusCode::OK, "{overdue}");
    let listed: Vec<&str> = overdue
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [audit_id.as_str()]);
    let (status, _, all) = get(
        &app,
        &pat,
        &format!("/api/v1/scope-audits?platform_id={}", seed.core),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, _, body) = get(&app, &pat, "/api/v1/scope-audits?status=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["status"].is_string(), "{body}");
    let (status, _, body) = get(&app, &pat, "/api/v1/scope-audits?overdue=maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["overdue"].is_string(), "{body}");

    let dashboard = domain::applications::dashboard(
        &app.pool,
        &app.state.cache,
        &domain::db::Caller::system(),
        app.state.clock.now().date_naive(),
    )
    .await
    .unwrap();
    assert_eq!(dashboard.overdue_audits, 1);
    assert_eq!(dashboard.overdue_audit_list[0].id.to_string(), audit_id);

    // Completing it records the outcome and plans next year's.
    let path = format!("/api/v1/scope-audits/{audit_id}");
    let mut done = planned.clone();
    done["status"] = json!("completed");
    done["outcome"] = json!("passed_with_findings");
    let (status, _, body) = call(&app, &pat, Method::PUT, &path, Some("\"1\""), Some(&done)).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "completed needs a date: {body}"
    );
    assert!(
        body["error"]["fields"]["completed_on"].is_string(),
        "{body}"
    );
    done["completed_on"] = json!("2020-02-01");
    done["findings"] = json!("Restores are not tested.");
    done["actions"] =
        json!([{ "title": "Test a restore", "owner": "ACME", "due_on": "2020-03-01" }]);
    let (status, etag, completed) =
        call(&app, &pat, Method::PUT, &path, Some("\"1\""), Some(&done)).await;
    assert_eq!(status, StatusCode::OK, "{completed}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["overdue"], false);
    let (status, _, body) = call(&app, &pat, Method::PUT, &path, Some("\"1\""), Some(&done)).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");

    let (_, _, all) = get(
        &app,
        &pat,
        &format!("/api/v1/scope-audits?platform_id={}", seed.core),
    )
    .await;
    let next: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "planned" && a["title"] == "Yearly provider audit")
        .collect();
    assert_eq!(next.len(), 1, "the next yearly audit is planned: {all}");
    assert_eq!(next[0]["due_on"], "2021-01-15");
    assert_eq!(next[0]["subject"], "ACME Cloud");
    let (status, etag, read) = get(&app, &pat, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(read["actions"][0]["title"], "Test a restore");

    let logged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE entity_type = 'scope_audit'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        logged, 4,
        "two created, one updated, one planned by the completion"
    );
}

#[tokio::test]
async fn the_scope_exports_as_csv_with_a_row_per_item() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let draft = apply_builtin(&app, &pat, seed.core).await;
    publish(&app, &pat, seed.core, "First").await;

    let response = pat
        .get(app.url(&format!("{}/export.csv", scope(seed.core))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = response.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("scope-core-r1.csv"), "{disposition}");
    let text = response.text().await.unwrap();
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        [
            "platform",
            "revision",
            "published_at",
            "record",
            "side",
            "category",
            "name",
            "responsible",
            "escalation_contact",
            "activity",
            "accountable",
            "consulted_informed",
            "notes"
        ]
    );
    assert!(rows.iter().all(|r| r.len() == 13), "every row has 13 cells");
    let items: Vec<&Vec<String>> = rows.iter().filter(|r| r[3] == "item").collect();
    assert_eq!(items.len(), names(&draft).len(), "one row per item");
    assert!(
        items
            .iter()
            .all(|r| r[0] == "Core Kubernetes" && r[1] == "1")
    );
    let item_names: Vec<String> = items.iter().map(|r| r[6].clone()).collect();
    assert_eq!(item_names, names(&draft));
    assert!(rows.iter().any(|r| r[3] == "raci"));
    assert!(rows.iter().any(|r| r[3] == "tenant_rule"));

    // As of a date before anything was published: only the header.
    let response = pat
        .get(app.url(&format!("{}/export.csv?as_of=2000-01-01", scope(seed.core))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(parse_csv(&response.text().await.unwrap()).len(), 1);
    let (status, _, body) = get(
        &app,
        &pat,
        &format!("{}/export.csv?as_of=soon", scope(seed.core)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["as_of"].is_string(), "{body}");
}

#[tokio::test]
async fn the_printable_statement_shows_the_scope_as_of_a_date() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    apply_builtin(&app, &pat, seed.core).await;
    publish(&app, &pat, seed.core, "The known-to-work split").await;
    let audrey = app.login("audrey").await;
    let statement = format!("/platforms/{}/scope/statement", seed.core);
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();

    let response = audrey
        .get(app.url(&format!("{statement}?as_of={today}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    for expected in [
        "Scope statement: Core Kubernetes",
        "Revision 1",
        &format!("as of {today}"),
        "The known-to-work split",
        "Pat Platform",
        "Kubernetes clusters",
        "Identity provider",
        "Platform team",
        "Each application team",
        "@media print",
        "audit log",
        "Payments",
        "/export.csv?as_of=",
    ] {
        assert!(
            html.contains(expected),
            "the statement shows {expected:?}:\n{html}"
        );
    }
    assert!(!html.contains("<script"), "the statement needs no script");

    let (status, html) = page(&app, &audrey, &format!("{statement}?as_of=2000-01-01")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Nothing had been published"), "{html}");

    let (status, html) = page(&app, &audrey, &format!("{statement}?as_of=last-tuesday")).await;
    assert!(
        status.is_client_error(),
        "a bad date is the caller's mistake, not a server error: {status}"
    );
    assert!(html.contains("as_of"), "the page names the field: {html}");
    let (status, html) = page(&app, &audrey, &format!("{statement}?revision=first")).await;
    assert!(status.is_client_error(), "{status}");
    assert!(html.contains("revision"), "{html}");
    let (status, _) = page(&app, &audrey, &format!("{statement}?revision=7")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page(
        &app,
        &audrey,
        &format!("/platforms/{}/scope/statement", Uuid::new_v4()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, html) = page(&app, &audrey, &format!("{statement}?revision=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Revision 1"));

    // Anonymous people sign in first, and come back here.
    let response = app.client().get(app.url(&statement)).send().await.unwrap();
    assert!(response.status().is_redirection());
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with("/auth/login?next="), "{location}");
    let nobody = app.login("nobody").await;
    let (status, html) = page(&app, &nobody, &statement).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("No access"), "{html}");
}

async fn page(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_openapi_document_describes_the_scope_routes_correctly() {
    let app = TestApp::spawn().await;
    let (status, _, doc) = get(&app, &app.client(), "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/platforms/{id}/scope",
        "/api/v1/platforms/{id}/scope/draft",
        "/api/v1/platforms/{id}/scope/items/{item_id}",
        "/api/v1/platforms/{id}/scope/revisions/{number}",
        "/api/v1/platforms/{id}/scope/diff",
        "/api/v1/platforms/{id}/scope/export.csv",
        "/api/v1/scope-templates",
        "/api/v1/scope-audits/{id}",
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is described"));
        for operation in item.as_object().unwrap().values() {
            assert_eq!(operation["tags"], json!(["scope"]), "{path}");
        }
    }
    assert_eq!(
        paths["/api/v1/platforms/{id}/scope/export.csv"]["get"]["responses"]["200"]["content"]["text/csv"]
            ["schema"]["type"],
        "string"
    );
    // The rules of the format that a generator would trip over, for every operation: a path
    // parameter is in the path's template, query parameters are optional, and every response
    // has a description.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                match parameter["in"].as_str().unwrap() {
                    "path" => assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: path parameter {name} is not in the path"
                    ),
                    "query" => assert_ne!(
                        parameter["required"], true,
                        "{method} {path}: query parameter {name} is optional"
                    ),
                    _ => {}
                }
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path}: response {status} has no description"
                );
            }
        }
    }
    let scope_query: Vec<&str> = paths["/api/v1/platforms/{id}/scope"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(scope_query, ["revision", "as_of"]);
}

/// A form that misses a field is the caller's mistake: 422 naming the form, never a 500.
#[tokio::test]
async fn a_server_function_call_missing_a_field_is_refused_as_invalid() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let response = same_origin(
        &app,
        pat.post(app.url(&super::support::server_fn_path("publish_scope"))),
    )
    .form(&[("platform_id", seed.core.to_string())])
    .send()
    .await
    .unwrap();
    let (status, body) = tests::json(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["kind"], "invalid", "{body}");
    assert!(
        body["fields"]["form"]
            .as_str()
            .is_some_and(|m| m.contains("draft_version")),
        "{body}"
    );
}
