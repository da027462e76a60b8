//! File access for `Include` and data files, injected by the caller so the parser and the
//! engine do no I/O of their own.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Reads rule and data files.
pub trait FileLoader: Send + Sync {
    /// The whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Files matching a glob pattern whose last components may contain `*` and `?`
    /// (as `Include /etc/crs/rules/*.conf`), sorted by name. A pattern without wildcards
    /// yields itself.
    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>>;
}

/// In-memory files, for tests and for rule text that did not come from disk.
#[derive(Debug, Default, Clone)]
pub struct MemLoader {
    files: HashMap<PathBuf, Vec<u8>>,
}

impl MemLoader {
    /// An empty loader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), content.into());
    }
}

impl FileLoader for MemLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))
    }

    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let pat = pattern.to_string_lossy();
        let mut out: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| wildcard_match(pat.as_bytes(), p.to_string_lossy().as_bytes()))
            .cloned()
            .collect();
        out.sort();
        Ok(out)
    }
}

/// The real file system: the only I/O in the rule-loading path, chosen by the caller.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsLoader;

impl FileLoader for FsLoader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let Some(name) = pattern.file_name() else {
            return Ok(vec![pattern.to_path_buf()]);
        };
        let name = name.to_string_lossy();
        if !name.contains(['*', '?']) {
            return Ok(vec![pattern.to_path_buf()]);
        }
        let dir = pattern.parent().unwrap_or_else(|| Path::new("."));
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let file = entry.file_name();
            if wildcard_match(name.as_bytes(), file.to_string_lossy().as_bytes()) {
                out.push(entry.path());
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Shell-style match of `*` (any run) and `?` (one byte).
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let cases: &[(&str, &str, bool)] = &[
            ("*.conf", "REQUEST-942.conf", true),
            ("*.conf", "REQUEST-942.conf.example", false),
            ("REQUEST-9??-*.conf", "REQUEST-942-SQLI.conf", true),
            ("a", "a", true),
            ("a", "b", false),
            ("*", "", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(wildcard_match(p.as_bytes(), t.as_bytes()), *want, "{p} {t}");
        }
    }
}
