//! Kubernetes manifests and annotations to one validated, immutable gateway [`model::Model`].

#![forbid(unsafe_code)]

pub mod model;
