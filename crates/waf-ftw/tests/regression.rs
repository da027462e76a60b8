//! The whole CRS regression suite against the engine, with a pass-rate ratchet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// Measured pass rate (passed / (passed + failed)) in per mille; raise it as the engine
/// improves, never lower it.
const MIN_PASS_PER_MILLE: usize = 1000;

#[test]
fn crs_regression_suite() {
    // `../shared/crs` relative to the repository; PORTCULLIS_CRS_DIR overrides it.
    let crs = std::env::var_os("PORTCULLIS_CRS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"))
        });
    assert!(
        crs.join("tests/regression/tests").exists(),
        "CRS not found at {}",
        crs.display()
    );
    let report = waf_ftw::run(&crs, &waf_ftw::Options::default());
    println!("CRS regression: {}", report.summary_line());
    let mut fails: Vec<_> = report
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            waf_ftw::Outcome::Fail(why) => Some(format!("{}: {why}", r.id)),
            _ => None,
        })
        .collect();
    fails.truncate(200);
    for f in &fails {
        println!("  FAIL {f}");
    }
    assert!(
        report.skipped() <= 25,
        "too many skips: {}",
        report.skipped()
    );
    let run = report.passed() + report.failed();
    assert!(run > 0, "no test ran");
    let per_mille = report.passed() * 1000 / run;
    println!("pass rate {per_mille}/1000 (ratchet {MIN_PASS_PER_MILLE}/1000)");
    assert!(
        per_mille >= MIN_PASS_PER_MILLE,
        "pass rate {per_mille}/1000 fell below {MIN_PASS_PER_MILLE}/1000"
    );
}
