//! Security events (issue #4): what the WAF found in a request.
//!
//! One [`SecurityEvent`] per transaction with any logged rule match, written as one JSON line
//! next to the access log (same [`crate::AccessLog`] stream, or a file of its own) and joined
//! to the access event by `request_id`. Producers hand events to a [`SecuritySink`].

use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;

use crate::AccessLog;

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

impl Disposition {
    /// The label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Detected => "detected",
            Disposition::Blocked => "blocked",
            Disposition::RateLimited => "rate_limited",
        }
    }
}

/// Attack category derived from a rule's tags.
pub fn category_from_tags<S: AsRef<str>>(tags: &[S]) -> &'static str {
    const MAP: [(&str, &str); 16] = [
        ("attack-sqli", "sqli"),
        ("attack-xss", "xss"),
        ("attack-lfi", "lfi"),
        ("attack-rfi", "rfi"),
        ("attack-rce", "rce"),
        ("attack-injection-php", "php"),
        ("language-php", "php"),
        ("attack-injection-java", "java"),
        ("language-java", "java"),
        ("attack-fixation", "session-fixation"),
        ("attack-reputation-scanner", "scanner"),
        ("attack-protocol", "protocol"),
        ("attack-multipart-header", "protocol"),
        ("attack-disclosure", "generic"),
        ("attack-generic", "generic"),
        ("attack-nodejs", "generic"),
    ];
    for (tag, cat) in MAP {
        if tags.iter().any(|t| t.as_ref().eq_ignore_ascii_case(tag)) {
            return cat;
        }
    }
    if tags.iter().any(|t| {
        let t = t.as_ref();
        t.eq_ignore_ascii_case("protocol-violation") || t.starts_with("attack-protocol")
    }) {
        return "protocol";
    }
    "generic"
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
    /// Paranoia level of the rule (from its `paranoia-level/N` tag).
    pub paranoia_level: Option<u8>,
    /// Category derived from the tags ([`category_from_tags`]).
    pub category: &'static str,
}

/// A security finding about one request.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityEvent {
    /// `"security"` for WAF findings, `"limit"` for abuse-control rejections (rate,
    /// connections, allow/deny lists, body size, ...), to tell these lines from access lines
    /// in a shared stream.
    pub kind: &'static str,
    /// When it happened (RFC 3339, ms, UTC).
    #[serde(serialize_with = "serialize_time")]
    pub time: OffsetDateTime,
    /// Joins the access event.
    pub request_id: String,
    /// True client address.
    pub client_ip: Option<IpAddr>,
    /// Host of the request.
    pub host: Option<String>,
    /// Request method.
    pub method: String,
    /// Request target (path and query).
    pub uri: String,
    /// What was done.
    pub action: Disposition,
    /// CRS inbound anomaly score at the decision.
    pub anomaly_score: Option<i64>,
    /// CRS outbound anomaly score (when responses are inspected).
    pub outbound_anomaly_score: Option<i64>,
    /// Status sent instead of the upstream response when blocked.
    pub status: Option<u16>,
    /// Rules that matched.
    pub rules: Vec<RuleMatch>,
    /// Namespace of the matched Ingress.
    pub ingress_namespace: Option<String>,
    /// Name of the matched Ingress.
    pub ingress_name: Option<String>,
    /// Why an abuse-control rejection happened (`rate`, `connections`, `allowlist`,
    /// `denylist`, `body-size`, `global-rate`, `user-agent`); absent for WAF findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

fn serialize_time<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::format_time(*t))
}

/// Receives security events.
pub trait SecuritySink: Send + Sync + 'static {
    /// Records one event; must not block on I/O.
    fn record(&self, event: &SecurityEvent);
}

impl SecuritySink for AccessLog {
    fn record(&self, event: &SecurityEvent) {
        self.log_json(event);
    }
}

impl<F> SecuritySink for F
where
    F: Fn(&SecurityEvent) + Send + Sync + 'static,
{
    fn record(&self, event: &SecurityEvent) {
        self(event);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn security_event_serializes() {
        let e = SecurityEvent {
            kind: "security",
            time: OffsetDateTime::from_unix_timestamp(1_764_344_445).unwrap(),
            request_id: "r1".into(),
            client_ip: Some("192.0.2.1".parse().unwrap()),
            host: Some("a.example.com".into()),
            method: "GET".into(),
            uri: "/?id=1".into(),
            action: Disposition::Blocked,
            anomaly_score: Some(10),
            outbound_anomaly_score: None,
            status: Some(403),
            rules: vec![RuleMatch {
                id: 942100,
                message: Some("SQL Injection Attack Detected via libinjection".into()),
                severity: Some("CRITICAL".into()),
                tags: vec!["attack-sqli".into()],
                variable: Some("ARGS:id".into()),
                data: Some("1' or '1'='1".into()),
                paranoia_level: Some(1),
                category: category_from_tags(&["attack-sqli"]),
            }],
            ingress_namespace: Some("default".into()),
            ingress_name: Some("shop".into()),
            reason: None,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["action"], "blocked");
        assert_eq!(v["time"], "2025-11-28T15:40:45.000Z");
        assert_eq!(v["rules"][0]["id"], 942100);
        assert_eq!(v["rules"][0]["category"], "sqli");
        assert!(v.get("reason").is_none());
    }

    #[test]
    fn categories() {
        assert_eq!(
            category_from_tags(&["application-multi", "attack-xss"]),
            "xss"
        );
        assert_eq!(category_from_tags(&["attack-rce", "platform-unix"]), "rce");
        assert_eq!(category_from_tags(&["attack-fixation"]), "session-fixation");
        assert_eq!(category_from_tags::<&str>(&[]), "generic");
    }
}
