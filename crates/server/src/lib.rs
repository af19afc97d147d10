//! Custos over HTTP. One folder per domain — `accounts`, `audit`, `cmdb`, `measures`,
//! `service_levels`, `incidents`, `problems`, `notifications` — each with its use cases
//! (`mod.rs`), its REST handlers (`api`) and its pages (`pages`); `http` holds what the
//! edges share: state, error mapping, extractors, authentication, the page layout, the
//! OpenAPI document, metrics and the background jobs.

pub mod accounts;
pub mod announcements;
pub mod audit;
pub mod cmdb;
pub mod http;
pub mod incidents;
pub mod measures;
pub mod notifications;
pub mod problems;
pub mod service_levels;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
pub use http::state::{AppState, ServerSettings};
use http::{api, error, jobs, metrics, page};
use std::future::Future;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;

/// Content-Security-Policy for every response: no scripts at all, styles and images only
/// from this origin (inline SVG QR codes are markup, not images).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi_json = api::render_openapi(&openapi);
    let limit = state.settings.body_limit;
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/api/v1/openapi.json",
            get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) },
            ),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .merge(page::router())
        .fallback(fallback)
        .layer(middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(limit))
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError::Internal("handler panicked".into()).into_response()
        }))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "database": state.store.backend()})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// Unknown API paths get problem+json; unknown pages an HTML 404.
async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        error::ApiError::NotFound("route".into()).into_response()
    } else {
        page::not_found().into_response()
    }
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may set its own, stricter-scoped policy (the standalone HTML report styles
    // itself inline); everything else gets the application's.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Serves until `shutdown` completes, then drains in-flight requests, stops the jobs and
/// seals the audit chain one last time.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let jobs = tokio::spawn(jobs::run(state.clone(), stop_rx));
    let result = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = jobs.await;
    result
}
