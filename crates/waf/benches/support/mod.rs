//! Shared by the criterion benches (`benches/engine.rs`) and the callgrind example
//! (`examples/eval_loop.rs`): the CRS rule set at a paranoia level, the request kinds, and
//! one transaction through every phase.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use seclang::loader::{FileLoader, FsLoader, MemLoader};
use waf::RuleSet;

/// The benign GET's URI (5 parameters).
pub const BENIGN_GET_URI: &[u8] = b"/shop/item?id=42&page=3&sort=asc&q=blue+shoes&lang=en";
/// The SQL injection GET's URI.
pub const SQLI_GET_URI: &[u8] = b"/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--";

/// A ~1 KB urlencoded form body.
pub fn form_body() -> Vec<u8> {
    (0..40)
        .map(|i| format!("field{i:02}=value{i:05}&"))
        .collect::<String>()
        .into_bytes()
}

/// A ~1 KB JSON body.
pub fn json_body() -> Vec<u8> {
    let items: Vec<String> = (0..30)
        .map(|i| format!("\"key{i:02}\":\"value {i:08}\""))
        .collect();
    format!("{{{}}}", items.join(",")).into_bytes()
}

/// `../shared/crs`, or the folder `CRS_DIR` names (holding `crs-setup.conf.example` and
/// `rules/`; e.g. links to Debian's CRS 3.3.4, to profile it).
pub fn crs_dir() -> PathBuf {
    std::env::var_os("CRS_DIR").map_or_else(
        || Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs")).to_path_buf(),
        PathBuf::from,
    )
}

pub struct Overlay(MemLoader);

impl FileLoader for Overlay {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.0.read(path).or_else(|_| FsLoader.read(path))
    }
    fn glob(&self, pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
        FsLoader.glob(pattern)
    }
}

pub fn loader(paranoia: u8) -> Overlay {
    let dir = crs_dir();
    let main = format!(
        r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
Include {dir}/crs-setup.conf.example
SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level={paranoia}"
Include {dir}/rules/*.conf
"#,
        dir = dir.display()
    );
    let mut mem = MemLoader::new();
    mem.insert("/virtual/main.conf", main.into_bytes());
    Overlay(mem)
}

pub fn load(paranoia: u8) -> RuleSet {
    let l = loader(paranoia);
    let dirs = seclang::parse_file(Path::new("/virtual/main.conf"), &l).expect("parse");
    RuleSet::compile(&dirs, &l).expect("compile")
}

pub fn request(
    rs: &Arc<RuleSet>,
    method: &[u8],
    uri: &[u8],
    ct: Option<&[u8]>,
    body: &[u8],
) -> usize {
    let mut tx = rs.transaction();
    tx.process_connection(
        "10.0.0.1:5555".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
    );
    tx.process_uri(method, uri, b"HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    tx.add_request_header(
        b"User-Agent",
        b"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    );
    tx.add_request_header(b"Accept", b"text/html,application/xhtml+xml");
    tx.add_request_header(b"Accept-Encoding", b"gzip, deflate");
    if let Some(ct) = ct {
        tx.add_request_header(b"Content-Type", ct);
        tx.add_request_header(b"Content-Length", body.len().to_string().as_bytes());
    }
    tx.process_request_headers();
    tx.append_request_body(body);
    tx.process_request_body();
    tx.add_response_header(b"Content-Type", b"text/html");
    tx.process_response_headers(200, b"HTTP/1.1");
    tx.process_response_body();
    tx.process_logging();
    tx.matched_rules().len()
}
