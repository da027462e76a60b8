//! Transformations (`t:name`): byte-to-byte functions applied to a value before the operator.
//!
//! One file per transformation under `transformations/`, each with its own table test.
//! A transformation returns `Cow::Borrowed` when the input is unchanged, so the engine can
//! skip copies and key its per-transaction cache. `t:none` is handled by the engine (it
//! clears the list) and is not in the table.

use std::borrow::Cow;

/// A transformation function. Never panics, whatever the bytes.
pub type Transform = fn(&[u8]) -> Cow<'_, [u8]>;

/// All transformations, sorted by lower-cased name.
pub static TRANSFORMATIONS: &[(&str, Transform)] = &[];

/// Looks up a transformation by name (any case).
pub fn lookup(name: &str) -> Option<Transform> {
    let lower = name.to_ascii_lowercase();
    TRANSFORMATIONS
        .binary_search_by(|(n, _)| n.cmp(&lower.as_str()))
        .ok()
        .map(|i| TRANSFORMATIONS[i].1)
}
