//! `@pm`: case-insensitive phrase match against a space-separated list.
//!
//! Description: true when one of the phrases occurs in the input, found with ModSecurity's
//! own Aho-Corasick automaton semantics (see [`super::acmp`]). The argument is first
//! processed like ModSecurity's `parse_pm_content` (optional surrounding double quotes,
//! `\` escapes of `: ; \ "`, `|hex|` byte blocks with ModSecurity's quirks), then split on
//! white space: a phrase cannot contain a space. With the `capture` action, slot 0 receives
//! the matched text as ModSecurity reports it.
//!
//! Arguments: phrases separated by white space.
//!
//! Example: `SecRule REQUEST_HEADERS:User-Agent "@pm nikto sqlmap" "id:1,capture,..."`

use super::acmp::Acmp;
use super::{BuildContext, OpContext, Operator, OperatorError, invalid, set_captures};

/// Compiled `@pm` / `@pmFromFile`.
#[derive(Debug)]
pub(crate) struct Pm {
    matcher: Acmp,
}

impl Pm {
    /// Builds the matcher for `phrases`; `name` is used in errors.
    pub(crate) fn new(name: &str, phrases: Vec<Vec<u8>>) -> Result<Self, OperatorError> {
        Ok(Self {
            matcher: Acmp::new(phrases).map_err(|e| invalid(name, e))?,
        })
    }
}

impl Operator for Pm {
    fn precompile(&self) {
        self.matcher.precompile();
    }

    fn required_literals(&self) -> Option<(&[Vec<u8>], usize)> {
        // Every match is a case-insensitive occurrence of a phrase (see `acmp`).
        let phrases = self.matcher.phrases();
        let min = phrases.iter().map(Vec::len).min()?;
        Some((phrases, min))
    }

    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        match self.matcher.find(input) {
            Some(text) => {
                set_captures(ctx, [text]);
                true
            }
            None => false,
        }
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtol(s, NULL, 16)` on a two-byte buffer.
fn hex_pair(pair: [u8; 2]) -> u8 {
    let mut v: u32 = 0;
    let mut it = pair.iter().copied().skip_while(|&b| is_c_space(b));
    for b in it.by_ref() {
        match char::from(b).to_digit(16) {
            Some(d) => v = v * 16 + d,
            None => break,
        }
    }
    (v & 0xff) as u8
}

/// ModSecurity's `parse_pm_content` (as in libmodsecurity 3.0.15): `None` where it fails
/// (an unsupported escape, or nothing left), and the caller then uses the raw argument.
/// The result ends at the first NUL byte (C string).
pub(crate) fn parse_pm_content(param: &[u8]) -> Option<Vec<u8>> {
    let param = param.split(|&b| b == 0).next().unwrap_or_default();
    let off = param
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = param.get(off..).unwrap_or_default();
    let parm: &[u8] = if rest.first() == Some(&b'"') && param.last() == Some(&b'"') {
        rest.get(1..rest.len().saturating_sub(1))
            .unwrap_or_default()
    } else {
        rest
    };
    if parm.is_empty() {
        return None;
    }
    let mut out = parm.to_vec();
    let (mut x, mut bin, mut esc) = (0usize, false, false);
    let mut pair = [0u8; 2];
    let mut pair_len = 0usize;
    for &c in parm {
        if c == b'|' {
            bin = !bin;
        } else if !esc && c == b'\\' {
            esc = true;
        } else if bin {
            // Other bytes inside `|...|` (spaces included) are skipped.
            if c.is_ascii_hexdigit() {
                if let Some(slot) = pair.get_mut(pair_len) {
                    *slot = c;
                }
                pair_len += 1;
                if pair_len == 2 {
                    if let Some(slot) = out.get_mut(x) {
                        *slot = hex_pair(pair);
                    }
                    x += 1;
                    pair_len = 0;
                }
            }
        } else if esc {
            if matches!(c, b':' | b';' | b'\\' | b'"') {
                if let Some(slot) = out.get_mut(x) {
                    *slot = c;
                }
                x += 1;
            } else {
                return None;
            }
            esc = false;
        } else {
            if let Some(slot) = out.get_mut(x) {
                *slot = c;
            }
            x += 1;
        }
    }
    out.truncate(x);
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    Some(out)
}

/// Splits on C white space, like `istream_iterator<std::string>`.
fn split_words(text: &[u8]) -> Vec<Vec<u8>> {
    text.split(|&b| is_c_space(b))
        .filter(|w| !w.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The phrases of a `@pm` argument.
pub(crate) fn phrases(argument: &str) -> Vec<Vec<u8>> {
    match parse_pm_content(argument.as_bytes()) {
        Some(content) => split_words(&content),
        None => split_words(argument.as_bytes()),
    }
}

/// Factory for `@pm`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(Pm::new("pm", phrases(argument))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::test_util::{build_op, eval, eval_capture};

    #[test]
    fn table() {
        // (argument, input, expected, captured) -- checked against libmodsecurity 3.0.15.
        let cases: &[(&str, &[u8], bool, &[u8])] = &[
            ("a bc", b"abc", true, b"a"),
            ("a bc", b"xa", true, b"a"),
            ("abde bq dz", b"abdz", false, b""),
            ("abcd bc", b"abcx", true, b"abc"),
            ("gzip compress deflate br zstd", b"GZIP", true, b"gzip"),
            ("gzip compress deflate br zstd", b"identity", false, b""),
            ("( )", b"f(", true, b"("),
            ("?>", b"<?php ?>", true, b"?>"),
            (
                "document.cookie .innerhtml",
                b"x.innerHTML=1",
                true,
                b".innerhtml",
            ),
            (
                "AppleWebKit Android",
                b"mozilla applewebkit",
                true,
                b"AppleWebKit",
            ),
            ("", b"anything", false, b""),
            ("x|41|y", b"xAy", true, b"xAy"),
            ("x|41|y", b"x|41|y", false, b""),
            ("a\\qb", b"a\\qb", true, b"a\\qb"),
            ("a\\qb", b"aqb", false, b""),
            ("a\\:b", b"xa:bx", true, b"a:b"),
        ];
        for (arg, input, want, cap) in cases {
            let op = build_op("pm", arg);
            assert_eq!(eval(op.as_ref(), input), *want, "{arg:?} {input:?}");
            let (hit, caps) = eval_capture(op.as_ref(), input);
            assert_eq!(hit, *want);
            if *want {
                assert_eq!(caps, vec![cap.to_vec()], "{arg:?} {input:?}");
            }
        }
    }

    #[test]
    fn content_parsing() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("a b", Some(b"a b")),
            ("  \"a b\"", Some(b"a b")),
            ("a\\:b", Some(b"a:b")),
            ("a\\\\:b", Some(b"a\\:b")),
            ("a\\qb", None),
            ("|41|", Some(b"A")),
            ("x|4a|y", Some(b"xJy")),
            ("x|ab|y", Some(b"x\xaby")),
            ("x|41 42|y", Some(b"xABy")),
            ("x|00|y", Some(b"x")),
            ("", None),
        ];
        for (arg, want) in cases {
            assert_eq!(
                parse_pm_content(arg.as_bytes()).as_deref(),
                *want,
                "{arg:?}"
            );
        }
        assert_eq!(phrases("a\\qb c"), vec![b"a\\qb".to_vec(), b"c".to_vec()]);
    }
}
