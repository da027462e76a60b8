//! Operators: the test a rule applies to each (transformed) variable value.
//!
//! One file per operator under `operators/`, each with its own table test. Operators are
//! registered in the static, sorted [`OPERATORS`] table (names compared case-insensitively);
//! a unit test checks the table is sorted and unique.

use std::fmt;
use std::path::Path;

use seclang::loader::FileLoader;

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
}

/// A compiled operator. Immutable and shared across threads.
pub trait Operator: Send + Sync + fmt::Debug {
    /// Whether `input` matches. Never panics, whatever the bytes.
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool;
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
pub type Factory = fn(argument: &str, ctx: &BuildContext<'_>) -> Result<Box<dyn Operator>, OperatorError>;

/// All operators, sorted by lower-cased name.
pub static OPERATORS: &[(&str, Factory)] = &[];

/// Builds the operator `name` (without `@`, any case) with `argument`.
pub fn build(name: &str, argument: &str, ctx: &BuildContext<'_>) -> Result<Box<dyn Operator>, OperatorError> {
    let lower = name.to_ascii_lowercase();
    match OPERATORS.binary_search_by(|(n, _)| n.cmp(&lower.as_str())) {
        Ok(i) => (OPERATORS[i].1)(argument, ctx),
        Err(_) => Err(OperatorError::Unknown(name.to_owned())),
    }
}
