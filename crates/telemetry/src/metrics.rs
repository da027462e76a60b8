//! Prometheus metrics under ingress-nginx's names, labels and default buckets, so existing
//! Grafana dashboards and alerts keep working.
//!
//! Names and labels follow ingress-nginx's `internal/ingress/metric/collectors`
//! (`socket.go`, `controller.go`, `nginx_status.go`) with `--metrics-per-host` on (its
//! default): every request metric carries `status, method, path, namespace, ingress,
//! service, canary, host` plus the constant `controller_class, controller_namespace,
//! controller_pod`. Buckets are ingress-nginx's defaults: time
//! `[0.005 .. 10]` (Prometheus defaults), length `10..=100` step 10, size `10..=1e7` ×10.
//!
//! Cardinality guards (a deliberate difference from nginx, where only configured hosts
//! reach the metrics): `path` is the matched Ingress path (never the request path),
//! `host` is empty for requests that matched no Ingress, and methods outside the standard
//! set are reported as `OTHER`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::RwLock;

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::access::AccessEvent;
use crate::summary::{SummarySeries, SummaryVec};

/// Prefix of every metric (ingress-nginx's `PrometheusNamespace`).
const NS: &str = "nginx_ingress_controller";

/// Rejections by abuse control (not an ingress-nginx metric, hence our own prefix).
const LIMIT_REJECTIONS: &str = "portcullis_limit_rejections_total";

/// ingress-nginx `--time-buckets` default (Prometheus `DefBuckets`).
const TIME_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// ingress-nginx `--length-buckets` default (`LinearBuckets(10, 10, 10)`).
const LENGTH_BUCKETS: [f64; 10] = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0];
/// ingress-nginx `--size-buckets` default (`ExponentialBuckets(10, 10, 7)`).
const SIZE_BUCKETS: [f64; 7] = [10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7];

/// Per-request label names, in the order values are passed.
const REQUEST_LABELS: [&str; 8] = [
    "status",
    "method",
    "path",
    "namespace",
    "ingress",
    "service",
    "canary",
    "host",
];
/// Labels of the (deprecated) upstream latency summary.
const LATENCY_LABELS: [&str; 4] = ["ingress", "namespace", "service", "canary"];

/// Methods reported as-is; anything else becomes `OTHER`.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Identity of this gateway instance: the constant labels ingress-nginx puts on every
/// metric, and the build info.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// `controller_class` (ingress-nginx: the IngressClass controller value).
    pub controller_class: String,
    /// `controller_namespace` (ingress-nginx: the pod's namespace).
    pub controller_namespace: String,
    /// `controller_pod` (ingress-nginx: the pod name; here the host name by default).
    pub controller_pod: String,
    /// `release` label of `build_info`.
    pub release: String,
    /// `build` label of `build_info` (a git revision when known).
    pub build: String,
    /// `repository` label of `build_info`.
    pub repository: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        let pod = std::env::var("POD_NAME")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| "portcullis".to_string());
        Self {
            controller_class: "k8s.io/ingress-nginx".to_string(),
            controller_namespace: std::env::var("POD_NAMESPACE")
                .unwrap_or_else(|_| "default".to_string()),
            controller_pod: pod,
            release: env!("CARGO_PKG_VERSION").to_string(),
            build: "git-unknown".to_string(),
            repository: "portcullis".to_string(),
        }
    }
}

/// Connection states of `nginx_ingress_controller_nginx_process_connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Open client connections (maintained by [`ConnectionGuard`]).
    Active,
    /// Connections reading a request header.
    Reading,
    /// Connections writing a response.
    Writing,
    /// Idle keep-alive connections.
    Waiting,
}

impl ConnectionState {
    fn label(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Reading => "reading",
            Self::Writing => "writing",
            Self::Waiting => "waiting",
        }
    }
}

/// Decrements the active connection gauge when dropped; see [`Metrics::connection_opened`].
#[derive(Debug)]
pub struct ConnectionGuard {
    active: IntGauge,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.active.dec();
    }
}

