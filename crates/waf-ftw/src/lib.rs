//! go-ftw regression test loader and in-process runner for the WAF engine.
//!
//! - [`model`]: the go-ftw YAML schema (tests and override files);
//! - [`request`]: the raw request bytes go-ftw sends for a stage;
//! - [`http`]: nginx's view of those bytes (what ModSecurity-nginx hands to the WAF).

#![forbid(unsafe_code)]

pub mod http;
pub mod loader;
pub mod model;
pub mod request;
