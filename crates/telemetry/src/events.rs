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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn security_event_serializes() {
        let e = SecurityEvent {
            time: OffsetDateTime::from_unix_timestamp(1_764_344_445).unwrap(),
            request_id: "r1".into(),
            client_ip: Some("192.0.2.1".parse().unwrap()),
            host: Some("a.example.com".into()),
            disposition: Disposition::Blocked,
            anomaly_score: Some(10),
            rules: vec![RuleMatch {
                id: 942100,
                message: Some("SQL Injection Attack Detected via libinjection".into()),
                severity: Some("CRITICAL".into()),
                tags: vec!["attack-sqli".into()],
                variable: Some("ARGS:id".into()),
                data: Some("1' or '1'='1".into()),
            }],
            ingress_namespace: Some("default".into()),
            ingress_name: Some("shop".into()),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["disposition"], "blocked");
        assert_eq!(v["time"], "2025-11-28T15:40:45.000Z");
        assert_eq!(v["rules"][0]["id"], 942100);
    }
}
