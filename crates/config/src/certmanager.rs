//! cert-manager compatibility (issue #5): `Issuer` / `ClusterIssuer` / `Certificate`
//! manifests (`cert-manager.io/v1`, legacy `certmanager.k8s.io/v1alpha1`) and the Ingress
//! annotations of cert-manager's ingress-shim, turned into plain data on
//! [`crate::model::Model::acme`]. The `acme` crate obtains and renews the certificates.
//!
//! One [`AcmeCertificate`] is produced per Ingress `spec.tls[]` entry of an Ingress with
//! `cert-manager.io/cluster-issuer`, `cert-manager.io/issuer` (or the `certmanager.k8s.io/`
//! spellings) or `kubernetes.io/tls-acme: "true"`, and per `Certificate` manifest whose
//! issuer is an ACME issuer. Problems carry `file:line`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::load::{Inventory, Origin};
use crate::model::Problem;
use crate::objects::Ingress;

/// Whether a document is a cert-manager object this module reads.
pub(crate) fn is_cert_manager(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    (api.starts_with("cert-manager.io/") || api.starts_with("certmanager.k8s.io/"))
        && matches!(kind, "Issuer" | "ClusterIssuer" | "Certificate")
}

/// `Issuer` (namespaced) or `ClusterIssuer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IssuerKind {
    /// A namespaced `Issuer`: only Ingresses / Certificates of its namespace may use it.
    Issuer,
    /// A cluster-wide `ClusterIssuer`.
    ClusterIssuer,
}

/// An ACME challenge solver of an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Solver {
    /// `http01` (served by the gateway's HTTP listener).
    Http01,
    /// `tlsAlpn01: {}` (a Portcullis extension; cert-manager has no such solver): served by
    /// the HTTPS listener with the `acme-tls/1` ALPN protocol.
    TlsAlpn01,
    /// A solver Portcullis cannot run (`dns01`, ...): named for the report.
    Unsupported(String),
}

/// `spec.acme.externalAccountBinding`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalAccountBinding {
    /// `keyID`.
    pub key_id: String,
    /// `keySecretRef.name` (a Secret in the manifests; key `keySecretRef.key`, default `secret`).
    pub key_secret: String,
    /// The HMAC key (base64url-decoded from the Secret) when the Secret was found.
    pub key: Option<Vec<u8>>,
}

/// An ACME `Issuer` / `ClusterIssuer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeIssuer {
    /// Issuer or ClusterIssuer.
    pub kind: IssuerKind,
    /// Namespace (empty for a ClusterIssuer).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.acme.server`: the ACME directory URL.
    pub server: String,
    /// `spec.acme.email`.
    pub email: Option<String>,
    /// `spec.acme.privateKeySecretRef.name`: where the account key is stored.
    pub private_key_secret: String,
    /// `spec.acme.solvers` in order.
    pub solvers: Vec<Solver>,
    /// `spec.acme.caBundle` (PEM, decoded from base64) to trust a private ACME server.
    pub ca_bundle: Option<Vec<u8>>,
    /// `spec.acme.skipTLSVerify`: the ACME server's TLS certificate is not verified.
    pub skip_tls_verify: bool,
    /// `spec.acme.enableDurationFeature`: send a certificate's `duration` as the order's
    /// `notAfter` (off by default, as in cert-manager: Let's Encrypt rejects it).
    pub enable_duration_feature: bool,
    /// `spec.acme.profile` (ACME profiles extension).
    pub profile: Option<String>,
    /// `spec.acme.externalAccountBinding`.
    pub external_account_binding: Option<ExternalAccountBinding>,
}

impl AcmeIssuer {
    /// `ClusterIssuer/name` or `Issuer/ns/name`, for logs and the `certs` listing.
    pub fn display_name(&self) -> String {
        match self.kind {
            IssuerKind::ClusterIssuer => format!("ClusterIssuer/{}", self.name),
            IssuerKind::Issuer => format!("Issuer/{}/{}", self.namespace, self.name),
        }
    }
}

/// Private key algorithm of an issued certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA with the given curve size (256 = P-256, the default; 384 = P-384).
    Ecdsa(u16),
    /// RSA with the given modulus size (default 2048).
    Rsa(u16),
    /// Ed25519.
    Ed25519,
}

