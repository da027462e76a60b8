//! The legacy Ingress (`extensions/v1beta1`, `networking.k8s.io/v1beta1`), which k8s-openapi
//! no longer has, read into a small struct and converted to a `networking.k8s.io/v1` Ingress:
//! `serviceName`/`servicePort` become `service.name`/`service.port.number` (or `.name` for a
//! named port), `spec.backend` becomes `spec.defaultBackend`, and a path without `pathType`
//! gets `ImplementationSpecific`. A backend already in the v1 shape is kept as written.

use k8s_openapi::api::networking::v1 as netv1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;

use super::ObjResult;

/// A legacy Ingress document (`apiVersion` and `kind` already checked and removed).
#[derive(Debug, Deserialize)]
pub(crate) struct Ingress {
    #[serde(default)]
    metadata: Option<ObjectMeta>,
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    backend: Option<Backend>,
    #[serde(default)]
    default_backend: Option<Backend>,
    #[serde(default)]
    ingress_class_name: Option<String>,
    #[serde(default)]
    tls: Option<Vec<netv1::IngressTLS>>,
    #[serde(default)]
    rules: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    http: Option<Http>,
}

#[derive(Debug, Deserialize)]
struct Http {
    #[serde(default)]
    paths: Option<Vec<Path>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Path {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    path_type: Option<String>,
    #[serde(default)]
    backend: Option<Backend>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Backend {
    #[serde(default)]
    service_name: Option<String>,
    #[serde(default)]
    service_port: Option<IntOrString>,
    #[serde(default)]
    service: Option<netv1::IngressServiceBackend>,
    #[serde(default)]
    resource: Option<k8s_openapi::api::core::v1::TypedLocalObjectReference>,
}

fn backend(b: Backend) -> ObjResult<netv1::IngressBackend> {
    let Some(name) = b.service_name else {
        return Ok(netv1::IngressBackend {
            resource: b.resource,
            service: b.service,
        });
    };
    if name.is_empty() {
        return Err("backend `serviceName` is empty".into());
    }
    let port = match b.service_port {
        None => return Err("backend has `serviceName` but no `servicePort`".into()),
        Some(IntOrString::Int(n)) => netv1::ServiceBackendPort {
            number: Some(n),
            name: None,
        },
        Some(IntOrString::String(s)) => match s.trim().parse::<i32>() {
            Ok(n) => netv1::ServiceBackendPort {
                number: Some(n),
                name: None,
            },
            Err(_) => netv1::ServiceBackendPort {
                number: None,
                name: Some(s),
            },
        },
    };
    Ok(netv1::IngressBackend {
        resource: None,
        service: Some(netv1::IngressServiceBackend {
            name,
            port: Some(port),
        }),
    })
}

/// The same Ingress in the `networking.k8s.io/v1` shape.
pub(crate) fn to_v1(ing: Ingress) -> ObjResult<netv1::Ingress> {
    let spec = match ing.spec {
        None => None,
        Some(spec) => {
            let default_backend = spec.default_backend.or(spec.backend).map(backend);
            let mut rules = Vec::new();
            for r in spec.rules.into_iter().flatten() {
                let http = match r.http {
                    None => None,
                    Some(http) => {
                        let mut paths = Vec::new();
                        for p in http.paths.into_iter().flatten() {
                            let b = p.backend.ok_or("path has no `backend`")?;
                            paths.push(netv1::HTTPIngressPath {
                                backend: backend(b)?,
                                path: p.path,
                                path_type: p
                                    .path_type
                                    .unwrap_or_else(|| "ImplementationSpecific".to_owned()),
                            });
                        }
                        Some(netv1::HTTPIngressRuleValue { paths })
                    }
                };
                rules.push(netv1::IngressRule { host: r.host, http });
            }
            Some(netv1::IngressSpec {
                default_backend: default_backend.transpose()?,
                ingress_class_name: spec.ingress_class_name,
                rules: Some(rules),
                tls: spec.tls,
            })
        }
    };
    Ok(netv1::Ingress {
        metadata: ing.metadata.unwrap_or_default(),
        spec,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_name_and_port_become_v1() {
        let doc = json!({"metadata": {"name": "a"}, "spec": {
        "backend": {"serviceName": "d", "servicePort": "8080"},
        "rules": [{"host": "h", "http": {"paths": [
            {"path": "/x", "backend": {"serviceName": "s", "servicePort": "web"}},
            {"path": "/y", "pathType": "Exact", "backend": {"service": {"name": "v", "port": {"number": 81}}}}
        ]}}]}});
        let v1 = to_v1(serde_json::from_value(doc).unwrap()).unwrap();
        let spec = v1.spec.unwrap();
        let d = spec.default_backend.unwrap().service.unwrap();
        assert_eq!((d.name.as_str(), d.port.unwrap().number), ("d", Some(8080)));
        let rules = spec.rules.unwrap();
        let paths = &rules[0].http.as_ref().unwrap().paths;
        assert_eq!(paths[0].path_type, "ImplementationSpecific");
        let s = paths[0].backend.service.as_ref().unwrap();
        assert_eq!(s.port.as_ref().unwrap().name.as_deref(), Some("web"));
        assert_eq!(paths[1].path_type, "Exact");
        assert_eq!(paths[1].backend.service.as_ref().unwrap().name, "v");
    }

    #[test]
    fn missing_port_is_an_error() {
        let doc = json!({"metadata": {"name": "a"}, "spec": {"backend": {"serviceName": "d"}}});
        let err = to_v1(serde_json::from_value(doc).unwrap()).unwrap_err();
        assert!(err.contains("servicePort"), "{err}");
    }
}
