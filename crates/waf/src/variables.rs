//! Variables: the names a rule can target (`ARGS`, `REQUEST_HEADERS:Host`, `&TX:x`, `!ARGS:id`),
//! resolved at compile time into a [`Var`] plus a [`Sel`]ector.
//!
//! Keys are compared case-insensitively, as ModSecurity v3 does for its collections; regular
//! expression selectors (`ARGS:/^id_/`) are compiled case-insensitively too.

use regex::bytes::{Regex, RegexBuilder};

/// Every variable the engine knows. Keyed collections and scalars share one enum; the
/// resolution code in `resolve.rs` knows which is which.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Var {
    Args,
    ArgsGet,
    ArgsPost,
    ArgsNames,
    ArgsGetNames,
    ArgsPostNames,
    ArgsCombinedSize,
    RequestHeaders,
    RequestHeadersNames,
    RequestCookies,
    RequestCookiesNames,
    RequestUri,
    RequestUriRaw,
    RequestFilename,
    RequestBasename,
    PathInfo,
    RequestLine,
    RequestMethod,
    RequestProtocol,
    QueryString,
    RequestBody,
    RequestBodyLength,
    FullRequest,
    FullRequestLength,
    Files,
    FilesNames,
    FilesSizes,
    FilesCombinedSize,
    FilesTmpNames,
    FilesTmpContent,
    MultipartFilename,
    MultipartName,
    MultipartPartHeaders,
    /// One of the numeric multipart flags (`MULTIPART_STRICT_ERROR`, ...), by name.
    MultipartFlag(MultipartFlag),
    ReqbodyError,
    ReqbodyErrorMsg,
    ReqbodyProcessor,
    ReqbodyProcessorError,
    ReqbodyProcessorErrorMsg,
    UrlencodedError,
    Xml,
    Tx,
    Ip,
    Session,
    User,
    Global,
    Resource,
    Env,
    Geo,
    RemoteAddr,
    RemotePort,
    RemoteHost,
    RemoteUser,
    ServerAddr,
    ServerPort,
    ServerName,
    UniqueId,
    Time,
    TimeDay,
    TimeEpoch,
    TimeHour,
    TimeMin,
    TimeMon,
    TimeSec,
    TimeWday,
    TimeYear,
    Duration,
    ResponseStatus,
    ResponseProtocol,
    ResponseHeaders,
    ResponseHeadersNames,
    ResponseBody,
    ResponseContentType,
    ResponseContentLength,
    AuthType,
    MatchedVar,
    MatchedVars,
    MatchedVarName,
    MatchedVarsNames,
    Rule,
    HighestSeverity,
    InboundDataError,
    OutboundDataError,
    StatusLine,
    WebserverErrorLog,
    Userid,
    Sessionid,
    MscPcreLimitsExceeded,
}

/// The numeric multipart flags ModSecurity exposes as variables.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultipartFlag {
    StrictError,
    UnmatchedBoundary,
    BoundaryQuoted,
    BoundaryWhitespace,
    DataAfter,
    DataBefore,
    FileLimitExceeded,
    HeaderFolding,
    InvalidHeaderFolding,
    InvalidPart,
    InvalidQuoting,
    LfLine,
    MissingSemicolon,
    CrlfLfLines,
}

