//! Upstream runtime state (health, EWMA, round-robin counters, hash rings) and endpoint
//! selection. State is keyed by upstream name and endpoint address and carried over model
//! swaps, so an unchanged upstream keeps its counters and ejections.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use config::model::{LoadBalance, Model, Upstream};
use http::HeaderMap;
use parking_lot::Mutex;
use rand::Rng;
use tokio::time::Instant;

use crate::options::HealthOptions;

/// Peak-EWMA decay time constant (ingress-nginx uses 10 s).
const EWMA_DECAY: Duration = Duration::from_secs(10);
/// Virtual nodes per endpoint on the consistent-hash ring (nginx ketama uses 160).
const RING_POINTS: usize = 160;

// === impl EndpointState ===

/// Health and latency state of one endpoint of one upstream.
#[derive(Debug)]
pub(crate) struct EndpointState {
    pub(crate) addr: SocketAddr,
    /// `addr` as text (`ip:port`), for the access log's `upstream_addr`.
    pub(crate) addr_text: String,
    /// Affinity cookie value naming this endpoint.
    pub(crate) cookie_id: String,
    fails: AtomicU32,
    /// Milliseconds since the gateway epoch until which the endpoint is ejected (0: not).
    ejected_until: AtomicU64,
    inflight: AtomicU32,
    ewma: Mutex<Ewma>,
}

#[derive(Debug)]
struct Ewma {
    /// Seconds.
    value: f64,
    stamp: Instant,
}

impl EndpointState {
    fn new(addr: SocketAddr) -> Self {
        let addr_text = addr.to_string();
        Self {
            addr,
            cookie_id: format!("{:016x}", hash64(addr_text.as_bytes())),
            addr_text,
            fails: AtomicU32::new(0),
            ejected_until: AtomicU64::new(0),
            inflight: AtomicU32::new(0),
            ewma: Mutex::new(Ewma {
                value: 0.0,
                stamp: Instant::now(),
            }),
        }
    }

    fn is_ejected(&self, now_ms: u64) -> bool {
        self.ejected_until.load(Ordering::Relaxed) > now_ms
    }

    /// Records a failed attempt (connect error or timeout).
    pub(crate) fn record_failure(&self, health: &HealthOptions, now_ms: u64) {
        let fails = self.fails.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if health.max_fails > 0 && fails >= health.max_fails {
            let ms = u64::try_from(health.fail_timeout.as_millis()).unwrap_or(u64::MAX);
            self.ejected_until
                .store(now_ms.saturating_add(ms), Ordering::Relaxed);
        }
    }

    /// Records a response from the endpoint after `latency`.
    pub(crate) fn record_success(&self, latency: Duration) {
        if self.fails.load(Ordering::Relaxed) != 0 {
            self.fails.store(0, Ordering::Relaxed);
        }
        self.ejected_until.store(0, Ordering::Relaxed);
        let rtt = latency.as_secs_f64();
        let mut e = self.ewma.lock();
        let now = Instant::now();
        let dt = now.saturating_duration_since(e.stamp).as_secs_f64();
        e.stamp = now;
        if rtt > e.value {
            // Peak sensitivity: jump up at once.
            e.value = rtt;
        } else {
            let w = (-dt / EWMA_DECAY.as_secs_f64()).exp();
            e.value = e.value * w + rtt * (1.0 - w);
        }
    }

    fn ewma_score(&self) -> f64 {
        let e = self.ewma.lock();
        let dt = e.stamp.elapsed().as_secs_f64();
        let decayed = e.value * (-dt / EWMA_DECAY.as_secs_f64()).exp();
        let inflight = f64::from(self.inflight.load(Ordering::Relaxed));
        decayed * (inflight + 1.0)
    }

    /// Marks one request in flight until the guard drops.
    pub(crate) fn start(self: &Arc<Self>) -> InflightGuard {
        self.inflight.fetch_add(1, Ordering::Relaxed);
        InflightGuard(Arc::clone(self))
    }
}

/// Decrements the in-flight count of an endpoint on drop.
pub(crate) struct InflightGuard(Arc<EndpointState>);

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::Relaxed);
    }
}

// === impl UpstreamRuntime ===

/// Runtime view of one model upstream.
#[derive(Debug)]
pub(crate) struct UpstreamRuntime {
    pub(crate) upstream: Arc<Upstream>,
    pub(crate) endpoints: Vec<Arc<EndpointState>>,
    rr: Arc<AtomicUsize>,
    ring: OnceLock<Vec<(u64, usize)>>,
}

/// What the balancer needs from the request.
pub(crate) struct PickInput<'a> {
    pub(crate) lb: &'a LoadBalance,
    /// Pre-computed hash key for `LoadBalance::Hash`.
    pub(crate) hash_key: Option<&'a str>,
}

