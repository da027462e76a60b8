//! Rule evaluation: phases, chains, transformations, operators and actions.
//!
//! Semantics follow ModSecurity v3: `setvar`/`setenv` run for every matched value of every
//! chain link as soon as the link matches ("independent of the chain result"); `ctl`, the
//! message, logging and the disruptive action run once the whole chain has matched.
//! Disruptive actions only interrupt when the engine is `On`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::collection::FastHasher;
use std::sync::Arc;

use crate::actions::{AllowScope, Ctl, Disruptive, SetOp};
use crate::config::EngineMode;
use crate::operators::OpContext;
use crate::resolve::{self, Item, each};
use crate::rule::Rule;
use crate::ruleset::Entry;
use crate::screen::Verdict;
use crate::transaction::{InterruptAction, Interruption, MatchedRule, RuleMatch, Transaction};
use crate::transformations::Transform;
use crate::variables::Var;

/// (value address, value length, chain id) -> transformed value (`None`: unchanged).
type TransformCache = HashMap<(usize, usize, u32), Option<Vec<u8>>, BuildHasherDefault<FastHasher>>;

/// Per-transaction scratch space reused across rules.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    captures: Vec<Vec<u8>>,
    /// Match records, reused from link to link.
    recs: Recs,
    /// Transformation cache: (value address, value length, transformation chain id) ->
    /// transformed value (`None`: the chain left the value unchanged). Only values borrowed
    /// from request/response data are cached (never collections or MATCHED_*), and the
    /// cache is cleared at the start of every phase, so an address always names the same
    /// bytes while an entry lives.
    tcache: TransformCache,
    /// Rule screening summaries of the current phase.
    pub(crate) screen: crate::screen::ScreenState,
}

impl Scratch {
    /// Forgets cached transformations (at each phase start).
    pub(crate) fn new_phase(&mut self) {
        self.tcache.clear();
        self.screen.new_phase();
    }
}

/// Whether values of `var` may be cached by address (stable within a phase).
fn cacheable(var: Var) -> bool {
    !matches!(
        var,
        Var::Tx
            | Var::Ip
            | Var::Session
            | Var::User
            | Var::Global
            | Var::Resource
            | Var::Env
            | Var::MatchedVar
            | Var::MatchedVars
            | Var::MatchedVarName
            | Var::MatchedVarsNames
            | Var::Rule
    )
}

#[derive(Debug, Default)]
struct MatchRec {
    name: String,
    value: Vec<u8>,
    captures: Option<Vec<Vec<u8>>>,
}

/// The matches of one chain link: the first `n` records of `pool`, whose buffers are reused
/// from link to link (kept in [`Scratch`] between links).
#[derive(Debug, Default)]
pub(crate) struct Recs {
    pool: Vec<MatchRec>,
    n: usize,
}

impl Recs {
    /// A cleared record to fill.
    fn next(&mut self) -> &mut MatchRec {
        if self.n == self.pool.len() {
            self.pool.push(MatchRec::default());
        }
        let i = self.n;
        self.n += 1;
        // Invariant: `pool.len() > i` (pushed above when it was equal).
        let r = &mut self.pool[i];
        r.name.clear();
        r.value.clear();
        r.captures = None;
        r
    }

    /// Records a match of `item` with value `v`.
    fn add(&mut self, item: &Item<'_>, v: &[u8], captures: Option<Vec<Vec<u8>>>) {
        let r = self.next();
        item.write_name(&mut r.name);
        r.value.extend_from_slice(v);
        r.captures = captures;
    }
}

/// Copies `src` into `dst`, reusing its buffers.
fn copy_pair(dst: &mut (String, Vec<u8>), name: &str, value: &[u8]) {
    dst.0.clear();
    dst.0.push_str(name);
    dst.1.clear();
    dst.1.extend_from_slice(value);
}

/// The deadline is checked before every this many evaluated rules (reading the clock
/// costs about as much as a cheap rule).
const DEADLINE_EVERY: u32 = 16;

