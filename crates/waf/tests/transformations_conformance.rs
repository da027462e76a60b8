//! Conformance of every transformation with libmodsecurity 3.0.15.
//!
//! `data/transformations_modsec.tsv` holds `name<TAB>input hex<TAB>output hex` rows that
//! were produced once by libmodsecurity 3.0.15 itself (`data/transformations_modsec.py`: a rule
//! per transformation, fed the hex input); the test only reads that file. Set
//! `WAF_TRANSFORM_TSV=/path/file.tsv` to check another file of the same shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use waf::transformations::lookup;

const DEFAULT: &str = include_str!("data/transformations_modsec.tsv");

#[test]
fn matches_libmodsecurity() {
    let extra = std::env::var("WAF_TRANSFORM_TSV")
        .ok()
        .map(|p| std::fs::read_to_string(p).expect("WAF_TRANSFORM_TSV readable"));
    let text = extra.as_deref().unwrap_or(DEFAULT);
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for (lineno, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(name), Some(input), Some(want)) = (cols.next(), cols.next(), cols.next()) else {
            panic!("line {}: expected 3 columns", lineno + 1);
        };
        let f = lookup(name).unwrap_or_else(|| panic!("line {}: unknown t:{name}", lineno + 1));
        let input = hex::decode(input).expect("input hex");
        let got = hex::encode(f(&input));
        checked += 1;
        if got != want {
            failures.push(format!(
                "{}: t:{name} {:?}: got {got}, libmodsecurity {want}",
                lineno + 1,
                String::from_utf8_lossy(&input)
            ));
        }
    }
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} of {checked} cases differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(3000)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
