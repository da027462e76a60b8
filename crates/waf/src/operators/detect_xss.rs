//! `@detectXSS`: cross-site scripting detection with libinjection.
//!
//! Description: runs libinjection's HTML5 tokenizer based XSS check (the `libinjectionrs`
//! port) over the input, as ModSecurity's `DetectXSS` does with `libinjection_xss`. With
//! the `capture` action, slot 0 receives the whole input (as libmodsecurity 3.0.15 does).
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS "@detectXSS" "id:941100,..."`

use super::{BuildContext, OpContext, Operator, OperatorError, set_captures};

/// Compiled `@detectXSS`.
#[derive(Debug)]
struct DetectXss;

/// Factory for `@detectXSS`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(DetectXss))
}

impl Operator for DetectXss {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        if never_xss(input) {
            return false;
        }
        if !libinjectionrs::detect_xss(input).is_injection() {
            return false;
        }
        set_captures(ctx, [input]);
        true
    }
}

/// Whether libinjection's XSS check provably never flags `input`, which is then answered
/// without running it: no `<`, and either no `=`, or no quote (`'`, `"`, `` ` ``), no NUL
/// byte and no `=` whose attribute name may be blacklisted (see [`maybe_black_attr`]; the
/// name is the run of bytes other than HTML white space, `/`, `=` and `>` that ends right
/// before the `=`, white space between them allowed).
///
/// Why, following `XssDetector::detect` in `libinjectionrs` 0.1, which tokenizes the input
/// with `Html5State` in five contexts and flags it (`is_xss`) on a `DOCTYPE`, a
/// blacklisted tag name (`is_black_tag`), a comment (`TagComment`), or an attribute value
/// right after an attribute name that `is_black_attr` classes (then for `Black` and
/// `Style` always, for `AttrUrl` by `is_black_url`, for `AttrIndirect` by the value).
/// - Doctypes, tag names and comments all come from `state_tag_open`, which only
///   `state_data` enters, on a `<`: there is none.
/// - An attribute value is the first token of a quoted-value context (with no attribute
///   name before it), or follows an `=` (`state_before_attribute_value` is entered on
///   one only). So with no `=` nothing is ever flagged; with one, the contexts go as
///   follows.
/// - Data context: without `<`, `state_data` yields one text token.
/// - Quoted-value contexts (`'`, `"`, `` ` ``): with no such quote, the whole input is one
///   attribute value with no attribute name before it, then the end.
/// - Unquoted-value context (`state_before_attribute_name`): an attribute value follows
///   only an `=` (`state_before_attribute_value`), and belongs to the attribute name
///   just before it, which `state_attribute_name` ended at that `=` or at white space
///   (`h5_is_white`) followed by white space and that `=` (`state_after_attribute_name`).
///   That name starts after white space, `/`, or at the start (the states that enter
///   `state_attribute_name`), so it is the run this function checks, or that run preceded
///   by an `=` byte (a name such as `=onclick`: `is_black_attr` matches none, its
///   patterns start with a letter). NUL bytes, which `h5_skip_white` skips and
///   `cstrcasecmp_with_null` ignores, are refused.
///
/// `never_xss_agrees_with_libinjection` compares it with the library on generated inputs.
pub(crate) fn never_xss(input: &[u8]) -> bool {
    // The common case first, in one cheap pass.
    if !input.iter().any(|&b| b == b'=' || b == b'<') {
        return true;
    }
    // The current run of name bytes starts at `start`; `name` is the last run, while only
    // white space followed it. Seen an `=`; seen a quote or NUL.
    let mut start = 0;
    let mut name: &[u8] = b"";
    let (mut eq, mut odd) = (false, false);
    for (i, &b) in input.iter().enumerate() {
        match b {
            b'<' => return false,
            b'\'' | b'"' | b'`' | 0 => {
                if eq {
                    return false;
                }
                odd = true;
            }
            b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b'/' | b'>' | b'=' => {
                let run = input.get(start..i).unwrap_or_default();
                if !run.is_empty() {
                    name = run;
                }
                if b == b'=' {
                    if odd || maybe_black_attr(name) {
                        return false;
                    }
                    eq = true;
                }
                if matches!(b, b'/' | b'>' | b'=') {
                    name = b"";
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    true
}

/// Whether `is_black_attr` may class `name` (a run with no NUL byte): it needs two bytes
/// or more and matches (case-insensitively) `on` and an event name, `xmlns`/`xlink` as a
/// prefix, or one of its fixed names; event and fixed names are ASCII letters but
/// `xlink:href`. So a name that is not all letters and starts with neither prefix is
/// never classed.
fn maybe_black_attr(name: &[u8]) -> bool {
    let prefix = |p: &[u8]| {
        name.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    name.len() >= 2
        && (name.iter().all(u8::is_ascii_alphabetic) || prefix(b"xmlns") || prefix(b"xlink"))
}

#[cfg(test)]
mod tests {
    use super::never_xss;
    use crate::operators::test_util::{build_op, eval, eval_capture};

    /// Every input [`never_xss`] accepts is clean for libinjection: several hundred
    /// thousand generated inputs of the accepted shape, mixing blacklisted attribute names
    /// (events, `style`, `href`, `xmlns`...) in several cases, dangerous URL schemes,
    /// random words, `=`, `/`, `>`, every HTML white space byte and other punctuation.
    #[test]
    fn never_xss_agrees_with_libinjection() {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for w in [
            "onclick",
            "onload",
            "onerror",
            "onmouseover",
            "onfocus",
            "onbegin",
            "onzoom",
            "onwrite",
            "onshow",
            "onsearch",
            "onstart",
            "ontoggle",
            "onwheel",
            "style",
            "filter",
            "href",
            "src",
            "action",
            "formaction",
            "background",
            "poster",
            "lowsrc",
            "dynsrc",
            "by",
            "to",
            "from",
            "values",
            "handler",
            "folder",
            "attributename",
            "datasrc",
            "dataformatas",
            "xmlns",
            "xmlns:xlink",
            "xmlnsfoo",
            "xlink:href",
            "xlink",
            "xlinkx",
            "on",
            "one",
            "only",
            "online",
            "id",
            "name",
            "value",
            "q",
            "lang",
            "page",
            "x",
            "a1",
            "a-b",
            "a.b",
            "a:b",
            "a;b",
            "a&b",
            "on-click",
            "on_click",
            "javascript",
            "script",
            "svg",
            "iframe",
            "\u{e9}t\u{e9}",
        ] {
            let w = w.as_bytes();
            names.push(w.to_vec());
            names.push(w.to_ascii_uppercase());
            let mut mixed = w.to_vec();
            if let Some(c) = mixed.first_mut() {
                c.make_ascii_uppercase();
            }
            names.push(mixed);
        }
        let values: &[&[u8]] = &[
            b"javascript:alert(1)",
            b"JaVaScRiPt:x",
            b"&#106;avascript:x",
            b"&#x6A;avascript:x",
            b"vbscript:x",
            b"data:text/html,x",
            b"view-source:x",
            b"java",
            b"onclick",
            b"style",
            b"expression(x)",
            b"http://x/",
            b"1",
            b"",
        ];
        let punct: &[&[u8]] = &[
            b" ", b" ", b" ", b"\t", b"\n", b"\x0b", b"\x0c", b"\r", b"=", b"=", b"=", b" = ",
            b"/", b">", b"&", b"#", b";", b"(", b")", b":", b"-", b".", b",", b"?", b"%", b"!",
            b"\\", b"\x80", b"\xff",
        ];
        // Quotes and NUL, in inputs with no `=` (a third of them).
        let punct_odd: &[&[u8]] = &[
            b" ", b" ", b"\t", b"\x0b", b"'", b"\"", b"`", b"\0", b"/", b">", b"&", b"#", b";",
            b"(", b":", b"-", b"\"><", b"'>",
        ];
        let outside: &[&[u8]] = &[b"<", b"'", b"\"", b"`", b"\0"];
        let mut next = crate::util::xorshift(0x1234_5678_9abc_def1);
        let (mut accepted, mut with_eq, mut with_odd) = (0, 0, 0);
        let mut tried = 0u64;
        while accepted < 400_000 {
            tried += 1;
            assert!(tried < 20_000_000, "too few inputs accepted: {accepted}");
            let max = (next() % 65) as usize;
            let punct = if next().is_multiple_of(3) {
                punct_odd
            } else {
                punct
            };
            let mut v: Vec<u8> = Vec::new();
            while v.len() < max {
                let r = next() % 100;
                let piece: Vec<u8> = if r < 30 {
                    names[(next() % names.len() as u64) as usize].clone()
                } else if r < 45 {
                    values[(next() % values.len() as u64) as usize].to_vec()
                } else if r < 60 {
                    let letters =
                        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
                    let n = 1 + (next() % 8) as usize;
                    (0..n)
                        .map(|_| letters[(next() % letters.len() as u64) as usize])
                        .collect()
                } else if r < 99 {
                    punct[(next() % punct.len() as u64) as usize].to_vec()
                } else {
                    outside[(next() % outside.len() as u64) as usize].to_vec()
                };
                v.extend(piece);
            }
            v.truncate(max);
            if !never_xss(&v) {
                continue;
            }
            accepted += 1;
            if v.contains(&b'=') {
                with_eq += 1;
            }
            if v.iter().any(|b| b"'\"`\0".contains(b)) {
                with_odd += 1;
            }
            assert!(
                !libinjectionrs::detect_xss(&v).is_injection(),
                "{:?}",
                String::from_utf8_lossy(&v)
            );
        }
        assert!(
            with_eq > 50_000 && with_odd > 50_000,
            "{with_eq} {with_odd}"
        );
        // The shapes of real traffic the fast path is for.
        for v in [
            &b"value 00000001"[..],
            b"John Smith",
            b"hello world.",
            b"user@example.com",
            b"en-US,en;q=0.9",
            b"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            b"https://example.com/shop/item?id=42&page=3",
            b"a > b",
            b"O'Reilly",
            b"say \"hi\" `x` \0 onclick",
            b"",
        ] {
            assert!(never_xss(v), "{:?}", String::from_utf8_lossy(v));
        }
        // Refused: markup, quotes, NUL, `=` after a name that may be blacklisted.
        for v in [
            &b"<b>"[..],
            b"x' onclick=y",
            b"x'onclick=y",
            b"a=b'",
            b"q=1 \0",
            b"a onclick=alert(1)",
            b"a/onclick =x",
            b"style=x",
            b"xmlns:x=y",
            b"XLINK:HREF=javascript:x",
            b"by=x",
            b"x\0onclick=y",
        ] {
            assert!(!never_xss(v), "{:?}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn table() {
        // Expectations confirmed against libmodsecurity 3.0.15's @detectXSS.
        let cases: &[(&[u8], bool)] = &[
            (b"<script>alert(1)</script>", true),
            (b"<img src=x onerror=alert(1)>", true),
            (b"javascript:alert(1)", false),
            (b"\"><svg onload=alert(1)>", true),
            (b"hello world", false),
            (b"a < b and c > d", false),
            (b"", false),
            (b"<b>bold</b>", false),
        ];
        let op = build_op("detectXSS", "");
        for (input, want) in cases {
            assert_eq!(
                eval(op.as_ref(), input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
            if *want {
                assert_eq!(eval_capture(op.as_ref(), input).1, vec![input.to_vec()]);
            }
        }
    }
}