impl Default for KeyAlgorithm {
    fn default() -> Self {
        Self::Ecdsa(256)
    }
}

/// One certificate Portcullis must obtain and keep renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeCertificate {
    /// Namespace of the target Secret.
    pub namespace: String,
    /// Target Secret name (`spec.tls[].secretName` / `spec.secretName`).
    pub secret_name: String,
    /// DNS names (SANs), in order, deduplicated.
    pub hosts: Vec<String>,
    /// `cert-manager.io/common-name` / `spec.commonName`.
    pub common_name: Option<String>,
    /// The issuer.
    pub issuer: Arc<AcmeIssuer>,
    /// Requested lifetime (`cert-manager.io/duration`), if any.
    pub duration: Option<Duration>,
    /// Renew this long before expiry (`cert-manager.io/renew-before`); default 1/3 of lifetime.
    pub renew_before: Option<Duration>,
    /// Key algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// `Ingress ns/name` or `Certificate ns/name` it came from.
    pub source: String,
}

/// The result of reading cert-manager objects.
#[derive(Debug, Default)]
pub(crate) struct Desired {
    pub certificates: Vec<AcmeCertificate>,
    /// `(namespace, secret)` pairs managed by ACME (a missing Secret is not a problem).
    pub secrets: BTreeSet<(String, String)>,
    pub problems: Vec<Problem>,
}

type Issuers = BTreeMap<(IssuerKind, String, String), Arc<AcmeIssuer>>;

