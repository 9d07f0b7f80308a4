//! Login attacks: every forged or replayed login must end on the "sign-in refused" page (400)
//! with no session and no user created. Where the real development provider can be led into
//! it (a wrong state, another nonce, a code for another client, a replayed code, another
//! issuer), the attack goes through it; the forgeries a real provider never signs (tampered,
//! unsigned, expired, foreign keys) come from a hostile provider that hands out crafted tokens,
//! and a correctly crafted token proves that the harness itself works.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::fake_provider::{SigningKey, tamper, unsigned_jwt};
use tests::{FakeProvider, Provider, TestApp};

use super::support::{count, get};

/// What a refused login looks like to the person and in the database.
async fn assert_refused(
    app: &TestApp,
    client: &reqwest::Client,
    response: reqwest::Response,
    what: &str,
) {
    let status = response.status();
    let html = response.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{what}: the callback must be refused:\n{html}"
    );
    assert!(
        html.contains("Sign-in did not complete"),
        "{what}: the refusal page is shown:\n{html}"
    );
    let (me, _) = get(app, client, "/api/v1/me").await;
    assert_eq!(
        me,
        StatusCode::UNAUTHORIZED,
        "{what}: no session may be created"
    );
    assert_eq!(
        count(app, "users").await,
        0,
        "{what}: nobody may be recorded as signed in"
    );
}

fn with_param(url: &url::Url, name: &str, value: Option<&str>) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut changed = url.clone();
    {
        let mut query = changed.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            if k != name {
                query.append_pair(k, v);
            }
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    changed
}

#[tokio::test]
async fn a_callback_with_a_wrong_state_is_refused() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let callback = app.login_until_callback(&client, "pat").await;
    let forged = with_param(&callback, "state", Some("attacker-chosen-state"));
    let response = client.get(forged).send().await.unwrap();
    assert_refused(&app, &client, response, "wrong state").await;
    // The pending login was used up: even the genuine callback fails now.
    let response = client.get(callback).send().await.unwrap();
    assert_refused(
        &app,
        &client,
        response,
        "genuine callback after a wrong state",
    )
    .await;
}

/// The provider's authorization URL that Demarc's login redirects to.
async fn authorization_url(app: &TestApp, client: &reqwest::Client) -> url::Url {
    let start = url::Url::parse(&app.url("/auth/login?next=%2F")).unwrap();
    let response = client.get(start.clone()).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    tests::location(&start, &response)
}

#[tokio::test]
async fn an_id_token_the_real_provider_issued_for_another_nonce_is_refused() {
    // The attacker swaps the nonce on the way to the provider: the real provider signs an ID
    // token with the attacker's nonce, which is not the one this login remembers.
    let app = TestApp::spawn().await;
    let client = app.client();
    let authorize = authorization_url(&app, &client).await;
    let forged = with_param(&authorize, "nonce", Some("attacker-chosen-nonce"));
    let callback = app.login_through(&client, forged, "pat").await;
    let response = client.get(callback).send().await.unwrap();
    assert_refused(&app, &client, response, "another nonce (real provider)").await;
}

#[tokio::test]
async fn a_code_the_real_provider_issued_to_another_client_is_refused() {
    // Another client registered at the same provider, with Demarc's callback: its code (and the
    // ID token it would get, for another audience) must not sign anybody in to Demarc.
    let app = TestApp::spawn().await;
    let client = app.client();
    let other = Provider::get().register_client(&app.base).await;
    assert_ne!(other.client_id, app.client_id);
    let authorize = authorization_url(&app, &client).await;
    let forged = with_param(&authorize, "client_id", Some(&other.client_id));
    let callback = app.login_through(&client, forged, "pat").await;
    let response = client.get(callback).send().await.unwrap();
    assert_refused(&app, &client, response, "a code for another client").await;
}

