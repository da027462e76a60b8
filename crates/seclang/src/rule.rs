//! Parsers for the pieces of a rule: the variable list, the operator, the action list and
//! rule id lists. Each works on an argument's value (quotes already removed) and reports
//! errors as byte offsets into that value, which the caller maps to a [`Span`].

use crate::ast::Span;
use crate::ast::{Action, IdRange, Operator, Selector, Variable};
use crate::error::ErrorKind;

/// An error at a byte offset of the value being parsed.
pub(crate) type PieceError = (usize, ErrorKind);

/// Every variable (collection) name libmodsecurity v3 accepts, upper case, sorted.
const VARIABLES: &[&str] = &[
    "ARGS",
    "ARGS_COMBINED_SIZE",
    "ARGS_GET",
    "ARGS_GET_NAMES",
    "ARGS_NAMES",
    "ARGS_POST",
    "ARGS_POST_NAMES",
    "AUTH_TYPE",
    "DURATION",
    "ENV",
    "FILES",
    "FILES_COMBINED_SIZE",
    "FILES_NAMES",
    "FILES_SIZES",
    "FILES_TMPNAMES",
    "FILES_TMP_CONTENT",
    "FULL_REQUEST",
    "FULL_REQUEST_LENGTH",
    "GEO",
    "GLOBAL",
    "HIGHEST_SEVERITY",
    "INBOUND_DATA_ERROR",
    "IP",
    "MATCHED_VAR",
    "MATCHED_VARS",
    "MATCHED_VARS_NAMES",
    "MATCHED_VAR_NAME",
    "MODSEC_BUILD",
    "MSC_PCRE_ERROR",
    "MSC_PCRE_LIMITS_EXCEEDED",
    "MULTIPART_BOUNDARY_QUOTED",
    "MULTIPART_BOUNDARY_WHITESPACE",
    "MULTIPART_CRLF_LF_LINES",
    "MULTIPART_DATA_AFTER",
    "MULTIPART_DATA_BEFORE",
    "MULTIPART_FILENAME",
    "MULTIPART_FILE_LIMIT_EXCEEDED",
    "MULTIPART_HEADER_FOLDING",
    "MULTIPART_INVALID_HEADER_FOLDING",
    "MULTIPART_INVALID_PART",
    "MULTIPART_INVALID_QUOTING",
    "MULTIPART_LF_LINE",
    "MULTIPART_MISSING_SEMICOLON",
    "MULTIPART_NAME",
    "MULTIPART_PART_HEADERS",
    "MULTIPART_SEMICOLON_MISSING",
    "MULTIPART_STRICT_ERROR",
    "MULTIPART_UNMATCHED_BOUNDARY",
    "OUTBOUND_DATA_ERROR",
    "PATH_INFO",
    "QUERY_STRING",
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "REMOTE_PORT",
    "REMOTE_USER",
    "REQBODY_ERROR",
    "REQBODY_ERROR_MSG",
    "REQBODY_PROCESSOR",
    "REQBODY_PROCESSOR_ERROR",
    "REQBODY_PROCESSOR_ERROR_MSG",
    "REQUEST_BASENAME",
    "REQUEST_BODY",
    "REQUEST_BODY_LENGTH",
    "REQUEST_COOKIES",
    "REQUEST_COOKIES_NAMES",
    "REQUEST_FILENAME",
    "REQUEST_HEADERS",
    "REQUEST_HEADERS_NAMES",
    "REQUEST_LINE",
    "REQUEST_METHOD",
    "REQUEST_PROTOCOL",
    "REQUEST_URI",
    "REQUEST_URI_RAW",
    "RESOURCE",
    "RESPONSE_BODY",
    "RESPONSE_CONTENT_LENGTH",
    "RESPONSE_CONTENT_TYPE",
    "RESPONSE_HEADERS",
    "RESPONSE_HEADERS_NAMES",
    "RESPONSE_PROTOCOL",
    "RESPONSE_STATUS",
    "RULE",
    "SERVER_ADDR",
    "SERVER_NAME",
    "SERVER_PORT",
    "SESSION",
    "SESSIONID",
    "STATUS",
    "STATUS_LINE",
    "TIME",
    "TIME_DAY",
    "TIME_EPOCH",
    "TIME_HOUR",
    "TIME_MIN",
    "TIME_MON",
    "TIME_SEC",
    "TIME_WDAY",
    "TIME_YEAR",
    "TX",
    "UNIQUE_ID",
    "URLENCODED_ERROR",
    "USER",
    "USERID",
    "WEBAPPID",
    "WEBSERVER_ERROR_LOG",
    "XML",
];