/// Name table: (upper-case name, variable, is a keyed collection).
static VARS: &[(&str, Var, bool)] = &[
    ("ARGS", Var::Args, true),
    ("ARGS_COMBINED_SIZE", Var::ArgsCombinedSize, false),
    ("ARGS_GET", Var::ArgsGet, true),
    ("ARGS_GET_NAMES", Var::ArgsGetNames, true),
    ("ARGS_NAMES", Var::ArgsNames, true),
    ("ARGS_POST", Var::ArgsPost, true),
    ("ARGS_POST_NAMES", Var::ArgsPostNames, true),
    ("AUTH_TYPE", Var::AuthType, false),
    ("DURATION", Var::Duration, false),
    ("ENV", Var::Env, true),
    ("FILES", Var::Files, true),
    ("FILES_COMBINED_SIZE", Var::FilesCombinedSize, false),
    ("FILES_NAMES", Var::FilesNames, true),
    ("FILES_SIZES", Var::FilesSizes, true),
    ("FILES_TMPNAMES", Var::FilesTmpNames, true),
    ("FILES_TMP_CONTENT", Var::FilesTmpContent, true),
    ("FULL_REQUEST", Var::FullRequest, false),
    ("FULL_REQUEST_LENGTH", Var::FullRequestLength, false),
    ("GEO", Var::Geo, true),
    ("GLOBAL", Var::Global, true),
    ("HIGHEST_SEVERITY", Var::HighestSeverity, false),
    ("INBOUND_DATA_ERROR", Var::InboundDataError, false),
    ("IP", Var::Ip, true),
    ("MATCHED_VAR", Var::MatchedVar, false),
    ("MATCHED_VARS", Var::MatchedVars, true),
    ("MATCHED_VARS_NAMES", Var::MatchedVarsNames, true),
    ("MATCHED_VAR_NAME", Var::MatchedVarName, false),
    (
        "MSC_PCRE_LIMITS_EXCEEDED",
        Var::MscPcreLimitsExceeded,
        false,
    ),
    (
        "MULTIPART_BOUNDARY_QUOTED",
        Var::MultipartFlag(MultipartFlag::BoundaryQuoted),
        false,
    ),
    (
        "MULTIPART_BOUNDARY_WHITESPACE",
        Var::MultipartFlag(MultipartFlag::BoundaryWhitespace),
        false,
    ),
    (
        "MULTIPART_CRLF_LF_LINES",
        Var::MultipartFlag(MultipartFlag::CrlfLfLines),
        false,
    ),
    (
        "MULTIPART_DATA_AFTER",
        Var::MultipartFlag(MultipartFlag::DataAfter),
        false,
    ),
    (
        "MULTIPART_DATA_BEFORE",
        Var::MultipartFlag(MultipartFlag::DataBefore),
        false,
    ),
    ("MULTIPART_FILENAME", Var::MultipartFilename, true),
    (
        "MULTIPART_FILE_LIMIT_EXCEEDED",
        Var::MultipartFlag(MultipartFlag::FileLimitExceeded),
        false,
    ),
    (
        "MULTIPART_HEADER_FOLDING",
        Var::MultipartFlag(MultipartFlag::HeaderFolding),
        false,
    ),
    (
        "MULTIPART_INVALID_HEADER_FOLDING",
        Var::MultipartFlag(MultipartFlag::InvalidHeaderFolding),
        false,
    ),
    (
        "MULTIPART_INVALID_PART",
        Var::MultipartFlag(MultipartFlag::InvalidPart),
        false,
    ),
    (
        "MULTIPART_INVALID_QUOTING",
        Var::MultipartFlag(MultipartFlag::InvalidQuoting),
        false,
    ),
    (
        "MULTIPART_LF_LINE",
        Var::MultipartFlag(MultipartFlag::LfLine),
        false,
    ),
    (
        "MULTIPART_MISSING_SEMICOLON",
        Var::MultipartFlag(MultipartFlag::MissingSemicolon),
        false,
    ),
    ("MULTIPART_NAME", Var::MultipartName, true),
    ("MULTIPART_PART_HEADERS", Var::MultipartPartHeaders, true),
    (
        "MULTIPART_SEMICOLON_MISSING",
        Var::MultipartFlag(MultipartFlag::MissingSemicolon),
        false,
    ),
    (
        "MULTIPART_STRICT_ERROR",
        Var::MultipartFlag(MultipartFlag::StrictError),
        false,
    ),
    (
        "MULTIPART_UNMATCHED_BOUNDARY",
        Var::MultipartFlag(MultipartFlag::UnmatchedBoundary),
        false,
    ),
    ("OUTBOUND_DATA_ERROR", Var::OutboundDataError, false),
    ("PATH_INFO", Var::PathInfo, false),
    ("QUERY_STRING", Var::QueryString, false),
    ("REMOTE_ADDR", Var::RemoteAddr, false),
    ("REMOTE_HOST", Var::RemoteHost, false),
    ("REMOTE_PORT", Var::RemotePort, false),
    ("REMOTE_USER", Var::RemoteUser, false),
    ("REQBODY_ERROR", Var::ReqbodyError, false),
    ("REQBODY_ERROR_MSG", Var::ReqbodyErrorMsg, false),
    ("REQBODY_PROCESSOR", Var::ReqbodyProcessor, false),
    ("REQBODY_PROCESSOR_ERROR", Var::ReqbodyProcessorError, false),
    (
        "REQBODY_PROCESSOR_ERROR_MSG",
        Var::ReqbodyProcessorErrorMsg,
        false,
    ),
    ("REQUEST_BASENAME", Var::RequestBasename, false),
    ("REQUEST_BODY", Var::RequestBody, false),
    ("REQUEST_BODY_LENGTH", Var::RequestBodyLength, false),
    ("REQUEST_COOKIES", Var::RequestCookies, true),
    ("REQUEST_COOKIES_NAMES", Var::RequestCookiesNames, true),
    ("REQUEST_FILENAME", Var::RequestFilename, false),
    ("REQUEST_HEADERS", Var::RequestHeaders, true),
    ("REQUEST_HEADERS_NAMES", Var::RequestHeadersNames, true),
    ("REQUEST_LINE", Var::RequestLine, false),
    ("REQUEST_METHOD", Var::RequestMethod, false),
    ("REQUEST_PROTOCOL", Var::RequestProtocol, false),
    ("REQUEST_URI", Var::RequestUri, false),
    ("REQUEST_URI_RAW", Var::RequestUriRaw, false),
    ("RESOURCE", Var::Resource, true),
    ("RESPONSE_BODY", Var::ResponseBody, false),
    ("RESPONSE_CONTENT_LENGTH", Var::ResponseContentLength, false),
    ("RESPONSE_CONTENT_TYPE", Var::ResponseContentType, false),
    ("RESPONSE_HEADERS", Var::ResponseHeaders, true),
    ("RESPONSE_HEADERS_NAMES", Var::ResponseHeadersNames, true),
    ("RESPONSE_PROTOCOL", Var::ResponseProtocol, false),
    ("RESPONSE_STATUS", Var::ResponseStatus, false),
    ("RULE", Var::Rule, true),
    ("SERVER_ADDR", Var::ServerAddr, false),
    ("SERVER_NAME", Var::ServerName, false),
    ("SERVER_PORT", Var::ServerPort, false),
    ("SESSION", Var::Session, true),
    ("SESSIONID", Var::Sessionid, false),
    ("STATUS_LINE", Var::StatusLine, false),
    ("TIME", Var::Time, false),
    ("TIME_DAY", Var::TimeDay, false),
    ("TIME_EPOCH", Var::TimeEpoch, false),
    ("TIME_HOUR", Var::TimeHour, false),
    ("TIME_MIN", Var::TimeMin, false),
    ("TIME_MON", Var::TimeMon, false),
    ("TIME_SEC", Var::TimeSec, false),
    ("TIME_WDAY", Var::TimeWday, false),
    ("TIME_YEAR", Var::TimeYear, false),
    ("TX", Var::Tx, true),
    ("UNIQUE_ID", Var::UniqueId, false),
    ("URLENCODED_ERROR", Var::UrlencodedError, false),
    ("USER", Var::User, true),
    ("USERID", Var::Userid, false),
    ("WEBSERVER_ERROR_LOG", Var::WebserverErrorLog, true),
    ("XML", Var::Xml, true),
];