impl UpstreamRuntime {
    /// Chooses an endpoint index not in `exclude`. Ejected endpoints are skipped unless all
    /// remaining ones are ejected.
    pub(crate) fn pick(
        &self,
        input: &PickInput<'_>,
        exclude: &[usize],
        now_ms: u64,
    ) -> Option<usize> {
        let n = self.endpoints.len();
        if n == 0 {
            return None;
        }
        let usable = |i: usize, healthy_only: bool| {
            let ejected =
                healthy_only && self.endpoints.get(i).is_some_and(|e| e.is_ejected(now_ms));
            !exclude.contains(&i) && !ejected
        };
        for healthy_only in [true, false] {
            let found = match input.lb {
                LoadBalance::RoundRobin => self.pick_rr(|i| usable(i, healthy_only)),
                LoadBalance::Ewma => self.pick_ewma(|i| usable(i, healthy_only)),
                LoadBalance::Hash(_) => {
                    self.pick_hash(input.hash_key.unwrap_or(""), |i| usable(i, healthy_only))
                }
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }

    fn pick_rr(&self, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let n = self.endpoints.len();
        let start = self.rr.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|k| start.wrapping_add(k) % n).find(|&i| ok(i))
    }

    fn pick_ewma(&self, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.endpoints.len()).filter(|&i| ok(i)).collect();
        let score = |i: usize| self.endpoints.get(i).map_or(f64::MAX, |e| e.ewma_score());
        match candidates.as_slice() {
            [] => None,
            [only] => Some(*only),
            _ => {
                // Power of two choices.
                let mut rng = rand::rng();
                let a = rng.random_range(0..candidates.len());
                let mut b = rng.random_range(0..candidates.len() - 1);
                if b >= a {
                    b += 1;
                }
                let (ia, ib) = (*candidates.get(a)?, *candidates.get(b)?);
                let (sa, sb) = (score(ia), score(ib));
                if sa < sb || (sa == sb && ia < ib) {
                    Some(ia)
                } else {
                    Some(ib)
                }
            }
        }
    }

    fn pick_hash(&self, key: &str, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let ring = self.ring.get_or_init(|| build_ring(&self.endpoints));
        if ring.is_empty() {
            return None;
        }
        let h = hash64(key.as_bytes());
        let start = ring.partition_point(|(p, _)| *p < h);
        (0..ring.len())
            .filter_map(|k| ring.get((start + k) % ring.len()))
            .map(|(_, i)| *i)
            .find(|&i| ok(i))
    }

    /// Index of the endpoint whose cookie id is `id`.
    pub(crate) fn by_cookie(&self, id: &str) -> Option<usize> {
        self.endpoints.iter().position(|e| e.cookie_id == id)
    }

    /// Whether endpoint `i` is currently ejected.
    pub(crate) fn ejected(&self, i: usize, now_ms: u64) -> bool {
        self.endpoints.get(i).is_some_and(|e| e.is_ejected(now_ms))
    }
}

fn build_ring(endpoints: &[Arc<EndpointState>]) -> Vec<(u64, usize)> {
    let mut ring = Vec::with_capacity(endpoints.len() * RING_POINTS);
    for (i, e) in endpoints.iter().enumerate() {
        let base = e.addr.to_string();
        for p in 0..RING_POINTS {
            ring.push((hash64(format!("{base}-{p}").as_bytes()), i));
        }
    }
    ring.sort_unstable();
    ring
}

/// FNV-1a followed by a splitmix64 finaliser: deterministic across runs and processes.
pub(crate) fn hash64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

// === impl Snapshot ===

/// Round-robin counter and endpoint states shared by upstreams of the same name.
struct NameState(Arc<AtomicUsize>, HashMap<SocketAddr, Arc<EndpointState>>);

/// A model plus the runtime state of each of its upstreams.
pub(crate) struct Snapshot {
    pub(crate) model: Arc<Model>,
    upstreams: HashMap<usize, Arc<UpstreamRuntime>>,
}

