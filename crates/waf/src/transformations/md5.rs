//! `t:md5`: the MD5 digest of the value, as 16 raw bytes (as ModSecurity).

use std::borrow::Cow;

use md5::Digest as _;

/// Replaces the value with its raw MD5 digest.
pub fn md5(input: &[u8]) -> Cow<'_, [u8]> {
    super::common::changed_or_borrowed(input, md5::Md5::digest(input).to_vec())
}

#[cfg(test)]
mod tests {
    #[test]
    fn table() {
        assert_eq!(
            hex::encode(super::md5(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex::encode(super::md5(b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }
}
