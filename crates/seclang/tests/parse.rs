#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Table tests for the public parsing API: quoting, continuations, errors, includes.

use std::path::Path;

use seclang::ast::{DirectiveKind, Rule, Selector};
use seclang::internal::strip_spans;
use seclang::loader::MemLoader;
use seclang::{
    ErrorKind, Options, parse_file, parse_file_with_recovery, parse_str, parse_with,
    parse_with_recovery, print,
};

fn rule(text: &str) -> Rule {
    let dirs = parse_str(text, "t.conf").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dirs.len(), 1, "{text}");
    match dirs.into_iter().next().unwrap().kind {
        DirectiveKind::Rule(r) => r,
        other => panic!("not a rule: {other:?}"),
    }
}

fn err(text: &str) -> seclang::ParseError {
    parse_str(text, "t.conf").expect_err(text)
}

fn roundtrip(text: &str) {
    let a = parse_str(text, "t.conf").unwrap();
    let printed = print(&a);
    let b = parse_str(&printed, "p.conf").unwrap_or_else(|e| panic!("{printed}\n{e}"));
    assert_eq!(strip_spans(a), strip_spans(b), "{printed}");
}

#[test]
fn error_display_format_is_locked() {
    let e = err("SecRuleEngine On\n  SecFoo bar\n");
    assert_eq!(
        e.to_string(),
        "t.conf:2:3: unknown directive `SecFoo`\n  SecFoo bar\n  ^"
    );
    assert_eq!((e.span().line, e.span().col), (2, 3));
    assert_eq!(e.kind(), &ErrorKind::UnknownDirective("SecFoo".to_owned()));

    // Tabs are kept in the caret line so it lines up.
    let e = err("\tSecRule ARGS \"@rx a\" \"id:1,msg:'x\"");
    assert_eq!(
        e.to_string(),
        "t.conf:1:33: unterminated single-quoted value\n\tSecRule ARGS \"@rx a\" \"id:1,msg:'x\"\n\t                               ^"
    );
}