/// Transformation chains at least this long are cached whatever the value's length.
const CACHE_MIN_CHAIN: usize = 2;

/// TX keys of the capture slots `TX:0`..`TX:9`.
const CAPTURE_KEYS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

enum Flow {
    Continue,
    StopPhase,
}

/// Runs the rules of `phase`.
pub(crate) fn run_phase(tx: &mut Transaction, phase: u8) {
    let rs = Arc::clone(&tx.rs);
    let Some(list) = rs.phases.get(usize::from(phase)) else {
        return;
    };
    let mut skip_to: Option<&str> = None;
    let mut skip_n: u32 = 0;
    let deadline = tx.state.deadline;
    let mut until_clock = DEADLINE_EVERY;
    for entry in list {
        let idx = match entry {
            Entry::Marker(name) => {
                if skip_to == Some(&**name) {
                    skip_to = None;
                }
                continue;
            }
            Entry::Rule(idx) => *idx,
        };
        if skip_to.is_some() {
            continue;
        }
        if skip_n > 0 {
            skip_n -= 1;
            continue;
        }
        let Some(rule) = rs.rules.get(idx) else {
            continue;
        };
        if is_removed(tx, rule) {
            continue;
        }
        if let Some(at) = deadline {
            until_clock -= 1;
            if until_clock == 0 {
                until_clock = DEADLINE_EVERY;
                if std::time::Instant::now() >= at {
                    tx.state.deadline_exceeded = true;
                    break;
                }
            }
        }
        let skip = match rs.screen.verdict(idx, &tx.data, &mut tx.scratch.screen) {
            Verdict::Skip => {
                #[cfg(debug_assertions)]
                debug_check_screen(tx, rule, u64::MAX);
                continue;
            }
            Verdict::Run(skip) => {
                #[cfg(debug_assertions)]
                if skip != 0 {
                    debug_check_screen(tx, rule, skip);
                }
                skip
            }
        };
        if !eval_rule(tx, rule, skip, Some(idx)) {
            continue;
        }
        let flow = on_full_match(tx, rule);
        if rule.actions.skip > 0 {
            skip_n = rule.actions.skip;
        }
        if let Some(m) = &rule.actions.skip_after {
            skip_to = Some(m.as_str());
        }
        if matches!(flow, Flow::StopPhase) || tx.interruption.is_some() {
            break;
        }
    }
}

/// Debug builds (the tests) evaluate the targets the screen skipped (`skip`'s bits) anyway
/// and fail loudly if a value of them matches: the screen must only skip what cannot match.
#[cfg(debug_assertions)]
fn debug_check_screen(tx: &mut Transaction, rule: &Rule, skip: u64) {
    let (recs, _) = collect_matches(tx, rule, rule, !skip, None);
    let n = recs.n;
    tx.scratch.recs = recs;
    assert!(
        n == 0,
        "rule {} was screened out (targets {skip:#x}) but matches (screen.rs is unsound)",
        rule.id
    );
}

fn is_removed(tx: &Transaction, rule: &Rule) -> bool {
    let s = &tx.state;
    s.removed_ids
        .iter()
        .any(|(a, b)| *a <= rule.id && rule.id <= *b)
        || s.removed_tags.iter().any(|t| rule.has_tag(t))
        || (!s.removed_msgs.is_empty()
            && rule.msg_text().is_some_and(|m| s.removed_msgs.contains(&m)))
}

fn rule_selected(m: &RuleMatch, rule: &Rule) -> bool {
    match m {
        RuleMatch::Ids(ids) => ids.iter().any(|(a, b)| *a <= rule.id && rule.id <= *b),
        RuleMatch::Tag(t) => rule.has_tag(t),
        RuleMatch::Msg(msg) => rule.msg_text().is_some_and(|x| x == *msg),
    }
}

