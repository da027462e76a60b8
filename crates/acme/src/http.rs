//! The HTTP client used to talk to an ACME server.
//!
//! - TLS follows the issuer: `caBundle` (every certificate of the bundle is trusted, and only
//!   those), `skipTLSVerify: true` (no verification of the server's certificate at all, logged
//!   loudly), or the platform's trust store.
//! - Order `notAfter` (RFC 8555 section 7.4), which instant-acme's `NewOrder` cannot express:
//!   when armed with the account key ([`OrderExtras::arm`]), the client adds `notAfter` to the
//!   payload of every new-order request and signs the JWS again with that key.
//! - Plain GETs for the directory and ACME Renewal Information ([`AcmeHttp::get`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use bytes::Bytes;
use config::certmanager::AcmeIssuer;
use http_body_util::BodyExt as _;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use parking_lot::Mutex;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use rustls_pki_types::CertificateDer;
use serde_json::Value;

use crate::AcmeError;

/// Largest response body read by [`AcmeHttp::get`].
const MAX_GET_BODY: usize = 1 << 20;

type Inner = Client<HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>;

/// What the next new-order request should carry besides what instant-acme sends.
#[derive(Default)]
struct Extras {
    /// The account key (PKCS#8 ECDSA P-256) used to sign the rewritten request.
    key: Option<EcdsaKeyPair>,
    /// RFC 3339 `notAfter`.
    not_after: Option<String>,
}

/// Shared switch between the order code and the HTTP client.
#[derive(Clone, Default)]
pub(crate) struct OrderExtras(Arc<Mutex<Extras>>);

impl OrderExtras {
    /// Makes new-order requests carry `notAfter` (signed again with `account_pkcs8`).
    pub(crate) fn arm(&self, account_pkcs8: &[u8], not_after: String) -> Result<(), AcmeError> {
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            account_pkcs8,
            &ring::rand::SystemRandom::new(),
        )
        .map_err(|e| AcmeError::Key(format!("account key: {e}")))?;
        let mut x = self.0.lock();
        x.key = Some(key);
        x.not_after = Some(not_after);
        Ok(())
    }

    /// Rewrites a JWS request body when it is a new-order request and the extras are armed;
    /// `None` leaves the body unchanged.
    fn rewrite(&self, body: &[u8]) -> Option<Vec<u8>> {
        let x = self.0.lock();
        let (key, not_after) = (x.key.as_ref()?, x.not_after.as_ref()?);
        let mut jws: Value = serde_json::from_slice(body).ok()?;
        let protected = jws.get("protected")?.as_str()?.to_owned();
        let payload = B64URL.decode(jws.get("payload")?.as_str()?).ok()?;
        let mut payload: Value = serde_json::from_slice(&payload).ok()?;
        let obj = payload.as_object_mut()?;
        // A new-order payload: identifiers, no CSR (finalize) and no status (challenge).
        if !obj.contains_key("identifiers") || obj.contains_key("csr") {
            return None;
        }
        obj.insert("notAfter".into(), Value::String(not_after.clone()));
        let payload = B64URL.encode(serde_json::to_vec(&payload).ok()?);
        let signed = format!("{protected}.{payload}");
        let sig = key
            .sign(&ring::rand::SystemRandom::new(), signed.as_bytes())
            .ok()?;
        let o = jws.as_object_mut()?;
        o.insert("payload".into(), Value::String(payload));
        o.insert(
            "signature".into(),
            Value::String(B64URL.encode(sig.as_ref())),
        );
        serde_json::to_vec(&jws).ok()
    }
}

/// An error with its sources (hyper's own message hides the TLS reason).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// An HTTP(S) client configured for one issuer.
#[derive(Clone)]
pub(crate) struct AcmeHttp {
    inner: Inner,
    extras: OrderExtras,
}

