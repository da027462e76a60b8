//! `t:parityEven7bit`, `t:parityOdd7bit`, `t:parityZero7bit`: rewrite bit 7 of every byte,
//! as libmodsecurity does (checked against 3.0.15). Note that ModSecurity computes the
//! parity over the whole input byte, bit 7 included:
//!
//! - `parityEven7bit` sets bit 7 when the byte has an odd number of one bits, else clears it;
//! - `parityOdd7bit` clears bit 7 when the byte has an odd number of one bits, else sets it;
//! - `parityZero7bit` clears bit 7.

use std::borrow::Cow;

fn map(input: &[u8], f: impl Fn(u8) -> u8) -> Cow<'_, [u8]> {
    if input.iter().all(|&b| f(b) == b) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.iter().map(|&b| f(b)).collect())
}

fn with_bit7(b: u8, set: bool) -> u8 {
    if set { b | 0x80 } else { b & 0x7f }
}

/// ModSecurity's `t:parityEven7bit`.
pub fn parity_even_7bit(input: &[u8]) -> Cow<'_, [u8]> {
    map(input, |b| with_bit7(b, b.count_ones() % 2 == 1))
}

/// ModSecurity's `t:parityOdd7bit`.
pub fn parity_odd_7bit(input: &[u8]) -> Cow<'_, [u8]> {
    map(input, |b| with_bit7(b, b.count_ones() % 2 == 0))
}

/// Clears bit 7 of every byte.
pub fn parity_zero_7bit(input: &[u8]) -> Cow<'_, [u8]> {
    map(input, |b| b & 0x7f)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::parity_even_7bit,
            &[
                (b"", b""),
                (b"\x00\x01\x03\xc0\x80", b"\x00\x81\x03\x40\x80"),
            ],
        );
        assert_table(
            super::parity_odd_7bit,
            &[
                (b"", b""),
                (b"\x00\x01\x03\xc0\x80", b"\x80\x01\x83\xc0\x00"),
            ],
        );
        assert_table(
            super::parity_zero_7bit,
            &[(b"", b""), (b"ab", b"ab"), (b"\xc1\x81", b"A\x01")],
        );
    }
}