/// Evaluates a rule and its chain; true when every link matched. The starter's targets
/// whose bits are set in `skip` are left out (the screen found no value there can match),
/// and with `screen_idx` (the rule's index, when the screen summarised its targets) so are
/// the values the screen rules out one by one.
fn eval_rule(tx: &mut Transaction, starter: &Rule, skip: u64, screen_idx: Option<usize>) -> bool {
    tx.data.matched_vars_len = 0;
    let mut link = Some(starter);
    while let Some(l) = link {
        let (skip, screen_idx) = if std::ptr::eq(l, starter) {
            (skip, screen_idx)
        } else {
            (0, None)
        };
        if !eval_link(tx, starter, l, skip, screen_idx) {
            tx.data.matched_vars_len = 0;
            return false;
        }
        if std::ptr::eq(l, starter)
            && starter.actions.multi_match
            && starter.chain.is_some()
            && starter.log
        {
            // libmodsecurity v3 logs a multiMatch chain starter as soon as it matches, whether
            // or not the rest of the chain does (CRS nginx-overrides: 942131).
            push_match(tx, starter, false);
        }
        link = l.chain.as_deref();
    }
    true
}

/// Records a match of `rule` (message and logdata expanded now).
fn push_match(tx: &mut Transaction, rule: &Rule, disruptive: bool) {
    let expand = |t: Option<&crate::macros::Template>, tx: &Transaction| {
        t.map(|t| String::from_utf8_lossy(&resolve::expand(t, &tx.data, Some(rule))).into_owned())
            .unwrap_or_default()
    };
    // Unlogged (`nolog`) matches are recorded without message, data or tags: nobody sees
    // them in a log, and CRS has dozens per request (paranoia-level skips, setup actions).
    let (msg, data, tags, var_name, var) = if rule.log {
        (
            expand(rule.actions.msg.as_ref(), tx),
            expand(rule.actions.logdata.as_ref(), tx),
            rule.actions.tags.clone(),
            tx.data.matched_var_name.clone(),
            tx.data.matched_var.clone(),
        )
    } else {
        (
            String::new(),
            String::new(),
            Vec::new(),
            String::new(),
            Vec::new(),
        )
    };
    tx.matched.push(MatchedRule {
        id: rule.id,
        phase: rule.phase,
        msg,
        data,
        tags,
        severity: rule.actions.severity,
        matched_var_name: var_name,
        matched_var: var,
        logged: rule.log,
        disruptive,
    });
}

/// Applies the transformation chain and returns the final value.
pub(crate) fn transform_one<'v>(value: &'v [u8], chain: &[(String, Transform)]) -> Cow<'v, [u8]> {
    let mut cur = Cow::Borrowed(value);
    for (_, f) in chain {
        let next = match f(&cur) {
            Cow::Owned(o) => Some(o),
            Cow::Borrowed(_) => None,
        };
        if let Some(o) = next {
            cur = Cow::Owned(o);
        }
    }
    cur
}

/// Applies the transformation chain; pushes the final value (or, with multiMatch, every
/// distinct intermediate value including the original).
pub(crate) fn transform_values<'v>(
    value: Cow<'v, [u8]>,
    chain: &[(String, Transform)],
    multi: bool,
    out: &mut Vec<Cow<'v, [u8]>>,
) {
    if chain.is_empty() {
        out.push(value);
        return;
    }
    let mut cur = value;
    if multi {
        out.push(cur.clone());
    }
    for (_, f) in chain {
        let next = match f(&cur) {
            Cow::Owned(o) => Some(o),
            Cow::Borrowed(_) => None,
        };
        if let Some(o) = next {
            cur = Cow::Owned(o);
            if multi {
                out.push(cur.clone());
            }
        }
    }
    if !multi {
        out.push(cur);
    }
}

