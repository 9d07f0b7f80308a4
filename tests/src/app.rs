//! A real Demarc server on random ports, backed by its own database and an OpenID provider.

use std::net::SocketAddr;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, LOCATION, ORIGIN};
use serde_json::{Value, json};
use server::config::{Config, GroupMapping, OidcConfig, Secret};
use server::state::AppState;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::db::TestDb;
use crate::provider::{DEMO_PASSWORD, Provider};
use crate::{init_tracing, workspace_root};

/// How long a test waits for one HTTP answer: a hung handler fails the test instead of
/// hanging the suite.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Group-to-role mapping of every test server (the production default).
pub const ROLE_GROUPS: &str =
    "demarc-admins=admin,platform-engineers=platform_engineer,auditors=auditor";

/// A running server. Dropping it stops the server and drops its database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`: pages, server functions, REST API, login.
    pub base: String,
    /// `http://127.0.0.1:<port>`: probes and metrics.
    pub ops: String,
    /// The OpenID provider's issuer this server trusts.
    pub issuer: String,
    /// The server's client id at that provider.
    pub client_id: String,
    /// The server's own pool (for direct checks in the database).
    pub pool: PgPool,
    /// The state the router was built with.
    pub state: AppState,
    tasks: Vec<JoinHandle<()>>,
    /// The job worker and scheduler (restartable, see [`TestApp::restart_workers`]).
    workers: Vec<JoinHandle<()>>,
    // Declared last: dropped after the server tasks were aborted.
    db: TestDb,
}

/// What a test changes about a server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A fixed clock at this instant (moved with `app.state.clock.set/advance`) instead of the
    /// real one: every rule and the job worker read it.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// The SMTP server maintenance notices go to (`smtp://127.0.0.1:<port>`).
    pub smtp_url: Option<String>,
    /// Serve as a deployment behind HTTPS would (Secure cookies, HSTS).
    pub secure_cookies: bool,
}

/// Ids of the demo data set (see `server::demo`), loaded by [`TestApp::seed`].
#[derive(Debug, Clone)]
pub struct Seed {
    pub payments: Uuid,
    pub search: Uuid,
    pub platform_team: Uuid,
    pub core: Uuid,
    pub staging: Uuid,
    pub production: Uuid,
    /// Applications of team payments.
    pub checkout: Uuid,
    pub ledger: Uuid,
    /// Applications of team search.
    pub search_api: Uuid,
    pub indexer: Uuid,
}

impl TestApp {
    /// A server trusting the development OpenID provider (started once per test binary), with a
    /// client registered for it alone.
    pub async fn spawn() -> TestApp {
        init_tracing();
        let provider = Provider::get();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the app's port");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        );
        let client = provider.register_client(&base).await;
        TestApp::start(
            listener,
            &provider.issuer,
            &client.client_id,
            &client.client_secret,
            Options::default(),
        )
        .await
    }

    /// Like [`TestApp::spawn`], with a fixed clock or an SMTP server.
    pub async fn spawn_with(options: Options) -> TestApp {
        init_tracing();
        let provider = Provider::get();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the app's port");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        );
        let client = provider.register_client(&base).await;
        TestApp::start(
            listener,
            &provider.issuer,
            &client.client_id,
            &client.client_secret,
            options,
        )
        .await
    }

    /// Stops this server's job worker and scheduler and starts `replicas` new ones, as a restart
    /// (or a scale-out) of Demarc would: whatever they know comes from the database.
    pub fn restart_workers(&mut self, replicas: usize) {
        for w in self.workers.drain(..) {
            w.abort();
        }
        for _ in 0..replicas {
            self.workers
                .extend(server::worker::spawn(self.state.clone()).into_tasks());
        }
    }

    /// A server trusting another provider (e.g. a [`crate::FakeProvider`]).
    pub async fn spawn_with_issuer(issuer: &str, client_id: &str, client_secret: &str) -> TestApp {
        init_tracing();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the app's port");
        TestApp::start(
            listener,
            issuer,
            client_id,
            client_secret,
            Options::default(),
        )
        .await
    }

