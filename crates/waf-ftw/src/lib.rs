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
pub mod http;
pub mod loader;
pub mod model;
pub mod request;
pub mod runner;
pub mod skips;

pub use runner::{Options, Outcome, Report, TestResult};
