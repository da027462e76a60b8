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

/// The gateway's event as the telemetry record. The start time is derived from the duration
/// (the event is recorded when the response ends).
fn convert(e: gateway::AccessEvent) -> telemetry::AccessEvent {
    let now = time::OffsetDateTime::now_utc();
    let started = now - time::Duration::seconds_f64(e.duration_ms.max(0.0) / 1000.0);
    let mut t = telemetry::AccessEvent::new(started);
    t.request_id = e.request_id;
    t.client_ip = e.client_ip.parse().ok();
    t.method = e.method;
    t.host = (!e.host.is_empty()).then_some(e.host);
    t.path = e.path;
    t.query = e.query;
    t.protocol = e.protocol;
    t.status = e.status;
    t.bytes_in = e.bytes_in;
    t.bytes_out = e.bytes_out;
    t.duration_ms = e.duration_ms;
    t.upstream_addr = e.upstream_addr;
    t.upstream_status = e.upstream_status;
    t.upstream_latency_ms = e.upstream_latency_ms;
    t.ingress_namespace = e.ingress_namespace;
    t.ingress_name = e.ingress_name;
    t.service = e.service;
    t.tls_version = e.tls_version;
    t.user_agent = e.user_agent;
    t.referer = e.referer;
    t
}
