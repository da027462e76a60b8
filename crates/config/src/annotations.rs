//! ingress-nginx annotations -> [`RouteSettings`].
//!
//! Keys are read under the configured prefix (default `nginx.ingress.kubernetes.io/`) and,
//! for manifests written for very old controllers, under the legacy `ingress.kubernetes.io/`
//! prefix; the configured prefix wins when both are present. An invalid value produces a
//! problem and the setting keeps its default. Snippet annotations are never applied.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::{Affinity, BackendProtocol, LoadBalance, RouteSettings};

/// The prefix used by ingress-nginx before 0.9 (still found in old guides).
pub const LEGACY_PREFIX: &str = "ingress.kubernetes.io";

/// Annotations under the prefix: short name -> (full key as written, value).
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    map: BTreeMap<String, (String, String)>,
}

impl Annotations {
    /// Selects the annotations under `prefix` (and the legacy prefix) from object metadata.
    pub(crate) fn new(all: &BTreeMap<String, String>, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        let mut map = BTreeMap::new();
        for (key, value) in all {
            if let Some(name) = key
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('/'))
                .filter(|n| !n.is_empty())
            {
                map.insert(name.to_owned(), (key.clone(), value.clone()));
            }
        }
        if prefix != LEGACY_PREFIX {
            for (key, value) in all {
                if let Some(name) = key
                    .strip_prefix(LEGACY_PREFIX)
                    .and_then(|r| r.strip_prefix('/'))
                    .filter(|n| !n.is_empty())
                {
                    map.entry(name.to_owned())
                        .or_insert_with(|| (key.clone(), value.clone()));
                }
            }
        }
        Self { map }
    }

    fn get(&self, name: &str) -> Option<(&str, &str)> {
        self.map.get(name).map(|(k, v)| (k.as_str(), v.trim()))
    }

    /// The full key of `canary: "true"`, when set (canary Ingresses are not supported yet).
    pub(crate) fn canary_key(&self) -> Option<&str> {
        self.get("canary")
            .filter(|(_, v)| parse_bool(v) == Some(true))
            .map(|(k, _)| k)
    }

    /// `use-regex: "true"` or a `rewrite-target`: the host switches to regex paths.
    pub(crate) fn wants_regex(&self) -> bool {
        self.get("rewrite-target")
            .is_some_and(|(_, v)| !v.is_empty())
            || self
                .get("use-regex")
                .and_then(|(_, v)| parse_bool(v))
                .unwrap_or(false)
    }
}

/// Go `strconv.ParseBool` (what ingress-nginx uses).
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Seconds, as ingress-nginx timeouts (`"30"`; a trailing `s` is tolerated). 1..=86400.
fn parse_seconds(v: &str) -> Option<Duration> {
    let digits = v.strip_suffix('s').unwrap_or(v);
    let n: u64 = digits.parse().ok()?;
    (1..=86_400).contains(&n).then(|| Duration::from_secs(n))
}

/// nginx size syntax: `1024`, `8k`, `8m`, `1g` (case-insensitive). `0` = unlimited.
pub(crate) fn parse_size(v: &str) -> Option<Option<u64>> {
    let v = v.trim();
    let (digits, mult) = match v.char_indices().last()? {
        (i, 'k' | 'K') => (v.get(..i)?, 1024u64),
        (i, 'm' | 'M') => (v.get(..i)?, 1024 * 1024),
        (i, 'g' | 'G') => (v.get(..i)?, 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let bytes = n.checked_mul(mult)?;
    Some((bytes != 0).then_some(bytes))
}

fn is_cookie_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_safe_path(s: &str) -> bool {
    s.starts_with('/')
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b';' | b'{' | b'}'))
}

