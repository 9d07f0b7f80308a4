//! A hostile OpenID provider for login attack tests: it serves discovery, a JWKS with a test RSA
//! key and a token endpoint that answers with whatever ID token the test crafted. Pointing a
//! [`crate::TestApp`] at it (see [`crate::TestApp::spawn_with_issuer`]) shows whether the server
//! refuses bad ID tokens (wrong nonce, audience or issuer, expired, tampered, `alg: none`...).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::workspace_root;

const B64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A test-only RSA private key (PKCS#1 PEM): generated with `openssl genrsa -traditional 2048`
/// when openssl is on the machine, else read from `tests/fixtures/test-rsa-key-<n>.pem`.
pub fn test_rsa_pem(n: u8) -> String {
    let generated = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .filter(|pem| pem.contains("BEGIN RSA PRIVATE KEY"));
    generated.unwrap_or_else(|| {
        let path = workspace_root().join(format!("tests/fixtures/test-rsa-key-{n}.pem"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// An RSA signing key with a key id, for crafting JWTs.
pub struct SigningKey {
    pub kid: String,
    key: CoreRsaPrivateSigningKey,
}

impl SigningKey {
    /// A fresh test key (see [`test_rsa_pem`]).
    pub fn new(n: u8, kid: &str) -> SigningKey {
        let key = CoreRsaPrivateSigningKey::from_pem(
            &test_rsa_pem(n),
            Some(JsonWebKeyId::new(kid.to_owned())),
        )
        .expect("a PKCS#1 RSA key");
        SigningKey {
            kid: kid.to_owned(),
            key,
        }
    }

    /// The public half as a JWK (what a JWKS lists).
    pub fn public_jwk(&self) -> Value {
        serde_json::to_value(self.key.as_verification_key()).expect("JWK serializes")
    }

    /// Signs `header.claims` with RS256 and returns the compact JWT.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                message.as_bytes(),
            )
            .expect("RS256 signing");
        format!("{message}.{}", B64.encode(signature))
    }

    /// The usual header of an RS256 ID token signed with this key.
    pub fn header(&self) -> Value {
        json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid })
    }
}

/// An unsigned JWT (`alg: none`, empty signature).
pub fn unsigned_jwt(claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT" });
    format!(
        "{}.{}.",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

/// Replaces the claims of a signed JWT but keeps its signature (a forgery).
pub fn tamper(jwt: &str, claims: &Value) -> String {
    let mut parts = jwt.split('.');
    let header = parts.next().expect("header");
    let _ = parts.next();
    let signature = parts.next().expect("signature");
    format!("{header}.{}.{signature}", B64.encode(claims.to_string()))
}

#[derive(Default)]
struct Shared {
    next_id_token: Option<String>,
    token_requests: usize,
    /// Keys published after the start (a rotation), beside the first one.
    rotated_keys: Vec<Value>,
    jwks_requests: usize,
}

#[derive(Clone)]
struct FakeState {
    issuer: String,
    jwks: Value,
    shared: Arc<Mutex<Shared>>,
}

/// The hostile provider, listening on a random port until dropped.
pub struct FakeProvider {
    /// Its issuer (`http://127.0.0.1:<port>`).
    pub issuer: String,
    /// The key its JWKS publishes.
    pub key: SigningKey,
    shared: Arc<Mutex<Shared>>,
    task: JoinHandle<()>,
}

impl FakeProvider {
    /// Starts the provider.
    pub async fn start() -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port");
        let issuer = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("local address").port()
        );
        let key = SigningKey::new(1, "fake-provider-key");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = FakeState {
            issuer: issuer.clone(),
            jwks: json!({ "keys": [key.public_jwk()] }),
            shared: shared.clone(),
        };
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeProvider {
            issuer,
            key,
            shared,
            task,
        }
    }

    /// The ID token the token endpoint returns to the next code exchange.
    pub fn answer_next_exchange_with(&self, id_token: String) {
        self.shared.lock().expect("lock").next_id_token = Some(id_token);
    }

    /// Publishes another key beside the first (the provider rotates its keys).
    pub fn publish(&self, key: &SigningKey) {
        self.shared
            .lock()
            .expect("lock")
            .rotated_keys
            .push(key.public_jwk());
    }

    /// How many times the key set was fetched so far.
    pub fn jwks_requests(&self) -> usize {
        self.shared.lock().expect("lock").jwks_requests
    }

    /// How many code exchanges the server made so far.
    pub fn token_requests(&self) -> usize {
        self.shared.lock().expect("lock").token_requests
    }

    /// Valid ID token claims for `client_id` and `nonce`: a platform engineer "mallory".
    pub fn claims(&self, client_id: &str, nonce: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.issuer,
            "aud": client_id,
            "sub": "mallory",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Mallory Forger",
            "email": "mallory@example.test",
            "groups": ["platform-engineers"],
        })
    }

    /// Signs claims with the published key.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(&self.key.header(), claims)
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(s): State<FakeState>) -> impl IntoResponse {
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/session/end"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "groups"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(State(s): State<FakeState>) -> impl IntoResponse {
    let mut shared = s.shared.lock().expect("lock");
    shared.jwks_requests += 1;
    let mut keys = s.jwks["keys"].as_array().cloned().unwrap_or_default();
    keys.extend(shared.rotated_keys.iter().cloned());
    Json(json!({ "keys": keys }))
}

async fn token(State(s): State<FakeState>) -> axum::response::Response {
    let mut shared = s.shared.lock().expect("lock");
    shared.token_requests += 1;
    match shared.next_id_token.take() {
        Some(id_token) => Json(json!({
            "access_token": "fake-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }))
        .into_response(),
        None => (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
            .into_response(),
    }
}
