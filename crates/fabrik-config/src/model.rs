//! The resolved configuration: every value present, every reference checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fabrik_core::Risk;
use serde::Deserialize;
use toml::Spanned;

use crate::raw::{RawAgent, RawConfig, RawGateCommand};
use crate::{Error, Result, parse_duration};

/// The configuration fabrik runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file it was read from, when there was one.
    pub path: Option<PathBuf>,
    /// `[pipeline]`.
    pub pipeline: PipelineConfig,
    /// `[risk]`.
    pub risk: RiskConfig,
    /// `[agents.<name>]`, by name.
    pub agents: BTreeMap<String, AgentConfig>,
    /// `[stages.*]`.
    pub stages: StagesConfig,
    /// `[gates]`.
    pub gates: GatesConfig,
}

/// `[pipeline]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineConfig {
    /// Verifications allowed before the run fails with exit 2 (at least 1).
    pub max_verify: u32,
    /// Where runs do their work.
    pub workspace: WorkspaceMode,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// Where a run edits files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkspaceMode {
    /// A git worktree and branch per run.
    Worktree,
    /// The current tree.
    InPlace,
}

/// `[risk]`: keyword lists.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskConfig {
    /// Risk when nothing matches.
    pub default: Risk,
    /// Keywords that make a task high risk.
    pub high: Vec<String>,
    /// Keywords that make a task medium risk.
    pub medium: Vec<String>,
    /// Keywords that make a task low risk.
    pub low: Vec<String>,
}

/// How an agent is driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    /// Any program, configured by `argv`.
    Command,
    /// A known CLI (`preset = "claude"` etc.).
    Preset,
    /// An OpenAI-compatible HTTP endpoint.
    Openai,
    /// Recorded calls played back.
    Replay,
}

/// How a command agent receives its prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptVia {
    /// On standard input.
    Stdin,
    /// As the `{prompt}` argument.
    Arg,
    /// In a file named by `{prompt_file}`.
    File,
}

/// Names of the CLIs fabrik has presets for.
pub const PRESETS: &[&str] = &["droid", "claude", "codex", "gemini", "aider", "opencode"];

/// `[agents.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    /// The table name.
    pub name: String,
    /// Backend.
    pub kind: AgentKind,
    /// Preset name when `kind` is `Preset`.
    pub preset: Option<String>,
    /// Command line with placeholders (`command`).
    pub argv: Vec<String>,
    /// How the prompt is passed (`command`).
    pub prompt_via: PromptVia,
    /// Model id.
    pub model: Option<String>,
    /// Per-call time limit; falls back to the stage's.
    pub timeout: Option<Duration>,
    /// Extra environment for the agent.
    pub env: BTreeMap<String, String>,
    /// Flags appended to a preset's command line.
    pub argv_extra: Vec<String>,
    /// `openai`: endpoint.
    pub base_url: Option<String>,
    /// `openai`: name of the variable holding the key.
    pub api_key_env: Option<String>,
    /// `replay`: recordings directory.
    pub dir: Option<String>,
}

/// `[stages.*]`.
#[derive(Clone, Debug, PartialEq)]
pub struct StagesConfig {
    /// Stage 1.
    pub discovery: StageConfig,
    /// Stage 2.
    pub planning: StageConfig,
    /// Stage 3.
    pub execution: StageConfig,
    /// Stage 4.
    pub verification: StageConfig,
    /// Stage 5.
    pub ship: StageConfig,
}

/// One stage's agents.
#[derive(Clone, Debug, PartialEq)]
pub struct StageConfig {
    /// The stage's agents (discovery may have several; the others have one).
    pub agents: Vec<String>,
    /// Plan reviewers (planning only).
    pub reviewers: Vec<String>,
    /// Planner revisions after rejections (planning only).
    pub max_revisions: u32,
    /// Lint and ground the planner's plan against the contract (planning only).
    pub lint: bool,
    /// Time limit per agent call.
    pub timeout: Duration,
}

impl StageConfig {
    /// The stage's (first) agent.
    #[must_use]
    pub fn agent(&self) -> &str {
        self.agents.first().map_or("", String::as_str)
    }
}

/// `[gates]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GatesConfig {
    /// Also run gates before execution.
    pub before_execution: bool,
    /// Built-in gates enabled.
    pub builtin: Vec<String>,
    /// `[[gates.command]]`.
    pub command: Vec<GateCommand>,
}

/// Built-in gates this build provides.
pub const BUILTIN_GATES: &[&str] = &["clones", "scope", "schema"];

