//! Abuse-control annotations and globals -> [`LimitSettings`] / [`GlobalLimits`] (issue #6).
//!
//! Per Ingress (ingress-nginx names): `limit-rps`, `limit-rpm`, `limit-burst-multiplier`
//! (default 5), `limit-connections`, `limit-whitelist` (CIDRs exempt from the limits),
//! `limit-req-status-code` (a ConfigMap key in ingress-nginx; accepted per Ingress too),
//! `allowlist-source-range` (old name `whitelist-source-range`) and `denylist-source-range`.
//! Globals (config file, ingress-nginx ConfigMap keys): `block-cidrs`, `block-user-agents`,
//! `limit-req-status-code`, `limit-conn-status-code`, `whitelist-source-range` /
//! `allowlist-source-range` and `denylist-source-range` (defaults an Ingress annotation
//! replaces).
//!
//! Invalid values are problems (file:line) and fail closed:
//! - an allowlist with any invalid entry allows NOBODY (every request gets 403) until fixed,
//!   rather than silently opening the Ingress to everyone;
//! - invalid denylist and `limit-whitelist` entries are dropped (the valid ones still apply,
//!   so the result is never more permissive than intended);
//! - an invalid number leaves that limit at its default (unset), as other annotations do.

use std::net::IpAddr;

use ipnet::IpNet;
use regex::{Regex, RegexBuilder};

/// Default `limit-burst-multiplier` (ingress-nginx).
pub const DEFAULT_BURST_MULTIPLIER: u32 = 5;
/// Default status of rate and connection limit rejections (nginx `limit_req_status`).
pub const DEFAULT_LIMIT_STATUS: u16 = 503;

/// A list of networks (IPv4 and IPv6). IPv4-mapped IPv6 client addresses (`::ffff:a.b.c.d`)
/// match IPv4 entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrList {
    nets: Vec<IpNet>,
}

impl CidrList {
    /// A list of these networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self { nets }
    }

    /// Whether `ip` is inside one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// No networks.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

/// Parses one CIDR or a bare address (a single host). IPv4 and IPv6.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not a CIDR or address (e.g. 10.0.0.0/8, 2001:db8::/32)"))
}

/// Parses a comma-separated list; returns the valid networks and the invalid entries.
pub fn parse_cidr_csv(v: &str) -> (Vec<IpNet>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match parse_cidr(item) {
            Ok(n) => ok.push(n),
            Err(_) => bad.push(item.to_owned()),
        }
    }
    (ok, bad)
}

/// One `block-user-agents` entry, nginx `map` style.
#[derive(Debug, Clone)]
pub enum UserAgentRule {
    /// A plain string: the whole `User-Agent` equals it (ASCII case-insensitive, as nginx's
    /// `map` string keys).
    Exact(String),
    /// `~regex` (case-sensitive) or `~*regex` (case-insensitive), unanchored search.
    Regex(Regex),
}

/// Global `block-user-agents`: a request whose `User-Agent` matches any rule gets 403.
#[derive(Debug, Clone, Default)]
pub struct UserAgentBlocklist {
    rules: Vec<UserAgentRule>,
}

/// Regex size limit for user-agent patterns (compiled program bytes).
const UA_REGEX_SIZE_LIMIT: usize = 1 << 20;