    async fn start(
        listener: TcpListener,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        options: Options,
    ) -> TestApp {
        let addr = listener.local_addr().expect("address");
        let ops_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the ops port");
        let ops_addr = ops_listener.local_addr().expect("address");
        let db = TestDb::create().await;
        let mut config = config(&db.url, addr, ops_addr, issuer, client_id, client_secret);
        config.mailer.smtp_url = options.smtp_url;
        config.cookie_secure = options.secure_cookies;
        let mut state = server::build_state(config, leptos_options(addr))
            .await
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        if let Some(at) = options.clock {
            state.clock = domain::clock::Clock::fixed(at);
        }
        let pool = state.pool.clone();
        let app = {
            let _generating = ROUTE_GENERATION.write().await;
            server::router(state.clone())
        };
        let app = app.layer(axum::middleware::from_fn(outside_route_generation));
        let ops = server::ops::router(state.clone());
        let workers = server::worker::spawn(state.clone()).into_tasks();
        let tasks = Vec::from([
            tokio::spawn(async move {
                let _ = axum::serve(listener, app.into_make_service()).await;
            }),
            tokio::spawn(async move {
                let _ = axum::serve(ops_listener, ops).await;
            }),
        ]);
        TestApp {
            base: format!("http://{addr}"),
            ops: format!("http://{ops_addr}"),
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            pool,
            state,
            tasks,
            workers,
            db,
        }
    }

    /// The name of this server's database.
    pub fn database_name(&self) -> &str {
        &self.db.name
    }