/// `[[gates.command]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GateCommand {
    /// Name shown in reports.
    pub name: String,
    /// Shell command, run with `sh -c` in the workspace.
    pub run: String,
    /// Time limit.
    pub timeout: Duration,
    /// When it runs.
    pub when: GateWhen,
}

/// When a command gate runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateWhen {
    /// Every time.
    Always,
    /// Only when a changed file matches the glob.
    Changed(String),
}

const DEFAULT_GATE_TIMEOUT: Duration = Duration::from_secs(600);

struct Ctx<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, offset: Option<usize>, message: impl Into<String>) -> Error {
        Error::at(self.path, self.text, offset, message)
    }

    fn duration(&self, s: &Spanned<String>) -> Result<Duration> {
        parse_duration(s.get_ref()).map_err(|m| self.err(Some(s.span().start), m))
    }
}

/// Turns the merged layers into a [`Config`]. `user` is the user's file (text, path):
/// every reference error points into it, because the defaults are consistent.
pub(crate) fn resolve(
    raw: RawConfig,
    user: Option<(&str, &Path)>,
    path: Option<PathBuf>,
) -> Result<Config> {
    let cx = match user {
        Some((text, p)) => Ctx { text, path: p },
        None => Ctx {
            text: crate::DEFAULT_TOML,
            path: Path::new("<built-in defaults>"),
        },
    };
    let p = raw.pipeline.unwrap_or_default();
    let max_verify = p.max_verify.map_or(Ok(2), |m| match *m.get_ref() {
        0 => Err(cx.err(Some(m.span().start), "`max_verify` must be at least 1")),
        n => Ok(n),
    })?;
    let pipeline = PipelineConfig {
        max_verify,
        workspace: p.workspace.unwrap_or(WorkspaceMode::Worktree),
        grace: p
            .grace
            .as_ref()
            .map_or(Ok(Duration::from_secs(5)), |g| cx.duration(g))?,
    };
    let r = raw.risk.unwrap_or_default();
    let risk = RiskConfig {
        default: r.default.unwrap_or(Risk::Medium),
        high: r.high.unwrap_or_default(),
        medium: r.medium.unwrap_or_default(),
        low: r.low.unwrap_or_default(),
    };
    let mut agents = BTreeMap::new();
    for (name, agent) in raw.agents.unwrap_or_default() {
        agents.insert(name.clone(), resolve_agent(&cx, name, agent)?);
    }
    let stages = resolve_stages(&cx, raw.stages.unwrap_or_default(), &agents)?;
    let gates = resolve_gates(&cx, raw.gates.unwrap_or_default())?;
    Ok(Config {
        path,
        pipeline,
        risk,
        agents,
        stages,
        gates,
    })
}

fn resolve_agent(cx: &Ctx<'_>, name: String, agent: Spanned<RawAgent>) -> Result<AgentConfig> {
    let at = Some(agent.span().start);
    let a = agent.into_inner();
    let kind = match (&a.preset, a.kind) {
        (Some(_), None | Some(AgentKind::Preset)) => AgentKind::Preset,
        (Some(_), Some(k)) => return Err(cx.err(at, format!("agent `{name}` sets both `preset` and `kind = \"{k:?}\"`; keep one"))),
        (None, Some(AgentKind::Preset)) => return Err(cx.err(at, format!("agent `{name}` has `kind = \"preset\"` but no `preset = \"<cli>\"`"))),
        (None, Some(k)) => k,
        (None, None) => return Err(cx.err(at, format!("agent `{name}` needs `preset = \"<cli>\"` or `kind = \"command\" | \"openai\" | \"replay\"`"))),
    };
    if let Some(p) = &a.preset
        && !PRESETS.contains(&p.get_ref().as_str())
    {
        let msg = format!(
            "unknown preset `{}`; known: {}",
            p.get_ref(),
            PRESETS.join(", ")
        );
        return Err(cx.err(Some(p.span().start), msg));
    }
    let argv = a.argv.unwrap_or_default();
    if kind == AgentKind::Command && argv.first().is_none_or(String::is_empty) {
        return Err(cx.err(
            at,
            format!(
                "agent `{name}` is `kind = \"command\"` but has no `argv = [\"program\", ...]`"
            ),
        ));
    }
    if kind == AgentKind::Replay && a.dir.as_deref().is_none_or(str::is_empty) {
        return Err(cx.err(
            at,
            format!(
                "agent `{name}` is `kind = \"replay\"` but has no `dir = \"<recordings>\"` (made by `fabrik run --record <dir>`)"
            ),
        ));
    }
    Ok(AgentConfig {
        name,
        kind,
        preset: a.preset.map(Spanned::into_inner),
        argv,
        prompt_via: a.prompt_via.unwrap_or(PromptVia::Stdin),
        model: a.model,
        timeout: a.timeout.as_ref().map(|t| cx.duration(t)).transpose()?,
        env: a.env.unwrap_or_default(),
        argv_extra: a.argv_extra.unwrap_or_default(),
        base_url: a.base_url,
        api_key_env: a.api_key_env,
        dir: a.dir,
    })
}