impl Var {
    /// Looks a variable up by name (any case). Returns the variable and whether it is a
    /// keyed collection.
    pub fn lookup(name: &str) -> Option<(Var, bool)> {
        let upper = name.to_ascii_uppercase();
        VARS.binary_search_by(|(n, _, _)| (*n).cmp(upper.as_str()))
            .ok()
            .map(|i| (VARS[i].1, VARS[i].2))
    }

    /// The canonical upper-case name, as used in `MATCHED_VAR_NAME`.
    pub fn name(self) -> &'static str {
        match self {
            Var::Args => "ARGS",
            Var::ArgsCombinedSize => "ARGS_COMBINED_SIZE",
            Var::ArgsGet => "ARGS_GET",
            Var::ArgsGetNames => "ARGS_GET_NAMES",
            Var::ArgsNames => "ARGS_NAMES",
            Var::ArgsPost => "ARGS_POST",
            Var::ArgsPostNames => "ARGS_POST_NAMES",
            Var::AuthType => "AUTH_TYPE",
            Var::Duration => "DURATION",
            Var::Env => "ENV",
            Var::Files => "FILES",
            Var::FilesCombinedSize => "FILES_COMBINED_SIZE",
            Var::FilesNames => "FILES_NAMES",
            Var::FilesSizes => "FILES_SIZES",
            Var::FilesTmpNames => "FILES_TMPNAMES",
            Var::FilesTmpContent => "FILES_TMP_CONTENT",
            Var::FullRequest => "FULL_REQUEST",
            Var::FullRequestLength => "FULL_REQUEST_LENGTH",
            Var::Geo => "GEO",
            Var::Global => "GLOBAL",
            Var::HighestSeverity => "HIGHEST_SEVERITY",
            Var::InboundDataError => "INBOUND_DATA_ERROR",
            Var::Ip => "IP",
            Var::MatchedVar => "MATCHED_VAR",
            Var::MatchedVars => "MATCHED_VARS",
            Var::MatchedVarsNames => "MATCHED_VARS_NAMES",
            Var::MatchedVarName => "MATCHED_VAR_NAME",
            Var::MscPcreLimitsExceeded => "MSC_PCRE_LIMITS_EXCEEDED",
            Var::MultipartFlag(MultipartFlag::BoundaryQuoted) => "MULTIPART_BOUNDARY_QUOTED",
            Var::MultipartFlag(MultipartFlag::BoundaryWhitespace) => {
                "MULTIPART_BOUNDARY_WHITESPACE"
            }
            Var::MultipartFlag(MultipartFlag::CrlfLfLines) => "MULTIPART_CRLF_LF_LINES",
            Var::MultipartFlag(MultipartFlag::DataAfter) => "MULTIPART_DATA_AFTER",
            Var::MultipartFlag(MultipartFlag::DataBefore) => "MULTIPART_DATA_BEFORE",
            Var::MultipartFilename => "MULTIPART_FILENAME",
            Var::MultipartFlag(MultipartFlag::FileLimitExceeded) => "MULTIPART_FILE_LIMIT_EXCEEDED",
            Var::MultipartFlag(MultipartFlag::HeaderFolding) => "MULTIPART_HEADER_FOLDING",
            Var::MultipartFlag(MultipartFlag::InvalidHeaderFolding) => {
                "MULTIPART_INVALID_HEADER_FOLDING"
            }
            Var::MultipartFlag(MultipartFlag::InvalidPart) => "MULTIPART_INVALID_PART",
            Var::MultipartFlag(MultipartFlag::InvalidQuoting) => "MULTIPART_INVALID_QUOTING",
            Var::MultipartFlag(MultipartFlag::LfLine) => "MULTIPART_LF_LINE",
            Var::MultipartFlag(MultipartFlag::MissingSemicolon) => "MULTIPART_MISSING_SEMICOLON",
            Var::MultipartName => "MULTIPART_NAME",
            Var::MultipartPartHeaders => "MULTIPART_PART_HEADERS",
            Var::MultipartFlag(MultipartFlag::StrictError) => "MULTIPART_STRICT_ERROR",
            Var::MultipartFlag(MultipartFlag::UnmatchedBoundary) => "MULTIPART_UNMATCHED_BOUNDARY",
            Var::OutboundDataError => "OUTBOUND_DATA_ERROR",
            Var::PathInfo => "PATH_INFO",
            Var::QueryString => "QUERY_STRING",
            Var::RemoteAddr => "REMOTE_ADDR",
            Var::RemoteHost => "REMOTE_HOST",
            Var::RemotePort => "REMOTE_PORT",
            Var::RemoteUser => "REMOTE_USER",
            Var::ReqbodyError => "REQBODY_ERROR",
            Var::ReqbodyErrorMsg => "REQBODY_ERROR_MSG",
            Var::ReqbodyProcessor => "REQBODY_PROCESSOR",
            Var::ReqbodyProcessorError => "REQBODY_PROCESSOR_ERROR",
            Var::ReqbodyProcessorErrorMsg => "REQBODY_PROCESSOR_ERROR_MSG",
            Var::RequestBasename => "REQUEST_BASENAME",
            Var::RequestBody => "REQUEST_BODY",
            Var::RequestBodyLength => "REQUEST_BODY_LENGTH",
            Var::RequestCookies => "REQUEST_COOKIES",
            Var::RequestCookiesNames => "REQUEST_COOKIES_NAMES",
            Var::RequestFilename => "REQUEST_FILENAME",
            Var::RequestHeaders => "REQUEST_HEADERS",
            Var::RequestHeadersNames => "REQUEST_HEADERS_NAMES",
            Var::RequestLine => "REQUEST_LINE",
            Var::RequestMethod => "REQUEST_METHOD",
            Var::RequestProtocol => "REQUEST_PROTOCOL",
            Var::RequestUri => "REQUEST_URI",
            Var::RequestUriRaw => "REQUEST_URI_RAW",
            Var::Resource => "RESOURCE",
            Var::ResponseBody => "RESPONSE_BODY",
            Var::ResponseContentLength => "RESPONSE_CONTENT_LENGTH",
            Var::ResponseContentType => "RESPONSE_CONTENT_TYPE",
            Var::ResponseHeaders => "RESPONSE_HEADERS",
            Var::ResponseHeadersNames => "RESPONSE_HEADERS_NAMES",
            Var::ResponseProtocol => "RESPONSE_PROTOCOL",
            Var::ResponseStatus => "RESPONSE_STATUS",
            Var::Rule => "RULE",
            Var::ServerAddr => "SERVER_ADDR",
            Var::ServerName => "SERVER_NAME",
            Var::ServerPort => "SERVER_PORT",
            Var::Session => "SESSION",
            Var::Sessionid => "SESSIONID",
            Var::StatusLine => "STATUS_LINE",
            Var::Time => "TIME",
            Var::TimeDay => "TIME_DAY",
            Var::TimeEpoch => "TIME_EPOCH",
            Var::TimeHour => "TIME_HOUR",
            Var::TimeMin => "TIME_MIN",
            Var::TimeMon => "TIME_MON",
            Var::TimeSec => "TIME_SEC",
            Var::TimeWday => "TIME_WDAY",
            Var::TimeYear => "TIME_YEAR",
            Var::Tx => "TX",
            Var::UniqueId => "UNIQUE_ID",
            Var::UrlencodedError => "URLENCODED_ERROR",
            Var::User => "USER",
            Var::Userid => "USERID",
            Var::WebserverErrorLog => "WEBSERVER_ERROR_LOG",
            Var::Xml => "XML",
        }
    }

    /// Persistent-style collections writable by `setvar` (in-transaction only here).
    pub fn is_writable_collection(self) -> bool {
        matches!(
            self,
            Var::Tx | Var::Ip | Var::Session | Var::User | Var::Global | Var::Resource
        )
    }
}