impl UserAgentBlocklist {
    /// Compiles the entries (`exact`, `~regex`, `~*regex`); the first invalid regex is the
    /// error.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut rules = Vec::new();
        for e in entries {
            let e = e.as_ref().trim();
            if e.is_empty() {
                continue;
            }
            let (pattern, insensitive) = if let Some(p) = e.strip_prefix("~*") {
                (p, true)
            } else if let Some(p) = e.strip_prefix('~') {
                (p, false)
            } else {
                rules.push(UserAgentRule::Exact(e.to_owned()));
                continue;
            };
            let re = RegexBuilder::new(pattern)
                .case_insensitive(insensitive)
                .size_limit(UA_REGEX_SIZE_LIMIT)
                .build()
                .map_err(|err| format!("block-user-agents `{e}`: {err}"))?;
            rules.push(UserAgentRule::Regex(re));
        }
        Ok(Self { rules })
    }

    /// Whether a request with this `User-Agent` value is blocked. Without the header nothing
    /// matches (nginx compares an empty string; an empty exact entry is ignored).
    pub fn blocks(&self, user_agent: Option<&[u8]>) -> bool {
        let Some(ua) = user_agent else {
            return false;
        };
        let text = String::from_utf8_lossy(ua);
        self.rules.iter().any(|r| match r {
            UserAgentRule::Exact(s) => s.eq_ignore_ascii_case(&text),
            UserAgentRule::Regex(re) => re.is_match(&text),
        })
    }

    /// No rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Abuse-control settings of one Ingress.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// `limit-rps`: requests per second per client IP (`None` or 0 in the annotation = off).
    pub rps: Option<u32>,
    /// `limit-rpm`: requests per minute per client IP.
    pub rpm: Option<u32>,
    /// `limit-burst-multiplier` (default 5): burst = limit x multiplier, as ingress-nginx.
    pub burst_multiplier: u32,
    /// `limit-connections`: concurrent in-flight requests per client IP.
    pub connections: Option<u32>,
    /// `limit-whitelist`: clients exempt from the connection and rate limits.
    pub whitelist: CidrList,
    /// `limit-req-status-code` for this Ingress; `None` = the global value.
    pub req_status_code: Option<u16>,
    /// `allowlist-source-range` / `whitelist-source-range`: only these clients (403 for the
    /// rest); `None` = the global default. `Some` empty list = nobody (fail-closed result of
    /// an invalid annotation).
    pub allowlist: Option<CidrList>,
    /// `denylist-source-range`: these clients get 403; `None` = the global default.
    pub denylist: Option<CidrList>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            rps: None,
            rpm: None,
            burst_multiplier: DEFAULT_BURST_MULTIPLIER,
            connections: None,
            whitelist: CidrList::default(),
            req_status_code: None,
            allowlist: None,
            denylist: None,
        }
    }
}

impl LimitSettings {
    /// Whether a connection or rate limit is set.
    pub fn has_limits(&self) -> bool {
        self.rps.is_some() || self.rpm.is_some() || self.connections.is_some()
    }
}

/// Global abuse-control settings (config file; ingress-nginx ConfigMap keys).
#[derive(Debug, Clone)]
pub struct GlobalLimits {
    /// `block-cidrs`: 403 for these clients on every Ingress.
    pub block_cidrs: CidrList,
    /// `block-user-agents`.
    pub block_user_agents: UserAgentBlocklist,
    /// `limit-req-status-code` (default 503).
    pub req_status_code: u16,
    /// `limit-conn-status-code` (default 503).
    pub conn_status_code: u16,
    /// `whitelist-source-range` / `allowlist-source-range` default for every Ingress.
    pub allowlist: Option<CidrList>,
    /// `denylist-source-range` default for every Ingress.
    pub denylist: Option<CidrList>,
}

impl Default for GlobalLimits {
    fn default() -> Self {
        Self {
            block_cidrs: CidrList::default(),
            block_user_agents: UserAgentBlocklist::default(),
            req_status_code: DEFAULT_LIMIT_STATUS,
            conn_status_code: DEFAULT_LIMIT_STATUS,
            allowlist: None,
            denylist: None,
        }
    }
}

/// Whether `code` can be used as a rejection status (nginx `limit_req_status`: 400-599).
pub fn valid_status(code: u16) -> bool {
    (400..=599).contains(&code)
}

