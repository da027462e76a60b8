//! One ACME order: account, authorizations (HTTP-01 or TLS-ALPN-01), CSR, certificate.

use std::sync::Arc;
use std::time::Duration;

use config::certmanager::{AcmeCertificate, AcmeIssuer, KeyAlgorithm, Solver};
use gateway::acme_http01::Http01Tokens;
use gateway::tls::TlsManager;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, CertificateIdentifier, ChallengeType,
    ExternalAccountKey, Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use rcgen::{CertificateParams, CustomExtension, DistinguishedName, DnType, KeyPair};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::AcmeError;
use crate::http::AcmeHttp;
use crate::store::{SecretFile, Store};

/// What a successful order produced.
#[derive(Debug)]
pub(crate) struct Issued {
    /// PEM chain, leaf first.
    pub chain_pem: String,
    /// PEM PKCS#8 key.
    pub key_pem: String,
    /// Which challenge type validated the order.
    pub challenge: &'static str,
}

/// Stable identifier of an issuer's account in the store.
pub(crate) fn account_id(issuer: &AcmeIssuer) -> String {
    match issuer.kind {
        config::certmanager::IssuerKind::ClusterIssuer => {
            format!("clusterissuer-{}", issuer.private_key_secret)
        }
        config::certmanager::IssuerKind::Issuer => {
            format!("issuer-{}-{}", issuer.namespace, issuer.private_key_secret)
        }
    }
}

/// An ACME account with the HTTP client it talks through.
pub(crate) struct Session {
    /// The account.
    pub account: Account,
    /// Its HTTP client (TLS policy of the issuer; order extras).
    pub http: AcmeHttp,
    /// The account key, PKCS#8 DER (re-signs new-order requests that carry `notAfter`).
    pub key_pkcs8: Vec<u8>,
}

fn builder(issuer: &AcmeIssuer) -> Result<(instant_acme::AccountBuilder, AcmeHttp), AcmeError> {
    let http = AcmeHttp::new(issuer)?;
    Ok((Account::builder_with_http(Box::new(http.clone())), http))
}