/// What part of a collection a target selects.
#[derive(Debug, Clone)]
pub enum Sel {
    /// The whole collection (or the scalar).
    All,
    /// One key, lower-cased for case-insensitive comparison; `raw` keeps the original text
    /// (XPath expressions for `XML:` are case-sensitive).
    Key {
        /// Lower-cased key.
        lower: String,
        /// The key as written.
        raw: String,
    },
    /// Keys matching a regular expression (case-insensitive).
    Regex(KeyRegex),
}

/// A selector regular expression (`TX:/^header_name_/`), case-insensitive. The common
/// form `^literal` is answered by a prefix comparison without running the regex.
#[derive(Debug, Clone)]
pub struct KeyRegex {
    re: Regex,
    /// Lower-cased literal every key must start with, when the pattern is `^` + literal.
    prefix: Option<Vec<u8>>,
}

impl KeyRegex {
    fn new(pattern: &str) -> Result<KeyRegex, String> {
        // Byte semantics (ASCII case folding and classes), as PCRE without UTF: keys are
        // bytes, and Unicode tables made these ~20x costlier to compile.
        let re = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .unicode(false)
            .build()
            .map_err(|e| format!("invalid selector regex /{pattern}/: {e}"))?;
        let prefix = pattern
            .strip_prefix('^')
            .filter(|rest| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
            .map(|rest| rest.to_ascii_lowercase().into_bytes());
        Ok(KeyRegex { re, prefix })
    }

    /// Whether `key` matches.
    pub fn is_match(&self, key: &[u8]) -> bool {
        match &self.prefix {
            Some(p) => key
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p)),
            None => self.re.is_match(key),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.re.as_str()
    }
}

