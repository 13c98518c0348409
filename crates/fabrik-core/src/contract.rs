//! The JSON data contracts of DESIGN.md section 4: what `--json` prints, what step
//! reports and events carry. `schemas/` is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Risk, RunId, Stage, Usage};

/// Version of the [`PipelineResult`] contract (the seed's v1 fields are kept).
pub const PIPELINE_RESULT_VERSION: &str = "1.0.0";
/// Schema tag of every event line.
pub const EVENT_SCHEMA: &str = "fabrik.event/1";

/// The outcome of a run: the only thing `fabrik run --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PipelineResult {
    /// Contract version, [`PIPELINE_RESULT_VERSION`].
    pub version: String,
    /// The run.
    pub run_id: RunId,
    /// The task as given.
    pub task: String,
    /// The risk the run was routed by.
    pub risk: Risk,
    /// Why: the matched keywords, or "default" / "override".
    pub risk_reasons: Vec<String>,
    /// How the run ended.
    pub status: RunStatus,
    /// The process exit code this result maps to.
    pub exit_code: u8,
    /// Worktree path, or "in place".
    pub workspace: String,
    /// The run's branch in worktree mode.
    pub branch: Option<String>,
    /// sha256 of the frozen plan, once there is one.
    pub plan_sha256: Option<String>,
    /// Every stage executed, in order (re-executions included).
    pub stages: Vec<StageResult>,
    /// Totals.
    pub metrics: Metrics,
}

/// Final status of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Reached DONE.
    Success,
    /// Reached FAILED.
    Failure,
    /// Stopped by Ctrl-C or SIGTERM; resumable.
    Interrupted,
    /// A dry run: nothing executed.
    DryRun,
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Metrics {
    /// Wall time from start to end, over all sessions of the run (resumes included).
    pub total_time_seconds: f64,
    /// `input_tokens + output_tokens`.
    pub total_tokens: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Cost in USD of the calls that reported one.
    pub cost_usd: Option<f64>,
    /// True when any part of the totals is an estimate.
    pub tokens_estimated: bool,
    /// How many verifications ran.
    pub verification_iterations: u32,
    /// Stage executions (re-executions counted, gate runs not).
    pub stages_executed: u32,
    /// Agent stages the risk route skipped.
    pub stages_skipped: u32,
}

/// One executed stage (or gate run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageResult {
    /// Which stage.
    pub stage: Stage,
    /// pass, fail or skip.
    pub status: StageStatus,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub ended_at: String,
    /// Session slot and the backend's own session id.
    pub session: Option<SessionRef>,
    /// Agent name from the config.
    pub agent: Option<String>,
    /// Model the agent was asked to use.
    pub model: Option<String>,
    /// 1-based execution/verification iteration.
    pub iteration: u32,
    /// Where the stage's main output lives, relative to the run directory.
    pub output_path: Option<String>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    /// Tokens and cost of this stage.
    pub usage: Usage,
    /// Bytes of prompt sent to the stage's agents, summed over its calls (about 4 bytes a
    /// token; 0 in runs recorded before this was counted).
    #[serde(default)]
    pub prompt_bytes: u64,
    /// Gate results (pre-verify runs only).
    pub gates: Vec<GateResult>,
}

/// pass / fail / skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// The stage did its job.
    Pass,
    /// The stage failed.
    Fail,
    /// Not run (risk route or nothing to do).
    Skip,
}

/// Session slot (s1..s4) and the backend's own id, when it has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionRef {
    /// s1 discovery+planning, s2 execution, s3 verifier (fresh each iteration), s4 ship.
    pub slot: String,
    /// The agent CLI's session id, when it reported one.
    pub backend_id: Option<String>,
}

/// The result of one gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GateResult {
    /// Gate name from the config.
    pub name: String,
    /// The command as configured (or the built-in's description).
    pub command: String,
    /// Outcome.
    pub status: GateStatus,
    /// Exit code of the command, when it exited.
    pub exit_code: Option<i32>,
    /// Wall time.
    pub duration_ms: u64,
    /// The last lines of stdout+stderr, bounded and redacted.
    pub output_tail: String,
}

impl GateResult {
    /// A passing result of gate `name` running `command`; the gate fills in the outcome.
    #[must_use]
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> GateResult {
        GateResult {
            name: name.into(),
            command: command.into(),
            status: GateStatus::Pass,
            exit_code: Some(0),
            duration_ms: 0,
            output_tail: String::new(),
        }
    }

    /// The gate did not apply: skipped, with the reason as its output.
    #[must_use]
    pub fn skipped(mut self, reason: impl Into<String>) -> GateResult {
        self.status = GateStatus::Skip;
        self.exit_code = None;
        self.output_tail = reason.into();
        self
    }

