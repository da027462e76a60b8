//! The gateway's runtime model: one validated, immutable snapshot built from the manifests.
//!
//! The gateway never looks at Kubernetes objects or annotation strings; it reads only this.
//! A new `Model` is built on every change, validated, and published by atomic swap; requests
//! in flight keep the snapshot they started with.
//!
//! This file is the contract between `config` (which builds it) and `gateway` (which serves
//! it). Add fields freely; keep existing ones stable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use regex::Regex;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The whole routing and TLS state.
#[derive(Debug, Default)]
pub struct Model {
    /// Virtual hosts. Exact hosts first, then wildcards, then the catch-all (`Host::Any`,
    /// rules without `host`). The router picks the first whose `host` matches.
    pub servers: Vec<Server>,
    /// Used when no rule matches: the default backend of an Ingress (`spec.defaultBackend`
    /// / `spec.backend`), else a built-in 404.
    pub default_backend: Option<Arc<Upstream>>,
    /// Certificates from `kubernetes.io/tls` Secrets referenced by Ingress `spec.tls`.
    pub certificates: Vec<Arc<Certificate>>,
    /// Global settings (from the config file / flags, ingress-nginx ConfigMap semantics).
    pub global: GlobalSettings,
    /// Problems found while building (also printed by `portcullis check`). A model with
    /// problems still serves everything that was valid.
    pub problems: Vec<Problem>,
    /// Host lookup index over `servers`, built by the loader (or [`Model::build_index`] for a
    /// hand-made model). When empty, [`Model::route`] scans `servers` instead.
    pub index: ServerIndex,
    /// Certificates to obtain over ACME (cert-manager issuers and annotations, issue #5).
    pub acme: Vec<crate::certmanager::AcmeCertificate>,
}

/// Positions in [`Model::servers`] by host, for O(1) server selection.
#[derive(Debug, Default, Clone)]
pub struct ServerIndex {
    /// Exact host -> server position.
    pub exact: std::collections::HashMap<String, usize>,
    /// Wildcard suffix (`.example.com`) -> server position.
    pub wildcard: std::collections::HashMap<String, usize>,
    /// The catch-all server's position.
    pub any: Option<usize>,
}

/// One problem in the input, always with a location. `Display` renders `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File path as given.
    pub file: String,
    /// 1-based line of the document or field (0 when unknown).
    pub line: u32,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// The result of [`Model::route`]: the matched route and the regex captures of the path.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    /// The route that matched.
    pub route: Arc<Route>,
    /// Byte ranges of the capture groups in the matched path (index 0 = whole match);
    /// empty for non-regex routes. Used by [`RouteMatch::rewritten_path`].
    pub captures: Vec<Option<(usize, usize)>>,
}

/// Which host names a server answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostMatch {
    /// An exact host name, lower-case, no port.
    Exact(String),
    /// `*.example.com`: stored as the suffix `.example.com`; matches exactly one more label.
    Wildcard(String),
    /// Rules without a host.
    Any,
}

/// A virtual host with its ordered routes.
#[derive(Debug)]
pub struct Server {
    /// The host this server answers.
    pub host: HostMatch,
    /// Routes in match order (ingress-nginx ordering: Exact first, then longest prefix /
    /// regex by descending path length). First match wins.
    pub routes: Vec<Arc<Route>>,
    /// Whether some Ingress lists this host under `spec.tls` (enables `ssl-redirect` and HSTS).
    pub tls: bool,
}

/// How a route matches the request path.
#[derive(Debug, Clone)]
pub enum PathMatch {
    /// `pathType: Exact`.
    Exact(String),
    /// `pathType: Prefix`: element-wise prefix (`/foo` matches `/foo` and `/foo/bar`, not
    /// `/foobar`). `/` matches everything.
    Prefix(String),
    /// `ImplementationSpecific` without regex: plain string prefix, as nginx `location /foo`.
    ImplementationSpecific(String),
    /// `use-regex` / `rewrite-target`: case-insensitive regex anchored at the start.
    Regex {
        /// The path as written.
        source: String,
        /// Compiled `(?i)^(?:source)`.
        regex: Regex,
    },
}

/// The Ingress an object came from, for logs and metrics labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ObjectRef {
    /// Namespace (`default` when unset).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// One path of one Ingress rule.
#[derive(Debug)]
pub struct Route {
    /// The Ingress this route came from.
    pub ingress: ObjectRef,
    /// Path matcher.
    pub path: PathMatch,
    /// Where matched requests go.
    pub upstream: Arc<Upstream>,
    /// Per-Ingress settings from annotations.
    pub settings: Arc<RouteSettings>,
}

/// A Kubernetes Service port resolved to endpoints.
#[derive(Debug)]
pub struct Upstream {
    /// Stable name `namespace-service-port` (ingress-nginx's upstream naming), used in metrics.
    pub name: String,
    /// The Service.
    pub service: ObjectRef,
    /// Service port as written in the Ingress (number or name).
    pub service_port: String,
    /// Resolved endpoint addresses (targetPort applied). Empty means 503.
    pub endpoints: Vec<SocketAddr>,
    /// `type: ExternalName` services: host and port resolved by DNS at connect time.
    pub external_name: Option<(String, u16)>,
}

/// A certificate with its key, ready for rustls.
#[derive(Debug)]
pub struct Certificate {
    /// The Secret it came from.
    pub secret: ObjectRef,
    /// Hosts it is used for (from Ingress `spec.tls[].hosts`; may include `*.` wildcards).
    pub hosts: Vec<String>,
    /// Leaf first, then the chain.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key (PKCS#1, SEC1 or PKCS#8).
    pub key: PrivateKeyDer<'static>,
}

