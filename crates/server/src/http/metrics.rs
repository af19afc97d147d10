//! Prometheus metrics: request counts and latency histograms per route, database pool
//! gauges, audit backlog, notification deliveries by status and attempts by outcome
//! (`notify.rs`). Rendered at `/metrics`.

use crate::http::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How often recorded histogram values are folded into their buckets.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The process-wide recorder (installed once; every app in the process shares it).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &LATENCY_BUCKETS,
                )
                .expect("static bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding, tests): keep ours local then.
            let _ = metrics::set_global_recorder(recorder);
            // Histograms keep every recorded value until they are folded into their buckets,
            // which only upkeep (or a scrape) does: without it a server nobody scrapes grew
            // by ~24 bytes per request (1.1 MiB per 47,000 creates, without end).
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP);
                        upkeep.run_upkeep();
                    }
                });
            handle
        })
        .clone()
}

/// Middleware: counts and times every request by method, route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics` (no token: scrape from inside the trusted network only).
pub async fn render(State(state): State<AppState>) -> Response {
    let pool = state.store.pool_stats();
    let backend = state.store.backend();
    metrics::gauge!("db_pool_connections", "backend" => backend, "state" => "open")
        .set(f64::from(pool.size));
    metrics::gauge!("db_pool_connections", "backend" => backend, "state" => "idle")
        .set(f64::from(pool.idle));
    metrics::gauge!("db_pool_max_connections", "backend" => backend).set(f64::from(pool.max));
    if let Ok(n) = state.store.unsealed_audit_count().await {
        metrics::gauge!("audit_unsealed_entries").set(n as f64);
    }
    if let Ok(c) = state.store.delivery_counts().await {
        for (status, n) in [
            ("pending", c.pending),
            ("sent", c.sent),
            ("failed", c.failed),
            ("dead", c.dead),
        ] {
            metrics::gauge!("notification_deliveries", "status" => status).set(n as f64);
        }
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    /// The recorder comes with its upkeep: a thread that folds recorded histogram values
    /// into buckets, so memory does not grow with every request when nobody scrapes.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_recorder_runs_its_upkeep() {
        let _ = super::handle();
        let names = || -> Vec<String> {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|n| n.trim().to_string())
                .collect()
        };
        // A new thread names itself once it runs: give it a moment.
        for _ in 0..200 {
            if names().iter().any(|n| n == "metrics-upkeep") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no upkeep thread among {:?}", names());
    }
}
