//! go-ftw YAML test files and override files, as serde types.
//!
//! Only the fields the harness uses are typed; unknown fields are ignored so newer schema
//! additions do not break loading.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A YAML scalar that may be written as a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// The scalar as the text go-ftw would send.
    pub fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// One test file (`tests/regression/tests/**/NNNNNN.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct TestFile {
    /// The rule the file tests.
    pub rule_id: u64,
    /// The tests.
    #[serde(default)]
    pub tests: Vec<Test>,
}

/// One test: a sequence of stages (requests).
#[derive(Debug, Clone, Deserialize)]
pub struct Test {
    /// Number within the file (`942100-3` is test 3 of rule 942100).
    pub test_id: u64,
    /// Free text.
    #[serde(default)]
    pub desc: Option<String>,
    /// The requests, sent in order.
    #[serde(default)]
    pub stages: Vec<Stage>,
}

/// One request and its expectations.
#[derive(Debug, Clone, Deserialize)]
pub struct Stage {
    /// What to send.
    #[serde(default)]
    pub input: Input,
    /// What to expect.
    #[serde(default)]
    pub output: Output,
}

/// Headers: a map (sent sorted by name, as go-ftw does) or an ordered list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Headers {
    /// `Name: value` map.
    Map(BTreeMap<String, Scalar>),
    /// `[{name, value}]` list (newer schema), order kept.
    List(Vec<HeaderTuple>),
}

/// One header in the list form.
#[derive(Debug, Clone, Deserialize)]
pub struct HeaderTuple {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: Scalar,
}

/// Request body: a string, or a list of lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Data {
    /// The body text.
    Text(String),
    /// Lines, joined with CRLF.
    Lines(Vec<String>),
}

/// The request of a stage.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Input {
    /// Target address (ignored: the harness runs in process).
    #[serde(default)]
    pub dest_addr: Option<String>,
    /// Target port (ignored).
    #[serde(default)]
    pub port: Option<u16>,
    /// `http` or `https` (ignored).
    #[serde(default)]
    pub protocol: Option<String>,
    /// Method, default `GET`.
    #[serde(default)]
    pub method: Option<String>,
    /// Request target, default `/`.
    #[serde(default)]
    pub uri: Option<String>,
    /// Protocol version, default `HTTP/1.1`.
    #[serde(default)]
    pub version: Option<String>,
    /// Headers.
    #[serde(default)]
    pub headers: Option<Headers>,
    /// Body.
    #[serde(default)]
    pub data: Option<Data>,
    /// Base64 of the complete raw request (overrides everything else).
    #[serde(default)]
    pub encoded_request: Option<String>,
    /// Add Content-Length / Connection / Content-Type like go-ftw (default true).
    #[serde(default)]
    pub autocomplete_headers: Option<bool>,
    /// go-ftw log marker control (ignored).
    #[serde(default)]
    pub stop_magic: Option<bool>,
    /// Cookie jar control (ignored).
    #[serde(default)]
    pub save_cookie: Option<bool>,
    /// Virtual host mode (ignored).
    #[serde(default)]
    pub virtual_host_mode: Option<bool>,
}

/// `status`: one code or a list of acceptable codes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Status {
    /// One code.
    One(u16),
    /// Any of these codes.
    Any(Vec<u16>),
}

impl Status {
    /// Whether `code` is acceptable.
    pub fn accepts(&self, code: u16) -> bool {
        match self {
            Status::One(c) => *c == code,
            Status::Any(list) => list.contains(&code),
        }
    }
}

/// Log expectations.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LogExpect {
    /// Rule ids that must be logged.
    #[serde(default)]
    pub expect_ids: Vec<u64>,
    /// Rule ids that must not be logged.
    #[serde(default)]
    pub no_expect_ids: Vec<u64>,
    /// A regex the log must match.
    #[serde(default)]
    pub match_regex: Option<String>,
    /// A regex the log must not match.
    #[serde(default)]
    pub no_match_regex: Option<String>,
}

/// The expected outcome of a stage.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Output {
    /// Expected HTTP status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Log expectations.
    #[serde(default)]
    pub log: Option<LogExpect>,
    /// Older form of `log.match_regex`.
    #[serde(default)]
    pub log_contains: Option<String>,
    /// Older form of `log.no_match_regex`.
    #[serde(default)]
    pub no_log_contains: Option<String>,
    /// A regex the response must match.
    #[serde(default)]
    pub response_contains: Option<String>,
    /// The request is expected to fail at the HTTP level.
    #[serde(default)]
    pub expect_error: Option<bool>,
    /// go-ftw isolation flag (ignored).
    #[serde(default)]
    pub isolated: Option<bool>,
}

/// An overrides file (`tests/regression/nginx-overrides.yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OverridesFile {
    /// The overrides.
    #[serde(default)]
    pub test_overrides: Vec<TestOverride>,
}

/// One override: replaces the output of the listed tests of one rule.
#[derive(Debug, Clone, Deserialize)]
pub struct TestOverride {
    /// Rule id the override applies to.
    pub rule_id: u64,
    /// Test ids (empty: every test of the rule).
    #[serde(default)]
    pub test_ids: Vec<u64>,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// The replacement output (absent: nothing is checked).
    #[serde(default)]
    pub output: Option<Output>,
}

impl OverridesFile {
    /// The replacement output for `rule_id`-`test_id`, if an override applies.
    pub fn output_for(&self, rule_id: u64, test_id: u64) -> Option<Output> {
        self.test_overrides
            .iter()
            .rev()
            .find(|o| {
                o.rule_id == rule_id && (o.test_ids.is_empty() || o.test_ids.contains(&test_id))
            })
            .map(|o| o.output.clone().unwrap_or_default())
    }
}
