//! The Demarc server: configuration, routing (pages, server functions, REST, OpenAPI), login and
//! sessions, probes and metrics. A library with a thin `main.rs`, so tests build the real router.
//!
//! Every request passes, in order: request id -> tracing -> metrics -> session -> caller
//! resolution (session, API token or provider access token) + CSRF check -> the route. Pages add
//! the page guard; REST handlers and server functions call the domain, which authorizes.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod forms;
pub mod ops;
pub mod pages;
pub mod sessions;
pub mod state;
pub mod statement;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use app::{App, shell};
use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::postgres::PgPoolOptions;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::{Expiry, SessionManagerLayer};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::oidc::Oidc;
use crate::config::Config;
use crate::state::{AppState, ShutdownFlag};
use domain::clock::Clock;
use domain::crypto::SecretBox;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Connects to the database and brings its schema up to date (migrations hold a lock, so
/// replicas starting together apply each one once).
pub async fn connect_and_migrate(
    database_url: &str,
    max_connections: u32,
) -> Result<sqlx::PgPool, String> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(database_url)
        .await
        .map_err(|e| format!("cannot connect to the database (DATABASE_URL): {e}"))?;
    domain::db::migrate(&pool)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    Ok(pool)
}

/// Connects to the database, runs migrations, discovers the OpenID provider.
pub async fn build_state(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<AppState, String> {
    let pool = connect_and_migrate(
        config.database_url.expose(),
        config.database_max_connections,
    )
    .await?;
    let oidc = Oidc::discover(&config.oidc, &config.redirect_uri(), &config.groups.claim)
        .await
        .map_err(|e| {
            format!(
                "OpenID provider at {} (DEMARC_OIDC_ISSUER): {e}",
                config.oidc.issuer
            )
        })?;
    let secrets = match &config.secret_key {
        Some(key) => SecretBox::new(key.expose())?,
        None => {
            tracing::warn!(
                "DEMARC_SECRET_KEY is not set: cluster credentials and webhooks cannot be stored"
            );
            SecretBox::disabled()
        }
    };
    let cache = Arc::default();
    // Keeps the cache's data version current from the database's notifications; stops when the
    // state is dropped.
    domain::cache::follow_changes(&pool, &cache);
    Ok(AppState {
        pool,
        config: Arc::new(config),
        oidc: Arc::new(oidc),
        leptos_options,
        cache,
        shutting_down: Arc::new(ShutdownFlag::default()),
        secrets: Arc::new(secrets),
        clock: Clock::real(),
    })
}

/// The public router: pages, server functions, REST API, OpenAPI, login.
///
/// Build it once, before serving: it walks the Leptos routes (`generate_route_list`), which sets a
/// process-wide flag that suspends resource loading while it runs, so building a router while
/// another one serves pages in the same process can stall those pages (the tests serialise it).
pub fn router(state: AppState) -> Router {
    // Install the metrics recorder before the first request, so every request is counted.
    ops::metrics_handle();
    let leptos_options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    let pool = state.pool.clone();
    let cache = state.cache.clone();
    let secrets = state.secrets.clone();
    let clock = state.clock.clone();
    let egress = state.config.webhook_egress.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(pool.clone());
                provide_context(cache.clone());
                provide_context(secrets.clone());
                provide_context(clock.clone());
                provide_context(egress.clone());
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .route_layer(axum::middleware::from_fn(pages::guard));
    let (api, openapi) = api::router();
    let store = sessions::PgSessionStore::new(state.pool.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("demarc_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(CookieDuration::minutes(
            state.config.session_idle_minutes,
        )));
    let hsts = state.config.cookie_secure;
    let mut router = Router::new();
    for route in other_routes() {
        router = router.route(route.path, route.handler);
    }
    router
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi))
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(api::error::json_routing_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::resolve_caller))
        .layer(sessions)
        // A bug that panics answers 500 (logged with a reference) instead of dropping the
        // connection; inside `track`, so the metrics count it.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            api::error::panic_response,
        ))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn(move |req, next| {
            security_headers(hsts, req, next)
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                // The path only (query strings can carry secrets), and a feed's without its token.
                tracing::info_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()), request_id = %id)
            })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unusable_request_id))
        .with_state(state)
}

/// A route registered outside the three registries the authorization matrix reads (the Leptos
/// routes, the server functions, the OpenAPI document).
pub struct OtherRoute {
    pub method: axum::http::Method,
    pub path: &'static str,
    handler: axum::routing::MethodRouter<AppState>,
}

