//! Inventory of objects -> [`Model`]: class filtering, host merging, path ordering,
//! upstream resolution and certificates.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use regex::RegexBuilder;

use crate::annotations::{Annotations, parse_settings};
use crate::load::{Inventory, LoadOptions, Origin};
use crate::model::{
    Certificate, HostMatch, Model, ObjectRef, PathMatch, Problem, Route, RouteSettings, Server,
    Upstream,
};
use crate::objects::{BackendRef, Ingress, PathType, PortRef, Service, TargetPort};
use crate::router::order_routes;
use crate::tls::read_tls_secret;

/// Controllers whose IngressClasses we serve.
pub const CONTROLLERS: [&str; 2] = ["k8s.io/ingress-nginx", "portcullis.dev/ingress-controller"];

/// Service annotation listing endpoint addresses when no Endpoints/EndpointSlice exist.
pub const ENDPOINTS_ANNOTATION: &str = "portcullis.dev/endpoints";

/// The Ingress annotation naming its class (older than `spec.ingressClassName`).
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Regex size limit for path patterns (compiled program bytes).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Default)]
struct ServerBuilder {
    routes: Vec<Arc<Route>>,
    tls: bool,
    /// Root fallback from the first Ingress (with a default backend) defining this host.
    fallback: Option<Arc<Route>>,
    /// (path, kind) -> Ingress that defined it first.
    seen: HashMap<(String, u8), ObjectRef>,
}

struct Builder<'a> {
    inv: &'a Inventory,
    opts: &'a LoadOptions,
    problems: Vec<Problem>,
    upstreams: HashMap<(String, String, String), Arc<Upstream>>,
    servers: BTreeMap<HostMatch, ServerBuilder>,
    /// (namespace, secret) -> hosts.
    cert_hosts: BTreeMap<(String, String), (BTreeSet<String>, Origin, u32)>,
    default_backend: Option<Arc<Upstream>>,
    /// Hosts listed under some Ingress's `spec.tls`.
    tls_hosts: BTreeSet<HostMatch>,
}

/// Builds the model from everything read.
pub(crate) fn build(inv: Inventory, opts: &LoadOptions) -> Model {
    let mut b = Builder {
        inv: &inv,
        opts,
        problems: Vec::new(),
        upstreams: HashMap::new(),
        servers: BTreeMap::new(),
        cert_hosts: BTreeMap::new(),
        default_backend: None,
        tls_hosts: BTreeSet::new(),
    };
    let accepted: Vec<&(Ingress, Origin)> = inv
        .ingresses
        .iter()
        .filter(|(ing, origin)| {
            let ok = b.class_accepts(ing);
            if !ok {
                tracing::debug!(
                    file = %origin.file, line = origin.doc.line,
                    ingress = %format!("{}/{}", ing.meta.namespace, ing.meta.name),
                    "Ingress belongs to another class; ignored"
                );
            }
            ok
        })
        .collect();

    // A host whose Ingresses use regex or rewrite anywhere becomes a regex host.
    let mut regex_hosts: BTreeSet<HostMatch> = BTreeSet::new();
    for (ing, _) in &accepted {
        let ann = Annotations::new(&ing.meta.annotations, &opts.annotations_prefix);
        if ann.wants_regex() && ann.canary_key().is_none() {
            for rule in &ing.rules {
                if let Some(h) = host_match(rule.host.as_deref()) {
                    regex_hosts.insert(h);
                }
            }
        }
    }

    for (ing, origin) in &accepted {
        b.add_ingress(ing, origin, &regex_hosts);
    }
    let mut acme = crate::certmanager::desired(&inv, &accepted);
    // Secrets that ACME fills need not exist in the manifests.
    b.cert_hosts
        .retain(|k, _| !acme.secrets.contains(k) || b.inv.secrets.contains_key(k));
    b.problems.append(&mut acme.problems);
    let certificates = b.certificates();
    // Only hosts that have rules get a server; a TLS-only host still gets its certificate.
    // A `*.` TLS host also covers the exact hosts below it (as ingress-nginx's certificate
    // lookup does).
    for (host, server) in &mut b.servers {
        server.tls = b.tls_hosts.contains(host)
            || match host {
                HostMatch::Exact(h) => b
                    .tls_hosts
                    .iter()
                    .any(|t| matches!(t, HostMatch::Wildcard(_)) && t.matches(h)),
                _ => false,
            };
    }
    let mut problems = inv.problems.clone();
    problems.append(&mut b.problems);
    problems.sort_by(|a, c| (&a.file, a.line).cmp(&(&c.file, c.line)));

    let mut servers: Vec<Server> = std::mem::take(&mut b.servers)
        .into_iter()
        .map(|(host, mut sb)| {
            order_routes(&mut sb.routes);
            if let Some(fb) = sb.fallback {
                let has_root = sb
                    .routes
                    .iter()
                    .any(|r| r.path.source() == "/" && !matches!(r.path, PathMatch::Exact(_)));
                if !has_root {
                    sb.routes.push(fb);
                }
            }
            Server {
                host,
                routes: sb.routes,
                tls: sb.tls,
            }
        })
        .collect();
    servers.sort_by_key(|a| server_order(&a.host));
    let mut model = Model {
        servers,
        default_backend: b.default_backend,
        certificates,
        global: opts.global.clone(),
        problems,
        index: Default::default(),
        acme: acme.certificates,
    };
    model.build_index();
    model
}

