//! The request matcher over a [`Model`]: host selection, path matching, rewrite, SNI lookup.
//!
//! Host selection follows nginx `server_name` semantics as ingress-nginx configures them:
//! an exact host wins over a wildcard (`*.example.com`, exactly one extra label, so at most one
//! wildcard can match), which wins over the catch-all server (rules without `host`).
//! Once a server is chosen, only its routes are considered: like nginx, a request for a known
//! host whose paths do not match is NOT retried against the catch-all server's routes (the
//! host's own root fallback, if any, was already added by the loader).

use std::sync::Arc;

use crate::model::{Certificate, HostMatch, Model, PathMatch, Route, RouteMatch, Server};

/// Lower-cases a `Host` header / authority and strips the port and a trailing dot.
/// Handles bracketed IPv6 literals (`[::1]:8080` -> `[::1]`).
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if let Some(rest) = host.strip_prefix('[') {
        match rest.find(']') {
            Some(end) => &host[..end + 2],
            None => host,
        }
    } else {
        match host.rfind(':') {
            // Only strip when exactly one colon: a bare IPv6 address has several.
            Some(idx) if host.matches(':').count() == 1 => &host[..idx],
            _ => host,
        }
    };
    let trimmed = without_port.strip_suffix('.').unwrap_or(without_port);
    trimmed.to_ascii_lowercase()
}

impl HostMatch {
    /// Whether this matcher accepts `host` (already normalized, see [`normalize_host`]).
    pub fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(h) => h == host,
            Self::Wildcard(suffix) => match host.strip_suffix(suffix.as_str()) {
                Some(label) => !label.is_empty() && !label.contains('.'),
                None => false,
            },
            Self::Any => true,
        }
    }
}

impl PathMatch {
    /// The path as written in the manifest.
    pub fn source(&self) -> &str {
        match self {
            Self::Exact(p) | Self::Prefix(p) | Self::ImplementationSpecific(p) => p,
            Self::Regex { source, .. } => source,
        }
    }

    /// Matches `path` (without query). Returns the capture ranges (empty for non-regex).
    pub fn matches(&self, path: &str) -> Option<Vec<Option<(usize, usize)>>> {
        match self {
            Self::Exact(p) => (p == path).then(Vec::new),
            Self::Prefix(p) => prefix_matches(p, path).then(Vec::new),
            Self::ImplementationSpecific(p) => path.starts_with(p.as_str()).then(Vec::new),
            Self::Regex { regex, .. } => regex.captures(path).map(|caps| {
                caps.iter()
                    .map(|m| m.map(|m| (m.start(), m.end())))
                    .collect()
            }),
        }
    }
}

/// Kubernetes `Prefix` semantics: element-wise, a trailing `/` in the rule is ignored and
/// `/` matches everything.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

impl Server {
    /// First route (in match order) whose path matches `path`.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        self.routes.iter().find_map(|route| {
            route.path.matches(path).map(|captures| RouteMatch {
                route: Arc::clone(route),
                captures,
            })
        })
    }
}

impl Model {
    /// The server answering `host` (a `Host` header or SNI; port and case are ignored):
    /// exact, then wildcard, then catch-all.
    pub fn server_for(&self, host: &str) -> Option<&Server> {
        let host = normalize_host(host);
        let idx = &self.index;
        if idx.exact.is_empty() && idx.wildcard.is_empty() && idx.any.is_none() {
            return self.server_for_scan(&host);
        }
        let wildcard = || {
            // One-label wildcards: the only candidate suffix starts at the first dot.
            let dot = host.find('.').filter(|d| *d > 0)?;
            idx.wildcard.get(host.get(dot..)?)
        };
        idx.exact
            .get(&host)
            .or_else(wildcard)
            .or(idx.any.as_ref())
            .and_then(|i| self.servers.get(*i))
    }

    fn server_for_scan(&self, host: &str) -> Option<&Server> {
        if let Some(s) = self
            .servers
            .iter()
            .find(|s| matches!(&s.host, HostMatch::Exact(h) if h == host))
        {
            return Some(s);
        }
        let wildcard = self
            .servers
            .iter()
            .filter(|s| matches!(s.host, HostMatch::Wildcard(_)) && s.host.matches(host))
            .max_by_key(|s| match &s.host {
                HostMatch::Wildcard(suffix) => suffix.len(),
                _ => 0,
            });
        if let Some(s) = wildcard {
            return Some(s);
        }
        self.servers
            .iter()
            .find(|s| matches!(s.host, HostMatch::Any))
    }

    /// (Re)builds [`Model::index`] from `servers`; the first server of a host wins.
    pub fn build_index(&mut self) {
        let mut index = crate::model::ServerIndex::default();
        for (i, s) in self.servers.iter().enumerate() {
            match &s.host {
                HostMatch::Exact(h) => {
                    index.exact.entry(h.clone()).or_insert(i);
                }
                HostMatch::Wildcard(suffix) => {
                    index.wildcard.entry(suffix.clone()).or_insert(i);
                }
                HostMatch::Any => {
                    index.any.get_or_insert(i);
                }
            }
        }
        self.index = index;
    }

