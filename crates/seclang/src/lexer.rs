//! Lexical layer: physical lines to logical lines (comments dropped, continuations joined)
//! and logical lines to whitespace-separated arguments with quotes removed.
//!
//! Every byte of a logical line can be mapped back to its physical line and column, so
//! spans stay exact across `\` continuations and `\"` escapes.

use std::borrow::Cow;

use crate::error::ErrorKind;

/// A run of a logical line that came from one physical line.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Offset in the logical line where this run starts.
    start: usize,
    /// Physical line (1-based).
    line: u32,
    /// Column (1-based, bytes) of the run's first byte.
    col: u32,
}

/// One directive's text, possibly joined from several physical lines.
#[derive(Debug)]
pub(crate) struct LogicalLine<'a> {
    /// The joined text (borrowed when no continuation was involved).
    pub(crate) text: Cow<'a, str>,
    segments: Vec<Segment>,
}

impl LogicalLine<'_> {
    /// Physical line and column of a byte offset in [`Self::text`].
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let idx = self
            .segments
            .partition_point(|s| s.start <= offset)
            .saturating_sub(1);
        match self.segments.get(idx) {
            Some(seg) => {
                let delta = u32::try_from(offset.saturating_sub(seg.start)).unwrap_or(u32::MAX);
                (seg.line, seg.col.saturating_add(delta))
            }
            None => (1, 1),
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Splits a source text into logical lines.
///
/// Rules (as libmodsecurity's scanner): a line whose first non-blank byte is `#` is a
/// comment; blank lines are skipped; a line ending in a backslash (before an optional `\r`)
/// continues on the next line, the backslash and line break being removed. A commented-out
/// `SecRule`/`SecAction` that ends in a backslash swallows the following lines up to one that
/// does not; other comments end at their line break.
pub(crate) fn logical_lines(src: &str) -> Vec<LogicalLine<'_>> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut out = Vec::new();
    // Pending continuation: text so far and its segments.
    let mut pending: Option<(String, Vec<Segment>)> = None;
    let mut in_comment = false;
    for (idx, raw) in src.split('\n').enumerate() {
        let line_no = to_u32(idx.saturating_add(1));
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let (body, continues) = match line.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        if in_comment {
            in_comment = continues;
            continue;
        }
        if let Some((mut text, mut segs)) = pending.take() {
            segs.push(Segment {
                start: text.len(),
                line: line_no,
                col: 1,
            });
            text.push_str(body);
            if continues {
                pending = Some((text, segs));
            } else {
                out.push(LogicalLine {
                    text: Cow::Owned(text),
                    segments: segs,
                });
            }
            continue;
        }
        let trimmed = body.trim_start_matches([' ', '\t']);
        if let Some(comment) = trimmed.strip_prefix('#') {
            // Only a commented-out rule continues onto the next lines (libmodsecurity's
            // COMMENT state); any other comment ends at the line break.
            let commented_rule = {
                let c = comment.trim_start_matches([' ', '\t']);
                c.starts_with("SecRule") || c.starts_with("SecAction")
            };
            in_comment = commented_rule && ends_with_continuation(line);
            continue;
        }
        if trimmed.trim_end_matches([' ', '\t', '\r']).is_empty() && !continues {
            continue;
        }
        let seg = Segment {
            start: 0,
            line: line_no,
            col: 1,
        };
        if continues {
            pending = Some((body.to_owned(), vec![seg]));
        } else {
            out.push(LogicalLine {
                text: Cow::Borrowed(body),
                segments: vec![seg],
            });
        }
    }
    if let Some((text, segs)) = pending {
        out.push(LogicalLine {
            text: Cow::Owned(text),
            segments: segs,
        });
    }
    out
}

/// A backslash ending a line, possibly followed by blanks (as libmodsecurity accepts after a
/// commented-out rule).
fn ends_with_continuation(line: &str) -> bool {
    line.trim_end_matches([' ', '\t']).ends_with('\\')
}

/// One argument of a directive, quotes removed.
#[derive(Debug, Clone)]
pub(crate) struct Arg {
    /// The value, verbatim (a double-quoted argument's escapes such as `\"` are kept).
    pub(crate) value: String,
    /// Offset in the logical line of the argument's first byte (the quote if quoted).
    pub(crate) token_start: usize,
    /// Offset in the logical line of the value's first byte.
    content_start: usize,
    /// Whether the argument was written in double quotes.
    pub(crate) quoted: bool,
}

