//! Engine configuration set by directives (`SecRuleEngine`, `SecRequestBodyAccess`, ...).

/// `SecRuleEngine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineMode {
    /// Rules run and disruptive actions interrupt.
    On,
    /// Rules run and log; nothing interrupts.
    #[default]
    DetectionOnly,
    /// No rule runs.
    Off,
}

impl EngineMode {
    /// Parses `On`, `Off`, `DetectionOnly` (any case).
    pub fn parse(v: &str) -> Result<EngineMode, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "on" => Ok(EngineMode::On),
            "off" => Ok(EngineMode::Off),
            "detectiononly" => Ok(EngineMode::DetectionOnly),
            _ => Err(format!("invalid engine mode {v:?}")),
        }
    }
}

/// What to do when a body exceeds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyLimitAction {
    /// Interrupt with 403 (as libmodsecurity v3) when the engine is On.
    #[default]
    Reject,
    /// Inspect only the part up to the limit.
    ProcessPartial,
}

/// The configuration directives' effect.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SecRuleEngine`.
    pub engine: EngineMode,
    /// `SecRequestBodyAccess`.
    pub request_body_access: bool,
    /// `SecRequestBodyLimit` in bytes.
    pub request_body_limit: u64,
    /// `SecRequestBodyNoFilesLimit` in bytes.
    pub request_body_no_files_limit: u64,
    /// `SecRequestBodyLimitAction`.
    pub request_body_limit_action: BodyLimitAction,
    /// `SecRequestBodyJsonDepthLimit`.
    pub json_depth_limit: u32,
    /// `SecArgumentsLimit` (0 = unlimited).
    pub arguments_limit: u32,
    /// `SecResponseBodyAccess`.
    pub response_body_access: bool,
    /// `SecResponseBodyMimeType` (lower-cased); empty = default text/plain and text/html.
    pub response_body_mime_types: Vec<String>,
    /// `SecResponseBodyLimit`.
    pub response_body_limit: u64,
    /// `SecResponseBodyLimitAction`.
    pub response_body_limit_action: BodyLimitAction,
    /// `SecArgumentSeparator`.
    pub argument_separator: u8,
    /// `SecCookieFormat` (0 or 1; recorded).
    pub cookie_format: u8,
    /// `SecComponentSignature` values (recorded).
    pub component_signatures: Vec<String>,
    /// `SecAudit*` and other recorded-only settings, `name value`.
    pub recorded: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineMode::DetectionOnly,
            request_body_access: false,
            request_body_limit: 13_107_200,
            request_body_no_files_limit: 1_048_576,
            request_body_limit_action: BodyLimitAction::Reject,
            json_depth_limit: 10_000,
            arguments_limit: 0,
            response_body_access: false,
            response_body_mime_types: vec!["text/plain".to_owned(), "text/html".to_owned()],
            response_body_limit: 524_288,
            response_body_limit_action: BodyLimitAction::Reject,
            argument_separator: b'&',
            cookie_format: 0,
            component_signatures: Vec::new(),
            recorded: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(EngineMode::parse("On"), Ok(EngineMode::On));
        assert_eq!(
            EngineMode::parse("detectiononly"),
            Ok(EngineMode::DetectionOnly)
        );
        assert_eq!(EngineMode::parse("OFF"), Ok(EngineMode::Off));
        assert!(EngineMode::parse("maybe").is_err());
    }
}
