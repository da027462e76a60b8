//! PCRE-to-`regex` syntax translation for `@rx` patterns.
//!
//! ModSecurity compiles `@rx` with PCRE (no UTF mode: the subject and the pattern are
//! bytes). The `regex` crate reads some spellings differently or refuses them; [`translate`]
//! rewrites a pattern into one the `regex` crate (and the `fancy-regex` fallback) reads
//! with PCRE's meaning:
//!
//! - `\x{HH}` becomes `\xHH` (values above `FF` are kept as `\x{...}`);
//! - an escaped ASCII punctuation or space character (`\<`, `\>`, `\'`, `\-`, `\\` ...) is a
//!   literal in PCRE; it becomes `\xHH` (the `regex` crate reads `\<` and `\>` as word
//!   boundaries and refuses some others inside classes);
//! - a `{` that does not start a valid quantifier (`{n}`, `{n,}`, `{n,m}`) is a literal in
//!   PCRE (`\${`, `{.*}`); it is escaped, and so is a `}` outside a quantifier;
//! - inside a character class, `[` is a literal unless it starts a POSIX class
//!   (`[:alpha:]`), and `&`, `~` and a doubled `-` are literals (the `regex` crate reads
//!   nested classes and `&&`, `~~`, `--` set operations there); they are escaped;
//! - a non-ASCII character in the pattern stands for its UTF-8 bytes (PCRE without UTF);
//!   it becomes one `\xHH` per byte, so inside a class each byte is a member, as in PCRE.
//!
//! Everything else is copied verbatim.

/// Appends `\xHH` for every byte of `c`'s UTF-8 encoding.
fn push_bytes(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("\\x{b:02x}"));
    }
}

/// Length in bytes of a valid PCRE quantifier `{n}`, `{n,}` or `{n,m}` at the start of
/// `rest` (which starts with `{`), if it is one.
fn quantifier_len(rest: &[u8]) -> Option<usize> {
    let mut i = 1;
    let start = i;
    while rest.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == start {
        return None;
    }
    if rest.get(i) == Some(&b',') {
        i += 1;
        while rest.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    (rest.get(i) == Some(&b'}')).then_some(i + 1)
}

/// Length in bytes of a POSIX class `[:name:]` (or `[:^name:]`) at the start of `rest`.
fn posix_class_len(rest: &[u8]) -> Option<usize> {
    if rest.get(1) != Some(&b':') {
        return None;
    }
    let mut i = 2;
    if rest.get(i) == Some(&b'^') {
        i += 1;
    }
    let start = i;
    while rest.get(i).is_some_and(u8::is_ascii_alphabetic) {
        i += 1;
    }
    (i > start && rest.get(i) == Some(&b':') && rest.get(i + 1) == Some(&b']')).then_some(i + 2)
}

/// Rewrites a PCRE pattern as described in the module documentation.
pub(crate) fn translate(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    // Byte offset of the first member of the current class (a `]` there is a literal).
    let mut class_first = 0usize;
    let mut chars = pattern.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let rest = b.get(i..).unwrap_or_default();
        match c {
            '\\' => {
                let Some(&(_, n)) = chars.peek() else {
                    out.push('\\');
                    break;
                };
                chars.next();
                if n == 'x' && rest.get(2) == Some(&b'{') {
                    let digits: Vec<u8> = rest
                        .get(3..)
                        .unwrap_or_default()
                        .iter()
                        .copied()
                        .take_while(u8::is_ascii_hexdigit)
                        .collect();
                    if !digits.is_empty() && rest.get(3 + digits.len()) == Some(&b'}') {
                        let digits = String::from_utf8_lossy(&digits);
                        match digits.len() {
                            1 => out.push_str(&format!("\\x0{digits}")),
                            2 => out.push_str(&format!("\\x{digits}")),
                            // Above `FF`: kept (the `regex` crate refuses it without Unicode).
                            _ => out.push_str(&format!("\\x{{{digits}}}")),
                        }
                        // Skip `{`, the digits and `}`.
                        for _ in 0..digits.len() + 2 {
                            chars.next();
                        }
                        continue;
                    }
                }
                if n.is_ascii_alphanumeric() {
                    out.push('\\');
                    out.push(n);
                } else {
                    // `\` + punctuation, space or a non-ASCII character: a literal.
                    push_bytes(&mut out, n);
                }
            }
            '[' if in_class => match posix_class_len(rest) {
                Some(len) => {
                    out.push_str(pattern.get(i..i + len).unwrap_or_default());
                    for _ in 1..len {
                        chars.next();
                    }
                }
                None => out.push_str("\\["),
            },
            '[' => {
                in_class = true;
                out.push('[');
                let mut first = i + 1;
                if b.get(first) == Some(&b'^') {
                    out.push('^');
                    chars.next();
                    first += 1;
                }
                class_first = first;
            }
            ']' if in_class && i == class_first => out.push_str("\\]"),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '-' if in_class && b.get(i + 1) == Some(&b'-') => out.push_str("\\-"),
            '{' if !in_class => match quantifier_len(rest) {
                Some(len) => {
                    out.push_str(pattern.get(i..i + len).unwrap_or_default());
                    for _ in 1..len {
                        chars.next();
                    }
                }
                None => out.push_str("\\{"),
            },
            '}' if !in_class => out.push_str("\\}"),
            c if !c.is_ascii() => push_bytes(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            ("\\x{41}\\x{5c}", "\\x41\\x5c"),
            ("\\x{9}", "\\x09"),
            ("\\\\x{41}", "\\x5cx{41}"),
            ("\\x{263a}é", "\\x{263a}\\xc3\\xa9"),
            ("a\\<b\\>", "a\\x3cb\\x3e"),
            ("[\\<\\>\\'\\-]", "[\\x3c\\x3e\\x27\\x2d]"),
            ("\\${", "\\x24\\{"),
            ("{.*}", "\\{.*\\}"),
            ("a{2}b{1,}c{1,3}", "a{2}b{1,}c{1,3}"),
            ("a{,3}", "a\\{,3\\}"),
            ("[([]", "[(\\[]"),
            ("[[:alpha:]_]", "[[:alpha:]_]"),
            ("[]a]", "[\\]a]"),
            ("[^]a]", "[^\\]a]"),
            ("[&&~~]", "[\\&\\&\\~\\~]"),
            ("[a--]", "[a\\--]"),
            ("[´’]", "[\\xc2\\xb4\\xe2\\x80\\x99]"),
            ("\\d+\\w\\s\\b\\1", "\\d+\\w\\s\\b\\1"),
            ("(?i)a{1,5}?", "(?i)a{1,5}?"),
            ("\\", "\\"),
        ];
        for (pattern, want) in cases {
            assert_eq!(translate(pattern), *want, "{pattern:?}");
        }
    }
}
