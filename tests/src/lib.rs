//! Helpers for Demarc's integration tests (`tests/tests/*.rs`).
//!
//! Every test gets a real server ([`TestApp`]): the production router from the `server` crate,
//! on random loopback ports, with its own fresh PostgreSQL database ([`TestDb`]) and a real
//! OpenID provider ([`Provider`], `dev/oidc/provider.mjs`, started once per test binary) with a
//! client registered dynamically for that server. People log in the way a browser does, through
//! the provider's login form ([`TestApp::login`]); automation uses API tokens
//! ([`TestApp::api_token`]) or the provider's client credentials grant
//! ([`TestApp::client_credentials_token`]). Login attacks use a hostile provider
//! ([`FakeProvider`]) that hands out crafted ID tokens. Browser tests drive headless Chromium
//! through chromedriver ([`Chromedriver`]).
//!
//! Tests run in parallel, each with its own server. One thing is shared by the process: Leptos
//! stops every page from loading data while it generates a route list, so starting a server and
//! serving a page must not overlap; [`app::ROUTE_GENERATION`] keeps them apart.
//!
//! # Running
//!
//! `scripts/test` runs everything. By hand (PostgreSQL on 127.0.0.1:5432, `npm ci` done in
//! `dev/oidc`, and `cargo leptos build` done for the browser test):
//!
//! ```sh
//! RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=demarc cargo test -p tests
//! ```
//!
//! Environment: `DEMARC_TEST_DATABASE_URL` (an admin URL used to create and drop the per-test
//! databases, default `postgres://postgres@127.0.0.1:5432/postgres`), `DEMARC_TEST_KEEP_DB=1`
//! (keep the databases for a post-mortem; a later run drops test databases older than an hour),
//! `RUST_LOG` (show the server's logs).

pub mod app;
pub mod browser;
pub mod db;
pub mod fake_provider;
pub mod kube;
pub mod provider;

use std::path::PathBuf;
use std::sync::Once;

pub use app::{Options, Replica, Seed, TestApp, generate_route_list, location};
pub use browser::Chromedriver;
pub use db::TestDb;
pub use fake_provider::FakeProvider;
pub use provider::Provider;

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// A loopback port that was free a moment ago (for programs that need a port number given to
/// them, like chromedriver).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("address").port()
}

/// Sends the server's logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var("RUST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
    });
}

/// Reads a response as JSON with its status (a body that is not JSON comes back as a JSON string).
pub async fn json(response: reqwest::Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}