/// The gateway's Prometheus registry. Share it behind an `Arc`; every method takes `&self`.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    request_size: HistogramVec,
    response_size: HistogramVec,
    bytes_sent: HistogramVec,
    response_duration: HistogramVec,
    header_duration: HistogramVec,
    connect_duration: HistogramVec,
    upstream_latency: SummaryVec,
    config_hash: Gauge,
    config_success: Gauge,
    config_success_time: Gauge,
    reload_success: IntCounter,
    reload_errors: IntCounter,
    ssl_expire: GaugeVec,
    state_gauges: [IntGauge; 4],
    connections_total: IntCounterVec,
    process_requests: IntCounter,
    limit_rejections: IntCounterVec,
    controller_class: String,
    cache: Arc<RwLock<HandleCache>>,
}

/// The per-request label values, borrowed from the event.
struct LabelKey<'a> {
    status: u16,
    method: &'static str,
    path: &'a str,
    namespace: &'a str,
    ingress: &'a str,
    service: &'a str,
    host: &'a str,
}

impl LabelKey<'_> {
    fn hash64(&self) -> u64 {
        let mut h = FxHasher(0);
        self.status.hash(&mut h);
        for s in [
            self.method,
            self.path,
            self.namespace,
            self.ingress,
            self.service,
            self.host,
        ] {
            s.hash(&mut h);
        }
        h.finish()
    }
}

/// A small multiplicative hasher (the `FxHash` scheme) for the handle cache: label values
/// come from the configuration (hosts, paths and names of Ingresses, a bounded set of
/// methods and statuses), not from arbitrary request bytes, and a collision costs only a
/// key comparison, so no keyed hash is needed on this per-request path.
struct FxHasher(u64);

impl FxHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Uses an already computed [`LabelKey::hash64`] as the map's hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with this; fold anything else in anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The handle cache: precomputed label-set hash to the label sets with that hash.
type HandleCache = HashMap<u64, Vec<CacheEntry>, std::hash::BuildHasherDefault<KeyHasher>>;

/// An owned [`LabelKey`], stored in the handle cache.
struct OwnedLabelKey {
    status: u16,
    method: &'static str,
    path: String,
    namespace: String,
    ingress: String,
    service: String,
    host: String,
}

impl OwnedLabelKey {
    fn matches(&self, k: &LabelKey<'_>) -> bool {
        self.status == k.status
            && self.method == k.method
            && self.path == k.path
            && self.namespace == k.namespace
            && self.ingress == k.ingress
            && self.service == k.service
            && self.host == k.host
    }
}

impl From<&LabelKey<'_>> for OwnedLabelKey {
    fn from(k: &LabelKey<'_>) -> Self {
        Self {
            status: k.status,
            method: k.method,
            path: k.path.to_string(),
            namespace: k.namespace.to_string(),
            ingress: k.ingress.to_string(),
            service: k.service.to_string(),
            host: k.host.to_string(),
        }
    }
}

/// One cached label set and its handles.
struct CacheEntry {
    key: OwnedLabelKey,
    handles: Arc<Handles>,
}

