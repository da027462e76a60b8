use super::oracle_cases;
use super::*;

const CT: &[u8] = b"multipart/form-data; boundary=XyZ";

fn body(lines: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for l in lines {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn run(ct: &[u8], body: &[u8]) -> Multipart {
    parse(ct, body, &Limits::default())
}

#[test]
fn simple_fields_and_file() {
    let b = body(&[
        "--XyZ",
        "Content-Disposition: form-data; name=\"a\"",
        "",
        "line1",
        "line2",
        "--XyZ",
        "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"",
        "Content-Type: text/plain",
        "",
        "hello",
        "world",
        "--XyZ--",
    ]);
    let m = run(CT, &b);
    assert_eq!(m.error, None);
    assert!(!m.flags.strict_error(), "{:?}", m.flags);
    assert_eq!(m.args, vec![(b"a".to_vec(), b"line1line2".to_vec())]);
    assert_eq!(m.files.len(), 1);
    let f = &m.files[0];
    assert_eq!(f.name, b"f");
    assert_eq!(f.filename, b"x.txt");
    assert_eq!(f.content, b"hello\r\nworld");
    assert_eq!(f.size, 12);
    assert_eq!(m.files_combined_size, 12);
    assert_eq!(m.names, vec![b"a".to_vec(), b"f".to_vec()]);
    assert_eq!(m.filenames, vec![b"x.txt".to_vec()]);
    assert_eq!(
        m.part_headers,
        vec![
            (
                b"a".to_vec(),
                b"Content-Disposition: form-data; name=\"a\"".to_vec()
            ),
            (
                b"f".to_vec(),
                b"Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"".to_vec()
            ),
            (b"f".to_vec(), b"Content-Type: text/plain".to_vec()),
        ]
    );
    assert_eq!(m.flags.unmatched_boundary, 2);
}

#[test]
fn content_type_boundary_table() {
    let ok = body(&[
        "--XyZ",
        "Content-Disposition: form-data; name=a",
        "",
        "v",
        "--XyZ--",
    ]);
    // (content type, error?, quoted, whitespace, missing semicolon)
    let cases: &[(&str, bool, bool, bool, bool)] = &[
        (
            "multipart/form-data; boundary=XyZ",
            false,
            false,
            false,
            false,
        ),
        (
            "multipart/form-data; boundary=\"XyZ\"",
            false,
            true,
            false,
            false,
        ),
        (
            "multipart/form-data; boundary =XyZ",
            false,
            false,
            true,
            false,
        ),
        (
            "multipart/form-data; boundary= XyZ",
            true,
            false,
            true,
            false,
        ),
        (
            "multipart/form-data boundary=XyZ",
            false,
            false,
            false,
            true,
        ),
        (
            "multipart/form-data; boundary=\"XyZ",
            true,
            false,
            false,
            false,
        ),
        (
            "multipart/form-data; boundary=XyZ; boundary=abc",
            true,
            false,
            false,
            false,
        ),
        (
            "multipart/form-data; BOUNDARY=XyZ",
            true,
            false,
            false,
            false,
        ),
        ("multipart/form-data", true, false, false, false),
        // libmodsecurity 3.0.15 ends an unquoted boundary at ';'.
        (
            "multipart/form-data; boundary=XyZ; charset=utf-8",
            false,
            false,
            false,
            false,
        ),
        ("text/plain; boundary=XyZ", true, false, false, false),
        (
            "multipart/form-data; x; boundary=XyZ",
            true,
            false,
            false,
            false,
        ),
    ];
    for (ct, err, quoted, ws, semi) in cases {
        let m = run(ct.as_bytes(), &ok);
        assert_eq!(m.error.is_some(), *err, "error for {ct}: {:?}", m.error);
        assert_eq!(m.flags.boundary_quoted, *quoted, "quoted for {ct}");
        assert_eq!(m.flags.boundary_whitespace, *ws, "whitespace for {ct}");
        assert_eq!(m.flags.missing_semicolon, *semi, "semicolon for {ct}");
        if !err {
            assert_eq!(m.args, vec![(b"a".to_vec(), b"v".to_vec())], "{ct}");
        } else {
            assert!(m.args.is_empty());
            assert!(m.flags.strict_error());
        }
    }
}

#[test]
fn strict_flags() {
    // LF-only lines.
    let m = run(
        CT,
        b"--XyZ\nContent-Disposition: form-data; name=a\n\nv\n--XyZ--\n",
    );
    assert!(m.flags.lf_line && !m.flags.crlf_line && m.flags.strict_error());
    assert_eq!(m.args, vec![(b"a".to_vec(), b"v".to_vec())]);
    // Mixed.
    let m = run(
        CT,
        b"--XyZ\r\nContent-Disposition: form-data; name=a\n\r\nv\r\n--XyZ--\r\n",
    );
    assert!(m.flags.crlf_lf_lines());
    // Data before the first boundary and after the last.
    let mut b = b"junk\r\n".to_vec();
    b.extend(body(&[
        "--XyZ",
        "Content-Disposition: form-data; name=a",
        "",
        "v",
        "--XyZ--",
        "after",
    ]));
    let m = run(CT, &b);
    assert!(m.flags.data_before && m.flags.data_after);
    assert_eq!(m.error, None);
    // Header folding (valid and invalid).
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data;",
            " name=a",
            "",
            "v",
            "--XyZ--",
        ]),
    );
    assert!(m.flags.header_folding && !m.flags.invalid_header_folding);
    assert_eq!(m.args, vec![(b"a".to_vec(), b"v".to_vec())]);
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data;",
            "\x0bname=a",
            "",
            "v",
            "--XyZ--",
        ]),
    );
    assert!(m.flags.invalid_header_folding);
    // Single quotes.
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name='a'",
            "",
            "v",
            "--XyZ--",
        ]),
    );
    assert!(m.flags.invalid_quoting);
    // A part without a name is invalid.
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data",
            "",
            "--XyZ",
            "Content-Disposition: form-data; name=b",
            "",
            "w",
            "--XyZ--",
        ]),
    );
    // The boundary right after the header block is read as data of the nameless part, which
    // never ends (libmodsecurity 3.0.15).
    assert!(m.flags.invalid_part);
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: Final boundary missing.")
    );
    assert!(m.args.is_empty());
    // Something that looks like our boundary but is not.
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a",
            "",
            "x--XyZ",
            "--XyZ--",
        ]),
    );
    assert_eq!(m.flags.unmatched_boundary, 2);
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a",
            "",
            "x--XyZ",
        ]),
    );
    assert_eq!(m.flags.unmatched_boundary, 1);
}

