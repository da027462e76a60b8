//! `@rx`: regular expression match (ModSecurity `Rx`, PCRE with `DOTALL | MULTILINE`).
//!
//! Description: true when the pattern matches anywhere in the input. Compiled once at
//! build time with the `regex` crate in byte mode: Unicode off (bytes and ASCII classes, as
//! PCRE without UTF), `.` matches new lines (PCRE `DOTALL`), `^`/`$` match at line
//! boundaries (PCRE `MULTILINE`, which ModSecurity v3 sets). Case-sensitive unless the
//! pattern says `(?i)`. PCRE-only spellings CRS uses are rewritten first (see
//! [`translate`]). With the `capture` action, slot 0 receives the whole match and slots
//! 1..=9 the groups (unset groups inside the range are empty; trailing unset groups are
//! left out, like PCRE's match count). An empty pattern matches everything. A pattern with
//! macros is compiled per evaluation from the expanded text (slow path; ModSecurity does
//! the same); a pattern that fails to compile then never matches. One PCRE difference is
//! emulated: `^` does not match after a newline that ends the input (`^$` does not match
//! `"a\n"`), which CRS relies on for e.g. 920120 over file names.
//!
//! Arguments: the regular expression.
//!
//! Example: `SecRule ARGS "@rx (?i)union\s+select" "id:1,capture,..."`

use regex::bytes::{Regex, RegexBuilder};

use super::{BuildContext, OpContext, Operator, OperatorError, has_macro, invalid};

/// Largest compiled program we accept (the big CRS alternations need far more than the
/// crate default).
const SIZE_LIMIT: usize = 256 << 20;
/// Lazy-DFA cache per regex and thread. Measured over the CRS set: 2, 16, 64 and 256 MiB
/// give the same throughput, so keep it small (it bounds memory per regex and thread).
const DFA_SIZE_LIMIT: usize = 4 << 20;
/// Capture slots ModSecurity exposes as TX:0..TX:9.
pub(crate) const MAX_SLOTS: usize = 10;

/// Compiled `@rx`.
#[derive(Debug)]
pub(crate) struct Rx {
    re: Option<Regex>,
    /// The pattern has a `^` outside character classes (see [`has_caret`]).
    caret: bool,
    /// The raw pattern when it holds macros.
    dynamic: Option<String>,
}

/// Rewrites PCRE spellings the `regex` crate does not accept into equivalents:
/// `\x{HH}` becomes `\xHH` (values above `FF` are kept as `\x{...}`); everything else
/// is copied verbatim, escapes included.
pub(crate) fn translate(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'x') && b.get(i + 2) == Some(&b'{') {
                let start = i + 3;
                let mut j = start;
                while j < b.len() && b[j].is_ascii_hexdigit() {
                    j += 1;
                }
                let digits = &pattern[start..j];
                if b.get(j) == Some(&b'}') && !digits.is_empty() && digits.len() <= 2 {
                    out.push_str(&pattern[last..i]);
                    out.push_str("\\x");
                    if digits.len() == 1 {
                        out.push('0');
                    }
                    out.push_str(digits);
                    i = j + 1;
                    last = i;
                    continue;
                }
            }
            // Skip the escaped character (whole UTF-8 sequence) so `\\x{..}` stays literal.
            i += 1;
            if let Some(c) = pattern[i..].chars().next() {
                i += c.len_utf8();
            }
            continue;
        }
        i += 1;
    }
    out.push_str(&pattern[last..]);
    out
}

/// Compiles a pattern with ModSecurity's flags.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    let translated = translate(if pattern.is_empty() { ".*" } else { pattern });
    RegexBuilder::new(&translated)
        .unicode(false)
        .dot_matches_new_line(true)
        .multi_line(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
}

/// Factory for `@rx`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(Rx::new(argument)?))
}

impl Rx {
    /// Compiles `argument`, deferring to evaluation time when it holds macros.
    pub(crate) fn new(argument: &str) -> Result<Self, OperatorError> {
        if has_macro(argument) {
            return Ok(Self {
                re: None,
                caret: false,
                dynamic: Some(argument.to_owned()),
            });
        }
        let re = compile(argument).map_err(|e| invalid("rx", e.to_string()))?;
        Ok(Self {
            re: Some(re),
            caret: has_caret(argument),
            dynamic: None,
        })
    }
}

