//! The persisted run: `.fabrik/runs/<id>/state.json`, rewritten atomically after every
//! transition. Everything `fabrik status` and `fabrik resume` need is here.

use fabrik_core::contract::{
    Issue, Metrics, PIPELINE_RESULT_VERSION, PipelineResult, RunStatus, StageResult,
};
use fabrik_core::{Risk, RunId, Stage, Usage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::machine::Phase;

/// Version of the state file format; a newer one is refused, never overwritten.
pub const STATE_VERSION: u32 = 1;

/// One run, as persisted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunState {
    /// [`STATE_VERSION`].
    pub state_version: u32,
    /// The run.
    pub run_id: RunId,
    /// The task as given.
    pub task: String,
    /// Routed risk.
    pub risk: Risk,
    /// Why.
    pub risk_reasons: Vec<String>,
    /// Where the run is: the step to run next (or in flight), or a resting state.
    pub phase: Phase,
    /// Whether the driver is active, or why it stopped.
    pub status: DriverStatus,
    /// When the run was created (RFC 3339 UTC).
    pub created_at: String,
    /// Last write.
    pub updated_at: String,
    /// Wall time spent by earlier driver sessions (resumes add theirs).
    pub elapsed_seconds: f64,
    /// Where the run works.
    pub workspace: WorkspaceState,
    /// `max_verify` in force.
    pub max_verify: u32,
    /// Verification iterations started (the next execution/verification is this + 1).
    pub iteration: u32,
    /// The frozen plan's sha256, once frozen.
    pub plan_sha256: Option<String>,
    /// Where a `--plan` plan was read from (absolute): inside the repository it is the
    /// run's input, not a change the `scope` gate should judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_source: Option<String>,
    /// The verifier's open issues, fed into the next execution.
    pub open_issues: Vec<Issue>,
    /// Backend session ids per slot (s1..s4), for resumable sessions.
    pub sessions: Vec<(String, String)>,
    /// Every executed stage, in order.
    pub stages: Vec<StageResult>,
    /// Stages skipped by the route.
    pub stages_skipped: Vec<Stage>,
    /// Events written so far (the next event's sequence number).
    pub event_seq: u64,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// The phase that failed (resume starts there again).
    pub failed_at: Option<Phase>,
}

/// Whether a driver is working on the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriverStatus {
    /// A driver is (or was, if it crashed) executing `phase`.
    Running,
    /// Stopped by Ctrl-C / SIGTERM; `phase` is what resume runs next.
    Interrupted,
    /// Reached DONE or FAILED.
    Finished,
}

/// The run's workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkspaceState {
    /// Worktree or in place.
    pub mode: WorkspaceKind,
    /// Absolute path of the directory agents work in.
    pub path: String,
    /// Branch (worktree mode).
    pub branch: Option<String>,
    /// Commit the run started from.
    pub base_commit: Option<String>,
    /// In-place mode: what to restore on failure.
    pub checkpoint: Option<Checkpoint>,
}

/// Worktree or in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkspaceKind {
    /// `.fabrik/worktrees/<run>` on branch `fabrik/<run>`.
    Worktree,
    /// The user's tree.
    InPlace,
}

/// The state of an in-place tree before execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Checkpoint {
    /// HEAD at the checkpoint (None without git).
    pub head: Option<String>,
    /// `git stash create` of uncommitted changes (with `--allow-dirty`).
    pub stash: Option<String>,
    /// Untracked files that existed then (kept on restore).
    pub untracked: Vec<String>,
}

impl RunState {
    /// Sum of every stage's usage.
    #[must_use]
    pub fn usage(&self) -> Usage {
        let mut u = Usage::default();
        for s in &self.stages {
            u += &s.usage;
        }
        u
    }

    /// The backend session id recorded for `slot`.
    #[must_use]
    pub fn session(&self, slot: &str) -> Option<&str> {
        self.sessions
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, id)| id.as_str())
    }

    /// Records the backend session id of `slot`.
    pub fn set_session(&mut self, slot: &str, id: String) {
        self.sessions.retain(|(s, _)| s != slot);
        self.sessions.push((slot.to_owned(), id));
    }

    /// The exit code the run's current state maps to.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match (self.status, self.phase) {
            (DriverStatus::Interrupted, _) => fabrik_core::exit::INTERRUPTED,
            (_, Phase::Failed(code)) => code,
            _ => fabrik_core::exit::SUCCESS,
        }
    }

    /// The run as the `--json` contract.
    #[must_use]
    pub fn to_result(&self) -> PipelineResult {
        let usage = self.usage();
        let status = match (self.status, self.phase) {
            (DriverStatus::Interrupted, _) => RunStatus::Interrupted,
            (_, Phase::Done) => RunStatus::Success,
            (_, Phase::Failed(_)) => RunStatus::Failure,
            // A run whose driver died (kill -9) reads as interrupted: resume continues it.
            _ => RunStatus::Interrupted,
        };
        let executed = self
            .stages
            .iter()
            .filter(|s| s.stage != Stage::PreVerify)
            .count();
        PipelineResult {
            version: PIPELINE_RESULT_VERSION.to_owned(),
            run_id: self.run_id.clone(),
            task: self.task.clone(),
            risk: self.risk,
            risk_reasons: self.risk_reasons.clone(),
            status,
            exit_code: if status == RunStatus::Interrupted {
                fabrik_core::exit::INTERRUPTED
            } else {
                self.exit_code()
            },
            workspace: match self.workspace.mode {
                WorkspaceKind::Worktree => self.workspace.path.clone(),
                WorkspaceKind::InPlace => "in place".to_owned(),
            },
            branch: self.workspace.branch.clone(),
            plan_sha256: self.plan_sha256.clone(),
            stages: self.stages.clone(),
            metrics: Metrics {
                total_time_seconds: self.elapsed_seconds,
                total_tokens: usage.total_tokens(),
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cost_usd: usage.cost_usd,
                tokens_estimated: usage.estimated,
                verification_iterations: u32::try_from(
                    self.stages
                        .iter()
                        .filter(|s| s.stage == Stage::Verification)
                        .count(),
                )
                .unwrap_or(u32::MAX),
                stages_executed: u32::try_from(executed).unwrap_or(u32::MAX),
                stages_skipped: u32::try_from(self.stages_skipped.len()).unwrap_or(u32::MAX),
            },
        }
    }
}

/// JSON Schemas generated from the types, by file name under `schemas/`.
#[must_use]
pub fn schemas() -> Vec<(&'static str, String)> {
    let render = |s: schemars::Schema| {
        let mut t = serde_json::to_string_pretty(&s).unwrap_or_default();
        t.push('\n');
        t
    };
    vec![
        (
            "pipeline-result.json",
            render(schemars::schema_for!(PipelineResult)),
        ),
        (
            "stage-result.json",
            render(schemars::schema_for!(StageResult)),
        ),
        (
            "event.json",
            render(schemars::schema_for!(fabrik_core::contract::Event)),
        ),
        ("run-state.json", render(schemars::schema_for!(RunState))),
    ]
}
