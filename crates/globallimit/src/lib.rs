//! Global rate limits shared by every gateway replica, counted in one Redis.
//!
//! The public interface is:
//! - [`GlobalLimiter`]: created with [`GlobalLimiter::new`] (never blocks: it connects in the
//!   background and reconnects with back-off), asked with [`GlobalLimiter::check`];
//! - [`GlobalOptions`]: fail-open/closed, the per-call timeout, reconnect back-off, key prefix;
//! - [`Decision`]: `Allow`, `Deny { retry_after }` or `Unavailable` (Redis down, slow or
//!   failing; the caller applies [`GlobalLimiter::fail_open`]);
//! - [`GlobalStats`]: counters of checks, denials, errors, timeouts and reconnects
//!   ([`GlobalLimiter::stats`]);
//! - [`testing::RedisServer`]: starts a throw-away `redis-server` on a loopback port (tests).
//!
//! # Algorithm
//!
//! A sliding window estimated from two fixed windows (as `lua-resty-global-throttle`, which
//! ingress-nginx used): with `prev` requests counted in the previous fixed window, `cur` in
//! the current one and `elapsed` the time already spent in the current window, the rate is
//! `prev * (window - elapsed) / window + cur`. A request is allowed when that estimate plus one
//! stays within the limit; only allowed requests are counted, so a client that keeps hammering
//! while denied is admitted again as soon as its rate falls below the limit. Time is Redis's
//! own clock (`TIME`), so replicas with skewed clocks still share one window.
//!
//! # One round trip
//!
//! Each [`GlobalLimiter::check`] is one `EVALSHA` of a small Lua script (read both windows,
//! decide, `INCR` + `PEXPIRE` the current one): atomic in Redis, one round trip. The script is
//! loaded (`SCRIPT LOAD`) whenever a connection is established.
//!
//! # Key layout
//!
//! `<prefix><sha1 hex of "<window ms>\n<key>">:<window index>`, e.g.
//! `portcullis:gl:3f786850e387550fdab836ed7e6dc881de23001b:29034781`, where the window index is
//! `floor(redis_time_ms / window_ms)`. The hash keeps keys short and free of client-chosen
//! bytes; the window length is part of it so two rules with different windows never share a
//! counter. Every counter expires (`PEXPIRE`) two windows after its last increment. The script
//! builds the window keys from the declared base key, so it targets a standalone Redis (or a
//! primary), not Redis Cluster.
//!
//! # Failure handling
//!
//! A call never waits longer than [`GlobalOptions::timeout`]. A connection error marks Redis
//! down at once; [`GlobalOptions::timeouts_before_down`] consecutive timeouts do too. While
//! down, `check` answers `Unavailable` immediately without touching the network, and a
//! background task reconnects with exponential back-off (from [`GlobalOptions::min_backoff`]
//! to [`GlobalOptions::max_backoff`]); a connection counts as up only once `SCRIPT LOAD`
//! answered within [`GlobalOptions::connect_timeout`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod limiter;
mod script;
pub mod testing;

pub use limiter::{Decision, Error, GlobalLimiter, GlobalOptions, GlobalStats};
pub use script::counter_key;
