//! Pure-Rust SecLang WAF engine: compiled immutable rule sets and per-request transactions.
//!
//! No I/O and no async runtime: the caller hands in rule text (through a
//! [`seclang::loader::FileLoader`]) and request data; the engine hands back verdicts.
//!
//! Pipeline: `seclang` AST -> [`RuleSet::compile`] -> `Arc<RuleSet>` (immutable, shared) ->
//! [`RuleSet::transaction`] -> [`Transaction`] (per request: collections, captures, scratch).
//!
//! Collections IP, SESSION, USER, GLOBAL and RESOURCE live only for one transaction: nothing
//! is persisted (`initcol`, `expirevar`, `setuid`, `setsid` are accepted and have no effect).

#![forbid(unsafe_code)]

pub mod actions;
pub mod body;
mod collection;
mod compiler;
pub mod config;
mod error;
mod eval;
#[doc(hidden)]
pub mod internal;
pub mod macros;
mod multipart_glue;
pub mod operators;
mod overlay;
mod resolve;
mod rule;
mod ruleset;
mod screen;
mod transaction;
pub mod transformations;
mod util;
pub mod variables;

pub use config::{BodyLimitAction, Config, EngineMode};
pub use error::CompileError;
pub use ruleset::RuleSet;
pub use transaction::{InterruptAction, Interruption, MatchedRule, Transaction};
