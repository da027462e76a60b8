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

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use super::pcre::translate;
use super::required::{self, Required};
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
    /// The pattern, when it holds no macros.
    pattern: Option<Pattern>,
    /// The raw pattern when it holds macros.
    dynamic: Option<String>,
}

/// Backtracking steps the fallback engine may take in one evaluation before it gives up
/// (the evaluation then reports no match and flags the transaction).
pub(crate) const FANCY_BACKTRACK_LIMIT: usize = 100_000;

/// A statically known `@rx` pattern, syntax-checked at load time and compiled on first use.
///
/// Building the `regex` crate's automata is where CRS compile time goes, and at paranoia
/// level 1 most CRS patterns are never evaluated (their rules sit behind paranoia-level
/// skips), so full compilation is deferred to the first evaluation (`OnceLock`: one thread
/// compiles, others wait). The load-time check parses the pattern with the same flags, so
/// syntax errors are still reported with the rule's file and line.
///
/// Patterns that need backtracking (lookaround, backreferences; a handful in CRS 3.3) are
/// compiled at load time with `fancy-regex` and a backtrack limit instead.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// The pattern after [`translate`].
    translated: String,
    /// [`has_caret`] of the pattern.
    caret: bool,
    /// No match can be shorter than this (from the parsed pattern; 0 when unknown): a
    /// shorter input is answered without running the regex. Exact, and most CRS patterns
    /// need more bytes than short parameter values hold.
    min_len: usize,
    /// Literals every match contains one of ([`required`]); `None`: no useful set.
    required: Option<Vec<Vec<u8>>>,
    /// Bytes one of which every match holds ([`required::bytes`]); `None`: no useful set.
    required_bytes: Option<required::ByteSet>,
    /// The pattern is `^.*$`: with `.` matching new lines it matches every input whole
    /// (CRS 920450 captures each header name this way), answered without a regex.
    whole: bool,
    engine: Engine,
}

/// A pattern compiled for the `regex` crate, with its required-literal screen.
#[derive(Debug)]
struct Compiled {
    re: Regex,
    /// Inputs this screen rejects cannot match `re` (checked before it, much cheaper).
    required: Option<Required>,
}

#[derive(Debug)]
enum Engine {
    /// `regex` crate, built on first use; `None` inside: building failed (never matches,
    /// and flags the evaluation).
    Lazy(OnceLock<Option<Compiled>>),
    /// Backtracking fallback (the pattern runs over the input read as Latin-1, one
    /// character per byte, as PCRE without UTF does).
    Fancy(Box<fancy_regex::Regex>),
}

/// Whether the `regex` crate refused the pattern only for lookaround, backreferences or
/// possessive quantifiers (backtracking constructs).
fn needs_backtracking(e: &regex_syntax::Error) -> bool {
    matches!(
        e,
        regex_syntax::Error::Parse(p) if matches!(
            p.kind(),
            regex_syntax::ast::ErrorKind::UnsupportedLookAround
                | regex_syntax::ast::ErrorKind::UnsupportedBackreference
                // Possessive quantifiers (`\s*+`): a quantifier after a quantifier.
                | regex_syntax::ast::ErrorKind::RepetitionMissing
        )
    )
}

/// Required literals of a pattern (see [`required`]).
type Literals = Vec<Vec<u8>>;

/// What the syntax tree says about every match: its shortest length, literals one of which
/// it contains, bytes one of which it holds.
type Needs = (usize, Option<Literals>, Option<required::ByteSet>);

/// Parses (without compiling) a translated pattern with the flags [`build_translated`] uses;
/// returns what every match needs.
fn syntax_check(translated: &str) -> Result<Needs, Box<regex_syntax::Error>> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .multi_line(true)
        .build()
        .parse(translated)
        .map(|hir| {
            (
                hir.properties().minimum_len().unwrap_or(0),
                required::literals(&hir),
                required::bytes(&hir),
            )
        })
        .map_err(Box::new)
}