/// Whether an action takes a value after `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// `chain`, `pass`, ...: never.
    No,
    /// `allow`, `allow:request`: either.
    Optional,
    /// `id:1`, `msg:'...'`: always.
    Required,
}

/// Every action name libmodsecurity v3 accepts (lower case, sorted) and its value rule.
const ACTIONS: &[(&str, Value)] = &[
    ("accuracy", Value::Required),
    ("allow", Value::Optional),
    ("append", Value::Required),
    ("auditlog", Value::No),
    ("block", Value::No),
    ("capture", Value::No),
    ("chain", Value::No),
    ("ctl", Value::Required),
    ("deny", Value::No),
    ("deprecatevar", Value::Required),
    ("drop", Value::No),
    ("exec", Value::Required),
    ("expirevar", Value::Required),
    ("id", Value::Required),
    ("initcol", Value::Required),
    ("log", Value::No),
    ("logdata", Value::Required),
    ("maturity", Value::Required),
    ("msg", Value::Required),
    ("multimatch", Value::No),
    ("noauditlog", Value::No),
    ("nolog", Value::No),
    ("pass", Value::No),
    ("pause", Value::Required),
    ("phase", Value::Required),
    ("prepend", Value::Required),
    ("proxy", Value::Required),
    ("redirect", Value::Required),
    ("rev", Value::Required),
    ("sanitisearg", Value::Required),
    ("sanitisematched", Value::No),
    ("sanitisematchedbytes", Value::Optional),
    ("sanitiserequestheader", Value::Required),
    ("sanitiseresponseheader", Value::Required),
    ("setenv", Value::Required),
    ("setrsc", Value::Required),
    ("setsid", Value::Required),
    ("setuid", Value::Required),
    ("setvar", Value::Required),
    ("severity", Value::Required),
    ("skip", Value::Required),
    ("skipafter", Value::Required),
    ("status", Value::Required),
    ("t", Value::Required),
    ("tag", Value::Required),
    ("ver", Value::Required),
    ("xmlns", Value::Required),
];

fn action_value_rule(name: &str) -> Option<Value> {
    ACTIONS
        .binary_search_by(|(probe, _)| cmp_ignore_ascii_case(probe, name))
        .ok()
        .and_then(|i| ACTIONS.get(i))
        .map(|(_, v)| *v)
}

/// Whether `name` (any case) is an action libmodsecurity knows.
#[cfg(test)]
pub(crate) fn is_known_action(name: &str) -> bool {
    action_value_rule(name).is_some()
}

/// Whether `name` (any case) is a variable libmodsecurity knows.
pub(crate) fn is_known_variable(name: &str) -> bool {
    VARIABLES
        .binary_search_by(|probe| cmp_ignore_ascii_case(probe, name))
        .is_ok()
}

fn cmp_ignore_ascii_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_uppercase())
        .cmp(b.bytes().map(|c| c.to_ascii_uppercase()))
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Reads a single-quoted string starting at `open` (the quote). `\'` does not end it; like
/// every backslash pair it is kept verbatim (as libmodsecurity does). Returns the value and
/// the offset after the closing quote.
fn single_quoted(s: &str, open: usize) -> Result<(String, usize), PieceError> {
    let bytes = s.as_bytes();
    let mut j = open + 1;
    while let Some(&b) = bytes.get(j) {
        match b {
            b'\\' => j += 2,
            b'\'' => {
                let value = s.get(open + 1..j).unwrap_or_default().to_owned();
                return Ok((value, j + 1));
            }
            _ => j += 1,
        }
    }
    Err((open, ErrorKind::UnterminatedSingleQuote))
}

/// If a `/regex/` selector opens at `open`, the offset of its closing slash. The closing
/// slash must end the entry (be followed by `|` or the end); a backslash escapes the next
/// byte, and a `|` always ends the entry (libmodsecurity rejects it inside the regex).
pub(crate) fn regex_close(bytes: &[u8], open: usize) -> Option<usize> {
    let mut j = open + 1;
    while let Some(&b) = bytes.get(j) {
        match b {
            b'|' => return None,
            b'\\' if bytes.get(j + 1) == Some(&b'|') => return None,
            b'\\' => j += 2,
            b'/' => {
                return matches!(bytes.get(j + 1), None | Some(b'|')).then_some(j);
            }
            _ => j += 1,
        }
    }
    None
}

