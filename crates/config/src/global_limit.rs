//! `global-rate-limit*` annotations: one limit shared by every gateway replica, counted in
//! Redis (issue #6; the counting lives in the `globallimit` crate).
//!
//! - `global-rate-limit`: requests allowed per window (`0` or absent = off);
//! - `global-rate-limit-window`: Go duration (`1m`, `10s`, `1h30m`), 1 s to 7 days; required
//!   with a limit (as ingress-nginx, a limit without a window is off);
//! - `global-rate-limit-key`: nginx expression naming the client, default `$remote_addr`
//!   (the true client IP); `$http_<header>`, `$cookie_<name>`, `$arg_<name>`,
//!   `$request_uri`, `$uri`, `$args`, `$host` and literal text mixing them;
//! - `global-rate-limit-ignored-cidrs`: comma-separated CIDRs (or addresses) never limited.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// The default key: the true client address.
pub const DEFAULT_KEY: &str = "$remote_addr";

/// Shortest accepted window.
const MIN_WINDOW: Duration = Duration::from_secs(1);
/// Longest accepted window.
const MAX_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
/// Largest accepted limit (counters are Lua numbers in Redis).
const MAX_LIMIT: u64 = 1 << 40;

/// A global rate limit of one Ingress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalLimitSettings {
    /// Requests allowed per window (at least 1).
    pub limit: u64,
    /// The window (sliding, estimated from two fixed windows).
    pub window: Duration,
    /// nginx expression evaluated per request into the counter key.
    pub key: String,
    /// Clients never limited.
    pub ignored_cidrs: Vec<IpNet>,
}

impl GlobalLimitSettings {
    /// Whether `ip` is exempt (`global-rate-limit-ignored-cidrs`).
    pub fn ignores(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        self.ignored_cidrs.iter().any(|n| n.contains(&ip))
    }
}

/// Variables [`GlobalLimitSettings::key`] may use (prefix families end with `_`).
const KNOWN_VARS: [&str; 7] = [
    "remote_addr",
    "binary_remote_addr",
    "request_uri",
    "uri",
    "args",
    "query_string",
    "host",
];
const KNOWN_FAMILIES: [&str; 3] = ["http_", "cookie_", "arg_"];

/// Checks an nginx key expression; on error, the reason.
fn validate_key(v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
        return Err("must be a short nginx expression such as `$remote_addr`".into());
    }
    let mut rest = v;
    while let Some(pos) = rest.find('$') {
        let after = rest.get(pos + 1..).unwrap_or("");
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in `{v}`"))?;
            (
                braced.get(..end).unwrap_or(""),
                braced.get(end + 1..).unwrap_or(""),
            )
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
        let known = KNOWN_VARS.contains(&name)
            || KNOWN_FAMILIES
                .iter()
                .any(|f| name.strip_prefix(f).is_some_and(|n| !n.is_empty()));
        if !name.is_empty() && !known {
            return Err(format!(
                "unknown variable `${name}` (use $remote_addr, $http_<header>, $cookie_<name>, \
                 $arg_<name>, $request_uri, $uri, $args or $host)"
            ));
        }
        rest = tail;
    }
    Ok(())
}

