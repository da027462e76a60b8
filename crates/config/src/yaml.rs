//! Multi-document YAML: split on `---` lines ourselves (to know where each document starts),
//! then parse each document with `serde-saphyr` into a `serde_json::Value`.

use serde_json::Value;

/// One YAML document of a file.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// The document's text (without the separator line).
    pub text: String,
    /// 1-based file line of the first line of `text`.
    pub first_line: u32,
    /// 1-based file line of the first non-blank, non-comment line (what problems point at).
    pub line: u32,
}

impl Document {
    /// The 1-based file line of the first line of this document containing `needle`
    /// (e.g. an annotation key); the document line when absent.
    pub fn line_of(&self, needle: &str) -> u32 {
        self.line_with(&[needle])
    }

    /// The 1-based file line of the first line containing all of `needles` (e.g. a field
    /// name and its value); the document line when none does.
    pub fn line_with(&self, needles: &[&str]) -> u32 {
        self.find(0, needles)
    }

    /// As [`Self::line_with`], searching only from the `spec:` line on (so the object's own
    /// `metadata.name` is not taken for a backend's `name`).
    pub fn spec_line_with(&self, needles: &[&str]) -> u32 {
        let start = self
            .text
            .lines()
            .position(|l| l.trim_start().starts_with("spec:"))
            .unwrap_or(0);
        self.find(start, needles)
    }

    fn find(&self, start: usize, needles: &[&str]) -> u32 {
        self.text
            .lines()
            .enumerate()
            .skip(start)
            .find(|(_, l)| needles.iter().all(|n| l.contains(n)))
            .and_then(|(i, _)| u32::try_from(i).ok())
            .map_or(self.line, |i| self.first_line.saturating_add(i))
    }
}

fn is_separator(line: &str) -> bool {
    let line = line.trim_end();
    for marker in ["---", "..."] {
        if let Some(rest) = line.strip_prefix(marker)
            && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        {
            return true;
        }
    }
    false
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
}

/// Splits a file into documents. `--- ` lines with inline content (`--- {a: 1}`) keep the
/// content as the first line of the next document. Documents with no content are dropped.
pub(crate) fn split_documents(text: &str) -> Vec<Document> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut first_line: u32 = 1;
    let flush = |current: &mut String, first_line: u32, docs: &mut Vec<Document>| {
        let content_at = current.lines().position(is_content);
        if let Some(idx) = content_at {
            let idx = u32::try_from(idx).unwrap_or(u32::MAX);
            docs.push(Document {
                text: std::mem::take(current),
                first_line,
                line: first_line.saturating_add(idx),
            });
        }
        current.clear();
    };
    for (idx, line) in text.lines().enumerate() {
        let lineno = u32::try_from(idx).unwrap_or(u32::MAX).saturating_add(1);
        if is_separator(line) {
            flush(&mut current, first_line, &mut docs);
            // Inline content after `---` (rare) starts the next document on this line.
            let rest = line.trim_start_matches(['-', '.']).trim();
            if !rest.is_empty() {
                current.push_str(rest);
                current.push('\n');
                first_line = lineno;
            } else {
                first_line = lineno.saturating_add(1);
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    flush(&mut current, first_line, &mut docs);
    docs
}

/// Parses one document. On error returns the file line and the reason.
pub(crate) fn parse_document(doc: &Document) -> Result<Value, (u32, String)> {
    serde_saphyr::from_str::<Value>(&doc.text).map_err(|e| {
        let line = e
            .location()
            .and_then(|l| u32::try_from(l.line()).ok())
            .filter(|l| *l > 0)
            .map_or(doc.line, |l| doc.first_line.saturating_add(l - 1));
        let column = e.location().map(|l| l.column()).filter(|c| *c > 0);
        (
            line,
            format!(
                "invalid YAML{}: {}",
                column.map_or(String::new(), |c| format!(" at column {c}")),
                clean_message(&e.to_string())
            ),
        )
    })
}

/// First line of a parser message without its own `error: line N column M:` prefix (its
/// line is relative to the document; we report the file line instead).
pub(crate) fn clean_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error:").map_or(first, str::trim_start);
    let rest = first
        .strip_prefix("line ")
        .and_then(|r| r.split_once(": "))
        .map_or(first, |(_, rest)| rest);
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_tracks_lines() {
        let text = "# header\na: 1\n---\n\n# c\nb: 2\n---\n---\nc: 3\n...\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].line, 2);
        assert_eq!(docs[1].first_line, 4);
        assert_eq!(docs[1].line, 6);
        assert_eq!(docs[2].line, 9);
        assert_eq!(docs[1].line_of("b:"), 6);
        assert_eq!(docs[1].line_with(&["b", "2"]), 6);
        assert_eq!(docs[1].line_with(&["nowhere"]), docs[1].line);
    }

    #[test]
    fn separator_needs_boundary() {
        assert!(is_separator("---"));
        assert!(is_separator("--- # x"));
        assert!(!is_separator("----"));
        assert!(!is_separator("---a"));
    }

    #[test]
    fn parse_error_has_file_line() {
        let text = "a: 1\n---\nkind: Service\nmetadata:\n  name: [unclosed\n";
        let docs = split_documents(text);
        let err = parse_document(&docs[1]).unwrap_err();
        assert!(err.0 >= 3 && err.0 <= 6, "{err:?}");
        assert!(err.1.starts_with("invalid YAML at column"), "{}", err.1);
        assert!(!err.1.contains("line"), "{}", err.1);
        assert_eq!(parse_document(&docs[0]).unwrap()["a"], 1);
    }
}
