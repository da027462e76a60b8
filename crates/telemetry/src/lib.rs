//! Access and security events, Prometheus metrics under ingress-nginx names.
//!
//! The public interface is:
//! - [`AccessEvent`]: one record per request, serialized as one JSON object per line.
//! - [`AccessLog`]: a non-blocking JSON-lines sink (stdout, a file, or any writer). A request
//!   never waits for the disk: when the queue is full the line is dropped and counted.
//! - [`Metrics`]: a Prometheus registry with ingress-nginx's metric names, labels and
//!   buckets, fed by [`Metrics::observe`] and rendered by [`Metrics::render`].
//! - [`events::SecurityEvent`]: the place for WAF / abuse findings (issue #4).
//!
//! This crate does not depend on tokio: the access log writer runs on a plain thread.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access;
pub mod events;
mod metrics;
mod summary;

pub use access::{AccessEvent, AccessLog, AccessLogError, format_time};
pub use metrics::{ConnectionGuard, ConnectionState, Metrics, MetricsConfig};
