//! `t:replaceComments`: replaces each C-style `/* ... */` comment with one space; an
//! unterminated comment at the end also becomes one space. A lone `*/` is kept.

use std::borrow::Cow;

/// Replaces `/* */` comments with a space.
pub fn replace_comments(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memmem::find(input, b"/*") else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    let mut in_comment = false;
    while let Some(&c) = input.get(i) {
        let next = input.get(i + 1).copied();
        if !in_comment {
            if c == b'/' && next == Some(b'*') {
                in_comment = true;
                i += 2;
            } else {
                out.push(c);
                i += 1;
            }
        } else if c == b'*' && next == Some(b'/') {
            in_comment = false;
            out.push(b' ');
            i += 2;
        } else {
            i += 1;
        }
    }
    if in_comment {
        out.push(b' ');
    }
    super::common::changed_or_borrowed(input, out)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::replace_comments,
            &[
                (b"", b""),
                (b"abc", b"abc"),
                (b"a/*x*/b", b"a b"),
                (b"a/**/b/*", b"a b "),
                (b"a*/b", b"a*/b"),
                (b"/*/", b" "),
                (b"/*a*//*b*/", b"  "),
            ],
        );
    }
}
