//! `application/json` request bodies, named the way libmodsecurity v3 (yajl backend) names them.
//!
//! Naming: every scalar becomes one argument whose name is the path of its containers:
//! - a top-level scalar is `json`; object members are `json.a`, `json.a.b`;
//! - array elements use the array's own name plus `.array_N`: `{"a":[1,2]}` gives
//!   `json.a.array_0`, `json.a.array_1`; nested containers in arrays have an empty name of their
//!   own: `[[1]]` gives `json.array_0.array_0`, `[{"k":1}]` gives `json.array_0.k`;
//! - an empty member name is `empty-key`;
//! - values: strings decoded, numbers as written, `true` / `false`, `null` as an empty value.
//!
//! Grammar as yajl with its defaults: strict JSON, one top-level value, strings must be valid
//! UTF-8, whitespace also includes `\v` and `\f`. Container nesting deeper than `max_depth`
//! (`SecRequestBodyJsonDepthLimit`, 0 = unlimited) is an error. The parser is iterative:
//! no recursion, memory bounded by the input size.

use super::BodyError;

/// One argument: `(name, value)`.
pub type Arg = (Vec<u8>, Vec<u8>);

enum Container {
    Object { name: Vec<u8> },
    Array { name: Vec<u8>, counter: usize },
}

struct Builder {
    containers: Vec<Container>,
    current_key: Vec<u8>,
    out: Vec<Arg>,
    /// Bytes of names and values that may still be produced.
    budget: usize,
}

/// Output budget: argument names repeat their containers' names, so deep or long-keyed
/// documents could otherwise produce output quadratic in the input.
fn output_budget(input_len: usize) -> usize {
    input_len.saturating_mul(32).max(4 << 20)
}

impl Builder {
    fn previous_is_array(&self) -> bool {
        matches!(self.containers.last(), Some(Container::Array { .. }))
    }

    /// The name for the next value / container (yajl backend `getCurrentKey`).
    fn take_key(&mut self) -> Vec<u8> {
        if self.containers.is_empty() {
            return b"json".to_vec();
        }
        if self.current_key.is_empty() {
            if self.previous_is_array() {
                return Vec::new();
            }
            return b"empty-key".to_vec();
        }
        std::mem::take(&mut self.current_key)
    }

    fn add_value(&mut self, value: Vec<u8>) -> Result<(), BodyError> {
        let mut needed = value
            .len()
            .saturating_add(self.current_key.len())
            .saturating_add(16);
        for c in &self.containers {
            let name = match c {
                Container::Object { name } | Container::Array { name, .. } => name,
            };
            needed = needed.saturating_add(name.len()).saturating_add(28);
        }
        if needed > self.budget {
            return Err(malformed("arguments exceed the size limit"));
        }
        self.budget -= needed;
        let mut path = Vec::new();
        for c in &self.containers {
            match c {
                Container::Object { name } => {
                    path.extend_from_slice(name);
                    path.push(b'.');
                }
                Container::Array { name, counter } => {
                    path.extend_from_slice(name);
                    path.extend_from_slice(b".array_");
                    path.extend_from_slice(counter.to_string().as_bytes());
                }
            }
        }
        if let Some(Container::Array { counter, .. }) = self.containers.last_mut() {
            *counter = counter.saturating_add(1);
        } else {
            let key = self.take_key();
            path.extend_from_slice(&key);
        }
        self.out.push((path, value));
        Ok(())
    }

    fn close(&mut self) {
        self.containers.pop();
        if let Some(Container::Array { counter, .. }) = self.containers.last_mut() {
            *counter = counter.saturating_add(1);
        }
    }
}

/// What the parser expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (top level, after `:`, after `,` in an array).
    Value,
    /// A value or `]` (right after `[`).
    ValueOrClose,
    /// A member key or `}` (right after `{`).
    KeyOrClose,
    /// A member key (after `,` in an object).
    Key,
    /// `:` after a key.
    Colon,
    /// `,` or the container's closing bracket.
    CommaOrClose,
    /// Only whitespace until the end.
    End,
}

