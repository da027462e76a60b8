//! Kubernetes objects read from `serde_json::Value` documents into small typed structs.
//!
//! We read the JSON tree by hand instead of deserializing k8s-openapi types so the legacy
//! `extensions/v1beta1` / `networking.k8s.io/v1beta1` Ingress (not in k8s-openapi any more)
//! and the current `networking.k8s.io/v1` share one code path, and so common hand-written
//! slips (an unquoted `"true"` annotation value) are tolerated instead of rejecting the file.

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use serde_json::{Map, Value};

/// Why a document could not be read (the caller adds file and line).
pub(crate) type ObjResult<T> = Result<T, String>;

/// `metadata` of any object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub namespace: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// A Service port reference as written in an Ingress backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortRef {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Name(s) => f.write_str(s),
        }
    }
}

/// An Ingress backend (`service.name` + `service.port`, or legacy `serviceName`/`servicePort`).
#[derive(Debug, Clone)]
pub(crate) struct BackendRef {
    pub service: String,
    pub port: PortRef,
}

/// Path types of `networking.k8s.io/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathType {
    Exact,
    Prefix,
    ImplementationSpecific,
}

#[derive(Debug, Clone)]
pub(crate) struct IngressPath {
    pub path: String,
    pub path_type: PathType,
    pub backend: BackendRef,
}

#[derive(Debug, Clone)]
pub(crate) struct IngressRule {
    /// Lower-cased host; `None` for rules without host.
    pub host: Option<String>,
    pub paths: Vec<IngressPath>,
}

#[derive(Debug, Clone)]
pub(crate) struct IngressTls {
    pub hosts: Vec<String>,
    pub secret_name: Option<String>,
}

/// An Ingress in any supported API version, normalized to the v1 shape.
#[derive(Debug, Clone)]
pub(crate) struct Ingress {
    pub meta: Meta,
    pub class_name: Option<String>,
    pub default_backend: Option<BackendRef>,
    pub tls: Vec<IngressTls>,
    pub rules: Vec<IngressRule>,
}

#[derive(Debug, Clone)]
pub(crate) enum TargetPort {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone)]
pub(crate) struct ServicePort {
    pub name: String,
    pub port: u16,
    pub target: TargetPort,
}

#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub meta: Meta,
    pub ports: Vec<ServicePort>,
    pub external_name: Option<String>,
    pub cluster_ips: Vec<IpAddr>,
    pub external_ips: Vec<IpAddr>,
}

/// Addresses and named ports: one Endpoints subset or one EndpointSlice.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointSet {
    pub addresses: Vec<IpAddr>,
    /// (port name, port number); name is `""` when unnamed.
    pub ports: Vec<(String, u16)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Secret {
    pub meta: Meta,
    pub type_: String,
    pub data: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone)]
pub(crate) struct IngressClass {
    pub name: String,
    pub controller: String,
    pub is_default: bool,
}

/// A recognised object.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Ingress(Ingress),
    Service(Service),
    /// Endpoints (`ns`, `name`) or EndpointSlice (`ns`, label `kubernetes.io/service-name`).
    Endpoints {
        namespace: String,
        service: String,
        sets: Vec<EndpointSet>,
    },
    Secret(Secret),
    IngressClass(IngressClass),
}

fn str_of<'a>(v: &'a Value, key: &str) -> ObjResult<Option<&'a str>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{key}` must be a string, found {}", kind(other))),
    }
}

fn arr_of<'a>(v: &'a Value, key: &str) -> ObjResult<&'a [Value]> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!("`{key}` must be a list, found {}", kind(other))),
    }
}

fn obj_of<'a>(v: &'a Value, key: &str) -> ObjResult<Option<&'a Map<String, Value>>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(format!("`{key}` must be a mapping, found {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn port_number(v: &Value, what: &str) -> ObjResult<u16> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| u16::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{what}` must be a port number 1-65535, found {v}"))
}

fn string_map(v: &Value, key: &str) -> ObjResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(m) = obj_of(v, key)? {
        for (k, val) in m {
            // Tolerate unquoted booleans/numbers (the API server would reject them, but hand
            // written files often have them); nested structures are an error.
            let s = match val {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Null => String::new(),
                other => {
                    return Err(format!(
                        "`{key}.{k}` must be a string, found {}",
                        kind(other)
                    ));
                }
            };
            out.insert(k.clone(), s);
        }
    }
    Ok(out)
}

fn meta(doc: &Value, needs_name: bool) -> ObjResult<Meta> {
    let m = doc.get("metadata").unwrap_or(&Value::Null);
    if !m.is_null() && !m.is_object() {
        return Err("`metadata` must be a mapping".into());
    }
    let name = str_of(m, "name")?.unwrap_or_default().to_owned();
    if needs_name && name.is_empty() {
        return Err("`metadata.name` is missing".into());
    }
    let namespace = str_of(m, "namespace")?
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_owned();
    Ok(Meta {
        namespace,
        name,
        annotations: string_map(m, "annotations")?,
        labels: string_map(m, "labels")?,
    })
}