/// Reads the abuse-control annotations. `get(name)` returns (full key, value) of an
/// annotation; `problem(full_key, reason)` records a problem.
pub(crate) fn parse<'a>(
    get: &dyn Fn(&str) -> Option<(&'a str, &'a str)>,
    problem: &mut dyn FnMut(&str, String),
) -> LimitSettings {
    let mut s = LimitSettings::default();
    let count = |name: &str, max: u32, problem: &mut dyn FnMut(&str, String)| {
        let (key, v) = get(name)?;
        match v.parse::<u32>() {
            Ok(0) => None,
            Ok(n) if n <= max => Some(n),
            _ => {
                problem(
                    key,
                    format!("`{v}` is not a whole number 0-{max}; the limit is not applied"),
                );
                None
            }
        }
    };
    s.rps = count("limit-rps", 1_000_000, problem);
    s.rpm = count("limit-rpm", 60_000_000, problem);
    s.connections = count("limit-connections", 1_000_000, problem);
    if let Some((key, v)) = get("limit-burst-multiplier") {
        match v.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => s.burst_multiplier = n,
            _ => problem(
                key,
                format!("`{v}` is not a multiplier 1-1000; using {DEFAULT_BURST_MULTIPLIER}"),
            ),
        }
    }
    if let Some((key, v)) = get("limit-req-status-code") {
        match v.parse::<u16>() {
            Ok(n) if valid_status(n) => s.req_status_code = Some(n),
            _ => problem(
                key,
                format!("`{v}` is not an HTTP status 400-599; using the global value"),
            ),
        }
    }
    if let Some((key, v)) = get("limit-whitelist") {
        let (nets, bad) = parse_cidr_csv(v);
        if !bad.is_empty() {
            problem(
                key,
                format!(
                    "invalid CIDR {}; those entries are not exempt",
                    quote_list(&bad)
                ),
            );
        }
        s.whitelist = CidrList::new(nets);
    }
    let allow = get("allowlist-source-range").or_else(|| get("whitelist-source-range"));
    if let Some((key, v)) = allow.filter(|(_, v)| !v.is_empty()) {
        let (nets, bad) = parse_cidr_csv(v);
        if bad.is_empty() {
            s.allowlist = Some(CidrList::new(nets));
        } else {
            problem(
                key,
                format!(
                    "invalid CIDR {}; failing closed: every client gets 403 on this Ingress until fixed",
                    quote_list(&bad)
                ),
            );
            s.allowlist = Some(CidrList::default());
        }
    }
    if let Some((key, v)) = get("denylist-source-range").filter(|(_, v)| !v.is_empty()) {
        let (nets, bad) = parse_cidr_csv(v);
        if !bad.is_empty() {
            problem(
                key,
                format!(
                    "invalid CIDR {}; those entries are ignored, the rest are denied",
                    quote_list(&bad)
                ),
            );
        }
        s.denylist = Some(CidrList::new(nets));
    }
    s
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn run(pairs: &[(&str, &str)]) -> (LimitSettings, Vec<(String, String)>) {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(k, v)| (*k, v.trim()))
        };
        let mut problems = Vec::new();
        let s = parse(&get, &mut |k, r| problems.push((k.to_owned(), r)));
        (s, problems)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn defaults() {
        let (s, p) = run(&[]);
        assert!(p.is_empty());
        assert_eq!(s.burst_multiplier, 5);
        assert!(!s.has_limits());
        assert!(s.allowlist.is_none() && s.denylist.is_none());
        assert_eq!(s.req_status_code, None);
    }

    #[test]
    fn table() {
        // (annotation, value, problems expected, check)
        type Check = fn(&LimitSettings) -> bool;
        let cases: &[(&str, &str, usize, Check)] = &[
            ("limit-rps", "10", 0, |s| s.rps == Some(10)),
            ("limit-rps", "0", 0, |s| s.rps.is_none()),
            ("limit-rps", "-1", 1, |s| s.rps.is_none()),
            ("limit-rps", "ten", 1, |s| s.rps.is_none()),
            ("limit-rps", "99999999999", 1, |s| s.rps.is_none()),
            ("limit-rpm", "300", 0, |s| s.rpm == Some(300)),
            ("limit-connections", "3", 0, |s| s.connections == Some(3)),
            ("limit-connections", "1.5", 1, |s| s.connections.is_none()),
            ("limit-burst-multiplier", "2", 0, |s| {
                s.burst_multiplier == 2
            }),
            ("limit-burst-multiplier", "0", 1, |s| {
                s.burst_multiplier == 5
            }),
            ("limit-req-status-code", "429", 0, |s| {
                s.req_status_code == Some(429)
            }),
            ("limit-req-status-code", "200", 1, |s| {
                s.req_status_code.is_none()
            }),
            (
                "limit-whitelist",
                "10.0.0.0/8, 2001:db8::/32,192.0.2.7",
                0,
                |s| s.whitelist.nets().len() == 3,
            ),
            ("limit-whitelist", "10.0.0.0/8,banana", 1, |s| {
                s.whitelist.nets().len() == 1
            }),
            ("allowlist-source-range", "10.0.0.0/8,::1", 0, |s| {
                s.allowlist.as_ref().unwrap().nets().len() == 2
            }),
            ("whitelist-source-range", "10.0.0.0/8", 0, |s| {
                s.allowlist.as_ref().unwrap().nets().len() == 1
            }),
            // Fail closed: one bad entry and nobody is allowed.
            ("allowlist-source-range", "10.0.0.0/8,10.0.0.0/33", 1, |s| {
                s.allowlist.as_ref().unwrap().is_empty()
            }),
            ("allowlist-source-range", "", 0, |s| s.allowlist.is_none()),
            ("denylist-source-range", "192.0.2.0/24,nope", 1, |s| {
                s.denylist.as_ref().unwrap().nets().len() == 1
            }),
        ];
        for (name, value, n, check) in cases {
            let (s, p) = run(&[(name, value)]);
            assert_eq!(p.len(), *n, "{name}={value}: {p:?}");
            assert!(check(&s), "{name}={value}: {s:?}");
            if let Some((key, _)) = p.first() {
                assert_eq!(key, name);
            }
        }
    }

    #[test]
    fn manifest_problems_have_file_and_line() {
        let yaml = r#"apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{port: 80}]
  clusterIP: 127.0.0.1
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "5"
    nginx.ingress.kubernetes.io/whitelist-source-range: "10.0.0.0/8, 300.1.1.1"
    nginx.ingress.kubernetes.io/limit-req-status-code: "429"
spec:
  rules:
  - host: a.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: s, port: {number: 80}}}
