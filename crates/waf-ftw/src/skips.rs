//! Tests the in-process harness cannot reproduce. Keep in sync with `SKIPS.md`
//! (at most 25 entries, each with its reason).

/// `(test id, reason)`.
pub const SKIPS: &[(&str, &str)] = &[
    (
        "934131-5",
        "nginx override expects a connection error (expect_error); no network layer in process",
    ),
    (
        "934131-7",
        "nginx override expects a connection error (expect_error); no network layer in process",
    ),
];
