//! `@ipMatch`: IPv4/IPv6 address or network membership.
//!
//! Description: the argument is a comma-separated list of addresses and CIDR networks
//! (IPv4 and IPv6 may be mixed; an address without a prefix length is a single host). The
//! input (typically `REMOTE_ADDR`) is parsed as an address, IPv6 when it contains `:`;
//! input that does not parse never matches (ModSecurity `IpMatch`). Host bits in a listed
//! network are ignored. White space around entries is tolerated; an entry that does not
//! parse rejects the rule with [`OperatorError::InvalidArgument`].
//!
//! Arguments: `addr[/len][,addr[/len]...]`.
//!
//! Example: `SecRule REMOTE_ADDR "@ipMatch 127.0.0.1,::1,10.0.0.0/8" ...`

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{BuildContext, OpContext, Operator, OperatorError, invalid};

/// A set of IPv4 and IPv6 networks.
#[derive(Debug, Default)]
pub(crate) struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

fn mask_v4(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

fn mask_v6(len: u32) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    }
}

impl IpSet {
    /// Adds one `addr[/len]` entry.
    pub(crate) fn add(&mut self, name: &str, entry: &str) -> Result<(), OperatorError> {
        let entry = entry.trim();
        let (addr, len) = match entry.split_once('/') {
            Some((a, l)) => {
                let l: u32 = l
                    .trim()
                    .parse()
                    .map_err(|_| invalid(name, format!("bad prefix length in {entry:?}")))?;
                (a.trim(), Some(l))
            }
            None => (entry, None),
        };
        if addr.contains(':') {
            let ip: Ipv6Addr = addr
                .parse()
                .map_err(|_| invalid(name, format!("bad IPv6 address {addr:?}")))?;
            let len = len.unwrap_or(128);
            if len > 128 {
                return Err(invalid(
                    name,
                    format!("prefix length {len} too long in {entry:?}"),
                ));
            }
            let m = mask_v6(len);
            self.v6.push((u128::from(ip) & m, m));
        } else {
            let ip: Ipv4Addr = addr
                .parse()
                .map_err(|_| invalid(name, format!("bad IPv4 address {addr:?}")))?;
            let len = len.unwrap_or(32);
            if len > 32 {
                return Err(invalid(
                    name,
                    format!("prefix length {len} too long in {entry:?}"),
                ));
            }
            let m = mask_v4(len);
            self.v4.push((u32::from(ip) & m, m));
        }
        Ok(())
    }

    /// Whether the textual address `input` lies in one of the networks.
    pub(crate) fn contains(&self, input: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(input) else {
            return false;
        };
        if text.contains(':') {
            let Ok(ip) = text.parse::<Ipv6Addr>() else {
                return false;
            };
            let v = u128::from(ip);
            self.v6.iter().any(|&(net, m)| v & m == net)
        } else {
            let Ok(ip) = text.parse::<Ipv4Addr>() else {
                return false;
            };
            let v = u32::from(ip);
            self.v4.iter().any(|&(net, m)| v & m == net)
        }
    }

    /// Whether nothing was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Compiled `@ipMatch` / `@ipMatchFromFile`.
#[derive(Debug)]
pub(crate) struct IpMatch {
    pub(crate) set: IpSet,
}

/// Factory for `@ipMatch`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    let mut set = IpSet::default();
    for entry in argument.split(',').filter(|e| !e.trim().is_empty()) {
        set.add("ipMatch", entry)?;
    }
    if set.is_empty() {
        return Err(invalid("ipMatch", "no address given"));
    }
    Ok(Box::new(IpMatch { set }))
}

impl Operator for IpMatch {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        self.set.contains(input)
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval};
    use crate::operators::{BuildContext, build};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("127.0.0.1,::1", b"127.0.0.1", true),
            ("127.0.0.1,::1", b"::1", true),
            ("127.0.0.1,::1", b"127.0.0.2", false),
            ("10.0.0.0/8", b"10.200.3.4", true),
            ("10.0.0.0/8", b"11.0.0.1", false),
            ("10.1.2.3/8", b"10.9.9.9", true),
            ("192.168.1.0/24, 2001:db8::/32", b"2001:db8:1::5", true),
            ("192.168.1.0/24, 2001:db8::/32", b"2001:db9::5", false),
            ("0.0.0.0/0", b"8.8.8.8", true),
            ("127.0.0.1", b"not an ip", false),
            ("127.0.0.1", b"", false),
            ("127.0.0.1", b"\xff", false),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("ipMatch", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let loader = seclang::loader::MemLoader::new();
        let ctx = BuildContext {
            loader: &loader,
            base_dir: std::path::Path::new("/"),
        };
        for bad in ["", "1.2.3", "1.2.3.4/33", "::1/129", "x"] {
            assert!(build("ipMatch", bad, &ctx).is_err(), "{bad:?}");
        }
    }
}
