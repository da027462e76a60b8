//! `ctl`: changes the configuration for the current transaction only.
//!
//! Description: runs when the rule matches, in the order written. Supported: ruleEngine,
//! ruleRemoveById, ruleRemoveByTag, ruleRemoveByMsg, ruleRemoveTargetById,
//! ruleRemoveTargetByTag, ruleRemoveTargetByMsg, requestBodyProcessor, requestBodyAccess,
//! responseBodyAccess, forceRequestBodyVariable, requestBodyLimit; auditEngine, auditLogParts
//! and debugLogLevel are recorded but have no effect (no audit log). Other names are refused at
//! compile time.
//!
//! Arguments: `name=value`; the name is case-insensitive. Rule ids are `1`, `1-5` or lists
//! of those; targets are `VARIABLE:key` or `VARIABLE:/regex/` after a `;`.
//!
//! Example: `ctl:ruleRemoveTargetById=942100;ARGS:password`

use super::{Actions, need};
use crate::config::EngineMode;
use crate::variables::{Exclusion, parse_exclusion_text};

/// Request body processors selectable with `ctl:requestBodyProcessor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProcessor {
    /// `application/x-www-form-urlencoded`.
    UrlEncoded,
    /// `multipart/form-data`.
    Multipart,
    /// JSON.
    Json,
    /// XML.
    Xml,
}

impl BodyProcessor {
    /// The name as `REQBODY_PROCESSOR` shows it.
    pub fn name(self) -> &'static str {
        match self {
            BodyProcessor::UrlEncoded => "URLENCODED",
            BodyProcessor::Multipart => "MULTIPART",
            BodyProcessor::Json => "JSON",
            BodyProcessor::Xml => "XML",
        }
    }
}

/// One parsed ctl.
#[derive(Debug, Clone)]
pub enum Ctl {
    /// `ruleEngine=On|Off|DetectionOnly`.
    RuleEngine(EngineMode),
    /// `ruleRemoveById=1,2-5`.
    RemoveById(Vec<(u64, u64)>),
    /// `ruleRemoveByTag=TAG`.
    RemoveByTag(String),
    /// `ruleRemoveByMsg=MSG`.
    RemoveByMsg(String),
    /// `ruleRemoveTargetById=ID;VAR:key`.
    RemoveTargetById(Vec<(u64, u64)>, Exclusion),
    /// `ruleRemoveTargetByTag=TAG;VAR:key`.
    RemoveTargetByTag(String, Exclusion),
    /// `ruleRemoveTargetByMsg=MSG;VAR:key`.
    RemoveTargetByMsg(String, Exclusion),
    /// `requestBodyProcessor=...`.
    RequestBodyProcessor(BodyProcessor),
    /// `requestBodyAccess=On|Off`.
    RequestBodyAccess(bool),
    /// `responseBodyAccess=On|Off`.
    ResponseBodyAccess(bool),
    /// `forceRequestBodyVariable=On|Off`.
    ForceRequestBodyVariable(bool),
    /// `requestBodyLimit=N`.
    RequestBodyLimit(u64),
    /// Recorded, no effect (`auditEngine`, `auditLogParts`, `debugLogLevel`).
    Ignored(String),
}

fn on_off(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("expected On or Off, got {v:?}")),
    }
}

/// Parses `1`, `1-5`, `1,2,10-20` (also space separated).
pub(crate) fn parse_id_ranges(v: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut out = Vec::new();
    for part in v.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let a: u64 = a
            .trim()
            .parse()
            .map_err(|_| format!("invalid rule id {part:?}"))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| format!("invalid rule id {part:?}"))?;
        out.push((a.min(b), a.max(b)));
    }
    if out.is_empty() {
        return Err("no rule id".to_owned());
    }
    Ok(out)
}

