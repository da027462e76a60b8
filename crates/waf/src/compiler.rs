//! The compiler: SecLang AST to an immutable [`RuleSet`].
//!
//! Rules are built in source order (chains are linked to their starter, SecDefaultAction
//! applies to the rules that follow it in its phase); the exception directives
//! (`SecRuleRemoveBy*`, `SecRuleUpdateTargetBy*`, `SecRuleUpdateActionById`) are applied to
//! all rules at the end, as ModSecurity v3 applies them at run time regardless of order.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use regex::Regex;
use seclang::ast::{self, Directive, DirectiveKind, Span};
use seclang::loader::FileLoader;

use crate::actions::Actions;
use crate::config::{BodyLimitAction, Config, EngineMode};
use crate::error::CompileError;
use crate::macros::Template;
use crate::operators::{self, BuildContext, Operator};
use crate::rule::{Rule, RuleOperator};
use crate::ruleset::{Entry, RuleSet};
use crate::variables::{Exclusion, Sel, Target, Var};

enum Exception {
    RemoveById(Vec<ast::IdRange>),
    RemoveByTag(Regex),
    RemoveByMsg(Regex),
    UpdateTarget {
        sel: RuleSelector,
        targets: Vec<ast::Variable>,
        replaced: Option<ast::Variable>,
        span: Span,
    },
    UpdateAction {
        id: u64,
        actions: Vec<ast::Action>,
    },
}

enum RuleSelector {
    Ids(Vec<ast::IdRange>),
    Tag(Regex),
    Msg(Regex),
}

type Built = Result<Arc<dyn Operator>, CompileError>;

#[derive(Default)]
struct Compiler {
    /// Operators built ahead of time, one per `SecRule` in directive order.
    prebuilt: std::vec::IntoIter<Built>,
    config: Config,
    rules: Vec<Rule>,
    order: Vec<Entry>,
    defaults: [Option<Arc<Actions>>; 6],
    /// Links of the chain being built (starter first).
    pending: Vec<Rule>,
    exceptions: Vec<Exception>,
    ids: HashSet<u64>,
}

/// Compiles directives into a rule set.
pub fn compile(directives: &[Directive], loader: &dyn FileLoader) -> Result<RuleSet, CompileError> {
    let mut c = Compiler {
        prebuilt: prebuild_operators(directives, loader).into_iter(),
        ..Compiler::default()
    };
    for d in directives {
        c.directive(d, loader)?;
    }
    if let Some(first) = c.pending.first() {
        return Err(CompileError::new(
            &first.span,
            "chain action on the last rule: no rule to chain to",
        ));
    }
    c.apply_exceptions()?;
    let Compiler {
        config,
        mut rules,
        order,
        ..
    } = c;
    let mut chain_ids: HashMap<String, u32> = HashMap::new();
    for r in &mut rules {
        r.finalize();
        intern_chains(r, &mut chain_ids);
    }
    Ok(RuleSet::new(rules, order, config))
}

fn intern_chains(r: &mut Rule, ids: &mut HashMap<String, u32>) {
    let key = r
        .transforms
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    r.transform_chain_id = *ids.entry(key).or_insert(next);
    r.transform_identity =
        crate::transformations::identity_bytes(r.transforms.iter().map(|(n, _)| n.as_str()));
    if let Some(c) = r.chain.as_mut() {
        intern_chains(c, ids);
    }
}

fn parse_bool(span: &Span, name: &str, args: &[String]) -> Result<bool, CompileError> {
    match args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(CompileError::new(span, format!("{name} expects On or Off"))),
    }
}

fn parse_num(span: &Span, name: &str, args: &[String]) -> Result<u64, CompileError> {
    args.first()
        .and_then(|a| a.trim().parse::<u64>().ok())
        .ok_or_else(|| CompileError::new(span, format!("{name} expects a number")))
}