/// Whether the pattern holds a `^` outside character classes. With PCRE's `MULTILINE`,
/// `^` does not match after a newline that ends the subject, while the `regex` crate's
/// multi-line `^` does; such patterns get a check in [`run`].
pub(crate) fn has_caret(pattern: &str) -> bool {
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => {
                in_class = true;
                // `[^` negates and `[]` / `[^]` start with a literal `]`.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b'[' if b.get(i + 1) == Some(&b':') => {
                // POSIX class `[:name:]` inside a class.
                while i < b.len() && !(b[i] == b':' && b.get(i + 1) == Some(&b']')) {
                    i += 1;
                }
                i += 1;
            }
            b']' if in_class => in_class = false,
            b'^' if !in_class => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// A leftmost match that starts at the very end of an input ending in a newline can only
/// exist through `^` asserted after that newline, which PCRE refuses: ModSecurity then
/// reports no match. (The leftmost match starting there means no earlier start matched.)
fn pcre_rejects(caret: bool, input: &[u8], start: usize) -> bool {
    caret && start == input.len() && input.last() == Some(&b'\n')
}

/// Runs `re` once; with captures requested, fills slot 0 and groups 1..=9. `caret` is
/// [`has_caret`] of the pattern.
pub(crate) fn run(re: &Regex, caret: bool, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
    // The match test alone is much cheaper than a capture search (no slot allocation, no
    // capture engine), and most evaluations do not match: run it first, and search for
    // captures only once a match is known (both see the same leftmost-first match).
    let matched = if caret && input.last() == Some(&b'\n') {
        re.find(input)
            .is_some_and(|m| !pcre_rejects(caret, input, m.start()))
    } else {
        re.is_match(input)
    };
    let Some(caps) = ctx.captures.as_deref_mut() else {
        return matched;
    };
    if !matched {
        return false;
    }
    let mut locs = re.capture_locations();
    if re.captures_read(&mut locs, input).is_none() {
        return false;
    }
    if locs
        .get(0)
        .is_some_and(|(s, _)| pcre_rejects(caret, input, s))
    {
        return false;
    }
    caps.clear();
    let n = locs.len().min(MAX_SLOTS);
    // PCRE reports groups up to the highest one that took part in the match.
    let used = (0..n)
        .rev()
        .find(|&g| locs.get(g).is_some())
        .map_or(0, |g| g + 1);
    for g in 0..used {
        let slot = locs
            .get(g)
            .and_then(|(s, e)| input.get(s..e))
            .unwrap_or_default();
        caps.push(slot.to_vec());
    }
    true
}

impl Operator for Rx {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        if let Some(re) = &self.re {
            return run(re, self.caret, ctx, input);
        }
        let pattern = match (ctx.expanded, &self.dynamic) {
            (Some(e), _) => String::from_utf8_lossy(e).into_owned(),
            (None, Some(d)) => d.clone(),
            (None, None) => return false,
        };
        match compile(&pattern) {
            Ok(re) => run(&re, has_caret(&pattern), ctx, input),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::test_util::{build_op, eval, eval_capture, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("abc", b"xxabcxx", true),
            ("abc", b"ABC", false),
            ("(?i)abc", b"xABC", true),
            ("^b", b"a\nb", true),
            ("a$", b"a\nb", true),
            ("a.b", b"a\nb", true),
            ("\\x{41}", b"A", true),
            ("\\x41", b"A", true),
            ("\\xff", b"\xff", true),
            ("[\\x80-\\xff]", b"caf\xc3\xa9", true),
            ("[\\x80-\\xff]", b"cafe", false),
            ("\\w+", b"\xc3\xa9", false),
            ("", b"anything", true),
            ("", b"", true),
            ("(?i)select.+from", b"SELECT a FROM b", true),
            ("\\s", b"\x0b", true),
            // PCRE: `^` never matches after a final newline (checked with libmodsecurity).
            ("^$", b"a\n", false),
            ("^0?$", b"x\n", false),
            ("^$", b"\n", true),
            ("^$", b"", true),
            ("^$", b"a\n\nb", true),
            ("^b", b"a\nb\n", true),
            ("[^a]$", b"a\n", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("rx", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
    }

    #[test]
    fn captures() {
        let op = build_op("rx", "(a)(x)?(c)?");
        let (hit, caps) = eval_capture(op.as_ref(), b"zab");
        assert!(hit);
        assert_eq!(caps, vec![b"a".to_vec(), b"a".to_vec()]);
        let op = build_op("rx", "(a)(x)?(c)");
        let (_, caps) = eval_capture(op.as_ref(), b"ac");
        assert_eq!(
            caps,
            vec![b"ac".to_vec(), b"a".to_vec(), vec![], b"c".to_vec()]
        );
        let op = build_op("rx", "(1)(2)(3)(4)(5)(6)(7)(8)(9)(0)(a)");
        let (_, caps) = eval_capture(op.as_ref(), b"1234567890a");
        assert_eq!(caps.len(), 10);
        assert_eq!(caps[9], b"9");
        // No match leaves the slots alone.
        let (hit, caps) = eval_capture(build_op("rx", "q").as_ref(), b"zz");
        assert!(!hit);
        assert_eq!(caps, vec![b"stale".to_vec()]);
    }

    #[test]
    fn caret_detection() {
        let cases: &[(&str, bool)] = &[
            ("^a", true),
            ("a|^b", true),
            ("[^a]", false),
            ("\\^", false),
            ("[a^]", false),
            ("[]^]x", false),
            ("[[:alpha:]^]", false),
            ("[^]]^", true),
            ("(?:x)^", true),
        ];
        for (p, want) in cases {
            assert_eq!(has_caret(p), *want, "{p:?}");
        }
        let (hit, _) = eval_capture(build_op("rx", "^$").as_ref(), b"a\n");
        assert!(!hit);
    }

    #[test]
    fn translation() {
        assert_eq!(translate("\\x{41}\\x{5c}"), "\\x41\\x5c");
        assert_eq!(translate("\\x{9}"), "\\x09");
        assert_eq!(translate("\\\\x{41}"), "\\\\x{41}");
        assert_eq!(translate("\\x{263a}é"), "\\x{263a}é");
    }

    #[test]
    fn macros_and_errors() {
        let op = build_op("rx", "^%{tx.prefix}");
        assert!(eval_expanded(op.as_ref(), b"ab", b"abc"));
        assert!(!eval_expanded(op.as_ref(), b"(", b"abc"));
        let loader = seclang::loader::MemLoader::new();
        let ctx = BuildContext {
            loader: &loader,
            base_dir: std::path::Path::new("/"),
        };
        assert!(crate::operators::build("rx", "(", &ctx).is_err());
    }

    /// Every `@rx` argument of the CRS rule files, by a simple line scan.
    fn crs_rx_patterns() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs/rules");
        let mut out = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        {
            let text = std::fs::read_to_string(&path).unwrap();
            let joined = text.replace("\\\n", " ");
            for (n, line) in joined.lines().enumerate() {
                let Some(start) = line.find("\"@rx ").or_else(|| line.find("\"!@rx ")) else {
                    continue;
                };
                let rest = &line[start..];
                let rest = &rest[rest.find("@rx ").unwrap() + 4..];
                let mut end = None;
                let b = rest.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            end = Some(i);
                            break;
                        }
                        _ => i += 1,
                    }
                }
                let pat = &rest[..end.unwrap_or(rest.len())];
                out.push((format!("{}:{}", path.display(), n + 1), pat.to_owned()));
            }
        }
        out
    }

    #[test]
    fn every_crs_rx_compiles() {
        let patterns = crs_rx_patterns();
        assert!(
            patterns.len() > 250,
            "found only {} @rx patterns",
            patterns.len()
        );
        let mut failures = Vec::new();
        for (at, pat) in &patterns {
            if let Err(e) = compile(pat) {
                failures.push(format!("{at}: {e}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} failed:\n{}",
            failures.len(),
            patterns.len(),
            failures.join("\n")
        );
    }

    /// Timing numbers for the report: `cargo test -p waf --release --lib crs_rx_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing report, run by hand in release mode"]
    fn crs_rx_timing() {
        let patterns = crs_rx_patterns();
        let t0 = std::time::Instant::now();
        let compiled: Vec<Regex> = patterns.iter().map(|(_, p)| compile(p).unwrap()).collect();
        let compile_time = t0.elapsed();
        let benign: Vec<u8> = b"id=12345&name=John+Smith&email=john.smith%40example.com&comment=Hello+there,+this+is+a+perfectly+normal+comment+about+the+weather+today.&page=2&sort=desc"
            .iter()
            .copied()
            .cycle()
            .take(1024)
            .collect();
        // Warm up the lazy DFA caches, then time.
        for re in &compiled {
            let _ = re.is_match(&benign);
        }
        let rounds = 20u32;
        let t1 = std::time::Instant::now();
        let mut hits = 0usize;
        for _ in 0..rounds {
            for re in &compiled {
                hits += usize::from(re.is_match(&benign));
            }
        }
        let per_round = t1.elapsed() / rounds;
        println!(
            "CRS @rx: {} patterns compiled in {:?}; all of them over 1 KiB benign input: {:?} per pass ({} hits per pass)",
            compiled.len(),
            compile_time,
            per_round,
            hits / rounds as usize
        );
    }
}
