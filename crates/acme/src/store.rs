//! On-disk state under `--state-dir`: issued certificates as `kubernetes.io/tls` Secret YAML
//! (with cert-manager's annotations), ACME account keys as Opaque Secret YAML, and a status
//! file for `portcullis certs`.
//!
//! Layout:
//! - `certificates/<namespace>/<secretName>.yaml`
//! - `accounts/<issuer-kind>-<namespace>-<privateKeySecretRef>.yaml`
//! - `acme-status.json`
//! - `locks/<namespace>/<secretName>.lock` (advisory locks, see `lock.rs`)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::AcmeError;

/// A Secret document read back: annotations and data (decoded).
#[derive(Debug, Default, Clone)]
pub struct SecretFile {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `type`.
    pub type_: String,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `data`, base64-decoded.
    pub data: BTreeMap<String, Vec<u8>>,
}

fn yaml_str(v: &str) -> String {
    // JSON strings are valid YAML double-quoted scalars.
    serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into())
}

impl SecretFile {
    /// Renders the Secret as YAML (one document).
    pub fn to_yaml(&self) -> String {
        let mut out = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n");
        out.push_str(&format!("  name: {}\n", yaml_str(&self.name)));
        out.push_str(&format!("  namespace: {}\n", yaml_str(&self.namespace)));
        if !self.annotations.is_empty() {
            out.push_str("  annotations:\n");
            for (k, v) in &self.annotations {
                out.push_str(&format!("    {}: {}\n", yaml_str(k), yaml_str(v)));
            }
        }
        out.push_str(&format!("type: {}\ndata:\n", yaml_str(&self.type_)));
        for (k, v) in &self.data {
            out.push_str(&format!("  {}: {}\n", yaml_str(k), B64.encode(v)));
        }
        out
    }

    /// Reads a Secret written by [`SecretFile::to_yaml`] (a small line parser for that
    /// exact layout; other YAML is rejected).
    pub fn from_yaml(text: &str) -> Option<Self> {
        let mut s = Self::default();
        let mut section = "";
        let unq = |v: &str| -> Option<String> {
            let v = v.trim();
            if v.starts_with('"') {
                serde_json::from_str::<String>(v).ok()
            } else {
                Some(v.to_owned())
            }
        };
        let split = |l: &str| -> Option<(String, String)> {
            let l = l.trim();
            if l.starts_with('"') {
                // "key": value
                let end = l.get(1..)?.find("\":")? + 1;
                let k = serde_json::from_str::<String>(l.get(..=end)?).ok()?;
                Some((k, unq(l.get(end + 2..)?)?))
            } else {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_owned(), unq(v)?))
            }
        };
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            match indent {
                0 => {
                    let (k, v) = split(line)?;
                    section = match k.as_str() {
                        "metadata" => "metadata",
                        "data" => "data",
                        "type" => {
                            s.type_ = v;
                            ""
                        }
                        _ => "",
                    };
                }
                2 => {
                    let (k, v) = split(line)?;
                    if section == "annotations" {
                        section = "metadata";
                    }
                    match (section, k.as_str()) {
                        ("metadata", "name") => s.name = v,
                        ("metadata", "namespace") => s.namespace = v,
                        ("metadata", "annotations") => section = "annotations",
                        ("data", _) => {
                            s.data.insert(k, B64.decode(v.trim()).ok()?);
                        }
                        _ => {}
                    }
                }
                4 if section == "annotations" => {
                    let (k, v) = split(line)?;
                    s.annotations.insert(k, v);
                }
                _ => {}
            }
        }
        Some(s)
    }
}

/// Status of one managed certificate, written after every manager pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertStatus {
    /// Namespace of the Secret.
    pub namespace: String,
    /// Secret name.
    pub secret_name: String,
    /// DNS names.
    pub hosts: Vec<String>,
    /// `ClusterIssuer/name` or `Issuer/ns/name`.
    pub issuer: String,
    /// Leaf `notAfter`, Unix seconds (none before the first issuance).
    pub not_after: Option<i64>,
    /// When renewal starts, Unix seconds.
    pub renewal_time: Option<i64>,
    /// The last error (cleared on success).
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// Next attempt after a failure, Unix seconds.
    pub next_attempt: Option<i64>,
    /// Orders placed by this process for it.
    pub orders: u32,
    /// Start of the ACME Renewal Information window, Unix seconds (when the CA offers ARI).
    #[serde(default)]
    pub ari_window_start: Option<i64>,
    /// End of the ACME Renewal Information window, Unix seconds.
    #[serde(default)]
    pub ari_window_end: Option<i64>,
}