/// The lower-cased key when `link` reads exactly one TX element with no transformation,
/// exclusion, multiMatch or capture: it then yields at most one item, the element as stored.
fn single_tx_key(link: &Rule) -> Option<&str> {
    match link.targets.as_slice() {
        [
            crate::variables::Target {
                var: Var::Tx,
                sel: crate::variables::Sel::Key { lower, .. },
                count: false,
            },
        ] if link.transforms.is_empty()
            && link.exclusions.is_empty()
            && !link.actions.multi_match
            && !link.actions.capture =>
        {
            Some(lower)
        }
        _ => None,
    }
}

fn eval_link(
    tx: &mut Transaction,
    starter: &Rule,
    link: &Rule,
    skip: u64,
    screen_idx: Option<usize>,
) -> bool {
    let (recs, limit_hit) = collect_matches(tx, starter, link, skip, screen_idx);
    if limit_hit {
        tx.data.regex_limit_exceeded = true;
    }
    if recs.n == 0 {
        tx.scratch.recs = recs;
        return false;
    }
    apply_matches(tx, starter, link, recs);
    true
}

/// Runs `link`'s operator over its targets (those whose bit is set in `skip` left out) and
/// records the matching values; no effect on the transaction besides the caches. Returns
/// the records (taken from the scratch space; give them back) and whether a regex limit
/// was hit.
fn collect_matches(
    tx: &mut Transaction,
    starter: &Rule,
    link: &Rule,
    skip: u64,
    screen_idx: Option<usize>,
) -> (Recs, bool) {
    let mut recs = std::mem::take(&mut tx.scratch.recs);
    recs.n = 0;
    let mut limit_hit = false;
    {
        let d = &tx.data;
        let state = &tx.state;
        let ix = &tx.rs.screen;
        let Scratch {
            captures: cap_buf,
            tcache,
            screen,
            ..
        } = &mut tx.scratch;
        let screen: &crate::screen::ScreenState = screen;
        match &link.operator {
            None => {
                recs.next();
            }
            Some(op) => {
                let expanded = op
                    .macro_arg
                    .as_ref()
                    .map(|t| resolve::expand_cow(t, d, Some(starter)));
                let has_runtime_excl = state
                    .removed_targets
                    .iter()
                    .any(|(m, _)| rule_selected(m, starter));
                let multi = link.actions.multi_match;
                let capture = link.actions.capture;
                let mut eval_value = |v: &[u8], item: &Item<'_>, recs: &mut Recs| {
                    cap_buf.clear();
                    let matched = {
                        let mut ctx = OpContext {
                            expanded: expanded.as_deref(),
                            captures: if capture { Some(&mut *cap_buf) } else { None },
                            limit_exceeded: false,
                        };
                        let hit = op.op.evaluate(&mut ctx, v);
                        limit_hit |= ctx.limit_exceeded;
                        hit != op.negated
                    };
                    if matched {
                        let captures = capture.then(|| std::mem::take(&mut *cap_buf));
                        recs.add(item, v, captures);
                    }
                };
                if let Some(lower) = single_tx_key(link)
                    && !has_runtime_excl
                {
                    // One TX element, as is (CRS's paranoia-level skips and anomaly checks):
                    // the generic walk below would yield the same single item.
                    if let Some((k, v)) = d.cols.first().and_then(|c| c.get(lower)) {
                        let item = Item {
                            var: Var::Tx,
                            key: Some(Cow::Borrowed(k.as_bytes())),
                            value: Cow::Borrowed(v),
                        };
                        eval_value(v, &item, &mut recs);
                    }
                } else {
                    for (i, t) in link.targets.iter().enumerate() {
                        if i < 64 && skip & (1u64 << i) != 0 {
                            continue;
                        }
                        let values = screen_idx.and_then(|x| ix.values(x, i, screen));
                        let mut k = 0usize;
                        resolve::resolve(
                            d,
                            Some(starter),
                            t,
                            &mut each(|item: Item<'_>| {
                                let at = k;
                                k += 1;
                                let key = item.key.as_deref();
                                if link.exclusions.iter().any(|e| e.excludes(item.var, key))
                                    || (has_runtime_excl
                                        && state.removed_targets.iter().any(|(m, e)| {
                                            rule_selected(m, starter) && e.excludes(item.var, key)
                                        }))
                                {
                                    return;
                                }
                                // The screen's scan of this very value rules the operator out.
                                let screened = values
                                    .as_ref()
                                    .is_some_and(|s| !s.may_match(at, &item.value));
                                if screened && !cfg!(debug_assertions) {
                                    return;
                                }
                                // Debug builds evaluate a screened value anyway and check it
                                // does not match.
                                let before = recs.n;
                                'eval: {
                                    if let Some(id) = &link.transform_identity
                                        && item.value.iter().all(|b| id[usize::from(*b)])
                                    {
                                        // The chain would return the value unchanged (and
                                        // multiMatch would see no other value).
                                        eval_value(&item.value, &item, &mut recs);
                                        break 'eval;
                                    }
                                    if multi {
                                        let mut values = Vec::new();
                                        transform_values(
                                            item.value.clone(),
                                            &link.transforms,
                                            true,
                                            &mut values,
                                        );
                                        for v in &values {
                                            eval_value(v, &item, &mut recs);
                                        }
                                    } else if let (Cow::Borrowed(raw), false) =
                                        (&item.value, link.transforms.is_empty())
                                    {
                                        // A short value runs one transformation faster than a
                                        // cache lookup; longer chains (the XSS rules' six) are
                                        // cached.
                                        if (raw.len() < 64
                                            && link.transforms.len() < CACHE_MIN_CHAIN)
                                            || !cacheable(item.var)
                                        {
                                            let v = transform_one(raw, &link.transforms);
                                            eval_value(&v, &item, &mut recs);
                                            break 'eval;
                                        }
                                        let key = (
                                            raw.as_ptr() as usize,
                                            raw.len(),
                                            link.transform_chain_id,
                                        );
                                        let cached =
                                            tcache.entry(key).or_insert_with(
                                                || match transform_one(raw, &link.transforms) {
                                                    Cow::Owned(o) => Some(o),
                                                    Cow::Borrowed(_) => None,
                                                },
                                            );
                                        let v: &[u8] = cached.as_deref().unwrap_or(raw);
                                        eval_value(v, &item, &mut recs);
                                    } else {
                                        let v = transform_one(&item.value, &link.transforms);
                                        eval_value(&v, &item, &mut recs);
                                    }
                                }
                                assert!(
                                    !screened || recs.n == before,
                                    "rule {}: a value the screen ruled out matches \
                                     (screen.rs is unsound)",
                                    starter.id
                                );
                            }),
                        );
                    }
                }
            }
        }
    }
    (recs, limit_hit)
}