fn server_order(h: &HostMatch) -> (u8, std::cmp::Reverse<usize>, String) {
    match h {
        HostMatch::Exact(s) => (0, std::cmp::Reverse(0), s.clone()),
        HostMatch::Wildcard(s) => (1, std::cmp::Reverse(s.len()), s.clone()),
        HostMatch::Any => (2, std::cmp::Reverse(0), String::new()),
    }
}

/// `None` host -> catch-all; `*.x.y` -> wildcard; else exact. Invalid hosts -> `None`.
fn host_match(host: Option<&str>) -> Option<HostMatch> {
    let Some(h) = host else {
        return Some(HostMatch::Any);
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    };
    if let Some(suffix) = h.strip_prefix('*') {
        return suffix
            .strip_prefix('.')
            .filter(|rest| valid(rest))
            .map(|_| HostMatch::Wildcard(suffix.to_owned()));
    }
    valid(h).then(|| HostMatch::Exact(h.to_owned()))
}

fn path_kind(p: &PathMatch) -> u8 {
    match p {
        PathMatch::Exact(_) => 0,
        PathMatch::Prefix(_) => 1,
        PathMatch::ImplementationSpecific(_) => 2,
        PathMatch::Regex { .. } => 3,
    }
}

impl Builder<'_> {
    fn class_accepts(&self, ing: &Ingress) -> bool {
        let ours = |name: &str| {
            name == self.opts.ingress_class
                || self
                    .inv
                    .classes
                    .get(name)
                    .is_some_and(|c| CONTROLLERS.contains(&c.controller.as_str()))
        };
        if let Some(class) = ing.meta.annotations.get(CLASS_ANNOTATION) {
            return ours(class);
        }
        if let Some(class) = &ing.class_name {
            return ours(class);
        }
        // No class: adopted unless the folder declares a default IngressClass that is
        // neither ours nor ingress-nginx's.
        let defaults: Vec<&_> = self.inv.classes.values().filter(|c| c.is_default).collect();
        defaults.is_empty()
            || defaults.iter().any(|c| {
                c.name == self.opts.ingress_class || CONTROLLERS.contains(&c.controller.as_str())
            })
    }

    fn add_ingress(&mut self, ing: &Ingress, origin: &Origin, regex_hosts: &BTreeSet<HostMatch>) {
        let ingress_ref = ObjectRef {
            namespace: ing.meta.namespace.clone(),
            name: ing.meta.name.clone(),
        };
        let ann = Annotations::new(&ing.meta.annotations, &self.opts.annotations_prefix);
        if let Some(key) = ann.canary_key() {
            self.problems.push(origin.problem(
                origin.doc.line_of(key),
                format!(
                    "{key}: canary Ingresses are not supported yet; Ingress {}/{} is ignored and the main Ingress gets all traffic",
                    ing.meta.namespace, ing.meta.name
                ),
            ));
            return;
        }
        let mut problems = Vec::new();
        let settings = Arc::new(parse_settings(&ann, |key, reason| {
            problems.push(origin.problem(origin.doc.line_of(key), format!("{key}: {reason}")));
        }));
        self.problems.append(&mut problems);

        let default_upstream = ing
            .default_backend
            .as_ref()
            .map(|be| self.upstream(&ing.meta.namespace, be, origin));
        if let Some(up) = &default_upstream
            && ing.rules.is_empty()
        {
            // Ingress with only a default backend: the catch-all server's root.
            let server = self.servers.entry(HostMatch::Any).or_default();
            if server.fallback.is_none() {
                server.fallback = Some(fallback_route(&ingress_ref, up, &settings));
            }
            if self.default_backend.is_none() {
                self.default_backend = Some(Arc::clone(up));
            }
        }

        for rule in &ing.rules {
            let Some(host) = host_match(rule.host.as_deref()) else {
                self.problems.push(origin.problem(
                    origin.doc.line_with(&["host", rule.host.as_deref().unwrap_or("host")]),
                    format!(
                        "invalid host `{}` (wildcards only as a whole first label `*.`); rule skipped",
                        rule.host.as_deref().unwrap_or("")
                    ),
                ));
                continue;
            };
            let regex = regex_hosts.contains(&host);
            self.servers.entry(host.clone()).or_default();
            if let Some(up) = &default_upstream {
                let server = self.servers.entry(host.clone()).or_default();
                if server.fallback.is_none() {
                    server.fallback = Some(fallback_route(&ingress_ref, up, &settings));
                }
            }
            for p in &rule.paths {
                let line = origin.doc.spec_line_with(&["path", &p.path]);
                let path = match path_match(&p.path, p.path_type, regex) {
                    Ok(m) => m,
                    Err(reason) => {
                        self.problems.push(
                            origin.problem(line, format!("path `{}`: {reason}; skipped", p.path)),
                        );
                        continue;
                    }
                };
                let upstream = self.upstream(&ing.meta.namespace, &p.backend, origin);
                let server = self.servers.entry(host.clone()).or_default();
                let key = (path.source().to_owned(), path_kind(&path));
                if let Some(first) = server.seen.get(&key) {
                    let reason = format!(
                        "path `{}` on host {} is already defined by Ingress {}/{}; ignored",
                        p.path,
                        describe_host(&host),
                        first.namespace,
                        first.name
                    );
                    self.problems.push(origin.problem(line, reason));
                    continue;
                }
                server.seen.insert(key, ingress_ref.clone());
                server.routes.push(Arc::new(Route {
                    ingress: ingress_ref.clone(),
                    path,
                    upstream,
                    settings: Arc::clone(&settings),
                }));
            }
        }
        self.add_tls(ing, origin);
    }

    fn add_tls(&mut self, ing: &Ingress, origin: &Origin) {
        for tls in &ing.tls {
            let hosts: Vec<String> = if tls.hosts.is_empty() {
                ing.rules.iter().filter_map(|r| r.host.clone()).collect()
            } else {
                tls.hosts.clone()
            };
            self.tls_hosts
                .extend(hosts.iter().filter_map(|h| host_match(Some(h))));
            if let Some(secret) = &tls.secret_name {
                let key = (ing.meta.namespace.clone(), secret.clone());
                let line = origin.doc.line_with(&["secretName", secret]);
                let entry = self
                    .cert_hosts
                    .entry(key)
                    .or_insert_with(|| (BTreeSet::new(), origin.clone(), line));
                entry.0.extend(hosts);
            }
        }
    }

    fn certificates(&mut self) -> Vec<Arc<Certificate>> {
        let mut out = Vec::new();
        for ((ns, name), (hosts, origin, line)) in std::mem::take(&mut self.cert_hosts) {
            let Some((secret, secret_origin)) = self.inv.secrets.get(&(ns.clone(), name.clone()))
            else {
                self.problems.push(origin.problem(
                    line,
                    format!("TLS Secret {ns}/{name} not found; the default certificate is used"),
                ));
                continue;
            };
            match read_tls_secret(secret) {
                Ok((chain, key)) => out.push(Arc::new(Certificate {
                    secret: ObjectRef {
                        namespace: ns,
                        name,
                    },
                    hosts: hosts.into_iter().collect(),
                    chain,
                    key,
                })),
                Err(reason) => self.problems.push(secret_origin.problem(
                    secret_origin.doc.line,
                    format!("Secret {ns}/{name}: {reason}; the default certificate is used"),
                )),
            }
        }
        out
    }

    fn upstream(&mut self, namespace: &str, be: &BackendRef, origin: &Origin) -> Arc<Upstream> {
        let port = be.port.to_string();
        let key = (namespace.to_owned(), be.service.clone(), port.clone());
        if let Some(up) = self.upstreams.get(&key) {
            return Arc::clone(up);
        }
        let line = origin.doc.spec_line_with(&["ame", &be.service]);
        let mut up = Upstream {
            name: format!("{namespace}-{}-{port}", be.service),
            service: ObjectRef {
                namespace: namespace.to_owned(),
                name: be.service.clone(),
            },
            service_port: port,
            endpoints: Vec::new(),
            external_name: None,
        };
        match self
            .inv
            .services
            .get(&(namespace.to_owned(), be.service.clone()))
        {
            None => self.problems.push(origin.problem(
                line,
                format!(
                    "Service {namespace}/{} not found; requests get 503",
                    be.service
                ),
            )),
            Some((svc, svc_origin)) => {
                if let Err(reason) = self.resolve(svc, &be.port, &mut up) {
                    self.problems.push(svc_origin.problem(
                        svc_origin.doc.line,
                        format!("Service {namespace}/{}: {reason}", be.service),
                    ));
                }
            }
        }
        let up = Arc::new(up);
        self.upstreams.insert(key, Arc::clone(&up));
        up
    }

    /// Fills endpoints / external name. Precedence: Endpoints + EndpointSlices in the folder,
    /// then the `portcullis.dev/endpoints` annotation, then `clusterIP(s)` + `externalIPs`
    /// with the Service port.
    fn resolve(&self, svc: &Service, port: &PortRef, up: &mut Upstream) -> Result<(), String> {
        let sp = svc.ports.iter().find(|sp| match port {
            PortRef::Number(n) => sp.port == *n,
            PortRef::Name(name) => sp.name == *name,
        });
        if let Some(ext) = &svc.external_name {
            let p = match (sp, port) {
                (Some(sp), _) => match sp.target {
                    TargetPort::Number(t) => t,
                    TargetPort::Name(_) => sp.port,
                },
                (None, PortRef::Number(n)) => *n,
                (None, PortRef::Name(name)) => {
                    return Err(format!("ExternalName Service has no port named `{name}`"));
                }
            };
            match ext.parse::<IpAddr>() {
                Ok(ip) => up.endpoints.push(SocketAddr::new(ip, p)),
                Err(_) => up.external_name = Some((ext.clone(), p)),
            }
            return Ok(());
        }
        let Some(sp) = sp else {
            return Err(format!("no port `{port}`; requests get 503"));
        };
        let key = (svc.meta.namespace.clone(), svc.meta.name.clone());
        if let Some(sets) = self.inv.endpoints.get(&key) {
            for set in sets {
                let ep_port = if let Some((_, p)) = set.ports.iter().find(|(n, _)| *n == sp.name) {
                    Some(*p)
                } else if set.ports.len() == 1 && svc.ports.len() == 1 {
                    set.ports.first().map(|(_, p)| *p)
                } else if set.ports.is_empty() {
                    match sp.target {
                        TargetPort::Number(t) => Some(t),
                        TargetPort::Name(_) => None,
                    }
                } else {
                    None
                };
                if let Some(p) = ep_port {
                    for a in &set.addresses {
                        let sa = SocketAddr::new(*a, p);
                        if !up.endpoints.contains(&sa) {
                            up.endpoints.push(sa);
                        }
                    }
                }
            }
            if up.endpoints.is_empty() {
                return Err(format!(
                    "no ready endpoints for port `{port}`; requests get 503"
                ));
            }
            return Ok(());
        }
        if let Some(list) = svc.meta.annotations.get(ENDPOINTS_ANNOTATION) {
            let (default_port, why) = match &sp.target {
                TargetPort::Number(t) => (Some(*t), String::new()),
                TargetPort::Name(n) => (None, format!(" (targetPort `{n}` is a name)")),
            };
            for item in list
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let addr = item
                    .parse::<SocketAddr>()
                    .ok()
                    .or_else(|| {
                        let ip = item.trim_start_matches('[').trim_end_matches(']');
                        ip.parse::<IpAddr>()
                            .ok()
                            .zip(default_port)
                            .map(|(ip, p)| SocketAddr::new(ip, p))
                    })
                    .ok_or_else(|| {
                        format!("`{ENDPOINTS_ANNOTATION}` entry `{item}` is not IP:PORT{why}")
                    })?;
                if !up.endpoints.contains(&addr) {
                    up.endpoints.push(addr);
                }
            }
            return Ok(());
        }
        for ip in svc.cluster_ips.iter().chain(&svc.external_ips) {
            let sa = SocketAddr::new(*ip, sp.port);
            if !up.endpoints.contains(&sa) {
                up.endpoints.push(sa);
            }
        }
        if up.endpoints.is_empty() {
            return Err(format!(
                "no endpoints: add Endpoints or an EndpointSlice, the `{ENDPOINTS_ANNOTATION}` annotation, or a literal `clusterIP`; requests get 503"
            ));
        }
        Ok(())
    }
}