    /// An absolute URL on the app.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like HTTP client: a cookie jar, and redirects are not followed (tests look at
    /// them). Nobody is signed in.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("HTTP client")
    }

    /// A client that sends `Authorization: Bearer <token>` and nothing else (no cookies).
    pub fn bearer(&self, token: &str) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header value"),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("HTTP client")
    }

    /// The `Origin` header value of the app's own pages.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// Walks the real login: `/auth/login` -> the provider -> its login form (posted with
    /// `user` / "demo") -> consent -> back towards the app. Returns the callback URL (with
    /// `code`, `state`, `iss`) *without* visiting it.
    pub async fn login_until_callback(&self, client: &reqwest::Client, user: &str) -> url::Url {
        self.login_from(client, "/auth/login?next=%2F", user).await
    }

    /// Like [`TestApp::login_until_callback`], starting at `start` (a path on the app that
    /// redirects to the provider, such as `/auth/login?next=...`).
    pub async fn login_from(&self, client: &reqwest::Client, start: &str, user: &str) -> url::Url {
        let start = url::Url::parse(&self.url(start)).expect("URL");
        let response = client
            .get(start.clone())
            .send()
            .await
            .expect("GET /auth/login");
        assert!(
            response.status().is_redirection(),
            "GET {start} answered {} instead of a redirect to the provider",
            response.status()
        );
        let url = location(&start, &response);
        self.login_through(client, url, user).await
    }

    /// Walks a login from the provider's authorization URL `url` (as Demarc's redirect gave
    /// it, or as a test changed it) through the provider's login form, up to the callback URL.
    pub async fn login_through(
        &self,
        client: &reqwest::Client,
        mut url: url::Url,
        user: &str,
    ) -> url::Url {
        let callback = self.url("/auth/callback");
        for _ in 0..20 {
            if url.as_str().starts_with(&callback) {
                return url;
            }
            let response = client
                .get(url.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let status = response.status();
            if status.is_redirection() {
                url = location(&url, &response);
                continue;
            }
            if status == StatusCode::OK && url.path().starts_with("/interaction/") {
                let form = [("login", user), ("password", DEMO_PASSWORD)];
                let response = client
                    .post(url.clone())
                    .form(&form)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("POST {url}: {e}"));
                let status = response.status();
                if !status.is_redirection() {
                    let body = response.text().await.unwrap_or_default();
                    panic!("logging in as {user} at {url} answered {status}: {body}");
                }
                url = location(&url, &response);
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            panic!(
                "the login of {user} stopped at {url} with {status}: {body}\n(provider log: {})",
                Provider::get().log_file.display()
            );
        }
        panic!(
            "the login of {user} did not come back to {callback} within 20 redirects (last: {url})"
        );
    }

    /// A client signed in as `user` (a demo user: admin, pat, alice, bob, audrey, nobody)
    /// through the real provider's login form.
    pub async fn login(&self, user: &str) -> reqwest::Client {
        let client = self.client();
        let callback = self.login_until_callback(&client, user).await;
        let response = client
            .get(callback.clone())
            .send()
            .await
            .expect("GET /auth/callback");
        let status = response.status();
        if !status.is_redirection() {
            let body = response.text().await.unwrap_or_default();
            panic!("the callback for {user} answered {status} instead of a redirect: {body}");
        }
        client
    }

    /// Logs in as `user` and creates an API token with `scope` (read or write); returns the
    /// secret. Only platform engineers and admins may create tokens.
    pub async fn api_token_with_scope(&self, user: &str, scope: &str) -> String {
        let client = self.login(user).await;
        let response = client
            .post(self.url("/api/v1/tokens"))
            .header(ORIGIN, self.origin())
            .json(&json!({ "name": format!("{user} {scope} token"), "scope": scope, "expires_in_days": 30 }))
            .send()
            .await
            .expect("POST /api/v1/tokens");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(
            status,
            StatusCode::CREATED,
            "creating a token as {user}: {body}"
        );
        body["secret"]
            .as_str()
            .expect("secret in the answer")
            .to_owned()
    }

    /// A write token of `user` (see [`TestApp::api_token_with_scope`]).
    pub async fn api_token(&self, user: &str) -> String {
        self.api_token_with_scope(user, "write").await
    }

    /// An access token from the provider's token endpoint for the `demarc-automation` client.
    pub async fn client_credentials_token(&self, scope: Option<&str>) -> String {
        Provider::get().client_credentials_token(scope).await
    }

    /// Loads the demo data set (teams payments/search/platform, platform core with staging and
    /// production, four applications) and returns their ids.
    pub async fn seed(&self) -> Seed {
        server::demo::load(&self.pool)
            .await
            .expect("demo data loads");
        let id = |table: &'static str, slug: &'static str| {
            let pool = self.pool.clone();
            async move {
                sqlx::query_scalar::<_, Uuid>(&format!("SELECT id FROM {table} WHERE slug = $1"))
                    .bind(slug)
                    .fetch_one(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{table} {slug}: {e}"))
            }
        };
        Seed {
            payments: id("teams", "payments").await,
            search: id("teams", "search").await,
            platform_team: id("teams", "platform").await,
            core: id("platforms", "core").await,
            staging: id("environments", "staging").await,
            production: id("environments", "production").await,
            checkout: id("applications", "checkout").await,
            ledger: id("applications", "ledger").await,
            search_api: id("applications", "search-api").await,
            indexer: id("applications", "indexer").await,
        }
    }

    /// The current version (ETag value) of a row, read from the database.
    pub async fn version_of(&self, table: &str, id: Uuid) -> i32 {
        sqlx::query_scalar::<_, i32>(&format!("SELECT version FROM {table} WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("version of {table} {id}: {e}"))
    }
}

/// A second Demarc process on a [`TestApp`]'s database (see [`TestApp::replica`]).
pub struct Replica {
    /// `http://127.0.0.1:<port>`: this replica's own address.
    pub base: String,
    pub state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl Replica {
    /// An absolute URL on this replica.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TestApp {
    /// A second Demarc process on this server's database, as a second replica behind a load
    /// balancer: the same configuration (public URL, OpenID client, secret key), its own port,
    /// pool, caches and job worker, nothing shared with the first but PostgreSQL.
    pub async fn replica(&self) -> Replica {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the replica's port");
        let addr = listener.local_addr().expect("address");
        let mut config = (*self.state.config).clone();
        config.listen = addr;
        let state = server::build_state(config, leptos_options(addr))
            .await
            .unwrap_or_else(|e| panic!("the replica did not start: {e}"));
        let app = {
            let _generating = ROUTE_GENERATION.write().await;
            server::router(state.clone())
        };
        let app = app.layer(axum::middleware::from_fn(outside_route_generation));
        let mut tasks = server::worker::spawn(state.clone()).into_tasks();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service()).await;
        }));
        Replica {
            base: format!("http://{addr}"),
            state,
            tasks,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for task in self.tasks.iter().chain(&self.workers) {
            task.abort();
        }
    }
}

/// Leptos suppresses resource loading in the whole process while it generates a route list
/// (`leptos_server`'s `IS_SUPPRESSING_RESOURCE_LOAD`, set by `generate_route_list`, which
/// `server::router` calls): a page rendered meanwhile, on any thread, waits forever for its data.
/// A deployment generates its routes once, before it serves; tests start servers while other
/// tests' servers are serving. So route generation takes this lock for writing and every request
/// to a test server holds it for reading: the two never overlap.
pub static ROUTE_GENERATION: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

async fn outside_route_generation(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let _serving = ROUTE_GENERATION.read().await;
    next.run(request).await
}

/// The server's router for `state`, built and served like a test server's (see
/// [`ROUTE_GENERATION`]): for tests that serve it themselves.
pub async fn build_router(state: &AppState) -> axum::Router {
    let app = {
        let _generating = ROUTE_GENERATION.write().await;
        server::router(state.clone())
    };
    app.layer(axum::middleware::from_fn(outside_route_generation))
}

/// The app's page routes, generated while no test server renders a page (see
/// [`ROUTE_GENERATION`]).
pub async fn generate_route_list() -> Vec<leptos_axum::AxumRouteListing> {
    let _generating = ROUTE_GENERATION.write().await;
    leptos_axum::generate_route_list(app::App)
}

/// The absolute target of a redirect.
pub fn location(current: &url::Url, response: &reqwest::Response) -> url::Url {
    let value = response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| {
            panic!(
                "{} from {current} has no Location header",
                response.status()
            )
        })
        .to_str()
        .expect("Location is ASCII");
    current
        .join(value)
        .unwrap_or_else(|e| panic!("Location `{value}`: {e}"))
}