impl Arg {
    /// Offset in the logical line of byte `offset` of [`Self::value`].
    pub(crate) fn source_offset(&self, offset: usize) -> usize {
        self.content_start.saturating_add(offset)
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

/// Splits a logical line into arguments. Errors carry the offset in the line. An unquoted
/// word starting with `#` after the directive's first argument starts a comment to the end
/// of the line.
pub(crate) fn split_args(text: &str) -> Result<Vec<Arg>, (usize, ErrorKind)> {
    let bytes = text.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|&b| is_blank(b)) {
            i += 1;
        }
        let Some(&first) = bytes.get(i) else {
            break;
        };
        if first == b'"' {
            let start = i;
            let content_start = i + 1;
            let mut j = content_start;
            let mut closed = false;
            while let Some(&b) = bytes.get(j) {
                match b {
                    // `\"` does not end the string; like every other backslash pair it is
                    // kept verbatim (libmodsecurity hands the text on unchanged).
                    b'\\' => j += 2,
                    b'"' => {
                        closed = true;
                        break;
                    }
                    _ => j += 1,
                }
            }
            if !closed {
                return Err((start, ErrorKind::UnterminatedQuote));
            }
            let value = text.get(content_start..j).unwrap_or_default().to_owned();
            let after = j + 1;
            // Another quoted argument may follow directly (libmodsecurity accepts
            // `"@rx a""id:1"`); anything else must be separated by blanks.
            if bytes.get(after).is_some_and(|&b| !is_blank(b) && b != b'"') {
                return Err((after, ErrorKind::TextAfterQuote));
            }
            args.push(Arg {
                value,
                token_start: start,
                content_start,
                quoted: true,
            });
            i = after;
        } else if first == b'#' && args.len() >= 2 {
            // A trailing comment after the directive's arguments (a first argument may
            // start with `#`: `SecMarker #x`, as libmodsecurity reads it).
            break;
        } else {
            let start = i;
            while let Some(&b) = bytes.get(i).filter(|&&b| !is_blank(b)) {
                if b == b'"' {
                    return Err((i, ErrorKind::QuoteInWord));
                }
                i += 1;
            }
            args.push(Arg {
                value: text.get(start..i).unwrap_or_default().to_owned(),
                token_start: start,
                content_start: start,
                quoted: false,
            });
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        logical_lines(src)
            .iter()
            .map(|l| l.text.to_string())
            .collect()
    }

    #[test]
    fn logical_line_rules() {
        let cases: &[(&str, &[&str])] = &[
            ("a\nb\n", &["a", "b"]),
            ("# c\n  # c2\n\n \t\na", &["a"]),
            ("a \\\n  b", &["a   b"]),
            ("a \\\r\n  b\r\nc\r\n", &["a   b", "c"]),
            ("# c \\\nnot swallowed", &["not swallowed"]),
            ("#SecRule A \\ \n  \"b\" \\\n \"c\"\nd", &["d"]),
            ("#SecRule A \\\n  \"b\" \\ \n \"c\"\nd", &[" \"c\"", "d"]),
            ("# SecAction \\\n  \"b\"\nd", &["d"]),
            ("a \\\n# not a comment", &["a # not a comment"]),
            ("a \\", &["a "]),
            ("\u{feff}a", &["a"]),
        ];
        for (src, want) in cases {
            assert_eq!(texts(src), *want, "{src:?}");
        }
    }

    #[test]
    fn positions_across_continuations() {
        let lines = logical_lines("\n  SecRule A \\\n    \"b\"\n");
        let l = &lines[0];
        assert_eq!(l.position(2), (2, 3));
        let off = l.text.find('"').unwrap();
        assert_eq!(l.position(off), (3, 5));
    }

    #[test]
    fn argument_rules() {
        let cases: &[(&str, &[&str])] = &[
            ("a b\tc", &["a", "b", "c"]),
            (r#""a b" c"#, &["a b", "c"]),
            (r#""a \"b\"""#, &[r#"a \"b\""#]),
            (r#""a\d\\" x"#, &[r"a\d\\", "x"]),
            (r#""" x"#, &["", "x"]),
            (r#""a""b""#, &["a", "b"]),
            ("a b # c d", &["a", "b"]),
            ("a #b c", &["a", "#b", "c"]),
            ("a b#c", &["a", "b#c"]),
            (r##"a "#b""##, &["a", "#b"]),
        ];
        for (src, want) in cases {
            let got: Vec<String> = split_args(src)
                .unwrap()
                .into_iter()
                .map(|a| a.value)
                .collect();
            assert_eq!(got, *want, "{src:?}");
        }
        assert!(matches!(
            split_args(r#"a "b"#),
            Err((2, ErrorKind::UnterminatedQuote))
        ));
        assert!(matches!(
            split_args(r#"a un"quoted"#),
            Err((4, ErrorKind::QuoteInWord))
        ));
        assert!(matches!(
            split_args(r#""b"c"#),
            Err((3, ErrorKind::TextAfterQuote))
        ));
    }

    #[test]
    fn escapes_are_kept_verbatim() {
        let args = split_args(r#"x "a\"b\"c" "d\\" e"#).unwrap();
        assert_eq!(args[1].value, r#"a\"b\"c"#);
        assert_eq!(args[1].source_offset(2), 5);
        assert_eq!(args[2].value, r"d\\");
        assert_eq!(args[3].value, "e");
    }
}
