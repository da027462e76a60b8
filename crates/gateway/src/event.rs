//! One [`telemetry::AccessEvent`] per request, handed to an [`AccessSink`].

use std::sync::Arc;

pub use telemetry::AccessEvent;
use telemetry::{AccessLog, ConnectionGuard, Metrics};

/// Receives access events. Must not block: it runs on the request path.
pub trait AccessSink: Send + Sync + 'static {
    /// Records one finished request.
    fn record(&self, event: AccessEvent);

    /// Called once per accepted client connection (before TLS and PROXY protocol); the
    /// returned guard is held until the connection closes. The default counts nothing.
    fn connection_opened(&self) -> Option<ConnectionGuard> {
        None
    }
}

impl<F> AccessSink for F
where
    F: Fn(AccessEvent) + Send + Sync + 'static,
{
    fn record(&self, event: AccessEvent) {
        self(event);
    }
}

/// The usual sink: the JSON access log plus Prometheus metrics.
#[derive(Debug)]
pub struct TelemetrySink {
    log: AccessLog,
    metrics: Option<Arc<Metrics>>,
}

impl TelemetrySink {
    /// Writes to `log` and, when given, observes every event in `metrics`.
    pub fn new(log: AccessLog, metrics: Option<Arc<Metrics>>) -> Self {
        Self { log, metrics }
    }
}

impl AccessSink for TelemetrySink {
    fn record(&self, event: AccessEvent) {
        if let Some(m) = &self.metrics {
            m.observe(&event);
        }
        self.log.log(&event);
    }

    fn connection_opened(&self) -> Option<ConnectionGuard> {
        self.metrics.as_ref().map(|m| m.connection_opened())
    }
}

/// A sink that drops everything.
struct NullSink;

impl AccessSink for NullSink {
    fn record(&self, _event: AccessEvent) {}
}

/// The sink used when none is configured.
pub(crate) fn null_sink() -> Arc<dyn AccessSink> {
    Arc::new(NullSink)
}
