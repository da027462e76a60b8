//! Kubernetes objects: documents are deserialized into the `k8s-openapi` types (the same
//! types kube-rs hands out when watching the API), then normalized into the small structs the
//! model builder works with ([`Ingress`], [`Service`], [`EndpointSet`], [`Secret`],
//! [`IngressClass`]). The `*_from_api` functions are that normalization, usable for typed
//! objects from any source.
//!
//! Before deserializing a document read from a file:
//! - `metadata` is reduced to name, namespace, annotations and labels, and annotation and
//!   label values written as YAML booleans or numbers (`ssl-redirect: true`) become strings,
//!   as hand-written files often have them (the API server would reject them);
//! - `data` values of a Secret lose line breaks (base64 wrapped over several lines);
//! - the legacy `extensions/v1beta1` / `networking.k8s.io/v1beta1` Ingress (not in
//!   k8s-openapi) is read by [`legacy`] and converted to a `networking.k8s.io/v1` Ingress.
//!
//! A document that does not fit the API type is reported with serde's reason.

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::api::discovery::v1 as discoveryv1;
use k8s_openapi::api::networking::v1 as netv1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value};

mod legacy;

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

/// A port number of an API object (`i32` there) checked to be 1-65535.
fn port_in_range(n: i32, what: &str) -> ObjResult<u16> {
    u16::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{what}` must be a port number 1-65535, found {n}"))
}

/// Keeps only the `metadata` fields we read and turns scalar annotation / label values into
/// strings (nested structures stay an error).
fn normalize_meta(doc: &mut Map<String, Value>) -> ObjResult<()> {
    let m = match doc.get_mut("metadata") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err("`metadata` must be a mapping".into()),
    };
    m.retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "annotations" | "labels"));
    for key in ["name", "namespace"] {
        if let Some(v) = m.get(key)
            && !matches!(v, Value::String(_) | Value::Null)
        {
            return Err(format!("`{key}` must be a string, found {}", kind(v)));
        }
    }
    for key in ["annotations", "labels"] {
        let map = match m.get_mut(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(format!("`{key}` must be a mapping, found {}", kind(other)));
            }
        };
        for (k, val) in map.iter_mut() {
            let s = match val {
                Value::String(_) => continue,
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
            *val = Value::String(s);
        }
    }
    Ok(())
}

/// Port numbers written as strings (`port: "80"`) become numbers, as the hand-written
/// reader always accepted; only under `spec`, `subsets` and `ports` (never Secret data).
fn normalize_ports(doc: &mut Map<String, Value>) {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    if matches!(k.as_str(), "port" | "number")
                        && let Value::String(s) = val
                        && let Ok(n) = s.trim().parse::<u32>()
                    {
                        *val = Value::from(n);
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    for key in ["spec", "subsets", "ports"] {
        if let Some(v) = doc.get_mut(key) {
            walk(v);
        }
    }
}

/// Base64 values of a Secret's `data` may be wrapped over several lines in files; the API
/// type wants one line. Invalid base64 is reported with the key.
fn normalize_secret_data(doc: &mut Map<String, Value>) -> ObjResult<()> {
    let data = match doc.get_mut("data") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(d)) => d,
        Some(other) => return Err(format!("`data` must be a mapping, found {}", kind(other))),
    };
    for (k, v) in data.iter_mut() {
        let Some(s) = v.as_str() else {
            return Err(format!("`data.{k}` must be a base64 string"));
        };
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| format!("`data.{k}` is not valid base64: {e}"))?;
        *v = Value::String(compact);
    }
    Ok(())
}

/// Deserializes a (normalized) document into an API type; a mismatch names the field
/// (`spec.rules: invalid type: ...`).
fn api<T: serde::de::DeserializeOwned>(doc: Map<String, Value>) -> ObjResult<T> {
    serde_path_to_error::deserialize(Value::Object(doc)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            inner.to_string()
        } else {
            format!("`{path}`: {inner}")
        }
    })
}

/// Reads one parsed document. `Ok(None)` for kinds we ignore.
pub(crate) fn read_object(doc: &Value) -> ObjResult<Option<Object>> {
    let Value::Object(map) = doc else {
        return Err(format!("a manifest must be a mapping, found {}", kind(doc)));
    };
    let api_version = str_of(doc, "apiVersion")?.unwrap_or_default();
    let Some(k) = str_of(doc, "kind")? else {
        return Err("`kind` is missing".into());
    };
    let known = matches!(
        k,
        "Ingress" | "Service" | "Endpoints" | "EndpointSlice" | "Secret" | "IngressClass"
    );
    if !known {
        return Ok(None);
    }
    let mut map = map.clone();
    // Dispatch is by kind only (as before): the API types would insist on their own
    // apiVersion, which hand-written files do not always carry. `status` is never read.
    for key in ["apiVersion", "kind", "status"] {
        map.remove(key);
    }
    normalize_meta(&mut map)?;
    normalize_ports(&mut map);
    let obj = match k {
        "Ingress" => {
            let ing = match api_version {
                "networking.k8s.io/v1" => {
                    // Tolerate the v1beta1 name of the default backend in a v1 document.
                    if let Some(Value::Object(spec)) = map.get_mut("spec")
                        && !spec.contains_key("defaultBackend")
                        && let Some(b) = spec.remove("backend")
                    {
                        spec.insert("defaultBackend".into(), b);
                    }
                    api::<netv1::Ingress>(map)?
                }
                "networking.k8s.io/v1beta1" | "extensions/v1beta1" => {
                    legacy::to_v1(api::<legacy::Ingress>(map)?)?
                }
                other => return Err(format!("unsupported Ingress apiVersion `{other}`")),
            };
            Object::Ingress(ingress_from_api(&ing)?)
        }
        "Service" => Object::Service(service_from_api(&api(map)?)?),
        "Endpoints" => {
            let ep: corev1::Endpoints = api(map)?;
            let meta = meta_from_api(&ep.metadata, true)?;
            Object::Endpoints {
                namespace: meta.namespace,
                service: meta.name,
                sets: endpoints_from_api(&ep)?,
            }
        }
        "EndpointSlice" => {
            let slice: discoveryv1::EndpointSlice = api(map)?;
            let meta = meta_from_api(&slice.metadata, false)?;
            let Some(service) = meta.labels.get("kubernetes.io/service-name").cloned() else {
                return Err("EndpointSlice has no `kubernetes.io/service-name` label".into());
            };
            Object::Endpoints {
                namespace: meta.namespace,
                service,
                sets: vec![endpoint_slice_from_api(&slice)?],
            }
        }
        "Secret" => {
            normalize_secret_data(&mut map)?;
            Object::Secret(secret_from_api(&api(map)?)?)
        }
        _ => Object::IngressClass(ingress_class_from_api(&api(map)?)?),
    };
    Ok(Some(obj))
}

/// Our [`Meta`] from API metadata: namespace defaults to `default`.
pub(crate) fn meta_from_api(m: &ObjectMeta, needs_name: bool) -> ObjResult<Meta> {
    let name = m.name.clone().unwrap_or_default();
    if needs_name && name.is_empty() {
        return Err("`metadata.name` is missing".into());
    }
    let namespace = m
        .namespace
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    Ok(Meta {
        namespace,
        name,
        annotations: m.annotations.clone().unwrap_or_default(),
        labels: m.labels.clone().unwrap_or_default(),
    })
}

fn backend_from_api(b: &netv1::IngressBackend) -> ObjResult<BackendRef> {
    if b.resource.is_some() {
        return Err("resource backends are not supported (use a Service)".into());
    }
    let Some(svc) = &b.service else {
        return Err("backend has no `service`".into());
    };
    if svc.name.is_empty() {
        return Err("backend `service.name` is missing".into());
    }
    let service = svc.name.clone();
    let port = svc.port.as_ref();
    let port = if let Some(name) = port
        .and_then(|p| p.name.as_deref())
        .filter(|s| !s.is_empty())
    {
        PortRef::Name(name.to_owned())
    } else if let Some(n) = port.and_then(|p| p.number) {
        PortRef::Number(port_in_range(n, "service.port.number")?)
    } else {
        return Err(format!(
            "backend service `{service}` needs `port.number` or `port.name`"
        ));
    };
    Ok(BackendRef { service, port })
}

/// Normalizes a `networking.k8s.io/v1` Ingress (hosts lower-cased, empty path -> `/`).
pub(crate) fn ingress_from_api(ing: &netv1::Ingress) -> ObjResult<Ingress> {
    let meta = meta_from_api(&ing.metadata, true)?;
    let spec = ing.spec.clone().unwrap_or_default();
    let default_backend = spec
        .default_backend
        .as_ref()
        .map(backend_from_api)
        .transpose()?;
    let tls = spec
        .tls
        .iter()
        .flatten()
        .map(|t| IngressTls {
            hosts: t
                .hosts
                .iter()
                .flatten()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            secret_name: t.secret_name.clone().filter(|s| !s.is_empty()),
        })
        .collect();
    let mut rules = Vec::new();
    for r in spec.rules.iter().flatten() {
        let host = r
            .host
            .as_deref()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        let mut paths = Vec::new();
        for p in r.http.iter().flat_map(|h| &h.paths) {
            let path = p
                .path
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "/".to_owned());
            let path_type = match p.path_type.as_str() {
                "Exact" => PathType::Exact,
                "Prefix" => PathType::Prefix,
                // Required in v1, but older files omit it: ingress-nginx's default.
                "ImplementationSpecific" | "" => PathType::ImplementationSpecific,
                other => return Err(format!("unknown pathType `{other}`")),
            };
            paths.push(IngressPath {
                path,
                path_type,
                backend: backend_from_api(&p.backend)?,
            });
        }
        rules.push(IngressRule { host, paths });
    }
    Ok(Ingress {
        class_name: spec.ingress_class_name,
        meta,
        default_backend,
        tls,
        rules,
    })
}

fn ip(s: &str, what: &str) -> ObjResult<IpAddr> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{what}` must be an IP address, found \"{s}\""))
}

