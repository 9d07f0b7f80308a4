//! Cross-site request forgery: a signed-in person's browser, driven by another site, must not
//! be able to change anything or sign them out.

use reqwest::StatusCode;
use reqwest::header::{ORIGIN, REFERER};
use serde_json::json;
use tests::TestApp;

use super::support::{count, get, server_fn_path};

const EVIL: &str = "http://evil.example";

fn team_form(slug: &str) -> Vec<(&'static str, String)> {
    vec![
        ("slug", slug.to_owned()),
        ("name", "Forged".to_owned()),
        ("description", String::new()),
        ("contact", String::new()),
    ]
}

#[tokio::test]
async fn a_cross_site_logout_is_refused() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;
    let response = pat
        .post(app.url("/auth/logout"))
        .header(ORIGIN, EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = get(&app, &pat, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn a_cross_site_server_function_call_is_refused() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;
    let save_team = app.url(&server_fn_path("save_team"));

    let forged = [
        pat.post(&save_team).header(ORIGIN, EVIL),
        pat.post(&save_team).header(REFERER, format!("{EVIL}/page")),
        pat.post(&save_team),
        pat.post(&save_team)
            .header(ORIGIN, app.origin())
            .header("sec-fetch-site", "cross-site"),
        pat.post(&save_team).header(ORIGIN, "null"),
    ];
    for (n, request) in forged.into_iter().enumerate() {
        let response = request
            .form(&team_form(&format!("forged-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "forged request #{n} is refused"
        );
    }
    assert_eq!(count(&app, "teams").await, 0, "no forged team was created");

    // The same call from Demarc's own page works (the control).
    let response = pat
        .post(&save_team)
        .header(ORIGIN, app.origin())
        .header("sec-fetch-site", "same-origin")
        .form(&team_form("genuine"))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "a same-origin call works: {}",
        response.status()
    );
    assert_eq!(count(&app, "teams").await, 1);
}

#[tokio::test]
async fn a_cross_site_rest_write_with_the_session_cookie_is_refused() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;
    let response = pat
        .post(app.url("/api/v1/teams"))
        .header(ORIGIN, EVIL)
        .json(&json!({ "slug": "forged", "name": "Forged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // In the API's error shape, like every other refusal under /api.
    let (_, body) = tests::json(response).await;
    assert_eq!(body["error"]["code"], "cross_site", "{body}");
    assert_eq!(count(&app, "teams").await, 0);
}

#[tokio::test]
async fn bearer_tokens_are_not_ambient_so_their_origin_does_not_matter() {
    let app = TestApp::spawn().await;
    let token = app.bearer(&app.api_token("pat").await);
    let response = token
        .post(app.url("/api/v1/teams"))
        .header(ORIGIN, EVIL)
        .json(&json!({ "slug": "automation", "name": "Automation" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}