/// The effects of `link`'s matches `recs`: captures, MATCHED_VAR(S), setvars. Gives the
/// records back to the scratch space.
fn apply_matches(tx: &mut Transaction, starter: &Rule, link: &Rule, recs: Recs) {
    for rec in recs.pool.iter().take(recs.n) {
        if let Some(caps) = &rec.captures {
            let tx_col = &mut tx.data.cols[0];
            for (i, key) in CAPTURE_KEYS.iter().enumerate() {
                match caps.get(i) {
                    Some(c) => match tx_col.get_mut(key) {
                        Some(entry) => {
                            entry.1.clear();
                            entry.1.extend_from_slice(c);
                        }
                        None => tx_col.insert_copy(key, key, c),
                    },
                    None => {
                        tx_col.remove(key);
                    }
                }
            }
        }
        if link.operator.is_some() {
            // Rewritten in place: the buffers keep their capacity from match to match.
            tx.data.matched_var.clear();
            tx.data.matched_var.extend_from_slice(&rec.value);
            tx.data.matched_var_name.clear();
            tx.data.matched_var_name.push_str(&rec.name);
            let d = &mut tx.data;
            match d.matched_vars.get_mut(d.matched_vars_len) {
                Some(slot) => copy_pair(slot, &rec.name, &rec.value),
                None => d.matched_vars.push((rec.name.clone(), rec.value.clone())),
            }
            d.matched_vars_len += 1;
        }
        run_setvars(tx, starter, link);
    }
    tx.scratch.recs = recs;
}