/// Reads a plain key from `*i` up to `|` or the end; blanks and quotes are not allowed.
fn plain_key(s: &str, i: &mut usize) -> Result<String, PieceError> {
    let bytes = s.as_bytes();
    let start = *i;
    while let Some(&b) = bytes.get(*i).filter(|&&b| b != b'|') {
        if is_blank(b) || b == b'"' {
            return Err((
                *i,
                ErrorKind::BadVariable("unexpected character in key".to_owned()),
            ));
        }
        *i += 1;
    }
    if *i == start {
        return Err((
            start,
            ErrorKind::BadVariable("empty key after `:`".to_owned()),
        ));
    }
    Ok(s.get(start..*i).unwrap_or_default().to_owned())
}

/// Parses a `|`-separated variable list. `span_at` maps a byte offset of `s` to a span.
pub(crate) fn parse_variables(
    s: &str,
    span_at: &dyn Fn(usize) -> Span,
) -> Result<Vec<Variable>, PieceError> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        let negated = bytes.get(i) == Some(&b'!');
        let count = bytes.get(i) == Some(&b'&');
        if negated || count {
            i += 1;
            if matches!(bytes.get(i), Some(b'!' | b'&')) {
                return Err((
                    i,
                    ErrorKind::BadVariable("`!` and `&` cannot be combined".to_owned()),
                ));
            }
        }
        let name_start = i;
        while bytes.get(i).is_some_and(|&b| is_word(b)) {
            i += 1;
        }
        let name = s.get(name_start..i).unwrap_or_default();
        if name.is_empty() {
            let what = if bytes.get(i).is_none() && out.is_empty() && start == name_start {
                "empty variable list".to_owned()
            } else {
                "expected a variable name".to_owned()
            };
            return Err((i, ErrorKind::BadVariable(what)));
        }
        if !is_known_variable(name) {
            return Err((
                name_start,
                ErrorKind::BadVariable(format!("unknown variable `{name}`")),
            ));
        }
        let mut selector = None;
        if bytes.get(i) == Some(&b':') {
            i += 1;
            let is_xml = name.eq_ignore_ascii_case("XML");
            match bytes.get(i) {
                Some(b'\'') => {
                    let (key, next) = single_quoted(s, i)?;
                    selector = Some(Selector::Key(key));
                    i = next;
                }
                Some(b'/') if !is_xml => match regex_close(bytes, i) {
                    Some(close) => {
                        let re = s.get(i + 1..close).unwrap_or_default();
                        selector = Some(Selector::Regex(re.to_owned()));
                        i = close + 1;
                    }
                    // Not a complete `/regex/`: libmodsecurity reads it as a plain key.
                    None => selector = Some(Selector::Key(plain_key(s, &mut i)?)),
                },
                _ => selector = Some(Selector::Key(plain_key(s, &mut i)?)),
            }
        }
        out.push(Variable {
            span: span_at(start),
            negated,
            count,
            name: name.to_owned(),
            selector,
        });
        match bytes.get(i) {
            None => break,
            Some(b'|') => {
                i += 1;
                if bytes.get(i).is_none() {
                    return Err((
                        i.saturating_sub(1),
                        ErrorKind::BadVariable("trailing `|`".to_owned()),
                    ));
                }
            }
            Some(_) => {
                return Err((
                    i,
                    ErrorKind::BadVariable("unexpected character after variable".to_owned()),
                ));
            }
        }
    }
    Ok(out)
}

/// Parses an operator string: `[!]@name[ argument]`, or a bare regex meaning `@rx`.
pub(crate) fn parse_operator(s: &str, span: Span) -> Result<Operator, PieceError> {
    let bytes = s.as_bytes();
    if s.is_empty() {
        return Err((0, ErrorKind::BadOperator("empty operator".to_owned())));
    }
    let mut i = 0;
    while bytes.get(i).is_some_and(|&b| is_blank(b)) {
        i += 1;
    }
    let negated = bytes.get(i) == Some(&b'!');
    if negated {
        i += 1;
    }
    let mut j = i;
    while bytes.get(j).is_some_and(|&b| is_blank(b)) {
        j += 1;
    }
    if bytes.get(j) != Some(&b'@') {
        // No operator name: the whole string (after a leading `!`) is a regex.
        let from = if bytes.first() == Some(&b'!') { 1 } else { 0 };
        return Ok(Operator {
            span,
            negated,
            name: "rx".to_owned(),
            argument: s.get(from..).unwrap_or_default().to_owned(),
        });
    }
    let name_start = j + 1;
    let mut k = name_start;
    while bytes.get(k).is_some_and(|&b| is_word(b)) {
        k += 1;
    }
    let name = s.get(name_start..k).unwrap_or_default();
    if name.is_empty() {
        return Err((
            j,
            ErrorKind::BadOperator("missing name after `@`".to_owned()),
        ));
    }
    let argument = match bytes.get(k) {
        None => "",
        Some(&b) if is_blank(b) => s.get(k + 1..).unwrap_or_default(),
        Some(_) => {
            return Err((
                k,
                ErrorKind::BadOperator(format!(
                    "unexpected character after operator name `@{name}`"
                )),
            ));
        }
    };
    Ok(Operator {
        span,
        negated,
        name: name.to_owned(),
        argument: argument.to_owned(),
    })
}

