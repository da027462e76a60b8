//! Abuse control on one replica (issue #6): global `block-cidrs` / `block-user-agents`,
//! allow/deny lists, `limit-connections`, `limit-rpm` and `limit-rps` (in that order), and
//! the shared rejection plumbing ([`RejectReason`], `Gateway::reject`) also used by
//! `proxy-body-size` and the Redis global limit.
//!
//! State (rate table, in-flight counts, Ingress ids) lives in [`LimitState`] on the
//! gateway, so it survives model swaps; entries of an Ingress that is gone (or no longer
//! limited) are dropped at the next swap. Keys are (Ingress, true client IP).

mod conns;
mod reject;
mod table;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use config::limits::GlobalLimits;
use config::model::{Model, ObjectRef, Route};
use http::header::{self, HeaderMap};
use http::{Response, StatusCode};
use parking_lot::RwLock;

pub(crate) use conns::ConnGuard;
pub use reject::{RejectReason, RejectSinks};
use table::{Key, Rate, RateTable, RateVerdict};

use crate::body::ResponseBody;
use crate::event::AccessEvent;
use crate::server::Gateway;

/// Abuse-control options of the gateway (not from manifests).
#[derive(Debug, Clone)]
pub struct LimitOptions {
    /// Where rejections are reported.
    pub sinks: RejectSinks,
    /// Most (Ingress, client IP) rate-limit entries kept at once, over all Ingresses
    /// (default 262144; at most about 72 bytes each, so under 19 MiB). See `docs/limits.md` for what happens when full.
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

/// Limiter state that outlives model swaps.
#[derive(Debug)]
pub(crate) struct LimitState {
    ids: RwLock<HashMap<ObjectRef, u32>>,
    next_id: AtomicU32,
    rates: RateTable,
    conns: Arc<conns::ConnTable>,
    epoch: Instant,
}

/// What abuse control decided.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Go on; the guard (if any) holds a `limit-connections` slot until dropped.
    Pass(Option<ConnGuard>),
    /// Refuse with this reason and status.
    Reject(RejectReason, StatusCode),
}

impl LimitState {
    /// Empty state with the table cap from `opts`.
    pub(crate) fn new(opts: &LimitOptions) -> Self {
        Self {
            ids: RwLock::new(HashMap::new()),
            next_id: AtomicU32::new(0),
            rates: RateTable::new(opts.max_tracked_clients),
            conns: Arc::new(conns::ConnTable::default()),
            epoch: Instant::now(),
        }
    }