#[test]
fn errors() {
    let m = run(
        CT,
        &body(&["--XyZ", "Content-Disposition: form-data; name=a", "", "v"]),
    );
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: Final boundary missing.")
    );
    assert!(m.args.is_empty());
    let m = run(CT, b"just some text\r\n");
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: No boundaries found in payload.")
    );
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a; filename*=UTF-8''x",
            "",
            "--XyZ--",
        ]),
    );
    // filename* is not understood (-11); the part stays in its header block, so the final
    // boundary is read as a header and never seen.
    assert!(m.flags.invalid_part);
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: Final boundary missing.")
    );
    assert_eq!(m.names, vec![b"a".to_vec()]);
    let m = run(
        CT,
        &body(&["--XyZ", "Content-Type: text/plain", "", "v", "--XyZ--"]),
    );
    assert!(m.error.is_some());
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a",
            "",
            "v",
            "--XyZ--",
            "--XyZ--",
        ]),
    );
    assert!(m.flags.data_after);
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a",
            "",
            "v",
            "--XyZ-- x",
        ]),
    );
    assert!(m.flags.error, "{m:?}");
    // As in v3, the completion check overwrites the message of the fatal error.
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: Final boundary missing.")
    );
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a\0",
            "",
            "v",
            "--XyZ--",
        ]),
    );
    // The NUL makes the header invalid; the part has no Content-Disposition, stays in its
    // header block and the final boundary is never seen.
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: Final boundary missing.")
    );
    assert!(m.flags.invalid_part);
    let m = run(
        b"multipart/form-data; boundary=\"XyZ\"",
        &body(&["--\"XyZ\"", "--XyZ--"]),
    );
    assert!(m.flags.error);
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: No boundaries found in payload.")
    );
    let m = run(CT, &body(&["-- XyZ"]));
    assert!(m.flags.error);
    let long = "x".repeat(5000);
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            &format!("Content-Disposition: form-data; name={long}"),
            "",
            "v",
            "--XyZ--",
        ]),
    );
    assert!(m.flags.error);
    assert_eq!(
        m.error.as_deref(),
        Some("Multipart: Final boundary missing.")
    );
    let m = run(
        CT,
        b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--",
    );
    assert_eq!(
        m.error, None,
        "final boundary without line end is accepted at the end"
    );
    assert_eq!(m.args, vec![(b"a".to_vec(), b"v".to_vec())]);
}