/// Parses a comma-separated action list.
pub(crate) fn parse_actions(
    s: &str,
    span_at: &dyn Fn(usize) -> Span,
) -> Result<Vec<Action>, PieceError> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut after_comma = false;
    let mut last_comma = 0;
    loop {
        while bytes.get(i).is_some_and(|&b| is_blank(b)) {
            i += 1;
        }
        if i >= bytes.len() {
            if !after_comma {
                break;
            }
            // A trailing comma (libmodsecurity rejects it).
            return Err((
                i.min(last_comma),
                ErrorKind::BadAction("empty action".to_owned()),
            ));
        }
        if bytes.get(i) == Some(&b',') {
            return Err((i, ErrorKind::BadAction("empty action".to_owned())));
        }
        let name_start = i;
        while bytes.get(i).is_some_and(|&b| is_word(b)) {
            i += 1;
        }
        let name = s.get(name_start..i).unwrap_or_default();
        if name.is_empty() {
            return Err((
                name_start,
                ErrorKind::BadAction("expected an action name".to_owned()),
            ));
        }
        let Some(rule) = action_value_rule(name) else {
            return Err((
                name_start,
                ErrorKind::BadAction(format!("unknown action `{name}`")),
            ));
        };
        let value = match bytes.get(i) {
            None | Some(b',') => None,
            Some(&b) if is_blank(b) => {
                while bytes.get(i).is_some_and(|&b| is_blank(b)) {
                    i += 1;
                }
                match bytes.get(i) {
                    None | Some(b',') => None,
                    Some(_) => {
                        return Err((
                            i,
                            ErrorKind::BadAction(format!("unexpected text after action `{name}`")),
                        ));
                    }
                }
            }
            Some(b':') => {
                i += 1;
                while bytes.get(i).is_some_and(|&b| is_blank(b)) {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'\'') {
                    let (v, next) = single_quoted(s, i)?;
                    i = next;
                    while bytes.get(i).is_some_and(|&b| is_blank(b)) {
                        i += 1;
                    }
                    if bytes.get(i).is_some_and(|&b| b != b',') {
                        return Err((
                            i,
                            ErrorKind::BadAction(format!(
                                "unexpected text after quoted value of `{name}`"
                            )),
                        ));
                    }
                    Some(v)
                } else {
                    let v_start = i;
                    while bytes.get(i).is_some_and(|&b| b != b',') {
                        i += 1;
                    }
                    let v = s
                        .get(v_start..i)
                        .unwrap_or_default()
                        .trim_end_matches(|c: char| c.is_ascii_whitespace());
                    Some(v.to_owned())
                }
            }
            Some(_) => {
                return Err((
                    i,
                    ErrorKind::BadAction(format!("unexpected character after action `{name}`")),
                ));
            }
        };
        match (rule, &value) {
            (Value::No, Some(_)) => {
                return Err((
                    name_start,
                    ErrorKind::BadAction(format!("action `{name}` takes no value")),
                ));
            }
            (Value::Required, None) => {
                return Err((
                    name_start,
                    ErrorKind::BadAction(format!("action `{name}` needs a value")),
                ));
            }
            _ => {}
        }
        out.push(Action {
            span: span_at(name_start),
            name: name.to_owned(),
            value,
        });
        // `i` is at the separating comma or the end.
        after_comma = bytes.get(i) == Some(&b',');
        if after_comma {
            last_comma = i;
            i += 1;
        }
    }
    Ok(out)
}