fn run_setvars(tx: &mut Transaction, starter: &Rule, link: &Rule) {
    for sv in &link.actions.setvars {
        let Some(idx) = resolve::collection_slot(sv.collection) else {
            continue;
        };
        let (key, lower): (Cow<'_, str>, Cow<'_, str>) = match &sv.literal_key {
            Some((k, l)) => (Cow::Borrowed(k.as_str()), Cow::Borrowed(l.as_str())),
            None => {
                let k = String::from_utf8_lossy(&resolve::expand(&sv.key, &tx.data, Some(starter)))
                    .into_owned();
                let l = k.to_ascii_lowercase();
                (Cow::Owned(k), Cow::Owned(l))
            }
        };
        match &sv.op {
            SetOp::Unset => {
                tx.data.cols[idx].remove(lower.as_ref());
            }
            SetOp::Set(t) => {
                // A literal value (`setvar:tx.x=1`, the common case) is copied straight from
                // the rule; anything else is expanded before the collection is touched.
                let expanded;
                let value: &[u8] = match t.parts.as_slice() {
                    [] => b"",
                    [crate::macros::Part::Lit(s)] => s.as_bytes(),
                    _ => {
                        expanded = resolve::expand_cow(t, &tx.data, Some(starter)).into_owned();
                        &expanded
                    }
                };
                match tx.data.cols[idx].get_mut(lower.as_ref()) {
                    Some(entry) => {
                        entry.1.clear();
                        entry.1.extend_from_slice(value);
                    }
                    None => tx.data.cols[idx].insert_copy(&lower, &key, value),
                }
            }
            SetOp::Add(t) | SetOp::Sub(t) => {
                let delta = parse_num(&resolve::expand_cow(t, &tx.data, Some(starter)));
                let add = matches!(sv.op, SetOp::Add(_));
                let apply = |cur: i64| {
                    if add {
                        cur.saturating_add(delta)
                    } else {
                        cur.saturating_sub(delta)
                    }
                };
                let col = &mut tx.data.cols[idx];
                match col.get_mut(lower.as_ref()) {
                    Some(entry) => {
                        let new = apply(parse_num(&entry.1));
                        // Rewritten in place: no new allocation for the common counters.
                        entry.1.clear();
                        push_decimal(&mut entry.1, new);
                    }
                    None => {
                        let mut digits = Vec::new();
                        push_decimal(&mut digits, apply(0));
                        col.insert_copy(&lower, &key, &digits);
                    }
                }
            }
        }
    }
    for (name, t) in &link.actions.setenvs {
        let v = resolve::expand(t, &tx.data, Some(starter));
        tx.data.cols[6].insert(name.to_ascii_lowercase(), (name.clone(), v));
    }
}

/// Appends `n` in decimal (what `write!` would, without the formatting machinery: CRS
/// updates anomaly scores and counters many times per request).
fn push_decimal(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        // Invariant: i < 20, and a u64 has at most 20 decimal digits.
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// Parses a leading integer as ModSecurity does (`atoi`-like): optional sign, digits;
/// anything else is 0.
fn parse_num(v: &[u8]) -> i64 {
    let s = v.trim_ascii();
    let (neg, digits) = match s.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, s),
    };
    let end = digits
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    // Out of range parses as 0, as before.
    let n: i64 = digits
        .get(..end)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if neg { -n } else { n }
}

