//! The access sink: one gateway event per request goes to the JSON access log and the metrics.

use std::sync::Arc;

use gateway::AccessSink;
use telemetry::{AccessLog, Metrics};

/// A sink writing each event to `log` and counting it in `metrics`.
pub(crate) fn sink(log: Arc<AccessLog>, metrics: Arc<Metrics>) -> Arc<dyn AccessSink> {
    Arc::new(move |event: gateway::AccessEvent| {
        let event = convert(event);
        metrics.observe(&event);
        log.log(&event);
    })
}

/// The gateway's event is already the telemetry record (`gateway::AccessEvent` re-exports
/// `telemetry::AccessEvent`; `time` is the request start).
fn convert(e: gateway::AccessEvent) -> telemetry::AccessEvent {
    e
}