/// Parses the settings of one Ingress. `problem(full_key, reason)` is called for each
/// invalid or unsupported annotation.
pub(crate) fn parse_settings(
    ann: &Annotations,
    mut problem: impl FnMut(&str, String),
) -> RouteSettings {
    let mut s = RouteSettings {
        annotations: ann
            .map
            .iter()
            .map(|(name, (_, v))| (name.clone(), v.clone()))
            .collect(),
        ..RouteSettings::default()
    };

    for (name, (key, _)) in &ann.map {
        if name.ends_with("-snippet") && name != "modsecurity-snippet" {
            problem(
                key,
                "snippets are not supported: raw nginx configuration is never applied".into(),
            );
        }
    }

    let bool_of =
        |name: &str, default: bool, problem: &mut dyn FnMut(&str, String)| match ann.get(name) {
            None => default,
            Some((key, v)) => parse_bool(v).unwrap_or_else(|| {
                problem(key, format!("`{v}` is not a boolean (true/false)"));
                default
            }),
        };
    s.waf = crate::waf::parse(&|name| ann.get(name), &mut problem);
    s.limits = crate::limits::parse(&|name| ann.get(name), &mut problem);
    s.global_limit = crate::global_limit::parse(&|name| ann.get(name), &mut problem);
    s.ssl_redirect = bool_of("ssl-redirect", true, &mut problem);
    s.force_ssl_redirect = bool_of("force-ssl-redirect", false, &mut problem);
    // Only checked for validity here; the effect (regex host) is decided by the loader.
    bool_of("use-regex", false, &mut problem);

    if let Some((key, v)) = ann.get("rewrite-target") {
        if v.is_empty() {
            problem(key, "empty rewrite-target".into());
        } else if !is_safe_path(v) {
            problem(
                key,
                format!(
                    "`{v}` must be a path starting with `/` without spaces, quotes, `;`, braces or `\\`"
                ),
            );
        } else {
            s.rewrite_target = Some(v.to_owned());
        }
    }
    if let Some((key, v)) = ann.get("app-root") {
        if is_safe_path(v) {
            s.app_root = Some(v.to_owned());
        } else {
            problem(key, format!("`{v}` must be a path starting with `/`"));
        }
    }

    for (name, field, default) in [
        (
            "proxy-connect-timeout",
            &mut s.connect_timeout,
            Duration::from_secs(5),
        ),
        (
            "proxy-read-timeout",
            &mut s.read_timeout,
            Duration::from_secs(60),
        ),
        (
            "proxy-send-timeout",
            &mut s.send_timeout,
            Duration::from_secs(60),
        ),
    ] {
        if let Some((key, v)) = ann.get(name) {
            *field = parse_seconds(v).unwrap_or_else(|| {
                problem(key, format!("`{v}` is not a number of seconds (1-86400)"));
                default
            });
        }
    }

    if let Some((key, v)) = ann.get("proxy-next-upstream-tries") {
        match v.parse::<u32>() {
            Ok(n) if n <= 100 => s.next_upstream_tries = n,
            _ => problem(key, format!("`{v}` is not a number of tries (0-100)")),
        }
    }

    if let Some((key, v)) = ann.get("backend-protocol") {
        match v.to_ascii_uppercase().as_str() {
            "HTTP" => s.backend_protocol = BackendProtocol::Http,
            "HTTPS" => s.backend_protocol = BackendProtocol::Https,
            "AUTO_HTTP" | "GRPC" | "GRPCS" | "FCGI" => problem(
                key,
                format!("backend-protocol `{v}` is not supported (HTTP or HTTPS); using HTTP"),
            ),
            _ => problem(key, format!("unknown backend-protocol `{v}`; using HTTP")),
        }
    }

    if let Some((key, v)) = ann.get("proxy-body-size") {
        match parse_size(v) {
            Some(limit) => s.body_size_limit = limit,
            None => problem(key, format!("`{v}` is not a size (e.g. 8m, 512k, 1g, 0)")),
        }
    }

    if let Some((key, v)) = ann.get("load-balance") {
        match v {
            "round_robin" => s.load_balance = LoadBalance::RoundRobin,
            "ewma" => s.load_balance = LoadBalance::Ewma,
            _ => problem(
                key,
                format!("unknown load-balance `{v}` (round_robin or ewma)"),
            ),
        }
    }
    if let Some((key, v)) = ann.get("upstream-hash-by") {
        if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
            problem(
                key,
                "upstream-hash-by must be a short nginx expression".into(),
            );
        } else {
            // Takes precedence over load-balance, as in ingress-nginx.
            s.load_balance = LoadBalance::Hash(v.to_owned());
        }
    }

    if let Some((key, v)) = ann.get("affinity") {
        if v == "cookie" {
            s.affinity = Some(parse_affinity(ann, &mut problem));
        } else {
            problem(key, format!("unknown affinity `{v}` (only `cookie`)"));
        }
    }
    s
}

