//! Per-transaction overlays used by the gateway: one compiled rule set is shared by every
//! Ingress, and each Ingress's differences (engine mode, pre-seeded TX variables, removed rules
//! and targets) are applied to the transaction before phase 1, the way `ctl:` actions of an
//! exclusion rule would.

use crate::config::EngineMode;
use crate::transaction::{RuleMatch, Transaction};
use crate::variables::parse_exclusion_text;

impl Transaction {
    /// Sets `TX:name` to `value` (before phase 1: CRS 901 keeps values that are already set,
    /// so this pre-seeds thresholds and paranoia levels).
    pub fn set_tx_var(&mut self, name: &str, value: &str) {
        if let Some(col) = self.data.cols.get_mut(0) {
            col.insert(
                name.to_ascii_lowercase(),
                (name.to_owned(), value.as_bytes().to_vec()),
            );
        }
    }

    /// Overrides the engine mode for this transaction only (`ctl:ruleEngine`).
    pub fn set_engine_mode_override(&mut self, mode: EngineMode) {
        self.state.engine = Some(mode);
    }

    /// Removes the rules with ids in `start..=end` for this transaction
    /// (`ctl:ruleRemoveById`).
    pub fn remove_rule_range(&mut self, start: u64, end: u64) {
        self.state.removed_ids.push((start, end.max(start)));
    }

    /// Removes the rules tagged `tag` for this transaction (`ctl:ruleRemoveByTag`).
    pub fn remove_rule_tag(&mut self, tag: &str) {
        self.state.removed_tags.push(tag.to_owned());
    }

    /// Excludes a target (`ARGS:password`, `REQUEST_COOKIES:/^sess/`) from the rules with ids
    /// in `ranges` for this transaction (`ctl:ruleRemoveTargetById`).
    pub fn remove_rule_target(
        &mut self,
        ranges: &[(u64, u64)],
        target: &str,
    ) -> Result<(), String> {
        let exclusion = parse_exclusion_text(target)?;
        self.state
            .removed_targets
            .push((RuleMatch::Ids(ranges.to_vec()), exclusion));
        Ok(())
    }
}
