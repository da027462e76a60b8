//! Global rate limits across replicas (`global-rate-limit*`, issue #6): the request-path glue
//! between a route's [`GlobalLimitSettings`] and the shared [`GlobalLimiter`] (Redis).
//!
//! - The counter key is `<namespace>/<ingress>` plus the evaluated `global-rate-limit-key`
//!   (default `$remote_addr`, the true client IP), so every replica serving the same Ingress
//!   counts the same clients together.
//! - Clients in `global-rate-limit-ignored-cidrs` are never counted.
//! - Over the limit: `limit-req-status-code` (default 503), with `Retry-After` (whole
//!   seconds, at least 1), reported with reason `global-rate`.
//! - Redis unavailable: the request passes when the limiter fails open (the default);
//!   otherwise it is rejected like an over-limit request with `Retry-After: 1`.
//! - No limiter configured (`--redis` absent): the annotation is ignored and a warning is
//!   logged once per process.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use config::global_limit::GlobalLimitSettings;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode, Uri};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;

pub use globallimit::{Decision, GlobalLimiter, GlobalOptions, GlobalStats};

use crate::body::ResponseBody;
use crate::event::AccessEvent;
use crate::limits::RejectReason;
use crate::server::Gateway;

/// Set once the "no `--redis`" warning was logged.
static UNCONFIGURED_WARNED: AtomicBool = AtomicBool::new(false);

/// The request facts the key expression may use.
pub(crate) struct KeyInput<'a> {
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) client: IpAddr,
    pub(crate) host: &'a str,
}

/// `Retry-After` value: whole seconds, rounded up, at least 1.
fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs();
    let secs = if d.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    };
    secs.max(1)
}

/// The rejection status: the Ingress's `limit-req-status-code`, else the global one
/// (default 503).
pub(crate) fn reject_status(
    settings: &config::model::RouteSettings,
    global: &config::limits::GlobalLimits,
) -> StatusCode {
    let code = settings
        .limits
        .req_status_code
        .unwrap_or(global.req_status_code);
    StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

impl Gateway {
    /// Applies the route's global limit. `Some(response)` when the request is rejected (the
    /// rejection is already recorded); `None` to carry on.
    pub(crate) async fn global_limit(
        &self,
        limit: Option<&GlobalLimitSettings>,
        input: KeyInput<'_>,
        status: StatusCode,
        event: &mut AccessEvent,
    ) -> Option<Response<ResponseBody>> {
        let g = limit?;
        if g.ignores(input.client) {
            return None;
        }
        let Some(limiter) = &self.options.global_limiter else {
            if !UNCONFIGURED_WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    target: "portcullis::global_limit",
                    namespace = event.ingress_namespace.as_deref().unwrap_or(""),
                    ingress = event.ingress_name.as_deref().unwrap_or(""),
                    "global-rate-limit is set but no Redis is configured (--redis); \
                     global limits are not enforced"
                );
            }
            return None;
        };
        let client_key =
            crate::balance::hash_key(&g.key, input.uri, input.headers, input.client, input.host);
        let key = format!(
            "{}/{}\n{client_key}",
            event.ingress_namespace.as_deref().unwrap_or(""),
            event.ingress_name.as_deref().unwrap_or(""),
        );
        let retry_after = match limiter.check(&key, g.limit, g.window).await {
            Decision::Allow => return None,
            Decision::Unavailable if limiter.fail_open() => return None,
            Decision::Unavailable => Duration::from_secs(1),
            Decision::Deny { retry_after } => retry_after,
        };
        let mut resp = self.reject(RejectReason::GlobalRate, status, event);
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs(retry_after)),
        );
        Some(resp)
    }
}

/// Exposes a limiter's [`GlobalStats`] as Prometheus metrics, read at scrape time:
/// `portcullis_global_limit_redis_up`, `portcullis_global_limit_checks_total{result}`
/// (`allow`, `deny`, `unavailable`) and `portcullis_global_limit_errors_total{kind}`
/// (`error`, `timeout`, `connect`).
pub struct GlobalLimitCollector {
    limiter: Arc<GlobalLimiter>,
    descs: Vec<Desc>,
}

impl std::fmt::Debug for GlobalLimitCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalLimitCollector")
            .finish_non_exhaustive()
    }
}

const UP: (&str, &str) = (
    "portcullis_global_limit_redis_up",
    "Whether the Redis connection used for global rate limits is up (1) or not (0).",
);
const CHECKS: (&str, &str) = (
    "portcullis_global_limit_checks_total",
    "Global rate limit checks by result (allow, deny, unavailable).",
);
const ERRORS: (&str, &str) = (
    "portcullis_global_limit_errors_total",
    "Global rate limit failures talking to Redis by kind (error, timeout, connect).",
);

impl GlobalLimitCollector {
    /// A collector reading `limiter`'s counters.
    pub fn new(limiter: Arc<GlobalLimiter>) -> prometheus::Result<Self> {
        let descs = vec![
            Desc::new(UP.0.into(), UP.1.into(), vec![], Default::default())?,
            Desc::new(
                CHECKS.0.into(),
                CHECKS.1.into(),
                vec!["result".into()],
                Default::default(),
            )?,
            Desc::new(
                ERRORS.0.into(),
                ERRORS.1.into(),
                vec!["kind".into()],
                Default::default(),
            )?,
        ];
        Ok(Self { limiter, descs })
    }

    /// Registers a collector for `limiter` in `registry`.
    pub fn register(
        limiter: Arc<GlobalLimiter>,
        registry: &prometheus::Registry,
    ) -> prometheus::Result<()> {
        registry.register(Box::new(Self::new(limiter)?))
    }
}

fn counter_family(
    (name, help): (&str, &str),
    label: &str,
    values: &[(&str, u64)],
) -> prometheus::Result<Vec<MetricFamily>> {
    let vec = prometheus::IntCounterVec::new(prometheus::Opts::new(name, help), &[label])?;
    for (value, n) in values {
        vec.with_label_values(&[*value]).inc_by(*n);
    }
    Ok(vec.collect())
}

impl Collector for GlobalLimitCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let s = self.limiter.stats();
        let mut out = Vec::new();
        if let Ok(up) = prometheus::IntGauge::new(UP.0, UP.1) {
            up.set(i64::from(s.available));
            out.extend(up.collect());
        }
        let checks = [
            ("allow", s.allowed),
            ("deny", s.denied),
            ("unavailable", s.unavailable),
        ];
        let errors = [
            ("error", s.errors),
            ("timeout", s.timeouts),
            ("connect", s.connect_failures),
        ];
        for fam in [
            counter_family(CHECKS, "result", &checks),
            counter_family(ERRORS, "kind", &errors),
        ]
        .into_iter()
        .flatten()
        {
            out.extend(fam);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