impl Sel {
    /// Builds a selector from the AST form.
    pub fn from_ast(sel: Option<&seclang::ast::Selector>) -> Result<Sel, String> {
        Ok(match sel {
            None => Sel::All,
            Some(seclang::ast::Selector::Key(k)) => Sel::Key {
                lower: k.to_ascii_lowercase(),
                raw: k.clone(),
            },
            Some(seclang::ast::Selector::Regex(r)) => Sel::Regex(KeyRegex::new(r)?),
        })
    }

    /// Whether `key` is selected.
    pub fn matches(&self, key: &[u8]) -> bool {
        match self {
            Sel::All => true,
            Sel::Key { lower, .. } => key.eq_ignore_ascii_case(lower.as_bytes()),
            Sel::Regex(r) => r.is_match(key),
        }
    }

    /// The key text for display (`ARGS:foo`).
    pub fn display(&self) -> Option<String> {
        match self {
            Sel::All => None,
            Sel::Key { raw, .. } => Some(raw.clone()),
            Sel::Regex(r) => Some(format!("/{}/", r.as_str())),
        }
    }
}

/// One compiled rule target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The variable.
    pub var: Var,
    /// Which keys.
    pub sel: Sel,
    /// `&VAR`: yields the number of selected elements instead of their values.
    pub count: bool,
}

