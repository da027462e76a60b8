//! SecLang (ModSecurity rule language) parser: text to AST with spans.
//!
//! The parser follows libmodsecurity v3 on everything OWASP CRS v4 and ModSecurity's
//! recommended configuration use:
//!
//! - `#` starts a comment when it is the first non-blank byte of a line, or when an unquoted
//!   word after the directive's first argument starts with it (a trailing comment, as
//!   libmodsecurity allows after complete directives); blank lines are
//!   ignored; a trailing backslash joins the next line (spans still point at the physical
//!   line and column). A commented-out `#SecRule ... \` swallows its continuation lines, as
//!   libmodsecurity does; other comments end at the line break;
//! - arguments are separated by blanks; a double-quoted argument may contain blanks and
//!   `\"`, which does not end it. Escapes are kept verbatim: the value of `"a\"b"` is
//!   `a\"b`, exactly as libmodsecurity hands it to operators (`@contains a\"b` looks for a
//!   backslash; in a regex `\"` means `"`), so regular expressions reach the engine unchanged;
//! - variables are `|`-separated with optional `!` (exclude) and `&` (count) and a selector
//!   after `:` that is a key, a `'quoted key'` or a `/regex/` (for `XML` always an XPath key);
//! - an operator is `[!]@name argument` (exactly one blank after the name); without `@`
//!   the whole string is the argument of `@rx`;
//! - actions are comma-separated `name` or `name:value`, values optionally single-quoted
//!   (`\'` does not end the value and is kept verbatim, as libmodsecurity keeps it in
//!   `msg`, `setvar` and the rest); commas inside quotes do not split;
//! - names of directives, variables and actions are case-insensitive (kept as written) and
//!   checked against libmodsecurity v3's lists; values of settings such as `SecRuleEngine`
//!   are checked as its grammar does. Operator names are checked by the `waf` compiler.
//!
//! Deliberate differences from libmodsecurity 3.0.15 (checked against it), all outside what
//! CRS and the recommended configuration use:
//! - supported here, refused by libmodsecurity: `IncludeOptional`; `SecServerSignature`,
//!   `SecGeoLookupDb` and `SecUploadKeepFiles RelevantOnly` (kept as settings);
//! - accepted here, refused by libmodsecurity: unquoted action lists (`id:1,pass`), a quoted
//!   id list (`SecRuleRemoveById "1 2"`), an unquoted third argument of
//!   `SecRuleUpdateTargetById`, blanks in a quoted `SecMarker` name;
//! - refused here, accepted by libmodsecurity: a `"` inside an unquoted word, a quote left
//!   open at the end of the file, ids that are not digits or ascending `a-b` ranges;
//! - a `\`-continued line is joined before tokenizing, Apache style. libmodsecurity skips
//!   the break only between tokens and keeps `\` + line break inside a quoted regex or
//!   `msg` value; CRS never continues inside such a value (the recommended configuration does
//!   in one `msg`, whose text then differs by those characters).
//!
//! Checks that need meaning (operator names and arguments, transformation names, macro and
//! `setvar` targets, phase values, a rule's mandatory `id`) belong to the `waf` compiler.
//!
//! The public interface is:
//! - [`parse_str`], [`parse_file`], [`parse_with`], [`parse_file_with`] and [`Options`];
//! - [`parse_with_recovery`] and [`parse_file_with_recovery`] ([`Parsed`]), which report
//!   every bad directive instead of stopping at the first;
//! - [`print()`], whose output parses back to the same AST (spans aside);
//! - [`ParseError`] (`file:line:col: reason`, then the line and a caret) and [`ErrorKind`];
//! - [`ast`]: the syntax tree with spans;
//! - [`loader`]: the injected file access used by `Include`.
//!
//! ```
//! let dirs = seclang::parse_str(r#"SecRule ARGS "@rx a" "id:1,deny""#, "inline").unwrap();
//! assert_eq!(dirs.len(), 1);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
mod error;
mod lexer;
pub mod loader;
mod parser;
mod print;
mod rule;
mod settings;

use std::path::Path;
use std::sync::Arc;

pub use error::{ErrorKind, ParseError};
pub use parser::{Options, is_known_directive};
pub use print::print;

use ast::Directive;
use loader::{FileLoader, MemLoader};

/// Parses SecLang text that may not include files (an `Include` is the error
/// "Include not allowed here"). `file` names the text in spans.
pub fn parse_str(text: &str, file: &str) -> Result<Vec<Directive>, ParseError> {
    parse_with(text, file, &Options::default(), &MemLoader::new())
}

/// Parses SecLang text with explicit options; includes (if allowed) are resolved through
/// `loader`, relative paths against the directory of `file`.
pub fn parse_with(
    text: &str,
    file: &str,
    options: &Options,
    loader: &dyn FileLoader,
) -> Result<Vec<Directive>, ParseError> {
    let mut driver = parser::Driver::new(options, loader);
    driver.parse_root(text, Arc::from(file))?;
    Ok(driver.out)
}

