//! `t:trim`, `t:trimLeft`, `t:trimRight`: remove leading and/or trailing C-locale whitespace
//! (space, `\t`, `\n`, `\v`, `\f`, `\r`; not 0xA0). Always borrowed: a sub-slice.

use std::borrow::Cow;

use super::common::is_c_space;

/// Removes leading and trailing whitespace.
pub fn trim(input: &[u8]) -> Cow<'_, [u8]> {
    unchanged_or_owned(input, right(left(input)))
}

/// Removes leading whitespace.
pub fn trim_left(input: &[u8]) -> Cow<'_, [u8]> {
    unchanged_or_owned(input, left(input))
}

/// Removes trailing whitespace.
pub fn trim_right(input: &[u8]) -> Cow<'_, [u8]> {
    unchanged_or_owned(input, right(input))
}

/// `Cow::Borrowed` means "unchanged" in the transformation contract, so a shorter
/// sub-slice is returned owned.
fn unchanged_or_owned<'a>(input: &'a [u8], part: &[u8]) -> Cow<'a, [u8]> {
    if part.len() == input.len() {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(part.to_vec())
    }
}

fn left(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_c_space(b)).unwrap_or(s.len());
    s.get(start..).unwrap_or(&[])
}

fn right(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| !is_c_space(b)).map_or(0, |p| p + 1);
    s.get(..end).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    #[test]
    fn table() {
        type Case<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);
        let cases: &[Case<'_>] = &[
            (b"", b"", b"", b""),
            (b"  a b \t", b"a b", b"a b \t", b"  a b"),
            (b"\xa0a\xa0", b"\xa0a\xa0", b"\xa0a\xa0", b"\xa0a\xa0"),
            (b" \r\n", b"", b"", b""),
        ];
        for (input, both, l, r) in cases {
            assert_eq!(super::trim(input).as_ref(), *both);
            assert_eq!(super::trim_left(input).as_ref(), *l);
            assert_eq!(super::trim_right(input).as_ref(), *r);
        }
    }
}
