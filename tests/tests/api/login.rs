//! Signing in and out through the real OpenID provider.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use tests::{Provider, TestApp};

use super::support::{count, get, same_origin};

#[tokio::test]
async fn pat_signs_in_through_the_provider_and_is_a_platform_engineer() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;

    let (status, me) = get(&app, &pat, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["name"], "Pat Platform");
    assert_eq!(me["roles"], serde_json::json!(["platform_engineer"]));
    assert_eq!(me["can_write"], true);

    let page = pat.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Pat Platform"),
        "the dashboard names the signed-in person:\n{html}"
    );

    // The login is on record, with the groups it carried.
    let groups: Vec<String> =
        sqlx::query_scalar("SELECT unnest(groups) FROM users WHERE subject = 'pat'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(groups, ["platform-engineers"]);
}

#[tokio::test]
async fn someone_without_groups_signs_in_but_gets_a_no_access_page() {
    let app = TestApp::spawn().await;
    let nobody = app.login("nobody").await;

    let page = nobody.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("No access"),
        "the page says there is no access:\n{html}"
    );
    assert!(
        html.contains("Nobody Noaccess"),
        "the page says who is signed in:\n{html}"
    );

    let (status, body) = get(&app, &nobody, "/api/v1/teams").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// A `team-*` group makes its members part of a team only when Demarc has that team: an