/// Parses a ctl value `name=value`.
pub fn parse(v: &str) -> Result<Ctl, String> {
    let (name, value) = v
        .split_once('=')
        .ok_or_else(|| format!("ctl needs name=value: {v:?}"))?;
    let value = value.trim();
    let split_target = |value: &str| -> Result<(String, Exclusion), String> {
        let (what, target) = value
            .split_once(';')
            .ok_or_else(|| format!("expected ID;TARGET, got {value:?}"))?;
        Ok((what.trim().to_owned(), parse_exclusion_text(target)?))
    };
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "ruleengine" => Ctl::RuleEngine(EngineMode::parse(value)?),
        "ruleremovebyid" => Ctl::RemoveById(parse_id_ranges(value)?),
        "ruleremovebytag" => Ctl::RemoveByTag(value.to_owned()),
        "ruleremovebymsg" => Ctl::RemoveByMsg(value.to_owned()),
        "ruleremovetargetbyid" => {
            let (ids, t) = split_target(value)?;
            Ctl::RemoveTargetById(parse_id_ranges(&ids)?, t)
        }
        "ruleremovetargetbytag" => {
            let (tag, t) = split_target(value)?;
            Ctl::RemoveTargetByTag(tag, t)
        }
        "ruleremovetargetbymsg" => {
            let (msg, t) = split_target(value)?;
            Ctl::RemoveTargetByMsg(msg, t)
        }
        "requestbodyprocessor" => {
            Ctl::RequestBodyProcessor(match value.to_ascii_uppercase().as_str() {
                "URLENCODED" => BodyProcessor::UrlEncoded,
                "MULTIPART" => BodyProcessor::Multipart,
                "JSON" => BodyProcessor::Json,
                "XML" => BodyProcessor::Xml,
                _ => return Err(format!("unknown request body processor {value:?}")),
            })
        }
        "requestbodyaccess" => Ctl::RequestBodyAccess(on_off(value)?),
        "responsebodyaccess" => Ctl::ResponseBodyAccess(on_off(value)?),
        "forcerequestbodyvariable" => Ctl::ForceRequestBodyVariable(on_off(value)?),
        "requestbodylimit" => Ctl::RequestBodyLimit(
            value
                .parse()
                .map_err(|_| format!("invalid requestBodyLimit {value:?}"))?,
        ),
        "auditengine" | "auditlogparts" | "debugloglevel" => Ctl::Ignored(v.to_owned()),
        other => return Err(format!("unknown ctl {other:?}")),
    })
}

/// Handler for `ctl`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let c = parse(need(value)?)?;
    a.ctls.push(c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::test_util::run;
    use crate::variables::Var;

    #[test]
    fn table() {
        assert!(matches!(
            parse("ruleEngine=DetectionOnly"),
            Ok(Ctl::RuleEngine(EngineMode::DetectionOnly))
        ));
        assert!(
            matches!(parse("ruleRemoveById=942100"), Ok(Ctl::RemoveById(v)) if v == vec![(942100, 942100)])
        );
        assert!(
            matches!(parse("ruleRemoveById=10-20,5"), Ok(Ctl::RemoveById(v)) if v == vec![(10, 20), (5, 5)])
        );
        assert!(
            matches!(parse("ruleRemoveByTag=attack-sqli"), Ok(Ctl::RemoveByTag(t)) if t == "attack-sqli")
        );
        match parse("ruleRemoveTargetById=942100;ARGS:password") {
            Ok(Ctl::RemoveTargetById(ids, ex)) => {
                assert_eq!(ids, vec![(942100, 942100)]);
                assert!(ex.excludes(Var::Args, Some(b"password")));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("ruleRemoveTargetByTag=xss;REQUEST_COOKIES:/^x/"),
            Ok(Ctl::RemoveTargetByTag(t, _)) if t == "xss"
        ));
        assert!(matches!(
            parse("requestBodyProcessor=JSON"),
            Ok(Ctl::RequestBodyProcessor(BodyProcessor::Json))
        ));
        assert!(matches!(
            parse("requestBodyAccess=Off"),
            Ok(Ctl::RequestBodyAccess(false))
        ));
        assert!(matches!(
            parse("forceRequestBodyVariable=On"),
            Ok(Ctl::ForceRequestBodyVariable(true))
        ));
        assert!(matches!(parse("auditEngine=Off"), Ok(Ctl::Ignored(_))));
        assert!(parse("requestBodyProcessor=YAML").is_err());
        assert!(parse("nope=1").is_err());
        assert!(parse("ruleRemoveById").is_err());
        let (a, r) = run("ctl", Some("ruleRemoveById=1"));
        assert!(r.is_ok());
        assert_eq!(a.ctls.len(), 1);
        let (a, r) = run("CTL", Some("nope=1"));
        assert!(r.is_err());
        assert!(a.ctls.is_empty());
        assert!(run("ctl", None).1.is_err());
    }
}