/// Normalizes a Service (ports, ExternalName, literal cluster and external IPs).
pub(crate) fn service_from_api(svc: &corev1::Service) -> ObjResult<Service> {
    let meta = meta_from_api(&svc.metadata, true)?;
    let spec = svc.spec.clone().unwrap_or_default();
    let mut ports = Vec::new();
    for p in spec.ports.iter().flatten() {
        let port = port_in_range(p.port, "ports[].port")?;
        let target = match &p.target_port {
            None => TargetPort::Number(port),
            Some(IntOrString::Int(n)) => {
                TargetPort::Number(port_in_range(*n, "ports[].targetPort")?)
            }
            Some(IntOrString::String(s)) => match s.trim().parse::<i32>() {
                Ok(n) => TargetPort::Number(port_in_range(n, "ports[].targetPort")?),
                Err(_) => TargetPort::Name(s.clone()),
            },
        };
        ports.push(ServicePort {
            name: p.name.clone().unwrap_or_default(),
            port,
            target,
        });
    }
    let external_name = match spec.type_.as_deref() {
        Some("ExternalName") => Some(
            spec.external_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or("ExternalName Service without `spec.externalName`")?
                .trim_end_matches('.')
                .to_owned(),
        ),
        _ => None,
    };
    let mut cluster_ips = Vec::new();
    for s in spec
        .cluster_ip
        .iter()
        .chain(spec.cluster_ips.iter().flatten())
    {
        if s.is_empty() || s == "None" {
            continue;
        }
        let a = ip(s, "clusterIP")?;
        if !cluster_ips.contains(&a) {
            cluster_ips.push(a);
        }
    }
    let mut external_ips = Vec::new();
    for s in spec.external_ips.iter().flatten() {
        external_ips.push(ip(s, "externalIPs[]")?);
    }
    Ok(Service {
        meta,
        ports,
        external_name,
        cluster_ips,
        external_ips,
    })
}

