//! `kubernetes.io/tls` Secrets -> certificate chain and private key.

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::objects::Secret;

/// Reads `tls.crt` (leaf first, then the chain) and `tls.key` (PKCS#1, SEC1 or PKCS#8 PEM).
pub(crate) fn read_tls_secret(
    secret: &Secret,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    if secret.type_ != "kubernetes.io/tls" {
        return Err(format!(
            "Secret {}/{} has type `{}`, expected `kubernetes.io/tls`",
            secret.meta.namespace, secret.meta.name, secret.type_
        ));
    }
    let crt = secret.data.get("tls.crt").ok_or_else(|| {
        format!(
            "Secret {}/{} has no `tls.crt`",
            secret.meta.namespace, secret.meta.name
        )
    })?;
    let key = secret.data.get("tls.key").ok_or_else(|| {
        format!(
            "Secret {}/{} has no `tls.key`",
            secret.meta.namespace, secret.meta.name
        )
    })?;
    let chain = CertificateDer::pem_slice_iter(crt)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("`tls.crt` is not valid PEM: {e}"))?;
    if chain.is_empty() {
        return Err("`tls.crt` contains no CERTIFICATE block".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
        format!("`tls.key` holds no usable private key (PKCS#1, SEC1 or PKCS#8): {e}")
    })?;
    Ok((chain, key))
}
