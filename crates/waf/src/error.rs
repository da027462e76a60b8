//! Compile errors: every error carries the span of the directive, variable, operator or action
//! that caused it, and displays as `file:line:col: reason`.

use seclang::ast::Span;

/// Why a rule set could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{span}: {reason}")]
pub struct CompileError {
    /// Where the offending text is.
    pub span: Span,
    /// What is wrong.
    pub reason: String,
}

impl CompileError {
    /// A new error at `span`.
    pub fn new(span: &Span, reason: impl Into<String>) -> Self {
        Self {
            span: span.clone(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn display_has_position() {
        let span = Span {
            file: Arc::from("a.conf"),
            line: 3,
            col: 7,
        };
        let e = CompileError::new(&span, "unknown action foo");
        assert_eq!(e.to_string(), "a.conf:3:7: unknown action foo");
    }
}
