//! [`GlobalLimiter`]: the connection state machine and the per-request check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;

use crate::script::{LUA, counter_key};

/// Longest window accepted by [`GlobalLimiter::check`] (longer ones are clamped): 7 days.
const MAX_WINDOW_MS: u64 = 7 * 24 * 3600 * 1000;
/// Largest limit passed to Redis (Lua numbers are doubles; beyond 2^53 they lose precision).
const MAX_LIMIT: u64 = 1 << 52;

/// How the limiter talks to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalOptions {
    /// When Redis is unavailable, allow the request (`true`, the default) or reject it.
    pub fail_open: bool,
    /// Hard bound on one [`GlobalLimiter::check`] round trip. Default 5 ms: a loopback or
    /// same-zone Redis answers in well under 1 ms, and the bound is what a request can lose.
    pub timeout: Duration,
    /// Bound on establishing a connection and loading the script (background task). Default 1 s.
    pub connect_timeout: Duration,
    /// First reconnect delay after a failure. Default 100 ms.
    pub min_backoff: Duration,
    /// Largest reconnect delay (the delay doubles after each failed attempt). Default 2 s.
    pub max_backoff: Duration,
    /// Consecutive timeouts that mark Redis down (a connection error does at once). Default 3.
    pub timeouts_before_down: u32,
    /// Prefix of every key written. Default `portcullis:gl:`.
    pub key_prefix: String,
}

impl Default for GlobalOptions {
    fn default() -> Self {
        Self {
            fail_open: true,
            timeout: Duration::from_millis(5),
            connect_timeout: Duration::from_secs(1),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            timeouts_before_down: 3,
            key_prefix: "portcullis:gl:".to_owned(),
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Under the limit; the request was counted.
    Allow,
    /// Over the limit; not counted. `retry_after` is when the rate estimate next falls below
    /// the limit (at least 1 ms).
    Deny {
        /// Time until a request would be allowed again.
        retry_after: Duration,
    },
    /// Redis is down, too slow or failing: apply [`GlobalLimiter::fail_open`].
    Unavailable,
}

/// Why a limiter could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Redis URL is not valid (`redis://[user:password@]host[:port][/db]`,
    /// `rediss://...`, `unix:///path`).
    #[error("invalid Redis URL `{url}`: {source}")]
    InvalidUrl {
        /// The URL with any password hidden.
        url: String,
        /// The parser's reason.
        source: redis::RedisError,
    },
    /// [`GlobalLimiter::new`] was called outside a Tokio runtime.
    #[error("the global limiter needs a Tokio runtime to connect in the background")]
    NoRuntime,
    /// A connection attempt failed (background task; also logged and counted).
    #[error("Redis connection: {0}")]
    Connect(#[source] redis::RedisError),
    /// A connection attempt took longer than [`GlobalOptions::connect_timeout`].
    #[error("Redis connection: timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The server computed a different script digest than ours.
    #[error("Redis loaded the script as {got}, expected {expected}")]
    ScriptDigest {
        /// Our SHA-1 of the script.
        expected: String,
        /// What `SCRIPT LOAD` returned.
        got: String,
    },
}

/// Counters since the limiter was created (all monotonic except `available`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalStats {
    /// Whether a connection to Redis is currently up.
    pub available: bool,
    /// Calls to [`GlobalLimiter::check`].
    pub checks: u64,
    /// `Allow` answers.
    pub allowed: u64,
    /// `Deny` answers.
    pub denied: u64,
    /// `Unavailable` answers (down, timeout or error).
    pub unavailable: u64,
    /// Calls that failed with a Redis error (connection lost, script error, bad reply).
    pub errors: u64,
    /// Calls that exceeded [`GlobalOptions::timeout`].
    pub timeouts: u64,
    /// Connections established (the first one included).
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    checks: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    unavailable: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    connects: AtomicU64,
    connect_failures: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// State shared by the limiter handle and its background task.
struct Shared {
    client: redis::Client,
    /// `Some` while Redis is considered up.
    conn: ArcSwapOption<MultiplexedConnection>,
    /// Wakes the background task (Redis marked down, or the limiter dropped).
    wake: Notify,
    closed: AtomicBool,
    consecutive_timeouts: AtomicU32,
    opts: GlobalOptions,
    sha: String,
    url: String,
    counters: Counters,
}

/// Global rate limiting in Redis. Create once per process and share (`Arc`); dropping it
/// stops the background task.
pub struct GlobalLimiter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GlobalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalLimiter")
            .field("url", &self.shared.url)
            .field("opts", &self.shared.opts)
            .field("available", &self.is_available())
            .finish_non_exhaustive()
    }
}

/// `url` with the password (if any) replaced by `***`, for errors and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

