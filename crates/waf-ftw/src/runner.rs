//! Running go-ftw tests against a WAF in process and checking go-ftw's expectations.

use std::path::{Path, PathBuf};

use crate::backend::{self, Response};
use crate::http::{self, HttpRequest, Parsed};
use crate::model::{Output, OverridesFile, TestFile};
use crate::request;

/// One rule match as it would appear in ModSecurity's error log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogEntry {
    /// Rule id.
    pub id: u64,
    /// Expanded `msg`.
    pub msg: String,
    /// Expanded `logdata`.
    pub data: String,
    /// Severity 0-7.
    pub severity: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// `MATCHED_VAR_NAME`.
    pub matched_var_name: String,
    /// `MATCHED_VAR`.
    pub matched_var: Vec<u8>,
}

/// libmodsecurity's `toHexIfNeeded(text, true)`: bytes outside printable ASCII, `"` and `\\`
/// become `\xHH`, so a log entry stays on one line.
pub fn hex_if_needed(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text {
        if !(32..=126).contains(&b) || b == b'"' || b == b'\\' {
            out.push_str(&format!("\\x{b:02x}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

impl LogEntry {
    /// The entry formatted like a libmodsecurity v3 error-log line (what go-ftw's
    /// `match_regex` is written against).
    pub fn to_line(&self, uri: &[u8]) -> String {
        let mut line = format!(
            "ModSecurity: Warning. Matched \"Operator\" against variable `{}' (Value: `{}' ) [file \"\"] [line \"0\"] [id \"{}\"] [rev \"\"] [msg \"{}\"] [data \"{}\"] [severity \"{}\"] [ver \"\"] [maturity \"0\"] [accuracy \"0\"]",
            hex_if_needed(self.matched_var_name.as_bytes()),
            hex_if_needed(&self.matched_var),
            self.id,
            hex_if_needed(self.msg.as_bytes()),
            hex_if_needed(self.data.as_bytes()),
            self.severity.map_or(String::new(), |s| s.to_string()),
        );
        for t in &self.tags {
            line.push_str(&format!(" [tag \"{t}\"]"));
        }
        line.push_str(&format!(
            " [hostname \"127.0.0.1\"] [uri \"{}\"] [unique_id \"\"] [ref \"\"]",
            String::from_utf8_lossy(uri)
        ));
        line
    }
}

/// What the WAF reported for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Logged rule matches in order (rules with `nolog` excluded).
    pub logged: Vec<LogEntry>,
    /// Status of a disruptive interruption, if the engine interrupted (not in DetectionOnly).
    pub interrupted: Option<u16>,
}

/// A WAF the harness can drive: runs phases 1-5 for one request and its backend response.
pub trait Waf {
    /// Evaluate `req`; `response` is what the backend answers.
    fn evaluate(&self, req: &HttpRequest, response: &Response) -> Evaluation;
}

/// Test outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// All expectations met.
    Pass,
    /// An expectation failed (why).
    Fail(String),
    /// Not run (why).
    Skip(String),
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// `"<rule_id>-<test_id>"`, e.g. `942100-1`.
    pub id: String,
    /// The outcome.
    pub outcome: Outcome,
}

/// Results of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per test, in file order.
    pub results: Vec<TestResult>,
}

impl Report {
    /// Number of passed tests.
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == Outcome::Pass)
            .count()
    }

    /// Number of failed tests.
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
            .count()
    }

    /// Number of skipped tests.
    pub fn skipped(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skip(_)))
            .count()
    }

    /// Exactly `N passed, N failed, N skipped`.
    pub fn summary_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }
}

/// Run options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Only tests whose id starts with this (a rule id prefix such as `942` or `942100`, or a
    /// full test id such as `942100-3`).
    pub filter: Option<String>,
    /// Overrides file; default `tests/regression/nginx-overrides.yaml` of the CRS directory.
    pub overrides: Option<PathBuf>,
}

/// The result of one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRun {
    /// Status the client got.
    pub status: u16,
    /// Error-log lines for this request.
    pub log: Vec<String>,
    /// Logged rule ids.
    pub ids: Vec<u64>,
    /// Response text (status line, headers, body) as the client got it.
    pub response: String,
    /// The client could not read an HTTP response (HTTP/0.9 answer without a status line).
    pub client_error: bool,
}