#[tokio::test]
async fn a_callback_without_a_pending_login_is_refused() {
    let app = TestApp::spawn().await;
    // A victim's genuine callback URL, opened in the attacker's browser (login CSRF).
    let victim = app.client();
    let callback = app.login_until_callback(&victim, "pat").await;
    let attacker = app.client();
    let response = attacker.get(callback).send().await.unwrap();
    assert_refused(&app, &attacker, response, "no pending login").await;
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let callback = app.login_until_callback(&client, "pat").await;
    let response = client.get(callback.clone()).send().await.unwrap();
    assert!(
        response.status().is_redirection(),
        "the first use of the code signs in"
    );

    // The same callback again, in another browser that has its own pending login: the code is
    // spent (and bound to the first browser's PKCE verifier).
    let other = app.client();
    let start = other.get(app.url("/auth/login")).send().await.unwrap();
    let authorize = tests::location(&url::Url::parse(&app.url("/auth/login")).unwrap(), &start);
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let replay = with_param(&callback, "state", Some(&state));
    let response = other.get(replay).send().await.unwrap();
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a replayed code is refused:\n{html}"
    );
    let (me, _) = get(&app, &other, "/api/v1/me").await;
    assert_eq!(
        me,
        StatusCode::UNAUTHORIZED,
        "the replaying browser has no session"
    );

    // And the first browser cannot replay it either (its pending login is used up).
    let response = client.get(callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_callback_naming_another_issuer_is_refused() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let callback = app.login_until_callback(&client, "pat").await;
    assert_eq!(
        callback
            .query_pairs()
            .find(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned()),
        Some(Provider::get().issuer.clone()),
        "the provider sends the RFC 9207 iss parameter"
    );
    let forged = with_param(&callback, "iss", Some("https://evil.example"));
    let response = client.get(forged).send().await.unwrap();
    assert_refused(&app, &client, response, "wrong iss").await;
}