/// Loads the issuer's account from the store, or registers a new one and stores its key.
pub(crate) async fn account(issuer: &AcmeIssuer, store: &Store) -> Result<Session, AcmeError> {
    let path = store.account_path(&account_id(issuer));
    if let Some(secret) = store.read_secret(&path) {
        let same_server = secret
            .annotations
            .get("acme.cert-manager.io/server")
            .is_some_and(|s| *s == issuer.server);
        if let Some(creds) = secret.data.get("credentials.json")
            && same_server
        {
            match serde_json::from_slice::<AccountCredentials>(creds) {
                Ok(c) => {
                    let key_pkcs8 = c.private_key().secret_pkcs8_der().to_vec();
                    let (b, http) = builder(issuer)?;
                    let account = b.from_credentials(c).await?;
                    return Ok(Session {
                        account,
                        http,
                        key_pkcs8,
                    });
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "stored ACME account unreadable; registering a new one");
                }
            }
        }
    }
    let contact = issuer.email.as_ref().map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let eab = match &issuer.external_account_binding {
        Some(b) => match &b.key {
            Some(k) => Some(ExternalAccountKey::new(b.key_id.clone(), k)),
            None => {
                return Err(AcmeError::Challenge(format!(
                    "externalAccountBinding Secret `{}` not found",
                    b.key_secret
                )));
            }
        },
        None => None,
    };
    let (b, http) = builder(issuer)?;
    let (account, creds) = b
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            issuer.server.clone(),
            eab.as_ref(),
        )
        .await?;
    let json = serde_json::to_vec(&creds).map_err(|e| AcmeError::Store(e.to_string()))?;
    let mut secret = SecretFile {
        namespace: if issuer.namespace.is_empty() {
            "cert-manager".into()
        } else {
            issuer.namespace.clone()
        },
        name: issuer.private_key_secret.clone(),
        type_: "Opaque".into(),
        ..SecretFile::default()
    };
    secret
        .annotations
        .insert("acme.cert-manager.io/server".into(), issuer.server.clone());
    secret.annotations.insert(
        "acme.cert-manager.io/account-url".into(),
        account.id().to_owned(),
    );
    secret.data.insert("credentials.json".into(), json);
    secret.data.insert(
        "tls.key".into(),
        pem("PRIVATE KEY", creds.private_key().secret_pkcs8_der()).into_bytes(),
    );
    store.write(&path, &secret.to_yaml())?;
    tracing::info!(issuer = %issuer.display_name(), account = %account.id(), "ACME account registered");
    Ok(Session {
        account,
        http,
        key_pkcs8: creds.private_key().secret_pkcs8_der().to_vec(),
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Removes registered challenges when dropped (also on error / timeout).
struct Cleanup {
    http01: Http01Tokens,
    tls: TlsManager,
    tokens: Vec<String>,
    alpn_hosts: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for t in &self.tokens {
            self.http01.remove(t);
        }
        for h in &self.alpn_hosts {
            self.tls.remove_acme_challenge(h);
        }
    }
}

/// Extras of one order.
#[derive(Debug, Default, Clone)]
pub(crate) struct OrderOptions {
    /// Select TLS-ALPN-01 when the issuer allows both (the fallback after an HTTP-01
    /// failure).
    pub prefer_alpn: bool,
    /// RFC 9773 `replaces`: the certificate being renewed (only when the server offers ARI).
    pub replaces: Option<CertificateIdentifier<'static>>,
    /// RFC 8555 `notAfter` (RFC 3339), from `duration` with `enableDurationFeature`.
    pub not_after: Option<String>,
}

/// Runs one order to completion.
pub(crate) async fn order(
    session: &Session,
    cert: &AcmeCertificate,
    http01: &Http01Tokens,
    tls: &TlsManager,
    opts: &OrderOptions,
) -> Result<Issued, AcmeError> {
    let account = &session.account;
    let prefer_alpn = opts.prefer_alpn;
    if let Some(na) = &opts.not_after {
        session.http.extras().arm(&session.key_pkcs8, na.clone())?;
    }
    let identifiers: Vec<Identifier> = cert
        .hosts
        .iter()
        .map(|h| Identifier::Dns(h.clone()))
        .collect();
    let new_order = || {
        let mut o = NewOrder::new(&identifiers);
        if let Some(p) = &cert.issuer.profile {
            o = o.profile(p);
        }
        o
    };
    let mut order = match &opts.replaces {
        Some(r) => match account.new_order(&new_order().replaces(r.clone())).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(hosts = ?cert.hosts, replaces = %r, error = %e, "order with `replaces` refused; ordering without it");
                account.new_order(&new_order()).await?
            }
        },
        None => account.new_order(&new_order()).await?,
    };
    let solvers = &cert.issuer.solvers;
    let allow_http = solvers.contains(&Solver::Http01);
    let allow_alpn = solvers.contains(&Solver::TlsAlpn01) || allow_http;
    let mut preference = Vec::new();
    if prefer_alpn || !allow_http {
        preference.push(ChallengeType::TlsAlpn01);
    }
    if allow_http {
        preference.push(ChallengeType::Http01);
    }
    if allow_alpn && !preference.contains(&ChallengeType::TlsAlpn01) {
        preference.push(ChallengeType::TlsAlpn01);
    }
    let mut cleanup = Cleanup {
        http01: http01.clone(),
        tls: tls.clone(),
        tokens: Vec::new(),
        alpn_hosts: Vec::new(),
    };
    let mut used = "http-01";
    {
        let mut authzs = order.authorizations();
        while let Some(authz) = authzs.next().await {
            let mut authz = authz?;
            match authz.status {
                AuthorizationStatus::Valid => continue,
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(AcmeError::Challenge(format!(
                        "authorization for {} is {other:?}",
                        authz.identifier()
                    )));
                }
            }
            let host = authz.identifier().to_string();
            let offered: Vec<ChallengeType> =
                authz.challenges.iter().map(|c| c.r#type.clone()).collect();
            let Some(kind) = preference.iter().find(|p| offered.contains(p)).cloned() else {
                return Err(AcmeError::Challenge(format!(
                    "no usable challenge for {host} (server offers {offered:?}, issuer allows {solvers:?})"
                )));
            };
            let mut ch = authz
                .challenge(kind.clone())
                .ok_or_else(|| AcmeError::Challenge("challenge vanished".into()))?;
            let key_auth = ch.key_authorization();
            if kind == ChallengeType::Http01 {
                http01.insert(&ch.token, key_auth.as_str());
                cleanup.tokens.push(ch.token.clone());
            } else {
                let ck = alpn_certificate(&host, key_auth.digest().as_ref())?;
                tls.set_acme_challenge(&host, ck);
                cleanup.alpn_hosts.push(host.clone());
                used = "tls-alpn-01";
            }
            tracing::debug!(host, challenge = ?kind, "ACME challenge ready");
            ch.set_ready().await?;
        }
    }
    let retry = RetryPolicy::new()
        .initial_delay(Duration::from_millis(100))
        .backoff(1.5)
        .timeout(Duration::from_secs(60));
    let status = order.poll_ready(&retry).await?;
    if status != OrderStatus::Ready {
        let mut reasons = Vec::new();
        let mut authzs = order.authorizations();
        while let Some(Ok(a)) = authzs.next().await {
            for c in &a.challenges {
                if let Some(e) = &c.error {
                    reasons.push(format!("{}: {e}", a.identifier()));
                }
            }
        }
        return Err(AcmeError::Challenge(format!(
            "order is {status:?}: {}",
            if reasons.is_empty() {
                "no detail".to_owned()
            } else {
                reasons.join("; ")
            }
        )));
    }
    drop(cleanup);
    let key = generate_key(cert.key_algorithm)?;
    let mut params =
        CertificateParams::new(cert.hosts.clone()).map_err(|e| AcmeError::Key(e.to_string()))?;
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = &cert.common_name {
        params
            .distinguished_name
            .push(DnType::CommonName, cn.clone());
    }
    let csr = params
        .serialize_request(&key)
        .map_err(|e| AcmeError::Key(e.to_string()))?;
    order.finalize_csr(csr.der()).await?;
    let chain_pem = order.poll_certificate(&retry).await?;
    Ok(Issued {
        chain_pem,
        key_pem: key.serialize_pem(),
        challenge: used,
    })
}

