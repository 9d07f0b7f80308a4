//! The REST API as automation uses it: resources, ETags, validation, paging, roles and tokens.

use reqwest::header::{ETAG, WWW_AUTHENTICATE};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tests::TestApp;
use tests::fake_provider::{SigningKey, unsigned_jwt};

use super::support::{code, count, etag, get, id, post, post_empty, put};

#[tokio::test]
async fn a_team_is_created_listed_read_and_updated_with_etags() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);

    let response = super::support::same_origin(&app, pat.post(app.url("/api/v1/teams")))
        .json(&json!({ "slug": "payments", "name": "Payments", "contact": "#payments" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[ETAG], "\"1\"");
    let team: Value = response.json().await.unwrap();
    let team_id = id(&team);
    assert_eq!(team["version"], 1);

    let (status, list) = get(&app, &pat, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["slug"], "payments");

    let response = pat
        .get(app.url(&format!("/api/v1/teams/{team_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[ETAG], "\"1\"");

    let path = format!("/api/v1/teams/{team_id}");
    let change = json!({ "slug": "payments", "name": "Payments & Ledger", "contact": "#payments" });
    let (status, body) = put(&app, &pat, &path, None, &change).await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_REQUIRED,
        "an update without If-Match is refused: {body}"
    );
    assert_eq!(code(&body), "precondition_required");

    let (status, body) = put(&app, &pat, &path, Some("\"1\""), &change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Payments & Ledger");
    assert_eq!(body["version"], 2);

    let stale = json!({ "slug": "payments", "name": "Overwritten", "contact": "" });
    let (status, body) = put(&app, &pat, &path, Some("\"1\""), &stale).await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "a stale ETag is refused: {body}"
    );
    assert_eq!(code(&body), "precondition_failed");
    let (_, current) = get(&app, &pat, &path).await;
    assert_eq!(
        current["name"], "Payments & Ledger",
        "the stale update changed nothing"
    );

    let (status, body) = put(&app, &pat, &path, Some("yesterday"), &change).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["If-Match"].is_string(), "{body}");

    let (status, body) = get(
        &app,
        &pat,
        &format!("/api/v1/teams/{}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");
}

#[tokio::test]
async fn invalid_input_is_refused_with_a_message_per_field() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);

    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "Not A Slug", "name": " " }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid");
    let fields = &body["error"]["fields"];
    assert!(
        fields["slug"]
            .as_str()
            .unwrap_or_default()
            .contains("lowercase"),
        "{body}"
    );
    assert_eq!(fields["name"], "is required", "{body}");

    // Wrong JSON types name the field too.
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": 42, "name": "Numbers" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["slug"].is_string(),
        "the field with the wrong type is named: {body}"
    );

    let (status, body) = post(&app, &pat, "/api/v1/teams", &json!({ "name": "No slug" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"]["slug"], "is required", "{body}");

    let response = super::support::same_origin(&app, pat.post(app.url("/api/v1/teams")))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    let (status, body) = tests::json(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["body"].is_string(), "{body}");

    let (status, _) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "taken", "name": "First" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "taken", "name": "Second" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["slug"]
            .as_str()
            .unwrap_or_default()
            .contains("taken"),
        "{body}"
    );

    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/applications",
        &json!({ "team_id": uuid::Uuid::new_v4(), "slug": "ghost", "name": "Ghost" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["team_id"].is_string(), "{body}");

    // A NUL character, which PostgreSQL cannot store, is named by its field, not a 500.
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "nul", "name": "Nul", "description": "before\u{0}after" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("NUL"),
        "{body}"
    );
    // ... also where the JSON API cannot see it: a search term in a query string.
    let (status, body) = get(&app, &pat, "/api/v1/teams?q=a%00b").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // A path parameter that is not an id is named, the second of two included.
    let (status, body) = get(&app, &pat, "/api/v1/teams/not-an-id").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["id"].is_string(), "{body}");
    let (status, body) = super::support::call(
        &app,
        &pat,
        reqwest::Method::DELETE,
        &format!(
            "/api/v1/platforms/{}/scope/items/not-an-id",
            uuid::Uuid::new_v4()
        ),
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["item_id"].is_string(), "{body}");

    // A body over the limit is 413, in the API's error shape.
    let huge = format!(
        r#"{{"slug":"big","name":"Big","description":"{}"}}"#,
        "x".repeat(25 << 20)
    );
    let response = super::support::same_origin(&app, pat.post(app.url("/api/v1/teams")))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = tests::json(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "too_large", "{body}");
    assert_eq!(count(&app, "teams").await, 1, "nothing invalid was stored");
}