#[tokio::test]
async fn a_callback_without_the_iss_parameter_is_refused_when_the_provider_sends_it() {
    let app = TestApp::spawn().await;
    let discovery: Value = app
        .client()
        .get(format!("{}/.well-known/openid-configuration", app.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    let client = app.client();
    let callback = app.login_until_callback(&client, "pat").await;
    let stripped = with_param(&callback, "iss", None);
    let response = client.get(stripped).send().await.unwrap();
    assert_refused(&app, &client, response, "missing iss").await;
}

#[tokio::test]
async fn an_error_from_the_provider_signs_nobody_in() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let callback = app.login_until_callback(&client, "pat").await;
    let mut denied = with_param(&callback, "code", None);
    denied = with_param(&denied, "error", Some("access_denied"));
    let response = client.get(denied).send().await.unwrap();
    assert_refused(&app, &client, response, "provider error").await;
}

// ---- ID token attacks, with a hostile provider ------------------------------------------------

const CLIENT_ID: &str = "demarc-under-attack";

/// Starts a login at a server that trusts `fake`, lets the hostile provider answer the code
/// exchange with the token `craft` makes from (provider, client id, nonce), and returns the
/// callback's response with the client and the server.
async fn login_with_crafted_token(
    craft: impl FnOnce(&FakeProvider, &str) -> String,
) -> (FakeProvider, TestApp, reqwest::Client, reqwest::Response) {
    let fake = FakeProvider::start().await;
    let app = TestApp::spawn_with_issuer(&fake.issuer, CLIENT_ID, "client-secret").await;
    let client = app.client();
    let start = url::Url::parse(&app.url("/auth/login")).unwrap();
    let response = client.get(start.clone()).send().await.unwrap();
    let authorize = tests::location(&start, &response);
    assert!(
        authorize
            .as_str()
            .starts_with(&format!("{}/authorize", fake.issuer)),
        "{authorize}"
    );
    let param = |name: &str| {
        authorize
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state = param("state").expect("state in the authorization request");
    let nonce = param("nonce").expect("nonce in the authorization request");
    assert!(param("code_challenge").is_some(), "PKCE is used");
    fake.answer_next_exchange_with(craft(&fake, &nonce));
    let mut callback = url::Url::parse(&app.url("/auth/callback")).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("code", "code-from-the-hostile-provider")
        .append_pair("state", &state)
        .append_pair("iss", &fake.issuer);
    let response = client.get(callback).send().await.unwrap();
    (fake, app, client, response)
}

async fn assert_id_token_refused(what: &str, craft: impl FnOnce(&FakeProvider, &str) -> String) {
    let (fake, app, client, response) = login_with_crafted_token(craft).await;
    assert_eq!(
        fake.token_requests(),
        1,
        "{what}: the server exchanged the code, so the ID token was judged"
    );
    assert_refused(&app, &client, response, what).await;
}

#[tokio::test]
async fn a_correctly_signed_id_token_from_the_test_provider_is_accepted() {
    // The positive control: the same harness with a valid token signs in.
    let (fake, app, client, response) =
        login_with_crafted_token(|fake, nonce| fake.sign(&fake.claims(CLIENT_ID, nonce))).await;
    assert_eq!(fake.token_requests(), 1);
    assert!(
        response.status().is_redirection(),
        "a valid ID token signs in: {}",
        response.status()
    );
    let (status, me) = get(&app, &client, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["name"], "Mallory Forger");
    assert_eq!(me["roles"], json!(["platform_engineer"]));
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    assert_id_token_refused("wrong nonce", |fake, _| {
        fake.sign(&fake.claims(CLIENT_ID, "a-nonce-from-elsewhere"))
    })
    .await;
}

#[tokio::test]
async fn an_id_token_without_a_nonce_is_refused() {
    assert_id_token_refused("missing nonce", |fake, nonce| {
        let mut claims = fake.claims(CLIENT_ID, nonce);
        claims.as_object_mut().unwrap().remove("nonce");
        fake.sign(&claims)
    })
    .await;
}

#[tokio::test]
async fn an_id_token_for_another_client_is_refused() {
    assert_id_token_refused("wrong audience", |fake, nonce| {
        let mut claims = fake.claims(CLIENT_ID, nonce);
        claims["aud"] = json!("some-other-client");
        fake.sign(&claims)
    })
    .await;
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    assert_id_token_refused("wrong issuer", |fake, nonce| {
        let mut claims = fake.claims(CLIENT_ID, nonce);
        claims["iss"] = json!("https://evil.example");
        fake.sign(&claims)
    })
    .await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    assert_id_token_refused("expired", |fake, nonce| {
        let mut claims = fake.claims(CLIENT_ID, nonce);
        let now = chrono::Utc::now().timestamp();
        claims["iat"] = json!(now - 7200);
        claims["exp"] = json!(now - 3600);
        fake.sign(&claims)
    })
    .await;
}

#[tokio::test]
async fn an_id_token_with_a_tampered_payload_is_refused() {
    assert_id_token_refused("tampered signature", |fake, nonce| {
        let genuine = fake.sign(&fake.claims(CLIENT_ID, nonce));
        let mut claims = fake.claims(CLIENT_ID, nonce);
        claims["groups"] = json!(["demarc-admins"]);
        tamper(&genuine, &claims)
    })
    .await;
}

#[tokio::test]
async fn an_unsigned_id_token_is_refused() {
    assert_id_token_refused("alg none", |fake, nonce| {
        unsigned_jwt(&fake.claims(CLIENT_ID, nonce))
    })
    .await;
}

#[tokio::test]
async fn an_id_token_signed_by_an_unknown_key_is_refused() {
    assert_id_token_refused("unknown key", |fake, nonce| {
        let stranger = SigningKey::new(2, &fake.key.kid);
        stranger.sign(&stranger.header(), &fake.claims(CLIENT_ID, nonce))
    })
    .await;
}

/// Valid claims of an access token from `issuer` for Demarc's API: an automation client in the
/// platform engineers' group, with read scope.
fn pipeline_claims(issuer: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": issuer, "aud": "demarc-api", "exp": now + 300, "iat": now,
        "client_id": "pipeline", "groups": ["platform-engineers"], "scope": "demarc:read",
    })
}

/// What `GET /api/v1/teams` answers to the bearer token (a future that owns what it needs).
fn teams_status(
    app: &TestApp,
    token: String,
) -> impl std::future::Future<Output = StatusCode> + Send + 'static {
    let client = app.bearer(&token);
    let url = app.url("/api/v1/teams");
    async move { client.get(url).send().await.unwrap().status() }
}

