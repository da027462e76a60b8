//! `t:base64DecodeExt`: forgiving Base64 decoding (libmodsecurity's `decode_forgiven`).
//!
//! Bytes outside the alphabet are skipped; both `+`/`/` and `-`/`_` are accepted as 62/63.
//! `=` is skipped, except that a `=` that would complete a lone single symbol (and is not
//! followed by another `=`) makes the result empty. A trailing partial group contributes
//! its complete bytes.

use std::borrow::Cow;

fn value(b: u8) -> Option<u8> {
    match b {
        b'-' => Some(62),
        b'_' => Some(63),
        _ => super::base64_decode::b64_value(b),
    }
}

/// Decodes Base64 leniently.
pub fn base64_decode_ext(input: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut cur: u8 = 0;
    let mut k = 0usize;
    for (pos, &c) in input.iter().enumerate() {
        if c == b'=' {
            if input.get(pos + 1) != Some(&b'=') && k % 4 == 1 {
                return super::common::changed_or_borrowed(input, Vec::new());
            }
            continue;
        }
        let Some(v) = value(c) else { continue };
        match k % 4 {
            0 => cur = v << 2,
            1 => {
                out.push(cur | (v >> 4));
                cur = (v & 0x0f) << 4;
            }
            2 => {
                out.push(cur | (v >> 2));
                cur = (v & 0x03) << 6;
            }
            _ => out.push(cur | v),
        }
        k += 1;
    }
    super::common::changed_or_borrowed(input, out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::base64_decode_ext,
            &[
                (b"", b""),
                (b"QUJD", b"ABC"),
                (b"Q U.J D", b"ABC"),
                (b"QUI=", b"AB"),
                (b"QUJDRA", b"ABCD"),
                (b"Pz8-", b"??>"),
                (b"Pz8_", b"???"),
            ],
        );
    }
}
