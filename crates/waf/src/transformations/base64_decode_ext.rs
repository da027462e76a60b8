//! `t:base64DecodeExt`: forgiving Base64 decoding, as libmodsecurity 3.0.x's
//! `decode_forgiven` (checked against libmodsecurity 3.0.15).
//!
//! Bytes outside the standard alphabet (`A-Z a-z 0-9 + /`) are skipped, NUL included.
//! A `=` is skipped, except that a `=` arriving after `4n+1` symbols and not followed by
//! another `=` makes the result empty. As in the C code, the last byte processed decides a
//! final padding check: if it was `=` (or the symbol `9`, whose value 61 equals the code of
//! `=`) after `4n+1` symbols, the result is empty. Otherwise the complete bytes decoded so
//! far are the result (a trailing partial byte is dropped).

use std::borrow::Cow;

use super::base64_decode::b64_value;

/// Decodes Base64 leniently.
pub fn base64_decode_ext(input: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut cur: u8 = 0;
    let mut symbols = 0usize;
    // The C code keeps the last byte in `ch`, replaced by its table value for non-`=` bytes.
    let mut last_is_pad = false;
    for (pos, &c) in input.iter().enumerate() {
        if c == b'=' {
            if input.get(pos + 1) != Some(&b'=') && symbols % 4 == 1 {
                return super::common::changed_or_borrowed(input, Vec::new());
            }
            last_is_pad = true;
            continue;
        }
        let Some(v) = b64_value(c) else {
            // Table value -1/-2: not equal to '='.
            last_is_pad = false;
            continue;
        };
        last_is_pad = v == b'=';
        match symbols % 4 {
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
        symbols += 1;
    }
    if last_is_pad && symbols % 4 == 1 {
        out.clear();
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
                (b"--", b""),
                (b"b-=", b""),
                (b"_Q__a/ =_-", b"\x41\xaf"),
                (b"QUJD9", b""),
                (b"QUJDRA9", b"ABCD\x0f"),
            ],
        );
    }
}
