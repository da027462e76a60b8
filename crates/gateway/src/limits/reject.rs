//! Rejections: one place that records why a request was refused (security event, metric)
//! and builds the response.

use std::sync::Arc;

use http::{Response, StatusCode};
use telemetry::Metrics;
use telemetry::events::{Disposition, SecurityEvent, SecuritySink};

use crate::body::ResponseBody;
use crate::event::AccessEvent;
use crate::server::Gateway;

/// Why abuse control refused a request. The label ([`RejectReason::as_str`]) is the
/// `reason` of the security event and of `portcullis_limit_rejections_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// `limit-rps` / `limit-rpm` exceeded.
    Rate,
    /// `limit-connections` exceeded.
    Connections,
    /// Client not in `allowlist-source-range` / `whitelist-source-range`.
    Allowlist,
    /// Client in `denylist-source-range` or the global `block-cidrs`.
    Denylist,
    /// Request body larger than `proxy-body-size`.
    BodySize,
    /// The cross-replica limit (`global-rate-limit`, Redis) exceeded.
    GlobalRate,
    /// `User-Agent` matched the global `block-user-agents`.
    UserAgent,
}

impl RejectReason {
    /// The label used in events and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Rate => "rate",
            RejectReason::Connections => "connections",
            RejectReason::Allowlist => "allowlist",
            RejectReason::Denylist => "denylist",
            RejectReason::BodySize => "body-size",
            RejectReason::GlobalRate => "global-rate",
            RejectReason::UserAgent => "user-agent",
        }
    }

    /// What the security event says was done.
    pub fn disposition(self) -> Disposition {
        match self {
            RejectReason::Rate | RejectReason::Connections | RejectReason::GlobalRate => {
                Disposition::RateLimited
            }
            _ => Disposition::Blocked,
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where rejections are reported (both optional).
#[derive(Clone, Default)]
pub struct RejectSinks {
    /// Receives one [`SecurityEvent`] (`kind: "limit"`, with `reason`) per rejection.
    pub events: Option<Arc<dyn SecuritySink>>,
    /// Counts rejections in `portcullis_limit_rejections_total{namespace,ingress,reason}`.
    pub metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for RejectSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectSinks")
            .field("events", &self.events.is_some())
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

impl RejectSinks {
    /// Writes the security event and increments the metric for one rejection described by
    /// `event` (the request's access event: client, host, method, target, Ingress).
    pub fn record(&self, reason: RejectReason, status: StatusCode, event: &AccessEvent) {
        let namespace = event.ingress_namespace.as_deref().unwrap_or("");
        let ingress = event.ingress_name.as_deref().unwrap_or("");
        if let Some(m) = &self.metrics {
            m.limit_rejected(namespace, ingress, reason.as_str());
        }
        if let Some(sink) = &self.events {
            let uri = match &event.query {
                Some(q) => format!("{}?{q}", event.path),
                None => event.path.clone(),
            };
            sink.record(&SecurityEvent {
                kind: "limit",
                time: time::OffsetDateTime::now_utc(),
                request_id: event.request_id.clone(),
                client_ip: event.client_ip,
                host: event.host.clone(),
                method: event.method.clone(),
                uri,
                action: reason.disposition(),
                anomaly_score: None,
                outbound_anomaly_score: None,
                status: Some(status.as_u16()),
                rules: Vec::new(),
                ingress_namespace: event.ingress_namespace.clone(),
                ingress_name: event.ingress_name.clone(),
                reason: Some(reason.as_str()),
            });
        }
        tracing::debug!(
            reason = reason.as_str(),
            status = status.as_u16(),
            client = ?event.client_ip,
            namespace,
            ingress,
            "request rejected"
        );
    }
}

impl Gateway {
    /// Rejects a request: writes a security event (`kind: "limit"`, `reason`) to
    /// [`crate::LimitOptions::sinks`], counts it in `portcullis_limit_rejections_total`, and
    /// returns the short `status` response to hand to `finish`. A request id is assigned to
    /// `event` when it has none yet, so the access and security events join.
    pub(crate) fn reject(
        &self,
        reason: RejectReason,
        status: StatusCode,
        event: &mut AccessEvent,
    ) -> Response<ResponseBody> {
        if event.request_id.is_empty() {
            event.request_id = crate::headers::new_request_id()
                .to_str()
                .unwrap_or_default()
                .to_owned();
        }
        self.options.limits.sinks.record(reason, status, event);
        crate::proxy::status_response(status)
    }
}
