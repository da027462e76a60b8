//! Kubernetes manifests and annotations to one validated, immutable gateway [`model::Model`].
//!
//! The public interface is:
//! - [`load_dir`] / [`LoadOptions`] / [`LoadError`]: a folder of manifests -> [`model::Model`];
//! - [`check`]: the problems only (for `portcullis check`);
//! - [`model`]: the contract with the gateway, including the matcher
//!   ([`model::Model::route`], [`model::RouteMatch::rewritten_path`],
//!   [`model::Model::certificate_for`]);
//! - [`file::ConfigFile`]: the optional YAML config file of `portcullis serve`.
//!
//! Semantics are documented in `docs/manifests.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod annotations;
mod build;
pub mod certmanager;
pub mod file;
pub mod global_limit;
pub mod limits;
mod load;
pub mod model;
mod objects;
mod router;
mod tls;
pub mod waf;
mod yaml;

use std::path::Path;

pub use annotations::LEGACY_PREFIX;
pub use build::{CONTROLLERS, ENDPOINTS_ANNOTATION};
pub use load::{LoadError, LoadOptions};
pub use router::normalize_host;

use model::{Model, Problem};

/// Reads every `*.yaml` / `*.yml` under `dir` (recursive, sorted; hidden entries skipped; a
/// single file is accepted too) and builds the model. Broken documents and invalid values
/// are recorded in [`Model::problems`] and skipped; only an unreadable `dir` is an error.
pub fn load_dir(dir: &Path, opts: &LoadOptions) -> Result<Model, LoadError> {
    let (files, problems) = load::list_files(dir)?;
    let mut inv = load::Inventory::read(&files);
    inv.problems.extend(problems);
    Ok(build::build(inv, opts))
}

/// Builds a model from YAML text held in memory (`file` is used in problems). For tests
/// and tools; [`load_dir`] is the normal entry point.
pub fn load_str(file: &str, text: &str, opts: &LoadOptions) -> Model {
    let mut inv = load::Inventory::default();
    inv.read_text(file, text);
    build::build(inv, opts)
}

/// Validates without serving: every problem of [`load_dir`], or one problem for an
/// unreadable folder. Empty means valid.
pub fn check(dir: &Path, opts: &LoadOptions) -> Vec<Problem> {
    match load_dir(dir, opts) {
        Ok(model) => model.problems,
        Err(e) => vec![Problem {
            file: dir.display().to_string(),
            line: 0,
            reason: e.to_string(),
        }],
    }
}
