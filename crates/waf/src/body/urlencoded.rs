//! `application/x-www-form-urlencoded` parsing, as libmodsecurity v3 `extractArguments` does it.
//!
//! Used for request bodies (`ARGS_POST`) and for `QUERY_STRING` (`ARGS_GET`).
//!
//! Semantics (byte for byte with ModSecurity v3):
//! - The input is split on `separator` (`&` unless `SecArgumentSeparator` says otherwise).
//!   Empty pieces in the middle or at the start produce an argument with an empty name and value
//!   (`a=1&&b=2` has three arguments); one trailing separator produces nothing (`a=1&` has one).
//! - Each piece is split on its first `=`; a piece without `=` is a name with an empty value.
//! - Names and values are URL-decoded non-strictly: `+` becomes a space, `%XX` with two hex digits
//!   becomes the byte, and any other `%` is kept as is; such a sequence in a value (not in a
//!   name: v3 resets its counter between the two) marks the input invalid (`URLENCODED_ERROR`).
//!
//! Checked against libmodsecurity 3.0.15 on 2,000 random inputs (names, values and the flag).

use std::borrow::Cow;

/// One decoded argument: `(name, value)`.
pub type Arg<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// Result of [`parse_checked`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed<'a> {
    /// Arguments in input order.
    pub args: Vec<Arg<'a>>,
    /// True when an invalid `%` sequence was seen in any name or value (`URLENCODED_ERROR`).
    pub invalid_encoding: bool,
}

/// Parse `input` into decoded `(name, value)` pairs, splitting on `separator`.
pub fn parse(input: &[u8], separator: u8) -> Vec<Arg<'_>> {
    parse_checked(input, separator).args
}

/// Like [`parse`], also reporting whether any invalid `%` encoding was seen.
pub fn parse_checked(input: &[u8], separator: u8) -> Parsed<'_> {
    let mut out = Parsed::default();
    let mut pieces: Vec<&[u8]> = input.split(|b| *b == separator).collect();
    // getline() semantics: a final empty piece (input empty or ending in the separator) is not
    // produced.
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    for piece in pieces {
        let (name, value) = match memchr::memchr(b'=', piece) {
            Some(pos) => (
                piece.get(..pos).unwrap_or_default(),
                piece.get(pos + 1..).unwrap_or_default(),
            ),
            None => (piece, &b""[..]),
        };
        let (name, _) = decode(name);
        let (value, bad_value) = decode(value);
        // libmodsecurity 3.0.15 resets its invalid-sequence counter for each decode call, so
        // only an invalid sequence in the value sets URLENCODED_ERROR.
        out.invalid_encoding |= bad_value;
        out.args.push((name, value));
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Non-strict URL decoding (`+` -> space, `%XX` -> byte, other `%` kept literally).
///
/// Returns the decoded bytes (borrowed when nothing changed) and whether an invalid `%`
/// sequence was seen.
pub fn decode(input: &[u8]) -> (Cow<'_, [u8]>, bool) {
    if !input.iter().any(|b| *b == b'%' || *b == b'+') {
        return (Cow::Borrowed(input), false);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut invalid = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_val);
                let lo = input.get(i + 2).copied().and_then(hex_val);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    invalid = true;
                    i += 1;
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    (Cow::Owned(out), invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    type OwnedPairs = Vec<(Vec<u8>, Vec<u8>)>;
    type Case<'a> = (&'a str, u8, &'a [(&'a str, &'a str)], bool);

    fn owned(input: &[u8], sep: u8) -> (OwnedPairs, bool) {
        let p = parse_checked(input, sep);
        (
            p.args
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            p.invalid_encoding,
        )
    }

    fn pairs(list: &[(&str, &str)]) -> OwnedPairs {
        list.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[Case<'_>] = &[
            ("", b'&', &[], false),
            ("a=1", b'&', &[("a", "1")], false),
            ("a=1&b=2", b'&', &[("a", "1"), ("b", "2")], false),
            ("a", b'&', &[("a", "")], false),
            ("a=", b'&', &[("a", "")], false),
            ("=v", b'&', &[("", "v")], false),
            ("a=1&", b'&', &[("a", "1")], false),
            ("a=1&&b=2", b'&', &[("a", "1"), ("", ""), ("b", "2")], false),
            ("&a=1", b'&', &[("", ""), ("a", "1")], false),
            ("&", b'&', &[("", "")], false),
            ("a=b=c", b'&', &[("a", "b=c")], false),
            ("a+b=c+d", b'&', &[("a b", "c d")], false),
            ("a=%41%42", b'&', &[("a", "AB")], false),
            ("a=%4a%4A", b'&', &[("a", "JJ")], false),
            ("a=%", b'&', &[("a", "%")], true),
            ("a=%4", b'&', &[("a", "%4")], true),
            ("a=%zz", b'&', &[("a", "%zz")], true),
            ("a=%%41", b'&', &[("a", "%A")], true),
            ("%=1", b'&', &[("%", "1")], false),
            ("%zz", b'&', &[("%zz", "")], false),
            ("a%zz=b%zz", b'&', &[("a%zz", "b%zz")], true),
            ("a=%3d&b", b'&', &[("a", "="), ("b", "")], false),
            ("a=1;b=2", b';', &[("a", "1"), ("b", "2")], false),
            ("a=1;b=2", b'&', &[("a", "1;b=2")], false),
            ("a=%26&b=%2", b'&', &[("a", "&"), ("b", "%2")], true),
        ];
        for (input, sep, expected, invalid) in cases {
            let (got, bad) = owned(input.as_bytes(), *sep);
            assert_eq!(got, pairs(expected), "input {input:?}");
            assert_eq!(bad, *invalid, "invalid flag for {input:?}");
        }
    }

    #[test]
    fn binary_and_nul_bytes() {
        let (got, bad) = owned(b"a\0=\xff%00", b'&');
        assert_eq!(got, vec![(b"a\0".to_vec(), b"\xff\0".to_vec())]);
        assert!(!bad);
    }

    #[test]
    fn borrowed_when_unchanged() {
        let p = parse(b"abc=def", b'&');
        assert!(matches!(
            p.first(),
            Some((Cow::Borrowed(_), Cow::Borrowed(_)))
        ));
    }

    #[test]
    fn never_panics_on_any_short_input() {
        let alphabet = [b'%', b'=', b'&', b'+', b'a', b'4', 0xff, 0];
        let mut buf = Vec::new();
        for n in 0..4096u32 {
            buf.clear();
            let mut x = n;
            for _ in 0..4 {
                buf.push(alphabet[(x % 8) as usize]);
                x /= 8;
            }
            let _ = parse_checked(&buf, b'&');
        }
    }
}
