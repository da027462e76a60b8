//! Abuse control on one replica (issue #6): allow/deny lists, blocked user agents,
//! `limit-connections`, `limit-rpm` and `limit-rps`, and the shared rejection plumbing
//! ([`RejectReason`], [`Gateway::reject`](crate::Gateway)) also used by `proxy-body-size`
//! and the Redis global limit.

mod reject;

pub use reject::{RejectReason, RejectSinks};

/// Abuse-control options of the gateway (not from manifests).
#[derive(Debug, Clone)]
pub struct LimitOptions {
    /// Where rejections are reported.
    pub sinks: RejectSinks,
    /// Most (Ingress, client IP) rate-limit entries kept at once, over all Ingresses
    /// (default 262144, about 16 MiB). See `docs/limits.md` for what happens when full.
    pub max_tracked_clients: usize,
}

impl Default for LimitOptions {
    fn default() -> Self {
        Self {
            sinks: RejectSinks::default(),
            max_tracked_clients: 1 << 18,
        }
    }
}