impl GlobalLimiter {
    /// Parses `url` and starts connecting in the background; returns at once. Until the
    /// first connection is up, [`check`](Self::check) answers `Unavailable`. Must be called
    /// inside a Tokio runtime.
    pub fn new(url: &str, opts: GlobalOptions) -> Result<Self, Error> {
        let shown = redact(url);
        let client = redis::Client::open(url).map_err(|source| Error::InvalidUrl {
            url: shown.clone(),
            source,
        })?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let shared = Arc::new(Shared {
            client,
            conn: ArcSwapOption::empty(),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            consecutive_timeouts: AtomicU32::new(0),
            sha: redis::Script::new(LUA).get_hash().to_owned(),
            url: shown,
            opts,
            counters: Counters::default(),
        });
        runtime.spawn(reconnect_loop(Arc::clone(&shared)));
        Ok(Self { shared })
    }

    /// Whether a rejected-by-unavailability request should pass ([`GlobalOptions::fail_open`]).
    pub fn fail_open(&self) -> bool {
        self.shared.opts.fail_open
    }

    /// Whether a request with decision `d` may pass: `Allow` yes, `Deny` no, `Unavailable`
    /// per [`GlobalOptions::fail_open`].
    pub fn allows(&self, d: Decision) -> bool {
        match d {
            Decision::Allow => true,
            Decision::Deny { .. } => false,
            Decision::Unavailable => self.shared.opts.fail_open,
        }
    }

    /// The options in use.
    pub fn options(&self) -> &GlobalOptions {
        &self.shared.opts
    }

    /// The Redis URL with any password hidden.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// Whether a connection is up right now.
    pub fn is_available(&self) -> bool {
        self.shared.conn.load().is_some()
    }

    /// Waits up to `limit` for a connection; returns whether one is up. For startup logs and
    /// tests; requests never wait.
    pub async fn wait_available(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.is_available() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> GlobalStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        GlobalStats {
            available: self.is_available(),
            checks: get(&c.checks),
            allowed: get(&c.allowed),
            denied: get(&c.denied),
            unavailable: get(&c.unavailable),
            errors: get(&c.errors),
            timeouts: get(&c.timeouts),
            connects: get(&c.connects),
            connect_failures: get(&c.connect_failures),
        }
    }

    /// Counts one request against `limit` requests per `window` for `key` (any text: the
    /// caller puts the rule's identity and the evaluated client key in it). One Redis round
    /// trip, bounded by [`GlobalOptions::timeout`]; no network at all while Redis is down.
    /// A `limit` of 0 denies everything; `window` is clamped to 1 ms ..= 7 days.
    pub async fn check(&self, key: &str, limit: u64, window: Duration) -> Decision {
        let sh = &self.shared;
        bump(&sh.counters.checks);
        let window_ms = u64::try_from(window.as_millis())
            .unwrap_or(MAX_WINDOW_MS)
            .clamp(1, MAX_WINDOW_MS);
        if limit == 0 {
            bump(&sh.counters.denied);
            return Decision::Deny {
                retry_after: Duration::from_millis(window_ms),
            };
        }
        let loaded = sh.conn.load_full();
        let Some(conn) = loaded.as_ref() else {
            bump(&sh.counters.unavailable);
            return Decision::Unavailable;
        };
        let mut conn = MultiplexedConnection::clone(conn);
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&sh.sha)
            .arg(1)
            .arg(counter_key(&sh.opts.key_prefix, key, window_ms))
            .arg(limit.min(MAX_LIMIT))
            .arg(window_ms);
        let reply =
            tokio::time::timeout(sh.opts.timeout, cmd.query_async::<Vec<i64>>(&mut conn)).await;
        match reply {
            Ok(Ok(v)) => {
                sh.consecutive_timeouts.store(0, Ordering::Relaxed);
                match v.as_slice() {
                    [1, _] => {
                        bump(&sh.counters.allowed);
                        Decision::Allow
                    }
                    [0, ms] => {
                        bump(&sh.counters.denied);
                        let ms = u64::try_from(*ms).unwrap_or(0).max(1);
                        Decision::Deny {
                            retry_after: Duration::from_millis(ms),
                        }
                    }
                    other => {
                        bump(&sh.counters.errors);
                        bump(&sh.counters.unavailable);
                        tracing::warn!(target: "portcullis::global_limit", reply = ?other, "unexpected reply from the rate limit script");
                        Decision::Unavailable
                    }
                }
            }
            Ok(Err(e)) => {
                bump(&sh.counters.errors);
                bump(&sh.counters.unavailable);
                self.mark_down(&loaded, &format!("{e}"));
                Decision::Unavailable
            }
            Err(_) => {
                bump(&sh.counters.timeouts);
                bump(&sh.counters.unavailable);
                let n = sh
                    .consecutive_timeouts
                    .fetch_add(1, Ordering::Relaxed)
                    .saturating_add(1);
                if n >= sh.opts.timeouts_before_down.max(1) {
                    self.mark_down(
                        &loaded,
                        &format!("{n} consecutive calls exceeded {:?}", sh.opts.timeout),
                    );
                }
                Decision::Unavailable
            }
        }
    }

    /// Drops `seen` (if it is still the live connection) and wakes the reconnect task.
    fn mark_down(&self, seen: &Option<Arc<MultiplexedConnection>>, reason: &str) {
        let sh = &self.shared;
        let previous = sh.conn.compare_and_swap(seen, None);
        let was_live = match (previous.as_ref(), seen.as_ref()) {
            (Some(p), Some(s)) => Arc::ptr_eq(p, s),
            _ => false,
        };
        if was_live {
            sh.consecutive_timeouts.store(0, Ordering::Relaxed);
            tracing::warn!(
                target: "portcullis::global_limit",
                redis = %sh.url, reason, fail_open = sh.opts.fail_open,
                "Redis unavailable: global rate limits {} until it is back",
                if sh.opts.fail_open { "let requests pass" } else { "reject requests" }
            );
            sh.wake.notify_one();
        }
    }
}

