//! Loading go-ftw test files and override files from disk.

use std::path::{Path, PathBuf};

use crate::model::{OverridesFile, TestFile};

/// Errors loading test or override files.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not valid go-ftw YAML.
    #[error("{path}: {reason}")]
    Yaml {
        /// The path.
        path: PathBuf,
        /// The parser's message (with line and column).
        reason: String,
    },
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parse one test file.
pub fn load_test_file(path: &Path) -> Result<TestFile, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // A file that is only comments (kept to satisfy CRS's linter) holds no tests.
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(TestFile {
            rule_id: 0,
            tests: Vec::new(),
        });
    }
    serde_saphyr::from_str(&text).map_err(|e| LoadError::Yaml {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Every `*.yaml` test file under `dir` (recursively), sorted by path.
pub fn load_tests(dir: &Path) -> Result<Vec<(PathBuf, TestFile)>, LoadError> {
    let mut paths = Vec::new();
    collect_yaml(dir, &mut paths)?;
    paths.sort();
    paths
        .into_iter()
        .map(|p| load_test_file(&p).map(|t| (p, t)))
        .collect()
}

/// Parse an overrides file.
pub fn load_overrides(path: &Path) -> Result<OverridesFile, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_saphyr::from_str(&text).map_err(|e| LoadError::Yaml {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Data, Headers};

    fn crs() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"))
    }

    #[test]
    fn parses_inline_yaml_with_anchors() {
        let text = r#"
rule_id: 1
tests:
  - test_id: 1
    stages:
      - input: &in
          headers:
            Host: localhost
            Content-Length: 0
          data: "a=b"
        output:
          status: 400
          log:
            expect_ids: [1, 2]
  - test_id: 2
    stages:
      - input: *in
        output:
          status: [200, 404]
"#;
        let f: TestFile = serde_saphyr::from_str(text).unwrap();
        assert_eq!(f.tests.len(), 2);
        let input = &f.tests[1].stages[0].input;
        match &input.headers {
            Some(Headers::Map(m)) => assert_eq!(m.get("Content-Length").unwrap().text(), "0"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(&input.data, Some(Data::Text(t)) if t == "a=b"));
    }

    #[test]
    fn loads_whole_crs_suite() {
        let dir = crs().join("tests/regression/tests");
        if !dir.exists() {
            eprintln!("CRS not found at {}", dir.display());
            return;
        }
        let files = load_tests(&dir).unwrap();
        assert!(files.len() > 300, "{} files", files.len());
        let tests: usize = files.iter().map(|(_, f)| f.tests.len()).sum();
        assert!(tests > 4000, "{tests} tests");
        // Every stage builds.
        for (_, f) in &files {
            for t in &f.tests {
                for s in &t.stages {
                    crate::request::build(&s.input).unwrap();
                }
            }
        }
        let o = load_overrides(&crs().join("tests/regression/nginx-overrides.yaml")).unwrap();
        assert!(o.output_for(920100, 4).is_some());
        for other in ["coraza-overrides.yaml", "httpd-overrides.yaml"] {
            let path = crs().join("tests/regression").join(other);
            if path.exists() {
                load_overrides(&path).unwrap();
            }
        }
    }
}