#[test]
fn error_table() {
    let cases: &[(&str, (u32, u32), &str)] = &[
        ("SecFoo On", (1, 1), "unknown directive `SecFoo`"),
        (
            "SecRuleScript /x.lua",
            (1, 1),
            "directive `SecRuleScript` is not supported",
        ),
        ("\"SecRule\" ARGS x", (1, 1), "unknown directive `SecRule`"),
        (
            "SecRule ARGS \"@rx a",
            (1, 14),
            "unterminated quoted argument",
        ),
        (
            "SecRule ARGS \\\n  \"@rx a\" \\\n  \"id:1",
            (3, 3),
            "unterminated quoted argument",
        ),
        (
            "SecRule ARGS \"@rx a\"x",
            (1, 21),
            "expected whitespace after closing quote",
        ),
        ("SecRule ARGS", (1, 13), "missing operator"),
        ("SecRule ARGS  ", (1, 13), "missing operator"),
        ("SecRule", (1, 8), "SecRule: missing argument (variables)"),
        (
            "SecRule FOO \"@rx a\"",
            (1, 9),
            "bad variable: unknown variable `FOO`",
        ),
        (
            "SecRule \"ARGS|FOO\" \"@rx a\"",
            (1, 15),
            "bad variable: unknown variable `FOO`",
        ),
        (
            "SecRule ARGS| \"@rx a\"",
            (1, 13),
            "bad variable: trailing `|`",
        ),
        (
            "SecRule !&ARGS \"@rx a\"",
            (1, 10),
            "bad variable: `!` and `&` cannot be combined",
        ),
        (
            "SecRule \"ARGS:\" \"@rx a\"",
            (1, 15),
            "bad variable: empty key after `:`",
        ),
        (
            "SecRule ARGS \"@rx a\" \"id:1,pass,\"",
            (1, 32),
            "bad action: empty action",
        ),
        (
            "SecRule ARGS \"@rx a\" \"id:1,pass:1\"",
            (1, 28),
            "bad action: action `pass` takes no value",
        ),
        (
            "SecRule ARGS \"@rx a\" \"id,pass\"",
            (1, 23),
            "bad action: action `id` needs a value",
        ),
        (
            "SecRule ARGS \"@ a\"",
            (1, 15),
            "bad operator: missing name after `@`",
        ),
        (
            "SecRule ARGS \"@rx a\" \"id:1,-\"",
            (1, 28),
            "bad action: expected an action name",
        ),
        (
            "SecRule ARGS \"@rx a\" \"id:1\" x",
            (1, 29),
            "SecRule: too many arguments (at most 3)",
        ),
        (
            "SecAction",
            (1, 10),
            "SecAction: missing argument (actions)",
        ),
        (
            "SecAction \"id:1,\\\n  nolgo\"",
            (2, 3),
            "bad action: unknown action `nolgo`",
        ),
        ("SecRuleRemoveById 1 x", (1, 21), "bad rule id `x`"),
        ("SecRuleRemoveById 10-1", (1, 19), "bad rule id `10-1`"),
        (
            "SecRuleUpdateTargetById 1",
            (1, 26),
            "SecRuleUpdateTargetById: missing argument (targets)",
        ),
        (
            "SecRuleUpdateActionById x \"pass\"",
            (1, 25),
            "bad rule id `x`",
        ),
        (
            "SecRuleEngine",
            (1, 14),
            "SecRuleEngine: missing argument (On, Off or DetectionOnly)",
        ),
        (
            "SecRuleEngine Yes",
            (1, 15),
            "SecRuleEngine: bad value `Yes` (expected On, Off or DetectionOnly)",
        ),
        (
            "SecRuleEngine On Off",
            (1, 18),
            "SecRuleEngine: too many arguments (at most 1)",
        ),
        (
            "SecRequestBodyLimit 13MB",
            (1, 21),
            "SecRequestBodyLimit: bad value `13MB` (expected a number)",
        ),
        (
            "SecAuditLogParts ABX",
            (1, 18),
            "SecAuditLogParts: bad value `ABX` (expected audit log parts (letters A-K, Z))",
        ),
        (
            "SecResponseBodyMimeTypesClear x",
            (1, 31),
            "SecResponseBodyMimeTypesClear: too many arguments (at most 0)",
        ),
        ("Include other.conf", (1, 1), "Include not allowed here"),
        (
            "IncludeOptional other.conf",
            (1, 1),
            "Include not allowed here",
        ),
    ];
    for (text, (line, col), reason) in cases {
        let e = err(text);
        assert_eq!(e.kind().to_string(), *reason, "{text}");
        assert_eq!((e.span().line, e.span().col), (*line, *col), "{text}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("t.conf:{line}:{col}: {reason}\n"))
        );
    }
}

