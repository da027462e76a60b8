//! The admin listener (default `127.0.0.1:10254`, ingress-nginx's health/metrics port):
//!
//! - `GET /metrics`: [`telemetry::Metrics::render`] in the Prometheus text format;
//! - `GET /healthz`: `200 ok` while the process serves;
//! - `GET /readyz`: `200 ok` once a model is loaded ([`AdminState::set_ready`]), else
//!   `503 not ready`.
//!
//! Anything else is a 404. The listener is meant for localhost or a cluster-internal port;
//! it carries no authentication.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use telemetry::Metrics;
use tokio::net::TcpListener;

/// The default admin address (`--admin`).
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:10254";

/// Shared state of the admin endpoints. Cloning shares it.
#[derive(Debug, Clone)]
pub struct AdminState {
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
}

impl AdminState {
    /// State serving `metrics`, not ready yet.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            ready: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Marks whether a model is loaded (`/readyz` answers 200 when true).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Whether `/readyz` currently answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The metrics served on `/metrics`.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
}

/// The admin router (for embedding or testing without a socket).
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// Serves the admin endpoints on `listener` until `shutdown` completes, then finishes
/// in-flight requests and returns.
pub async fn serve_admin<F>(
    listener: TcpListener,
    state: AdminState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics(State(state): State<AdminState>) -> Response {
    let body = state.metrics.render();
    ([(header::CONTENT_TYPE, state.metrics.content_type())], body).into_response()
}

async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
}

async fn readyz(State(state): State<AdminState>) -> Response {
    if state.is_ready() {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not ready",
        )
            .into_response()
    }
}