/// A compiled `!VAR:key` exclusion.
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// The variable excluded from.
    pub var: Var,
    /// The keys excluded (`All` removes the whole variable).
    pub sel: Sel,
}

impl Exclusion {
    /// Whether this exclusion removes element `key` of `var`.
    pub fn excludes(&self, var: Var, key: Option<&[u8]>) -> bool {
        if self.var != var {
            return false;
        }
        match (&self.sel, key) {
            (Sel::All, _) => true,
            (_, None) => false,
            (sel, Some(k)) => sel.matches(k),
        }
    }
}

/// Parses a target spec as written after `ctl:ruleRemoveTargetById=ID;` (e.g. `ARGS:foo`,
/// `REQUEST_COOKIES:/^sess/`, `ARGS`).
pub fn parse_exclusion_text(text: &str) -> Result<Exclusion, String> {
    let text = text.trim();
    let (name, key) = match text.split_once(':') {
        Some((n, k)) => (n, Some(k)),
        None => (text, None),
    };
    let (var, _) = Var::lookup(name.trim()).ok_or_else(|| format!("unknown variable {name}"))?;
    let sel = match key {
        None => Sel::All,
        Some(k) if k.len() >= 2 && k.starts_with('/') && k.ends_with('/') => Sel::from_ast(Some(
            &seclang::ast::Selector::Regex(k[1..k.len() - 1].to_owned()),
        ))?,
        Some(k) => Sel::Key {
            lower: k.to_ascii_lowercase(),
            raw: k.to_owned(),
        },
    };
    Ok(Exclusion { var, sel })
}

#[cfg(test)]
mod key_regex_tests {
    use super::KeyRegex;

    #[test]
    fn prefix_form_agrees_with_the_regex() {
        let keys: &[&[u8]] = &[
            b"header_name_920450_host",
            b"HEADER_NAME_920450_X",
            b"header_name_920450_",
            b"header_name_92045",
            b"xheader_name_920450_a",
            b"",
        ];
        for pat in [
            "^header_name_920450_",
            "^HEADER_name",
            "^a-b",
            "^header.name",
            "name_",
        ] {
            let k = KeyRegex::new(pat).unwrap();
            let plain = regex::bytes::RegexBuilder::new(pat)
                .case_insensitive(true)
                .unicode(false)
                .build()
                .unwrap();
            for key in keys {
                assert_eq!(k.is_match(key), plain.is_match(key), "{pat} {key:?}");
            }
        }
        assert!(KeyRegex::new("^header_name_").unwrap().prefix.is_some());
        assert!(KeyRegex::new("^header.name").unwrap().prefix.is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sorted_unique() {
        for w in VARS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} !< {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn names_round_trip() {
        for (_, var, keyed) in VARS {
            assert_eq!(Var::lookup(var.name()), Some((*var, *keyed)), "{var:?}");
        }
    }

    #[test]
    fn lookup_any_case() {
        assert_eq!(Var::lookup("args"), Some((Var::Args, true)));
        assert_eq!(Var::lookup("REQUEST_URI"), Some((Var::RequestUri, false)));
        assert_eq!(Var::lookup("NOPE"), None);
        assert_eq!(Var::Tx.name(), "TX");
    }

    #[test]
    fn exclusion_text() {
        let e = parse_exclusion_text("ARGS:Foo").unwrap();
        assert!(e.excludes(Var::Args, Some(b"foo")));
        assert!(!e.excludes(Var::Args, Some(b"bar")));
        assert!(!e.excludes(Var::ArgsNames, Some(b"foo")));
        let e = parse_exclusion_text("REQUEST_COOKIES:/^sess/").unwrap();
        assert!(e.excludes(Var::RequestCookies, Some(b"SESSid")));
        let e = parse_exclusion_text("ARGS").unwrap();
        assert!(e.excludes(Var::Args, Some(b"x")));
    }
}
