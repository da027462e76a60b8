//! Listeners, TLS, routing, upstreams, load balancing and proxying.
//!
//! The public interface is:
//! - [`Gateway`]: holds the live [`config::model::Model`] (swapped atomically with
//!   [`Gateway::swap`]) and the upstream state that survives swaps (pools, health, EWMA,
//!   round-robin counters).
//! - [`Gateway::serve_http`] / [`Gateway::serve_https`]: serve already-bound listeners until a
//!   [`CancellationToken`] fires, then drain in-flight requests within
//!   [`GatewayOptions::drain_timeout`].
//! - [`GatewayOptions`]: hardening limits, health-check thresholds, pool sizes.
//! - [`AccessSink`]: receives one [`AccessEvent`] per request.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
mod balance;
mod body;
mod event;
mod headers;
mod options;
mod pool;
mod proxy;
mod proxy_hook;
pub mod proxy_protocol;
mod router;
mod server;
pub mod tls;

pub use event::{AccessEvent, AccessSink, TelemetrySink};
pub use options::{GatewayOptions, HealthOptions};
pub use server::{Gateway, ServeError};
pub use tokio_util::sync::CancellationToken;