/// Resolved metric children of one label set.
struct Handles {
    requests: IntCounter,
    request_duration: Histogram,
    request_size: Histogram,
    response_size: Histogram,
    bytes_sent: Histogram,
    response_duration: Histogram,
    header_duration: Histogram,
    connect_duration: Histogram,
    upstream_latency: SummarySeries,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn name(suffix: &str) -> String {
    format!("{NS}_{suffix}")
}

impl Metrics {
    /// Creates and registers every metric. Fails only on an invalid label value in
    /// `config` (they must be valid UTF-8 strings, so in practice never).
    pub fn new(config: MetricsConfig) -> Result<Self, prometheus::Error> {
        let consts: Vec<(String, String)> = vec![
            ("controller_class".into(), config.controller_class.clone()),
            (
                "controller_namespace".into(),
                config.controller_namespace.clone(),
            ),
            ("controller_pod".into(), config.controller_pod.clone()),
        ];
        let const_map: HashMap<String, String> = consts.iter().cloned().collect();
        let registry = Registry::new();

        let hist =
            |suffix: &str, help: &str, buckets: &[f64]| -> prometheus::Result<HistogramVec> {
                let h = HistogramVec::new(
                    HistogramOpts::new(name(suffix), help)
                        .const_labels(const_map.clone())
                        .buckets(buckets.to_vec()),
                    &REQUEST_LABELS,
                )?;
                registry.register(Box::new(h.clone()))?;
                Ok(h)
            };
        let request_duration = hist(
            "request_duration_seconds",
            "The request processing time in milliseconds",
            &TIME_BUCKETS,
        )?;
        let request_size = hist(
            "request_size",
            "The request length (including request line, header, and request body)",
            &LENGTH_BUCKETS,
        )?;
        let response_size = hist(
            "response_size",
            "The response length (including request line, header, and request body)",
            &LENGTH_BUCKETS,
        )?;
        let bytes_sent = hist(
            "bytes_sent",
            "DEPRECATED The number of bytes sent to a client",
            &SIZE_BUCKETS,
        )?;
        let response_duration = hist(
            "response_duration_seconds",
            "The time spent on receiving the response from the upstream server",
            &TIME_BUCKETS,
        )?;
        let header_duration = hist(
            "header_duration_seconds",
            "The time spent on receiving first header from the upstream server",
            &TIME_BUCKETS,
        )?;
        let connect_duration = hist(
            "connect_duration_seconds",
            "The time spent on establishing a connection with the upstream server",
            &TIME_BUCKETS,
        )?;

        let requests = IntCounterVec::new(
            Opts::new(name("requests"), "The total number of client requests")
                .const_labels(const_map.clone()),
            &REQUEST_LABELS,
        )?;
        registry.register(Box::new(requests.clone()))?;

        let upstream_latency = SummaryVec::new(
            &name("ingress_upstream_latency_seconds"),
            "DEPRECATED Upstream service latency per Ingress",
            &consts,
            &LATENCY_LABELS,
        )?;
        registry.register(Box::new(upstream_latency.clone()))?;

        let gauge = |suffix: &str, help: &str| -> prometheus::Result<Gauge> {
            let g =
                Gauge::with_opts(Opts::new(name(suffix), help).const_labels(const_map.clone()))?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let config_hash = gauge("config_hash", "Running configuration hash actually running")?;
        let config_success = gauge(
            "config_last_reload_successful",
            "Whether the last configuration reload attempt was successful",
        )?;
        let config_success_time = gauge(
            "config_last_reload_successful_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
        )?;
        let counter = |suffix: &str, help: &str| -> prometheus::Result<IntCounter> {
            let c = IntCounter::with_opts(
                Opts::new(name(suffix), help).const_labels(const_map.clone()),
            )?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let reload_success = counter(
            "success",
            "Cumulative number of Ingress controller reload operations",
        )?;
        let reload_errors = counter(
            "errors",
            "Cumulative number of Ingress controller errors during reload operations",
        )?;
        let process_requests = counter(
            "nginx_process_requests_total",
            "total number of client requests",
        )?;

        let ssl_expire = GaugeVec::new(
            Opts::new(
                name("ssl_expire_time_seconds"),
                "Number of seconds since 1970 to the SSL Certificate expire.",
            ),
            &["namespace", "class", "host", "secret_name"],
        )?;
        registry.register(Box::new(ssl_expire.clone()))?;

        let connections = IntGaugeVec::new(
            Opts::new(
                name("nginx_process_connections"),
                "current number of client connections with state {active, reading, writing, waiting}",
            )
            .const_labels(const_map.clone()),
            &["state"],
        )?;
        registry.register(Box::new(connections.clone()))?;
        let connections_total = IntCounterVec::new(
            Opts::new(
                name("nginx_process_connections_total"),
                "total number of connections with state {accepted, handled}",
            )
            .const_labels(const_map.clone()),
            &["state"],
        )?;
        registry.register(Box::new(connections_total.clone()))?;
        // Every state is visible from the first scrape, as on nginx's status page.
        let state_gauges = [
            connections.get_metric_with_label_values(&[ConnectionState::Active.label()])?,
            connections.get_metric_with_label_values(&[ConnectionState::Reading.label()])?,
            connections.get_metric_with_label_values(&[ConnectionState::Writing.label()])?,
            connections.get_metric_with_label_values(&[ConnectionState::Waiting.label()])?,
        ];
        for s in ["accepted", "handled"] {
            connections_total.get_metric_with_label_values(&[s])?;
        }

        let build_info = GaugeVec::new(
            Opts::new(
                name("build_info"),
                "A metric with a constant '1' labeled with information about the build.",
            )
            .const_labels(const_map.clone()),
            &["build", "release", "repository"],
        )?;
        registry.register(Box::new(build_info.clone()))?;
        build_info
            .get_metric_with_label_values(&[&config.build, &config.release, &config.repository])?
            .set(1.0);

        let limit_rejections = IntCounterVec::new(
            Opts::new(
                LIMIT_REJECTIONS,
                "Requests rejected by abuse control (rate, connections, allow/deny lists, body size, global rate, user agent)",
            )
            .const_labels(const_map.clone()),
            &["namespace", "ingress", "reason"],
        )?;
        registry.register(Box::new(limit_rejections.clone()))?;

        Ok(Self {
            registry,
            requests,
            request_duration,
            request_size,
            response_size,
            bytes_sent,
            response_duration,
            header_duration,
            connect_duration,
            upstream_latency,
            config_hash,
            config_success,
            config_success_time,
            reload_success,
            reload_errors,
            ssl_expire,
            state_gauges,
            connections_total,
            process_requests,
            limit_rejections,
            controller_class: config.controller_class,
            cache: Arc::new(RwLock::new(HandleCache::default())),
        })
    }

    /// The registry, for other components (WAF, rate limits) to add their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one request rejected by abuse control in
    /// `portcullis_limit_rejections_total{namespace,ingress,reason}` (empty namespace and
    /// ingress when the request matched no Ingress).
    pub fn limit_rejected(&self, namespace: &str, ingress: &str, reason: &str) {
        if let Ok(c) = self
            .limit_rejections
            .get_metric_with_label_values(&[namespace, ingress, reason])
        {
            c.inc();
        }
    }

    /// Records one finished request.
    pub fn observe(&self, ev: &AccessEvent) {
        let method = KNOWN_METHODS
            .iter()
            .find(|m| m.eq_ignore_ascii_case(&ev.method))
            .copied()
            .unwrap_or("OTHER");
        let matched = ev.ingress_name.is_some();
        let host = if matched {
            ev.host.as_deref().unwrap_or("")
        } else {
            ""
        };
        let namespace = ev.ingress_namespace.as_deref().unwrap_or("");
        let ingress = ev.ingress_name.as_deref().unwrap_or("");
        let service = ev.service.as_deref().unwrap_or("");
        let path = ev.route_path.as_deref().unwrap_or("");
        let key = LabelKey {
            status: ev.status,
            method,
            path,
            namespace,
            ingress,
            service,
            host,
        };
        self.process_requests.inc();
        let Some(h) = self.handles(&key) else { return };
        h.requests.inc();
        let observe = |m: &Histogram, v: f64| {
            if v.is_finite() && v >= 0.0 {
                m.observe(v);
            }
        };
        observe(&h.request_duration, ev.duration_ms / 1000.0);
        observe(&h.request_size, ev.bytes_in as f64);
        observe(&h.response_size, ev.bytes_out as f64);
        observe(&h.bytes_sent, ev.bytes_out as f64);
        if let Some(ms) = ev.upstream_latency_ms {
            observe(&h.header_duration, ms / 1000.0);
        }
        if let Some(ms) = ev.upstream_response_ms.or(ev.upstream_latency_ms) {
            observe(&h.response_duration, ms / 1000.0);
        }
        if let Some(ms) = ev.upstream_connect_ms {
            observe(&h.connect_duration, ms / 1000.0);
            h.upstream_latency.observe(ms / 1000.0);
        }
    }

    /// The metric handles of one label set: one hash lookup under a read lock instead of
    /// eight label-vector lookups per request.
    fn handles(&self, key: &LabelKey<'_>) -> Option<Arc<Handles>> {
        let hash = key.hash64();
        if let Some(bucket) = self.cache.read().get(&hash)
            && let Some(e) = bucket.iter().find(|e| e.key.matches(key))
        {
            return Some(Arc::clone(&e.handles));
        }
        let status = key.status.to_string();
        let labels: [&str; 8] = [
            &status,
            key.method,
            key.path,
            key.namespace,
            key.ingress,
            key.service,
            "",
            key.host,
        ];
        let hist = |v: &HistogramVec| v.get_metric_with_label_values(&labels).ok();
        let handles = Arc::new(Handles {
            requests: self.requests.get_metric_with_label_values(&labels).ok()?,
            request_duration: hist(&self.request_duration)?,
            request_size: hist(&self.request_size)?,
            response_size: hist(&self.response_size)?,
            bytes_sent: hist(&self.bytes_sent)?,
            response_duration: hist(&self.response_duration)?,
            header_duration: hist(&self.header_duration)?,
            connect_duration: hist(&self.connect_duration)?,
            upstream_latency: self.upstream_latency.series(&[
                key.ingress,
                key.namespace,
                key.service,
                "",
            ]),
        });
        let mut cache = self.cache.write();
        let bucket = cache.entry(hash).or_default();
        if let Some(e) = bucket.iter().find(|e| e.key.matches(key)) {
            return Some(Arc::clone(&e.handles));
        }
        bucket.push(CacheEntry {
            key: OwnedLabelKey::from(key),
            handles: Arc::clone(&handles),
        });
        Some(handles)
    }

    /// Records a configuration reload attempt (ingress-nginx `ConfigSuccess` +
    /// `IncReloadCount` / `IncReloadErrorCount`): on success the hash and timestamp are
    /// set and `success` is incremented; on failure `config_last_reload_successful` and
    /// `config_hash` drop to 0 and `errors` is incremented.
    pub fn config_reloaded(&self, ok: bool, hash: u64) {
        if ok {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            self.config_success_time.set(now as f64);
            self.config_success.set(1.0);
            self.config_hash.set(hash as f64);
            self.reload_success.inc();
        } else {
            self.config_success.set(0.0);
            self.config_hash.set(0.0);
            self.reload_errors.inc();
        }
    }

    /// Counts an accepted client connection (`connections_total{accepted,handled}`) and
    /// returns a guard holding `connections{state="active"}` up until it is dropped.
    pub fn connection_opened(&self) -> ConnectionGuard {
        for s in ["accepted", "handled"] {
            if let Ok(c) = self.connections_total.get_metric_with_label_values(&[s]) {
                c.inc();
            }
        }
        let active = self.connection_gauge(ConnectionState::Active);
        active.inc();
        ConnectionGuard { active }
    }

    /// The gauge of one connection state, for the data path to `inc`/`dec` around reading
    /// and writing phases.
    pub fn connection_gauge(&self, state: ConnectionState) -> IntGauge {
        let [active, reading, writing, waiting] = &self.state_gauges;
        match state {
            ConnectionState::Active => active.clone(),
            ConnectionState::Reading => reading.clone(),
            ConnectionState::Writing => writing.clone(),
            ConnectionState::Waiting => waiting.clone(),
        }
    }

    /// Sets `ssl_expire_time_seconds` for a host served with the certificate of
    /// `namespace/secret_name` (Unix seconds of the certificate's `notAfter`).
    pub fn set_certificate_expiry(
        &self,
        namespace: &str,
        secret_name: &str,
        host: &str,
        not_after: i64,
    ) {
        if let Ok(g) = self.ssl_expire.get_metric_with_label_values(&[
            namespace,
            &self.controller_class,
            host,
            secret_name,
        ]) {
            g.set(not_after as f64);
        }
    }

    /// Removes every `ssl_expire_time_seconds` series (before re-setting them after a reload).
    pub fn clear_certificate_expiry(&self) {
        self.ssl_expire.reset();
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let families = self.registry.gather();
        let mut buf = Vec::with_capacity(16 * 1024);
        if TextEncoder::new().encode(&families, &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }

    /// The `Content-Type` of [`Metrics::render`]'s output.
    pub fn content_type(&self) -> &'static str {
        "text/plain; version=0.0.4; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn cfg() -> MetricsConfig {
        MetricsConfig {
            controller_class: "k8s.io/ingress-nginx".into(),
            controller_namespace: "ingress-nginx".into(),
            controller_pod: "pod-1".into(),
            release: "0.1.0".into(),
            build: "git-abc".into(),
            repository: "portcullis".into(),
        }
    }

    fn event() -> AccessEvent {
        AccessEvent {
            method: "GET".into(),
            status: 200,
            host: Some("foo.example.com".into()),
            ingress_namespace: Some("default".into()),
            ingress_name: Some("web".into()),
            service: Some("web-svc".into()),
            route_path: Some("/".into()),
            bytes_in: 55,
            bytes_out: 1234,
            duration_ms: 12.0,
            upstream_latency_ms: Some(8.0),
            upstream_connect_ms: Some(1.0),
            ..AccessEvent::default()
        }
    }

    #[test]
    fn limit_rejections_counted_by_ingress_and_reason() {
        let m = Metrics::new(cfg()).unwrap();
        m.limit_rejected("default", "web", "rate");
        m.limit_rejected("default", "web", "rate");
        m.limit_rejected("", "", "user-agent");
        let text = m.render();
        let line = text
            .lines()
            .find(|l| l.starts_with("portcullis_limit_rejections_total{") && l.contains("rate"))
            .unwrap();
        assert!(line.contains("ingress=\"web\""), "{line}");
        assert!(line.contains("namespace=\"default\""), "{line}");
        assert!(line.contains("reason=\"rate\""), "{line}");
        assert!(line.ends_with(" 2"), "{line}");
        assert!(text.contains("reason=\"user-agent\"} 1"), "{text}");
    }

    #[test]
    fn request_metrics_have_ingress_nginx_names_and_labels() {
        let m = Metrics::new(cfg()).unwrap();
        m.observe(&event());
        let text = m.render();
        let line = text
            .lines()
            .find(|l| l.starts_with("nginx_ingress_controller_requests{"))
            .unwrap();
        for label in [
            "controller_class=\"k8s.io/ingress-nginx\"",
            "controller_namespace=\"ingress-nginx\"",
            "controller_pod=\"pod-1\"",
            "ingress=\"web\"",
            "namespace=\"default\"",
            "service=\"web-svc\"",
            "status=\"200\"",
            "method=\"GET\"",
            "path=\"/\"",
            "host=\"foo.example.com\"",
            "canary=\"\"",
        ] {
            assert!(line.contains(label), "{label} missing in {line}");
        }
        assert!(line.ends_with(" 1"));
        for n in [
            "nginx_ingress_controller_request_duration_seconds_bucket",
            "nginx_ingress_controller_request_size_bucket",
            "nginx_ingress_controller_response_size_bucket",
            "nginx_ingress_controller_bytes_sent_bucket",
            "nginx_ingress_controller_header_duration_seconds_bucket",
            "nginx_ingress_controller_connect_duration_seconds_bucket",
            "nginx_ingress_controller_response_duration_seconds_bucket",
            "nginx_ingress_controller_ingress_upstream_latency_seconds{",
            "nginx_ingress_controller_ingress_upstream_latency_seconds_count",
            "nginx_ingress_controller_nginx_process_requests_total",
            "nginx_ingress_controller_build_info{",
            "nginx_ingress_controller_nginx_process_connections{",
            "nginx_ingress_controller_nginx_process_connections_total{",
        ] {
            assert!(text.contains(n), "{n} missing");
        }
        assert!(
            text.contains(
                "# TYPE nginx_ingress_controller_ingress_upstream_latency_seconds summary"
            )
        );
        assert!(text.contains("quantile=\"0.99\""));
    }

    #[test]
    fn handle_cache_keeps_label_sets_apart() {
        let m = Metrics::new(cfg()).unwrap();
        for status in 200..300u16 {
            for host in ["a.example.com", "b.example.com"] {
                let e = AccessEvent {
                    status,
                    host: Some(host.into()),
                    ..event()
                };
                m.observe(&e);
                if status == 201 {
                    m.observe(&e);
                }
            }
        }
        let text = m.render();
        let counts: Vec<f64> = text
            .lines()
            .filter(|l| l.starts_with("nginx_ingress_controller_requests{"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), 200);
        assert_eq!(counts.iter().sum::<f64>(), 202.0);
        assert!(
            text.lines()
                .any(|l| l.starts_with("nginx_ingress_controller_requests{")
                    && l.contains("host=\"b.example.com\"")
                    && l.contains("status=\"201\"")
                    && l.ends_with(" 2"))
        );
    }

    #[test]
    fn buckets_match_ingress_nginx_defaults() {
        let m = Metrics::new(cfg()).unwrap();
        m.observe(&event());
        let text = m.render();
        let les = |metric: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with(&format!("{metric}_bucket{{")))
                .map(|l| {
                    let i = l.find("le=\"").unwrap() + 4;
                    let rest = &l[i..];
                    rest[..rest.find('"').unwrap()].to_string()
                })
                .collect()
        };
        assert_eq!(
            les("nginx_ingress_controller_request_duration_seconds"),
            [
                "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                "+Inf"
            ]
        );
        assert_eq!(
            les("nginx_ingress_controller_request_size"),
            [
                "10", "20", "30", "40", "50", "60", "70", "80", "90", "100", "+Inf"
            ]
        );
        assert_eq!(
            les("nginx_ingress_controller_bytes_sent"),
            [
                "10", "100", "1000", "10000", "100000", "1000000", "10000000", "+Inf"
            ]
        );
    }

