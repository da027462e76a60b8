//! Pure-Rust SecLang WAF engine: compiled immutable rule sets and per-request transactions.
//!
//! No I/O and no async runtime: the caller hands in rule text (through a
//! [`seclang::loader::FileLoader`]) and request data; the engine hands back verdicts.

#![forbid(unsafe_code)]

pub mod body;
pub mod operators;
pub mod transformations;