/// Generates the certificate key. ring cannot generate RSA keys: RSA is generated by the
/// `openssl` command when present, else ECDSA P-256 is used with a warning.
fn generate_key(alg: KeyAlgorithm) -> Result<KeyPair, AcmeError> {
    let k = |r: Result<KeyPair, rcgen::Error>| r.map_err(|e| AcmeError::Key(e.to_string()));
    match alg {
        KeyAlgorithm::Ecdsa(384) => k(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)),
        KeyAlgorithm::Ecdsa(_) => k(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)),
        KeyAlgorithm::Ed25519 => k(KeyPair::generate_for(&rcgen::PKCS_ED25519)),
        KeyAlgorithm::Rsa(bits) => {
            let out = std::process::Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    &format!("rsa_keygen_bits:{bits}"),
                ])
                .output();
            match out {
                Ok(o) if o.status.success() => {
                    let pem = String::from_utf8_lossy(&o.stdout);
                    k(KeyPair::from_pkcs8_pem_and_sign_algo(
                        &pem,
                        &rcgen::PKCS_RSA_SHA256,
                    ))
                }
                _ => {
                    tracing::warn!(
                        bits,
                        "RSA key requested but `openssl` is unavailable (ring cannot generate RSA keys); using ECDSA P-256"
                    );
                    k(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256))
                }
            }
        }
    }
}

/// The self-signed TLS-ALPN-01 certificate (RFC 8737) for `host`.
pub(crate) fn alpn_certificate(host: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, AcmeError> {
    let key = KeyPair::generate().map_err(|e| AcmeError::Key(e.to_string()))?;
    let mut params =
        CertificateParams::new(vec![host.to_owned()]).map_err(|e| AcmeError::Key(e.to_string()))?;
    params
        .custom_extensions
        .push(CustomExtension::new_acme_identifier(digest));
    let cert = params
        .self_signed(&key)
        .map_err(|e| AcmeError::Key(e.to_string()))?;
    certified_key(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

/// A rustls signing key for a chain and key.
pub(crate) fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, AcmeError> {
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| AcmeError::Key(e.to_string()))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

/// Parses a PEM chain into DER certificates.
pub(crate) fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, AcmeError> {
    use rustls_pki_types::pem::PemObject as _;
    let chain: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let chain = chain.map_err(|e| AcmeError::Certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(AcmeError::Certificate("no certificate in PEM".into()));
    }
    Ok(chain)
}

/// Parses a PEM private key.
pub(crate) fn parse_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, AcmeError> {
    use rustls_pki_types::pem::PemObject as _;
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| AcmeError::Certificate(e.to_string()))
}

/// `(notBefore, notAfter)` of a DER certificate, Unix seconds.
pub(crate) fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let v = cert.validity();
    Some((v.not_before.timestamp(), v.not_after.timestamp()))
}