/// identity provider's unrelated `team-marketing` group opens nothing.
#[tokio::test]
async fn a_group_naming_a_team_demarc_does_not_have_gives_no_access_until_it_exists() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await; // team-payments, and no team exists yet
    let page = alice.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.text().await.unwrap().contains("No access"));
    let (status, body) = get(&app, &alice, "/api/v1/applications").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Once a platform engineer creates the team, the same session works for it.
    let pat = app.bearer(&app.api_token("pat").await);
    let (status, body) = super::support::post(
        &app,
        &pat,
        "/api/v1/teams",
        &serde_json::json!({ "slug": "payments", "name": "Payments" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = get(&app, &alice, "/api/v1/applications").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = alice.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_anonymous_visit_is_sent_to_the_login_and_comes_back_afterwards() {
    let app = TestApp::spawn().await;
    app.seed().await; // alice's team
    let client = app.client();

    let response = client.get(app.url("/teams?q=pay")).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(
        response.headers()[LOCATION],
        "/auth/login?next=%2Fteams%3Fq%3Dpay"
    );

    // Walk the login from where the redirect pointed: the callback sends us back there.
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let callback = app.login_from(&client, &location, "alice").await;
    let response = client.get(callback).send().await.unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()[LOCATION], "/teams?q=pay");
    let page = client.get(app.url("/teams?q=pay")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_login_only_sends_people_back_to_local_pages() {
    let app = TestApp::spawn().await;
    for next in [
        "%2F%2Fevil.example%2F",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%5Cevil.example",
        // Browsers drop tabs and line breaks, then read `//evil.example`.
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%0D%0A%2Fevil.example",
        "%2Fteams%5C..%5C%5Cevil.example",
    ] {
        let client = app.client();
        let callback = app
            .login_from(&client, &format!("/auth/login?next={next}"), "pat")
            .await;
        let response = client.get(callback).send().await.unwrap();
        assert!(response.status().is_redirection());
        assert_eq!(
            response.headers()[LOCATION],
            "/",
            "next={next} must not leave Demarc"
        );
    }
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure_and_responses_carry_hsts() {
    let app = TestApp::spawn_with(tests::Options {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let response = app
        .client()
        .get(app.url("/auth/login"))
        .send()
        .await
        .unwrap();
    let hsts = response.headers()["strict-transport-security"].clone();
    assert_eq!(hsts, "max-age=31536000");
    let cookie = session_cookie(&response).expect("the pending login is kept in a session");
    assert!(
        cookie
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("secure")),
        "{cookie}"
    );
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_and_renewed_at_login() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let response = client.get(app.url("/auth/login")).send().await.unwrap();
    let before = session_cookie(&response).expect("the pending login is kept in a session");
    assert!(before.to_ascii_lowercase().contains("httponly"), "{before}");
    assert!(
        before.to_ascii_lowercase().contains("samesite=lax"),
        "{before}"
    );

    let callback = app.login_until_callback(&client, "pat").await;
    let response = client.get(callback).send().await.unwrap();
    assert!(response.status().is_redirection());
    let after = session_cookie(&response).expect("the login sets the session cookie");
    let value = |c: &str| c.split(';').next().unwrap_or_default().to_owned();
    assert_ne!(
        value(&before),
        value(&after),
        "the session id changes at login (no session fixation)"
    );
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("demarc_session="))
        .map(str::to_owned)
}

#[tokio::test]
async fn signing_out_ends_the_session_here_and_at_the_provider() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;

    let response = same_origin(&app, pat.post(app.url("/auth/logout")))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let end_session = tests::location(
        &url::Url::parse(&app.url("/auth/logout")).unwrap(),
        &response,
    );
    let discovery = Provider::get().discovery().await;
    let endpoint = discovery
        .end_session_endpoint
        .expect("the provider has an end_session endpoint");
    assert!(
        end_session.as_str().starts_with(&endpoint),
        "logout goes on to the provider: {end_session}"
    );
    let param = |name: &str| {
        end_session
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("client_id").as_deref(),
        Some(app.client_id.as_str()),
        "{end_session}"
    );
    assert_eq!(
        param("post_logout_redirect_uri"),
        Some(app.url("/")),
        "{end_session}"
    );

    let response = pat.get(end_session.clone()).send().await.unwrap();
    assert!(response.status().is_redirection());
    let back = tests::location(&end_session, &response);
    assert_eq!(
        back.as_str().split('?').next().unwrap(),
        app.url("/"),
        "the provider sends people back to Demarc"
    );

    let (status, _) = get(&app, &pat, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session is gone");
    let page = pat.get(app.url("/")).send().await.unwrap();
    assert!(
        page.status().is_redirection(),
        "the dashboard asks for a login again"
    );

    // The provider session is gone too: signing in again shows its login form.
    let response = pat.get(app.url("/auth/login")).send().await.unwrap();
    let mut url = tests::location(
        &url::Url::parse(&app.url("/auth/login")).unwrap(),
        &response,
    );
    let mut saw_form = false;
    for _ in 0..10 {
        let response = pat.get(url.clone()).send().await.unwrap();
        if response.status() == StatusCode::OK {
            saw_form = response.text().await.unwrap().contains("id=\"sign-in\"");
            break;
        }
        url = tests::location(&url, &response);
    }
    assert!(
        saw_form,
        "after logout the provider asks for the password again"
    );
    assert_eq!(count(&app, "users").await, 1);
}

/// Moves the signed-in person's `field` (`seen_at` or `login_at`) of every session `seconds`
/// into the past, as if that much time had gone by.
async fn age_sessions(app: &TestApp, field: &str, seconds: i64) {
    sqlx::query(&format!(
        "UPDATE sessions SET data = jsonb_set(data, '{{user,{field}}}', to_jsonb((data->'user'->>'{field}')::bigint - $1)) WHERE data ? 'user'"
    ))
    .bind(seconds)
    .execute(&app.pool)
    .await
    .expect("age the sessions");
}

#[tokio::test]
async fn a_session_ends_after_the_idle_and_the_absolute_timeout() {
    let app = TestApp::spawn().await;
    let me = |client: reqwest::Client| {
        let url = app.url("/api/v1/me");
        async move { client.get(url).send().await.unwrap().status() }
    };

    // Idle for just under the limit (60 minutes in the tests' configuration): still signed in,
    // and the visit counts as activity.
    let pat = app.login("pat").await;
    age_sessions(&app, "seen_at", 59 * 60).await;
    assert_eq!(me(pat.clone()).await, StatusCode::OK);
    age_sessions(&app, "seen_at", 59 * 60).await;
    assert_eq!(
        me(pat.clone()).await,
        StatusCode::OK,
        "the last visit restarted the idle clock"
    );
    // Idle for longer: signed out, and the session is gone from the store.
    age_sessions(&app, "seen_at", 61 * 60).await;
    assert_eq!(me(pat.clone()).await, StatusCode::UNAUTHORIZED);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE data ? 'user'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // Busy all along, but signed in longer than the absolute limit (12 hours): signed out.
    let pat = app.login("pat").await;
    age_sessions(&app, "login_at", 11 * 3600).await;
    assert_eq!(me(pat.clone()).await, StatusCode::OK);
    age_sessions(&app, "login_at", 3600 + 1).await;
    assert_eq!(me(pat.clone()).await, StatusCode::UNAUTHORIZED);
}