fn parse_affinity(ann: &Annotations, problem: &mut impl FnMut(&str, String)) -> Affinity {
    let mut a = Affinity {
        cookie_name: "INGRESSCOOKIE".into(),
        path: None,
        domain: None,
        expires: None,
        max_age: None,
        samesite: None,
        secure: false,
        change_on_failure: false,
    };
    if let Some((key, v)) = ann.get("session-cookie-name") {
        if is_cookie_token(v) {
            a.cookie_name = v.to_owned();
        } else {
            problem(key, format!("`{v}` is not a valid cookie name"));
        }
    }
    if let Some((key, v)) = ann.get("session-cookie-path") {
        if is_safe_path(v) {
            a.path = Some(v.to_owned());
        } else {
            problem(key, format!("`{v}` is not a valid cookie path"));
        }
    }
    if let Some((key, v)) = ann.get("session-cookie-domain") {
        if !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
        {
            a.domain = Some(v.to_owned());
        } else {
            problem(key, format!("`{v}` is not a valid cookie domain"));
        }
    }
    for (name, field) in [
        ("session-cookie-expires", &mut a.expires),
        ("session-cookie-max-age", &mut a.max_age),
    ] {
        if let Some((key, v)) = ann.get(name) {
            match v.parse::<u64>() {
                Ok(n) => *field = Some(n),
                Err(_) => problem(key, format!("`{v}` is not a number of seconds")),
            }
        }
    }
    if let Some((key, v)) = ann.get("session-cookie-samesite") {
        match v.to_ascii_lowercase().as_str() {
            "none" => a.samesite = Some("None".into()),
            "lax" => a.samesite = Some("Lax".into()),
            "strict" => a.samesite = Some("Strict".into()),
            _ => problem(key, format!("`{v}` is not None, Lax or Strict")),
        }
    }
    for (name, field) in [
        ("session-cookie-secure", &mut a.secure),
        ("session-cookie-change-on-failure", &mut a.change_on_failure),
    ] {
        if let Some((key, v)) = ann.get(name) {
            match parse_bool(v) {
                Some(b) => *field = b,
                None => problem(key, format!("`{v}` is not a boolean (true/false)")),
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> (RouteSettings, Vec<(String, String)>) {
        let all: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let ann = Annotations::new(&all, "nginx.ingress.kubernetes.io");
        let mut problems = Vec::new();
        let s = parse_settings(&ann, |k, r| problems.push((k.to_owned(), r)));
        (s, problems)
    }

    const P: &str = "nginx.ingress.kubernetes.io/";

    fn k(name: &str) -> String {
        format!("{P}{name}")
    }

    #[test]
    fn defaults_without_annotations() {
        let (s, p) = settings(&[("other/x", "1")]);
        assert!(p.is_empty());
        assert!(s.ssl_redirect);
        assert_eq!(s.body_size_limit, Some(1024 * 1024));
        assert!(s.annotations.is_empty());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8m"), Some(Some(8 * 1024 * 1024)));
        assert_eq!(parse_size("1G"), Some(Some(1 << 30)));
        assert_eq!(parse_size("512k"), Some(Some(512 * 1024)));
        assert_eq!(parse_size("100"), Some(Some(100)));
        assert_eq!(parse_size("0"), Some(None));
        assert_eq!(parse_size("m"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("8mb"), None);
        assert_eq!(parse_size("99999999999999999999g"), None);
        assert_eq!(parse_size("18446744073709551615k"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("é"), None);
    }

    #[test]
    fn all_annotations_parse() {
        let (s, p) = settings(&[
            (&k("rewrite-target"), "/$2"),
            (&k("app-root"), "/app"),
            (&k("ssl-redirect"), "false"),
            (&k("force-ssl-redirect"), "True"),
            (&k("load-balance"), "ewma"),
            (&k("proxy-connect-timeout"), "10"),
            (&k("proxy-read-timeout"), "120s"),
            (&k("proxy-send-timeout"), "30"),
            (&k("proxy-next-upstream-tries"), "5"),
            (&k("backend-protocol"), "https"),
            (&k("proxy-body-size"), "8m"),
            (&k("enable-modsecurity"), "true"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.rewrite_target.as_deref(), Some("/$2"));
        assert_eq!(s.app_root.as_deref(), Some("/app"));
        assert!(!s.ssl_redirect);
        assert!(s.force_ssl_redirect);
        assert_eq!(s.load_balance, LoadBalance::Ewma);
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.read_timeout, Duration::from_secs(120));
        assert_eq!(s.send_timeout, Duration::from_secs(30));
        assert_eq!(s.next_upstream_tries, 5);
        assert_eq!(s.backend_protocol, BackendProtocol::Https);
        assert_eq!(s.body_size_limit, Some(8 << 20));
        assert_eq!(s.annotations["enable-modsecurity"], "true");
    }

    #[test]
    fn hash_beats_load_balance_and_affinity() {
        let (s, p) = settings(&[
            (&k("load-balance"), "ewma"),
            (&k("upstream-hash-by"), "$request_uri"),
            (&k("affinity"), "cookie"),
            (&k("session-cookie-name"), "route"),
            (&k("session-cookie-max-age"), "172800"),
            (&k("session-cookie-samesite"), "lax"),
            (&k("session-cookie-secure"), "true"),
            (&k("session-cookie-path"), "/app"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.load_balance, LoadBalance::Hash("$request_uri".into()));
        let a = s.affinity.unwrap();
        assert_eq!(a.cookie_name, "route");
        assert_eq!(a.max_age, Some(172_800));
        assert_eq!(a.samesite.as_deref(), Some("Lax"));
        assert!(a.secure);
        assert_eq!(a.path.as_deref(), Some("/app"));
    }

    #[test]
    fn invalid_values_keep_defaults_and_report() {
        let (s, p) = settings(&[
            (&k("ssl-redirect"), "yes"),
            (&k("proxy-read-timeout"), "soon"),
            (&k("proxy-body-size"), "lots"),
            (&k("backend-protocol"), "GRPC"),
            (&k("load-balance"), "least_conn"),
            (&k("affinity"), "ip"),
            (&k("rewrite-target"), "/x; return 200"),
            (&k("proxy-next-upstream-tries"), "-1"),
        ]);
        assert_eq!(p.len(), 8, "{p:?}");
        assert!(s.ssl_redirect);
        assert_eq!(s.read_timeout, Duration::from_secs(60));
        assert_eq!(s.body_size_limit, Some(1 << 20));
        assert_eq!(s.backend_protocol, BackendProtocol::Http);
        assert_eq!(s.load_balance, LoadBalance::RoundRobin);
        assert!(s.affinity.is_none());
        assert!(s.rewrite_target.is_none());
        assert!(p.iter().any(|(key, _)| key == &k("ssl-redirect")));
    }

    #[test]
    fn snippets_rejected() {
        let (s, p) = settings(&[
            (&k("configuration-snippet"), "more_set_headers \"X: y\";"),
            (&k("server-snippet"), "location /x {}"),
        ]);
        assert_eq!(p.len(), 2);
        assert!(p[0].1.contains("snippets are not supported"));
        // Kept for visibility, never interpreted.
        assert!(s.annotations.contains_key("server-snippet"));
    }

    #[test]
    fn legacy_prefix_and_custom_prefix() {
        let all: BTreeMap<String, String> = [
            (
                "ingress.kubernetes.io/rewrite-target".to_owned(),
                "/".to_owned(),
            ),
            (
                "ingress.kubernetes.io/ssl-redirect".to_owned(),
                "false".to_owned(),
            ),
            (k("ssl-redirect"), "true".to_owned()),
        ]
        .into();
        let ann = Annotations::new(&all, "nginx.ingress.kubernetes.io");
        assert!(ann.wants_regex());
        let s = parse_settings(&ann, |_, _| panic!());
        assert!(s.ssl_redirect, "configured prefix wins");
        let custom: BTreeMap<String, String> =
            [("acme.io/use-regex".to_owned(), "true".to_owned())].into();
        assert!(Annotations::new(&custom, "acme.io/").wants_regex());
        assert!(!Annotations::new(&custom, "nginx.ingress.kubernetes.io").wants_regex());
    }
}
