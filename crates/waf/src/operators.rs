//! Operators: the test a rule applies to each (transformed) variable value.
//!
//! One file per operator under `operators/`, each with its own table test. Operators are
//! registered in the static, sorted [`OPERATORS`] table (names compared case-insensitively);
//! a unit test checks the table is sorted and unique.
//!
//! Semantics follow libmodsecurity v3 (3.0.15) byte for byte, quirks included (see each
//! operator's doc). Differential runs against libmodsecurity 3.0.15 during development:
//! every CRS v4 `@rx` over 400 CRS regression payloads (verdict, TX:0 and TX:1 identical in
//! 127,200 of 127,200 cases), `@pm`/`@pmFromFile` with eight CRS data files and tricky
//! phrase sets (verdict and TX:0 identical, 3,900 of 3,900), `@detectSQLi` (11,588 of
//! 11,591 verdicts, all fingerprints identical; the 3 misses are `libinjectionrs` false
//! negatives), `@detectXSS` (11,591 of 11,591), numeric, byte-range, URL/UTF-8 validation,
//! `@containsWord`, `@within`, `@ipMatch` (all identical).
//!
//! Capture contract: when `OpContext::captures` is `Some`, an operator that matches and
//! captures replaces its content with slot 0 (whole match / phrase / fingerprint) followed
//! by groups 1..=9; operators that do not capture in ModSecurity leave it untouched.
//! Operators that take macros use `OpContext::expanded` when the engine sets it.

use std::fmt;
use std::path::{Path, PathBuf};

use seclang::loader::FileLoader;

mod acmp;
mod begins_with;
mod contains;
mod contains_word;
mod detect_sqli;
mod detect_xss;
mod ends_with;
mod eq;
mod ge;
mod gt;
mod ip_match;
mod ip_match_from_file;
mod le;
mod lt;
mod no_match;
mod numeric;
mod pcre;
mod pm;
mod pm_from_file;
pub(crate) mod required;
mod rx;
mod rx_global;
mod str_eq;
mod str_match;
mod unconditional_match;
mod unsupported;
mod validate_byte_range;
mod validate_url_encoding;
mod validate_utf8_encoding;
mod verify_cc;
mod verify_cpf;
mod verify_ssn;
mod within;

/// What an operator sees besides its input value, per evaluation.
#[derive(Debug, Default)]
pub struct OpContext<'a> {
    /// The operator argument after macro expansion, set by the engine only when the rule's
    /// argument contains macros (`%{tx.foo}`). Operators that accept macros (`@eq`,
    /// `@streq`, `@within`, `@contains`, `@beginsWith`, `@endsWith`, `@ge`...) use it instead
    /// of their compiled argument when it is `Some`.
    pub expanded: Option<&'a [u8]>,
    /// Capture slots, `Some` only when the rule carries the `capture` action. An operator
    /// that captures clears it and pushes slot 0 (whole match) then groups 1..=9.
    pub captures: Option<&'a mut Vec<Vec<u8>>>,
    /// Set by an operator that could not decide and reported no match instead: a
    /// backtracking regex (the `fancy-regex` fallback of `@rx`) hit its backtrack limit, or
    /// a regex whose compilation was deferred failed to compile. The engine turns it into
    /// `MSC_PCRE_LIMITS_EXCEEDED` = 1 and [`crate::Transaction::regex_limit_exceeded`].
    pub limit_exceeded: bool,
}

/// A compiled operator. Immutable and shared across threads.
pub trait Operator: Send + Sync + fmt::Debug {
    /// Whether `input` matches. Never panics, whatever the bytes.
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool;

    /// Does now the work deferred to the first evaluation (regular expression compilation,
    /// phrase-set automata); the default has nothing to do.
    fn precompile(&self) {}

    /// Literals one of which every input this operator matches contains (compared ASCII
    /// case-insensitively), and the shortest input it can match. `None` (the default) when
    /// the operator cannot say; it then always runs. Rules whose operator answers are
    /// screened before evaluation (`screen.rs`), so an answer must never exclude an input
    /// the operator would match.
    fn required_literals(&self) -> Option<(&[Vec<u8>], usize)> {
        None
    }

