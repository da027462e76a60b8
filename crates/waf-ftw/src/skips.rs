//! Tests the in-process harness cannot reproduce. Keep in sync with `SKIPS.md`
//! (at most 25 entries, each with its reason).

/// `(test id, reason)`. Empty: every CRS v4.28 regression test runs.
pub const SKIPS: &[(&str, &str)] = &[];