fn parse_limit_action(
    span: &Span,
    name: &str,
    args: &[String],
) -> Result<BodyLimitAction, CompileError> {
    match args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
        Some("reject") => Ok(BodyLimitAction::Reject),
        Some("processpartial") => Ok(BodyLimitAction::ProcessPartial),
        _ => Err(CompileError::new(
            span,
            format!("{name} expects Reject or ProcessPartial"),
        )),
    }
}

fn regex_arg(span: &Span, text: &str) -> Result<Regex, CompileError> {
    Regex::new(text)
        .map_err(|e| CompileError::new(span, format!("invalid regular expression {text:?}: {e}")))
}

impl Compiler {
    fn directive(&mut self, d: &Directive, loader: &dyn FileLoader) -> Result<(), CompileError> {
        let span = &d.span;
        if !self.pending.is_empty() && !matches!(d.kind, DirectiveKind::Rule(_)) {
            return Err(CompileError::new(
                span,
                "a chained rule must be followed by a SecRule",
            ));
        }
        match &d.kind {
            DirectiveKind::Rule(r) => self.rule(span, Some(r), &r.actions, loader),
            DirectiveKind::Action(actions) => self.rule(span, None, actions, loader),
            DirectiveKind::Marker(name) => {
                self.order.push(Entry::Marker(Arc::from(name.trim())));
                Ok(())
            }
            DirectiveKind::DefaultAction(actions) => {
                let a = Actions::parse(actions)?;
                let phase = a.phase.unwrap_or(2);
                if a.id.is_some() || a.chain || a.skip_after.is_some() || a.skip > 0 {
                    return Err(CompileError::new(
                        span,
                        "SecDefaultAction may not contain id, chain or skip",
                    ));
                }
                if let Some(slot) = self.defaults.get_mut(usize::from(phase)) {
                    *slot = Some(Arc::new(a));
                }
                Ok(())
            }
            DirectiveKind::RemoveById(ids) => {
                self.exceptions.push(Exception::RemoveById(ids.clone()));
                Ok(())
            }
            DirectiveKind::RemoveByTag(t) => {
                self.exceptions
                    .push(Exception::RemoveByTag(regex_arg(span, t)?));
                Ok(())
            }
            DirectiveKind::RemoveByMsg(m) => {
                self.exceptions
                    .push(Exception::RemoveByMsg(regex_arg(span, m)?));
                Ok(())
            }
            DirectiveKind::UpdateTargetById {
                ids,
                targets,
                replaced,
            } => {
                self.exceptions.push(Exception::UpdateTarget {
                    sel: RuleSelector::Ids(ids.clone()),
                    targets: targets.clone(),
                    replaced: replaced.clone(),
                    span: span.clone(),
                });
                Ok(())
            }
            DirectiveKind::UpdateTargetByTag {
                tag,
                targets,
                replaced,
            } => {
                self.exceptions.push(Exception::UpdateTarget {
                    sel: RuleSelector::Tag(regex_arg(span, tag)?),
                    targets: targets.clone(),
                    replaced: replaced.clone(),
                    span: span.clone(),
                });
                Ok(())
            }
            DirectiveKind::UpdateTargetByMsg {
                msg,
                targets,
                replaced,
            } => {
                self.exceptions.push(Exception::UpdateTarget {
                    sel: RuleSelector::Msg(regex_arg(span, msg)?),
                    targets: targets.clone(),
                    replaced: replaced.clone(),
                    span: span.clone(),
                });
                Ok(())
            }
            DirectiveKind::UpdateActionById { id, actions } => {
                self.exceptions.push(Exception::UpdateAction {
                    id: *id,
                    actions: actions.clone(),
                });
                Ok(())
            }
            DirectiveKind::Setting { name, args } => self.setting(span, name, args),
            _ => Err(CompileError::new(span, "unsupported directive")),
        }
    }

