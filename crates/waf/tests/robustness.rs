#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The engine never panics on request bytes: deterministic pseudo-random requests through
//! rules that touch every kind of variable, body processor, macro and action.

use std::sync::Arc;

use seclang::loader::MemLoader;
use waf::{EngineMode, RuleSet};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % (max + 1);
        let alphabet: &[u8] = b"aA0=&;%+/?#:\\\"'<>{}[]\r\n\t \x00\xff\xc3\xa9-_.,$@!*|^";
        (0..n)
            .map(|_| {
                let r = self.next();
                if r.is_multiple_of(4) {
                    (r >> 8) as u8
                } else {
                    alphabet[(r as usize >> 3) % alphabet.len()]
                }
            })
            .collect()
    }
}

const RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess On
SecArgumentsLimit 50
SecRequestBodyLimit 4096
SecRequestBodyLimitAction ProcessPartial
SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx xml" "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|REQUEST_HEADERS|REQUEST_HEADERS_NAMES|REQUEST_URI|REQUEST_URI_RAW|REQUEST_FILENAME|REQUEST_BASENAME|REQUEST_LINE|QUERY_STRING|XML:/*|XML://@*|FILES|FILES_NAMES|MULTIPART_PART_HEADERS "@rx (a|\x00)" \
    "id:10,phase:2,pass,capture,multiMatch,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,t:cmdLine,t:compressWhitespace,logdata:'%{TX.0} %{TX.1} %{MATCHED_VAR_NAME}=%{MATCHED_VAR}',setvar:'tx.%{MATCHED_VAR_NAME}=%{MATCHED_VAR}',setvar:tx.n=+1"
SecRule REQUEST_BODY|FULL_REQUEST|REQBODY_ERROR_MSG|MULTIPART_STRICT_ERROR|URLENCODED_ERROR "@rx ." "id:11,phase:2,pass,t:base64Decode,t:hexDecode,t:jsDecode,t:cssDecode,t:removeComments,t:normalizePath"
SecRule &ARGS "@gt 3" "id:12,phase:2,pass,chain"
    SecRule MATCHED_VARS "@rx ." "setvar:tx.m=%{MATCHED_VARS}"
SecRule TX:/./ "@rx ." "id:13,phase:2,pass,t:sha1,t:hexEncode,t:md5,t:length"
SecRule ARGS "@detectSQLi" "id:14,phase:2,pass"
SecRule ARGS "@detectXSS" "id:15,phase:2,pass"
SecRule RESPONSE_BODY|RESPONSE_HEADERS "@pm secret token" "id:16,phase:4,pass"
SecRule TX:n "@gt 1000" "id:17,phase:2,deny,status:403"
"#;

#[test]
fn random_requests_never_panic() {
    let dirs = seclang::parse_str(RULES, "robust.conf").expect("parse");
    let mut rs = RuleSet::compile(&dirs, &MemLoader::new()).expect("compile");
    rs.set_engine_mode(EngineMode::DetectionOnly);
    let rs = Arc::new(rs);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cts: [&[u8]; 5] = [
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=b",
        b"application/json",
        b"text/xml",
        b"text/plain",
    ];
    for i in 0..400 {
        let mut tx = rs.transaction();
        tx.set_id(&format!("r{i}"));
        tx.process_connection(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        );
        let mut uri = b"/".to_vec();
        uri.extend(rng.bytes(60));
        tx.process_uri(&rng.bytes(6), &uri, b"HTTP/1.1");
        for _ in 0..(rng.next() % 6) {
            tx.add_request_header(&rng.bytes(10), &rng.bytes(40));
        }
        tx.add_request_header(b"Cookie", &rng.bytes(40));
        let ct = cts[(rng.next() as usize) % cts.len()];
        tx.add_request_header(b"Content-Type", ct);
        tx.process_request_headers();
        let mut body = if ct.starts_with(b"multipart") {
            b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n".to_vec()
        } else {
            Vec::new()
        };
        body.extend(rng.bytes(300));
        tx.append_request_body(&body);
        tx.process_request_body();
        tx.add_response_header(b"Content-Type", b"text/html");
        tx.add_response_header(&rng.bytes(8), &rng.bytes(20));
        tx.process_response_headers(200, b"HTTP/1.1");
        tx.append_response_body(&rng.bytes(200));
        tx.process_response_body();
        tx.process_logging();
        let _ = tx.matched_rules();
        let _ = tx.anomaly_score();
    }
}