    #[test]
    fn unmatched_requests_and_odd_methods_stay_bounded() {
        let m = Metrics::new(cfg()).unwrap();
        let mut e = event();
        e.ingress_name = None;
        e.ingress_namespace = None;
        e.route_path = None;
        e.method = "FOOBAR".into();
        e.host = Some("attacker-random-1234.example".into());
        e.status = 404;
        m.observe(&e);
        let text = m.render();
        assert!(!text.contains("attacker-random"));
        assert!(text.contains("method=\"OTHER\""));
    }

    #[test]
    fn reload_metrics() {
        let m = Metrics::new(cfg()).unwrap();
        m.config_reloaded(true, 42);
        let t = m.render();
        assert!(t.contains("nginx_ingress_controller_config_hash{controller_class=\"k8s.io/ingress-nginx\",controller_namespace=\"ingress-nginx\",controller_pod=\"pod-1\"} 42"));
        assert!(t.contains("nginx_ingress_controller_config_last_reload_successful{controller_class=\"k8s.io/ingress-nginx\",controller_namespace=\"ingress-nginx\",controller_pod=\"pod-1\"} 1"));
        assert!(t.contains("nginx_ingress_controller_success{controller_class=\"k8s.io/ingress-nginx\",controller_namespace=\"ingress-nginx\",controller_pod=\"pod-1\"} 1"));
        assert!(
            t.contains("nginx_ingress_controller_config_last_reload_successful_timestamp_seconds{")
        );
        m.config_reloaded(false, 7);
        let t = m.render();
        assert!(t.contains("nginx_ingress_controller_config_last_reload_successful{controller_class=\"k8s.io/ingress-nginx\",controller_namespace=\"ingress-nginx\",controller_pod=\"pod-1\"} 0"));
        assert!(t.contains("nginx_ingress_controller_errors{controller_class=\"k8s.io/ingress-nginx\",controller_namespace=\"ingress-nginx\",controller_pod=\"pod-1\"} 1"));
    }

    #[test]
    fn connection_guard_tracks_active() {
        let m = Metrics::new(cfg()).unwrap();
        let g1 = m.connection_opened();
        let g2 = m.connection_opened();
        assert_eq!(m.connection_gauge(ConnectionState::Active).get(), 2);
        drop(g1);
        assert_eq!(m.connection_gauge(ConnectionState::Active).get(), 1);
        drop(g2);
        assert_eq!(m.connection_gauge(ConnectionState::Active).get(), 0);
        let t = m.render();
        assert!(t.contains("state=\"accepted\"} 2"));
    }

    #[test]
    fn certificate_expiry() {
        let m = Metrics::new(cfg()).unwrap();
        m.set_certificate_expiry("default", "tls-web", "foo.example.com", 1_900_000_000);
        assert!(m.render().contains("nginx_ingress_controller_ssl_expire_time_seconds{class=\"k8s.io/ingress-nginx\",host=\"foo.example.com\",namespace=\"default\",secret_name=\"tls-web\"} 1900000000"));
        m.clear_certificate_expiry();
        assert!(!m.render().contains("tls-web"));
    }
}
