//! Byte helpers shared by the transformations: C-locale character classes and the hex
//! conversions ModSecurity uses (`x2c`, `xsingle2c`), reproduced with the same wrapping
//! arithmetic so that even invalid digits decode to the same byte.

use std::borrow::Cow;

/// `isspace()` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`. Bytes >= 0x80 are not
/// spaces (ModSecurity passes signed `char`s, which glibc classifies as non-space).
#[inline]
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// ModSecurity's `VALID_HEX`.
#[inline]
pub(crate) fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// ModSecurity's `ISODIGIT`.
#[inline]
pub(crate) fn is_octal(b: u8) -> bool {
    (b'0'..=b'7').contains(&b)
}

/// Value of one hex digit the way ModSecurity computes it (no validation, wrapping).
#[inline]
pub(crate) fn hex_digit(c: u8) -> u8 {
    if c >= b'A' {
        (c & 0xdf).wrapping_sub(b'A').wrapping_add(10)
    } else {
        c.wrapping_sub(b'0')
    }
}

/// ModSecurity's `x2c`: two hex digits to one byte (wrapping on invalid digits).
#[inline]
pub(crate) fn x2c(hi: u8, lo: u8) -> u8 {
    hex_digit(hi).wrapping_mul(16).wrapping_add(hex_digit(lo))
}

/// Lower-case hex digits, as ModSecurity's `c2x`.
pub(crate) const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Returns `Cow::Borrowed(input)` when `out` equals it, `Cow::Owned(out)` otherwise.
#[inline]
pub(crate) fn changed_or_borrowed(input: &[u8], out: Vec<u8>) -> Cow<'_, [u8]> {
    if out == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

/// Table-test helper: checks every `(input, expected)` pair, and that the result is
/// borrowed exactly when it equals the input.
#[cfg(test)]
pub(crate) fn assert_table(f: super::Transform, cases: &[(&[u8], &[u8])]) {
    for (input, expected) in cases {
        let got = f(input);
        assert_eq!(
            got.as_ref(),
            *expected,
            "input {:?}: got {:?}, want {:?}",
            String::from_utf8_lossy(input),
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
        assert_eq!(
            matches!(got, Cow::Borrowed(_)),
            input == expected,
            "input {:?}: Cow::Borrowed must mean unchanged",
            String::from_utf8_lossy(input)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers() {
        assert_eq!(x2c(b'4', b'1'), 0x41);
        assert_eq!(x2c(b'f', b'F'), 0xff);
        assert_eq!(x2c(b'0', b'0'), 0);
        // Invalid digits wrap like ModSecurity's unsigned char arithmetic.
        assert_eq!(hex_digit(b'g'), 16);
        assert_eq!(hex_digit(b' '), 0u8.wrapping_sub(16));
        assert!(is_c_space(0x0b) && !is_c_space(0xa0));
        assert!(is_octal(b'7') && !is_octal(b'8'));
    }
}