fn apply_ctl(tx: &mut Transaction, c: &Ctl) {
    let s = &mut tx.state;
    match c {
        Ctl::RuleEngine(m) => s.engine = Some(*m),
        Ctl::RemoveById(ids) => s.removed_ids.extend(ids.iter().copied()),
        Ctl::RemoveByTag(t) => s.removed_tags.push(t.clone()),
        Ctl::RemoveByMsg(m) => s.removed_msgs.push(m.clone()),
        Ctl::RemoveTargetById(ids, e) => s
            .removed_targets
            .push((RuleMatch::Ids(ids.clone()), e.clone())),
        Ctl::RemoveTargetByTag(t, e) => s
            .removed_targets
            .push((RuleMatch::Tag(t.clone()), e.clone())),
        Ctl::RemoveTargetByMsg(m, e) => s
            .removed_targets
            .push((RuleMatch::Msg(m.clone()), e.clone())),
        Ctl::RequestBodyProcessor(p) => s.body_processor = Some(*p),
        Ctl::RequestBodyAccess(b) => s.request_body_access = Some(*b),
        Ctl::ResponseBodyAccess(b) => s.response_body_access = Some(*b),
        Ctl::ForceRequestBodyVariable(b) => s.force_body_variable = *b,
        Ctl::RequestBodyLimit(n) => s.request_body_limit = Some(*n),
        Ctl::Ignored(_) => {}
    }
}

fn on_full_match(tx: &mut Transaction, rule: &Rule) -> Flow {
    let mut link = Some(rule);
    while let Some(l) = link {
        for c in &l.actions.ctls {
            apply_ctl(tx, c);
        }
        link = l.chain.as_deref();
    }
    if let Some(sev) = rule.actions.severity
        && rule.log
    {
        tx.data.highest_severity = Some(tx.data.highest_severity.map_or(sev, |h| h.min(sev)));
    }
    let disruptive = matches!(
        rule.disruptive,
        Some(Disruptive::Deny | Disruptive::Drop | Disruptive::Redirect)
    );
    push_match(tx, rule, disruptive);
    if tx.engine_mode() != EngineMode::On {
        return Flow::Continue;
    }
    match rule.disruptive {
        None | Some(Disruptive::Pass) => Flow::Continue,
        Some(Disruptive::Deny) => {
            tx.interruption = Some(Interruption {
                status: rule.status.unwrap_or(403),
                rule_id: rule.id,
                action: InterruptAction::Deny,
            });
            Flow::StopPhase
        }
        Some(Disruptive::Drop) => {
            tx.interruption = Some(Interruption {
                status: rule.status.unwrap_or(403),
                rule_id: rule.id,
                action: InterruptAction::Drop,
            });
            Flow::StopPhase
        }
        Some(Disruptive::Redirect) => {
            let url = rule
                .actions
                .redirect
                .as_ref()
                .or(rule.defaults.as_ref().and_then(|d| d.redirect.as_ref()))
                .map(|t| {
                    String::from_utf8_lossy(&resolve::expand(t, &tx.data, Some(rule))).into_owned()
                })
                .unwrap_or_default();
            let status = rule
                .status
                .filter(|s| matches!(s, 301 | 302 | 303 | 307 | 308))
                .unwrap_or(302);
            tx.interruption = Some(Interruption {
                status,
                rule_id: rule.id,
                action: InterruptAction::Redirect(url),
            });
            Flow::StopPhase
        }
        Some(Disruptive::Allow(scope)) => {
            match scope {
                AllowScope::All => tx.state.allow_all = true,
                AllowScope::Request => tx.state.allow_request = true,
                AllowScope::Phase => {}
            }
            Flow::StopPhase
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        for n in [0i64, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            let mut v = b"x".to_vec();
            push_decimal(&mut v, n);
            assert_eq!(v, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b"5"), 5);
        assert_eq!(parse_num(b"-3"), -3);
        assert_eq!(parse_num(b"12abc"), 12);
        assert_eq!(parse_num(b"abc"), 0);
        assert_eq!(parse_num(b""), 0);
    }
}