fn refs(
    cx: &Ctx<'_>,
    stage: &str,
    names: Vec<Spanned<String>>,
    agents: &BTreeMap<String, AgentConfig>,
) -> Result<Vec<String>> {
    names
        .into_iter()
        .map(|n| {
            if agents.contains_key(n.get_ref()) {
                Ok(n.into_inner())
            } else {
                let known = agents.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
                Err(cx.err(
                    Some(n.span().start),
                    format!("stage `{stage}` names agent `{}`, which is not defined; define `[agents.{}]` or use one of: {known}", n.get_ref(), n.get_ref()),
                ))
            }
        })
        .collect()
}

fn resolve_stages(
    cx: &Ctx<'_>,
    s: crate::raw::RawStages,
    agents: &BTreeMap<String, AgentConfig>,
) -> Result<StagesConfig> {
    let default_timeout = Duration::from_secs(20 * 60);
    let timeout =
        |t: Option<Spanned<String>>| t.as_ref().map_or(Ok(default_timeout), |t| cx.duration(t));
    let d = s.discovery.unwrap_or_default();
    let discovery = StageConfig {
        agents: refs(cx, "discovery", d.agents.unwrap_or_default(), agents)?,
        reviewers: Vec::new(),
        max_revisions: 0,
        lint: false,
        timeout: timeout(d.timeout)?,
    };
    let p = s.planning.unwrap_or_default();
    let planning = StageConfig {
        agents: refs(cx, "planning", p.agent.into_iter().collect(), agents)?,
        reviewers: refs(cx, "planning", p.reviewers.unwrap_or_default(), agents)?,
        max_revisions: p.max_revisions.unwrap_or(2),
        lint: p.lint.unwrap_or(true),
        timeout: timeout(p.timeout)?,
    };
    let single = |name: &str, r: Option<crate::raw::RawSingle>| -> Result<StageConfig> {
        let r = r.unwrap_or_default();
        Ok(StageConfig {
            agents: refs(cx, name, r.agent.into_iter().collect(), agents)?,
            reviewers: Vec::new(),
            max_revisions: 0,
            lint: false,
            timeout: timeout(r.timeout)?,
        })
    };
    Ok(StagesConfig {
        discovery,
        planning,
        execution: single("execution", s.execution)?,
        verification: single("verification", s.verification)?,
        ship: single("ship", s.ship)?,
    })
}

fn resolve_gates(cx: &Ctx<'_>, g: crate::raw::RawGates) -> Result<GatesConfig> {
    let mut builtin = Vec::new();
    for b in g.builtin.unwrap_or_default() {
        if !BUILTIN_GATES.contains(&b.get_ref().as_str()) {
            let msg = format!(
                "unknown built-in gate `{}`; this build provides: {}",
                b.get_ref(),
                BUILTIN_GATES.join(", ")
            );
            return Err(cx.err(Some(b.span().start), msg));
        }
        builtin.push(b.into_inner());
    }
    let mut command = Vec::new();
    for c in g.command.unwrap_or_default() {
        command.push(resolve_gate(cx, c)?);
    }
    Ok(GatesConfig {
        before_execution: g.before_execution.unwrap_or(false),
        builtin,
        command,
    })
}

fn resolve_gate(cx: &Ctx<'_>, c: Spanned<RawGateCommand>) -> Result<GateCommand> {
    let at = Some(c.span().start);
    let c = c.into_inner();
    if c.run.trim().is_empty() {
        return Err(cx.err(at, format!("gate `{}` has an empty `run` command", c.name)));
    }
    let when =
        match c.when {
            None => GateWhen::Always,
            Some(w) => match w.get_ref().as_str() {
                "always" => GateWhen::Always,
                s => match s.strip_prefix("changed:") {
                    Some(glob) if !glob.is_empty() => GateWhen::Changed(glob.to_owned()),
                    _ => return Err(cx.err(
                        Some(w.span().start),
                        format!(
                            "gate `{}`: `when` must be \"always\" or \"changed:<glob>\", not `{s}`",
                            c.name
                        ),
                    )),
                },
            },
        };
    Ok(GateCommand {
        name: c.name,
        run: c.run,
        timeout: c
            .timeout
            .as_ref()
            .map_or(Ok(DEFAULT_GATE_TIMEOUT), |t| cx.duration(t))?,
        when,
    })
}
