//! One access event per request, handed to an [`AccessSink`].

use std::sync::Arc;

/// What happened to one request (the access-log fields of issue #2).
///
/// Mirrors `telemetry::AccessEvent` field for field so the two can be converted trivially.
#[derive(Debug, Clone, Default)]
pub struct AccessEvent {
    /// When the request started, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// `X-Request-ID` sent upstream.
    pub request_id: String,
    /// True client address.
    pub client_ip: String,
    /// Request method.
    pub method: String,
    /// Host (lower-case, no port).
    pub host: String,
    /// Request path as received.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: String,
    /// Status sent to the client.
    pub status: u16,
    /// Request bytes received (body bytes read plus an estimate of the head).
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Total duration in milliseconds.
    pub duration_ms: f64,
    /// Upstream endpoint used (last attempt).
    pub upstream_addr: Option<String>,
    /// Status returned by the upstream.
    pub upstream_status: Option<u16>,
    /// Time to the upstream's response head, milliseconds.
    pub upstream_latency_ms: Option<f64>,
    /// Namespace of the matched Ingress.
    pub ingress_namespace: Option<String>,
    /// Name of the matched Ingress.
    pub ingress_name: Option<String>,
    /// Service of the matched route.
    pub service: Option<String>,
    /// Negotiated TLS version.
    pub tls_version: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Referer`.
    pub referer: Option<String>,
}

/// Receives access events. Must not block: it runs on the request path.
pub trait AccessSink: Send + Sync + 'static {
    /// Records one finished request.
    fn record(&self, event: AccessEvent);
}

impl<F> AccessSink for F
where
    F: Fn(AccessEvent) + Send + Sync + 'static,
{
    fn record(&self, event: AccessEvent) {
        self(event);
    }
}

/// A sink that drops everything.
pub(crate) struct NullSink;

impl AccessSink for NullSink {
    fn record(&self, _event: AccessEvent) {}
}

/// The sink used when none is configured.
pub(crate) fn null_sink() -> Arc<dyn AccessSink> {
    Arc::new(NullSink)
}

/// Formats "now" as RFC 3339 with milliseconds, UTC.
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&fmt).unwrap_or_default()
}