#[test]
fn quoting_rules() {
    // `\"` does not end the argument; it and every other backslash pair are kept verbatim,
    // as libmodsecurity hands them on (`@contains a\"b` looks for a backslash).
    let r = rule(r#"SecRule ARGS "@rx [\"'\`]\s*\\\d" "id:1""#);
    assert_eq!(r.operator.argument, r#"[\"'\`]\s*\\\d"#);
    let r = rule(r#"SecRule RESPONSE_BODY "@contains <h1 style=\"m\">" "id:1""#);
    assert_eq!(r.operator.argument, r#"<h1 style=\"m\">"#);
    // Unquoted operator and actions.
    let r = rule("SecRule ARGS @unconditionalMatch id:1,pass");
    assert_eq!(r.operator.name, "unconditionalMatch");
    assert_eq!(r.operator.argument, "");
    assert_eq!(r.actions.len(), 2);
    // Single-quoted values: commas and escaped quotes (kept verbatim, as libmodsecurity).
    let r = rule(r#"SecRule ARGS "x" "msg:'a, b \'c\'',tag:'x\d',logdata:'%{MATCHED_VAR}'""#);
    let vals: Vec<_> = r.actions.iter().map(|a| a.value.clone().unwrap()).collect();
    assert_eq!(vals, vec![r"a, b \'c\'", r"x\d", "%{MATCHED_VAR}"]);
    // Quoted id as in the recommended configuration.
    let r = rule(r#"SecRule REQBODY_ERROR "!@eq 0" "id:'200001', phase:2,t:none,deny""#);
    assert!(r.operator.negated);
    assert_eq!(r.actions[0].value.as_deref(), Some("200001"));
    assert_eq!(r.actions[1].name, "phase");
    // Variables: quoted keys, regex keys, XPath keys, counts and exclusions.
    let r = rule(r#"SecRule "ARGS:'a b'|!ARGS:/^x(?:y)$/|&TX:0|XML:/*|XML://@*" "@rx a""#);
    let sels: Vec<_> = r
        .variables
        .iter()
        .map(|v| v.selector.clone().unwrap())
        .collect();
    assert_eq!(
        sels,
        vec![
            Selector::Key("a b".into()),
            Selector::Regex("^x(?:y)$".into()),
            Selector::Key("0".into()),
            Selector::Key("/*".into()),
            Selector::Key("//@*".into()),
        ]
    );
    assert!(r.variables[1].negated && r.variables[2].count);
    // Names are case-insensitive and kept as written.
    let dirs = parse_str("secrule args \"@rx a\" \"id:1\"\nSECRULEENGINE On", "t").unwrap();
    assert!(
        matches!(&dirs[1].kind, DirectiveKind::Setting { name, args } if name == "SECRULEENGINE" && args == &["On"])
    );
    match &dirs[0].kind {
        DirectiveKind::Rule(r) => assert_eq!(r.variables[0].name, "args"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn continuation_rules_and_spans() {
    let text = "#SecRule ARGS \\\n  \"swallowed\"\n\nSecRule ARGS|\\\nARGS_NAMES \\\n    \"@rx a\" \\\n    \"id:1,\\\n    phase:2,\\\n    msg:'multi \\\nline'\"\n";
    let dirs = parse_str(text, "t.conf").unwrap();
    assert_eq!(dirs.len(), 1);
    let d = &dirs[0];
    assert_eq!((d.span.line, d.span.col), (4, 1));
    let DirectiveKind::Rule(r) = &d.kind else {
        panic!()
    };
    assert_eq!(r.variables.len(), 2);
    assert_eq!((r.variables[1].span.line, r.variables[1].span.col), (5, 1));
    assert_eq!((r.operator.span.line, r.operator.span.col), (6, 6));
    let spans: Vec<_> = r
        .actions
        .iter()
        .map(|a| (a.span.line, a.span.col))
        .collect();
    assert_eq!(spans, vec![(7, 6), (8, 5), (9, 5)]);
    assert_eq!(r.actions[2].value.as_deref(), Some("multi line"));
    // A plain comment ending in a backslash does not continue; trailing comments.
    let dirs = parse_str(
        "# note \\\nSecRuleEngine On # comment\nSecRule ARGS \"x\" \"id:1\" # c",
        "t",
    )
    .unwrap();
    assert_eq!(dirs.len(), 2);
    // CRLF line endings.
    let dirs = parse_str("SecRule ARGS \\\r\n \"@rx a\"\r\nSecMarker END\r\n", "t").unwrap();
    assert_eq!(dirs.len(), 2);
    assert!(matches!(&dirs[1].kind, DirectiveKind::Marker(m) if m == "END"));
}

#[test]
fn other_directives() {
    let text = r#"
SecRuleRemoveById 920100 "920200-920299" 942100,942101
SecRuleRemoveByTag "attack-sqli"
SecRuleRemoveByMsg "SQL Injection"
SecRuleUpdateTargetById 942100 "!ARGS:foo|!REQUEST_COOKIES:/^bar/"
SecRuleUpdateTargetById 942100 ARGS:x REQUEST_URI
SecRuleUpdateTargetByTag "attack-xss" "!ARGS:comment"
SecRuleUpdateTargetByMsg "XSS" "!ARGS:comment"
SecRuleUpdateActionById 942100 "pass,nolog"
SecDefaultAction "phase:2,log,auditlog,pass"
SecMarker "END-HOST-CHECK"
SecComponentSignature "OWASP_CRS/4.28.0"
SecResponseBodyMimeType text/plain text/html text/xml
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecArgumentSeparator &
SecUnicodeMapFile unicode.mapping 20127
"#;
    let dirs = parse_str(text, "t").unwrap();
    assert_eq!(dirs.len(), 15);
    match &dirs[0].kind {
        DirectiveKind::RemoveById(ids) => {
            let got: Vec<_> = ids.iter().map(|r| (r.start, r.end)).collect();
            assert_eq!(
                got,
                vec![
                    (920100, 920100),
                    (920200, 920299),
                    (942100, 942100),
                    (942101, 942101)
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    match &dirs[4].kind {
        DirectiveKind::UpdateTargetById {
            targets, replaced, ..
        } => {
            assert_eq!(targets[0].name, "ARGS");
            assert_eq!(replaced.as_ref().unwrap().name, "REQUEST_URI");
        }
        other => panic!("{other:?}"),
    }
    match &dirs[11].kind {
        DirectiveKind::Setting { args, .. } => assert_eq!(args.len(), 3),
        other => panic!("{other:?}"),
    }
    match &dirs[12].kind {
        DirectiveKind::Setting { args, .. } => assert_eq!(args, &["^(?:5|4(?!04))"]),
        other => panic!("{other:?}"),
    }
    roundtrip(text);
}

/// Directive forms used by ModSecurity's `modsecurity.conf-recommended` (v3).
#[test]
fn recommended_configuration_forms() {
    let text = r#"
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
     "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
     "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecRule &ARGS "@ge 1000" \
"id:'200007', phase:2,t:none,log,deny,status:400,msg:'Too many arguments',severity:2"
SecRule REQBODY_ERROR "!@eq 0" \
"id:'200002', phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
"id:'200003',phase:2,t:none,log,deny,status:400, \
msg:'Multipart request body failed strict validation: \
PE %{REQBODY_PROCESSOR_ERROR}, \
BQ %{MULTIPART_BOUNDARY_QUOTED}'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \
    "id:'200004',phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecRule TX:/^MSC_/ "!@streq 0" \
        "id:'200005',phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'"
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecTmpDir /tmp/
SecDataDir /tmp/
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABIJDEFHZ
SecAuditLogType Serial
SecAuditLog /var/log/modsec_audit.log
SecArgumentSeparator &
SecCookieFormat 0
SecStatusEngine On
"#;
    let dirs = parse_str(text, "modsecurity.conf").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dirs.len(), 30);
    let DirectiveKind::Rule(r) = &dirs[11].kind else {
        panic!("{:?}", dirs[11])
    };
    let msg = r.actions.iter().find(|a| a.name == "msg").unwrap();
    assert_eq!(
        msg.value.as_deref(),
        Some(
            "Multipart request body failed strict validation: PE %{REQBODY_PROCESSOR_ERROR}, BQ %{MULTIPART_BOUNDARY_QUOTED}"
        )
    );
    roundtrip(text);
}

#[test]
fn printer_round_trips_edge_cases() {
    for text in [
        r#"SecRule ARGS "@rx a\"b\\" "id:1,msg:'it\'s, ok',tag:'a\\'""#,
        r#"SecRule ARGS "!x" "id:1""#,
        r#"SecRule ARGS "@rx  two spaces""#,
        r#"SecRule ARGS "@rx""#,
        r#"SecRule ARGS "@rx a""id:1""#,
        r#"SecRule ARGS:'a|b'|ARGS:'/x'|ARGS:/a\/b/|ARGS:'/y/'|TX:/z\|TX:/w/x "@rx a""#,
        r#"SecAction "id:1,msg:'',setvar:tx.a=b c""#,
        r#"SecAction id:1,setvar:tx.a=\'"#,
        r#"SecMarker "a b""#,
        "SecDebugLog \"#x\"",
        "SecResponseBodyMimeTypesClear",
        r#"SecRule ARGS "@rx a" "id:1,chain"
SecRule ARGS "@rx b" "t:none""#,
    ] {
        roundtrip(text);
    }
}

#[test]
fn includes() {
    let mut fs = MemLoader::new();
    fs.insert("/etc/waf/main.conf", "Include crs/setup.conf\nInclude crs/rules/*.conf\nIncludeOptional crs/missing/*.conf\nIncludeOptional /nope.conf\nSecMarker END\n");
    fs.insert("/etc/waf/crs/setup.conf", "SecAction \"id:900000,pass\"\n");
    fs.insert("/etc/waf/crs/rules/b.conf", "SecMarker B\n");
    fs.insert(
        "/etc/waf/crs/rules/a.conf",
        "Include ../inner/x.conf\nSecMarker A\n",
    );
    fs.insert("/etc/waf/crs/inner/x.conf", "SecMarker X\n");
    fs.insert("/etc/waf/crs/rules/a.conf.example", "SecMarker NOT\n");
    let dirs = parse_file(Path::new("/etc/waf/main.conf"), &fs).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<String> = dirs
        .iter()
        .map(|d| match &d.kind {
            DirectiveKind::Marker(m) => format!("{m}@{}:{}", d.span.file, d.span.line),
            _ => format!("other@{}", d.span.file),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "other@/etc/waf/crs/setup.conf",
            "X@/etc/waf/crs/inner/x.conf:1",
            "A@/etc/waf/crs/rules/a.conf:2",
            "B@/etc/waf/crs/rules/b.conf:1",
            "END@/etc/waf/main.conf:5",
        ]
    );

    // Errors inside an included file point into that file.
    fs.insert("/etc/waf/bad.conf", "Include sub/bad.conf\n");
    fs.insert("/etc/waf/sub/bad.conf", "\nSecRule ARGS\n");
    let e = parse_file(Path::new("/etc/waf/bad.conf"), &fs).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/etc/waf/sub/bad.conf:2:13: missing operator\nSecRule ARGS\n            ^\n  included from /etc/waf/bad.conf:1:1"
    );
    assert_eq!(e.included_from().len(), 1);

    // A missing file and a pattern without matches are errors for Include.
    fs.insert("/etc/waf/missing.conf", "Include nope.conf\n");
    let e = parse_file(Path::new("/etc/waf/missing.conf"), &fs).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Io { .. }), "{e}");
    assert_eq!((e.span().line, e.span().col), (1, 1));
    fs.insert("/etc/waf/nomatch.conf", "Include none/*.conf\n");
    let e = parse_file(Path::new("/etc/waf/nomatch.conf"), &fs).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::IncludeNoMatch(_)), "{e}");

    // Cycles.
    fs.insert("/c/a.conf", "Include b.conf\n");
    fs.insert("/c/b.conf", "Include ./a.conf\n");
    let e = parse_file(Path::new("/c/a.conf"), &fs).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::IncludeCycle(_)), "{e}");
    assert_eq!(&*e.span().file, "/c/b.conf");

    // Depth limit.
    for i in 0..40 {
        fs.insert(format!("/d/{i}.conf"), format!("Include {}.conf\n", i + 1));
    }
    fs.insert("/d/40.conf", "SecMarker deep\n");
    let e = parse_file(Path::new("/d/0.conf"), &fs).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::IncludeTooDeep(16)), "{e}");

    // parse_with: includes allowed, relative to the named file's directory.
    let opts = Options::with_includes();
    let dirs = parse_with("Include crs/setup.conf", "/etc/waf/snippet", &opts, &fs).unwrap();
    assert_eq!(dirs.len(), 1);
    let e = parse_with("Include b.conf", "/c/a.conf", &opts, &fs).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::IncludeCycle(_)), "{e}");
    // parse_str never includes.
    let e = parse_str("Include /etc/waf/crs/setup.conf", "/etc/waf/snippet").unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::IncludeNotAllowed);
}

#[test]
fn invalid_utf8_is_an_error_with_position() {
    let mut fs = MemLoader::new();
    fs.insert("/x.conf", b"SecMarker A\nSecMarker \xff\n".to_vec());
    let e = parse_file(Path::new("/x.conf"), &fs).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidUtf8);
    assert_eq!((e.span().line, e.span().col), (2, 11));
}

