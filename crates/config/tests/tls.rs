#![allow(clippy::unwrap_used, clippy::expect_used)]
//! TLS Secrets: every key encoding, chains, `stringData`, SNI selection, broken secrets.
//! Keys and certificates are generated here with rcgen, never committed.

use base64::Engine as _;
use config::model::Model;
use config::{LoadOptions, load_dir};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls_pki_types::PrivateKeyDer;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn secret(name: &str, crt: &str, key: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: web}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b64(crt),
        b64(key)
    )
}

fn ingress(name: &str, secret: &str, hosts: &[&str]) -> String {
    let list = hosts
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let rules: String = hosts
        .iter()
        .map(|h| format!("  - host: \"{h}\"\n    http:\n      paths:\n      - {{path: /, pathType: Prefix, backend: {{service: {{name: s, port: {{number: 80}}}}}}}}\n"))
        .collect();
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, namespace: web}}\nspec:\n  tls:\n  - hosts: [{list}]\n    secretName: {secret}\n  rules:\n{rules}"
    )
}

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: web}\nspec:\n  ports: [{port: 80}]\n  clusterIP: 127.0.0.1\n";

fn load(docs: &[String]) -> Model {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![SERVICE.to_owned()];
    all.extend(docs.iter().cloned());
    std::fs::write(dir.path().join("all.yaml"), all.join("---\n")).unwrap();
    load_dir(dir.path(), &LoadOptions::default()).unwrap()
}

/// Minimal DER reader: returns (tag, content, rest).
fn der(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let (len, hdr) = if input[1] < 0x80 {
        (input[1] as usize, 2)
    } else {
        let n = (input[1] & 0x7f) as usize;
        let mut len = 0usize;
        for b in &input[2..2 + n] {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    (tag, &input[hdr..hdr + len], &input[hdr + len..])
}

/// PKCS#8 (from rcgen) -> the inner SEC1 `ECPrivateKey`, as PEM.
fn pkcs8_to_sec1_pem(pkcs8_der: &[u8]) -> String {
    let (_, seq, _) = der(pkcs8_der);
    let (_, _version, rest) = der(seq);
    let (_, _alg, rest) = der(rest);
    let (tag, inner, _) = der(rest);
    assert_eq!(tag, 0x04, "OCTET STRING");
    pem("EC PRIVATE KEY", inner)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn self_signed(hosts: &[&str]) -> (String, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key)
}

#[test]
fn pkcs8_and_sec1_keys_and_sni() {
    let (crt8, key8) = self_signed(&["a.example.com"]);
    let (crt1, key1) = self_signed(&["*.wild.example.com"]);
    let sec1 = pkcs8_to_sec1_pem(&key1.serialize_der());
    let m = load(&[
        secret("pk8", &crt8, &key8.serialize_pem()),
        secret("sec1", &crt1, &sec1),
        ingress("a", "pk8", &["a.example.com"]),
        ingress("w", "sec1", &["*.wild.example.com"]),
    ]);
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(m.certificates.len(), 2);
    let a = m.certificate_for("A.example.com").unwrap();
    assert_eq!(a.secret.name, "pk8");
    assert!(matches!(a.key, PrivateKeyDer::Pkcs8(_)));
    let w = m.certificate_for("x.wild.example.com").unwrap();
    assert_eq!(w.secret.name, "sec1");
    assert!(matches!(w.key, PrivateKeyDer::Sec1(_)));
    assert!(m.certificate_for("x.y.wild.example.com").is_none());
    assert!(m.certificate_for("other.example.com").is_none());
    assert!(m.host_has_tls("a.example.com"));
    assert!(m.host_has_tls("q.wild.example.com"));
}

#[test]
fn chain_and_string_data_and_shared_secret() {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["b.example.com".to_owned(), "c.example.com".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let chain = format!("{}{}", leaf.pem(), ca.pem());
    let string_data = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: chain, namespace: web}}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n{}  tls.key: |\n{}",
        indent(&chain),
        indent(&leaf_key.serialize_pem())
    );
    let m = load(&[
        string_data,
        ingress("b", "chain", &["b.example.com"]),
        ingress("c", "chain", &["c.example.com"]),
    ]);
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    assert_eq!(m.certificates.len(), 1, "one Secret, one certificate");
    let c = m.certificate_for("c.example.com").unwrap();
    assert_eq!(c.chain.len(), 2);
    assert_eq!(c.chain[0].as_ref(), leaf.der().as_ref(), "leaf first");
    assert_eq!(
        c.hosts,
        vec!["b.example.com".to_owned(), "c.example.com".to_owned()]
    );
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

#[test]
fn pkcs1_rsa_key() {
    // ring (rcgen's backend here) cannot generate RSA keys; use the openssl tool when present.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let crt = dir.path().join("c.pem");
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=rsa.example.com",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .is_ok_and(|o| o.status.success());
    let rsa = dir.path().join("rsa.pem");
    let ok = ok
        && std::process::Command::new("openssl")
            .args(["rsa", "-traditional", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&rsa)
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not available; PKCS#1 test skipped");
        return;
    }
    let key_pem = std::fs::read_to_string(&rsa).unwrap();
    assert!(key_pem.contains("BEGIN RSA PRIVATE KEY"));
    let m = load(&[
        secret("rsa", &std::fs::read_to_string(&crt).unwrap(), &key_pem),
        ingress("r", "rsa", &["rsa.example.com"]),
    ]);
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    let c = m.certificate_for("rsa.example.com").unwrap();
    assert!(matches!(c.key, PrivateKeyDer::Pkcs1(_)));
}

#[test]
fn broken_secrets_are_reported() {
    let (crt, key) = self_signed(&["x.example.com"]);
    let wrong_type = "apiVersion: v1\nkind: Secret\nmetadata: {name: opaque, namespace: web}\ntype: Opaque\nstringData: {a: b}\n".to_string();
    let m = load(&[
        secret("nokey", &crt, "not a key"),
        secret("nocert", "garbage", &key.serialize_pem()),
        wrong_type,
        ingress("x1", "nokey", &["x1.example.com"]),
        ingress("x2", "nocert", &["x2.example.com"]),
        ingress("x3", "opaque", &["x3.example.com"]),
        ingress("x4", "absent", &["x4.example.com"]),
    ]);
    let reasons: Vec<String> = m.problems.iter().map(|p| p.reason.clone()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("tls.key")));
    assert!(reasons.iter().any(|r| r.contains("tls.crt")));
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("expected `kubernetes.io/tls`"))
    );
    assert!(reasons.iter().any(|r| r.contains("web/absent not found")));
    assert!(m.certificates.is_empty());
    // Hosts still have TLS (served with the default certificate) and still route.
    assert!(m.host_has_tls("x4.example.com"));
    assert!(m.route("x1.example.com", "/").is_some());
}
