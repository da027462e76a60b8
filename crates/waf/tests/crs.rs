#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Loads OWASP CRS v4 (`/work/shared/crs`, i.e. `../shared/crs` from the repository root)
//! unmodified and runs a few requests through it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use seclang::loader::{FsLoader, MemLoader};
use waf::{EngineMode, RuleSet, Transaction};

fn crs_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs")).to_path_buf()
}

/// CRS CI's settings: the setup example plus paranoia 4 and all rules, DetectionOnly.
pub fn load_crs(paranoia: u8) -> Option<RuleSet> {
    let dir = crs_dir();
    if !dir.join("crs-setup.conf.example").exists() {
        eprintln!("CRS not found at {}", dir.display());
        return None;
    }
    let main = format!(
        r#"
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
Include {dir}/crs-setup.conf.example
SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level={paranoia}"
SecAction "id:900001,phase:1,pass,nolog,setvar:tx.detection_paranoia_level={paranoia}"
Include {dir}/rules/*.conf
"#,
        dir = dir.display()
    );
    let mut mem = MemLoader::new();
    mem.insert("/virtual/main.conf", main.into_bytes());
    struct Both(MemLoader);
    impl seclang::loader::FileLoader for Both {
        fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
            self.0.read(path).or_else(|_| FsLoader.read(path))
        }
        fn glob(&self, pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
            FsLoader.glob(pattern)
        }
    }
    let loader = Both(mem);
    let t = Instant::now();
    let dirs = seclang::parse_file(Path::new("/virtual/main.conf"), &loader).expect("parse CRS");
    let parsed = t.elapsed();
    let rs = RuleSet::compile(&dirs, &loader).unwrap_or_else(|e| panic!("compile CRS: {e}"));
    eprintln!(
        "CRS: {} rules, parse {:?}, total {:?}",
        rs.rule_count(),
        parsed,
        t.elapsed()
    );
    Some(rs)
}

fn run(
    rs: &Arc<RuleSet>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Transaction {
    let mut tx = rs.transaction();
    tx.process_connection(
        "10.0.0.1:5555".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
    );
    tx.process_uri(method.as_bytes(), uri.as_bytes(), b"HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_request_headers();
    tx.append_request_body(body);
    tx.process_request_body();
    tx.add_response_header(b"Content-Type", b"text/html");
    tx.process_response_headers(200, b"HTTP/1.1");
    tx.append_response_body(b"<html>hello</html>");
    tx.process_response_body();
    tx.process_logging();
    tx
}

fn logged(tx: &Transaction) -> Vec<u64> {
    tx.matched_rules()
        .iter()
        .filter(|m| m.logged)
        .map(|m| m.id)
        .collect()
}

const UA: (&str, &str) = ("User-Agent", "OWASP CRS test agent");

#[test]
fn crs_compiles_and_detects() {
    let Some(mut rs) = load_crs(4) else { return };
    assert!(rs.rule_count() > 500, "{}", rs.rule_count());
    rs.set_engine_mode(EngineMode::DetectionOnly);
    let rs = Arc::new(rs);
    let hdrs = [("Host", "localhost"), UA, ("Accept", "text/html")];
    let tx = run(&rs, "GET", "/index.html?id=1", &hdrs, b"");
    eprintln!("benign: {:?}", logged(&tx));

    let tx = run(&rs, "GET", "/?id=1%27%20OR%20%271%27=%271", &hdrs, b"");
    let ids = logged(&tx);
    eprintln!("sqli: {ids:?} score {}", tx.anomaly_score());
    assert!(ids.contains(&942100), "{ids:?}");
    assert!(tx.anomaly_score() >= 5);

    let tx = run(&rs, "GET", "/?q=<script>alert(1)</script>", &hdrs, b"");
    let ids = logged(&tx);
    assert!(ids.contains(&941100), "{ids:?}");
}

#[test]
fn crs_blocks_in_on_mode() {
    let Some(mut rs) = load_crs(1) else { return };
    rs.set_engine_mode(EngineMode::On);
    let rs = Arc::new(rs);
    let hdrs = [("Host", "localhost"), UA, ("Accept", "text/html")];
    let tx = run(&rs, "GET", "/index.html?id=1&page=2", &hdrs, b"");
    assert!(tx.interruption().is_none(), "{:?}", logged(&tx));
    assert_eq!(tx.anomaly_score(), 0);

    let tx = run(
        &rs,
        "GET",
        "/?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
        &hdrs,
        b"",
    );
    let i = tx.interruption().expect("blocked");
    assert_eq!((i.status, i.rule_id), (403, 949110));
    // The blocking rule is in the log (logging phase still runs after the interruption).
    assert!(logged(&tx).contains(&949110));

    let form = b"comment=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E";
    let hdrs = [
        ("Host", "localhost"),
        UA,
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let tx = run(&rs, "POST", "/post", &hdrs, form);
    assert_eq!(
        tx.interruption().map(|i| i.rule_id),
        Some(949110),
        "{:?}",
        logged(&tx)
    );
}
