//! `t:uppercase`: ASCII `a`-`z` to `A`-`Z` (C locale `toupper`); other bytes unchanged.

use std::borrow::Cow;

/// Upper-cases ASCII letters.
pub fn uppercase(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.iter().any(u8::is_ascii_lowercase) {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::uppercase,
            &[(b"", b""), (b"ABC", b"ABC"), (b"aBc\xe4", b"ABC\xe4")],
        );
    }
}
