//! Reading a folder of manifests into documents and typed objects.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::{GlobalSettings, Problem};
use crate::objects::{EndpointSet, Ingress, IngressClass, Object, Secret, Service, read_object};
use crate::yaml::{Document, parse_document, split_documents};

/// Options for [`crate::load_dir`] (the `serve`/`check` flags that affect the model).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--ingress-class` (default `nginx`).
    pub ingress_class: String,
    /// `--annotations-prefix` (default `nginx.ingress.kubernetes.io`).
    pub annotations_prefix: String,
    /// Global settings copied into [`crate::model::Model::global`].
    pub global: GlobalSettings,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            ingress_class: "nginx".into(),
            annotations_prefix: "nginx.ingress.kubernetes.io".into(),
            global: GlobalSettings::default(),
        }
    }
}

/// The only fatal error: the manifests folder itself cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The folder (or file) given does not exist or cannot be listed.
    #[error("cannot read manifests at {}: {source}", path.display())]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where an object came from.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub file: String,
    pub doc: Document,
}

impl Origin {
    pub(crate) fn problem(&self, line: u32, reason: impl Into<String>) -> Problem {
        Problem {
            file: self.file.clone(),
            line,
            reason: reason.into(),
        }
    }
}

/// All objects of a folder, indexed.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    pub ingresses: Vec<(Ingress, Origin)>,
    /// (namespace, name) -> position in `ingresses`.
    ingress_index: HashMap<(String, String), usize>,
    pub services: HashMap<(String, String), (Service, Origin)>,
    pub endpoints: HashMap<(String, String), Vec<EndpointSet>>,
    pub secrets: HashMap<(String, String), (Secret, Origin)>,
    pub classes: BTreeMap<String, IngressClass>,
    pub problems: Vec<Problem>,
    /// cert-manager `Issuer` / `ClusterIssuer` / `Certificate` documents (issue #5).
    pub cert_manager: Vec<(Value, Origin)>,
}

const MAX_DEPTH: usize = 32;

/// Manifest files larger than this are reported and skipped.
const MAX_FILE_BYTES: u64 = 32 << 20;

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Lists manifest files under `dir`, recursively and sorted (hidden entries skipped).
pub(crate) fn list_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<Problem>), LoadError> {
    let meta = std::fs::metadata(dir).map_err(|source| LoadError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok((vec![dir.to_path_buf()], Vec::new()));
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let root = std::fs::read_dir(dir).map_err(|source| LoadError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })?;
    walk(root, 0, &mut files, &mut problems);
    files.sort();
    Ok((files, problems))
}

fn walk(
    entries: std::fs::ReadDir,
    depth: usize,
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            if depth >= MAX_DEPTH {
                problems.push(Problem {
                    file: path.display().to_string(),
                    line: 0,
                    reason: format!("folder nesting deeper than {MAX_DEPTH}; skipped"),
                });
                continue;
            }
            match std::fs::read_dir(&path) {
                Ok(sub) => walk(sub, depth + 1, files, problems),
                Err(e) => problems.push(Problem {
                    file: path.display().to_string(),
                    line: 0,
                    reason: format!("cannot read folder: {e}"),
                }),
            }
        } else if is_manifest(&path) {
            files.push(path);
        }
    }
}

impl Inventory {
    /// Reads every file; broken documents become problems.
    pub(crate) fn read(files: &[PathBuf]) -> Self {
        let mut inv = Self::default();
        for path in files {
            let file = path.display().to_string();
            let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE_BYTES);
            if too_big {
                inv.problems.push(Problem {
                    file,
                    line: 0,
                    reason: format!("file larger than {} MiB; skipped", MAX_FILE_BYTES >> 20),
                });
                continue;
            }
            match std::fs::read(path) {
                Err(e) => inv.problems.push(Problem {
                    file,
                    line: 0,
                    reason: format!("cannot read file: {e}"),
                }),
                Ok(bytes) => match String::from_utf8(bytes) {
                    Err(_) => inv.problems.push(Problem {
                        file,
                        line: 0,
                        reason: "file is not UTF-8".into(),
                    }),
                    Ok(text) => inv.read_text(&file, &text),
                },
            }
        }
        inv
    }

    /// Reads the documents of one file.
    pub(crate) fn read_text(&mut self, file: &str, text: &str) {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for doc in split_documents(text) {
            let origin = Origin {
                file: file.to_owned(),
                doc,
            };
            match parse_document(&origin.doc) {
                Err((line, reason)) => self.problems.push(origin.problem(line, reason)),
                Ok(Value::Null) => {}
                Ok(value) => self.add_value(&value, &origin),
            }
        }
    }

    fn add_value(&mut self, value: &Value, origin: &Origin) {
        // `kind: List` (as `kubectl get -o yaml` writes) holds objects in `items`.
        if value.get("kind").and_then(Value::as_str) == Some("List") {
            if let Some(items) = value.get("items").and_then(Value::as_array) {
                for item in items {
                    self.add_value(item, origin);
                }
            }
            return;
        }
        if crate::certmanager::is_cert_manager(value) {
            self.cert_manager.push((value.clone(), origin.clone()));
            return;
        }
        match read_object(value) {
            Err(reason) => {
                let what = value
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("document");
                self.problems
                    .push(origin.problem(origin.doc.line, format!("{what}: {reason}; skipped")));
            }
            Ok(None) => {
                let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
                tracing::debug!(file = %origin.file, line = origin.doc.line, kind, "ignoring unsupported kind");
            }
            Ok(Some(obj)) => self.add_object(obj, origin),
        }
    }

    fn duplicate(&mut self, origin: &Origin, what: &str, first: &Origin) {
        self.problems.push(origin.problem(
            origin.doc.line,
            format!(
                "duplicate {what} (first defined at {}:{}); ignored",
                first.file, first.doc.line
            ),
        ));
    }

    fn add_object(&mut self, obj: Object, origin: &Origin) {
        match obj {
            Object::Ingress(i) => {
                let key = (i.meta.namespace.clone(), i.meta.name.clone());
                if let Some(&pos) = self.ingress_index.get(&key) {
                    let first = self.ingresses[pos].1.clone();
                    self.duplicate(origin, &format!("Ingress {}/{}", key.0, key.1), &first);
                } else {
                    self.ingress_index.insert(key, self.ingresses.len());
                    self.ingresses.push((i, origin.clone()));
                }
            }
            Object::Service(s) => {
                let key = (s.meta.namespace.clone(), s.meta.name.clone());
                if let Some((_, first)) = self.services.get(&key) {
                    let first = first.clone();
                    self.duplicate(origin, &format!("Service {}/{}", key.0, key.1), &first);
                } else {
                    self.services.insert(key, (s, origin.clone()));
                }
            }
            Object::Endpoints {
                namespace,
                service,
                sets,
            } => self
                .endpoints
                .entry((namespace, service))
                .or_default()
                .extend(sets),
            Object::Secret(s) => {
                let key = (s.meta.namespace.clone(), s.meta.name.clone());
                if let Some((_, first)) = self.secrets.get(&key) {
                    let first = first.clone();
                    self.duplicate(origin, &format!("Secret {}/{}", key.0, key.1), &first);
                } else {
                    self.secrets.insert(key, (s, origin.clone()));
                }
            }
            Object::IngressClass(c) => {
                self.classes.entry(c.name.clone()).or_insert(c);
            }
        }
    }
}