/// The routes outside the registries, in one list: the router registers exactly these, and the
/// authorization matrix test checks that it has an entry for each.
pub fn other_routes() -> Vec<OtherRoute> {
    use axum::http::Method;
    let route = |method: Method, path, handler| OtherRoute {
        method,
        path,
        handler,
    };
    vec![
        route(Method::GET, "/auth/login", get(auth::web::login)),
        route(Method::GET, "/auth/callback", get(auth::web::callback)),
        route(Method::POST, "/auth/logout", post(auth::web::logout)),
        // Calendar clients cannot log in: the secret token in the URL is the credential.
        route(Method::GET, "/ics/{file}", get(api::calendar::feed)),
        // A browser form with a file (an evidence file with its attestation); 10 MiB and the
        // form's few fields.
        route(
            Method::POST,
            forms::ATTEST_WITH_FILE,
            post(forms::attest_with_file).layer(axum::extract::DefaultBodyLimit::max(
                domain::golive::store::MAX_FILE_BYTES + 64 * 1024,
            )),
        ),
        // A server-rendered document outside the Leptos app, behind the pages' guard.
        route(
            Method::GET,
            "/platforms/{id}/scope/statement",
            get(statement::statement).route_layer(axum::middleware::from_fn(pages::guard)),
        ),
    ]
}

/// Headers on every response: no framing by other sites, no content sniffing, no referrer sent
/// elsewhere (feed URLs carry their token), HSTS where cookies are Secure (served over HTTPS);
/// and everything but the static assets (pages, API answers, exports, evidence files, feeds)
/// is never stored by a cache. Static assets keep their own caching.
async fn security_headers(
    hsts: bool,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let mut response = next.run(req).await;
    // Everything but the static assets (style, script, wasm, images, fonts) is someone's data:
    // pages, API answers, exports, evidence files, feeds.
    let static_asset = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            [
                "text/css",
                "text/javascript",
                "application/javascript",
                "application/wasm",
                "image/",
                "font/",
            ]
            .iter()
            .any(|asset| t.starts_with(asset))
        });
    let headers = response.headers_mut();
    let defaults = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in defaults {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if hsts {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    if !static_asset {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// A calendar feed's path is its credential (`/ics/<token>.ics`): logs get the route instead.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/ics/") {
        "/ics/{file}"
    } else {
        path
    }
}

/// A proxy's `X-Request-Id` is kept, so one id follows a request through the logs of both; one
/// that could forge log lines or flood the audit log (not short, not plain characters) is dropped
/// and Demarc makes its own.
async fn drop_unusable_request_id<B>(mut req: Request<B>) -> Request<B> {
    let usable = req.headers().get(&REQUEST_ID).is_none_or(|id| {
        let id = id.as_bytes();
        !id.is_empty()
            && id.len() <= 64
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !usable {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

/// Leptos options from cargo-leptos' environment, with the address from our configuration.
pub fn leptos_options(config: &Config) -> Result<LeptosOptions, String> {
    let conf = get_configuration(None).map_err(|e| format!("Leptos configuration: {e}"))?;
    let mut options = conf.leptos_options;
    options.site_addr = config.listen;
    Ok(options)
}

/// Runs the server until SIGTERM or Ctrl-C, then drains (see [`serve_until`]).
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    let ops_listener = tokio::net::TcpListener::bind(state.config.ops_listen).await?;
    sessions::PgSessionStore::new(state.pool.clone()).spawn_cleanup();
    let worker = state.config.worker.then(|| worker::spawn(state.clone()));
    let app = router(state.clone());
    let served = serve_until(
        state.clone(),
        app,
        listener,
        ops_listener,
        shutdown_signal(),
    )
    .await;
    if let Some(worker) = worker {
        // The worker stopped claiming when the drain began; the job in hand gets a grace too.
        worker
            .finish(
                &state,
                Duration::from_secs(state.config.shutdown_grace_seconds),
            )
            .await;
    }
    served
}

/// Serves `app` and the ops router until `shutdown` completes, then drains: readiness fails at
/// once, no new connection is accepted, in-flight requests finish (up to the grace period), and
/// the function returns.
pub async fn serve_until(
    state: AppState,
    app: Router,
    listener: tokio::net::TcpListener,
    ops_listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = state.config.clone();
    tracing::info!(url = %config.public_url, ops = %config.ops_listen, "Demarc is listening");
    let flag = state.shutting_down.clone();
    let ops = axum::serve(ops_listener, ops::router(state));
    let ops_task = tokio::spawn(async move { ops.await });
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let (draining, mut drain_started) = tokio::sync::watch::channel(false);
    let begin_drain = async move {
        shutdown.await;
        tracing::info!("shutdown requested: draining");
        flag.set();
        let _ = draining.send(true);
    };
    let server = axum::serve(listener, app.into_make_service()).with_graceful_shutdown(begin_drain);
    let result = tokio::select! {
        r = server => r,
        _ = async {
            // Only starts counting once the drain begins.
            let _ = drain_started.wait_for(|started| *started).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("grace period over: exiting with requests still open");
            Ok(())
        }
    };
    ops_task.abort();
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