fn malformed(reason: impl Into<String>) -> BodyError {
    BodyError::Malformed {
        processor: "JSON",
        reason: reason.into(),
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Parse a JSON body into ModSecurity-named arguments (all or nothing).
pub fn parse(body: &[u8], max_depth: usize) -> Result<Vec<Arg>, BodyError> {
    match parse_partial(body, max_depth) {
        (args, None) => Ok(args),
        (_, Some(e)) => Err(e),
    }
}

/// Parse a JSON body like libmodsecurity's streaming parser: the arguments found before an
/// error are kept (v3 adds them to `ARGS` and also sets `REQBODY_ERROR`).
pub fn parse_partial(body: &[u8], max_depth: usize) -> (Vec<Arg>, Option<BodyError>) {
    let mut b = Builder {
        containers: Vec::new(),
        current_key: Vec::new(),
        out: Vec::new(),
        budget: output_budget(body.len()),
    };
    let err = parse_into(body, max_depth, &mut b).err();
    (b.out, err)
}

fn parse_into(body: &[u8], max_depth: usize, b: &mut Builder) -> Result<(), BodyError> {
    let mut expect = Expect::Value;
    let mut i = 0usize;
    while let Some(&c) = body.get(i) {
        if is_ws(c) {
            i += 1;
            continue;
        }
        match expect {
            Expect::End => return Err(malformed(format!("trailing garbage at offset {i}"))),
            Expect::Colon => {
                if c != b':' {
                    return Err(malformed(format!("expected ':' at offset {i}")));
                }
                i += 1;
                expect = Expect::Value;
            }
            Expect::CommaOrClose => {
                i += 1;
                match (c, b.containers.last()) {
                    (b',', Some(Container::Object { .. })) => expect = Expect::Key,
                    (b',', Some(Container::Array { .. })) => expect = Expect::Value,
                    (b'}', Some(Container::Object { .. }))
                    | (b']', Some(Container::Array { .. })) => {
                        b.close();
                        expect = after_value(b);
                    }
                    _ => {
                        return Err(malformed(format!(
                            "unexpected character at offset {}",
                            i - 1
                        )));
                    }
                }
            }
            Expect::Key | Expect::KeyOrClose => {
                if c == b'}' && expect == Expect::KeyOrClose {
                    i += 1;
                    b.close();
                    expect = after_value(b);
                } else if c == b'"' {
                    let (key, next) = string(body, i)?;
                    b.current_key = key;
                    i = next;
                    expect = Expect::Colon;
                } else {
                    return Err(malformed(format!("invalid object key at offset {i}")));
                }
            }
            Expect::Value | Expect::ValueOrClose => {
                match c {
                    b']' if expect == Expect::ValueOrClose => {
                        i += 1;
                        b.close();
                    }
                    b'{' | b'[' => {
                        let name = b.take_key();
                        if max_depth != 0 && b.containers.len() >= max_depth {
                            return Err(BodyError::DepthExceeded { limit: max_depth });
                        }
                        i += 1;
                        if c == b'{' {
                            b.containers.push(Container::Object { name });
                            expect = Expect::KeyOrClose;
                        } else {
                            b.containers.push(Container::Array { name, counter: 0 });
                            expect = Expect::ValueOrClose;
                        }
                        continue;
                    }
                    b'"' => {
                        let (v, next) = string(body, i)?;
                        i = next;
                        b.add_value(v)?;
                    }
                    b't' | b'f' | b'n' => {
                        let (word, value): (&[u8], &[u8]) = match c {
                            b't' => (b"true", b"true"),
                            b'f' => (b"false", b"false"),
                            _ => (b"null", b""),
                        };
                        if body.get(i..i + word.len()) != Some(word) {
                            return Err(malformed(format!("invalid literal at offset {i}")));
                        }
                        i += word.len();
                        b.add_value(value.to_vec())?;
                    }
                    b'-' | b'0'..=b'9' => {
                        let next = number(body, i)?;
                        b.add_value(body.get(i..next).unwrap_or_default().to_vec())?;
                        i = next;
                    }
                    _ => return Err(malformed(format!("unexpected character at offset {i}"))),
                }
                expect = after_value(b);
            }
        }
    }
    if expect != Expect::End {
        return Err(malformed("premature EOF"));
    }
    Ok(())
}

fn after_value(b: &Builder) -> Expect {
    if b.containers.is_empty() {
        Expect::End
    } else {
        Expect::CommaOrClose
    }
}

/// Scan a number starting at `start`; returns the end offset.
fn number(body: &[u8], start: usize) -> Result<usize, BodyError> {
    let mut i = start;
    let at = |i: usize| body.get(i).copied().unwrap_or(0);
    if at(i) == b'-' {
        i += 1;
    }
    match at(i) {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while at(i).is_ascii_digit() {
                i += 1;
            }
        }
        _ => return Err(malformed(format!("malformed number at offset {start}"))),
    }
    if at(i) == b'.' {
        i += 1;
        if !at(i).is_ascii_digit() {
            return Err(malformed(format!("malformed number at offset {start}")));
        }
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(at(i), b'e' | b'E') {
        i += 1;
        if matches!(at(i), b'+' | b'-') {
            i += 1;
        }
        if !at(i).is_ascii_digit() {
            return Err(malformed(format!("malformed number at offset {start}")));
        }
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    Ok(i)
}

fn hex4(body: &[u8], at: usize) -> Option<u32> {
    let digits = body.get(at..at + 4)?;
    let s = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(s, 16).ok()
}

fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    // Encode like yajl: any code point below 0x110000 (lone low surrogates included).
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.push(0xc0 | (cp >> 6) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    } else if cp < 0x10000 {
        out.push(0xe0 | (cp >> 12) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    } else {
        out.push(0xf0 | ((cp >> 18) & 0x07) as u8);
        out.push(0x80 | ((cp >> 12) & 0x3f) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    }
}

/// Scan a string whose opening quote is at `start` like yajl's lexer (escapes, control
/// characters, UTF-8), then decode it like `yajl_string_decode`. Returns the value and the
/// offset after the closing quote.
fn string(body: &[u8], start: usize) -> Result<(Vec<u8>, usize), BodyError> {
    let mut i = start + 1;
    loop {
        let Some(&c) = body.get(i) else {
            return Err(malformed("premature EOF in string"));
        };
        match c {
            b'"' => break,
            b'\\' => match body.get(i + 1).copied().unwrap_or(0) {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    if hex4(body, i + 2).is_none() {
                        return Err(malformed(format!("invalid \\u escape at offset {i}")));
                    }
                    i += 6;
                }
                _ => return Err(malformed(format!("invalid escape at offset {i}"))),
            },
            0..=0x1f => {
                return Err(malformed(format!(
                    "invalid character inside string at offset {i}"
                )));
            }
            _ => i += 1,
        }
    }
    let raw = body.get(start + 1..i).unwrap_or_default();
    if std::str::from_utf8(raw).is_err() {
        return Err(malformed(format!(
            "invalid bytes in UTF8 string at offset {start}"
        )));
    }
    Ok((decode_string(raw), i + 1))
}

/// `yajl_string_decode`: escapes resolved; a high surrogate is combined with the `\\uXXXX`
/// that follows it, otherwise it becomes `?` and swallows the next byte.
fn decode_string(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut j = 0;
    while let Some(&c) = raw.get(j) {
        if c != b'\\' {
            out.push(c);
            j += 1;
            continue;
        }
        match raw.get(j + 1).copied().unwrap_or(0) {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let mut cp = hex4(raw, j + 2).unwrap_or(0);
                let mut end = j + 5;
                if cp & 0xfc00 == 0xd800 {
                    end += 1;
                    if raw.get(end..end + 2) == Some(b"\\u") {
                        let low = hex4(raw, end + 2).unwrap_or(0);
                        cp = 0x10000 + ((cp & 0x3ff) << 10) + (low & 0x3ff);
                        end += 5;
                    } else {
                        out.push(b'?');
                        j = end + 1;
                        continue;
                    }
                }
                push_utf8(&mut out, cp);
                j = end + 1;
                continue;
            }
            other => out.push(other),
        }
        j += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<(String, String)> {
        parse(body.as_bytes(), 0)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }

    fn s(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn naming_table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (r#""x""#, &[("json", "x")]),
            ("12.5e3", &[("json", "12.5e3")]),
            (r#"{"a":1}"#, &[("json.a", "1")]),
            (r#"{"a":{"b":"c"}}"#, &[("json.a.b", "c")]),
            (
                r#"{"a":[1,2]}"#,
                &[("json.a.array_0", "1"), ("json.a.array_1", "2")],
            ),
            (
                "[1,true,null]",
                &[
                    ("json.array_0", "1"),
                    ("json.array_1", "true"),
                    ("json.array_2", ""),
                ],
            ),
            (
                "[[1],[2]]",
                &[("json.array_0.array_0", "1"), ("json.array_1.array_0", "2")],
            ),
            (
                r#"[{"k":1},{"k":2}]"#,
                &[("json.array_0.k", "1"), ("json.array_1.k", "2")],
            ),
            (r#"{"":1}"#, &[("json.empty-key", "1")]),
            (
                r#"{"a":1,"b":{"c":[false]},"d":"e"}"#,
                &[
                    ("json.a", "1"),
                    ("json.b.c.array_0", "false"),
                    ("json.d", "e"),
                ],
            ),
            (
                r#"{"a":"\u0041\n\"\/\ud83d\ude00"}"#,
                &[("json.a", "A\n\"/\u{1f600}")],
            ),
            ("{}", &[]),
            ("[]", &[]),
            (" \t\n{\"a\" : -0 }\r\n", &[("json.a", "-0")]),
        ];
        for (body, expected) in cases {
            assert_eq!(names(body), s(expected), "body {body}");
        }
    }

    #[test]
    fn errors() {
        for body in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\":}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            "-",
            "tru",
            "{\"a\":1}x",
            "1 2",
            "\"abc",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "{\"a\":1,}",
            "[1 2]",
            "}",
            "]",
            "{]",
            "[}",
            "\"\\u12\"",
        ] {
            assert!(parse(body.as_bytes(), 0).is_err(), "should fail: {body:?}");
        }
        assert!(parse(b"\"\xff\"", 0).is_err());
    }

    /// Cases whose results were recorded from libmodsecurity 3.0.15.
    #[test]
    fn libmodsecurity_cases() {
        let owned = |v: Vec<Arg>| -> Vec<(String, String)> {
            let mut v: Vec<(String, String)> = v
                .into_iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(&k).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case<'_>] = &[
            (
                r#"{"a":1,"b":[true,"#,
                &[("json.a", "1"), ("json.b.array_0", "true")],
                true,
            ),
            (r#"{"a":"\ud800x"}"#, &[("json.a", "?")], false),
            (
                "[[],[[1]]]",
                &[("json.array_1.array_0.array_0", "1")],
                false,
            ),
            (
                r#"{"a":[{"b":[1,{"c":2}]}]}"#,
                &[
                    ("json.a.array_0.b.array_0", "1"),
                    ("json.a.array_0.b.array_1.c", "2"),
                ],
                false,
            ),
            (
                r#"{"":{"":1}}"#,
                &[("json.empty-key.empty-key", "1")],
                false,
            ),
            (r#"[{"":1}]"#, &[("json.array_0.empty-key", "1")], false),
            (r#"{"a":01}"#, &[("json.a", "0")], true),
            (r#"{"a":1}{"b":2}"#, &[("json.a", "1")], true),
            ("\u{b}{\"a\":1}\u{c}", &[("json.a", "1")], false),
        ];
        for (body, expected, err) in cases {
            let (args, e) = parse_partial(body.as_bytes(), 512);
            assert_eq!(
                owned(args),
                s(expected).into_iter().collect::<Vec<_>>(),
                "{body}"
            );
            assert_eq!(e.is_some(), *err, "{body}");
        }
    }

    #[test]
    fn output_is_bounded() {
        // A 100 KB key over 450 K array elements would name 45 GB of arguments.
        let key = "k".repeat(100_000);
        let items = vec!["1"; 450_000].join(",");
        let body = format!("{{\"{key}\":[{items}]}}");
        let (args, err) = parse_partial(body.as_bytes(), 512);
        assert!(err.is_some());
        let total: usize = args.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(total <= output_budget(body.len()), "{total}");
        // Ordinary documents are far below the budget.
        assert!(parse(br#"{"a":[1,2,3],"b":{"c":"d"}}"#, 512).is_ok());
    }

    #[test]
    fn depth_limit() {
        assert!(parse(b"[[[1]]]", 3).is_ok());
        assert_eq!(
            parse(b"[[[[1]]]]", 3),
            Err(BodyError::DepthExceeded { limit: 3 })
        );
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes(), 0).is_err());
        assert!(parse(deep.as_bytes(), 512).is_err());
    }

    #[test]
    fn never_panics() {
        let alphabet = b"{}[]\":,1-e\\u ";
        let mut buf = Vec::new();
        for n in 0..20_000u32 {
            buf.clear();
            let mut x = n;
            for _ in 0..5 {
                buf.push(alphabet[(x as usize) % alphabet.len()]);
                x /= alphabet.len() as u32;
            }
            let _ = parse(&buf, 10);
        }
    }
}
