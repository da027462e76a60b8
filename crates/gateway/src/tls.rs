//! TLS termination: a rustls server configuration with an SNI certificate resolver that
//! is hot-swapped from the [`Model`]'s certificates.
//!
//! - Protocols: TLS 1.2 and TLS 1.3 only (ring provider); ALPN `h2`, `http/1.1` (and
//!   `acme-tls/1`, see below).
//! - Certificate choice per handshake: exact SNI host, then `*.wildcard` (one label), then
//!   a self-signed default certificate generated at start (ECDSA P-256, CN
//!   "Portcullis Default Certificate"), as ingress-nginx's fake certificate.
//! - [`TlsManager::update`] swaps the certificate table atomically; handshakes already in
//!   progress keep the table they started with, new handshakes see the new one.
//! - A certificate whose key does not parse or does not match the leaf is skipped with a
//!   warning; the rest of the table still loads.
//!
//! ## ACME extension point (issue #5)
//! TLS-ALPN-01 challenges (RFC 8737) are answered by the same resolver: the ACME manager
//! registers a challenge certificate for a host with [`TlsManager::set_acme_challenge`]
//! (and removes it with [`TlsManager::remove_acme_challenge`]). A ClientHello that offers
//! the `acme-tls/1` ALPN gets that certificate (or fails when none is registered). After
//! such a handshake the caller must close the connection without serving HTTP; check it
//! with [`TlsInfo::is_acme_challenge`].

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use config::model::{Certificate, Model};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, ServerConnection};
use rustls::sign::CertifiedKey;
use rustls::{ProtocolVersion, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Common name of the generated default certificate.
pub const DEFAULT_CERT_CN: &str = "Portcullis Default Certificate";
/// The ALPN protocol id of TLS-ALPN-01 ACME challenges.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Errors building the TLS configuration (never per request).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Generating the self-signed default certificate failed.
    #[error("cannot generate the default certificate: {0}")]
    DefaultCertificate(#[from] rcgen::Error),
    /// rustls rejected the configuration or a key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A certificate of the model that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCertificate {
    /// `namespace/name` of the Secret.
    pub secret: String,
    /// Why it was skipped.
    pub reason: String,
}

/// What [`TlsManager::update`] loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateReport {
    /// Host names (exact and wildcard) now served with a model certificate.
    pub hosts: usize,
    /// Certificates that were skipped (also logged as warnings).
    pub skipped: Vec<SkippedCertificate>,
    /// Certificates now in use.
    pub loaded: Vec<LoadedCertificate>,
}

impl UpdateReport {
    /// Replaces `nginx_ingress_controller_ssl_expire_time_seconds` with the loaded
    /// certificates' expiry, one series per host (call after each [`TlsManager::update`]).
    pub fn record_expiry(&self, metrics: &telemetry::Metrics) {
        metrics.clear_certificate_expiry();
        for c in &self.loaded {
            let Some(not_after) = c.not_after else {
                continue;
            };
            for host in &c.hosts {
                metrics.set_certificate_expiry(&c.namespace, &c.name, host, not_after);
            }
        }
    }
}

/// A certificate of the model in use after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedCertificate {
    /// Namespace of the Secret.
    pub namespace: String,
    /// Name of the Secret.
    pub name: String,
    /// Hosts it serves.
    pub hosts: Vec<String>,
    /// The leaf's `notAfter`, Unix seconds (`None` when the date cannot be read).
    pub not_after: Option<i64>,
}

/// Negotiated parameters of an accepted TLS connection, for the access log and routing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3` (nginx's `$ssl_protocol` spelling).
    pub version: Option<&'static str>,
    /// The negotiated ALPN protocol (`h2`, `http/1.1`).
    pub alpn: Option<Vec<u8>>,
    /// The SNI host name sent by the client, lower-case.
    pub sni: Option<String>,
}

impl TlsInfo {
    /// Reads the negotiated parameters from a server connection after the handshake.
    pub fn from_connection(conn: &ServerConnection) -> Self {
        Self {
            version: conn.protocol_version().and_then(tls_version_name),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            sni: conn.server_name().map(str::to_ascii_lowercase),
        }
    }

    /// Reads the negotiated parameters from an accepted `tokio_rustls` stream.
    pub fn from_stream<IO>(stream: &tokio_rustls::server::TlsStream<IO>) -> Self {
        Self::from_connection(stream.get_ref().1)
    }

    /// Whether the client negotiated HTTP/2.
    pub fn is_h2(&self) -> bool {
        self.alpn.as_deref() == Some(b"h2")
    }

    /// Whether this was an ACME TLS-ALPN-01 validation handshake: close the connection
    /// without serving HTTP.
    pub fn is_acme_challenge(&self) -> bool {
        self.alpn.as_deref() == Some(ACME_TLS_ALPN)
    }
}

