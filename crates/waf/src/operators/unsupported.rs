//! Operators that SecLang defines but Portcullis cannot honour without external services,
//! native libraries or a database, and `@geoLookup`, which is implemented as ModSecurity
//! behaves without a GeoIP database.
//!
//! Description:
//! - `@geoLookup`: accepted; never matches and sets no `GEO` data, exactly as ModSecurity
//!   does when no GeoIP/MaxMind database is configured (`SecGeoLookupDb` is not
//!   supported).
//! - `@rbl`: accepted; never matches, as ModSecurity answers when the DNS block-list lookup
//!   fails (Portcullis does no network I/O from the request path). CRS 3.3 (Debian's
//!   package) carries `@rbl` rules (910xxx, only active with a configured block list), so
//!   rejecting it would keep that rule set from loading.
//! - `@inspectFile` (runs an external
//!   program), `@fuzzyHash` (needs ssdeep), `@validateDTD` / `@validateSchema` (need
//!   libxml2 DTD/XSD validation), `@gsbLookup` (Google Safe Browsing, removed upstream):
//!   rejected at build time with [`OperatorError::InvalidArgument`] explaining that the
//!   operator is unsupported, so a rule set that depends on them fails loudly.
//!
//! Arguments: as in ModSecurity (ignored).
//!
//! Example: `SecRule REMOTE_ADDR "@geoLookup" "id:1,phase:1,pass,nolog"`

use super::{BuildContext, OpContext, Operator, OperatorError, invalid};

/// Compiled `@geoLookup`: no database, no match.
#[derive(Debug)]
struct GeoLookup;

impl Operator for GeoLookup {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, _input: &[u8]) -> bool {
        false
    }
}

/// Factory for `@geoLookup`.
pub(crate) fn geo_lookup(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(GeoLookup))
}

fn unsupported(name: &str, why: &str) -> Result<Box<dyn Operator>, OperatorError> {
    Err(invalid(
        name,
        format!("operator @{name} is not supported by Portcullis ({why})"),
    ))
}

/// Compiled `@rbl`: no lookup, no match.
#[derive(Debug)]
struct Rbl;

impl Operator for Rbl {
    fn evaluate(&self, _ctx: &mut OpContext<'_>, _input: &[u8]) -> bool {
        false
    }
}

/// Factory for `@rbl`.
pub(crate) fn rbl(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(Rbl))
}

/// Factory for `@inspectFile`.
pub(crate) fn inspect_file(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    unsupported("inspectFile", "no external programs are run")
}

/// Factory for `@fuzzyHash`.
pub(crate) fn fuzzy_hash(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    unsupported("fuzzyHash", "ssdeep is not available")
}

/// Factory for `@validateDTD`.
pub(crate) fn validate_dtd(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    unsupported("validateDTD", "no DTD validation of XML bodies")
}

/// Factory for `@validateSchema`.
pub(crate) fn validate_schema(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    unsupported("validateSchema", "no XML Schema validation of XML bodies")
}

/// Factory for `@gsbLookup`.
pub(crate) fn gsb_lookup(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    unsupported(
        "gsbLookup",
        "Google Safe Browsing lookups are not available",
    )
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval};
    use crate::operators::{BuildContext, OperatorError, build};

    #[test]
    fn table() {
        assert!(!eval(build_op("geoLookup", "").as_ref(), b"8.8.8.8"));
        assert!(!eval(
            build_op("rbl", "dnsbl.httpbl.org").as_ref(),
            b"1.2.3.4"
        ));
        let loader = seclang::loader::MemLoader::new();
        let ctx = BuildContext {
            loader: &loader,
            base_dir: std::path::Path::new("/"),
        };
        for name in [
            "inspectFile",
            "fuzzyHash",
            "validateDTD",
            "validateSchema",
            "gsbLookup",
        ] {
            match build(name, "x", &ctx) {
                Err(OperatorError::InvalidArgument { reason, .. }) => {
                    assert!(reason.contains("not supported"))
                }
                other => panic!("@{name}: {:?}", other.map(|_| ())),
            }
        }
    }
}