/// Send one raw request through the nginx emulation, the backend and the WAF.
pub fn run_raw(waf: &dyn Waf, raw: &[u8]) -> StageRun {
    match http::parse(raw) {
        Parsed::Rejected(status) => StageRun {
            status,
            log: Vec::new(),
            ids: Vec::new(),
            response: format!("HTTP/1.1 {status}\r\n\r\n"),
            client_error: false,
        },
        Parsed::Accepted(req) => {
            let resp = backend::respond(&req);
            let eval = waf.evaluate(&req, &resp);
            let status = eval.interrupted.unwrap_or(resp.status);
            let mut response = format!("HTTP/1.1 {status}\r\n");
            for (k, v) in &resp.headers {
                response.push_str(&format!(
                    "{}: {}\r\n",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                ));
            }
            response.push_str("\r\n");
            if eval.interrupted.is_none() {
                response.push_str(&String::from_utf8_lossy(&resp.body));
            }
            StageRun {
                status,
                log: eval.logged.iter().map(|e| e.to_line(&req.uri)).collect(),
                ids: eval.logged.iter().map(|e| e.id).collect(),
                response,
                client_error: req.protocol == b"HTTP/0.9",
            }
        }
    }
}

fn regex_check(pattern: &str, text: &str, want: bool, what: &str) -> Result<(), String> {
    let re =
        regex::Regex::new(pattern).map_err(|e| format!("bad {what} regex {pattern:?}: {e}"))?;
    if re.is_match(text) != want {
        return Err(format!(
            "{what} {pattern:?} {}",
            if want { "did not match" } else { "matched" }
        ));
    }
    Ok(())
}

/// Check one stage's expectations (go-ftw semantics).
pub fn check(output: &Output, run: &StageRun) -> Result<(), String> {
    let expect_error = output.expect_error == Some(true);
    if expect_error != run.client_error {
        return Err(if expect_error {
            "expected a client error, got a response".into()
        } else {
            "client error (no HTTP response)".into()
        });
    }
    if let Some(status) = &output.status
        && !run.client_error
        && !status.accepts(run.status)
    {
        return Err(format!("status {} not {:?}", run.status, status));
    }
    let log_text = run.log.join("\n");
    if let Some(log) = &output.log {
        let missing: Vec<u64> = log
            .expect_ids
            .iter()
            .copied()
            .filter(|id| !run.ids.contains(id))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "expected ids {missing:?} not logged (logged {:?})",
                run.ids
            ));
        }
        let unwanted: Vec<u64> = log
            .no_expect_ids
            .iter()
            .copied()
            .filter(|id| run.ids.contains(id))
            .collect();
        if !unwanted.is_empty() {
            return Err(format!("unexpected ids {unwanted:?} logged"));
        }
        if let Some(p) = &log.match_regex {
            regex_check(p, &log_text, true, "match_regex")?;
        }
        if let Some(p) = &log.no_match_regex {
            regex_check(p, &log_text, false, "no_match_regex")?;
        }
    }
    if let Some(p) = &output.log_contains {
        regex_check(p, &log_text, true, "log_contains")?;
    }
    if let Some(p) = &output.no_log_contains {
        regex_check(p, &log_text, false, "no_log_contains")?;
    }
    if let Some(p) = &output.response_contains {
        regex_check(p, &run.response, true, "response_contains")?;
    }
    Ok(())
}

/// Run the tests of the given files against `waf`.
pub fn run_tests(
    waf: &dyn Waf,
    files: &[(PathBuf, TestFile)],
    overrides: &OverridesFile,
    skips: &[(&str, &str)],
    filter: Option<&str>,
) -> Report {
    let mut report = Report::default();
    for (_, file) in files {
        for test in &file.tests {
            let id = format!("{}-{}", file.rule_id, test.test_id);
            if let Some(f) = filter
                && !id.starts_with(f)
            {
                continue;
            }
            if let Some((_, why)) = skips.iter().find(|(s, _)| *s == id) {
                report.results.push(TestResult {
                    id,
                    outcome: Outcome::Skip((*why).to_string()),
                });
                continue;
            }
            let override_output = overrides.output_for(file.rule_id, test.test_id);
            let mut outcome = Outcome::Pass;
            for (n, stage) in test.stages.iter().enumerate() {
                let raw = match request::build(&stage.input) {
                    Ok(r) => r,
                    Err(e) => {
                        outcome = Outcome::Fail(format!("stage {}: {e}", n + 1));
                        break;
                    }
                };
                let run = run_raw(waf, &raw);
                let output = override_output.as_ref().unwrap_or(&stage.output);
                if let Err(why) = check(output, &run) {
                    outcome = Outcome::Fail(format!("stage {}: {why}", n + 1));
                    break;
                }
            }
            report.results.push(TestResult { id, outcome });
        }
    }
    report
}