/// nginx's name of a TLS protocol version (`TLSv1.2`, `TLSv1.3`).
pub fn tls_version_name(v: ProtocolVersion) -> Option<&'static str> {
    match v {
        ProtocolVersion::TLSv1_3 => Some("TLSv1.3"),
        ProtocolVersion::TLSv1_2 => Some("TLSv1.2"),
        ProtocolVersion::TLSv1_1 => Some("TLSv1.1"),
        ProtocolVersion::TLSv1_0 => Some("TLSv1"),
        _ => None,
    }
}

/// Certificates by host name.
#[derive(Debug, Default)]
struct CertTable {
    /// Exact host (lower-case, no trailing dot).
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` stored as `.example.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
}

impl CertTable {
    fn lookup(&self, host: &str) -> Option<&Arc<CertifiedKey>> {
        if let Some(c) = self.exact.get(host) {
            return Some(c);
        }
        // Exactly one label more than the wildcard's suffix: `a.example.com` matches
        // `*.example.com`, `b.a.example.com` does not.
        let dot = host.find('.')?;
        let suffix = host.get(dot..)?;
        if dot == 0 || suffix.len() < 2 {
            return None;
        }
        self.wildcard.get(suffix)
    }
}

/// The SNI resolver behind [`TlsManager`]; rustls calls it for each handshake.
#[derive(Debug)]
pub struct SniResolver {
    table: ArcSwap<CertTable>,
    acme: ArcSwap<HashMap<String, Arc<CertifiedKey>>>,
    default: Arc<CertifiedKey>,
}

fn normalize_host(h: &str) -> String {
    h.trim_end_matches('.').to_ascii_lowercase()
}

impl SniResolver {
    /// The certificate a handshake for `sni` gets (`None` = no SNI).
    pub fn certificate_for(&self, sni: Option<&str>) -> Arc<CertifiedKey> {
        if let Some(name) = sni {
            let host = normalize_host(name);
            if let Some(c) = self.table.load().lookup(&host) {
                return Arc::clone(c);
            }
        }
        Arc::clone(&self.default)
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = hello.server_name().map(normalize_host);
        let acme = hello
            .alpn()
            .is_some_and(|mut protos| protos.any(|p| p == ACME_TLS_ALPN));
        if acme {
            // Only a registered challenge certificate may answer an ACME validation.
            return sni.and_then(|h| self.acme.load().get(&h).cloned());
        }
        Some(self.certificate_for(sni.as_deref()))
    }
}

/// Owns the TLS server configuration and its hot-swappable certificates.
#[derive(Debug, Clone)]
pub struct TlsManager {
    resolver: Arc<SniResolver>,
    config: Arc<ServerConfig>,
    provider: Arc<CryptoProvider>,
    default_cert: CertificateDer<'static>,
}

