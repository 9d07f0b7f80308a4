//! Probes and metrics, served on their own port so they never mix with user traffic.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// The process-wide Prometheus recorder (installed once, even when tests start many servers).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .expect("valid buckets")
                .install_recorder()
                .expect("one metrics recorder per process")
        })
        .clone()
}

/// The ops router: liveness, readiness, metrics.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

/// Ready when the database answers and we are not shutting down.
async fn ready(State(state): State<AppState>) -> Response {
    if state.shutting_down.is_set() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    // A database that does not answer (a dropped network, not a refused connection) must not
    // hold the probe until the orchestrator's own timeout: one second is an answer.
    let answered = tokio::time::timeout(Duration::from_secs(1), domain::db::ping(&state.pool));
    if answered.await.unwrap_or(false) {
        "ready".into_response()
    } else if pool_busy(&state) {
        // Every connection is open and in use: the database answers, the replica is busy. Taking
        // busy replicas out of the load balancer would pile their load onto the others.
        "ready (every database connection in use)".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// True when the pool has opened all its connections and none is idle.
fn pool_busy(state: &AppState) -> bool {
    state.pool.size() >= state.config.database_max_connections && state.pool.num_idle() == 0
}

async fn render_metrics(State(state): State<AppState>) -> String {
    metrics::gauge!("db_pool_connections").set(f64::from(state.pool.size()));
    metrics::gauge!("db_pool_idle_connections").set(state.pool.num_idle() as f64);
    metrics::gauge!("db_pool_max_connections")
        .set(f64::from(state.config.database_max_connections));
    // The job queue, shared by every replica (so every replica reports the same figures): what
    // waits, runs, retries and was given up, per kind. A scrape must answer even when the
    // database does not: then the queue's figures are left out (the last ones stay).
    let now = state.clock.now();
    let stats = tokio::time::timeout(
        Duration::from_secs(1),
        domain::jobs::stats(&state.pool, now),
    );
    match stats.await {
        Ok(Ok(kinds)) => {
            // A kind whose jobs are all done drops out of the answer: report it as zeros.
            static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
                std::sync::Mutex::new(std::collections::BTreeSet::new());
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            let gone: Vec<String> = seen
                .iter()
                .filter(|s| kinds.iter().all(|k| k.kind != **s))
                .cloned()
                .collect();
            let zeros = gone.into_iter().map(|kind| domain::jobs::QueueStats {
                kind,
                ..Default::default()
            });
            seen.extend(kinds.iter().map(|k| k.kind.clone()));
            drop(seen);
            for k in kinds.into_iter().chain(zeros) {
                for (s, n) in [
                    ("due", k.due),
                    ("running", k.running),
                    ("retrying", k.retrying),
                    ("failed", k.failed),
                ] {
                    metrics::gauge!("demarc_jobs", "kind" => k.kind.clone(), "state" => s)
                        .set(n as f64);
                }
            }
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the job queue for the metrics"),
        Err(_) => tracing::warn!("the job queue did not answer the metrics in time"),
    }
    metrics_handle().render()
}

/// The method as a metrics label: the standard ones by name, anything else as `other`, so a
/// client inventing method names cannot grow the metrics without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Counts requests and records their latency by route template (never by raw path, which
/// could carry identifiers).
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/pkg/") {
                "/pkg/*".into()
            } else {
                "page".into()
            }
        });
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let invented = Method::from_bytes(b"Z12345").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(method_label(&Method::TRACE), "other");
    }
}