    fn setting(&mut self, span: &Span, name: &str, args: &[String]) -> Result<(), CompileError> {
        let c = &mut self.config;
        match name.to_ascii_lowercase().as_str() {
            "secruleengine" => {
                c.engine = EngineMode::parse(args.first().map_or("", String::as_str))
                    .map_err(|e| CompileError::new(span, e))?;
            }
            "secrequestbodyaccess" => c.request_body_access = parse_bool(span, name, args)?,
            "secresponsebodyaccess" => c.response_body_access = parse_bool(span, name, args)?,
            "secrequestbodylimit" => c.request_body_limit = parse_num(span, name, args)?,
            "secrequestbodynofileslimit" => {
                c.request_body_no_files_limit = parse_num(span, name, args)?
            }
            "secrequestbodylimitaction" => {
                c.request_body_limit_action = parse_limit_action(span, name, args)?
            }
            "secresponsebodylimit" => c.response_body_limit = parse_num(span, name, args)?,
            "secresponsebodylimitaction" => {
                c.response_body_limit_action = parse_limit_action(span, name, args)?
            }
            "secrequestbodyjsondepthlimit" => {
                c.json_depth_limit =
                    u32::try_from(parse_num(span, name, args)?).unwrap_or(u32::MAX);
            }
            "secargumentslimit" => {
                c.arguments_limit = u32::try_from(parse_num(span, name, args)?).unwrap_or(u32::MAX)
            }
            "secresponsebodymimetype" => {
                c.response_body_mime_types = args
                    .iter()
                    .flat_map(|a| a.split_whitespace())
                    .map(str::to_ascii_lowercase)
                    .collect();
            }
            "secresponsebodymimetypesclear" => c.response_body_mime_types.clear(),
            "secargumentseparator" => {
                c.argument_separator = match args.first().map(String::as_bytes) {
                    Some([b]) => *b,
                    _ => {
                        return Err(CompileError::new(
                            span,
                            "SecArgumentSeparator expects one character",
                        ));
                    }
                };
            }
            "seccookieformat" => c.cookie_format = u8::from(parse_num(span, name, args)? == 1),
            "seccomponentsignature" => c.component_signatures.extend(args.iter().cloned()),
            _ => {
                // SecAudit*, SecDebugLog*, SecTmpDir, SecDataDir, SecPcre* (no backtracking here),
                // SecCollectionTimeout, SecUnicodeMapFile, SecStatusEngine...: recorded only.
                c.recorded.push((name.to_owned(), args.join(" ")));
            }
        }
        Ok(())
    }

    fn rule(
        &mut self,
        span: &Span,
        rule: Option<&ast::Rule>,
        actions: &[ast::Action],
        loader: &dyn FileLoader,
    ) -> Result<(), CompileError> {
        let a = Actions::parse(actions)?;
        let in_chain = !self.pending.is_empty();
        let starter_phase = self.pending.first().map(|r| r.phase);
        let starter_id = self.pending.first().map(|r| r.id);
        if in_chain {
            if a.id.is_some() || a.phase.is_some() {
                return Err(CompileError::new(
                    span,
                    "a chained rule may not have id or phase",
                ));
            }
            if a.disruptive.is_some() || a.skip_after.is_some() || a.skip > 0 {
                return Err(CompileError::new(
                    span,
                    "only the chain starter may have disruptive or skip actions",
                ));
            }
        }
        let phase = starter_phase.or(a.phase).unwrap_or(2);
        let id = match starter_id {
            Some(id) => id,
            None => {
                let id =
                    a.id.ok_or_else(|| CompileError::new(span, "rule has no id"))?;
                if !self.ids.insert(id) {
                    return Err(CompileError::new(span, format!("duplicate rule id {id}")));
                }
                id
            }
        };
        let (targets, exclusions, operator) = match rule {
            Some(r) => {
                let (t, e) = compile_targets(&r.variables)?;
                let built = match self.prebuilt.next() {
                    Some(b) => b?,
                    None => build_operator(&r.operator, loader)?,
                };
                (t, e, Some(rule_operator(&r.operator, built)))
            }
            None => (Vec::new(), Vec::new(), None),
        };
        let chain = a.chain;
        let compiled = Rule {
            id,
            phase,
            span: span.clone(),
            targets,
            exclusions,
            operator,
            transforms: Vec::new(),
            transform_chain_id: 0,
            transform_identity: None,
            actions: a,
            log: true,
            disruptive: None,
            status: None,
            chain: None,
            defaults: self.defaults.get(usize::from(phase)).cloned().flatten(),
        };
        self.pending.push(compiled);
        if !chain {
            let mut links = std::mem::take(&mut self.pending);
            let mut tail = links.pop();
            while let Some(mut prev) = links.pop() {
                prev.chain = tail.map(Box::new);
                tail = Some(prev);
            }
            if let Some(r) = tail {
                self.order.push(Entry::Rule(self.rules.len()));
                self.rules.push(r);
            }
        }
        Ok(())
    }