    /// A set of bytes (bit `b % 64` of word `b / 64` for byte `b`) one of which every input
    /// this operator matches holds, and the shortest input it can match; `None` (the
    /// default) when the operator cannot say. The screen adds both ASCII cases of every
    /// letter before use, so the set may ignore case. Like [`Self::required_literals`], an
    /// answer must never exclude an input the operator would match.
    fn required_bytes(&self) -> Option<([u64; 4], usize)> {
        None
    }
}

/// What building an operator may need: data files for `@pmFromFile`, `@ipMatchFromFile`.
pub struct BuildContext<'a> {
    /// Reads data files. Relative paths resolve against `base_dir`.
    pub loader: &'a dyn FileLoader,
    /// The directory of the rule file being compiled.
    pub base_dir: &'a Path,
}

/// Why an operator could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// No operator has this name.
    #[error("unknown operator @{0}")]
    Unknown(String),
    /// The argument is not valid for this operator (bad regex, bad number, bad CIDR ...).
    #[error("invalid argument for @{name}: {reason}")]
    InvalidArgument {
        /// Operator name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A data file could not be read.
    #[error("cannot read data file {path}: {reason}")]
    DataFile {
        /// Path as resolved.
        path: String,
        /// The I/O error.
        reason: String,
    },
}

/// Builds an operator from its argument.
pub type Factory =
    fn(argument: &str, ctx: &BuildContext<'_>) -> Result<Box<dyn Operator>, OperatorError>;

/// All operators, sorted by lower-cased name.
pub static OPERATORS: &[(&str, Factory)] = &[
    ("beginswith", begins_with::build),
    ("contains", contains::build),
    ("containsword", contains_word::build),
    ("detectsqli", detect_sqli::build),
    ("detectxss", detect_xss::build),
    ("endswith", ends_with::build),
    ("eq", eq::build),
    ("fuzzyhash", unsupported::fuzzy_hash),
    ("ge", ge::build),
    ("geolookup", unsupported::geo_lookup),
    ("gsblookup", unsupported::gsb_lookup),
    ("gt", gt::build),
    ("inspectfile", unsupported::inspect_file),
    ("ipmatch", ip_match::build),
    ("ipmatchf", ip_match_from_file::build),
    ("ipmatchfromfile", ip_match_from_file::build),
    ("le", le::build),
    ("lt", lt::build),
    ("nomatch", no_match::build),
    ("pm", pm::build),
    ("pmf", pm_from_file::build),
    ("pmfromfile", pm_from_file::build),
    ("rbl", unsupported::rbl),
    ("rx", rx::build),
    ("rxglobal", rx_global::build),
    ("streq", str_eq::build),
    ("strmatch", str_match::build),
    ("unconditionalmatch", unconditional_match::build),
    ("validatebyterange", validate_byte_range::build),
    ("validatedtd", unsupported::validate_dtd),
    ("validateschema", unsupported::validate_schema),
    ("validateurlencoding", validate_url_encoding::build),
    ("validateutf8encoding", validate_utf8_encoding::build),
    ("verifycc", verify_cc::build),
    ("verifycpf", verify_cpf::build),
    ("verifyssn", verify_ssn::build),
    ("within", within::build),
];

/// Builds the operator `name` (without `@`, any case) with `argument`.
pub fn build(
    name: &str,
    argument: &str,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    let lower = name.to_ascii_lowercase();
    match OPERATORS.binary_search_by(|(n, _)| n.cmp(&lower.as_str())) {
        Ok(i) => (OPERATORS[i].1)(argument, ctx),
        Err(_) => Err(OperatorError::Unknown(name.to_owned())),
    }
}

/// The argument an operator works with for this evaluation: the macro-expanded text when the
/// engine supplied one, otherwise the argument compiled at build time.
pub(crate) fn effective_arg<'a>(ctx: &OpContext<'a>, compiled: &'a [u8]) -> &'a [u8] {
    ctx.expanded.unwrap_or(compiled)
}

/// Whether a rule argument contains a macro (`%{...}`) to be expanded per evaluation.
pub(crate) fn has_macro(argument: &str) -> bool {
    argument.contains("%{")
}

/// Shorthand for [`OperatorError::InvalidArgument`].
pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> OperatorError {
    OperatorError::InvalidArgument {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// Replaces the capture slots (when the rule captures) with `slots`, slot 0 first.
pub(crate) fn set_captures<'s, I>(ctx: &mut OpContext<'_>, slots: I)
where
    I: IntoIterator<Item = &'s [u8]>,
{
    if let Some(caps) = ctx.captures.as_deref_mut() {
        caps.clear();
        caps.extend(slots.into_iter().map(<[u8]>::to_vec));
    }
}

/// Resolves a data-file name against the rule file's directory (absolute names stay).
pub(crate) fn resolve_path(ctx: &BuildContext<'_>, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        ctx.base_dir.join(p)
    }
}

/// Reads a data file through the loader, mapping failures to [`OperatorError::DataFile`].
pub(crate) fn read_data_file(ctx: &BuildContext<'_>, name: &str) -> Result<Vec<u8>, OperatorError> {
    let path = resolve_path(ctx, name);
    ctx.loader.read(&path).map_err(|e| OperatorError::DataFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the operator table tests.
    use super::*;
    use seclang::loader::MemLoader;

    /// Builds `name` with `arg` against an empty in-memory loader rooted at `/rules`.
    /// Inputs for [`required_bytes_hold`]: plain text, line ends, UTF-8 and broken UTF-8,
    /// NUL, `%` escapes good and bad, DEL, 0xFF.
    pub(crate) const BYTE_SET_INPUTS: &[&[u8]] = &[
        b"",
        b"plain",
        b"hello world\r\n",
        b"caf\xc3\xa9",
        b"\xc3",
        b"\0x",
        b"a%b",
        b"100%",
        b"%41",
        b"%zz",
        b"tab\tok",
        b"\x7f",
        b"\xff",
    ];

    /// Checks [`Operator::required_bytes`] of `op` on `inputs`: every input it matches is
    /// long enough and holds a byte of the set; returns how many inputs the set rejects.
    pub(crate) fn required_bytes_hold(op: &dyn Operator, inputs: &[&[u8]]) -> usize {
        let (set, min_len) = op.required_bytes().expect("operator has a byte set");
        let mut rejected = 0;
        for input in inputs {
            let screened =
                input.len() < min_len || !input.iter().any(|b| required::has_byte(&set, *b));
            if screened {
                rejected += 1;
                assert!(!eval(op, input), "byte set rejects a match on {input:?}");
            }
        }
        rejected
    }

    pub(crate) fn build_op(name: &str, arg: &str) -> Box<dyn Operator> {
        build_with(name, arg, &MemLoader::new())
    }

    /// Builds `name` with `arg` against `loader`, rooted at `/rules`.
    pub(crate) fn build_with(name: &str, arg: &str, loader: &MemLoader) -> Box<dyn Operator> {
        let ctx = BuildContext {
            loader,
            base_dir: Path::new("/rules"),
        };
        match build(name, arg, &ctx) {
            Ok(op) => op,
            Err(e) => panic!("build @{name} {arg:?}: {e}"),
        }
    }

    /// Evaluates without captures or macros.
    pub(crate) fn eval(op: &dyn Operator, input: &[u8]) -> bool {
        op.evaluate(&mut OpContext::default(), input)
    }

    /// Evaluates with capture on; returns the verdict and the slots.
    pub(crate) fn eval_capture(op: &dyn Operator, input: &[u8]) -> (bool, Vec<Vec<u8>>) {
        let mut caps = vec![b"stale".to_vec()];
        let hit = op.evaluate(
            &mut OpContext {
                expanded: None,
                captures: Some(&mut caps),
                limit_exceeded: false,
            },
            input,
        );
        (hit, caps)
    }

    /// Evaluates with a macro-expanded argument.
    pub(crate) fn eval_expanded(op: &dyn Operator, expanded: &[u8], input: &[u8]) -> bool {
        op.evaluate(
            &mut OpContext {
                expanded: Some(expanded),
                captures: None,
                limit_exceeded: false,
            },
            input,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operator name the brief requires, lower-cased.
    const REQUIRED: &[&str] = &[
        "rx",
        "pm",
        "pmfromfile",
        "pmf",
        "streq",
        "contains",
        "containsword",
        "beginswith",
        "endswith",
        "within",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ipmatch",
        "ipmatchfromfile",
        "ipmatchf",
        "validatebyterange",
        "validateurlencoding",
        "validateutf8encoding",
        "detectsqli",
        "detectxss",
        "unconditionalmatch",
        "nomatch",
        "strmatch",
        "rxglobal",
        "verifycc",
        "verifyssn",
        "verifycpf",
        "rbl",
        "geolookup",
        "inspectfile",
        "fuzzyhash",
        "validatedtd",
        "validateschema",
        "gsblookup",
    ];

    #[test]
    fn table_sorted_unique_lowercase_and_complete() {
        for w in OPERATORS.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "not sorted/unique: {} >= {}",
                w[0].0,
                w[1].0
            );
        }
        for (n, _) in OPERATORS {
            assert_eq!(*n, n.to_ascii_lowercase());
        }
        for r in REQUIRED {
            assert!(OPERATORS.iter().any(|(n, _)| n == r), "missing @{r}");
        }
    }

    #[test]
    fn unknown_operator() {
        let loader = seclang::loader::MemLoader::new();
        let ctx = BuildContext {
            loader: &loader,
            base_dir: Path::new("/"),
        };
        assert!(matches!(
            build("nope", "", &ctx),
            Err(OperatorError::Unknown(_))
        ));
        assert!(build("StrEq", "x", &ctx).is_ok());
    }

    /// Every operator, over hostile inputs, with and without captures and macro text:
    /// no panic, and the verdict does not depend on whether captures are requested.
    #[test]
    fn nasty_inputs_never_panic() {
        let mut loader = seclang::loader::MemLoader::new();
        loader.insert("/rules/p.data", "abc\n#c\n\nx y\n");
        loader.insert("/rules/ip.data", "10.0.0.0/8\n");
        let ctx = BuildContext {
            loader: &loader,
            base_dir: Path::new("/rules"),
        };
        let ops: &[(&str, &str)] = &[
            ("beginsWith", "ab"),
            ("contains", "ab"),
            ("containsWord", "ab"),
            ("detectSQLi", ""),
            ("detectXSS", ""),
            ("endsWith", "ab"),
            ("eq", "1"),
            ("ge", "%{tx.x}"),
            ("gt", "1"),
            ("ipMatch", "1.2.3.4,::1"),
            ("ipMatchFromFile", "ip.data"),
            ("le", "1"),
            ("lt", "1"),
            ("noMatch", ""),
            ("pm", "a ab abc \\| |00|"),
            ("pmFromFile", "p.data"),
            ("rx", "^(a)?(b)*$|(?i)x{2,}|\\x{ff}"),
            ("rx", "^%{tx.p}"),
            ("rxGlobal", "(a)|^"),
            ("streq", "ab"),
            ("strmatch", "ab"),
            ("unconditionalMatch", ""),
            ("validateByteRange", "1-255"),
            ("validateUrlEncoding", ""),
            ("validateUtf8Encoding", ""),
            ("verifyCC", "\\d{13,16}"),
            ("verifyCPF", "\\d{11}"),
            ("verifySSN", "\\d{9}"),
            ("within", "abc"),
            ("geoLookup", ""),
        ];
        let mut inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"\0".to_vec(),
            b"\xff\xfe\xc3".to_vec(),
            b"%".to_vec(),
            b"%4".to_vec(),
            b"\n".to_vec(),
            b"a\n".to_vec(),
            b"\xf4\x90".to_vec(),
            b"1' or '1'='1".to_vec(),
            b"<script>".to_vec(),
            b"-9999999999999999999999".to_vec(),
            b"4111111111111111".to_vec(),
        ];
        inputs.push((0..=255u8).collect());
        inputs.push(b"ab".repeat(50_000));
        inputs.push(b"%%\xc0\n".repeat(10_000));
        for (name, arg) in ops {
            let op = build(name, arg, &ctx).unwrap_or_else(|e| panic!("@{name} {arg}: {e}"));
            for input in &inputs {
                for expanded in [None, Some(&b"a("[..]), Some(&b""[..])] {
                    let plain = op.evaluate(
                        &mut OpContext {
                            expanded,
                            captures: None,
                            limit_exceeded: false,
                        },
                        input,
                    );
                    let mut caps = Vec::new();
                    let with = op.evaluate(
                        &mut OpContext {
                            expanded,
                            captures: Some(&mut caps),
                            limit_exceeded: false,
                        },
                        input,
                    );
                    assert_eq!(plain, with, "@{name} {arg} on {} bytes", input.len());
                    assert!(caps.len() <= 10);
                }
            }
        }
    }
}