impl TlsManager {
    /// Builds the configuration with a freshly generated default certificate and no model
    /// certificates.
    pub fn new() -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (default, default_cert) = generate_default(&provider)?;
        let resolver = Arc::new(SniResolver {
            table: ArcSwap::from_pointee(CertTable::default()),
            acme: ArcSwap::from_pointee(HashMap::new()),
            default,
        });
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
        // Stateless session tickets (TLS 1.2 and 1.3 resumption) rotate every 6 hours.
        config.ticketer = rustls::crypto::ring::Ticketer::new()?;
        Ok(Self {
            resolver,
            config: Arc::new(config),
            provider,
            default_cert,
        })
    }

    /// [`TlsManager::new`] followed by [`TlsManager::update`] with `model`.
    pub fn with_model(model: &Model) -> Result<(Self, UpdateReport), TlsError> {
        let m = Self::new()?;
        let report = m.update(model);
        Ok((m, report))
    }

    /// Replaces the certificate table with the model's certificates. New handshakes use it
    /// at once; nothing restarts. Unusable certificates are skipped with a warning. When two
    /// certificates claim the same host, the first in the model wins.
    pub fn update(&self, model: &Model) -> UpdateReport {
        let mut table = CertTable::default();
        let mut report = UpdateReport::default();
        for cert in &model.certificates {
            let secret = format!("{}/{}", cert.secret.namespace, cert.secret.name);
            let key = match self.certified_key(cert) {
                Ok(k) => k,
                Err(reason) => {
                    tracing::warn!(%secret, %reason, "skipping TLS certificate");
                    report.skipped.push(SkippedCertificate { secret, reason });
                    continue;
                }
            };
            let not_after = cert.chain.first().and_then(|c| leaf_not_after(c));
            if let Some(t) = not_after
                && t < time::OffsetDateTime::now_utc().unix_timestamp()
            {
                tracing::warn!(%secret, not_after = t, "TLS certificate has expired; serving it anyway");
            }
            report.loaded.push(LoadedCertificate {
                namespace: cert.secret.namespace.clone(),
                name: cert.secret.name.clone(),
                hosts: cert.hosts.clone(),
                not_after,
            });
            for host in &cert.hosts {
                let host = normalize_host(host.trim());
                if let Some(suffix) = host.strip_prefix('*') {
                    if suffix.len() > 1 && suffix.starts_with('.') {
                        table
                            .wildcard
                            .entry(suffix.to_string())
                            .or_insert_with(|| Arc::clone(&key));
                    }
                } else if !host.is_empty() {
                    table.exact.entry(host).or_insert_with(|| Arc::clone(&key));
                }
            }
        }
        report.hosts = table.exact.len() + table.wildcard.len();
        self.resolver.table.store(Arc::new(table));
        report
    }

    fn certified_key(&self, cert: &Certificate) -> Result<Arc<CertifiedKey>, String> {
        if cert.chain.is_empty() {
            return Err("tls.crt holds no certificate".into());
        }
        if cert.hosts.is_empty() {
            return Err("no hosts reference this certificate".into());
        }
        CertifiedKey::from_der(cert.chain.clone(), cert.key.clone_key(), &self.provider)
            .map(Arc::new)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    "tls.key does not match the certificate in tls.crt".to_string()
                }
                other => format!("tls.key cannot be used: {other}"),
            })
    }

    /// Registers the TLS-ALPN-01 challenge certificate for `host` (ACME, issue #5).
    pub fn set_acme_challenge(&self, host: &str, key: Arc<CertifiedKey>) {
        let host = normalize_host(host);
        self.resolver.acme.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.insert(host.clone(), Arc::clone(&key));
            m
        });
    }

    /// Removes the challenge certificate of `host`.
    pub fn remove_acme_challenge(&self, host: &str) {
        let host = normalize_host(host);
        self.resolver.acme.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.remove(&host);
            m
        });
    }

    /// An acceptor for the HTTPS listener (cheap; shares the configuration).
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }

    /// The rustls server configuration.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }

    /// The resolver (to query which certificate a name gets).
    pub fn resolver(&self) -> &SniResolver {
        &self.resolver
    }

    /// The generated default certificate (DER), e.g. for clients in tests to trust.
    pub fn default_certificate(&self) -> &CertificateDer<'static> {
        &self.default_cert
    }
}

