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
//! - [`AccessSink`]: receives one [`AccessEvent`] per request ([`TelemetrySink`] writes the
//!   access log and observes the metrics).
//!
//! Behaviour worth knowing (ingress-nginx semantics unless noted):
//! - Client address: the TCP peer (or the PROXY header source when `use-proxy-protocol`);
//!   `X-Forwarded-For` (walked from the right, skipping trusted hops) / `X-Real-IP` and
//!   `X-Forwarded-Proto/Host/Port` are honoured only when `use-forwarded-headers` is on and the
//!   peer is in `proxy-real-ip-cidr`. Upstream gets `X-Forwarded-For` (appended when trusted,
//!   replaced otherwise), `X-Real-IP`, `X-Forwarded-Proto/Host/Port`, `X-Scheme`, and an
//!   `X-Request-ID` (kept from the client or 32 random hex characters). `Host` is preserved.
//! - Retries: connect errors and connect timeouts are retried on another endpoint up to
//!   `proxy-next-upstream-tries` attempts; errors after the request was sent are not (502),
//!   except a pooled connection found dead before anything was written (one fresh resend).
//! - Timeouts (nginx semantics: per operation, not per exchange): `proxy-connect-timeout`
//!   covers TCP + TLS connect (504 when the last attempt timed out, else 502);
//!   `proxy-send-timeout` bounds each gap between two successive writes to the upstream (an
//!   upstream that stops reading the request gets the connection closed and the client a
//!   504; a slow upload that keeps progressing is never cut); `proxy-read-timeout` starts
//!   once the request is sent and bounds the wait for the response head (504) and each gap
//!   between response body reads (stream reset after the head). WebSocket tunnels have no
//!   read idle timeout; a tunnel whose upstream stops reading for `proxy-send-timeout`
//!   ends.
//! - Passive health: see [`HealthOptions`] (nginx `max_fails=1 fail_timeout=10s`); connect
//!   failures and read timeouts count, 5xx responses do not.
//! - Limits: `proxy-body-size` gives 413 from `Content-Length` before connecting, or
//!   mid-stream for chunked / HTTP/2 bodies (the body is streamed, never buffered);
//!   414/431/400 per [`GatewayOptions`]; a connection that sends nothing, or idles between
//!   requests, is closed after [`GatewayOptions::header_read_timeout`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod acme_http01;
pub mod admin;
mod balance;
mod body;
mod event;
pub mod global_limit;
mod headers;
pub mod insecure;
mod limits;
mod options;
mod pool;
mod proxy;
mod proxy_hook;
pub mod proxy_protocol;
mod router;
mod server;
pub mod tls;
pub mod waf;

pub use event::{AccessEvent, AccessSink, TelemetrySink};
pub use limits::{LimitOptions, RejectReason, RejectSinks};
pub use options::{GatewayOptions, HealthOptions};
pub use server::{Gateway, ServeError};
pub use tokio_util::sync::CancellationToken;