fn config(
    database_url: &str,
    listen: SocketAddr,
    ops_listen: SocketAddr,
    issuer: &str,
    client_id: &str,
    client_secret: &str,
) -> Config {
    Config {
        database_url: Secret::new(database_url),
        database_max_connections: 5,
        listen,
        ops_listen,
        public_url: url::Url::parse(&format!("http://{listen}")).expect("URL"),
        oidc: OidcConfig {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: Secret::new(client_secret),
            api_audience: "demarc-api".into(),
        },
        groups: GroupMapping {
            claim: "groups".into(),
            roles: GroupMapping::parse_roles(ROLE_GROUPS).expect("valid role groups"),
            team_prefix: "team-".into(),
        },
        cookie_secure: false,
        session_idle_minutes: 60,
        session_absolute_hours: 12,
        demo_data: false,
        shutdown_grace_seconds: 1,
        secret_key: Some(Secret::new("test-secret-key-0123456789abcdef0123456789")),
        worker: true,
        worker_poll_ms: 100,
        mailer: domain::calendar::notices::Mailer {
            smtp_url: None,
            from: "Demarc <demarc@example.test>".into(),
        },
        // The tests' webhook receivers listen on loopback; nothing else private is allowed.
        webhook_egress: std::sync::Arc::new(
            domain::egress::Egress::parse("127.0.0.0/8").expect("a network"),
        ),
    }
}

/// Leptos options as cargo-leptos would give them: the site (built by `cargo leptos build`)
/// under `<workspace>/target/site`.
pub fn leptos_options(addr: SocketAddr) -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("demarc")
        .site_root(
            workspace_root()
                .join("target/site")
                .to_string_lossy()
                .into_owned(),
        )
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}
