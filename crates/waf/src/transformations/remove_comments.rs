//! `t:removeComments`: removes comments as libmodsecurity does: `/* ... */` and
//! `<!-- ... -->` are deleted, and `--` or `#` cut the rest of the value. An unterminated
//! `/*` or `<!--` comment at the end leaves one space. The byte right after a comment end
//! is always kept, even `#` or the start of `--`; when the comment ends the value, a NUL
//! byte is appended (libmodsecurity copies the C string terminator).

use std::borrow::Cow;

/// Removes C, HTML and SQL/shell line comments.
pub fn remove_comments(input: &[u8]) -> Cow<'_, [u8]> {
    let needs = input.contains(&b'#')
        || memchr::memmem::find(input, b"/*").is_some()
        || memchr::memmem::find(input, b"--").is_some()
        || memchr::memmem::find(input, b"<!--").is_some();
    if !needs {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    let mut in_comment = false;
    let at = |k: usize| input.get(k).copied();
    while let Some(c) = at(i) {
        if !in_comment {
            if c == b'/' && at(i + 1) == Some(b'*') {
                in_comment = true;
                i += 2;
            } else if input.get(i..i + 4) == Some(b"<!--") {
                in_comment = true;
                i += 4;
            } else if (c == b'-' && at(i + 1) == Some(b'-')) || c == b'#' {
                break;
            } else {
                out.push(c);
                i += 1;
            }
        } else if c == b'*' && at(i + 1) == Some(b'/') {
            in_comment = false;
            i += 2;
            copy_next(&mut out, input, &mut i);
        } else if input.get(i..i + 3) == Some(b"-->") {
            in_comment = false;
            i += 3;
            copy_next(&mut out, input, &mut i);
        } else {
            i += 1;
        }
    }
    if in_comment {
        out.push(b' ');
    }
    super::common::changed_or_borrowed(input, out)
}

/// libmodsecurity copies the byte right after a comment end without looking at it; at
/// the end of the value that byte is the C string terminator, so a NUL is appended.
fn copy_next(out: &mut Vec<u8>, input: &[u8], i: &mut usize) {
    out.push(input.get(*i).copied().unwrap_or(0));
    *i += 1;
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::remove_comments,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"a/*x*/b", b"ab"),
                (b"a<!--x-->b", b"ab"),
                (b"a/*x*/", b"a\x00"),
                (b"/*a*/#!", b"#!"),
                (b"a--b", b"a"),
                (b"a#b", b"a"),
                (b"a/*b", b"a "),
                (b"a-b", b"a-b"),
            ],
        );
    }
}