#[tokio::test]
async fn access_tokens_are_checked_for_key_issuer_audience_and_time() {
    let fake = FakeProvider::start().await;
    let app = TestApp::spawn_with_issuer(&fake.issuer, "demarc", "demarc-secret").await;
    let good = pipeline_claims(&fake.issuer);
    let now = chrono::Utc::now().timestamp();
    let status = |token: String| teams_status(&app, token);
    let with = |key: &str, value: Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    // The harness works: a correct token reads, also with a list audience and without a kid.
    assert_eq!(status(fake.sign(&good)).await, StatusCode::OK);
    let listed = with("aud", json!(["other-api", "demarc-api"]));
    assert_eq!(status(fake.sign(&listed)).await, StatusCode::OK);
    let no_kid = fake
        .key
        .sign(&json!({ "alg": "RS256", "typ": "JWT" }), &good);
    assert_eq!(status(no_kid).await, StatusCode::OK);

    let refused = [
        (
            "wrong audience",
            fake.sign(&with("aud", json!("another-api"))),
        ),
        (
            "wrong issuer",
            fake.sign(&with("iss", json!("http://127.0.0.1:1"))),
        ),
        ("expired", fake.sign(&with("exp", json!(now - 5)))),
        ("not valid yet", fake.sign(&with("nbf", json!(now + 3600)))),
        ("alg none", unsigned_jwt(&good)),
        (
            "an ID token (it carries a nonce)",
            fake.sign(&with("nonce", json!("n-0S6_WzA2Mj"))),
        ),
        (
            "another token type",
            fake.key.sign(
                &json!({ "alg": "RS256", "typ": "logout+jwt", "kid": "fake-provider-key" }),
                &good,
            ),
        ),
        (
            "tampered claims",
            tamper(&fake.sign(&good), &with("groups", json!(["demarc-admins"]))),
        ),
    ];
    for (what, token) in refused {
        assert_eq!(status(token).await, StatusCode::UNAUTHORIZED, "{what}");
    }
    // Another key under the provider's key id: the signature does not verify.
    let impostor = SigningKey::new(2, "fake-provider-key");
    let forged = impostor.sign(&fake.key.header(), &good);
    assert_eq!(
        status(forged).await,
        StatusCode::UNAUTHORIZED,
        "a key the provider never published"
    );
}

#[tokio::test]
async fn a_key_the_provider_rotates_in_is_fetched_and_trusted() {
    let fake = FakeProvider::start().await;
    let app = TestApp::spawn_with_issuer(&fake.issuer, "demarc", "demarc-secret").await;
    let claims = pipeline_claims(&fake.issuer);
    let status = |token: String| teams_status(&app, token);
    let rotated = SigningKey::new(2, "rotated-key");
    let token = rotated.sign(&rotated.header(), &claims);
    assert_eq!(
        status(token.clone()).await,
        StatusCode::UNAUTHORIZED,
        "not published yet"
    );
    let fetched = fake.jwks_requests();
    // The provider publishes it; past the refresh interval, the next token fetches the keys.
    fake.publish(&rotated);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(status(token.clone()).await, StatusCode::OK);
    assert_eq!(fake.jwks_requests(), fetched + 1, "one fetch of the keys");
    assert_eq!(status(token).await, StatusCode::OK, "kept after the fetch");
    // Made-up keys right after: refused without fetching again.
    let made_up = SigningKey::new(2, "made-up-key");
    let forged = made_up.sign(&made_up.header(), &claims);
    for _ in 0..5 {
        assert_eq!(status(forged.clone()).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(fake.jwks_requests(), fetched + 1, "no fetch storm");
    // Past the interval, twenty at once: one fetch between them.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let answers = futures_join_all((0..20).map(|_| status(forged.clone()))).await;
    assert!(
        answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{answers:?}"
    );
    assert_eq!(fake.jwks_requests(), fetched + 2, "one fetch for a burst");
}

/// Runs the futures at once and collects their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("the request task"));
    }
    out
}
