//! `t:removeCommentsChar`: deletes the comment markers `/*`, `*/`, `<!--`, `-->`, `--` and
//! `#` (the text between them stays).

use std::borrow::Cow;

/// Deletes comment marker sequences.
pub fn remove_comments_char(input: &[u8]) -> Cow<'_, [u8]> {
    let needs = input.contains(&b'#')
        || memchr::memmem::find(input, b"/*").is_some()
        || memchr::memmem::find(input, b"*/").is_some()
        || memchr::memmem::find(input, b"--").is_some();
    if !needs {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        let rest = input.get(i..).unwrap_or(&[]);
        let skip = if rest.starts_with(b"/*") || rest.starts_with(b"*/") {
            2
        } else if rest.starts_with(b"<!--") {
            4
        } else if rest.starts_with(b"-->") {
            3
        } else if rest.starts_with(b"--") {
            2
        } else if c == b'#' {
            1
        } else {
            out.push(c);
            0
        };
        i += skip.max(1);
    }
    super::common::changed_or_borrowed(input, out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::remove_comments_char,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"a/*b*/c", b"abc"),
                (b"a<!--b-->c", b"abc"),
                (b"a--b#c", b"abc"),
                (b"<!-", b"<!-"),
                (b"---", b"-"),
            ],
        );
    }
}