/// Deterministic mutation smoke test of the fuzz hooks: never panics.
#[test]
fn fuzz_hooks_never_panic() {
    let seed = br#"SecRule ARGS|!ARGS:'x'|&TX:/^a/|XML:/* "!@rx a\"b\\" \
  "id:1,msg:'a, \'b\'',t:none,chain"
SecRuleUpdateTargetById 1-2 "!ARGS:foo" "ARGS"
# comment \
SecAction "id:2"
"#;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"\"'\\|:,!&@/ \n\r\t#x1-";
    for _ in 0..3000 {
        let mut data = seed.to_vec();
        let edits = next() % 6 + 1;
        for _ in 0..edits {
            let pos = (next() as usize) % (data.len() + 1);
            match next() % 3 {
                0 if pos < data.len() => {
                    data.remove(pos);
                }
                1 => data.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                _ if pos < data.len() => data[pos] = (next() & 0xff) as u8,
                _ => {}
            }
        }
        seclang::internal::fuzzing::parse(&data);
        let _ = seclang::internal::fuzzing::roundtrip(&data);
    }
}

#[test]
fn recovery_reports_every_bad_directive() {
    let text = "SecRuleEngine On\nSecFoo x\nSecRule ARGS \"@rx a\" \"id:1,nolgo\"\nSecMarker A\nInclude x.conf\n";
    let p = parse_with_recovery(text, "t.conf", &Options::default(), &MemLoader::new());
    assert_eq!(p.directives.len(), 2);
    let lines: Vec<u32> = p.errors.iter().map(|e| e.span().line).collect();
    assert_eq!(lines, vec![2, 3, 5]);

    let mut fs = MemLoader::new();
    fs.insert(
        "/r/main.conf",
        "Include a.conf\nInclude missing.conf\nSecMarker END\n",
    );
    fs.insert("/r/a.conf", "SecMarker A\nSecBad 1\nSecMarker B\n");
    let p = parse_file_with_recovery(Path::new("/r/main.conf"), &Options::with_includes(), &fs);
    let got: Vec<String> = p.errors.iter().map(|e| format!("{}", e.span())).collect();
    assert_eq!(got, vec!["/r/a.conf:2:1", "/r/main.conf:2:1"]);
    assert_eq!(p.directives.len(), 3);
    // A file that cannot be read at all.
    let p = parse_file_with_recovery(Path::new("/r/none.conf"), &Options::with_includes(), &fs);
    assert_eq!((p.directives.len(), p.errors.len()), (0, 1));
}

