//! The development OpenID provider (`dev/oidc/provider.mjs`, a real `oidc-provider`), started
//! once per test binary, and what tests ask of it: client registration, client credentials.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::Duration;

use serde::Deserialize;

use crate::workspace_root;

/// Secret of the provider's built-in `demarc-automation` client (client credentials).
pub const AUTOMATION_CLIENT_ID: &str = "demarc-automation";
/// Its default secret (see dev/oidc/README.md).
pub const AUTOMATION_SECRET: &str = "demarc-automation-secret";
/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "demo";

/// The running provider. It lives as long as the test process: its stdin is a pipe held here,
/// and it exits when that pipe closes (`OIDC_EXIT_ON_STDIN_EOF=1`), i.e. when the test process
/// ends, however it ends.
pub struct Provider {
    /// The issuer URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub issuer: String,
    /// Its stderr, for diagnosing a failed login.
    pub log_file: std::path::PathBuf,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

/// Endpoints from the provider's discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub registration_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
}

/// A client registered dynamically for one test server.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: String,
}

static PROVIDER: OnceLock<Provider> = OnceLock::new();

impl Provider {
    /// The provider of this test process, started on first use.
    pub fn get() -> &'static Provider {
        PROVIDER.get_or_init(Provider::start)
    }

    /// Starts the provider; a start that does not get ready is retried once with a new process
    /// (on a loaded machine Node.js has been seen to stall before listening).
    fn start() -> Provider {
        match Provider::try_start() {
            Ok(provider) => provider,
            Err(first) => {
                eprintln!("{first}\nstarting the OpenID provider again");
                Provider::try_start().unwrap_or_else(|again| panic!("{again}"))
            }
        }
    }

    fn try_start() -> Result<Provider, String> {
        let dir = workspace_root().join("dev/oidc");
        if !dir.join("node_modules/oidc-provider").is_dir() {
            panic!(
                "the development OpenID provider's npm packages are missing: run `npm ci` in {} \
                 (scripts/test does it)",
                dir.display()
            );
        }
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let start = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log_file = std::env::temp_dir().join(format!(
            "demarc-test-oidc-{}-{start}.log",
            std::process::id()
        ));
        let stderr = std::fs::File::create(&log_file).expect("create the provider's log file");
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .current_dir(&dir)
            .env("OIDC_PORT", "0")
            .env("OIDC_HOST", "127.0.0.1")
            .env_remove("OIDC_ISSUER")
            .env_remove("OIDC_KEY_FILE")
            .env("OIDC_EXIT_ON_STDIN_EOF", "1")
            .env("OIDC_QUIET", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `node` for the OpenID provider (is Node.js installed?): {e}")
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(issuer) = line.strip_prefix("oidc-provider ready at ") {
                    let _ = tx.send(issuer.trim().to_owned());
                }
            }
        });
        let issuer = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(issuer) => issuer,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_file).unwrap_or_default();
                return Err(format!(
                    "the OpenID provider did not print its ready line within 30 s; its stderr:\n{log}"
                ));
            }
        };
        Ok(Provider {
            issuer,
            log_file,
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        })
    }

    /// The provider's discovery document.
    pub async fn discovery(&self) -> Discovery {
        discover(&self.issuer).await
    }

    /// Registers a web client for a test server listening on `app_base`
    /// (`http://127.0.0.1:<port>`), with its callback and post-logout URIs.
    pub async fn register_client(&self, app_base: &str) -> RegisteredClient {
        let discovery = self.discovery().await;
        let endpoint = discovery
            .registration_endpoint
            .expect("the provider offers dynamic registration");
        let body = serde_json::json!({
            "client_name": "Demarc under test",
            "redirect_uris": [format!("{app_base}/auth/callback")],
            "post_logout_redirect_uris": [format!("{app_base}/")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        });
        let response = http()
            .post(&endpoint)
            .json(&body)
            .send()
            .await
            .expect("registration request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "client registration failed with {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("registration answer {text}: {e}"))
    }

    /// An access token for the API from the `demarc-automation` client (client credentials):
    /// a JWT with `aud` = `demarc-api` and the groups `platform-engineers`. `scope` limits it
    /// (e.g. `demarc:read`); `None` grants every API scope.
    pub async fn client_credentials_token(&self, scope: Option<&str>) -> String {
        let discovery = self.discovery().await;
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = http()
            .post(&discovery.token_endpoint)
            .basic_auth(AUTOMATION_CLIENT_ID, Some(AUTOMATION_SECRET))
            .form(&form)
            .send()
            .await
            .expect("token request");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("token answer is JSON");
        assert!(
            status.is_success(),
            "client credentials grant failed with {status}: {body}"
        );
        body["access_token"]
            .as_str()
            .expect("access_token in the answer")
            .to_owned()
    }
}

/// Reads `<issuer>/.well-known/openid-configuration`.
pub async fn discover(issuer: &str) -> Discovery {
    let url = format!("{issuer}/.well-known/openid-configuration");
    http()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("discovery document at {url}: {e}"))
}

/// A plain HTTP client with a timeout, for talking to the provider.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(crate::app::REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client")
}