/// What the API answers about a field a request does not have.
const UNKNOWN: &str = "is not a field of this request (check its spelling)";

/// Creates the production environment of `platform`: the answer.
async fn production(app: &TestApp, client: &Client, platform: &Value) -> Value {
    let (status, environment) = post(
        app,
        client,
        &format!("/api/v1/platforms/{}/environments", id(platform)),
        &json!({ "slug": "production", "name": "Production", "position": 0 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{environment}");
    environment
}

#[tokio::test]
async fn an_unknown_field_is_refused_naming_it_by_its_path() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);

    // A misspelt optional field would have been dropped without a word: it is named, and
    // nothing is created.
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "payments", "name": "Payments", "contcat": "#payments" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid", "{body}");
    assert_eq!(
        body["error"]["fields"],
        json!({ "contcat": UNKNOWN }),
        "{body}"
    );
    let (status, list) = get(&app, &pat, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 0, "nothing was created: {list}");
    assert_eq!(count(&app, "teams").await, 0);

    // A misspelt required field: the spelling and the missing field are both named.
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "payments", "nmae": "Payments" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"],
        json!({ "nmae": UNKNOWN, "name": "is required" }),
        "{body}"
    );

    // Spelt right, the same team is created.
    let (status, team) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "payments", "name": "Payments", "contact": "#payments" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    assert_eq!(team["contact"], "#payments");

    // In nested objects the field is named by its path: a checklist template's second item...
    let (status, platform) = post(
        &app,
        &pat,
        "/api/v1/platforms",
        &json!({ "slug": "core", "name": "Core" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{platform}");
    let template = format!("/api/v1/platforms/{}/checklist-template", id(&platform));
    let items = json!([
        { "key": "replicas", "title": "Enough replicas", "check": "replicas" },
        { "key": "load-test", "title": "Load tested", "requird": false },
    ]);
    let (status, body) = put(
        &app,
        &pat,
        &template,
        Some(&etag(0)),
        &json!({ "items": items, "note": "first" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"],
        json!({ "items[1].requird": UNKNOWN }),
        "{body}"
    );
    let (_, current) = get(&app, &pat, &template).await;
    assert_eq!(
        current["version"], 0,
        "the template was not saved: {current}"
    );

    // ... and an application's placement.
    let environment = production(&app, &pat, &platform).await;
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/applications",
        &json!({
            "team_id": id(&team), "slug": "checkout", "name": "Checkout",
            "placements": [{
                "environment_id": id(&environment), "namespace": "checkout", "cluster": "eu-1",
            }],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"],
        json!({ "placements[0].cluster": UNKNOWN }),
        "{body}"
    );
    assert_eq!(count(&app, "applications").await, 0);
}

#[tokio::test]
async fn a_resource_read_with_get_is_put_back_whole_with_its_read_only_fields_ignored() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let (_, team) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "payments", "name": "Payments" }),
    )
    .await;
    let (_, platform) = post(
        &app,
        &pat,
        "/api/v1/platforms",
        &json!({ "slug": "core", "name": "Core" }),
    )
    .await;
    let environment = production(&app, &pat, &platform).await;
    let (status, application) = post(
        &app,
        &pat,
        "/api/v1/applications",
        &json!({
            "team_id": id(&team), "slug": "checkout", "name": "Checkout",
            "placements": [{ "environment_id": id(&environment), "namespace": "checkout" }],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");

    // GET, change one field, PUT the whole object back with its ETag: the representation's
    // own fields (id, version, timestamps, the team's slug) are read-only.
    let path = format!("/api/v1/applications/{}", id(&application));
    let (_, mut read) = get(&app, &pat, &path).await;
    read["name"] = json!("Checkout service");
    let (status, body) = put(&app, &pat, &path, Some(&etag(1)), &read).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Checkout service");
    assert_eq!(body["version"], 2);
    // A misspelt field beside them is still named, however deep.
    read["descripton"] = json!("Takes the payments");
    read["placements"][0]["namepsace"] = json!("checkout");
    let (status, body) = put(&app, &pat, &path, Some(&etag(2)), &read).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"],
        json!({ "descripton": UNKNOWN, "placements[0].namepsace": UNKNOWN }),
        "{body}"
    );

    // The same for a team and for a checklist template with its items.
    let path = format!("/api/v1/teams/{}", id(&team));
    let (_, mut read) = get(&app, &pat, &path).await;
    read["contact"] = json!("#payments");
    let (status, body) = put(&app, &pat, &path, Some(&etag(1)), &read).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["contact"], "#payments");
    let path = format!("/api/v1/platforms/{}/checklist-template", id(&platform));
    let (_, mut read) = get(&app, &pat, &path).await;
    let version = read["version"].as_i64().unwrap();
    read["note"] = json!("Read back and saved");
    let (status, body) = put(&app, &pat, &path, Some(&etag(version)), &read).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], version + 1, "{body}");
    assert_eq!(body["items"], read["items"], "the items are unchanged");
}

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;
    for path in ["/", "/api/v1/teams"] {
        let response = pat.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let h = response.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["content-security-policy"], "frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(
            h["cache-control"], "no-store",
            "signed-in data is not cached: {path}"
        );
        // The test server is plain HTTP on loopback, so no HSTS.
        assert!(!h.contains_key("strict-transport-security"), "{path}");
    }
    // Exports are data too.
    let export = pat
        .get(app.url("/api/v1/maintenances/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    assert!(
        export.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(export.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn lists_come_in_pages_with_a_total() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);
    for n in 1..=5 {
        let (status, body) = post(
            &app,
            &pat,
            "/api/v1/teams",
            &json!({ "slug": format!("team-{n}"), "name": format!("Team {n}") }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, page) = get(&app, &pat, "/api/v1/teams?per_page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 5);
    assert_eq!(page["per_page"], 2);
    assert_eq!(page["page"], 1);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["name"], "Team 1");

    let (_, last) = get(&app, &pat, "/api/v1/teams?per_page=2&page=3").await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["items"][0]["name"], "Team 5");

    let (_, found) = get(&app, &pat, "/api/v1/teams?q=team-4").await;
    assert_eq!(found["total"], 1);
}

#[tokio::test]
async fn an_application_runs_in_namespaces_per_environment() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);

    let (_, platform) = post(
        &app,
        &pat,
        "/api/v1/platforms",
        &json!({ "slug": "core", "name": "Core" }),
    )
    .await;
    let platform_id = id(&platform);
    let envs = format!("/api/v1/platforms/{platform_id}/environments");
    let (status, production) =
        post(&app, &pat, &envs, &json!({ "slug": "production", "name": "Production", "position": 1, "is_production": true }))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{production}");
    let (status, staging) = post(
        &app,
        &pat,
        &envs,
        &json!({ "slug": "staging", "name": "Staging", "position": 0 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{staging}");
    let (_, listed) = get(&app, &pat, &envs).await;
    let order: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["staging", "production"],
        "environments come in their order"
    );

    let (_, team) = post(
        &app,
        &pat,
        "/api/v1/teams",
        &json!({ "slug": "payments", "name": "Payments" }),
    )
    .await;
    let application = json!({
        "team_id": id(&team),
        "slug": "checkout",
        "name": "Checkout",
        "placements": [
            { "environment_id": id(&staging), "namespace": "payments-checkout" },
            { "environment_id": id(&production), "namespace": "payments-checkout" },
        ],
    });
    let (status, created) = post(&app, &pat, "/api/v1/applications", &application).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["team_slug"], "payments");
    assert_eq!(created["placements"].as_array().unwrap().len(), 2);

    let (_, in_production) = get(
        &app,
        &pat,
        &format!("/api/v1/applications?environment_id={}", id(&production)),
    )
    .await;
    assert_eq!(in_production["total"], 1);
    assert_eq!(in_production["items"][0]["slug"], "checkout");

    // Leave production: the placement goes, the version moves on.
    let path = format!("/api/v1/applications/{}", id(&created));
    let mut change = application.clone();
    change["placements"] =
        json!([{ "environment_id": id(&staging), "namespace": "payments-checkout" }]);
    let (status, updated) = put(&app, &pat, &path, Some(&etag(1)), &change).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["placements"].as_array().unwrap().len(), 1);
    assert_eq!(updated["version"], 2);
    let (_, in_production) = get(
        &app,
        &pat,
        &format!("/api/v1/applications?environment_id={}", id(&production)),
    )
    .await;
    assert_eq!(in_production["total"], 0);

    let mut bad = application.clone();
    bad["slug"] = json!("elsewhere");
    bad["placements"] = json!([{ "environment_id": uuid::Uuid::new_v4(), "namespace": "x" }]);
    let (status, body) = post(&app, &pat, "/api/v1/applications", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["placements"].is_string(), "{body}");
    let mut bad = application.clone();
    bad["slug"] = json!("bad-namespace");
    bad["placements"] = json!([{ "environment_id": id(&staging), "namespace": "Not_A_Namespace" }]);
    let (status, body) = post(&app, &pat, "/api/v1/applications", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["placements"].is_string(), "{body}");

    // A namespace belongs to one application: another application cannot claim checkout's
    // (it would be judged on checkout's workloads), but may take the one checkout left.
    let mut claim = application.clone();
    claim["slug"] = json!("impostor");
    claim["placements"] =
        json!([{ "environment_id": id(&staging), "namespace": "payments-checkout" }]);
    let (status, body) = post(&app, &pat, "/api/v1/applications", &claim).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"]["placements"],
        "namespace payments-checkout on Staging belongs to application checkout; a namespace belongs to one application",
        "{body}"
    );
    let (_, listed) = get(&app, &pat, "/api/v1/applications").await;
    assert_eq!(listed["total"], 1, "nothing half-written: {listed}");
    claim["placements"] =
        json!([{ "environment_id": id(&production), "namespace": "payments-checkout" }]);
    let (status, body) = post(&app, &pat, "/api/v1/applications", &claim).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Two edits racing for one namespace: the database lets one through.
    let racer = |slug: &str| {
        json!({
            "team_id": id(&team), "slug": slug, "name": slug,
            "placements": [{ "environment_id": id(&staging), "namespace": "contested" }],
        })
    };
    let (race_a, race_b) = (racer("race-a"), racer("race-b"));
    let (a, b) = tokio::join!(
        post(&app, &pat, "/api/v1/applications", &race_a),
        post(&app, &pat, "/api/v1/applications", &race_b),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY],
        "{} {}",
        a.1,
        b.1
    );
}