/// Reads one parsed document. `Ok(None)` for kinds we ignore.
pub(crate) fn read_object(doc: &Value) -> ObjResult<Option<Object>> {
    if !doc.is_object() {
        return Err(format!("a manifest must be a mapping, found {}", kind(doc)));
    }
    let api = str_of(doc, "apiVersion")?.unwrap_or_default();
    let Some(k) = str_of(doc, "kind")? else {
        return Err("`kind` is missing".into());
    };
    let obj = match (k, api) {
        ("Ingress", "networking.k8s.io/v1") => Object::Ingress(ingress(doc, false)?),
        ("Ingress", "networking.k8s.io/v1beta1" | "extensions/v1beta1") => {
            Object::Ingress(ingress(doc, true)?)
        }
        ("Ingress", other) => return Err(format!("unsupported Ingress apiVersion `{other}`")),
        ("Service", _) => Object::Service(service(doc)?),
        ("Endpoints", _) => {
            let meta = meta(doc, true)?;
            Object::Endpoints {
                namespace: meta.namespace,
                service: meta.name,
                sets: endpoints(doc)?,
            }
        }
        ("EndpointSlice", _) => {
            let meta = meta(doc, false)?;
            let Some(service) = meta.labels.get("kubernetes.io/service-name").cloned() else {
                return Err("EndpointSlice has no `kubernetes.io/service-name` label".into());
            };
            Object::Endpoints {
                namespace: meta.namespace,
                service,
                sets: vec![endpoint_slice(doc)?],
            }
        }
        ("Secret", _) => Object::Secret(secret(doc)?),
        ("IngressClass", _) => {
            let meta = meta(doc, true)?;
            let spec = doc.get("spec").unwrap_or(&Value::Null);
            Object::IngressClass(IngressClass {
                controller: str_of(spec, "controller")?.unwrap_or_default().to_owned(),
                is_default: meta
                    .annotations
                    .get("ingressclass.kubernetes.io/is-default-class")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                name: meta.name,
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(obj))
}

fn backend(v: &Value, legacy: bool) -> ObjResult<BackendRef> {
    if legacy && v.get("serviceName").is_some() {
        let service = str_of(v, "serviceName")?.unwrap_or_default().to_owned();
        let port = match v.get("servicePort") {
            Some(Value::String(s)) if s.parse::<u16>().is_err() => PortRef::Name(s.clone()),
            Some(p) => PortRef::Number(port_number(p, "servicePort")?),
            None => return Err("backend has `serviceName` but no `servicePort`".into()),
        };
        if service.is_empty() {
            return Err("backend `serviceName` is empty".into());
        }
        return Ok(BackendRef { service, port });
    }
    if v.get("resource").is_some() {
        return Err("resource backends are not supported (use a Service)".into());
    }
    let Some(svc) = v.get("service").filter(|s| s.is_object()) else {
        return Err("backend has no `service`".into());
    };
    let service = str_of(svc, "name")?.unwrap_or_default().to_owned();
    if service.is_empty() {
        return Err("backend `service.name` is missing".into());
    }
    let port_v = svc.get("port").unwrap_or(&Value::Null);
    let port = if let Some(name) = str_of(port_v, "name")?.filter(|s| !s.is_empty()) {
        PortRef::Name(name.to_owned())
    } else if let Some(n) = port_v.get("number") {
        PortRef::Number(port_number(n, "service.port.number")?)
    } else {
        return Err(format!(
            "backend service `{service}` needs `port.number` or `port.name`"
        ));
    };
    Ok(BackendRef { service, port })
}

fn ingress(doc: &Value, legacy: bool) -> ObjResult<Ingress> {
    let meta = meta(doc, true)?;
    let spec = doc.get("spec").unwrap_or(&Value::Null);
    let default_backend = match spec.get("defaultBackend").or_else(|| spec.get("backend")) {
        None | Some(Value::Null) => None,
        Some(b) => Some(backend(b, legacy)?),
    };
    let mut tls = Vec::new();
    for t in arr_of(spec, "tls")? {
        let mut hosts = Vec::new();
        for h in arr_of(t, "hosts")? {
            let h = h.as_str().ok_or("`tls[].hosts` must be strings")?;
            hosts.push(h.trim().to_ascii_lowercase());
        }
        tls.push(IngressTls {
            hosts,
            secret_name: str_of(t, "secretName")?
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        });
    }
    let mut rules = Vec::new();
    for r in arr_of(spec, "rules")? {
        let host = str_of(r, "host")?
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        let mut paths = Vec::new();
        let http = r.get("http").unwrap_or(&Value::Null);
        for p in arr_of(http, "paths")? {
            let path = str_of(p, "path")?
                .filter(|s| !s.is_empty())
                .unwrap_or("/")
                .to_owned();
            let path_type = match str_of(p, "pathType")? {
                Some("Exact") => PathType::Exact,
                Some("Prefix") => PathType::Prefix,
                Some("ImplementationSpecific") | None => PathType::ImplementationSpecific,
                Some(other) => return Err(format!("unknown pathType `{other}`")),
            };
            let b = p.get("backend").ok_or("path has no `backend`")?;
            paths.push(IngressPath {
                path,
                path_type,
                backend: backend(b, legacy)?,
            });
        }
        rules.push(IngressRule { host, paths });
    }
    Ok(Ingress {
        class_name: str_of(spec, "ingressClassName")?.map(str::to_owned),
        meta,
        default_backend,
        tls,
        rules,
    })
}

fn ip(v: &Value, what: &str) -> ObjResult<IpAddr> {
    v.as_str()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("`{what}` must be an IP address, found {v}"))
}

fn service(doc: &Value) -> ObjResult<Service> {
    let meta = meta(doc, true)?;
    let spec = doc.get("spec").unwrap_or(&Value::Null);
    let mut ports = Vec::new();
    for p in arr_of(spec, "ports")? {
        let port = port_number(p.get("port").unwrap_or(&Value::Null), "ports[].port")?;
        let target = match p.get("targetPort") {
            None | Some(Value::Null) => TargetPort::Number(port),
            Some(Value::String(s)) if s.parse::<u16>().is_err() => TargetPort::Name(s.clone()),
            Some(t) => TargetPort::Number(port_number(t, "ports[].targetPort")?),
        };
        ports.push(ServicePort {
            name: str_of(p, "name")?.unwrap_or_default().to_owned(),
            port,
            target,
        });
    }
    let external_name = match str_of(spec, "type")? {
        Some("ExternalName") => Some(
            str_of(spec, "externalName")?
                .filter(|s| !s.is_empty())
                .ok_or("ExternalName Service without `spec.externalName`")?
                .trim_end_matches('.')
                .to_owned(),
        ),
        _ => None,
    };
    let mut cluster_ips = Vec::new();
    let single = str_of(spec, "clusterIP")?.map(|s| Value::String(s.to_owned()));
    for v in single.iter().chain(arr_of(spec, "clusterIPs")?) {
        if v.as_str().is_some_and(|s| s.is_empty() || s == "None") {
            continue;
        }
        let a = ip(v, "clusterIP")?;
        if !cluster_ips.contains(&a) {
            cluster_ips.push(a);
        }
    }
    let mut external_ips = Vec::new();
    for v in arr_of(spec, "externalIPs")? {
        external_ips.push(ip(v, "externalIPs[]")?);
    }
    Ok(Service {
        meta,
        ports,
        external_name,
        cluster_ips,
        external_ips,
    })
}

fn named_ports(v: &Value) -> ObjResult<Vec<(String, u16)>> {
    let mut out = Vec::new();
    for p in arr_of(v, "ports")? {
        let name = str_of(p, "name")?.unwrap_or_default().to_owned();
        let port = port_number(p.get("port").unwrap_or(&Value::Null), "ports[].port")?;
        out.push((name, port));
    }
    Ok(out)
}

fn endpoints(doc: &Value) -> ObjResult<Vec<EndpointSet>> {
    let mut sets = Vec::new();
    for s in arr_of(doc, "subsets")? {
        let mut addresses = Vec::new();
        // `notReadyAddresses` are deliberately skipped.
        for a in arr_of(s, "addresses")? {
            addresses.push(ip(a.get("ip").unwrap_or(&Value::Null), "addresses[].ip")?);
        }
        sets.push(EndpointSet {
            addresses,
            ports: named_ports(s)?,
        });
    }
    Ok(sets)
}

fn endpoint_slice(doc: &Value) -> ObjResult<EndpointSet> {
    let mut addresses = Vec::new();
    if str_of(doc, "addressType")? == Some("FQDN") {
        // FQDN slices are ignored (as ingress-nginx does); use an ExternalName Service.
        return Ok(EndpointSet::default());
    }
    for e in arr_of(doc, "endpoints")? {
        let conditions = e.get("conditions").unwrap_or(&Value::Null);
        // Kubernetes: an unset `ready` means ready; `serving: false` also means unusable.
        let ready = conditions
            .get("ready")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !ready {
            continue;
        }
        for a in arr_of(e, "addresses")? {
            let a = ip(a, "endpoints[].addresses[]")?;
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
    }
    Ok(EndpointSet {
        addresses,
        ports: named_ports(doc)?,
    })
}

fn secret(doc: &Value) -> ObjResult<Secret> {
    let meta = meta(doc, true)?;
    let type_ = str_of(doc, "type")?.unwrap_or("Opaque").to_owned();
    let mut data = BTreeMap::new();
    if let Some(m) = obj_of(doc, "data")? {
        for (k, v) in m {
            let Some(s) = v.as_str() else {
                return Err(format!("`data.{k}` must be a base64 string"));
            };
            let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|e| format!("`data.{k}` is not valid base64: {e}"))?;
            data.insert(k.clone(), bytes);
        }
    }
    if let Some(m) = obj_of(doc, "stringData")? {
        for (k, v) in m {
            let Some(s) = v.as_str() else {
                return Err(format!("`stringData.{k}` must be a string"));
            };
            // As the API server does, stringData wins over data.
            data.insert(k.clone(), s.as_bytes().to_vec());
        }
    }
    Ok(Secret { meta, type_, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_ingress() {
        let doc = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "a", "annotations": {"x": true}},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "Foo.COM", "http": {"paths": [
            {"path": "/x", "pathType": "Prefix", "backend": {"service": {"name": "s", "port": {"number": 80}}}},
            {"path": "/y", "pathType": "Exact", "backend": {"service": {"name": "s", "port": {"name": "http"}}}}
        ]}}]}});
        let Some(Object::Ingress(i)) = read_object(&doc).unwrap() else {
            panic!()
        };
        assert_eq!(i.meta.namespace, "default");
        assert_eq!(i.meta.annotations["x"], "true");
        assert_eq!(i.rules[0].host.as_deref(), Some("foo.com"));
        assert_eq!(i.rules[0].paths[0].backend.port, PortRef::Number(80));
        assert_eq!(
            i.rules[0].paths[1].backend.port,
            PortRef::Name("http".into())
        );
        assert_eq!(i.rules[0].paths[1].path_type, PathType::Exact);
    }

    #[test]
    fn legacy_ingress() {
        let doc = json!({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
            "metadata": {"name": "a", "namespace": "ns"},
            "spec": {"backend": {"serviceName": "d", "servicePort": 8080},
              "rules": [{"http": {"paths": [{"backend": {"serviceName": "s", "servicePort": "web"}}]}}]}});
        let Some(Object::Ingress(i)) = read_object(&doc).unwrap() else {
            panic!()
        };
        assert_eq!(i.default_backend.unwrap().port, PortRef::Number(8080));
        let p = &i.rules[0].paths[0];
        assert_eq!(p.path, "/");
        assert_eq!(p.path_type, PathType::ImplementationSpecific);
        assert_eq!(p.backend.port, PortRef::Name("web".into()));
        assert!(i.rules[0].host.is_none());
    }

    #[test]
    fn errors_are_reasons() {
        let bad_port = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 70000}]}});
        assert!(read_object(&bad_port).unwrap_err().contains("port"));
        assert!(
            read_object(&json!({"kind": "Service"}))
                .unwrap_err()
                .contains("name")
        );
        assert!(read_object(&json!([1])).is_err());
        assert!(
            read_object(&json!({"kind": "ConfigMap", "metadata": {"name": "x"}}))
                .unwrap()
                .is_none()
        );
        let bad_api = json!({"apiVersion": "foo/v9", "kind": "Ingress", "metadata": {"name": "x"}});
        assert!(read_object(&bad_api).is_err());
    }

    #[test]
    fn slices_skip_unready() {
        let doc = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "s-abc", "labels": {"kubernetes.io/service-name": "s"}},
            "ports": [{"name": "http", "port": 9000}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"], "conditions": {"ready": false}}]});
        let Some(Object::Endpoints { service, sets, .. }) = read_object(&doc).unwrap() else {
            panic!()
        };
        assert_eq!(service, "s");
        assert_eq!(sets[0].addresses.len(), 1);
        assert_eq!(sets[0].ports, vec![("http".to_owned(), 9000)]);
        let fqdn = json!({"kind": "EndpointSlice", "addressType": "FQDN",
            "metadata": {"name": "f", "labels": {"kubernetes.io/service-name": "s"}},
            "endpoints": [{"addresses": ["db.example.com"]}]});
        let Some(Object::Endpoints { sets, .. }) = read_object(&fqdn).unwrap() else {
            panic!()
        };
        assert!(sets[0].addresses.is_empty());
    }

    #[test]
    fn secret_data_and_string_data() {
        let doc = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "t"}, "data": {"tls.crt": "aGVs\nbG8="}, "stringData": {"tls.key": "k"}});
        let Some(Object::Secret(s)) = read_object(&doc).unwrap() else {
            panic!()
        };
        assert_eq!(s.data["tls.crt"], b"hello");
        assert_eq!(s.data["tls.key"], b"k");
        let bad = json!({"kind": "Secret", "metadata": {"name": "t"}, "data": {"a": "!!"}});
        assert!(read_object(&bad).is_err());
    }
}