/// Builds the desired certificates from the inventory's cert-manager documents and the
/// accepted Ingresses.
pub(crate) fn desired(inv: &Inventory, ingresses: &[&(Ingress, Origin)]) -> Desired {
    let mut out = Desired::default();
    let mut issuers: Issuers = BTreeMap::new();
    for (doc, origin) in &inv.cert_manager {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let ik = match kind {
            "Issuer" => IssuerKind::Issuer,
            "ClusterIssuer" => IssuerKind::ClusterIssuer,
            _ => continue,
        };
        match read_issuer(doc, ik, inv) {
            Ok(Some(i)) => {
                let key = (ik, i.namespace.clone(), i.name.clone());
                issuers.insert(key, Arc::new(i));
            }
            Ok(None) => {}
            Err(reason) => out
                .problems
                .push(origin.problem(origin.doc.line, format!("{kind}: {reason}; skipped"))),
        }
    }
    for (ing, origin) in ingresses {
        from_ingress(ing, origin, &issuers, &mut out);
    }
    for (doc, origin) in &inv.cert_manager {
        if doc.get("kind").and_then(Value::as_str) == Some("Certificate")
            && let Err(reason) = from_certificate(doc, &issuers, &mut out)
        {
            out.problems
                .push(origin.problem(origin.doc.line, format!("Certificate: {reason}; skipped")));
        }
    }
    // One order per Secret: the first definition wins.
    let mut seen = BTreeSet::new();
    out.certificates
        .retain(|c| seen.insert((c.namespace.clone(), c.secret_name.clone())));
    out
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn meta(doc: &Value) -> (String, String, BTreeMap<String, String>) {
    let m = doc.get("metadata").unwrap_or(&Value::Null);
    let ns = s(m, "namespace").unwrap_or("default").to_owned();
    let name = s(m, "name").unwrap_or("").to_owned();
    let ann = m
        .get("annotations")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    (ns, name, ann)
}

fn read_issuer(
    doc: &Value,
    kind: IssuerKind,
    inv: &Inventory,
) -> Result<Option<AcmeIssuer>, String> {
    let (ns, name, _) = meta(doc);
    if name.is_empty() {
        return Err("`metadata.name` is missing".into());
    }
    let Some(acme) = doc.get("spec").and_then(|s| s.get("acme")) else {
        // CA / self-signed / Vault issuers are not ACME: not ours.
        return Ok(None);
    };
    let server = s(acme, "server")
        .ok_or("`spec.acme.server` is missing")?
        .to_owned();
    if !(server.starts_with("https://") || server.starts_with("http://")) {
        return Err(format!(
            "`spec.acme.server` `{server}` is not an http(s) URL"
        ));
    }
    let private_key_secret = acme
        .get("privateKeySecretRef")
        .and_then(|r| s(r, "name"))
        .unwrap_or(&name)
        .to_owned();
    let mut solvers = Vec::new();
    for sv in acme
        .get("solvers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if sv.get("http01").is_some() {
            solvers.push(Solver::Http01);
        } else if sv.get("tlsAlpn01").is_some() || sv.get("tlsalpn01").is_some() {
            solvers.push(Solver::TlsAlpn01);
        } else if let Some(obj) = sv.as_object() {
            let kinds: Vec<&str> = obj
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "selector")
                .collect();
            solvers.push(Solver::Unsupported(kinds.join(",")));
        }
    }
    if solvers.is_empty() {
        // Legacy v1alpha1 issuers set `http01: {}` directly under `acme`.
        solvers.push(Solver::Http01);
    }
    let ca_bundle = match s(acme, "caBundle") {
        None => None,
        Some(b) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|e| format!("`spec.acme.caBundle` is not base64: {e}"))?,
        ),
    };
    let external_account_binding = match acme.get("externalAccountBinding") {
        None => None,
        Some(eab) => {
            let key_id = s(eab, "keyID").ok_or("`externalAccountBinding.keyID` is missing")?;
            let sref = eab.get("keySecretRef").unwrap_or(&Value::Null);
            let key_secret = s(sref, "name")
                .ok_or("`externalAccountBinding.keySecretRef.name` is missing")?
                .to_owned();
            let field = s(sref, "key").unwrap_or("secret");
            let secret_ns = if kind == IssuerKind::Issuer {
                ns.clone()
            } else {
                "cert-manager".to_owned()
            };
            let key = [secret_ns.as_str(), ns.as_str(), "default"]
                .iter()
                .find_map(|n| inv.secrets.get(&((*n).to_owned(), key_secret.clone())))
                .and_then(|(sec, _)| sec.data.get(field))
                .and_then(|raw| {
                    let txt = String::from_utf8_lossy(raw);
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(txt.trim().trim_end_matches('='))
                        .ok()
                });
            Some(ExternalAccountBinding {
                key_id: key_id.to_owned(),
                key_secret,
                key,
            })
        }
    };
    Ok(Some(AcmeIssuer {
        kind,
        namespace: if kind == IssuerKind::Issuer {
            ns
        } else {
            String::new()
        },
        name,
        server,
        email: s(acme, "email").map(str::to_owned),
        private_key_secret,
        solvers,
        ca_bundle,
        skip_tls_verify: acme.get("skipTLSVerify").and_then(Value::as_bool) == Some(true),
        enable_duration_feature: acme.get("enableDurationFeature").and_then(Value::as_bool)
            == Some(true),
        profile: s(acme, "profile").map(str::to_owned),
        external_account_binding,
    }))
}

/// Finds an issuer by reference; `Err` is the problem text.
fn lookup(
    issuers: &Issuers,
    kind: IssuerKind,
    ns: &str,
    name: &str,
) -> Result<Arc<AcmeIssuer>, String> {
    let key_ns = if kind == IssuerKind::Issuer { ns } else { "" };
    issuers
        .get(&(kind, key_ns.to_owned(), name.to_owned()))
        .cloned()
        .ok_or_else(|| match kind {
            IssuerKind::ClusterIssuer => format!("ACME ClusterIssuer `{name}` not found"),
            IssuerKind::Issuer => format!("ACME Issuer `{name}` not found in namespace `{ns}`"),
        })
}