/// One DER TLV: returns (tag, contents, rest). `None` on anything malformed.
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur in the fields read here
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, r) = rest.split_at_checked(n)?;
        rest = r;
        bytes.iter().try_fold(0usize, |acc, b| {
            acc.checked_mul(256)?.checked_add(usize::from(*b))
        })?
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// `notAfter` of an X.509 certificate as Unix seconds, read with a minimal DER walk
/// (Certificate > tbsCertificate > [version] serial signature issuer validity).
fn leaf_not_after(der: &[u8]) -> Option<i64> {
    let (tag, cert, _) = der_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, tbs, _) = der_tlv(cert)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, r) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    for _ in 0..3 {
        // serialNumber, signature, issuer
        let (_, _, r) = der_tlv(rest)?;
        rest = r;
    }
    let (tag, validity, _) = der_tlv(rest)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after) = der_tlv(validity)?;
    let (tag, t, _) = der_tlv(after)?;
    let text = std::str::from_utf8(t).ok()?;
    let (year, rest) = match tag {
        // UTCTime YYMMDDHHMMSSZ: 50..99 => 19xx (RFC 5280).
        0x17 => {
            let yy: i32 = text.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        // GeneralizedTime YYYYMMDDHHMMSSZ.
        0x18 => (text.get(0..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    if rest.len() != 11 || !rest.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u8> { rest.get(r)?.parse().ok() };
    let month = time::Month::try_from(num(0..2)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, num(2..4)?).ok()?;
    let t = time::Time::from_hms(num(4..6)?, num(6..8)?, num(8..10)?).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

fn generate_default(
    provider: &CryptoProvider,
) -> Result<(Arc<CertifiedKey>, CertificateDer<'static>), TlsError> {
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, DEFAULT_CERT_CN);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Portcullis");
    params.subject_alt_names = vec![rcgen::SanType::DnsName(rcgen::string::Ia5String::try_from(
        "ingress.local",
    )?)];
    let cert = params.self_signed(&key_pair)?;
    let der = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let certified = CertifiedKey::from_der(vec![der.clone()], key, provider)?;
    Ok((Arc::new(certified), der))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use config::model::ObjectRef;

    use super::*;

    fn cert_for(hosts: &[&str]) -> Certificate {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params =
            rcgen::CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
                .unwrap();
        let c = params.self_signed(&kp).unwrap();
        Certificate {
            secret: ObjectRef {
                namespace: "default".into(),
                name: hosts.first().copied().unwrap_or("none").into(),
            },
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            chain: vec![c.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(kp.serialize_der())),
        }
    }

    fn leaf(k: &CertifiedKey) -> Vec<u8> {
        k.end_entity_cert().unwrap().to_vec()
    }

    #[test]
    fn lookup_exact_wildcard_default() {
        let m = TlsManager::new().unwrap();
        let a = Arc::new(cert_for(&["a.example.com"]));
        let w = Arc::new(cert_for(&["*.example.com"]));
        let model = Model {
            certificates: vec![Arc::clone(&a), Arc::clone(&w)],
            ..Model::default()
        };
        let report = m.update(&model);
        assert_eq!(report.hosts, 2);
        assert!(report.skipped.is_empty());
        let r = m.resolver();
        assert_eq!(
            leaf(&r.certificate_for(Some("a.example.com"))),
            a.chain[0].to_vec()
        );
        assert_eq!(
            leaf(&r.certificate_for(Some("A.Example.COM."))),
            a.chain[0].to_vec()
        );
        assert_eq!(
            leaf(&r.certificate_for(Some("b.example.com"))),
            w.chain[0].to_vec()
        );
        let d = m.default_certificate().to_vec();
        assert_eq!(leaf(&r.certificate_for(Some("x.b.example.com"))), d);
        assert_eq!(leaf(&r.certificate_for(Some("example.com"))), d);
        assert_eq!(leaf(&r.certificate_for(Some(".example.com"))), d);
        assert_eq!(leaf(&r.certificate_for(None)), d);
    }

    #[test]
    fn mismatched_or_garbage_keys_are_skipped() {
        let m = TlsManager::new().unwrap();
        let good = cert_for(&["good.example.com"]);
        let mut mismatched = cert_for(&["bad.example.com"]);
        mismatched.key = cert_for(&["other"]).key;
        let mut garbage = cert_for(&["junk.example.com"]);
        garbage.key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(vec![1, 2, 3]));
        let mut empty = cert_for(&["empty.example.com"]);
        empty.chain.clear();
        let model = Model {
            certificates: vec![
                Arc::new(good),
                Arc::new(mismatched),
                Arc::new(garbage),
                Arc::new(empty),
            ],
            ..Model::default()
        };
        let report = m.update(&model);
        assert_eq!(report.hosts, 1);
        assert_eq!(report.skipped.len(), 3);
        assert!(
            report.skipped[0].reason.contains("does not match"),
            "{:?}",
            report.skipped
        );
        let d = m.default_certificate().to_vec();
        assert_eq!(
            leaf(&m.resolver().certificate_for(Some("bad.example.com"))),
            d
        );
    }

    #[test]
    fn default_certificate_has_the_expected_subject() {
        let m = TlsManager::new().unwrap();
        let der = m.default_certificate();
        // The CN is stored as an UTF8String/PrintableString in the DER; a byte search is
        // enough to check it without an X.509 parser.
        let needle = DEFAULT_CERT_CN.as_bytes();
        assert!(der.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn not_after_is_read_from_the_leaf() {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["x.example.com".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 7, 9);
        let c = params.self_signed(&kp).unwrap();
        // 2031-07-09T00:00:00Z
        assert_eq!(leaf_not_after(c.der()), Some(1_941_321_600));
        params.not_after = rcgen::date_time_ymd(2060, 1, 2); // GeneralizedTime after 2049
        let c = params.self_signed(&kp).unwrap();
        assert_eq!(leaf_not_after(c.der()), Some(2_840_227_200));
        for n in 0..c.der().len() {
            let _ = leaf_not_after(&c.der()[..n]);
        }
        assert_eq!(leaf_not_after(b"garbage"), None);
        assert_eq!(leaf_not_after(&[]), None);
    }

    #[test]
    fn report_lists_loaded_certificates_with_expiry() {
        let m = TlsManager::new().unwrap();
        let model = Model {
            certificates: vec![Arc::new(cert_for(&["a.example.com", "b.example.com"]))],
            ..Model::default()
        };
        let report = m.update(&model);
        assert_eq!(report.loaded.len(), 1);
        assert!(report.loaded[0].not_after.is_some());
        let metrics = telemetry::Metrics::new(telemetry::MetricsConfig::default()).unwrap();
        report.record_expiry(&metrics);
        let text = metrics.render();
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("nginx_ingress_controller_ssl_expire_time_seconds{"))
                .count(),
            2
        );
    }

    #[test]
    fn version_names() {
        assert_eq!(tls_version_name(ProtocolVersion::TLSv1_3), Some("TLSv1.3"));
        assert_eq!(tls_version_name(ProtocolVersion::TLSv1_2), Some("TLSv1.2"));
    }
}