    /// The gate failed with `exit_code` (None: it could not run to an exit) and `output`.
    #[must_use]
    pub fn failed(mut self, exit_code: Option<i32>, output: impl Into<String>) -> GateResult {
        self.status = GateStatus::Fail;
        self.exit_code = exit_code;
        self.output_tail = output.into();
        self
    }

    /// Records the wall time since `start`.
    #[must_use]
    pub fn timed(mut self, start: std::time::Instant) -> GateResult {
        self.duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self
    }
}

/// Outcome of a gate. `ToolMissing` is distinct from `Fail` so users know to install
/// something rather than fix their code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// Exit status 0.
    Pass,
    /// Non-zero exit status.
    Fail,
    /// The command's program was not found (exit 127 from the shell).
    ToolMissing,
    /// Killed at its timeout.
    Timeout,
    /// Not run (its `when` did not match).
    Skip,
}

impl GateStatus {
    /// Upper-case label for reports: PASS, FAIL, TOOL MISSING, TIMEOUT, SKIP.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            GateStatus::Pass => "PASS",
            GateStatus::Fail => "FAIL",
            GateStatus::ToolMissing => "TOOL MISSING",
            GateStatus::Timeout => "TIMEOUT",
            GateStatus::Skip => "SKIP",
        }
    }

    /// Whether this outcome lets the pipeline go on (fail-closed: only pass and skip do).
    #[must_use]
    pub fn is_ok(self) -> bool {
        matches!(self, GateStatus::Pass | GateStatus::Skip)
    }
}

/// The verifier's verdict (DESIGN.md section 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// Whether the work is accepted.
    pub approved: bool,
    /// What is wrong.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// One paragraph.
    #[serde(default)]
    pub summary: String,
}

/// One issue found by a verifier or reviewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Issue {
    /// blocker, major or minor.
    #[serde(default = "Severity::default_major")]
    pub severity: Severity,
    /// File the issue is in, relative to the workspace.
    #[serde(default)]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default)]
    pub line: Option<u64>,
    /// What is wrong and what to do.
    pub message: String,
}

/// Severity of an [`Issue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed.
    Blocker,
    /// Should be fixed.
    Major,
    /// Nice to fix.
    Minor,
}

impl Severity {
    fn default_major() -> Severity {
        Severity::Major
    }

    /// Lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Major => "major",
            Severity::Minor => "minor",
        }
    }
}

/// What happened, one line of `events.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Always [`EVENT_SCHEMA`].
    pub schema: String,
    /// Deterministic: a hash of run id, kind, stage, iteration and the run's event sequence
    /// number, so ingesting the same event twice has the effect of ingesting it once.
    pub event_id: String,
    /// RFC 3339 UTC with milliseconds.
    pub ts: String,
    /// The run.
    pub run_id: RunId,
    /// What kind of event.
    pub kind: EventKind,
    /// Stage, when the event belongs to one.
    pub stage: Option<Stage>,
    /// Iteration, when the event belongs to one.
    pub iteration: Option<u32>,
    /// Kind-specific payload.
    pub data: serde_json::Value,
}

/// Kinds of [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A run began (or was resumed: `data.resumed`).
    RunStarted,
    /// A stage began.
    StageStarted,
    /// A stage ended (`data.status`).
    StageFinished,
    /// One gate's result.
    GateResult,
    /// A verifier's or reviewer's verdict.
    Verdict,
    /// Tokens and cost of one agent call.
    Usage,
    /// A run reached a resting state.
    RunFinished,
}

impl EventKind {
    /// snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RunStarted => "run_started",
            EventKind::StageStarted => "stage_started",
            EventKind::StageFinished => "stage_finished",
            EventKind::GateResult => "gate_result",
            EventKind::Verdict => "verdict",
            EventKind::Usage => "usage",
            EventKind::RunFinished => "run_finished",
        }
    }
}

/// The deterministic id of an event: sha256 over its identifying fields, 32 hex chars.
#[must_use]
pub fn event_id(
    run_id: &RunId,
    kind: EventKind,
    stage: Option<Stage>,
    iteration: Option<u32>,
    seq: u64,
) -> String {
    use sha2::{Digest, Sha256};
    let key = format!(
        "{run_id}/{}/{}/{}/{seq}",
        kind.as_str(),
        stage.map_or("-", Stage::as_str),
        iteration.map_or_else(|| "-".to_owned(), |i| i.to_string()),
    );
    let digest = Sha256::digest(key.as_bytes());
    crate::durable::hex(&digest[..16])
}