fn from_ingress(ing: &Ingress, origin: &Origin, issuers: &Issuers, out: &mut Desired) {
    let ann = &ing.meta.annotations;
    let get = |k: &str| {
        ann.get(&format!("cert-manager.io/{k}"))
            .or_else(|| ann.get(&format!("certmanager.k8s.io/{k}")))
            .map(String::as_str)
    };
    let (ns, name) = (&ing.meta.namespace, &ing.meta.name);
    let line = |needle: &str| origin.doc.line_with(&[needle]);
    let issuer = if let Some(n) = get("cluster-issuer") {
        lookup(issuers, IssuerKind::ClusterIssuer, ns, n).map_err(|e| (e, line("cluster-issuer")))
    } else if let Some(n) = get("issuer") {
        let kind = match get("issuer-kind") {
            Some("ClusterIssuer") => IssuerKind::ClusterIssuer,
            _ => IssuerKind::Issuer,
        };
        lookup(issuers, kind, ns, n).map_err(|e| (e, line("issuer")))
    } else if ann
        .get("kubernetes.io/tls-acme")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        // ingress-shim uses its configured default issuer; Portcullis uses the only
        // ClusterIssuer, or the one named `default`.
        let cluster: Vec<&Arc<AcmeIssuer>> = issuers
            .iter()
            .filter(|((k, _, _), _)| *k == IssuerKind::ClusterIssuer)
            .map(|(_, v)| v)
            .collect();
        match cluster.as_slice() {
            [one] => Ok(Arc::clone(one)),
            _ => lookup(issuers, IssuerKind::ClusterIssuer, ns, "default").map_err(|_| {
                (
                    "`kubernetes.io/tls-acme` needs exactly one ACME ClusterIssuer (or one named `default`)"
                        .to_owned(),
                    line("tls-acme"),
                )
            }),
        }
    } else {
        return;
    };
    let issuer = match issuer {
        Ok(i) => i,
        Err((reason, l)) => {
            out.problems
                .push(origin.problem(l, format!("Ingress {ns}/{name}: {reason}")));
            return;
        }
    };
    let mut opts = CertOptions::default();
    if let Err((reason, key)) = opts.read(&get) {
        out.problems.push(origin.problem(
            line(key),
            format!("Ingress {ns}/{name}: {reason}; the default is used"),
        ));
    }
    for tls in &ing.tls {
        let Some(secret) = &tls.secret_name else {
            out.problems.push(origin.problem(
                origin.doc.line_with(&["tls"]),
                format!("Ingress {ns}/{name}: a `spec.tls` entry without `secretName` gets no ACME certificate"),
            ));
            continue;
        };
        let hosts = dedup(tls.hosts.iter().map(|h| h.to_ascii_lowercase()));
        if hosts.is_empty() {
            continue;
        }
        out.secrets.insert((ns.clone(), secret.clone()));
        out.certificates.push(AcmeCertificate {
            namespace: ns.clone(),
            secret_name: secret.clone(),
            hosts,
            common_name: opts.common_name.clone(),
            issuer: Arc::clone(&issuer),
            duration: opts.duration,
            renew_before: opts.renew_before,
            key_algorithm: opts.key_algorithm,
            source: format!("Ingress {ns}/{name}"),
        });
    }
}

fn dedup(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    it.filter(|h| seen.insert(h.clone())).collect()
}

#[derive(Debug, Default)]
struct CertOptions {
    common_name: Option<String>,
    duration: Option<Duration>,
    renew_before: Option<Duration>,
    key_algorithm: KeyAlgorithm,
}