/// A CIDR, or a bare address meaning one host.
fn parse_cidr(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Parses the annotations of one Ingress; `None` when no global limit applies. Invalid values
/// are reported through `problem(full_key, reason)`.
pub(crate) fn parse<'a>(
    get: &dyn Fn(&str) -> Option<(&'a str, &'a str)>,
    problem: &mut dyn FnMut(&str, String),
) -> Option<GlobalLimitSettings> {
    let window_ann = get("global-rate-limit-window");
    let Some((limit_key, raw_limit)) = get("global-rate-limit") else {
        for name in [
            "global-rate-limit-window",
            "global-rate-limit-key",
            "global-rate-limit-ignored-cidrs",
        ] {
            if let Some((key, _)) = get(name) {
                problem(key, "has no effect without global-rate-limit".into());
            }
        }
        return None;
    };
    let limit = match raw_limit.parse::<u64>() {
        Ok(0) => return None,
        Ok(n) if n <= MAX_LIMIT => n,
        _ => {
            problem(
                limit_key,
                format!(
                    "`{raw_limit}` is not a number of requests (1-{MAX_LIMIT}, 0 = off); global limit off"
                ),
            );
            return None;
        }
    };
    let Some((window_key, raw_window)) = window_ann else {
        problem(
            limit_key,
            "global-rate-limit needs global-rate-limit-window (e.g. `1m`); global limit off".into(),
        );
        return None;
    };
    let window = match crate::certmanager::parse_go_duration(raw_window) {
        Some(w) if (MIN_WINDOW..=MAX_WINDOW).contains(&w) => w,
        _ => {
            problem(
                window_key,
                format!(
                    "`{raw_window}` is not a duration between 1s and 168h (e.g. `1m`, `10s`); global limit off"
                ),
            );
            return None;
        }
    };
    let key = match get("global-rate-limit-key") {
        None => DEFAULT_KEY.to_owned(),
        Some((_, "")) => DEFAULT_KEY.to_owned(),
        Some((k, v)) => match validate_key(v) {
            Ok(()) => v.to_owned(),
            Err(reason) => {
                problem(k, format!("{reason}; using {DEFAULT_KEY}"));
                DEFAULT_KEY.to_owned()
            }
        },
    };
    let mut ignored_cidrs = Vec::new();
    if let Some((k, v)) = get("global-rate-limit-ignored-cidrs") {
        for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match parse_cidr(item) {
                Some(net) => ignored_cidrs.push(net),
                None => problem(
                    k,
                    format!("`{item}` is not a CIDR (e.g. 10.0.0.0/8); ignored"),
                ),
            }
        }
    }
    Some(GlobalLimitSettings {
        limit,
        window,
        key,
        ignored_cidrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(pairs: &[(&str, &str)]) -> (Option<GlobalLimitSettings>, Vec<(String, String)>) {
        let map: BTreeMap<String, (String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (format!("p/{k}"), (*v).to_owned())))
            .collect();
        let get = |name: &str| map.get(name).map(|(k, v)| (k.as_str(), v.as_str()));
        let mut problems = Vec::new();
        let s = parse(&get, &mut |k: &str, r: String| {
            problems.push((k.to_owned(), r))
        });
        (s, problems)
    }

    #[test]
    fn full_and_default_key() {
        let (s, p) = run(&[
            ("global-rate-limit", "100"),
            ("global-rate-limit-window", "1m"),
            (
                "global-rate-limit-ignored-cidrs",
                "10.0.0.0/8, 192.168.1.1,2001:db8::/32",
            ),
        ]);
        assert!(p.is_empty(), "{p:?}");
        let s = s.unwrap();
        assert_eq!((s.limit, s.window), (100, Duration::from_secs(60)));
        assert_eq!(s.key, "$remote_addr");
        assert_eq!(s.ignored_cidrs.len(), 3);
        assert!(s.ignores("10.1.2.3".parse().unwrap()));
        assert!(s.ignores("::ffff:10.1.2.3".parse().unwrap()));
        assert!(s.ignores("192.168.1.1".parse().unwrap()));
        assert!(s.ignores("2001:db8::7".parse().unwrap()));
        assert!(!s.ignores("192.168.1.2".parse().unwrap()));
    }

    #[test]
    fn keys() {
        for ok in [
            "$http_x_api_key",
            "$remote_addr$request_uri",
            "tenant-${http_x_tenant}:$uri",
            "$host $cookie_session $arg_token $args",
            "literal",
        ] {
            let (s, p) = run(&[
                ("global-rate-limit", "5"),
                ("global-rate-limit-window", "10s"),
                ("global-rate-limit-key", ok),
            ]);
            assert!(p.is_empty(), "{ok}: {p:?}");
            assert_eq!(s.unwrap().key, ok);
        }
        for bad in ["$remote_adr", "${http_x", "$http_", "a\nb"] {
            let (s, p) = run(&[
                ("global-rate-limit", "5"),
                ("global-rate-limit-window", "10s"),
                ("global-rate-limit-key", bad),
            ]);
            assert_eq!(p.len(), 1, "{bad}");
            assert_eq!(p[0].0, "p/global-rate-limit-key");
            assert_eq!(
                s.unwrap().key,
                "$remote_addr",
                "{bad}: falls back to the client IP"
            );
        }
    }

    #[test]
    fn off_and_invalid() {
        assert_eq!(run(&[]), (None, vec![]));
        assert_eq!(
            run(&[
                ("global-rate-limit", "0"),
                ("global-rate-limit-window", "1m")
            ]),
            (None, vec![])
        );
        for (pairs, bad_key) in [
            (
                vec![
                    ("global-rate-limit", "ten"),
                    ("global-rate-limit-window", "1m"),
                ],
                "global-rate-limit",
            ),
            (
                vec![
                    ("global-rate-limit", "-1"),
                    ("global-rate-limit-window", "1m"),
                ],
                "global-rate-limit",
            ),
            (vec![("global-rate-limit", "10")], "global-rate-limit"),
            (
                vec![
                    ("global-rate-limit", "10"),
                    ("global-rate-limit-window", "60"),
                ],
                "global-rate-limit-window",
            ),
            (
                vec![
                    ("global-rate-limit", "10"),
                    ("global-rate-limit-window", "500ms"),
                ],
                "global-rate-limit-window",
            ),
            (
                vec![
                    ("global-rate-limit", "10"),
                    ("global-rate-limit-window", "200h"),
                ],
                "global-rate-limit-window",
            ),
            (
                vec![("global-rate-limit-window", "1m")],
                "global-rate-limit-window",
            ),
        ] {
            let (s, p) = run(&pairs);
            assert!(s.is_none(), "{pairs:?}");
            assert_eq!(p.len(), 1, "{pairs:?}: {p:?}");
            assert_eq!(p[0].0, format!("p/{bad_key}"), "{pairs:?}");
        }
        let (s, p) = run(&[
            ("global-rate-limit", "10"),
            ("global-rate-limit-window", "1h30m"),
            ("global-rate-limit-ignored-cidrs", "10.0.0.0/8,banana"),
        ]);
        let s = s.unwrap();
        assert_eq!(s.window, Duration::from_secs(5400));
        assert_eq!(s.ignored_cidrs.len(), 1);
        assert_eq!(p.len(), 1);
    }
}
