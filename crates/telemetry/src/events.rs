//! Security events (issue #4): what the WAF and abuse controls found in a request.
//!
//! Only the record is defined here; sinks (log target, store, alerting) come later and will
//! take a [`SecurityEvent`] the way [`crate::AccessLog`] takes an [`crate::AccessEvent`].
//! The `request_id` joins a security event to its access event.

use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;

/// What was decided about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Disposition {
    /// Only logged (detection-only mode or below the anomaly threshold).
    Detected,
    /// The request was blocked.
    Blocked,
    /// The request was rate limited.
    RateLimited,
}

/// One matched rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMatch {
    /// Rule id (`id:942100`).
    pub id: u64,
    /// `msg` action, expanded.
    pub message: Option<String>,
    /// `severity` action (`CRITICAL`, `WARNING`, ...).
    pub severity: Option<String>,
    /// `tag` actions (`attack-sqli`, `paranoia-level/1`, ...).
    pub tags: Vec<String>,
    /// Variable that matched (`ARGS:id`).
    pub variable: Option<String>,
    /// Matched data, truncated by the producer.
    pub data: Option<String>,
}

/// A security finding about one request.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityEvent {
    /// When it happened (RFC 3339, ms, UTC).
    #[serde(serialize_with = "serialize_time")]
    pub time: OffsetDateTime,
    /// Joins the access event.
    pub request_id: String,
    /// True client address.
    pub client_ip: Option<IpAddr>,
    /// Host of the request.
    pub host: Option<String>,
    /// What was done.
    pub disposition: Disposition,
    /// Anomaly score at the decision (CRS inbound score).
    pub anomaly_score: Option<u32>,
    /// Rules that matched.
    pub rules: Vec<RuleMatch>,
    /// Namespace of the matched Ingress.
    pub ingress_namespace: Option<String>,
    /// Name of the matched Ingress.
    pub ingress_name: Option<String>,
}

fn serialize_time<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::format_time(*t))
}