impl Pattern {
    /// Checks `pattern` and prepares it (see the type's documentation).
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let translated = translate(if pattern.is_empty() { ".*" } else { pattern });
        let caret = has_caret(pattern);
        let mut min_len = 0;
        let mut required = None;
        let mut required_bytes = None;
        let engine = match syntax_check(&translated) {
            Ok((n, lits, bytes)) => {
                min_len = n;
                required = lits;
                required_bytes = bytes;
                Engine::Lazy(OnceLock::new())
            }
            Err(e) if needs_backtracking(&e) => Engine::Fancy(Box::new(
                fancy_regex::RegexBuilder::new(&format!("(?sm){translated}"))
                    .backtrack_limit(FANCY_BACKTRACK_LIMIT)
                    .build()
                    .map_err(|e| e.to_string())?,
            )),
            Err(e) => return Err(e.to_string()),
        };
        Ok(Self {
            whole: translated == "^.*$",
            translated,
            caret,
            min_len,
            required,
            required_bytes,
            engine,
        })
    }

    /// Builds the regex and its screen (on first use).
    fn compile(&self) -> Option<Compiled> {
        let re = build_translated(&self.translated).ok()?;
        Some(Compiled {
            re,
            required: match (&self.required, &self.required_bytes) {
                (Some(lits), _) => Required::build(lits),
                (None, Some(set)) => Some(Required::from_bytes(set)),
                (None, None) => None,
            },
        })
    }

    /// Whether this pattern runs on the backtracking fallback.
    #[cfg(test)]
    pub(crate) fn is_fallback(&self) -> bool {
        matches!(self.engine, Engine::Fancy(_))
    }

    /// Compiles now if not done yet; false when compilation failed.
    pub(crate) fn force(&self) -> bool {
        match &self.engine {
            Engine::Lazy(cell) => cell.get_or_init(|| self.compile()).is_some(),
            Engine::Fancy(_) => true,
        }
    }

    /// Evaluates like [`run`]; sets `ctx.limit_exceeded` when it could not decide.
    pub(crate) fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        if input.len() < self.min_len {
            return false;
        }
        if self.whole {
            if let Some(caps) = ctx.captures.as_deref_mut() {
                caps.clear();
                caps.push(input.to_vec());
            }
            return true;
        }
        match &self.engine {
            Engine::Lazy(cell) => match cell.get_or_init(|| self.compile()) {
                Some(c) => {
                    if c.required.as_ref().is_some_and(|r| !r.matches(input)) {
                        return false;
                    }
                    run(&c.re, self.caret, ctx, input)
                }
                None => {
                    ctx.limit_exceeded = true;
                    false
                }
            },
            Engine::Fancy(re) => run_fancy(re, self.caret, ctx, input),
        }
    }
}

/// Runs the backtracking fallback over `input` read as Latin-1 (one character per byte,
/// so character offsets and byte offsets agree in count and captures map back exactly).
fn run_fancy(re: &fancy_regex::Regex, caret: bool, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
    let text: String = input.iter().map(|&b| char::from(b)).collect();
    let caps = match re.captures(&text) {
        Ok(Some(c)) => c,
        Ok(None) => return false,
        Err(_) => {
            ctx.limit_exceeded = true;
            return false;
        }
    };
    // Only a match starting at the very end needs the PCRE `^` check (see `pcre_rejects`).
    if caps
        .get(0)
        .is_some_and(|m| m.start() == text.len() && pcre_rejects(caret, input, input.len()))
    {
        return false;
    }
    if let Some(slots) = ctx.captures.as_deref_mut() {
        let back =
            |s: &str| -> Vec<u8> { s.chars().map(|c| u8::try_from(c).unwrap_or(b'?')).collect() };
        slots.clear();
        let n = caps.len().min(MAX_SLOTS);
        let used = (0..n)
            .rev()
            .find(|&g| caps.get(g).is_some())
            .map_or(0, |g| g + 1);
        for g in 0..used {
            slots.push(caps.get(g).map(|m| back(m.as_str())).unwrap_or_default());
        }
    }
    true
}

/// Compiles a pattern with ModSecurity's flags.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    build_translated(&translate(if pattern.is_empty() { ".*" } else { pattern }))
}