#[test]
fn long_values_and_file_limit() {
    let big = "y".repeat(10_000);
    let m = run(
        CT,
        &body(&[
            "--XyZ",
            "Content-Disposition: form-data; name=a",
            "",
            &big,
            "--XyZ--",
        ]),
    );
    assert_eq!(m.args[0].1.len(), 10_000);
    let b = body(&[
        "--XyZ",
        "Content-Disposition: form-data; name=f1; filename=a",
        "",
        "1",
        "--XyZ",
        "Content-Disposition: form-data; name=f2; filename=b",
        "",
        "2",
        "--XyZ--",
    ]);
    let limits = Limits {
        upload_file_limit: 1,
        extract_files: true,
    };
    let m = parse(CT, &b, &limits);
    assert!(m.flags.file_limit_exceeded && m.flags.strict_error());
    let m = parse(
        CT,
        &b,
        &Limits {
            upload_file_limit: 1,
            extract_files: false,
        },
    );
    assert!(!m.flags.file_limit_exceeded);
    assert_eq!(m.files.len(), 2);
}

#[test]
fn never_panics() {
    let alphabet: &[&[u8]] = &[
        b"--XyZ",
        b"\r\n",
        b"\n",
        b"Content-Disposition: form-data; name=",
        b"\"",
        b"'",
        b" ",
        b"--",
        b"a",
        b"\0",
        b";",
        b"filename=x",
    ];
    let mut buf = Vec::new();
    for n in 0..30_000u32 {
        buf.clear();
        let mut x = n;
        for _ in 0..6 {
            buf.extend_from_slice(alphabet[(x as usize) % alphabet.len()]);
            x /= alphabet.len() as u32;
        }
        let _ = run(CT, &buf);
        let _ = run(&buf, &buf);
    }
}

fn flags_line(m: &Multipart) -> String {
    let f = &m.flags;
    let b = |x: bool| u8::from(x);
    format!(
        "SE={} BQ {}, BW {}, DB {}, DA {}, HF {}, LF {}, SM {}, IQ {}, IP {}, IH {}, UB {}, CL {}",
        b(f.strict_error()),
        b(f.boundary_quoted),
        b(f.boundary_whitespace),
        b(f.data_before),
        b(f.data_after),
        b(f.header_folding),
        b(f.lf_line),
        b(f.missing_semicolon),
        b(f.invalid_quoting),
        b(f.invalid_part),
        b(f.invalid_header_folding),
        f.unmatched_boundary,
        b(f.crlf_lf_lines()),
    )
}

#[test]
fn matches_libmodsecurity_3_0_15() {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for c in oracle_cases::CASES {
        let m = run(c.ct.as_bytes(), c.body.as_bytes());
        let mut args: Vec<String> = m
            .args
            .iter()
            .map(|(k, v)| format!("{}~{}", s(k), s(v)))
            .collect();
        args.sort();
        let mut files: Vec<String> = m
            .files
            .iter()
            .map(|f| format!("{}~{}", s(&f.name), f.size))
            .collect();
        files.sort();
        assert_eq!(args.join("|"), c.args, "ARGS of {}", c.name);
        assert_eq!(flags_line(&m), c.flags, "flags of {}", c.name);
        // The recorded messages stop at the first line break.
        let err = m.reqbody_error_msg().unwrap_or_default();
        let err = err.split('\n').next().unwrap_or_default().trim();
        assert_eq!(err, c.error, "error of {}", c.name);
        assert_eq!(files.join("|"), c.files, "FILES_SIZES of {}", c.name);
    }
}

#[test]
fn repeated_disposition_parses_are_bounded() {
    // An invalid Content-Disposition keeps the part in its header block; every empty line
    // parses it again (v3 records the name each time).
    let name = "n".repeat(3000);
    let mut b = format!("--XyZ\r\nContent-Disposition: form-data; name={name} x\r\n").into_bytes();
    b.extend(std::iter::repeat_n(&b"\r\n"[..], 200_000).flatten());
    let m = run(CT, &b);
    let kept: usize = m.names.iter().map(Vec::len).sum();
    assert!(kept <= (b.len() * 2).max(1 << 16), "{kept}");
    assert!(!m.names.is_empty());
}
