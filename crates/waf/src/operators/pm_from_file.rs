//! `@pmFromFile` (alias `@pmf`): `@pm` with the phrases read from a data file.
//!
//! Description: one phrase per line, matched like [`super::pm`]. As in ModSecurity, empty
//! lines and lines whose first non-blank byte is `#` are skipped; every other line is a
//! phrase as is (inner spaces, trailing spaces and a trailing `\r` included). The file is
//! read through the build context's loader, relative to the rule file's directory. Remote
//! (`https://`) lists are not supported and are rejected at build time.
//!
//! Arguments: the data file name (one file; ModSecurity takes the whole argument as the name).
//!
//! Example: `SecRule REQUEST_HEADERS:User-Agent "@pmFromFile scanners-user-agents.data" ...`

use super::pm::Pm;
use super::{BuildContext, Operator, OperatorError, invalid, read_data_file};

/// ModSecurity's `isComment`: empty, or only white space before a `#`.
fn is_comment(line: &[u8]) -> bool {
    if line.is_empty() {
        return true;
    }
    match line.iter().position(|&b| b == b'#') {
        Some(pos) => line
            .iter()
            .take(pos)
            .all(|b| b.is_ascii_whitespace() || *b == 0x0b),
        None => false,
    }
}

/// The phrases of a data file's content.
pub(crate) fn phrases(content: &[u8]) -> Vec<Vec<u8>> {
    let mut lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    // `getline` yields no extra empty line after a final newline.
    if content.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .filter(|l| !is_comment(l))
        .map(<[u8]>::to_vec)
        .collect()
}

/// Factory for `@pmFromFile` and `@pmf`.
pub(crate) fn build(
    argument: &str,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    if argument.starts_with("https://") || argument.starts_with("http://") {
        return Err(invalid(
            "pmFromFile",
            "remote phrase lists (http/https) are not supported",
        ));
    }
    if argument.is_empty() {
        return Err(invalid("pmFromFile", "missing data file name"));
    }
    let content = read_data_file(ctx, argument)?;
    Ok(Box::new(Pm::new("pmFromFile", phrases(&content))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::test_util::{build_with, eval, eval_capture};
    use seclang::loader::MemLoader;

    #[test]
    fn table() {
        let mut loader = MemLoader::new();
        loader.insert(
            "/rules/list.data",
            "# comment\n\n  # indented comment\nnikto\nsql map\nnot # a comment\nTrailing \n",
        );
        loader.insert("/abs/other.data", "evil\n");
        let cases: &[(&str, &[u8], bool, &[u8])] = &[
            ("list.data", b"Mozilla NIKTO/2", true, b"nikto"),
            ("list.data", b"sql map", true, b"sql map"),
            ("list.data", b"sqlmap", false, b""),
            ("list.data", b"comment", false, b""),
            ("list.data", b"is not # a comment", true, b"not # a comment"),
            ("list.data", b"trailing", false, b""),
            ("list.data", b"trailing x", true, b"Trailing "),
            ("/abs/other.data", b"so evil", true, b"evil"),
        ];
        for (arg, input, want, cap) in cases {
            for name in ["pmFromFile", "pmf"] {
                let op = build_with(name, arg, &loader);
                assert_eq!(eval(op.as_ref(), input), *want, "{arg:?} {input:?}");
                if *want {
                    assert_eq!(eval_capture(op.as_ref(), input).1, vec![cap.to_vec()]);
                }
            }
        }
    }

    #[test]
    fn errors() {
        let loader = MemLoader::new();
        let ctx = BuildContext {
            loader: &loader,
            base_dir: std::path::Path::new("/rules"),
        };
        assert!(matches!(
            crate::operators::build("pmFromFile", "missing.data", &ctx),
            Err(OperatorError::DataFile { .. })
        ));
        assert!(crate::operators::build("pmf", "https://example.com/x", &ctx).is_err());
    }

    #[test]
    fn comment_lines() {
        assert_eq!(
            phrases(b"a\n#b\n \t#c\n\nd # e\n   \n"),
            vec![b"a".to_vec(), b"d # e".to_vec(), b"   ".to_vec()]
        );
    }

    /// Every `@pmFromFile` / `@pm` of the CRS rule files builds, data files found next to
    /// the rules, and each data file yields phrases.
    #[test]
    fn every_crs_phrase_list_builds() {
        let dir = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/crs/rules"
        ));
        let ctx = BuildContext {
            loader: &seclang::loader::FsLoader,
            base_dir: dir,
        };
        let mut built = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                for (marker, name) in [
                    ("\"@pmFromFile ", "pmFromFile"),
                    ("\"!@pmFromFile ", "pmFromFile"),
                    ("\"@pm ", "pm"),
                ] {
                    let Some(at) = line.find(marker) else {
                        continue;
                    };
                    let rest = &line[at + marker.len()..];
                    let arg = &rest[..rest.find('"').unwrap_or(rest.len())];
                    if let Err(e) = crate::operators::build(name, arg, &ctx) {
                        panic!("{}: @{name} {arg}: {e}", path.display());
                    }
                    if name == "pmFromFile" {
                        assert!(
                            !phrases(&std::fs::read(dir.join(arg)).unwrap()).is_empty(),
                            "{arg}"
                        );
                    }
                    built += 1;
                }
            }
        }
        assert!(built >= 30, "only {built} phrase operators found");
    }
}
