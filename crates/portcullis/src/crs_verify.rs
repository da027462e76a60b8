//! OpenPGP verification of CRS release archives: the CRS project signs each release archive
//! with its signing key and publishes the detached, ASCII-armored signature (`.asc`) next
//! to the release. The key is fetched (or read from a file) and accepted only when its
//! fingerprint is the pinned one; then the signature must verify over the archive bytes,
//! made by the primary key or one of its bound subkeys.

use std::io::Cursor;

use anyhow::{Context as _, anyhow, bail};
use pgp::composed::{Deserializable as _, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails as _;

/// Fingerprint of the OWASP CRS signing key (`security@coreruleset.org`), as the CRS
/// project publishes it in its install documentation.
pub(crate) const FINGERPRINT: &str = "36006F0E0BA167832158821138EEACA1AB8A6E72";

/// Where the CRS project publishes that key.
pub(crate) const KEY_URL: &str = "https://coreruleset.org/security.asc";

fn normalize(fpr: &str) -> String {
    fpr.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

fn parse_key(key: &[u8]) -> anyhow::Result<SignedPublicKey> {
    match SignedPublicKey::from_armor_single(Cursor::new(key)) {
        Ok((k, _)) => Ok(k),
        Err(armored) => SignedPublicKey::from_bytes(Cursor::new(key))
            .map_err(|e| anyhow!("not an OpenPGP public key ({armored}; {e})")),
    }
}

fn parse_signature(sig: &[u8]) -> anyhow::Result<DetachedSignature> {
    match DetachedSignature::from_armor_single(Cursor::new(sig)) {
        Ok((s, _)) => Ok(s),
        Err(armored) => DetachedSignature::from_bytes(Cursor::new(sig))
            .map_err(|e| anyhow!("not an OpenPGP signature ({armored}; {e})")),
    }
}

/// Verifies the detached `signature` over `data` with `key`, which must have the
/// fingerprint `fingerprint` (hex, spaces allowed). Returns the signer's fingerprint and
/// user id for display.
pub(crate) fn verify(
    data: &[u8],
    signature: &[u8],
    key: &[u8],
    fingerprint: &str,
) -> anyhow::Result<String> {
    let key = parse_key(key).context("signing key")?;
    let want = normalize(fingerprint);
    let got = format!("{:X}", key.primary_key.fingerprint());
    if got != want {
        bail!("the signing key has fingerprint {got}, not the pinned {want}; refused");
    }
    key.verify_bindings()
        .map_err(|e| anyhow!("signing key {got}: invalid self-signatures: {e}"))?;
    let sig = parse_signature(signature).context("signature")?;
    let uid = key
        .details
        .users
        .first()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .unwrap_or_default();
    if sig.verify(&key, data).is_ok() {
        return Ok(format!("{got} {uid}"));
    }
    for sub in &key.public_subkeys {
        if sub.verify_bindings(&key.primary_key).is_ok() && sig.verify(sub, data).is_ok() {
            return Ok(format!("{got} (subkey {:X}) {uid}", sub.key.fingerprint()));
        }
    }
    bail!("BAD signature: it does not verify with key {got}; refused")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_compared_without_spaces_or_case() {
        assert_eq!(
            normalize("3600 6F0E 0BA1 6783 2158  8211 38ee aca1 ab8a 6e72"),
            FINGERPRINT
        );
        assert!(verify(b"x", b"not a signature", b"not a key", FINGERPRINT).is_err());
    }
}