/// Compiles an already [`translate`]d pattern.
fn build_translated(translated: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(translated)
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
    /// Prepares `argument`, deferring to evaluation time when it holds macros.
    pub(crate) fn new(argument: &str) -> Result<Self, OperatorError> {
        if has_macro(argument) {
            return Ok(Self {
                pattern: None,
                dynamic: Some(argument.to_owned()),
            });
        }
        let pattern = Pattern::new(argument).map_err(|e| invalid("rx", e))?;
        Ok(Self {
            pattern: Some(pattern),
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
    fn precompile(&self) {
        if let Some(p) = &self.pattern {
            let _ = p.force();
        }
    }

    fn required_literals(&self) -> Option<(&[Vec<u8>], usize)> {
        let p = self.pattern.as_ref()?;
        match (&p.engine, &p.required) {
            (Engine::Lazy(_), Some(lits)) => Some((lits.as_slice(), p.min_len)),
            _ => None,
        }
    }

    fn required_bytes(&self) -> Option<([u64; 4], usize)> {
        let p = self.pattern.as_ref()?;
        match (&p.engine, p.required_bytes) {
            (Engine::Lazy(_), Some(set)) => Some((set, p.min_len)),
            _ => None,
        }
    }

    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        if let Some(p) = &self.pattern {
            return p.evaluate(ctx, input);
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

    /// `^.*$` is answered without the regex; the answer and capture are the regex's.
    #[test]
    fn whole_input_pattern() {
        let fast = build_op("rx", "^.*$");
        let slow = build_op("rx", "^(?:.*)$");
        for input in [
            &b""[..],
            b"x",
            b"Host",
            b"a\nb",
            b"x\n",
            b"\n",
            b"\xff\x00z",
        ] {
            assert_eq!(
                eval_capture(fast.as_ref(), input),
                eval_capture(slow.as_ref(), input),
                "{input:?}"
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

    #[test]
    fn lazy_compilation() {
        // Syntax errors are still reported at build time.
        assert!(Pattern::new("(").is_err());
        assert!(Pattern::new("[z-a]").is_err());
        let p = Pattern::new("a+b").unwrap();
        assert!(!p.is_fallback());
        assert_eq!(p.min_len, 2);
        assert_eq!(Pattern::new("(?i)union\\s+select").unwrap().min_len, 12);
        assert_eq!(Pattern::new("^$").unwrap().min_len, 0);
        assert_eq!(Pattern::new("a|bcd").unwrap().min_len, 1);
        assert!(!p.evaluate(&mut OpContext::default(), b"b"));
        assert!(p.force());
        let p = Pattern::new("(?i)x").unwrap();
        let mut ctx = OpContext::default();
        assert!(p.evaluate(&mut ctx, b"aXa"));
        assert!(!ctx.limit_exceeded);
    }

    /// The bounded `fancy-regex` fallback for patterns the `regex` crate refuses.
    #[test]
    fn fallback_table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("a(?=b)", b"xab", true),
            ("a(?=b)", b"xac", false),
            ("a(?!b)", b"ab", false),
            ("a(?!b)", b"ac", true),
            ("(?<=x)y", b"xy", true),
            ("(?<!x)y", b"xy", false),
            ("(?<!x)y", b"zy", true),
            ("(a)\\1", b"aa", true),
            ("(a)\\1", b"ab", false),
            // DOTALL and MULTILINE, as ModSecurity sets them.
            ("a.b(?=c)", b"a\nbc", true),
            ("^b(?=c)", b"a\nbc", true),
            // PCRE: `^` never matches after a final newline.
            ("^(?=$)", b"a\n", false),
            // Bytes are Latin-1 characters, non-UTF-8 input included.
            ("(?<=\\xff)a", b"\xffa", true),
            ("(?<=\\xff)a", b"\xfea", false),
            ("[\\x80-\\xff](?=z)", b"\xc3z", true),
            ("(?i)select(?=\\s)", b"SELECT x", true),
        ];
        for (pat, input, want) in cases {
            let p = Pattern::new(pat).unwrap_or_else(|e| panic!("{pat}: {e}"));
            assert!(p.is_fallback(), "{pat} should need the fallback");
            let mut ctx = OpContext::default();
            assert_eq!(p.evaluate(&mut ctx, input), *want, "{pat:?} {input:?}");
            assert!(!ctx.limit_exceeded, "{pat}");
        }
        // Captures map back to the original bytes.
        let op = build_op("rx", "(\\w+)=\\1(\\xff)?");
        let (hit, caps) = eval_capture(op.as_ref(), b"z k=k\xff");
        assert!(hit);
        assert_eq!(
            caps,
            vec![b"k=k\xff".to_vec(), b"k".to_vec(), b"\xff".to_vec()]
        );
        // A pattern the fallback cannot compile is still a load error.
        assert!(Pattern::new("(?<=a+)b").is_err());
    }

    #[test]
    fn fallback_backtrack_limit() {
        let p = Pattern::new("^(a+)+(?=b)").unwrap();
        assert!(p.is_fallback());
        let mut input = vec![b'a'; 40];
        input.push(b'c');
        let mut ctx = OpContext::default();
        let start = std::time::Instant::now();
        assert!(!p.evaluate(&mut ctx, &input));
        assert!(ctx.limit_exceeded, "backtrack limit not reached");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let mut ctx = OpContext::default();
        assert!(p.evaluate(&mut ctx, b"aab"));
        assert!(!ctx.limit_exceeded);
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

    /// Debian's CRS 3.3 (when the package is installed): every `@rx` (as the SecLang parser
    /// reads it) is accepted, and only a few need the fallback.
    #[test]
    fn debian_crs33_patterns() {
        let dir = std::path::Path::new("/usr/share/modsecurity-crs/rules");
        if !dir.is_dir() {
            eprintln!("SKIPPED: {} not present", dir.display());
            return;
        }
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        files.sort();
        let (mut fallback, mut errors, mut total) = (Vec::new(), Vec::new(), 0);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let dirs = seclang::parse_str(&text, &path.display().to_string()).unwrap();
            for d in dirs {
                let seclang::ast::DirectiveKind::Rule(r) = &d.kind else {
                    continue;
                };
                let op = &r.operator;
                if !op.name.eq_ignore_ascii_case("rx") || has_macro(&op.argument) {
                    continue;
                }
                total += 1;
                let at = format!("{}:{}", path.display(), op.span.line);
                match Pattern::new(&op.argument) {
                    Ok(p) if p.is_fallback() => fallback.push(at),
                    Ok(_) => {}
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
        }
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        eprintln!(
            "{} of {total} patterns on the fallback: {fallback:#?}",
            fallback.len()
        );
        assert!(fallback.len() < 20, "{fallback:?}");
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