fn tls_config(issuer: &AcmeIssuer) -> Result<Option<rustls::ClientConfig>, AcmeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| AcmeError::Certificate(format!("TLS setup: {e}")))?;
    if issuer.skip_tls_verify {
        if issuer.ca_bundle.is_some() {
            tracing::warn!(issuer = %issuer.display_name(), "both skipTLSVerify and caBundle are set; skipTLSVerify wins");
        }
        return Ok(Some(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(
                    gateway::insecure::AcceptAnyServerCert::new(provider),
                ))
                .with_no_client_auth(),
        ));
    }
    let Some(pem) = &issuer.ca_bundle else {
        return Ok(None);
    };
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pem) {
        let c = c.map_err(|e| AcmeError::Certificate(format!("caBundle: {e}")))?;
        roots
            .add(c)
            .map_err(|e| AcmeError::Certificate(format!("caBundle: {e}")))?;
    }
    if roots.is_empty() {
        return Err(AcmeError::Certificate(
            "caBundle holds no certificate".into(),
        ));
    }
    Ok(Some(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

impl AcmeHttp {
    /// A client for `issuer`'s ACME server.
    pub(crate) fn new(issuer: &AcmeIssuer) -> Result<Self, AcmeError> {
        if issuer.skip_tls_verify {
            tracing::warn!(
                issuer = %issuer.display_name(), server = %issuer.server,
                "skipTLSVerify: the ACME server's TLS certificate is NOT verified; anyone on the path can impersonate the CA"
            );
        }
        let connector = match tls_config(issuer)? {
            Some(cfg) => HttpsConnectorBuilder::new().with_tls_config(cfg),
            None => HttpsConnectorBuilder::new()
                .try_with_platform_verifier()
                .map_err(|e| AcmeError::Certificate(format!("platform trust store: {e}")))?,
        }
        .https_or_http()
        .enable_http1()
        .build();
        Ok(Self {
            inner: Client::builder(TokioExecutor::new()).build(connector),
            extras: OrderExtras::default(),
        })
    }

    /// The switch for order extras (`notAfter`).
    pub(crate) fn extras(&self) -> OrderExtras {
        self.extras.clone()
    }

    /// GET `url` (at most 1 MiB of body, `timeout` overall): status, headers, body.
    pub(crate) async fn get(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<(http::StatusCode, http::HeaderMap, Bytes), AcmeError> {
        let err = |e: String| AcmeError::Challenge(format!("GET {url}: {e}"));
        let req = http::Request::get(url)
            .header(http::header::USER_AGENT, "portcullis-acme")
            .body(BodyWrapper::from(Vec::new()))
            .map_err(|e| err(e.to_string()))?;
        let fut = async {
            let rsp = self.inner.request(req).await.map_err(|e| err(chain(&e)))?;
            let (parts, mut body) = rsp.into_parts();
            let mut out = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| err(e.to_string()))?;
                if let Some(d) = frame.data_ref() {
                    if out.len().saturating_add(d.len()) > MAX_GET_BODY {
                        return Err(err("response body too large".into()));
                    }
                    out.extend_from_slice(d);
                }
            }
            Ok((parts.status, parts.headers, Bytes::from(out)))
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| err("timed out".into()))?
    }
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let me = self.clone();
        Box::pin(async move {
            let other = |e: String| instant_acme::Error::Other(e.into());
            let (mut parts, body) = req.into_parts();
            let req = if parts.method == http::Method::POST {
                let bytes = body
                    .collect()
                    .await
                    .map_err(|e| other(format!("request body: {e:?}")))?
                    .to_bytes();
                let bytes = match me.extras.rewrite(&bytes) {
                    Some(b) => {
                        parts.headers.remove(http::header::CONTENT_LENGTH);
                        b
                    }
                    None => bytes.to_vec(),
                };
                http::Request::from_parts(parts, BodyWrapper::from(bytes))
            } else {
                http::Request::from_parts(parts, body)
            };
            let rsp = me.inner.request(req).await.map_err(|e| other(chain(&e)))?;
            let (parts, body) = rsp.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| other(e.to_string()))?
                .to_bytes();
            Ok(BytesResponse {
                parts,
                body: Box::new(body),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn new_order_payload_gets_not_after_and_a_valid_signature() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let extras = OrderExtras::default();
        let enc = |v: &Value| B64URL.encode(serde_json::to_vec(v).unwrap());
        let body = |payload: &Value| {
            serde_json::to_vec(&serde_json::json!({
                "protected": enc(&serde_json::json!({"alg": "ES256", "url": "https://x/new-order"})),
                "payload": enc(payload),
                "signature": "AA"
            }))
            .unwrap()
        };
        let order = serde_json::json!({"identifiers": [{"type": "dns", "value": "a.test"}]});
        assert!(extras.rewrite(&body(&order)).is_none(), "not armed");
        extras
            .arm(pkcs8.as_ref(), "2030-01-01T00:00:00Z".into())
            .unwrap();
        let out: Value = serde_json::from_slice(&extras.rewrite(&body(&order)).unwrap()).unwrap();
        let payload: Value =
            serde_json::from_slice(&B64URL.decode(out["payload"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(payload["notAfter"], "2030-01-01T00:00:00Z");
        // The signature verifies with the account's public key.
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        use ring::signature::KeyPair as _;
        let pk = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            kp.public_key().as_ref(),
        );
        let msg = format!(
            "{}.{}",
            out["protected"].as_str().unwrap(),
            out["payload"].as_str().unwrap()
        );
        let sig = B64URL.decode(out["signature"].as_str().unwrap()).unwrap();
        pk.verify(msg.as_bytes(), &sig).unwrap();
        // Finalize (csr) and other requests are left alone.
        let fin = serde_json::json!({"identifiers": [], "csr": "x"});
        assert!(extras.rewrite(&body(&fin)).is_none());
        assert!(extras.rewrite(&body(&serde_json::json!({}))).is_none());
    }
}