/// Load-balancing algorithm (`load-balance`, `upstream-hash-by`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LoadBalance {
    /// Default.
    #[default]
    RoundRobin,
    /// Peak EWMA of latency.
    Ewma,
    /// Consistent hashing on an nginx-style expression such as `$request_uri`,
    /// `$remote_addr`, `$http_x_user`, `$cookie_id` or literal text mixing them.
    Hash(String),
}

/// Cookie affinity (`affinity: cookie` and `session-cookie-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affinity {
    /// `session-cookie-name`, default `INGRESSCOOKIE`.
    pub cookie_name: String,
    /// `session-cookie-path` (defaults to the route path).
    pub path: Option<String>,
    /// `session-cookie-domain`.
    pub domain: Option<String>,
    /// `session-cookie-expires` (seconds).
    pub expires: Option<u64>,
    /// `session-cookie-max-age` (seconds).
    pub max_age: Option<u64>,
    /// `session-cookie-samesite`: `None`, `Lax` or `Strict`.
    pub samesite: Option<String>,
    /// `session-cookie-secure`.
    pub secure: bool,
    /// `session-cookie-change-on-failure`.
    pub change_on_failure: bool,
}

/// Protocol towards the upstream (`backend-protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackendProtocol {
    /// Plain HTTP/1.1.
    #[default]
    Http,
    /// HTTP/1.1 over TLS (upstream certificate not verified, as ingress-nginx by default).
    Https,
}

/// Per-route settings from annotations; defaults follow ingress-nginx.
#[derive(Debug, Clone)]
pub struct RouteSettings {
    /// `rewrite-target` with `$1..$n` references to the path regex captures.
    pub rewrite_target: Option<String>,
    /// `app-root`: 302 from `/` to this path.
    pub app_root: Option<String>,
    /// `ssl-redirect` (default true; only acts when the host has TLS).
    pub ssl_redirect: bool,
    /// `force-ssl-redirect` (default false; redirects even without TLS on the host).
    pub force_ssl_redirect: bool,
    /// Load balancing.
    pub load_balance: LoadBalance,
    /// Cookie affinity.
    pub affinity: Option<Affinity>,
    /// `proxy-connect-timeout` (default 5 s).
    pub connect_timeout: Duration,
    /// `proxy-read-timeout` (default 60 s).
    pub read_timeout: Duration,
    /// `proxy-send-timeout` (default 60 s).
    pub send_timeout: Duration,
    /// `proxy-next-upstream-tries` (default 3): attempts on connect errors.
    pub next_upstream_tries: u32,
    /// `backend-protocol`.
    pub backend_protocol: BackendProtocol,
    /// `proxy-body-size` in bytes (default 1 MiB); `None` = unlimited (`0`).
    pub body_size_limit: Option<u64>,
    /// Every annotation under the prefix, as written, for later features (WAF, limits).
    pub annotations: BTreeMap<String, String>,
    /// WAF annotations (`enable-modsecurity`, `modsecurity-snippet`, `lua-resty-waf*`).
    pub waf: crate::waf::WafSettings,
    /// Abuse control (`limit-*`, allow/deny lists; issue #6).
    pub limits: crate::limits::LimitSettings,
    /// `global-rate-limit*`: a limit shared by all replicas, counted in Redis (issue #6).
    pub global_limit: Option<crate::global_limit::GlobalLimitSettings>,
}

impl Default for RouteSettings {
    fn default() -> Self {
        Self {
            rewrite_target: None,
            app_root: None,
            ssl_redirect: true,
            force_ssl_redirect: false,
            load_balance: LoadBalance::RoundRobin,
            affinity: None,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
            next_upstream_tries: 3,
            backend_protocol: BackendProtocol::Http,
            body_size_limit: Some(1024 * 1024),
            annotations: BTreeMap::new(),
            waf: crate::waf::WafSettings::default(),
            limits: crate::limits::LimitSettings::default(),
            global_limit: None,
        }
    }
}

/// Global settings (ingress-nginx ConfigMap equivalents), from the config file.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    /// `hsts` (default true), sent on HTTPS responses of TLS hosts.
    pub hsts: bool,
    /// `hsts-max-age` (default 31536000).
    pub hsts_max_age: u64,
    /// `hsts-include-subdomains` (default true).
    pub hsts_include_subdomains: bool,
    /// `hsts-preload` (default false).
    pub hsts_preload: bool,
    /// `use-forwarded-headers`: trust incoming X-Forwarded-* from `proxy_real_ip_cidr`.
    pub use_forwarded_headers: bool,
    /// `proxy-real-ip-cidr`: peers whose X-Forwarded-For / PROXY header is trusted.
    /// Unlike ingress-nginx (0.0.0.0/0), empty by default: trust nobody unless told.
    pub proxy_real_ip_cidr: Vec<IpNet>,
    /// `use-proxy-protocol` on the listeners.
    pub use_proxy_protocol: bool,
    /// Abuse-control globals (`block-cidrs`, `block-user-agents`, `limit-*-status-code`,
    /// default allow/deny lists; issue #6).
    pub limits: crate::limits::GlobalLimits,
}

impl Default for GlobalSettings {
    fn default() -> Self {
        Self {
            hsts: true,
            hsts_max_age: 31_536_000,
            hsts_include_subdomains: true,
            hsts_preload: false,
            use_forwarded_headers: false,
            proxy_real_ip_cidr: Vec::new(),
            use_proxy_protocol: false,
            limits: crate::limits::GlobalLimits::default(),
        }
    }
}
