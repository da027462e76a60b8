//! SecLang (ModSecurity rule language) parser: text to AST with spans.
//!
//! The public interface is:
//! - [`ast`]: the syntax tree with spans;
//! - [`loader`]: the injected file access used by `Include`.

#![forbid(unsafe_code)]

pub mod ast;
pub mod loader;
