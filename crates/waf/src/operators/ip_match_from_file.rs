//! `@ipMatchFromFile` (alias `@ipMatchF`): `@ipMatch` with the list read from a data file.
//!
//! Description: the file holds addresses and CIDR networks, one or more per line
//! (comma-separated), with `#` starting a comment to the end of the line and blank lines
//! ignored (ModSecurity `IpTree::addFromBuffer`). Read through the build context's loader,
//! relative to the rule file's directory; remote (`https://`) lists are not supported.
//!
//! Arguments: the data file name.
//!
//! Example: `SecRule REMOTE_ADDR "@ipMatchFromFile blocked-ips.data" ...`

use super::ip_match::{IpMatch, IpSet};
use super::{BuildContext, Operator, OperatorError, invalid, read_data_file};

const NAME: &str = "ipMatchFromFile";

/// Factory for `@ipMatchFromFile` and `@ipMatchF`.
pub(crate) fn build(
    argument: &str,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    if argument.starts_with("https://") || argument.starts_with("http://") {
        return Err(invalid(
            NAME,
            "remote address lists (http/https) are not supported",
        ));
    }
    let content = read_data_file(ctx, argument)?;
    let text = String::from_utf8_lossy(&content);
    let mut set = IpSet::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        for entry in line.split(',').filter(|e| !e.trim().is_empty()) {
            set.add(NAME, entry)
                .map_err(|e| invalid(NAME, format!("{argument}:{}: {e}", n + 1)))?;
        }
    }
    Ok(Box::new(IpMatch { set }))
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_with, eval};
    use crate::operators::{BuildContext, build};
    use seclang::loader::MemLoader;

    #[test]
    fn table() {
        let mut loader = MemLoader::new();
        loader.insert(
            "/rules/ips.data",
            "# blocked\n10.0.0.0/8\n\n192.168.0.1, 192.168.0.2 # two\n2001:db8::/32\r\n",
        );
        let cases: &[(&[u8], bool)] = &[
            (b"10.1.1.1", true),
            (b"192.168.0.2", true),
            (b"192.168.0.3", false),
            (b"2001:db8::1", true),
            (b"127.0.0.1", false),
        ];
        for name in ["ipMatchFromFile", "ipMatchF"] {
            let op = build_with(name, "ips.data", &loader);
            for (input, want) in cases {
                assert_eq!(eval(op.as_ref(), input), *want, "{input:?}");
            }
        }
        let mut bad = MemLoader::new();
        bad.insert("/rules/bad.data", "10.0.0.0/8\nnonsense\n");
        let ctx = BuildContext {
            loader: &bad,
            base_dir: std::path::Path::new("/rules"),
        };
        let err = build("ipMatchFromFile", "bad.data", &ctx)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("bad.data:2"), "{err}");
        assert!(build("ipMatchFromFile", "missing.data", &ctx).is_err());
    }
}