fn describe_host(h: &HostMatch) -> String {
    match h {
        HostMatch::Exact(s) => s.clone(),
        HostMatch::Wildcard(s) => format!("*{s}"),
        HostMatch::Any => "(any)".into(),
    }
}

fn fallback_route(
    ingress: &ObjectRef,
    up: &Arc<Upstream>,
    settings: &Arc<RouteSettings>,
) -> Arc<Route> {
    Arc::new(Route {
        ingress: ingress.clone(),
        path: PathMatch::Prefix("/".into()),
        upstream: Arc::clone(up),
        settings: Arc::clone(settings),
    })
}

/// Builds the path matcher, validating the path.
pub(crate) fn path_match(path: &str, ty: PathType, regex: bool) -> Result<PathMatch, String> {
    if !path.starts_with('/') {
        return Err("must start with `/`".into());
    }
    if path.len() > 1024 {
        return Err("longer than 1024 bytes".into());
    }
    if regex {
        let regex = RegexBuilder::new(&format!("(?i)^(?:{path})"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                let msg = e.to_string();
                let last = msg
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                format!("invalid regex: {}", last.trim())
            })?;
        return Ok(PathMatch::Regex {
            source: path.to_owned(),
            regex,
        });
    }
    if path.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err("contains spaces or control characters".into());
    }
    Ok(match ty {
        PathType::Exact => PathMatch::Exact(path.to_owned()),
        PathType::Prefix => PathMatch::Prefix(path.to_owned()),
        PathType::ImplementationSpecific => PathMatch::ImplementationSpecific(path.to_owned()),
    })
}