    fn matching_rules(&self, sel: &RuleSelector) -> Vec<usize> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| match sel {
                RuleSelector::Ids(ids) => ids.iter().any(|i| i.start <= r.id && r.id <= i.end),
                RuleSelector::Tag(re) => r.actions.tags.iter().any(|t| re.is_match(t)),
                RuleSelector::Msg(re) => r.msg_text().is_some_and(|m| re.is_match(&m)),
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn apply_exceptions(&mut self) -> Result<(), CompileError> {
        let exceptions = std::mem::take(&mut self.exceptions);
        let mut removed: HashSet<usize> = HashSet::new();
        for ex in &exceptions {
            match ex {
                Exception::RemoveById(ids) => {
                    removed.extend(self.matching_rules(&RuleSelector::Ids(ids.clone())))
                }
                Exception::RemoveByTag(re) => {
                    removed.extend(self.matching_rules(&RuleSelector::Tag(re.clone())))
                }
                Exception::RemoveByMsg(re) => {
                    removed.extend(self.matching_rules(&RuleSelector::Msg(re.clone())))
                }
                Exception::UpdateTarget {
                    sel,
                    targets,
                    replaced,
                    span,
                } => {
                    let (add, excl) = compile_targets(targets)?;
                    let replaced = match replaced {
                        Some(v) => Some(compile_targets(std::slice::from_ref(v))?),
                        None => None,
                    };
                    let _ = span;
                    for i in self.matching_rules(sel) {
                        let Some(r) = self.rules.get_mut(i) else {
                            continue;
                        };
                        if let Some((old, _)) = &replaced {
                            r.targets.retain(|t| !old.iter().any(|o| same_target(o, t)));
                        }
                        r.targets.extend(add.iter().cloned());
                        r.exclusions.extend(excl.iter().cloned());
                    }
                }
                Exception::UpdateAction { id, actions } => {
                    for i in self.matching_rules(&RuleSelector::Ids(vec![ast::IdRange {
                        start: *id,
                        end: *id,
                    }])) {
                        let Some(r) = self.rules.get_mut(i) else {
                            continue;
                        };
                        for action in actions {
                            let lname = action.name.to_ascii_lowercase();
                            if lname == "t" || lname == "tag" || lname == "setvar" || lname == "ctl"
                            {
                                r.actions.apply(action)?;
                                continue;
                            }
                            // Replace disruptive actions rather than stacking them.
                            if matches!(
                                lname.as_str(),
                                "pass" | "deny" | "drop" | "allow" | "redirect" | "block"
                            ) {
                                r.actions.disruptive = None;
                                r.actions.block = false;
                            }
                            r.actions.apply(action)?;
                        }
                    }
                }
            }
        }
        if !removed.is_empty() {
            let mut map = vec![None; self.rules.len()];
            let old = std::mem::take(&mut self.rules);
            for (i, r) in old.into_iter().enumerate() {
                if !removed.contains(&i) {
                    if let Some(slot) = map.get_mut(i) {
                        *slot = Some(self.rules.len());
                    }
                    self.rules.push(r);
                }
            }
            self.order = std::mem::take(&mut self.order)
                .into_iter()
                .filter_map(|e| match e {
                    Entry::Rule(i) => map.get(i).copied().flatten().map(Entry::Rule),
                    m @ Entry::Marker(_) => Some(m),
                })
                .collect();
        }
        Ok(())
    }
}

fn same_target(a: &Target, b: &Target) -> bool {
    a.var == b.var && a.count == b.count && a.sel.display() == b.sel.display()
}

/// Compiles a rule's variable list into targets and exclusions.
pub(crate) fn compile_targets(
    vars: &[ast::Variable],
) -> Result<(Vec<Target>, Vec<Exclusion>), CompileError> {
    let mut targets = Vec::new();
    let mut exclusions = Vec::new();
    for v in vars {
        let (var, keyed) = Var::lookup(&v.name)
            .ok_or_else(|| CompileError::new(&v.span, format!("unknown variable {}", v.name)))?;
        if v.selector.is_some() && !keyed {
            return Err(CompileError::new(
                &v.span,
                format!("variable {} takes no selector", v.name),
            ));
        }
        let sel = Sel::from_ast(v.selector.as_ref()).map_err(|e| CompileError::new(&v.span, e))?;
        if v.negated {
            exclusions.push(Exclusion { var, sel });
        } else {
            targets.push(Target {
                var,
                sel,
                count: v.count,
            });
        }
    }
    Ok((targets, exclusions))
}

fn base_dir(op: &ast::Operator) -> PathBuf {
    Path::new(&*op.span.file)
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .to_path_buf()
}

fn build_operator(op: &ast::Operator, loader: &dyn FileLoader) -> Built {
    let dir = base_dir(op);
    let ctx = BuildContext {
        loader,
        base_dir: &dir,
    };
    operators::build(&op.name, &op.argument, &ctx)
        .map(Arc::from)
        .map_err(|e| CompileError::new(&op.span, e.to_string()))
}

/// Builds every `SecRule` operator up front: identical (name, argument, directory) triples
/// are built once and shared, and the distinct ones are built on all available cores
/// (regular expression and Aho-Corasick construction dominate CRS compile time).
fn prebuild_operators(directives: &[Directive], loader: &dyn FileLoader) -> Vec<Built> {
    let ops: Vec<&ast::Operator> = directives
        .iter()
        .filter_map(|d| match &d.kind {
            DirectiveKind::Rule(r) => Some(&r.operator),
            _ => None,
        })
        .collect();
    let mut index: HashMap<(String, &str, PathBuf), usize> = HashMap::new();
    let mut unique: Vec<&ast::Operator> = Vec::new();
    let slots: Vec<usize> = ops
        .iter()
        .map(|op| {
            let key = (
                op.name.to_ascii_lowercase(),
                op.argument.as_str(),
                base_dir(op),
            );
            *index.entry(key).or_insert_with(|| {
                unique.push(op);
                unique.len() - 1
            })
        })
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Built>> = (0..unique.len()).map(|_| None).collect();
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(op) = unique.get(i) else { break };
            done.push((i, build_operator(op, loader)));
        }
        done
    };
    let batches: Vec<Vec<(usize, Built)>> = if threads <= 1 || unique.len() < 64 {
        vec![work()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        })
    };
    for (i, b) in batches.into_iter().flatten() {
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(b);
        }
    }
    slots
        .iter()
        .zip(&ops)
        .map(|(slot, op)| match results.get(*slot) {
            Some(Some(Ok(o))) => Ok(Arc::clone(o)),
            Some(Some(Err(e))) => Err(e.clone()),
            // A worker died (cannot happen: building never panics); build it here.
            _ => build_operator(op, loader),
        })
        .collect()
}

fn rule_operator(op: &ast::Operator, built: Arc<dyn Operator>) -> RuleOperator {
    let template = Template::parse(&op.argument);
    let macro_arg = template.has_macros().then_some(template);
    RuleOperator {
        op: built,
        negated: op.negated,
        name: op.name.to_ascii_lowercase(),
        macro_arg,
    }
}