/// Parses rule ids and ranges separated by blanks or commas: `1 2,100-200`.
pub(crate) fn parse_ids(s: &str) -> Result<Vec<IdRange>, PieceError> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|&b| is_blank(b) || b == b',') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while bytes.get(i).is_some_and(|&b| !is_blank(b) && b != b',') {
            i += 1;
        }
        let word = s.get(start..i).unwrap_or_default();
        let bad = || (start, ErrorKind::BadId(word.to_owned()));
        let range = match word.split_once('-') {
            Some((a, b)) => {
                let a = parse_id(a).ok_or_else(bad)?;
                let b = parse_id(b).ok_or_else(bad)?;
                if a > b {
                    return Err(bad());
                }
                IdRange { start: a, end: b }
            }
            None => {
                let a = parse_id(word).ok_or_else(bad)?;
                IdRange { start: a, end: a }
            }
        };
        out.push(range);
    }
    if out.is_empty() {
        return Err((0, ErrorKind::BadId(s.to_owned())));
    }
    Ok(out)
}

/// A rule id: decimal digits only, fitting in `u64`.
pub(crate) fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn sp(off: usize) -> Span {
        Span {
            file: Arc::from("t"),
            line: 1,
            col: u32::try_from(off + 1).unwrap(),
        }
    }

    #[test]
    fn action_table_is_sorted_and_unique() {
        assert!(ACTIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(ACTIONS.iter().all(|a| a.0 == a.0.to_ascii_lowercase()));
        assert!(is_known_action("skipAfter"));
        assert!(is_known_action("MultiMatch"));
        assert!(!is_known_action("nolgo"));
        assert!(matches!(
            parse_actions("id:1,nolgo", &sp),
            Err((5, ErrorKind::BadAction(m))) if m == "unknown action `nolgo`"
        ));
    }

    #[test]
    fn variable_table_is_sorted_and_unique() {
        assert!(VARIABLES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_known_variable("request_headers"));
        assert!(!is_known_variable("NOPE"));
    }

    fn vars(s: &str) -> Vec<String> {
        parse_variables(s, &sp)
            .unwrap()
            .iter()
            .map(|v| {
                let sel = match &v.selector {
                    None => String::new(),
                    Some(Selector::Key(k)) => format!("=key[{k}]"),
                    Some(Selector::Regex(r)) => format!("=re[{r}]"),
                };
                format!(
                    "{}{}{}{}@{}",
                    if v.negated { "!" } else { "" },
                    if v.count { "&" } else { "" },
                    v.name,
                    sel,
                    v.span.col
                )
            })
            .collect()
    }

    #[test]
    fn variable_lists() {
        let cases: &[(&str, &[&str])] = &[
            ("ARGS", &["ARGS@1"]),
            ("ARGS|!ARGS:foo", &["ARGS@1", "!ARGS=key[foo]@6"]),
            ("&TX:x", &["&TX=key[x]@1"]),
            ("ARGS:/^id_x/|TX:0", &["ARGS=re[^id_x]@1", "TX=key[0]@14"]),
            ("ARGS:/a\\|TX", &["ARGS=key[/a\\]@1", "TX@10"]),
            (r"ARGS:/a\/b/", &[r"ARGS=re[a\/b]@1"]),
            ("XML:/*", &["XML=key[/*]@1"]),
            ("XML://@*", &["XML=key[//@*]@1"]),
            (
                "REQUEST_HEADERS:User-Agent",
                &["REQUEST_HEADERS=key[User-Agent]@1"],
            ),
            ("ARGS:'a|b'|args", &["ARGS=key[a|b]@1", "args@12"]),
            (r"ARGS:'it\'s'", &[r"ARGS=key[it\'s]@1"]),
            ("ARGS:/abc", &["ARGS=key[/abc]@1"]),
            ("ARGS:/abc/x|TX", &["ARGS=key[/abc/x]@1", "TX@13"]),
        ];
        for (s, want) in cases {
            assert_eq!(vars(s), *want, "{s}");
        }
    }

    #[test]
    fn bad_variables() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty variable list"),
            ("FOO", 0, "unknown variable `FOO`"),
            ("ARGS|", 4, "trailing `|`"),
            ("ARGS||TX", 5, "expected a variable name"),
            ("request_cookies:", 16, "empty key after `:`"),
            ("ARGS:|TX", 5, "empty key after `:`"),
            (
                "ARGS | ARGS_NAMES",
                4,
                "unexpected character after variable",
            ),
            ("ARGS:a b", 6, "unexpected character in key"),
            ("ARGS:/a|b/", 8, "unknown variable `b`"),
            ("!&ARGS", 1, "`!` and `&` cannot be combined"),
            ("&!ARGS", 1, "`!` and `&` cannot be combined"),
            ("ARGS:'abc", 5, ""),
            ("ARGS.x", 4, "unexpected character after variable"),
        ];
        for (s, off, msg) in cases {
            let (o, kind) = parse_variables(s, &sp).unwrap_err();
            assert_eq!(o, *off, "{s}");
            if !msg.is_empty() {
                assert_eq!(kind, ErrorKind::BadVariable((*msg).to_owned()), "{s}");
            }
        }
    }

    #[test]
    fn operators() {
        let cases: &[(&str, bool, &str, &str)] = &[
            ("@rx ^a b", false, "rx", "^a b"),
            ("!@rx a", true, "rx", "a"),
            ("@rx  two", false, "rx", " two"),
            ("@unconditionalMatch", false, "unconditionalMatch", ""),
            ("attack", false, "rx", "attack"),
            ("!attack", true, "rx", "attack"),
            ("@pmFromFile a.data", false, "pmFromFile", "a.data"),
            ("@eq 0", false, "eq", "0"),
        ];
        for (s, neg, name, arg) in cases {
            let op = parse_operator(s, sp(0)).unwrap();
            assert_eq!(
                (op.negated, op.name.as_str(), op.argument.as_str()),
                (*neg, *name, *arg),
                "{s}"
            );
        }
        assert!(parse_operator("@ x", sp(0)).is_err());
        assert!(parse_operator("", sp(0)).is_err());
        assert!(parse_operator("@rx/x", sp(0)).is_err());
    }

    fn acts(s: &str) -> Vec<(String, Option<String>)> {
        parse_actions(s, &sp)
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect()
    }

    #[test]
    fn action_lists() {
        let o = |s: &str| Some(s.to_owned());
        type Case<'a> = (&'a str, Vec<(&'a str, Option<String>)>);
        let cases: Vec<Case<'_>> = vec![
            (
                "id:1,phase:2,deny",
                vec![("id", o("1")), ("phase", o("2")), ("deny", None)],
            ),
            ("chain", vec![("chain", None)]),
            (
                "  id:1,    pass,   nolog",
                vec![("id", o("1")), ("pass", None), ("nolog", None)],
            ),
            (
                "msg:'a, b',t:none",
                vec![("msg", o("a, b")), ("t", o("none"))],
            ),
            (r"msg:'it\'s \d'", vec![("msg", o(r"it\'s \d"))]),
            (
                "setvar:'tx.a=+%{tx.b}'",
                vec![("setvar", o("tx.a=+%{tx.b}"))],
            ),
            (
                "ctl:ruleRemoveTargetById=1;ARGS:x",
                vec![("ctl", o("ruleRemoveTargetById=1;ARGS:x"))],
            ),
            ("msg:''", vec![("msg", o(""))]),
            ("", vec![]),
        ];
        for (s, want) in cases {
            let want: Vec<(String, Option<String>)> =
                want.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
            assert_eq!(acts(s), want, "{s}");
        }
        assert!(matches!(
            parse_actions("msg:'abc", &sp),
            Err((4, ErrorKind::UnterminatedSingleQuote))
        ));
        assert!(parse_actions("msg:'a'b", &sp).is_err());
        for bad in [
            "id:1,",
            "id:1,,pass",
            ",id:1",
            "msg :'x'",
            "pass:1",
            "msg",
            "id",
            "chain:1",
        ] {
            assert!(parse_actions(bad, &sp).is_err(), "{bad}");
        }
        assert_eq!(acts("allow"), vec![("allow".to_owned(), None)]);
        assert_eq!(
            acts("allow:request"),
            vec![("allow".to_owned(), Some("request".to_owned()))]
        );
        assert!(parse_actions("-x", &sp).is_err());
    }

    #[test]
    fn ids() {
        assert_eq!(
            parse_ids("1 2,100-200").unwrap(),
            vec![
                IdRange { start: 1, end: 1 },
                IdRange { start: 2, end: 2 },
                IdRange {
                    start: 100,
                    end: 200
                }
            ]
        );
        assert!(parse_ids("x").is_err());
        assert!(parse_ids("5-1").is_err());
        assert!(parse_ids("").is_err());
        assert!(parse_ids("99999999999999999999999").is_err());
    }
}
