//! ACME Renewal Information (RFC 9773): the CertID of a certificate, fetching the server's
//! suggested renewal window, and picking the renewal time inside it.

use std::time::Duration;

use instant_acme::CertificateIdentifier;
use rand::Rng as _;
use rustls_pki_types::Der;
use serde_json::Value;

use crate::AcmeError;
use crate::http::AcmeHttp;

/// Re-poll interval when the server sends no usable `Retry-After` (RFC 9773 suggests a few
/// hours).
pub(crate) const DEFAULT_POLL: Duration = Duration::from_secs(6 * 3600);
/// Longest re-poll interval honoured from `Retry-After`.
pub(crate) const MAX_POLL: Duration = Duration::from_secs(24 * 3600);

/// The RFC 9773 CertID (`base64url(AKI keyIdentifier) "." base64url(serial)`) of a DER
/// certificate; `None` without an Authority Key Identifier.
pub(crate) fn cert_id(der: &[u8]) -> Option<CertificateIdentifier<'static>> {
    use x509_parser::extensions::ParsedExtension;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let aki = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0),
            _ => None,
        })?;
    Some(
        CertificateIdentifier::new(
            Der::from_slice(aki),
            Der::from_slice(cert.tbs_certificate.raw_serial()),
        )
        .into_owned(),
    )
}

/// A suggested renewal window, Unix seconds, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// Start of the window.
    pub start: i64,
    /// End of the window (exclusive).
    pub end: i64,
}

impl Window {
    /// A uniformly random instant in `[start, end)` (RFC 9773 section 4.2, step 1).
    pub(crate) fn pick(&self) -> i64 {
        if self.end <= self.start {
            return self.start;
        }
        rand::rng().random_range(self.start..self.end)
    }
}

/// One answer of the renewalInfo resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The suggested window.
    pub window: Window,
    /// When to ask again (from `Retry-After`, clamped to `[min_poll, 1 day]`).
    pub poll_after: Duration,
    /// `explanationURL`, when given.
    pub explanation: Option<String>,
}

/// The `renewalInfo` URL of the ACME directory at `server` (`None` when not offered).
pub(crate) async fn directory_renewal_info(
    http: &AcmeHttp,
    server: &str,
    timeout: Duration,
) -> Result<Option<String>, AcmeError> {
    let (status, _, body) = http.get(server, timeout).await?;
    if !status.is_success() {
        return Err(AcmeError::Challenge(format!(
            "directory {server}: HTTP {status}"
        )));
    }
    let dir: Value = serde_json::from_slice(&body)
        .map_err(|e| AcmeError::Challenge(format!("directory {server}: {e}")))?;
    Ok(dir
        .get("renewalInfo")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

/// Parses an RFC 3339 timestamp into Unix seconds.
fn rfc3339(v: &Value) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(v.as_str()?, &time::format_description::well_known::Rfc3339)
            .ok()?;
    Some(t.unix_timestamp())
}

/// `Retry-After` as a delay from `now`: delta-seconds or an IMF-fixdate.
pub(crate) fn retry_after(value: &str, now: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(v, fmt).ok()?.assume_utc();
    let delta = t.unix_timestamp().saturating_sub(now).max(0);
    Some(Duration::from_secs(u64::try_from(delta).unwrap_or(0)))
}

/// Fetches `GET {renewal_info}/{cert_id}` and validates the answer. An invalid window
/// (`end <= start`) is an error, as RFC 9773 section 4.2 asks.
pub(crate) async fn fetch(
    http: &AcmeHttp,
    renewal_info: &str,
    id: &CertificateIdentifier<'_>,
    min_poll: Duration,
    now: i64,
    timeout: Duration,
) -> Result<Answer, AcmeError> {
    let url = format!("{}/{id}", renewal_info.trim_end_matches('/'));
    let (status, headers, body) = http.get(&url, timeout).await?;
    let bad = |why: String| AcmeError::Challenge(format!("renewalInfo {url}: {why}"));
    if !status.is_success() {
        return Err(bad(format!("HTTP {status}")));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let w = v
        .get("suggestedWindow")
        .ok_or_else(|| bad("no suggestedWindow".into()))?;
    let (Some(start), Some(end)) = (
        w.get("start").and_then(rfc3339),
        w.get("end").and_then(rfc3339),
    ) else {
        return Err(bad("unreadable suggestedWindow".into()));
    };
    if end <= start {
        return Err(bad("suggestedWindow ends before it starts".into()));
    }
    let poll_after = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| retry_after(h, now))
        .unwrap_or(DEFAULT_POLL)
        .clamp(min_poll, MAX_POLL.max(min_poll));
    Ok(Answer {
        window: Window { start, end },
        poll_after,
        explanation: v
            .get("explanationURL")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pick_is_inside_the_window_and_spreads() {
        let w = Window {
            start: 1000,
            end: 2000,
        };
        let picks: Vec<i64> = (0..200).map(|_| w.pick()).collect();
        assert!(picks.iter().all(|p| (1000..2000).contains(p)));
        let (lo, hi) = (picks.iter().min().unwrap(), picks.iter().max().unwrap());
        assert!(hi - lo > 500, "uniform spread: {lo}..{hi}");
        let bad = Window { start: 5, end: 5 };
        assert_eq!(bad.pick(), 5);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after("120", 0), Some(Duration::from_secs(120)));
        // Thu, 01 Jan 1970 00:10:00 GMT is 600 s after the epoch.
        assert_eq!(
            retry_after("Thu, 01 Jan 1970 00:10:00 GMT", 100),
            Some(Duration::from_secs(500))
        );
        assert_eq!(
            retry_after("Thu, 01 Jan 1970 00:10:00 GMT", 10_000),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", 0), None);
    }

    #[test]
    fn cert_id_is_aki_dot_serial() {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![0x69, 0x88, 0x5b]);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let mut leaf = rcgen::CertificateParams::new(vec!["a.test".to_owned()]).unwrap();
        leaf.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x00, 0x87, 0x65, 0x43]));
        leaf.use_authority_key_identifier_extension = true;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        let id = cert_id(cert.der()).unwrap();
        assert_eq!(id.to_string(), "aYhb.AIdlQw");
        // Without an AKI there is no CertID.
        let plain = rcgen::CertificateParams::new(vec!["b.test".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert!(cert_id(plain.der()).is_none());
    }
}
