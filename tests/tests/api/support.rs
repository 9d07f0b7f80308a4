//! Small helpers shared by the API tests.

use reqwest::header::ORIGIN;
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tests::TestApp;

/// The full path of the server function `name` (`/_fn/<name><hash>`), from the server
/// functions the app registered.
pub fn server_fn_path(name: &str) -> String {
    let found: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| server_fn_name(path) == Some(name))
        .collect();
    match found.as_slice() {
        [one] => (*one).to_owned(),
        [] => panic!("the app has no server function named {name}"),
        many => panic!("several server functions are named {name}: {many:?}"),
    }
}

/// The function name in a server function path: `/_fn/save_team123` -> `save_team`.
pub fn server_fn_name(path: &str) -> Option<&str> {
    let last = path.rsplit('/').next()?;
    let name = last.trim_end_matches(|c: char| c.is_ascii_digit());
    (!name.is_empty()).then_some(name)
}

/// A request from the app's own pages (same-origin `Origin` header).
pub fn same_origin(app: &TestApp, request: RequestBuilder) -> RequestBuilder {
    request.header(ORIGIN, app.origin())
}

/// GET `path` and read JSON.
pub async fn get(app: &TestApp, client: &Client, path: &str) -> (StatusCode, Value) {
    tests::json(client.get(app.url(path)).send().await.expect("GET")).await
}

/// POST JSON to `path` from the app's origin.
pub async fn post(app: &TestApp, client: &Client, path: &str, body: &Value) -> (StatusCode, Value) {
    let request = same_origin(app, client.post(app.url(path)).json(body));
    tests::json(request.send().await.expect("POST")).await
}

/// PUT JSON to `path` from the app's origin, with `If-Match` when given.
pub async fn put(
    app: &TestApp,
    client: &Client,
    path: &str,
    if_match: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = same_origin(app, client.put(app.url(path)).json(body));
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    tests::json(request.send().await.expect("PUT")).await
}

/// POST without a body (archive, restore, revoke) with `If-Match` when given.
pub async fn post_empty(
    app: &TestApp,
    client: &Client,
    path: &str,
    if_match: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = same_origin(app, client.post(app.url(path)));
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    tests::json(request.send().await.expect("POST")).await
}

/// One request from the app's origin with `If-Match` and a JSON body when given: the status and
/// the JSON answer.
pub async fn call(
    app: &TestApp,
    client: &Client,
    method: reqwest::Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
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
    tests::json(response).await
}

/// The names of the fields an error body complains about, sorted.
pub fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_object()
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default()
}

/// The `"<version>"` ETag for a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// The id of a JSON resource.
pub fn id(body: &Value) -> uuid::Uuid {
    body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {body}"))
}

/// Number of rows in a table (direct database check).
pub async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .expect("count rows")
}

/// A webhook receiver on a free loopback port: its URL (`http://127.0.0.1:<port>/hook`) and every
/// JSON body it gets.
pub async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let received: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
    let hook = {
        let received = received.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let received = received.clone();
                async move {
                    received.lock().unwrap().push(body);
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });
    (url, received)
}

/// Splits CSV text (RFC 4180: quoted cells may hold commas, quotes and line breaks) into rows.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// A webhook of team payments (it runs applications in staging) in `format`: what it receives.
pub async fn payments_webhook(
    app: &TestApp,
    seed: &tests::Seed,
    format: &str,
) -> std::sync::Arc<std::sync::Mutex<Vec<Value>>> {
    let alice = app.login("alice").await;
    let (url, received) = webhook_receiver().await;
    let (status, body) = call(
        app,
        &alice,
        Method::POST,
        &format!("/api/v1/teams/{}/webhooks", seed.payments),
        None,
        Some(&json!({"url": url, "format": format})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    received
}

/// The body of a GET of `path` as `client` sees it (a page's HTML, an export's CSV).
pub async fn get_text(app: &TestApp, client: &Client, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