impl CertOptions {
    /// Reads the per-certificate annotations; the first bad one is reported.
    fn read<'a>(
        &mut self,
        get: &dyn Fn(&str) -> Option<&'a str>,
    ) -> Result<(), (String, &'static str)> {
        let mut first_err = None;
        self.common_name = get("common-name").map(str::to_owned);
        for (key, slot) in [
            ("duration", &mut self.duration),
            ("renew-before", &mut self.renew_before),
        ] {
            if let Some(v) = get(key) {
                match parse_go_duration(v) {
                    Some(d) => *slot = Some(d),
                    None => {
                        first_err.get_or_insert((format!("`{key}: {v}` is not a duration"), key));
                    }
                }
            }
        }
        let alg = get("private-key-algorithm");
        let size = get("private-key-size");
        match key_algorithm(alg, size) {
            Ok(a) => self.key_algorithm = a,
            Err(e) => {
                first_err.get_or_insert((e, "private-key"));
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// `RSA` / `ECDSA` / `Ed25519` with an optional size, cert-manager's defaults otherwise.
fn key_algorithm(alg: Option<&str>, size: Option<&str>) -> Result<KeyAlgorithm, String> {
    let size: Option<u16> = match size {
        None => None,
        Some(v) => Some(
            v.trim()
                .parse()
                .map_err(|_| format!("private key size `{v}` is not a number"))?,
        ),
    };
    match alg.map(str::to_ascii_lowercase).as_deref() {
        None | Some("ecdsa") => match size.unwrap_or(256) {
            s @ (256 | 384) => Ok(KeyAlgorithm::Ecdsa(s)),
            s => Err(format!("ECDSA key size {s} is not supported (256 or 384)")),
        },
        Some("rsa") => match size.unwrap_or(2048) {
            s @ (2048 | 3072 | 4096) => Ok(KeyAlgorithm::Rsa(s)),
            s => Err(format!(
                "RSA key size {s} is not supported (2048, 3072, 4096)"
            )),
        },
        Some("ed25519") => Ok(KeyAlgorithm::Ed25519),
        Some(other) => Err(format!("private key algorithm `{other}` is not supported")),
    }
}

fn from_certificate(doc: &Value, issuers: &Issuers, out: &mut Desired) -> Result<(), String> {
    let (ns, name, _) = meta(doc);
    let spec = doc.get("spec").ok_or("`spec` is missing")?;
    let secret = s(spec, "secretName").ok_or("`spec.secretName` is missing")?;
    let iref = spec.get("issuerRef").ok_or("`spec.issuerRef` is missing")?;
    let iname = s(iref, "name").ok_or("`spec.issuerRef.name` is missing")?;
    let kind = match s(iref, "kind") {
        Some("ClusterIssuer") => IssuerKind::ClusterIssuer,
        _ => IssuerKind::Issuer,
    };
    let issuer = lookup(issuers, kind, &ns, iname)?;
    let mut hosts: Vec<String> = spec
        .get("dnsNames")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let common_name = s(spec, "commonName").map(str::to_owned);
    if let Some(cn) = &common_name {
        hosts.insert(0, cn.to_ascii_lowercase());
    }
    let hosts = dedup(hosts.into_iter());
    if hosts.is_empty() {
        return Err("no `dnsNames`".into());
    }
    let dur = |k: &str| -> Result<Option<Duration>, String> {
        s(spec, k)
            .map(|v| parse_go_duration(v).ok_or(format!("`{k}: {v}` is not a duration")))
            .transpose()
    };
    let pk = spec.get("privateKey").unwrap_or(&Value::Null);
    let size = pk.get("size").map(|v| match v {
        Value::Number(n) => n.to_string(),
        other => other.as_str().unwrap_or("").to_owned(),
    });
    out.secrets.insert((ns.clone(), secret.to_owned()));
    out.certificates.push(AcmeCertificate {
        namespace: ns.clone(),
        secret_name: secret.to_owned(),
        hosts,
        common_name,
        issuer,
        duration: dur("duration")?,
        renew_before: dur("renewBefore")?,
        key_algorithm: key_algorithm(s(pk, "algorithm"), size.as_deref())?,
        source: format!("Certificate {ns}/{name}"),
    });
    Ok(())
}

/// Parses a Go duration (`2160h`, `720h0m0s`, `1h30m`, `90s`, `1.5h`).
pub fn parse_go_duration(v: &str) -> Option<Duration> {
    let mut rest = v.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        let n: f64 = num.parse().ok()?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let mult = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += n * mult;
        rest = tail;
    }
    (total.is_finite() && (0.0..1e12).contains(&total)).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ISSUER: &str = r#"
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-prod
spec:
  acme:
    server: https://acme.example/dir
    email: ops@example.com
    privateKeySecretRef:
      name: le-account
    caBundle: LS0tLQ==
    profile: shortlived
    enableDurationFeature: true
    solvers:
    - http01:
        ingress:
          ingressClassName: nginx
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: local
  namespace: shop
spec:
  acme:
    server: https://acme.example/dir
    solvers:
    - tlsAlpn01: {}
    - dns01: {}
"#;

    fn ingress(ann: &str) -> String {
        format!(
            r#"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
{ann}
spec:
  ingressClassName: nginx
  tls:
  - hosts: [A.example.com, b.example.com]
    secretName: web-tls
  - hosts: [c.example.com]
    secretName: c-tls
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: svc
            port:
              number: 80
"#
        )
    }

    fn load(text: &str) -> crate::model::Model {
        crate::load_str("m.yaml", text, &crate::LoadOptions::default())
    }

    #[test]
    fn cluster_issuer_annotation_gives_one_cert_per_tls_entry() {
        let m = load(&format!(
            "{ISSUER}{}",
            ingress(
                "    cert-manager.io/cluster-issuer: letsencrypt-prod\n    cert-manager.io/renew-before: 720h\n    cert-manager.io/private-key-algorithm: RSA\n    cert-manager.io/private-key-size: \"4096\""
            )
        ));
        assert_eq!(m.acme.len(), 2, "{:?}", m.problems);
        let c = &m.acme[0];
        assert_eq!(c.hosts, ["a.example.com", "b.example.com"]);
        assert_eq!(c.secret_name, "web-tls");
        assert_eq!(c.issuer.server, "https://acme.example/dir");
        assert_eq!(c.issuer.private_key_secret, "le-account");
        assert_eq!(c.issuer.ca_bundle.as_deref(), Some(&b"----"[..]));
        assert_eq!(c.issuer.profile.as_deref(), Some("shortlived"));
        assert!(c.issuer.enable_duration_feature);
        assert!(!c.issuer.skip_tls_verify);
        assert_eq!(c.issuer.solvers, [Solver::Http01]);
        assert_eq!(c.renew_before, Some(Duration::from_secs(720 * 3600)));
        assert_eq!(c.key_algorithm, KeyAlgorithm::Rsa(4096));
        // The ACME-managed Secret does not exist yet: not a problem.
        assert!(
            !m.problems.iter().any(|p| p.reason.contains("web-tls")),
            "{:?}",
            m.problems
        );
    }

    #[test]
    fn legacy_and_namespaced_issuer() {
        let m = load(&format!(
            "{ISSUER}{}",
            ingress("    certmanager.k8s.io/issuer: local")
        ));
        assert_eq!(m.acme.len(), 2);
        assert_eq!(
            m.acme[0].issuer.solvers,
            [Solver::TlsAlpn01, Solver::Unsupported("dns01".into())]
        );
        assert_eq!(m.acme[0].issuer.display_name(), "Issuer/shop/local");
        assert!(!m.acme[0].issuer.enable_duration_feature);
    }

    #[test]
    fn tls_acme_uses_the_only_cluster_issuer_and_unknown_issuer_is_a_problem() {
        let m = load(&format!(
            "{ISSUER}{}",
            ingress("    kubernetes.io/tls-acme: \"true\"")
        ));
        assert_eq!(m.acme.len(), 2);
        assert_eq!(m.acme[0].issuer.name, "letsencrypt-prod");
        let m = load(&format!(
            "{ISSUER}{}",
            ingress("    cert-manager.io/cluster-issuer: nope")
        ));
        assert!(m.acme.is_empty());
        assert!(
            m.problems
                .iter()
                .any(|p| p.reason.contains("`nope` not found") && p.line > 0),
            "{:?}",
            m.problems
        );
    }

    #[test]
    fn certificate_manifest() {
        let m = load(&format!(
            "{ISSUER}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  secretName: api-tls\n  commonName: api.example.com\n  dnsNames: [api.example.com, www.example.com]\n  duration: 2160h\n  issuerRef:\n    name: letsencrypt-prod\n    kind: ClusterIssuer\n  privateKey:\n    algorithm: ECDSA\n    size: 384\n"
        ));
        assert_eq!(m.acme.len(), 1, "{:?}", m.problems);
        let c = &m.acme[0];
        assert_eq!(c.hosts, ["api.example.com", "www.example.com"]);
        assert_eq!(c.duration, Some(Duration::from_secs(2160 * 3600)));
        assert_eq!(c.key_algorithm, KeyAlgorithm::Ecdsa(384));
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(
            parse_go_duration("720h0m0s"),
            Some(Duration::from_secs(2_592_000))
        );
        assert_eq!(parse_go_duration("90"), None);
        assert_eq!(parse_go_duration("x"), None);
    }
}
