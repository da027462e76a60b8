//! `t:parityEven7bit`, `t:parityOdd7bit`, `t:parityZero7bit`: recompute bit 7 of every byte
//! from its low seven bits (even parity, odd parity, or always zero).

use std::borrow::Cow;

fn map(input: &[u8], f: impl Fn(u8) -> u8) -> Cow<'_, [u8]> {
    if input.iter().all(|&b| f(b) == b) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.iter().map(|&b| f(b)).collect())
}

/// Sets bit 7 so that each byte has an even number of one bits.
pub fn parity_even_7bit(input: &[u8]) -> Cow<'_, [u8]> {
    map(input, |b| {
        let low = b & 0x7f;
        if low.count_ones() % 2 == 1 {
            low | 0x80
        } else {
            low
        }
    })
}

/// Sets bit 7 so that each byte has an odd number of one bits.
pub fn parity_odd_7bit(input: &[u8]) -> Cow<'_, [u8]> {
    map(input, |b| {
        let low = b & 0x7f;
        if low.count_ones() % 2 == 0 {
            low | 0x80
        } else {
            low
        }
    })
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
            &[(b"", b""), (b"\x00\x01\x03\x81", b"\x00\x81\x03\x81")],
        );
        assert_table(
            super::parity_odd_7bit,
            &[(b"", b""), (b"\x00\x01\x03\x81", b"\x80\x01\x83\x01")],
        );
        assert_table(
            super::parity_zero_7bit,
            &[(b"", b""), (b"ab", b"ab"), (b"\xc1\x81", b"A\x01")],
        );
    }
}