/// Reads and parses a rule file through `loader`, following `Include` and `IncludeOptional`
/// (globs allowed, relative to the including file, depth-limited, cycles rejected).
pub fn parse_file(path: &Path, loader: &dyn FileLoader) -> Result<Vec<Directive>, ParseError> {
    parse_file_with(path, &Options::with_includes(), loader)
}

/// [`parse_file`] with explicit options.
pub fn parse_file_with(
    path: &Path,
    options: &Options,
    loader: &dyn FileLoader,
) -> Result<Vec<Directive>, ParseError> {
    let mut driver = parser::Driver::new(options, loader);
    driver.parse_path(path)?;
    Ok(driver.out)
}

/// The outcome of a parse that skips bad directives instead of stopping at the first.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The directives that parsed, in order.
    pub directives: Vec<Directive>,
    /// One error per directive (or unreadable include) that was skipped, in order.
    pub errors: Vec<ParseError>,
}

/// Like [`parse_with`], but a bad directive is reported and skipped and parsing goes on,
/// so a checker can list every problem at once. A skipped rule inside a chain leaves the
/// chain shorter: callers that run the rules should refuse input with errors.
pub fn parse_with_recovery(
    text: &str,
    file: &str,
    options: &Options,
    loader: &dyn FileLoader,
) -> Parsed {
    let mut driver = parser::Driver::new(options, loader);
    driver.recover = true;
    if let Err(e) = driver.parse_root(text, Arc::from(file)) {
        driver.errors.push(e);
    }
    Parsed {
        directives: driver.out,
        errors: driver.errors,
    }
}

/// Like [`parse_file_with`], reporting and skipping bad directives (see
/// [`parse_with_recovery`]).
pub fn parse_file_with_recovery(path: &Path, options: &Options, loader: &dyn FileLoader) -> Parsed {
    let mut driver = parser::Driver::new(options, loader);
    driver.recover = true;
    if let Err(e) = driver.parse_path(path) {
        driver.errors.push(e);
    }
    Parsed {
        directives: driver.out,
        errors: driver.errors,
    }
}

/// Hooks for fuzz targets and tests; not a stable interface.
#[doc(hidden)]
pub mod internal {
    /// Fuzzing entry points.
    pub mod fuzzing {
        /// Parses arbitrary bytes (lossily decoded); never panics.
        pub fn parse(data: &[u8]) {
            let text = String::from_utf8_lossy(data);
            let _ = crate::parse_str(&text, "<fuzz>");
        }

        /// Parses arbitrary bytes and, if they parse, checks that printing and reparsing
        /// gives the same AST (spans aside). Returns `false` on a round-trip mismatch.
        pub fn roundtrip(data: &[u8]) -> bool {
            let text = String::from_utf8_lossy(data);
            let Ok(first) = crate::parse_str(&text, "<fuzz>") else {
                return true;
            };
            let printed = crate::print(&first);
            match crate::parse_str(&printed, "<fuzz>") {
                Ok(second) => {
                    crate::internal::strip_spans(first) == crate::internal::strip_spans(second)
                }
                Err(_) => false,
            }
        }
    }

    use crate::ast::{Directive, DirectiveKind, Span, Variable};
    use std::sync::Arc;

    /// Replaces every span with a fixed one so ASTs can be compared by content.
    pub fn strip_spans(mut dirs: Vec<Directive>) -> Vec<Directive> {
        let blank = Span {
            file: Arc::from(""),
            line: 0,
            col: 0,
        };
        let fix_vars = |vars: &mut Vec<Variable>| {
            for v in vars {
                v.span = blank.clone();
            }
        };
        let fix_actions = |acts: &mut Vec<crate::ast::Action>| {
            for a in acts {
                a.span = blank.clone();
            }
        };
        for d in &mut dirs {
            d.span = blank.clone();
            match &mut d.kind {
                DirectiveKind::Rule(r) => {
                    fix_vars(&mut r.variables);
                    r.operator.span = blank.clone();
                    fix_actions(&mut r.actions);
                }
                DirectiveKind::Action(a) | DirectiveKind::DefaultAction(a) => fix_actions(a),
                DirectiveKind::UpdateActionById { actions, .. } => fix_actions(actions),
                DirectiveKind::UpdateTargetById {
                    targets, replaced, ..
                }
                | DirectiveKind::UpdateTargetByTag {
                    targets, replaced, ..
                }
                | DirectiveKind::UpdateTargetByMsg {
                    targets, replaced, ..
                } => {
                    fix_vars(targets);
                    if let Some(r) = replaced {
                        r.span = blank.clone();
                    }
                }
                _ => {}
            }
        }
        dirs
    }
}
