//! Tunables of the data path that do not come from manifests.

use std::time::Duration;

/// Passive health checking of upstream endpoints.
///
/// Defaults follow stock nginx (`max_fails=1 fail_timeout=10s`): one failed attempt (connect
/// error, connect timeout or read timeout) ejects the endpoint for ten seconds; after that it
/// receives traffic again, and the next failure ejects it again. A successful response resets
/// the failure count. When every endpoint of an upstream is ejected, all are tried anyway
/// (as nginx does) so that an outage does not become permanent.
#[derive(Debug, Clone)]
pub struct HealthOptions {
    /// Consecutive failures that eject an endpoint (0 disables ejection).
    pub max_fails: u32,
    /// How long an ejected endpoint stays out of rotation.
    pub fail_timeout: Duration,
}

impl Default for HealthOptions {
    fn default() -> Self {
        Self {
            max_fails: 1,
            fail_timeout: Duration::from_secs(10),
        }
    }
}

/// Gateway-wide options (limits, timeouts, pools).
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Longest request target accepted (bytes); longer gets 414. Default 8 KiB, as nginx's
    /// `large_client_header_buffers 4 8k`.
    pub max_uri_len: usize,
    /// Largest request head (request line plus all headers, bytes); larger gets 431.
    /// Default 32 KiB (4 x 8 KiB, as nginx).
    pub max_header_bytes: usize,
    /// Most header fields accepted in one request (431 above). Default 100.
    pub max_headers: usize,
    /// Time a client has to send a complete request head, also the idle timeout of a
    /// keep-alive connection between requests (nginx `client_header_timeout` 60 s).
    pub header_read_timeout: Duration,
    /// Time allowed for in-flight requests to finish after shutdown is signalled.
    pub drain_timeout: Duration,
    /// Passive health checking.
    pub health: HealthOptions,
    /// Idle upstream connections kept per endpoint (ingress-nginx
    /// `upstream-keepalive-connections` 320).
    pub pool_max_idle_per_endpoint: usize,
    /// How long an idle upstream connection is kept (ingress-nginx
    /// `upstream-keepalive-timeout` 60 s).
    pub pool_idle_timeout: Duration,
    /// Port used in `ssl-redirect` locations; `None` or 443 means no explicit port.
    pub https_redirect_port: Option<u16>,
    /// The WAF (shared CRS rule set and global settings); `None` = no WAF.
    pub waf: Option<std::sync::Arc<crate::waf::Waf>>,
    /// Abuse control: rejection event/metric sinks and the rate-limit table cap.
    pub limits: crate::limits::LimitOptions,
    /// Cross-replica rate limits in Redis (`--redis`); `None` = `global-rate-limit` ignored.
    pub global_limiter: Option<std::sync::Arc<crate::global_limit::GlobalLimiter>>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            max_uri_len: 8 * 1024,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(30),
            health: HealthOptions::default(),
            pool_max_idle_per_endpoint: 320,
            pool_idle_timeout: Duration::from_secs(60),
            https_redirect_port: None,
            waf: None,
            limits: crate::limits::LimitOptions::default(),
            global_limiter: None,
        }
    }
}
