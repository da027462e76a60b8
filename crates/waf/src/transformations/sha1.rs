//! `t:sha1`: the SHA-1 digest of the value, as 20 raw bytes (as ModSecurity).

use std::borrow::Cow;

use sha1::Digest as _;

/// Replaces the value with its raw SHA-1 digest.
pub fn sha1(input: &[u8]) -> Cow<'_, [u8]> {
    super::common::changed_or_borrowed(input, sha1::Sha1::digest(input).to_vec())
}

#[cfg(test)]
mod tests {
    #[test]
    fn table() {
        assert_eq!(
            hex::encode(super::sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(super::sha1(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
    }
}