impl Drop for GlobalLimiter {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        self.shared.wake.notify_one();
    }
}

/// Connects, loads the script and checks its digest, all within `connect_timeout`.
async fn connect(sh: &Shared) -> Result<MultiplexedConnection, Error> {
    let limit = sh.opts.connect_timeout;
    let attempt = async {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(limit)
            .set_response_timeout(limit);
        let mut conn = sh
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(Error::Connect)?;
        let got: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(LUA)
            .query_async(&mut conn)
            .await
            .map_err(Error::Connect)?;
        if got != sh.sha {
            return Err(Error::ScriptDigest {
                expected: sh.sha.clone(),
                got,
            });
        }
        Ok(conn)
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(r) => r,
        Err(_) => Err(Error::ConnectTimeout(limit)),
    }
}

/// The background task: (re)connects whenever the connection is missing, with back-off.
async fn reconnect_loop(sh: Arc<Shared>) {
    let mut backoff = sh.opts.min_backoff;
    let mut failures_in_a_row = 0u32;
    loop {
        if sh.closed.load(Ordering::Relaxed) {
            return;
        }
        if sh.conn.load().is_some() {
            sh.wake.notified().await;
            continue;
        }
        match connect(&sh).await {
            Ok(conn) => {
                sh.consecutive_timeouts.store(0, Ordering::Relaxed);
                sh.conn.store(Some(Arc::new(conn)));
                bump(&sh.counters.connects);
                tracing::info!(target: "portcullis::global_limit", redis = %sh.url, "connected to Redis for global rate limits");
                backoff = sh.opts.min_backoff;
                failures_in_a_row = 0;
            }
            Err(e) => {
                bump(&sh.counters.connect_failures);
                failures_in_a_row = failures_in_a_row.saturating_add(1);
                if failures_in_a_row == 1 {
                    tracing::warn!(target: "portcullis::global_limit", redis = %sh.url, error = %e, "cannot reach Redis; retrying in the background");
                } else {
                    tracing::debug!(target: "portcullis::global_limit", redis = %sh.url, error = %e, attempt = failures_in_a_row, "Redis reconnect failed");
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = sh.wake.notified() => {}
                }
                backoff = backoff
                    .saturating_mul(2)
                    .min(sh.opts.max_backoff.max(sh.opts.min_backoff));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            redact("redis://:s3cret@redis:6379/1"),
            "redis://:***@redis:6379/1"
        );
        assert_eq!(
            redact("rediss://user:p@ss@redis.example"),
            "rediss://user:***@redis.example"
        );
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn bad_url_and_no_runtime() {
        let e = GlobalLimiter::new("http://x", GlobalOptions::default()).unwrap_err();
        assert!(matches!(e, Error::InvalidUrl { .. }), "{e}");
        let e = GlobalLimiter::new("redis://127.0.0.1:1", GlobalOptions::default()).unwrap_err();
        assert!(matches!(e, Error::NoRuntime), "{e}");
    }

    #[tokio::test]
    async fn unreachable_redis_is_unavailable_without_waiting() {
        // Port 1 on loopback: nothing listens there.
        let l = GlobalLimiter::new("redis://127.0.0.1:1", GlobalOptions::default()).unwrap();
        let start = std::time::Instant::now();
        for _ in 0..100 {
            assert_eq!(
                l.check("k", 10, Duration::from_secs(1)).await,
                Decision::Unavailable
            );
        }
        assert!(start.elapsed() < Duration::from_millis(50));
        assert!(!l.wait_available(Duration::from_millis(300)).await);
        let s = l.stats();
        assert_eq!((s.checks, s.unavailable, s.errors), (100, 100, 0));
        assert!(s.connect_failures >= 1, "{s:?}");
        assert!(!s.available);
        assert_eq!(
            l.check("k", 0, Duration::from_secs(2)).await,
            Decision::Deny {
                retry_after: Duration::from_secs(2)
            }
        );
    }
}
