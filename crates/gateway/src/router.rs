//! Host and path matching over a [`Model`] (ingress-nginx semantics).
//!
//! The first server whose host matches is chosen (the model orders exact hosts, then
//! wildcards, then the catch-all); inside it the first matching route wins. When the chosen
//! server has no matching route, the request goes to the default backend (as ingress-nginx's
//! per-server `location /` does), never to another server.

use std::sync::Arc;

use config::model::{HostMatch, Model, PathMatch, Route};

/// The outcome of routing one request.
pub(crate) struct RouteMatch {
    /// The matched route.
    pub(crate) route: Arc<Route>,
}

/// Result of host lookup: the matched route (if any) and whether the host has TLS.
pub(crate) struct Lookup {
    pub(crate) matched: Option<RouteMatch>,
    pub(crate) host_tls: bool,
}

/// Finds the route for `host` (lower-case, no port) and `path` (the raw request path).
pub(crate) fn route(model: &Model, host: &str, path: &str) -> Lookup {
    let Some(server) = model.servers.iter().find(|s| host_matches(&s.host, host)) else {
        return Lookup {
            matched: None,
            host_tls: false,
        };
    };
    let matched = server
        .routes
        .iter()
        .find(|r| path_matches(&r.path, path))
        .map(|r| RouteMatch {
            route: Arc::clone(r),
        });
    Lookup {
        matched,
        host_tls: server.tls,
    }
}

fn host_matches(pattern: &HostMatch, host: &str) -> bool {
    match pattern {
        HostMatch::Exact(h) => h == host,
        HostMatch::Wildcard(suffix) => host
            .strip_suffix(suffix.as_str())
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        HostMatch::Any => true,
    }
}

fn path_matches(pattern: &PathMatch, path: &str) -> bool {
    match pattern {
        PathMatch::Exact(p) => p == path,
        PathMatch::Prefix(p) => prefix_matches(p, path),
        PathMatch::ImplementationSpecific(p) => path.starts_with(p.as_str()),
        PathMatch::Regex { regex, .. } => regex.is_match(path),
    }
}

/// Element-wise prefix match: `/foo` and `/foo/` match `/foo`, `/foo/` and `/foo/bar`, not
/// `/foobar`.
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

/// Applies `rewrite-target` to `path`: `$1..$n` refer to the captures of the route's regex
/// (an unknown or unmatched group is empty). Non-regex routes use the target as is.
pub(crate) fn rewrite(route: &Route, target: &str, path: &str) -> String {
    let caps = match &route.path {
        PathMatch::Regex { regex, .. } => regex.captures(path),
        _ => None,
    };
    let mut out = String::with_capacity(target.len() + path.len());
    let bytes = target.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'$' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > 0 {
                let num = &target[i + 1..i + 1 + digits];
                if let (Some(caps), Ok(n)) = (&caps, num.parse::<usize>())
                    && let Some(m) = caps.get(n)
                {
                    out.push_str(m.as_str());
                }
                i += 1 + digits;
                continue;
            }
        }
        // Copy one UTF-8 character.
        let ch_len = target[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&target[i..i + ch_len]);
        i += ch_len;
    }
    if out.is_empty() || !out.starts_with('/') {
        out.insert(0, '/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_element_wise() {
        assert!(prefix_matches("/foo", "/foo"));
        assert!(prefix_matches("/foo", "/foo/bar"));
        assert!(prefix_matches("/foo/", "/foo"));
        assert!(!prefix_matches("/foo", "/foobar"));
        assert!(prefix_matches("/", "/anything"));
    }

    #[test]
    fn wildcard_is_one_label() {
        let w = HostMatch::Wildcard(".example.com".into());
        assert!(host_matches(&w, "a.example.com"));
        assert!(!host_matches(&w, "a.b.example.com"));
        assert!(!host_matches(&w, "example.com"));
        assert!(!host_matches(&w, ".example.com"));
    }
}
