#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Debian's CRS 3.3 (`apt-get install modsecurity-crs`, 3.3.4) loads, and the few `@rx`
//! patterns the `regex` crate refuses (lookaround, backreferences) run on the bounded
//! `fancy-regex` fallback. Skipped with a message when the package is not installed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use seclang::loader::{FileLoader, FsLoader, MemLoader};
use waf::{EngineMode, RuleSet};

const DEBIAN_CRS: &str = "/usr/share/modsecurity-crs";
const DEBIAN_SETUP: &str = "/etc/modsecurity/crs/crs-setup.conf";

struct Both(MemLoader);

impl FileLoader for Both {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.0.read(path).or_else(|_| FsLoader.read(path))
    }
    fn glob(&self, pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
        FsLoader.glob(pattern)
    }
}

fn load(paranoia: u8) -> Option<RuleSet> {
    if !Path::new(DEBIAN_CRS).join("rules").is_dir() {
        eprintln!(
            "SKIPPED: Debian CRS not installed at {DEBIAN_CRS} (apt-get install -y modsecurity-crs)"
        );
        return None;
    }
    let setup = if Path::new(DEBIAN_SETUP).exists() {
        format!("Include {DEBIAN_SETUP}")
    } else {
        // Minimal setup when only the rules are present.
        "SecAction \"id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334\""
            .to_owned()
    };
    let main = format!(
        r#"
SecRuleEngine On
SecRequestBodyAccess On
{setup}
SecAction "id:900000,phase:1,pass,nolog,setvar:tx.paranoia_level={paranoia}"
Include {DEBIAN_CRS}/rules/*.conf
"#
    );
    let mut mem = MemLoader::new();
    mem.insert("/virtual/main.conf", main.into_bytes());
    let loader = Both(mem);
    let dirs =
        seclang::parse_file(Path::new("/virtual/main.conf"), &loader).expect("parse CRS 3.3");
    Some(RuleSet::compile(&dirs, &loader).unwrap_or_else(|e| panic!("compile CRS 3.3: {e}")))
}

fn run(rs: &Arc<RuleSet>, uri: &[u8]) -> (Vec<u64>, bool) {
    let mut tx = rs.transaction();
    tx.process_connection(
        "10.0.0.1:5555".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
    );
    tx.process_uri(b"GET", uri, b"HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    tx.add_request_header(
        b"User-Agent",
        b"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    );
    tx.add_request_header(b"Accept", b"text/html");
    tx.process_request_headers();
    tx.process_request_body();
    let ids = tx
        .matched_rules()
        .iter()
        .filter(|m| m.logged)
        .map(|m| m.id)
        .collect();
    (ids, tx.regex_limit_exceeded())
}

#[test]
fn debian_crs_33_loads_and_detects() {
    for paranoia in [1u8, 4] {
        let Some(mut rs) = load(paranoia) else {
            return;
        };
        assert!(rs.rule_count() > 200, "only {} rules", rs.rule_count());
        rs.set_engine_mode(EngineMode::DetectionOnly);
        let rs = Arc::new(rs);
        let (benign, limit) = run(&rs, b"/shop/item?id=42&q=blue+shoes");
        assert!(!limit);
        if paranoia == 1 {
            assert!(benign.is_empty(), "benign GET matched {benign:?}");
        }
        let (sqli, _) = run(
            &rs,
            b"/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
        );
        assert!(
            sqli.iter().any(|id| (942000..943000).contains(id)),
            "PL{paranoia}: SQLi not detected: {sqli:?}"
        );
        assert!(
            sqli.contains(&949110),
            "PL{paranoia}: no inbound anomaly block: {sqli:?}"
        );
    }
}

/// A backtrack-limit hit answers "no match" and is visible to the caller and to rules.
#[test]
fn backtrack_limit_is_flagged() {
    let text = r#"
SecRuleEngine On
SecRule ARGS "@rx ^(a+)+(?=b)" "id:1,phase:1,pass,log,msg:'never decided'"
SecRule MSC_PCRE_LIMITS_EXCEEDED "@eq 1" "id:2,phase:1,pass,log,msg:'limit hit'"
"#;
    let dirs = seclang::parse_str(text, "test.conf").expect("parse");
    let rs = Arc::new(RuleSet::compile(&dirs, &MemLoader::new()).expect("compile"));
    let uri = format!("/?q={}c", "a".repeat(40));
    let (ids, limit) = run(&rs, uri.as_bytes());
    assert!(limit);
    assert_eq!(ids, vec![2]);
    let (ids, limit) = run(&rs, b"/?q=aab");
    assert!(!limit);
    assert_eq!(ids, vec![1]);
}

/// `RuleSet::precompile` compiles deferred regexes up front; verdicts are unchanged.
#[test]
fn precompile_keeps_verdicts() {
    let text = r#"
SecRuleEngine On
SecRule ARGS "@rx (?i)union\s+select" "id:1,phase:1,pass,log,chain"
    SecRule ARGS "@pm select" "t:lowercase"
"#;
    let dirs = seclang::parse_str(text, "test.conf").expect("parse");
    let rs = RuleSet::compile(&dirs, &MemLoader::new()).expect("compile");
    rs.precompile();
    rs.precompile();
    let rs = Arc::new(rs);
    let (ids, _) = run(&rs, b"/?q=1%20UNION%20SELECT%20x");
    assert_eq!(ids, vec![1]);
    let (ids, _) = run(&rs, b"/?q=blue");
    assert!(ids.is_empty());
}
