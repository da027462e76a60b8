//! go-ftw regression test loader and in-process runner for the WAF engine.
//!
//! - [`model`]: the go-ftw YAML schema (tests and override files);
//! - [`loader`]: reading test and override files;
//! - [`request`]: the raw request bytes go-ftw sends for a stage;
//! - [`http`]: nginx's view of those bytes (what ModSecurity-nginx hands to the WAF);
//! - [`backend`]: the CRS test backend (albedo) emulation;
//! - [`config`]: the CRS CI WAF configuration;
//! - [`runner`]: driving a [`runner::Waf`] and checking expectations.

#![forbid(unsafe_code)]

pub mod backend;
pub mod config;
pub mod engine;
pub mod http;
pub mod loader;
pub mod model;
pub mod request;
pub mod runner;
pub mod skips;

pub use runner::{Options, Outcome, Report, TestResult};

use std::path::Path;

/// Errors that stop a whole run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Test or override files could not be loaded.
    #[error(transparent)]
    Load(#[from] loader::LoadError),
    /// The engine could not be prepared.
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
}

/// Run the CRS regression suite of the checkout at `crs_dir` against the engine.
pub fn try_run(crs_dir: &Path, opts: &Options) -> Result<Report, RunError> {
    let files = loader::load_tests(&crs_dir.join("tests/regression/tests"))?;
    let overrides_path = opts
        .overrides
        .clone()
        .unwrap_or_else(|| runner::default_overrides(crs_dir));
    let overrides = loader::load_overrides(&overrides_path)?;
    let waf = engine::EngineWaf::load(crs_dir)?;
    Ok(runner::run_tests(
        &waf,
        &files,
        &overrides,
        skips::SKIPS,
        opts.filter.as_deref(),
    ))
}

/// [`try_run`], reporting a setup failure as one failed pseudo-test `setup`.
pub fn run(crs_dir: &Path, opts: &Options) -> Report {
    match try_run(crs_dir, opts) {
        Ok(r) => r,
        Err(e) => Report {
            results: vec![TestResult {
                id: "setup".into(),
                outcome: Outcome::Fail(e.to_string()),
            }],
        },
    }
}