    fn id_of(&self, ingress: &ObjectRef) -> u32 {
        if let Some(id) = self.ids.read().get(ingress) {
            return *id;
        }
        let mut ids = self.ids.write();
        *ids.entry(ingress.clone())
            .or_insert_with(|| self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// After a model swap: forgets Ingresses that are gone or no longer rate limited.
    pub(crate) fn retain(&self, model: &Model) {
        let live: std::collections::HashSet<&ObjectRef> = model
            .servers
            .iter()
            .flat_map(|s| s.routes.iter())
            .filter(|r| r.settings.limits.has_limits())
            .map(|r| &r.ingress)
            .collect();
        let kept: std::collections::HashSet<u32> = {
            let mut ids = self.ids.write();
            ids.retain(|k, _| live.contains(k));
            ids.values().copied().collect()
        };
        self.rates.retain_ingresses(|id| kept.contains(&id));
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Decides for one request from `ip` on `route` (`None`: no Ingress matched, only the
    /// global blocks apply). `allowlist_exempt` skips the allowlist (ACME HTTP-01 paths).
    pub(crate) fn decide(
        &self,
        global: &GlobalLimits,
        route: Option<&Route>,
        ip: IpAddr,
        user_agent: Option<&[u8]>,
        allowlist_exempt: bool,
    ) -> Decision {
        if global.block_cidrs.contains(ip) {
            return Decision::Reject(RejectReason::Denylist, StatusCode::FORBIDDEN);
        }
        if global.block_user_agents.blocks(user_agent) {
            return Decision::Reject(RejectReason::UserAgent, StatusCode::FORBIDDEN);
        }
        let Some(route) = route else {
            return Decision::Pass(None);
        };
        let s = &route.settings.limits;
        if let Some(deny) = s.denylist.as_ref().or(global.denylist.as_ref())
            && deny.contains(ip)
        {
            return Decision::Reject(RejectReason::Denylist, StatusCode::FORBIDDEN);
        }
        if !allowlist_exempt
            && let Some(allow) = s.allowlist.as_ref().or(global.allowlist.as_ref())
            && !allow.contains(ip)
        {
            return Decision::Reject(RejectReason::Allowlist, StatusCode::FORBIDDEN);
        }
        if !s.has_limits() || s.whitelist.contains(ip) {
            return Decision::Pass(None);
        }
        let key = Key::new(self.id_of(&route.ingress), ip);
        let guard = match s.connections {
            Some(limit) => match self.conns.acquire(key, limit) {
                Some(g) => Some(g),
                None => {
                    return Decision::Reject(
                        RejectReason::Connections,
                        status(global.conn_status_code),
                    );
                }
            },
            None => None,
        };
        let rpm = s.rpm.and_then(|n| Rate::per_minute(n, s.burst_multiplier));
        let rps = s.rps.and_then(|n| Rate::per_second(n, s.burst_multiplier));
        match self.rates.check(key, rpm, rps, self.now_ns()) {
            RateVerdict::Allow => Decision::Pass(guard),
            RateVerdict::RpmExceeded | RateVerdict::RpsExceeded => Decision::Reject(
                RejectReason::Rate,
                status(s.req_status_code.unwrap_or(global.req_status_code)),
            ),
        }
    }

    /// Rate-limit entries held (for tests).
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.rates.stats().len
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

impl Gateway {
    /// Abuse control for one request, called once the route is known (ACME HTTP-01 answers
    /// come before it). Returns the rejection response (event and metric already recorded),
    /// or `None` to go on with `guard` holding the `limit-connections` slot (if any) to keep
    /// until the response is done.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_abuse(
        &self,
        global: &GlobalLimits,
        route: Option<&Route>,
        ip: IpAddr,
        headers: &HeaderMap,
        path: &str,
        event: &mut AccessEvent,
        guard: &mut Option<ConnGuard>,
    ) -> Option<Response<ResponseBody>> {
        let ua = headers.get(header::USER_AGENT).map(|v| v.as_bytes());
        let acme = path.starts_with(crate::proxy::ACME_PREFIX);
        match self.limits.decide(global, route, ip, ua, acme) {
            Decision::Pass(g) => {
                *guard = g;
                None
            }
            Decision::Reject(reason, status) => Some(self.reject(reason, status, event)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use config::limits::{CidrList, LimitSettings, UserAgentBlocklist, parse_cidr};
    use config::model::{PathMatch, RouteSettings, Upstream};

    fn route(name: &str, limits: LimitSettings) -> Route {
        Route {
            ingress: ObjectRef {
                namespace: "default".into(),
                name: name.into(),
            },
            path: PathMatch::Prefix("/".into()),
            upstream: Arc::new(Upstream {
                name: "u".into(),
                service: ObjectRef::default(),
                service_port: "80".into(),
                endpoints: Vec::new(),
                external_name: None,
            }),
            settings: Arc::new(RouteSettings {
                limits,
                ..RouteSettings::default()
            }),
        }
    }

    fn list(items: &[&str]) -> CidrList {
        CidrList::new(items.iter().map(|s| parse_cidr(s).unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn reason(d: Decision) -> Option<(RejectReason, u16)> {
        match d {
            Decision::Pass(_) => None,
            Decision::Reject(r, s) => Some((r, s.as_u16())),
        }
    }

    #[test]
    fn order_lists_then_connections_then_rate() {
        let st = LimitState::new(&LimitOptions::default());
        let global = GlobalLimits {
            block_cidrs: list(&["198.51.100.0/24"]),
            block_user_agents: UserAgentBlocklist::parse(&["~*evilbot"]).unwrap(),
            allowlist: Some(list(&["10.0.0.0/8"])),
            ..GlobalLimits::default()
        };
        let r = route(
            "a",
            LimitSettings {
                rps: Some(1),
                burst_multiplier: 1,
                connections: Some(1),
                denylist: Some(list(&["10.9.0.0/16"])),
                whitelist: list(&["10.1.0.0/16"]),
                req_status_code: Some(429),
                ..LimitSettings::default()
            },
        );
        let d = |addr: &str, ua: Option<&[u8]>| st.decide(&global, Some(&r), ip(addr), ua, false);
        assert_eq!(
            reason(d("198.51.100.1", None)),
            Some((RejectReason::Denylist, 403))
        );
        assert_eq!(
            reason(d("10.0.0.1", Some(b"EvilBot/2"))),
            Some((RejectReason::UserAgent, 403))
        );
        assert_eq!(
            reason(d("10.9.1.1", None)),
            Some((RejectReason::Denylist, 403))
        );
        assert_eq!(
            reason(d("192.0.2.1", None)),
            Some((RejectReason::Allowlist, 403))
        );
        // ACME paths skip the allowlist only.
        assert!(reason(st.decide(&global, Some(&r), ip("192.0.2.1"), None, true)).is_none());
        // Connections: one slot, held by the guard.
        let Decision::Pass(Some(g)) = d("10.0.0.1", None) else {
            panic!("expected a slot");
        };
        assert_eq!(
            reason(d("10.0.0.1", None)),
            Some((RejectReason::Connections, 503))
        );
        drop(g);
        // rps 1 x 1: two at once, then 429 (per-Ingress status).
        assert!(reason(d("10.0.0.1", None)).is_none());
        assert_eq!(reason(d("10.0.0.1", None)), Some((RejectReason::Rate, 429)));
        // limit-whitelist: exempt from both limits.
        for _ in 0..10 {
            assert!(reason(d("10.1.2.3", None)).is_none());
        }
        // No route: only the global blocks.
        assert!(reason(st.decide(&global, None, ip("192.0.2.1"), None, false)).is_none());
        assert_eq!(
            reason(st.decide(&global, None, ip("198.51.100.1"), None, false)),
            Some((RejectReason::Denylist, 403))
        );
    }

    #[test]
    fn route_lists_replace_global_ones() {
        let st = LimitState::new(&LimitOptions::default());
        let global = GlobalLimits {
            allowlist: Some(list(&["10.0.0.0/8"])),
            denylist: Some(list(&["192.0.2.0/24"])),
            ..GlobalLimits::default()
        };
        let r = route(
            "b",
            LimitSettings {
                allowlist: Some(list(&["192.0.2.0/24", "2001:db8::/32"])),
                denylist: Some(CidrList::default()),
                ..LimitSettings::default()
            },
        );
        assert!(reason(st.decide(&global, Some(&r), ip("192.0.2.5"), None, false)).is_none());
        assert!(reason(st.decide(&global, Some(&r), ip("2001:db8::7"), None, false)).is_none());
        assert_eq!(
            reason(st.decide(&global, Some(&r), ip("10.0.0.1"), None, false)),
            Some((RejectReason::Allowlist, 403))
        );
        // Fail-closed allowlist (empty): nobody.
        let closed = route(
            "c",
            LimitSettings {
                allowlist: Some(CidrList::default()),
                ..LimitSettings::default()
            },
        );
        assert_eq!(
            reason(st.decide(&global, Some(&closed), ip("10.0.0.1"), None, false)),
            Some((RejectReason::Allowlist, 403))
        );
    }

    #[test]
    fn retain_drops_gone_ingresses() {
        let st = LimitState::new(&LimitOptions::default());
        let global = GlobalLimits::default();
        let r = route(
            "gone",
            LimitSettings {
                rps: Some(100),
                burst_multiplier: 5,
                ..LimitSettings::default()
            },
        );
        assert!(reason(st.decide(&global, Some(&r), ip("192.0.2.1"), None, false)).is_none());
        assert_eq!(st.tracked(), 1);
        st.retain(&Model::default());
        assert_eq!(st.tracked(), 0);
        assert!(st.ids.read().is_empty());
    }

    /// Cost of the check itself (run: `cargo test --release -p gateway --lib
    /// limits::tests::timing -- --ignored --nocapture`).
    #[test]
    #[ignore = "timing report"]
    fn timing() {
        let st = LimitState::new(&LimitOptions::default());
        let global = GlobalLimits::default();
        let plain = route("plain", LimitSettings::default());
        let limited = route(
            "limited",
            LimitSettings {
                rps: Some(1_000_000),
                connections: Some(1_000_000),
                burst_multiplier: 5,
                ..LimitSettings::default()
            },
        );
        let n = 1_000_000u32;
        let time = |label: &str, r: &Route, spray: bool| {
            let t = Instant::now();
            for i in 0..n {
                let ip = if spray {
                    IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i))
                } else {
                    ip("192.0.2.1")
                };
                let d = st.decide(&global, Some(r), ip, Some(b"Mozilla/5.0"), false);
                assert!(matches!(d, Decision::Pass(_)));
            }
            let ns = t.elapsed().as_nanos() / u128::from(n);
            eprintln!("{label}: {ns} ns per request");
        };
        time("no limits", &plain, false);
        time("limit-rps + limit-connections, one client", &limited, false);
        time(
            "limit-rps + limit-connections, 1M distinct clients (table at cap)",
            &limited,
            true,
        );
    }
}