/// The state folder.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

fn safe(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_owned()
}

impl Store {
    /// A store rooted at `dir` (created on first write).
    pub fn new(dir: &Path) -> Self {
        Self {
            root: dir.to_path_buf(),
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a certificate Secret.
    pub fn certificate_path(&self, namespace: &str, secret: &str) -> PathBuf {
        self.root
            .join("certificates")
            .join(safe(namespace))
            .join(format!("{}.yaml", safe(secret)))
    }

    /// Path of a certificate's lock file (see `lock.rs`).
    pub fn lock_path(&self, namespace: &str, secret: &str) -> PathBuf {
        self.root
            .join("locks")
            .join(safe(namespace))
            .join(format!("{}.lock", safe(secret)))
    }

    /// Path of an account Secret.
    pub fn account_path(&self, issuer_id: &str) -> PathBuf {
        self.root
            .join("accounts")
            .join(format!("{}.yaml", safe(issuer_id)))
    }

    /// Writes a file atomically (temporary file + rename), mode 0600 on Unix.
    pub fn write(&self, path: &Path, text: &str) -> Result<(), AcmeError> {
        let io = |e: std::io::Error| AcmeError::Store(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a Secret file; `None` when missing or unreadable.
    pub fn read_secret(&self, path: &Path) -> Option<SecretFile> {
        let text = std::fs::read_to_string(path).ok()?;
        SecretFile::from_yaml(&text)
    }

    /// Every stored certificate Secret.
    pub fn certificates(&self) -> Vec<SecretFile> {
        let mut out = Vec::new();
        let Ok(namespaces) = std::fs::read_dir(self.root.join("certificates")) else {
            return out;
        };
        for ns in namespaces.flatten() {
            let Ok(files) = std::fs::read_dir(ns.path()) else {
                continue;
            };
            for f in files.flatten() {
                let p = f.path();
                if p.extension().and_then(|e| e.to_str()) == Some("yaml")
                    && let Some(s) = self.read_secret(&p)
                {
                    out.push(s);
                }
            }
        }
        out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        out
    }

    /// Writes the status file.
    pub fn write_status(&self, status: &[CertStatus]) -> Result<(), AcmeError> {
        let text = serde_json::to_string_pretty(status)
            .map_err(|e| AcmeError::Store(format!("status: {e}")))?;
        self.write(&self.root.join("acme-status.json"), &text)
    }

    /// Reads the status file (empty when missing).
    pub fn read_status(&self) -> Vec<CertStatus> {
        std::fs::read_to_string(self.root.join("acme-status.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secret_round_trip() {
        let mut s = SecretFile {
            namespace: "shop".into(),
            name: "web-tls".into(),
            type_: "kubernetes.io/tls".into(),
            ..SecretFile::default()
        };
        s.annotations
            .insert("cert-manager.io/alt-names".into(), "a.example.com,b".into());
        s.annotations
            .insert("cert-manager.io/issuer-name".into(), "le \"x\"".into());
        s.data
            .insert("tls.crt".into(), b"-----BEGIN\nabc\n".to_vec());
        s.data.insert("tls.key".into(), vec![0, 1, 2, 255]);
        let back = SecretFile::from_yaml(&s.to_yaml()).unwrap();
        assert_eq!(back.namespace, "shop");
        assert_eq!(back.name, "web-tls");
        assert_eq!(back.type_, "kubernetes.io/tls");
        assert_eq!(back.annotations, s.annotations);
        assert_eq!(back.data, s.data);
    }

    #[test]
    fn paths_are_sanitized() {
        let st = Store::new(Path::new("/state"));
        assert_eq!(
            st.certificate_path("../x", "a/b"),
            Path::new("/state/certificates/_x/a_b.yaml")
        );
    }
}