#[tokio::test]
async fn archived_things_leave_the_lists_and_can_be_restored() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let path = format!("/api/v1/applications/{}", seed.indexer);

    let (status, body) = post_empty(&app, &pat, &format!("{path}/archive"), None).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");

    let (status, archived) =
        post_empty(&app, &pat, &format!("{path}/archive"), Some(&etag(1))).await;
    assert_eq!(status, StatusCode::OK, "{archived}");
    assert!(archived["archived_at"].is_string());
    let (_, list) = get(&app, &pat, "/api/v1/applications").await;
    assert_eq!(list["total"], 3, "the archived application left the list");
    let (_, all) = get(&app, &pat, "/api/v1/applications?include_archived=true").await;
    assert_eq!(all["total"], 4, "it is still there when asked for");

    let (status, restored) =
        post_empty(&app, &pat, &format!("{path}/restore"), Some(&etag(2))).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert!(restored["archived_at"].is_null());
    let (_, list) = get(&app, &pat, "/api/v1/applications").await;
    assert_eq!(list["total"], 4);

    // Teams and platforms work the same way; an archived team takes no new applications.
    let team = format!("/api/v1/teams/{}", seed.search);
    let (status, _) = post_empty(&app, &pat, &format!("{team}/archive"), Some(&etag(1))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, teams) = get(&app, &pat, "/api/v1/teams").await;
    assert_eq!(teams["total"], 2);
    let (status, body) = post(
        &app,
        &pat,
        "/api/v1/applications",
        &json!({ "team_id": seed.search, "slug": "late", "name": "Late" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["team_id"].is_string(), "{body}");
}

#[tokio::test]
async fn an_auditor_reads_everything_but_changes_nothing() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let audrey = app.login("audrey").await;

    for path in [
        "/api/v1/teams",
        "/api/v1/applications",
        "/api/v1/platforms",
        "/api/v1/audit-entries",
        "/api/v1/tokens",
    ] {
        let (status, body) = get(&app, &audrey, path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    }
    let (status, body) = post(
        &app,
        &audrey,
        "/api/v1/teams",
        &json!({ "slug": "audit", "name": "Audit" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{body}"
    );
    let (status, _) = put(
        &app,
        &audrey,
        &format!("/api/v1/teams/{}", seed.payments),
        Some(&etag(1)),
        &json!({ "slug": "payments", "name": "Mine now" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post_empty(
        &app,
        &audrey,
        &format!("/api/v1/applications/{}/archive", seed.checkout),
        Some(&etag(1)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        &app,
        &audrey,
        "/api/v1/tokens",
        &json!({ "name": "mine", "scope": "read", "expires_in_days": 1 }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "auditors cannot create tokens"
    );
    // Refused as an auditor, not judged as input: invalid input gets 403 too.
    let (status, body) = post(
        &app,
        &audrey,
        "/api/v1/applications",
        &json!({ "team_id": seed.payments, "slug": "Bad Slug", "name": "" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(count(&app, "teams").await, 3, "nothing changed");
}

#[tokio::test]
async fn a_team_member_manages_only_their_own_teams_applications() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let alice = app.login("alice").await;

    let (status, body) = post(
        &app,
        &alice,
        "/api/v1/applications",
        &json!({ "team_id": seed.payments, "slug": "refunds", "name": "Refunds",
                 "placements": [{ "environment_id": seed.staging, "namespace": "payments-refunds" }] }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "alice may add to team payments: {body}"
    );

    let (status, body) = post(
        &app,
        &alice,
        "/api/v1/applications",
        &json!({ "team_id": seed.search, "slug": "spy", "name": "Spy" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "alice may not add to team search: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("search"),
        "{body}"
    );

    let (status, _) = put(
        &app,
        &alice,
        &format!("/api/v1/applications/{}", seed.search_api),
        Some(&etag(1)),
        &json!({ "team_id": seed.search, "slug": "search-api", "name": "Taken over" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nor change its applications");

    // Moving her own application to another team needs rights on both.
    let (status, _) = put(
        &app,
        &alice,
        &format!("/api/v1/applications/{}", seed.ledger),
        Some(&etag(1)),
        &json!({ "team_id": seed.search, "slug": "ledger", "name": "Ledger" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "nor hand an application to a team she is not in"
    );

    let (status, _) = post(
        &app,
        &alice,
        "/api/v1/teams",
        &json!({ "slug": "mine", "name": "Mine" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "team members do not manage teams"
    );
    let (status, _) = get(&app, &alice, "/api/v1/audit-entries").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "team members do not read the audit log"
    );
    let (status, _) = get(&app, &alice, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK, "but they read the catalogue");
    assert_eq!(count(&app, "applications").await, 5);
}

#[tokio::test]
async fn a_read_only_token_reads_but_cannot_write() {
    let app = TestApp::spawn().await;
    let reader = app.bearer(&app.api_token_with_scope("admin", "read").await);
    let (status, me) = get(&app, &reader, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["can_write"], false);
    assert_eq!(me["roles"], json!(["admin"]));
    let (status, _) = get(&app, &reader, "/api/v1/audit-entries").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(
        &app,
        &reader,
        "/api/v1/teams",
        &json!({ "slug": "nope", "name": "Nope" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{body}"
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;
    let (status, created) = post(
        &app,
        &pat,
        "/api/v1/tokens",
        &json!({ "name": "ci", "scope": "write", "expires_in_days": 7 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("dmc_"));
    let token_id = created["token"]["id"].as_str().unwrap().to_owned();
    let ci = app.bearer(&secret);
    let (status, _) = get(&app, &ci, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK);

    let (status, listed) = get(&app, &pat, "/api/v1/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !listed.to_string().contains(&secret),
        "token lists never show secrets"
    );

    let (status, revoked) = post_empty(
        &app,
        &pat,
        &format!("/api/v1/tokens/{token_id}/revoke"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());

    let response = ci.get(app.url("/api/v1/teams")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
    let (_, body) = tests::json(response).await;
    assert_eq!(code(&body), "unauthenticated");
}

#[tokio::test]
async fn tokens_record_their_last_use_and_stop_at_expiry() {
    let app = TestApp::spawn().await;
    let secret = app.api_token("pat").await;
    let ci = app.bearer(&secret);
    let unused: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(unused.is_none());
    let (status, _) = get(&app, &ci, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK);
    let pat = app.login("pat").await;
    let (_, listed) = get(&app, &pat, "/api/v1/tokens").await;
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let refused =
        poll(|| async { get(&app, &ci, "/api/v1/teams").await.0 == StatusCode::UNAUTHORIZED })
            .await;
    assert!(refused, "an expired token kept working");
}

#[tokio::test]
async fn a_login_without_the_role_revokes_the_tokens_that_carried_it() {
    let app = TestApp::spawn().await;
    let admins = app.bearer(&app.api_token("admin").await);
    let pats = app.bearer(&app.api_token("pat").await);
    let (_, me) = get(&app, &admins, "/api/v1/me").await;
    assert_eq!(me["roles"], json!(["admin"]));

    // A sign-in that still carries the role keeps the tokens.
    let pat_session = app.login("pat").await;
    let admin_session = app.login("admin").await;
    assert_eq!(get(&app, &pats, "/api/v1/teams").await.0, StatusCode::OK);
    assert_eq!(get(&app, &admins, "/api/v1/teams").await.0, StatusCode::OK);

    // The administrator's next sign-in shows a platform engineer only: the token acting as an
    // administrator goes, with an audit entry; pat's stays.
    let (issuer, subject, name): (String, String, String) = sqlx::query_as(
        "SELECT u.issuer, u.subject, u.name FROM users u
         JOIN api_tokens t ON t.created_by = u.id WHERE t.role = 'admin'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let login = domain::users::Login {
        issuer,
        subject,
        name: name.clone(),
        email: None,
        groups: vec!["platform-engineers".into()],
    };
    let recorded = domain::users::record_login(
        &app.pool,
        &login,
        &[domain::auth::Role::PlatformEngineer],
        None,
    )
    .await
    .unwrap();
    // Other groups than last time: the sign-in ends the person's older sessions (the callback
    // does this with the session layer's key for the signed-in person).
    assert!(recorded.groups_changed);
    let ended = domain::sessions::end_for_user(&app.pool, "user", recorded.user_id)
        .await
        .unwrap();
    assert!(ended >= 1, "{ended}");
    assert_eq!(
        get(&app, &admin_session, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    // A request that was in flight when the session ended saves it afterwards: it stays gone.
    let id = "an-ended-session";
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let data = serde_json::json!({"user": {"user_id": recorded.user_id}});
    assert!(
        domain::sessions::create(&app.pool, id, &data, expires)
            .await
            .unwrap()
    );
    domain::sessions::delete(&app.pool, id).await.unwrap();
    domain::sessions::save(&app.pool, id, &data, expires)
        .await
        .unwrap();
    assert_eq!(
        domain::sessions::load(&app.pool, id).await.unwrap(),
        None,
        "an ended session came back"
    );
    assert_eq!(
        get(&app, &pat_session, "/api/v1/me").await.0,
        StatusCode::OK
    );
    let refused =
        poll(|| async { get(&app, &admins, "/api/v1/teams").await.0 == StatusCode::UNAUTHORIZED })
            .await;
    assert!(refused, "the administrator's token outlived the role");
    assert_eq!(get(&app, &pats, "/api/v1/teams").await.0, StatusCode::OK);
    let revoked_by: String = sqlx::query_scalar(
        "SELECT actor_name FROM audit_log WHERE entity_type = 'api_token' AND action = 'revoke'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(revoked_by, name);
}

#[tokio::test]
async fn an_api_path_that_names_nothing_answers_in_json() {
    let app = TestApp::spawn().await;
    let pat = app.bearer(&app.api_token("pat").await);
    for path in [
        "/api/v1/nothing-here",
        "/api/v1/teams/not/a/route",
        "/api/v0/teams",
    ] {
        let (status, body) = get(&app, &pat, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(code(&body), "not_found", "{path}: {body}");
    }
    let response = pat.delete(app.url("/api/v1/teams")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().contains_key("allow"));
    let (_, body) = tests::json(response).await;
    assert_eq!(code(&body), "method_not_allowed", "{body}");
}

#[tokio::test]
async fn unknown_or_forged_bearer_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let key = SigningKey::new(2, "forger");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": app.issuer, "aud": "demarc-api", "exp": now + 300, "client_id": "forger",
                         "scope": "demarc:read demarc:write", "groups": ["demarc-admins"] });
    let forged = key.sign(&key.header(), &claims);
    for token in [
        "dmc_thisisnotatoken",
        "garbage",
        forged.as_str(),
        unsigned_jwt(&claims).as_str(),
    ] {
        let (status, body) = get(&app, &app.bearer(token), "/api/v1/teams").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {token}: {body}");
    }
    let (status, _) = get(&app, &app.client(), "/api/v1/teams").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no credentials at all");
}

#[tokio::test]
async fn tokens_cannot_mint_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.bearer(&app.api_token("admin").await);
    let (status, body) = post(
        &app,
        &admin,
        "/api/v1/tokens",
        &json!({ "name": "child", "scope": "write", "expires_in_days": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn an_access_token_from_the_provider_reads_and_writes_as_its_scope_allows() {
    let app = TestApp::spawn().await;
    let full = app.bearer(&app.client_credentials_token(None).await);
    let (status, me) = get(&app, &full, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["roles"],
        json!(["platform_engineer"]),
        "the client's groups give its role"
    );
    assert_eq!(me["can_write"], true);
    let (status, body) = post(
        &app,
        &full,
        "/api/v1/teams",
        &json!({ "slug": "automated", "name": "Automated" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, list) = get(&app, &full, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 1);

    let reader = app.bearer(&app.client_credentials_token(Some("demarc:read")).await);
    let (status, me) = get(&app, &reader, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["can_write"], false);
    let (status, _) = get(&app, &reader, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(
        &app,
        &reader,
        "/api/v1/teams",
        &json!({ "slug": "nope", "name": "Nope" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a demarc:read token cannot write: {body}"
    );

    let actor: (String, String) =
        sqlx::query_as("SELECT actor_kind, actor_id FROM audit_log WHERE entity_type = 'team' AND action = 'create'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        actor,
        ("token".to_owned(), "client:demarc-automation".to_owned())
    );
}

#[tokio::test]
async fn a_cached_list_shows_a_change_at_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.bearer(&app.api_token("pat").await);
    let (_, before) = get(&app, &pat, "/api/v1/applications?q=indexer").await;
    assert_eq!(before["items"][0]["name"], "Indexer");
    let (_, again) = get(&app, &pat, "/api/v1/applications?q=indexer").await;
    assert_eq!(
        again, before,
        "an unchanged catalogue gives the same answer"
    );

    let path = format!("/api/v1/applications/{}", seed.indexer);
    let (_, current) = get(&app, &pat, &path).await;
    // The fields an update takes (the read-only ones of the answer, such as `id`, are refused).
    let change = json!({
        "team_id": current["team_id"], "slug": current["slug"], "name": "Indexer v2",
        "description": current["description"], "placements": [],
    });
    let (status, body) = put(&app, &pat, &path, Some(&etag(1)), &change).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, after) = get(&app, &pat, "/api/v1/applications?q=indexer").await;
    assert_eq!(
        after["items"][0]["name"], "Indexer v2",
        "the rename shows in the next list"
    );
    assert_eq!(
        after["items"][0]["placements"],
        json!([]),
        "so does the removed placement"
    );
}

/// Another replica's writes never pass through this server's middleware: this one learns of them
/// from the database's notifications. Here the "other replica" writes with plain SQL on the
/// same database.
#[tokio::test]
async fn changes_made_elsewhere_reach_this_replicas_cache_and_token_check() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let secret = app.api_token("pat").await;
    let pat = app.bearer(&secret);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !app.state.cache.is_live() {
        assert!(
            std::time::Instant::now() < deadline,
            "the change listener never connected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, before) = get(&app, &pat, "/api/v1/applications?q=indexer").await;
    assert_eq!(before["items"][0]["name"], "Indexer");

    sqlx::query("UPDATE applications SET name = 'Indexer elsewhere' WHERE id = $1")
        .bind(seed.indexer)
        .execute(&app.pool)
        .await
        .unwrap();
    let renamed = poll(|| async {
        let (_, page) = get(&app, &pat, "/api/v1/applications?q=indexer").await;
        page["items"][0]["name"] == "Indexer elsewhere"
    })
    .await;
    assert!(renamed, "the cached page was never refreshed");

    let (status, _) = get(&app, &pat, "/api/v1/teams").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the token is valid (and now cached)"
    );
    sqlx::query("UPDATE api_tokens SET revoked_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    let refused = poll(|| async {
        let (status, _) = get(&app, &pat, "/api/v1/teams").await;
        status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused, "a token revoked elsewhere kept working");
}

/// Asks `check` every 20 ms for up to 2 s; true as soon as it answers true.
async fn poll<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// Two Demarc processes on one database, as behind a load balancer: a session begun on one is
/// valid on the other, a change made through one is read through the other (its cache too),
/// and signing out on one ends the session on both.
#[tokio::test]
async fn two_replicas_on_one_database_share_sessions_changes_and_sign_out() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let other = app.replica().await;
    let pat = app.login("pat").await;
    let alice = app.login("alice").await;

    // Cookies go by host, not by port: the other replica gets the session begun here.
    let (status, me) = tests::json(alice.get(other.url("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["name"], "Alice Payments", "{me}");

    // Read through this replica (its cache now holds the list), written through the other.
    let (_, before) = get(&app, &pat, "/api/v1/teams").await;
    let written = pat
        .post(other.url("/api/v1/teams"))
        .header(reqwest::header::ORIGIN, app.origin())
        .json(&json!({"slug": "edge", "name": "Edge", "description": "", "contact": "#edge"}))
        .send()
        .await
        .unwrap();
    let (status, team) = tests::json(written).await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let (_, after) = get(&app, &pat, "/api/v1/teams").await;
    let slugs = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|t| t["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!slugs(&before).contains(&"edge".to_owned()));
    assert!(slugs(&after).contains(&"edge".to_owned()), "{after}");

    // Signing out here ends the session there too.
    let response = alice
        .post(app.url("/auth/logout"))
        .header(reqwest::header::ORIGIN, app.origin())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let me_there = |client: reqwest::Client| {
        let url = other.url("/api/v1/me");
        async move { client.get(url).send().await.unwrap().status() }
    };
    assert_eq!(me_there(alice).await, StatusCode::UNAUTHORIZED);
    // pat's session is untouched.
    assert_eq!(me_there(pat).await, StatusCode::OK);
}

/// Writers that lock catalogue rows in opposite orders used to meet on the catalogue version
/// row (taken from their first statement until commit) and deadlock; the version is now bumped
/// once, at commit.
#[tokio::test]
async fn concurrent_catalogue_writes_do_not_deadlock_on_the_version() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let version = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT version FROM catalogue_version")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = version(app.pool.clone()).await;

    // An application edit that goes on to add a namespace...
    let mut edit = app.pool.begin().await.unwrap();
    sqlx::query("UPDATE applications SET name = name || '' WHERE id = $1")
        .bind(seed.checkout)
        .execute(&mut *edit)
        .await
        .unwrap();
    // ... while an environment edit locks the environment the namespace refers to.
    let mut environment = app.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM environments WHERE id = $1 FOR UPDATE")
        .bind(seed.staging)
        .execute(&mut *environment)
        .await
        .unwrap();
    let placement = tokio::spawn(async move {
        let added = sqlx::query(
            "INSERT INTO application_namespaces (application_id, environment_id, namespace)
             VALUES ($1, $2, 'checkout-extra')",
        )
        .bind(seed.checkout)
        .bind(seed.staging)
        .execute(&mut *edit)
        .await;
        (added, edit)
    });
    // The namespace waits for the environment's lock; the environment edit must not wait for
    // the application edit in turn.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("UPDATE environments SET name = name || '' WHERE id = $1")
        .bind(seed.staging)
        .execute(&mut *environment)
        .await
        .expect("the environment edit is not chosen as a deadlock victim");
    environment.commit().await.unwrap();
    let (added, edit) = placement.await.unwrap();
    added.expect("the namespace is added once the environment is free");
    edit.commit().await.unwrap();

    assert_eq!(
        version(app.pool.clone()).await,
        before + 2,
        "one bump per transaction, however many rows it changed"
    );
}