    /// Routes a request: picks the server for `host`, then the first matching route of that
    /// server. `path` is the request path; anything from `?` on is ignored. `None` means
    /// 404 (the Ingress default backends are already part of the routes).
    pub fn route(&self, host: &str, path: &str) -> Option<RouteMatch> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        self.server_for(host)?.route(path)
    }

    /// Whether the server answering `host` has TLS configured (`spec.tls`).
    pub fn host_has_tls(&self, host: &str) -> bool {
        self.server_for(host).is_some_and(|s| s.tls)
    }

    /// The certificate for a TLS SNI name: exact host first, then a `*.` wildcard host
    /// (one label). `None` means "use the default certificate".
    pub fn certificate_for(&self, sni: &str) -> Option<Arc<Certificate>> {
        let sni = normalize_host(sni);
        let exact = self
            .certificates
            .iter()
            .find(|c| c.hosts.iter().any(|h| h.eq_ignore_ascii_case(&sni)));
        if let Some(c) = exact {
            return Some(Arc::clone(c));
        }
        self.certificates
            .iter()
            .find(|c| {
                c.hosts.iter().any(|h| {
                    h.strip_prefix('*')
                        .filter(|suffix| suffix.starts_with('.'))
                        .is_some_and(|suffix| {
                            HostMatch::Wildcard(suffix.to_ascii_lowercase()).matches(&sni)
                        })
                })
            })
            .map(Arc::clone)
    }
}

impl RouteMatch {
    /// The path to send upstream. Without `rewrite-target` this is `path` unchanged.
    /// With it, the whole path is replaced by the target, where `$1`..`$9` are the regex
    /// captures (an unmatched group expands to nothing), as nginx `rewrite ... break`.
    /// `path` must be the same string that was given to [`Model::route`] (without query).
    pub fn rewritten_path(&self, path: &str) -> String {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let Some(target) = self.route.settings.rewrite_target.as_deref() else {
            return path.to_owned();
        };
        let mut out = String::with_capacity(target.len() + path.len());
        let mut chars = target.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$'
                && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
            {
                chars.next();
                let group = self
                    .captures
                    .get(d as usize)
                    .copied()
                    .flatten()
                    .and_then(|(s, e)| path.get(s..e));
                if let Some(text) = group {
                    out.push_str(text);
                }
                continue;
            }
            out.push(c);
        }
        if out.is_empty() || !out.starts_with('/') {
            out.insert(0, '/');
        }
        out
    }

    /// The route's path matcher (convenience).
    pub fn path(&self) -> &PathMatch {
        &self.route.path
    }
}

/// Orders routes as ingress-nginx's generated nginx config matches them within a server:
/// Exact first, then by descending path length. At equal length a `Prefix` comes before an
/// `ImplementationSpecific` path (ingress-nginx writes `Prefix /foo` as `location /foo/`, one
/// byte longer); remaining ties keep input order (the sort is stable).
pub(crate) fn order_routes(routes: &mut [Arc<Route>]) {
    routes.sort_by_key(|r| {
        let rank = match r.path {
            PathMatch::Exact(_) => 0,
            PathMatch::Prefix(_) => 1,
            _ => 2,
        };
        (rank.min(1), std::cmp::Reverse(r.path.source().len()), rank)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_normalization() {
        assert_eq!(normalize_host("Example.COM:8080"), "example.com");
        assert_eq!(normalize_host("example.com."), "example.com");
        assert_eq!(normalize_host("[::1]:8443"), "[::1]");
        assert_eq!(normalize_host("::1"), "::1");
        assert_eq!(normalize_host(""), "");
        assert_eq!(normalize_host("[::1"), "[::1");
    }

    #[test]
    fn wildcard_matches_one_label() {
        let w = HostMatch::Wildcard(".example.com".into());
        assert!(w.matches("foo.example.com"));
        assert!(!w.matches("a.b.example.com"));
        assert!(!w.matches("example.com"));
        assert!(!w.matches(".example.com"));
    }

    #[test]
    fn prefix_is_element_wise() {
        assert!(prefix_matches("/foo", "/foo"));
        assert!(prefix_matches("/foo", "/foo/"));
        assert!(prefix_matches("/foo", "/foo/bar"));
        assert!(!prefix_matches("/foo", "/foobar"));
        assert!(prefix_matches("/foo/", "/foo"));
        assert!(prefix_matches("/", "/anything"));
        assert!(prefix_matches("/aaa/bb", "/aaa/bb/ccc"));
        assert!(!prefix_matches("/aaa/bb", "/aaa/bbb"));
    }
}
