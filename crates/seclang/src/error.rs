//! Parse errors: a reason, the span it applies to and the source line for a caret display.

use std::fmt;

use crate::ast::Span;

/// Why parsing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The first word of a line is not a directive the parser knows.
    #[error("unknown directive `{0}`")]
    UnknownDirective(String),
    /// A ModSecurity directive this implementation does not support (`SecRuleScript`, ...).
    #[error("directive `{0}` is not supported")]
    UnsupportedDirective(String),
    /// A double-quoted argument has no closing quote.
    #[error("unterminated quoted argument")]
    UnterminatedQuote,
    /// A closing quote is followed by something other than whitespace.
    #[error("expected whitespace after closing quote")]
    TextAfterQuote,
    /// A double quote inside an unquoted argument.
    #[error("unexpected `\"` inside an unquoted argument")]
    QuoteInWord,
    /// A single-quoted value (in a variable key or action) has no closing quote.
    #[error("unterminated single-quoted value")]
    UnterminatedSingleQuote,
    /// `SecRule` has variables but no operator.
    #[error("missing operator")]
    MissingOperator,
    /// A directive lacks a required argument.
    #[error("{directive}: missing argument ({expected})")]
    MissingArgument {
        /// The directive as written.
        directive: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A directive has more arguments than it accepts.
    #[error("{directive}: too many arguments (at most {max})")]
    TooManyArguments {
        /// The directive as written.
        directive: String,
        /// The maximum number of arguments.
        max: usize,
    },
    /// A variable (target) is malformed or unknown.
    #[error("bad variable: {0}")]
    BadVariable(String),
    /// The operator is malformed.
    #[error("bad operator: {0}")]
    BadOperator(String),
    /// An action is malformed.
    #[error("bad action: {0}")]
    BadAction(String),
    /// A configuration directive has a value it does not accept.
    #[error("{directive}: bad value `{value}` (expected {expected})")]
    BadValue {
        /// The directive as written.
        directive: String,
        /// The value as written.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A rule id or id range is malformed.
    #[error("bad rule id `{0}`")]
    BadId(String),
    /// `Include` in text that may not include files.
    #[error("Include not allowed here")]
    IncludeNotAllowed,
    /// Includes nested deeper than the limit.
    #[error("Include nested deeper than {0} levels")]
    IncludeTooDeep(usize),
    /// A file includes itself, directly or indirectly.
    #[error("Include cycle: `{0}` is already being included")]
    IncludeCycle(String),
    /// `Include` of a pattern that matches no file.
    #[error("Include `{0}`: no matching file")]
    IncludeNoMatch(String),
    /// A file could not be read.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path as resolved.
        path: String,
        /// The I/O error text.
        message: String,
    },
    /// A file is not valid UTF-8.
    #[error("file is not valid UTF-8")]
    InvalidUtf8,
}

/// A parse error: `file:line:col: reason`, then the source line and a caret under the column,
/// then one `  included from file:line:col` line per enclosing `Include` (innermost first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(Box<Inner>);

/// The fields of a [`ParseError`], boxed to keep `Result`s small.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    span: Span,
    kind: ErrorKind,
    source_line: Option<String>,
    included_from: Vec<Span>,
}

impl ParseError {
    /// An error at `span`; `source_line` is the physical line's text, if known.
    pub(crate) fn new(span: Span, kind: ErrorKind, source_line: Option<String>) -> Self {
        Self(Box::new(Inner {
            span,
            kind,
            source_line,
            included_from: Vec::new(),
        }))
    }

    /// Records the `Include` directives (outermost first) through which the file was read.
    pub(crate) fn with_chain(mut self, chain: &[Span]) -> Self {
        self.0.included_from = chain.to_vec();
        self
    }

    /// The `Include` directives, outermost first, through which the erroneous file was
    /// read; empty for the top-level text.
    pub fn included_from(&self) -> &[Span] {
        &self.0.included_from
    }

    /// Where the error is.
    pub fn span(&self) -> &Span {
        &self.0.span
    }

    /// Why parsing failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The text of the offending physical line, if known.
    pub fn source_line(&self) -> Option<&str> {
        self.0.source_line.as_deref()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.span, self.0.kind)?;
        if let Some(line) = &self.0.source_line {
            write!(f, "\n{line}\n")?;
            let col = usize::try_from(self.0.span.col.saturating_sub(1)).unwrap_or(0);
            // Keep tabs so the caret lines up with the column in a terminal.
            for (i, c) in line.char_indices() {
                if i >= col {
                    break;
                }
                f.write_str(if c == '\t' { "\t" } else { " " })?;
            }
            f.write_str("^")?;
        }
        for span in self.0.included_from.iter().rev() {
            write!(f, "\n  included from {span}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// The text of 1-based physical line `line` in `src` (without its line break).
pub(crate) fn physical_line(src: &str, line: u32) -> Option<String> {
    let idx = usize::try_from(line).ok()?.checked_sub(1)?;
    let raw = src.split('\n').nth(idx)?;
    Some(raw.strip_suffix('\r').unwrap_or(raw).to_owned())
}