/// Every directive CRS, crs-setup.conf.example and the recommended configuration use.
#[test]
fn every_listed_directive_parses() {
    let text = r#"
SecRule ARGS "@rx a" "id:1,pass"
SecAction "id:2,pass"
SecMarker END
SecDefaultAction "phase:2,log,auditlog,pass"
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyInMemoryLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecResponseBodyAccess Off
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecTmpDir /tmp/
SecDataDir /tmp/
SecDebugLog /var/log/debug.log
SecDebugLogLevel 3
SecAuditEngine RelevantOnly
SecAuditLog /var/log/modsec_audit.log
SecAuditLogParts ABIJDEFHZ
SecAuditLogType Serial
SecAuditLogFormat JSON
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogStorageDir /var/log/audit/
SecArgumentSeparator &
SecCookieFormat 0
SecUnicodeMapFile unicode.mapping 20127
SecStatusEngine Off
SecCollectionTimeout 600
SecComponentSignature "OWASP_CRS/4.28.0"
SecServerSignature "Apache"
SecWebAppId app1
SecUploadDir /tmp/
SecUploadKeepFiles Off
SecUploadFileLimit 100
SecUploadFileMode 0600
SecTmpSaveUploadedFiles On
SecXmlExternalEntity Off
SecHttpBlKey abcdefghijkl
SecGeoLookupDb /usr/share/GeoIP/GeoLite2-Country.mmdb
SecRuleRemoveById 1
SecRuleRemoveByTag attack-sqli
SecRuleRemoveByMsg "SQL"
SecRuleUpdateTargetById 1 "!ARGS:foo"
SecRuleUpdateTargetByTag attack-sqli "!ARGS:foo"
SecRuleUpdateTargetByMsg "SQL" "!ARGS:foo"
SecRuleUpdateActionById 1 "deny"
"#;
    let dirs = parse_str(text, "all.conf").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dirs.len(), text.lines().filter(|l| !l.is_empty()).count());
    roundtrip(text);
    // Include and IncludeOptional through a loader.
    let mut fs = MemLoader::new();
    fs.insert("/a/main.conf", "include x.conf\nINCLUDEOPTIONAL y.conf\n");
    fs.insert("/a/x.conf", "SecMarker X\n");
    let dirs = parse_file(Path::new("/a/main.conf"), &fs).unwrap();
    assert_eq!(dirs.len(), 1);
}
