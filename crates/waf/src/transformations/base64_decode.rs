//! `t:base64Decode`: strict Base64 decoding with libmodsecurity's (mbed TLS) rules.
//!
//! The input is read up to its first NUL byte. Spaces are allowed only before a line end
//! (`\n` or `\r\n`) or at the very end; line ends are skipped; at most two `=`, only at the
//! end; the number of symbols must be a multiple of four. Any violation makes the value
//! invalid, and an invalid value is left unchanged (as libmodsecurity 3.0.15 does).

use std::borrow::Cow;

/// Base64 alphabet value of `b`, or `None`.
pub(crate) fn b64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes strict Base64 (invalid input gives an empty value).
pub fn base64_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if surely_invalid(input) {
        return Cow::Borrowed(input);
    }
    let full = input;
    let input = match memchr::memchr(0, input) {
        Some(nul) => input.get(..nul).unwrap_or(&[]),
        None => input,
    };
    match mbedtls_decode(input) {
        Some(out) => super::common::changed_or_borrowed(full, out),
        // Invalid Base64: libmodsecurity leaves the value as it is.
        None => Cow::Borrowed(full),
    }
}

/// A quick answer for the usual value that is not Base64 at all: with no space, line end
/// or NUL, every byte counts as a symbol, so a length that is not a multiple of four, or a
/// byte outside the alphabet and `=`, makes it invalid (left unchanged) without the full
/// validation pass. False means "not decided here".
pub(crate) fn surely_invalid(input: &[u8]) -> bool {
    let mut outside = false;
    for &b in input {
        match b {
            b' ' | b'\r' | b'\n' | 0 => return false,
            b'=' => {}
            _ => outside |= b64_value(b).is_none(),
        }
    }
    outside || !input.len().is_multiple_of(4)
}

/// mbed TLS `mbedtls_base64_decode` semantics; `None` for invalid input.
fn mbedtls_decode(src: &[u8]) -> Option<Vec<u8>> {
    // Validation pass.
    let mut equals = 0usize;
    let mut n = 0usize;
    let mut i = 0usize;
    while i < src.len() {
        let mut spaces = false;
        while src.get(i) == Some(&b' ') {
            i += 1;
            spaces = true;
        }
        let Some(&c) = src.get(i) else { break };
        if c == b'\r' && src.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        if c == b'\n' {
            i += 1;
            continue;
        }
        if spaces {
            return None;
        }
        if c == b'=' {
            equals += 1;
            if equals > 2 {
                return None;
            }
        } else {
            if equals != 0 {
                return None;
            }
            b64_value(c)?;
        }
        n += 1;
        i += 1;
    }
    if n == 0 {
        return Some(Vec::new());
    }
    if !n.is_multiple_of(4) {
        return None;
    }
    // Decoding pass.
    let mut out = Vec::with_capacity(n / 4 * 3 + 3);
    let mut x: u32 = 0;
    let mut acc = 0;
    let mut eq = 0;
    for &c in src {
        if c == b'\r' || c == b'\n' || c == b' ' {
            continue;
        }
        x <<= 6;
        if c == b'=' {
            eq += 1;
        } else {
            x |= u32::from(b64_value(c).unwrap_or(0));
        }
        acc += 1;
        if acc == 4 {
            acc = 0;
            out.push((x >> 16) as u8);
            if eq <= 1 {
                out.push((x >> 8) as u8);
            }
            if eq == 0 {
                out.push(x as u8);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::base64_decode,
            &[
                (b"", b""),
                (b"QUJD", b"ABC"),
                (b"QUI=", b"AB"),
                (b"QQ==", b"A"),
                (b"QUJDRA", b"QUJDRA"),
                (b"QU JD", b"QU JD"),
                (b"QUJD\r\nRA==", b"ABCD"),
                (b"QUJD!", b"QUJD!"),
                (b"QUJD\x00!!", b"ABC"),
                (b"value00001", b"value00001"),
                (b"abc.", b"abc."),
            ],
        );
    }

    /// The quick answer agrees with the full validation on every input it decides.
    #[test]
    fn quick_invalid_agrees() {
        let alphabet = b"ABCxyz019+/=. -_\r\n\x00";
        let mut next = crate::util::xorshift(0x51f1_5eed_0b64_0001);
        let mut decided = 0;
        for _ in 0..200_000 {
            let len = (next() % 14) as usize;
            let v: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            if super::surely_invalid(&v) {
                decided += 1;
                assert!(super::mbedtls_decode(&v).is_none(), "{v:?}");
            }
        }
        assert!(decided > 10_000, "{decided}");
    }
}
