//! The file as written: every key optional, spans kept for error messages. One layer.

use std::collections::BTreeMap;
use std::path::Path;

use fabrik_core::Risk;
use serde::Deserialize;
use toml::Spanned;

use crate::model::{AgentKind, PromptVia, WorkspaceMode};
use crate::{Error, Result};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) pipeline: Option<RawPipeline>,
    pub(crate) risk: Option<RawRisk>,
    pub(crate) agents: Option<BTreeMap<String, Spanned<RawAgent>>>,
    pub(crate) stages: Option<RawStages>,
    pub(crate) gates: Option<RawGates>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPipeline {
    pub(crate) max_verify: Option<Spanned<u32>>,
    pub(crate) workspace: Option<WorkspaceMode>,
    pub(crate) grace: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRisk {
    pub(crate) default: Option<Risk>,
    pub(crate) high: Option<Vec<String>>,
    pub(crate) medium: Option<Vec<String>>,
    pub(crate) low: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub(crate) preset: Option<Spanned<String>>,
    pub(crate) kind: Option<AgentKind>,
    pub(crate) argv: Option<Vec<String>>,
    pub(crate) prompt_via: Option<PromptVia>,
    pub(crate) model: Option<String>,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) env: Option<BTreeMap<String, String>>,
    pub(crate) argv_extra: Option<Vec<String>>,
    pub(crate) base_url: Option<String>,
    pub(crate) api_key_env: Option<String>,
    pub(crate) dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStages {
    pub(crate) discovery: Option<RawDiscovery>,
    pub(crate) planning: Option<RawPlanning>,
    pub(crate) execution: Option<RawSingle>,
    pub(crate) verification: Option<RawSingle>,
    pub(crate) ship: Option<RawSingle>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDiscovery {
    pub(crate) agents: Option<Vec<Spanned<String>>>,
    pub(crate) timeout: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlanning {
    pub(crate) agent: Option<Spanned<String>>,
    pub(crate) reviewers: Option<Vec<Spanned<String>>>,
    pub(crate) max_revisions: Option<u32>,
    pub(crate) lint: Option<bool>,
    pub(crate) timeout: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSingle {
    pub(crate) agent: Option<Spanned<String>>,
    pub(crate) timeout: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGates {
    pub(crate) before_execution: Option<bool>,
    pub(crate) builtin: Option<Vec<Spanned<String>>>,
    pub(crate) command: Option<Vec<Spanned<RawGateCommand>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGateCommand {
    pub(crate) name: String,
    pub(crate) run: String,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) when: Option<Spanned<String>>,
}

/// Parses one layer.
pub(crate) fn parse(text: &str, path: &Path) -> Result<RawConfig> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_owned();
        Error::at(path, text, e.span().map(|s| s.start), message)
    })
}

/// `Some(b)` wins over `a`.
fn pick<T>(a: Option<T>, b: Option<T>) -> Option<T> {
    b.or(a)
}

impl RawConfig {
    /// Merges `upper` over `self`: a key set in `upper` wins.
    pub(crate) fn merge(self, upper: RawConfig) -> RawConfig {
        RawConfig {
            pipeline: merge_opt(self.pipeline, upper.pipeline, |a, b| RawPipeline {
                max_verify: pick(a.max_verify, b.max_verify),
                workspace: pick(a.workspace, b.workspace),
                grace: pick(a.grace, b.grace),
            }),
            risk: merge_opt(self.risk, upper.risk, |a, b| RawRisk {
                default: pick(a.default, b.default),
                high: pick(a.high, b.high),
                medium: pick(a.medium, b.medium),
                low: pick(a.low, b.low),
            }),
            agents: merge_opt(self.agents, upper.agents, |mut a, b| {
                for (name, agent) in b {
                    let merged = match a.remove(&name) {
                        Some(base) => merge_agent(base, agent),
                        None => agent,
                    };
                    a.insert(name, merged);
                }
                a
            }),
            stages: merge_opt(self.stages, upper.stages, |a, b| RawStages {
                discovery: merge_opt(a.discovery, b.discovery, |a, b| RawDiscovery {
                    agents: pick(a.agents, b.agents),
                    timeout: pick(a.timeout, b.timeout),
                }),
                planning: merge_opt(a.planning, b.planning, |a, b| RawPlanning {
                    agent: pick(a.agent, b.agent),
                    reviewers: pick(a.reviewers, b.reviewers),
                    max_revisions: pick(a.max_revisions, b.max_revisions),
                    lint: pick(a.lint, b.lint),
                    timeout: pick(a.timeout, b.timeout),
                }),
                execution: merge_opt(a.execution, b.execution, merge_single),
                verification: merge_opt(a.verification, b.verification, merge_single),
                ship: merge_opt(a.ship, b.ship, merge_single),
            }),
            gates: merge_opt(self.gates, upper.gates, |a, b| RawGates {
                before_execution: pick(a.before_execution, b.before_execution),
                builtin: pick(a.builtin, b.builtin),
                command: pick(a.command, b.command),
            }),
        }
    }
}

fn merge_opt<T>(a: Option<T>, b: Option<T>, f: impl FnOnce(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => b.or(a),
    }
}

fn merge_single(a: RawSingle, b: RawSingle) -> RawSingle {
    RawSingle {
        agent: pick(a.agent, b.agent),
        timeout: pick(a.timeout, b.timeout),
    }
}

/// An upper agent that names its own `kind` or `preset` replaces the base whole; otherwise
/// its keys refine the base (so `[agents.codex] model = "x"` keeps the codex preset).
fn merge_agent(base: Spanned<RawAgent>, upper: Spanned<RawAgent>) -> Spanned<RawAgent> {
    if upper.get_ref().kind.is_some() || upper.get_ref().preset.is_some() {
        return upper;
    }
    let span = upper.span();
    let (a, b) = (base.into_inner(), upper.into_inner());
    let merged = RawAgent {
        preset: a.preset,
        kind: a.kind,
        argv: pick(a.argv, b.argv),
        prompt_via: pick(a.prompt_via, b.prompt_via),
        model: pick(a.model, b.model),
        timeout: pick(a.timeout, b.timeout),
        env: pick(a.env, b.env),
        argv_extra: pick(a.argv_extra, b.argv_extra),
        base_url: pick(a.base_url, b.base_url),
        api_key_env: pick(a.api_key_env, b.api_key_env),
        dir: pick(a.dir, b.dir),
    };
    Spanned::new(span, merged)
}