/// One [`EndpointSet`] per subset; `notReadyAddresses` are deliberately skipped.
pub(crate) fn endpoints_from_api(ep: &corev1::Endpoints) -> ObjResult<Vec<EndpointSet>> {
    let mut sets = Vec::new();
    for s in ep.subsets.iter().flatten() {
        let mut addresses = Vec::new();
        for a in s.addresses.iter().flatten() {
            addresses.push(ip(&a.ip, "addresses[].ip")?);
        }
        let mut ports = Vec::new();
        for p in s.ports.iter().flatten() {
            ports.push((
                p.name.clone().unwrap_or_default(),
                port_in_range(p.port, "ports[].port")?,
            ));
        }
        sets.push(EndpointSet { addresses, ports });
    }
    Ok(sets)
}

/// The ready addresses and ports of an EndpointSlice; FQDN slices are ignored (as
/// ingress-nginx does; use an ExternalName Service).
pub(crate) fn endpoint_slice_from_api(
    slice: &discoveryv1::EndpointSlice,
) -> ObjResult<EndpointSet> {
    if slice.address_type == "FQDN" {
        return Ok(EndpointSet::default());
    }
    let mut addresses = Vec::new();
    for e in &slice.endpoints {
        // Kubernetes: an unset `ready` means ready.
        let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
        if !ready {
            continue;
        }
        for a in &e.addresses {
            let a = ip(a, "endpoints[].addresses[]")?;
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
    }
    let mut ports = Vec::new();
    for p in slice.ports.iter().flatten() {
        let port = port_in_range(p.port.unwrap_or(0), "ports[].port")?;
        ports.push((p.name.clone().unwrap_or_default(), port));
    }
    Ok(EndpointSet { addresses, ports })
}

/// A Secret's decoded `data`, with `stringData` winning as the API server does.
pub(crate) fn secret_from_api(s: &corev1::Secret) -> ObjResult<Secret> {
    let meta = meta_from_api(&s.metadata, true)?;
    let mut data: BTreeMap<String, Vec<u8>> = s
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    for (k, v) in s.string_data.iter().flatten() {
        data.insert(k.clone(), v.as_bytes().to_vec());
    }
    Ok(Secret {
        meta,
        type_: s.type_.clone().unwrap_or_else(|| "Opaque".to_owned()),
        data,
    })
}

/// An IngressClass: its controller and the `is-default-class` annotation.
pub(crate) fn ingress_class_from_api(c: &netv1::IngressClass) -> ObjResult<IngressClass> {
    let meta = meta_from_api(&c.metadata, true)?;
    Ok(IngressClass {
        controller: c
            .spec
            .as_ref()
            .and_then(|s| s.controller.clone())
            .unwrap_or_default(),
        is_default: meta
            .annotations
            .get("ingressclass.kubernetes.io/is-default-class")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        name: meta.name,
    })
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

    #[test]
    fn hand_written_tolerances() {
        // Quoted ports, server-side metadata, `spec.backend` in a v1 document.
        let doc = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "a", "creationTimestamp": "not a time", "uid": 5,
                "labels": {"n": 1}},
            "spec": {"backend": {"service": {"name": "d", "port": {"number": "8080"}}}}});
        let Some(Object::Ingress(i)) = read_object(&doc).unwrap() else {
            panic!()
        };
        assert_eq!(i.default_backend.unwrap().port, PortRef::Number(8080));
        assert_eq!(i.meta.labels["n"], "1");
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": "80", "targetPort": "8080"}, {"port": 81, "targetPort": "web"}]}});
        let Some(Object::Service(s)) = read_object(&svc).unwrap() else {
            panic!()
        };
        assert_eq!(s.ports[0].port, 80);
        assert!(matches!(s.ports[0].target, TargetPort::Number(8080)));
        assert!(matches!(&s.ports[1].target, TargetPort::Name(n) if n == "web"));
    }

    #[test]
    fn type_errors_name_the_field() {
        let doc = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "a"}, "spec": {"rules": [{"host": ["x"]}]}});
        let err = read_object(&doc).unwrap_err();
        assert!(err.contains("spec.rules[0].host"), "{err}");
        let nested =
            json!({"kind": "Service", "metadata": {"name": "s", "annotations": {"a": {"b": 1}}}});
        assert!(read_object(&nested).unwrap_err().contains("annotations.a"));
    }
}