/// The default overrides file of a CRS checkout.
pub fn default_overrides(crs_dir: &Path) -> PathBuf {
    crs_dir.join("tests/regression/nginx-overrides.yaml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Input, LogExpect, Stage, Status, Test};

    /// A fake WAF that logs rule 1 when the URI contains "attack".
    struct Fake;

    impl Waf for Fake {
        fn evaluate(&self, req: &HttpRequest, _resp: &Response) -> Evaluation {
            let mut logged = Vec::new();
            if req.uri.windows(6).any(|w| w == b"attack") {
                logged.push(LogEntry {
                    id: 1,
                    msg: "Attack".into(),
                    data: "Matched Data: attack found within REQUEST_URI".into(),
                    ..LogEntry::default()
                });
            }
            Evaluation {
                logged,
                interrupted: None,
            }
        }
    }

    fn test(id: u64, uri: &str, output: Output) -> Test {
        Test {
            test_id: id,
            desc: None,
            stages: vec![Stage {
                input: Input {
                    uri: Some(uri.into()),
                    headers: Some(crate::model::Headers::Map(
                        [(
                            "Host".to_string(),
                            crate::model::Scalar::Str("localhost".into()),
                        )]
                        .into(),
                    )),
                    ..Input::default()
                },
                output,
            }],
        }
    }

    fn expect(ids: &[u64], no: &[u64]) -> Output {
        Output {
            log: Some(LogExpect {
                expect_ids: ids.to_vec(),
                no_expect_ids: no.to_vec(),
                ..LogExpect::default()
            }),
            ..Output::default()
        }
    }

    #[test]
    fn runs_checks_overrides_and_skips() {
        let file = TestFile {
            rule_id: 1,
            tests: vec![
                test(1, "/attack", expect(&[1], &[])),
                test(2, "/fine", expect(&[], &[1])),
                test(3, "/fine", expect(&[1], &[])),
                test(4, "/attack", expect(&[], &[1])),
                test(5, "/x", expect(&[1], &[])),
                test(
                    6,
                    "/attack",
                    Output {
                        status: Some(Status::One(200)),
                        log: Some(LogExpect {
                            match_regex: Some(r#"\[id "1"\].*\[msg "Attack"\]"#.into()),
                            ..LogExpect::default()
                        }),
                        ..Output::default()
                    },
                ),
            ],
        };
        let overrides: OverridesFile = serde_saphyr::from_str(
            "test_overrides:\n  - rule_id: 1\n    test_ids: [4]\n    output:\n      log:\n        expect_ids: [1]\n",
        )
        .unwrap();
        let files = vec![(PathBuf::from("x.yaml"), file)];
        let report = run_tests(&Fake, &files, &overrides, &[("1-5", "reason")], None);
        let outcomes: Vec<_> = report
            .results
            .iter()
            .map(|r| (r.id.as_str(), &r.outcome))
            .collect();
        assert_eq!(outcomes[0], ("1-1", &Outcome::Pass));
        assert_eq!(outcomes[1], ("1-2", &Outcome::Pass));
        assert!(matches!(outcomes[2].1, Outcome::Fail(_)));
        assert_eq!(outcomes[3], ("1-4", &Outcome::Pass));
        assert!(matches!(outcomes[4].1, Outcome::Skip(_)));
        assert_eq!(outcomes[5], ("1-6", &Outcome::Pass), "{:?}", outcomes[5]);
        assert_eq!(report.summary_line(), "4 passed, 1 failed, 1 skipped");
        let filtered = run_tests(&Fake, &files, &overrides, &[], Some("1-2"));
        assert_eq!(filtered.results.len(), 1);
    }

    #[test]
    fn nginx_rejection_gives_status_and_no_log() {
        let run = run_raw(&Fake, b"GET /attack HTTP/1.1\r\n\r\n");
        assert_eq!(run.status, 400);
        assert!(run.ids.is_empty());
    }
}