"#;
        let m = crate::load_str("t.yaml", yaml, &crate::LoadOptions::default());
        assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
        let p = m.problems[0].to_string();
        assert!(p.starts_with("t.yaml:14: "), "{p}");
        assert!(
            p.contains("whitelist-source-range") && p.contains("300.1.1.1"),
            "{p}"
        );
        let l = &m.servers[0].routes[0].settings.limits;
        assert_eq!(l.rps, Some(5));
        assert_eq!(l.req_status_code, Some(429));
        assert!(l.allowlist.as_ref().unwrap().is_empty(), "fail closed");
    }

    #[test]
    fn new_allowlist_name_wins() {
        let (s, p) = run(&[
            ("allowlist-source-range", "192.0.2.0/24"),
            ("whitelist-source-range", "10.0.0.0/8"),
        ]);
        assert!(p.is_empty());
        let a = s.allowlist.unwrap();
        assert!(a.contains(ip("192.0.2.9")));
        assert!(!a.contains(ip("10.1.1.1")));
    }

    #[test]
    fn cidr_matching_v4_v6_and_mapped() {
        let l = CidrList::new(vec![
            parse_cidr("10.0.0.0/8").unwrap(),
            parse_cidr("2001:db8::/32").unwrap(),
            parse_cidr("192.0.2.1").unwrap(),
            parse_cidr("10.1.2.3/8").unwrap(),
        ]);
        assert!(l.contains(ip("10.200.0.1")));
        assert!(l.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped IPv6");
        assert!(l.contains(ip("2001:db8::5")));
        assert!(l.contains(ip("192.0.2.1")));
        assert!(!l.contains(ip("192.0.2.2")));
        assert!(!l.contains(ip("2001:db9::1")));
        assert!(!l.contains(ip("::1")));
        assert_eq!(l.nets()[3].to_string(), "10.0.0.0/8", "host bits truncated");
        assert!(parse_cidr("1.2.3.4/40").is_err());
        assert!(parse_cidr("").is_err());
    }

    #[test]
    fn user_agents_nginx_style() {
        let b =
            UserAgentBlocklist::parse(&["BadBot/1.0", "~^curl/", "~*python-requests", ""]).unwrap();
        assert!(b.blocks(Some(b"BadBot/1.0")));
        assert!(b.blocks(Some(b"badbot/1.0")), "exact strings ignore case");
        assert!(
            !b.blocks(Some(b"BadBot/1.0 extra")),
            "exact means whole value"
        );
        assert!(b.blocks(Some(b"curl/8.0")));
        assert!(!b.blocks(Some(b"CURL/8.0")), "~ is case-sensitive");
        assert!(
            b.blocks(Some(b"Mozilla Python-Requests/2")),
            "~* ignores case"
        );
        assert!(!b.blocks(None));
        assert!(!b.blocks(Some(b"Mozilla/5.0")));
        assert!(!b.blocks(Some(&[0xff, b'c', b'u', b'r', b'l'])));
        assert!(UserAgentBlocklist::parse(&["~(unclosed"]).is_err());
        assert!(UserAgentBlocklist::parse::<&str>(&[]).unwrap().is_empty());
    }
}