impl Snapshot {
    /// Builds the runtime view of `model`, reusing state from `previous` for upstreams and
    /// endpoints that still exist (same upstream name and address).
    pub(crate) fn build(model: Arc<Model>, previous: Option<&Snapshot>) -> Self {
        let mut old_eps: HashMap<(&str, SocketAddr), &Arc<EndpointState>> = HashMap::new();
        let mut old_rr: HashMap<&str, &Arc<AtomicUsize>> = HashMap::new();
        if let Some(prev) = previous {
            for rt in prev.upstreams.values() {
                old_rr.insert(rt.upstream.name.as_str(), &rt.rr);
                for e in &rt.endpoints {
                    old_eps.insert((rt.upstream.name.as_str(), e.addr), e);
                }
            }
        }
        let mut by_name: HashMap<String, NameState> = HashMap::new();
        let mut upstreams = HashMap::new();
        let all = model
            .servers
            .iter()
            .flat_map(|s| s.routes.iter().map(|r| &r.upstream))
            .chain(model.default_backend.iter());
        for up in all {
            let key = Arc::as_ptr(up) as usize;
            if upstreams.contains_key(&key) {
                continue;
            }
            let NameState(rr, eps) = by_name.entry(up.name.clone()).or_insert_with(|| {
                let rr = old_rr
                    .get(up.name.as_str())
                    .map_or_else(|| Arc::new(AtomicUsize::new(0)), |r| Arc::clone(r));
                NameState(rr, HashMap::new())
            });
            let endpoints = up
                .endpoints
                .iter()
                .map(|addr| {
                    Arc::clone(eps.entry(*addr).or_insert_with(|| {
                        old_eps
                            .get(&(up.name.as_str(), *addr))
                            .map_or_else(|| Arc::new(EndpointState::new(*addr)), |e| Arc::clone(e))
                    }))
                })
                .collect();
            upstreams.insert(
                key,
                Arc::new(UpstreamRuntime {
                    upstream: Arc::clone(up),
                    endpoints,
                    rr: Arc::clone(rr),
                    ring: OnceLock::new(),
                }),
            );
        }
        Self { model, upstreams }
    }

    /// The runtime state of `up`, which must belong to this snapshot's model.
    pub(crate) fn upstream(&self, up: &Arc<Upstream>) -> Option<&Arc<UpstreamRuntime>> {
        self.upstreams.get(&(Arc::as_ptr(up) as usize))
    }
}

// === hash keys ===

/// Evaluates an nginx-style hash expression (`$request_uri`, `$remote_addr`, `$uri`,
/// `$args`, `$host`, `$http_<name>`, `$cookie_<name>`, `$arg_<name>`, literal text).
/// Unknown variables evaluate to the empty string.
pub(crate) fn hash_key(
    expr: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    client: IpAddr,
    host: &str,
) -> String {
    let mut out = String::new();
    let mut rest = expr;
    while let Some(pos) = rest.find('$') {
        out.push_str(rest.get(..pos).unwrap_or(""));
        let after = rest.get(pos + 1..).unwrap_or("");
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (
                    braced.get(..end).unwrap_or(""),
                    braced.get(end + 1..).unwrap_or(""),
                ),
                None => (braced, ""),
            }
        } else {
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            (
                after.get(..len).unwrap_or(""),
                after.get(len..).unwrap_or(""),
            )
        };
        if name.is_empty() {
            out.push('$');
        } else {
            push_var(&mut out, name, uri, headers, client, host);
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

fn push_var(
    out: &mut String,
    name: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    client: IpAddr,
    host: &str,
) {
    match name {
        "request_uri" => out.push_str(uri.path_and_query().map_or("/", |p| p.as_str())),
        "uri" => out.push_str(uri.path()),
        "args" | "query_string" => out.push_str(uri.query().unwrap_or("")),
        "remote_addr" | "binary_remote_addr" => out.push_str(&client.to_string()),
        "host" => out.push_str(host),
        _ => {
            if let Some(h) = name.strip_prefix("http_") {
                let header = h.replace('_', "-");
                if let Some(v) = headers.get(header.as_str()).and_then(|v| v.to_str().ok()) {
                    out.push_str(v);
                }
            } else if let Some(c) = name.strip_prefix("cookie_") {
                if let Some(v) = cookie(headers, c) {
                    out.push_str(v);
                }
            } else if let Some(a) = name.strip_prefix("arg_")
                && let Some(v) = query_arg(uri.query().unwrap_or(""), a)
            {
                out.push_str(v);
            }
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

fn query_arg<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_expression() {
        let uri: http::Uri = "/a/b?x=1&user=bob".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-user", "alice".parse().unwrap());
        h.insert("cookie", "a=1; sid=zz".parse().unwrap());
        let ip: IpAddr = "1.2.3.4".parse().unwrap();
        assert_eq!(
            hash_key("$request_uri", &uri, &h, ip, "h"),
            "/a/b?x=1&user=bob"
        );
        assert_eq!(hash_key("$remote_addr", &uri, &h, ip, "h"), "1.2.3.4");
        assert_eq!(
            hash_key("u:$http_x_user/$cookie_sid/$arg_user", &uri, &h, ip, "h"),
            "u:alice/zz/bob"
        );
        assert_eq!(hash_key("${uri}x$", &uri, &h, ip, "h"), "/a/bx$");
    }
}
