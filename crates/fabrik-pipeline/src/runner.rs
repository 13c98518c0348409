//! The driver: creates or resumes a run, walks the state machine, persists after every
//! transition, and stops cleanly on interruption.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use fabrik_agent::Agent;
use fabrik_config::{Config, WorkspaceMode};
use fabrik_core::contract::{EventKind, StageResult};
use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;
use fabrik_core::{Risk, RunId, Stage, exit};
use serde_json::json;

use crate::error::{Error, Result};
use crate::machine::{self, Event, Phase, Start};
use crate::observer::{Level, Observer};
use crate::prompts::Prompts;
use crate::risk::{self, Assessment};
use crate::state::{DriverStatus, RunState, STATE_VERSION, WorkspaceKind};
use crate::store::{RepoLock, RunFiles, Store};
use crate::{git, workspace};

/// What `fabrik run` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The task.
    pub task: String,
    /// Directory fabrik was started in (or `--cwd`).
    pub cwd: PathBuf,
    /// `--risk`.
    pub risk: Option<Risk>,
    /// `--stage`.
    pub start_stage: Option<Stage>,
    /// `--plan`.
    pub plan_file: Option<PathBuf>,
    /// `--in-place`.
    pub in_place: bool,
    /// `--allow-dirty`.
    pub allow_dirty: bool,
    /// `--allow-no-vcs`.
    pub allow_no_vcs: bool,
    /// `--max-verify`.
    pub max_verify: Option<u32>,
    /// Fail instead of waiting for the repository lock (`--no-wait`).
    pub no_wait: bool,
}

/// The route a run would take: what a dry run prints.
#[derive(Clone, Debug)]
pub struct Route {
    /// Risk and reasons.
    pub assessment: Assessment,
    /// The phase the run starts in.
    pub start: Phase,
    /// Agent stages in order, with whether each runs.
    pub stages: Vec<(Stage, bool)>,
    /// Repository root (or the directory, outside git).
    pub root: PathBuf,
    /// Whether `root` is a git work tree.
    pub has_git: bool,
}

/// The pipeline, configured.
pub struct Pipeline<'a> {
    pub(crate) config: &'a Config,
    pub(crate) observer: &'a dyn Observer,
    pub(crate) cancel: CancelToken,
    pub(crate) redactor: Redactor,
    /// `--record DIR`: every agent call is stored there.
    pub(crate) record: Option<PathBuf>,
}

impl<'a> Pipeline<'a> {
    /// A pipeline with `config`, reporting to `observer`, stopped by `cancel`.
    #[must_use]
    pub fn new(
        config: &'a Config,
        observer: &'a dyn Observer,
        cancel: CancelToken,
    ) -> Pipeline<'a> {
        Pipeline {
            config,
            observer,
            cancel,
            redactor: Redactor::from_process_env(),
            record: None,
        }
    }

    /// Stores every agent call in `dir` (`--record DIR`), for `kind = "replay"` agents.
    #[must_use]
    pub fn with_record(mut self, dir: Option<PathBuf>) -> Pipeline<'a> {
        self.record = dir;
        self
    }

    /// Decides the route without touching anything (the dry run uses only this).
    ///
    /// # Errors
    /// [`Error::EmptyTask`].
    pub fn route(&self, opts: &RunOptions) -> Result<Route> {
        if opts.task.trim().is_empty() {
            return Err(Error::EmptyTask);
        }
        let mut assessment = risk::assess(&opts.task, &self.config.risk);
        if let Some(r) = opts.risk {
            assessment = Assessment {
                risk: r,
                reasons: vec!["override".to_owned()],
            };
        }
        let start = match (opts.start_stage, &opts.plan_file) {
            (Some(s), _) => stage_phase(s),
            (None, Some(_)) => Phase::Execution,
            (None, None) => machine::next(Phase::Init, Event::Routed(Start::Risk(assessment.risk)))
                .unwrap_or(Phase::Execution),
        };
        let order = [
            Stage::Discovery,
            Stage::Planning,
            Stage::Execution,
            Stage::Verification,
            Stage::Ship,
        ];
        let first = order
            .iter()
            .position(|s| {
                stage_phase(*s) == start || (start == Phase::PreVerify && *s == Stage::Verification)
            })
            .unwrap_or(0);
        let stages = order
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i >= first))
            .collect();
        let root = git::toplevel(&opts.cwd);
        Ok(Route {
            assessment,
            start,
            stages,
            has_git: root.is_some(),
            root: root.unwrap_or_else(|| opts.cwd.clone()),
        })
    }

    /// The agents the given stages use, built and pre-flighted (binary present).
    ///
    /// # Errors
    /// [`Error::Agent`] naming the first agent that cannot run.
    pub fn agents_for(&self, stages: &[Stage]) -> Result<BTreeMap<String, Box<dyn Agent>>> {
        let mut out: BTreeMap<String, Box<dyn Agent>> = BTreeMap::new();
        for name in stages.iter().flat_map(|s| self.stage_agents(*s)) {
            if out.contains_key(&name) {
                continue;
            }
            let cfg = self.config.agents.get(&name).ok_or_else(|| {
                Error::Agent(fabrik_agent::Error::Unavailable {
                    agent: name.clone(),
                    reason: "not defined".into(),
                    hint: format!("define [agents.{name}] in fabrik.toml"),
                })
            })?;
            let mut agent = fabrik_agent::build(cfg)?;
            agent.preflight()?;
            if let Some(dir) = &self.record {
                agent = Box::new(fabrik_agent::Recorder {
                    inner: agent,
                    dir: dir.clone(),
                });
            }
            out.insert(name, agent);
        }
        Ok(out)
    }

    /// Agent names a stage calls (planning: planner and reviewers).
    #[must_use]
    pub fn stage_agents(&self, stage: Stage) -> Vec<String> {
        let s = &self.config.stages;
        match stage {
            Stage::Discovery => s.discovery.agents.clone(),
            Stage::Planning => s
                .planning
                .agents
                .iter()
                .chain(&s.planning.reviewers)
                .cloned()
                .collect(),
            Stage::Execution => s.execution.agents.clone(),
            Stage::Verification => s.verification.agents.clone(),
            Stage::Ship => s.ship.agents.clone(),
            Stage::PreVerify => Vec::new(),
        }
    }

    /// Starts a new run and drives it to a resting state.
    ///
    /// # Errors
    /// Problems that prevent driving the run at all (see [`Error`]); stage, gate and
    /// verification failures are in the returned state instead.
    pub fn run(&self, opts: &RunOptions) -> Result<RunState> {
        let route = self.route(opts)?;
        let vcs_ok = route.has_git || (opts.in_place && opts.allow_no_vcs);
        if !vcs_ok {
            return Err(Error::NotARepo {
                path: opts.cwd.clone(),
            });
        }
        let plan = opts.plan_file.as_ref().map(|p| read_plan(p)).transpose()?;
        if let (Some(text), Some(path), true) =
            (&plan, &opts.plan_file, self.config.stages.planning.lint)
        {
            // A plan brought from elsewhere meets the same contract as the planner's, grounded
            // in what the run will start from: HEAD in worktree mode, the tree in place.
            let worktree_mode =
                !opts.in_place && self.config.pipeline.workspace == WorkspaceMode::Worktree;
            let checked = if worktree_mode && route.has_git {
                workspace::with_head_checkout(&route.root, |dir| {
                    crate::plan_check::check(text, dir)
                })?
            } else {
                crate::plan_check::check(text, &route.root)
            };
            if !checked.errors.is_empty() {
                let reason = format!(
                    "it fails the plan contract with {} error(s):\n{}",
                    checked.errors.len(),
                    checked.report.trim_end()
                );
                return Err(Error::Plan {
                    path: path.clone(),
                    reason,
                });
            }
        }
        let running: Vec<Stage> = route
            .stages
            .iter()
            .filter(|(_, on)| *on)
            .map(|(s, _)| *s)
            .collect();
        // Broken prompt overrides fail the run before any agent is called.
        let prompts = Prompts::load(&route.root)?;
        let agents = self.agents_for(&running)?;
        let store = Store::new(&route.root);
        store.init()?;
        let lock = store.lock(!opts.no_wait, |pid| self.observer.waiting_for_lock(pid))?;
        let id = RunId::generate();
        let mode = if opts.in_place {
            WorkspaceMode::InPlace
        } else {
            self.config.pipeline.workspace
        };
        // The dirty-tree warning needs a `git status` of the user's tree, and commits need
        // to know whether the repository has an identity (worktrees share its config): both
        // are asked while the run and its worktree are set up, which do not touch the tree.
        let probe = (mode == WorkspaceMode::Worktree).then(|| {
            let root = route.root.clone();
            std::thread::spawn(move || (git::dirty_files(&root), git::has_identity(&root)))
        });
        let ws = match mode {
            WorkspaceMode::Worktree => workspace::plan_worktree(&route.root, &id)?,
            WorkspaceMode::InPlace => {
                workspace::in_place(&route.root, route.has_git, opts.allow_dirty)?
            }
        };
        let now = fabrik_core::time::now_rfc3339();
        let mut state = RunState {
            state_version: STATE_VERSION,
            run_id: id.clone(),
            task: opts.task.clone(),
            risk: route.assessment.risk,
            risk_reasons: route.assessment.reasons.clone(),
            phase: Phase::Init,
            status: DriverStatus::Running,
            created_at: now.clone(),
            updated_at: now,
            elapsed_seconds: 0.0,
            workspace: ws,
            max_verify: opts
                .max_verify
                .unwrap_or(self.config.pipeline.max_verify)
                .max(1),
            iteration: 0,
            plan_sha256: None,
            plan_source: opts
                .plan_file
                .as_ref()
                .and_then(|p| std::path::absolute(p).ok())
                .map(|p| p.to_string_lossy().into_owned()),
            open_issues: Vec::new(),
            sessions: Vec::new(),
            stages: Vec::new(),
            stages_skipped: route
                .stages
                .iter()
                .filter(|(_, on)| !on)
                .map(|(s, _)| *s)
                .collect(),
            event_seq: 0,
            error: None,
            failed_at: None,
        };
        let files = RunFiles::create(&store, &id)?;
        if let Some(plan) = plan {
            state.plan_sha256 = Some(fabrik_core::durable::sha256_hex(plan.as_bytes()));
            files.write("plan.md", plan.as_bytes())?;
        }
        // Routed before the first snapshot: a run that stops (kill -9, I/O error) right
        // after it must resume at its start stage; INIT on disk would be a dead end.
        let start = Start::Stage(route.start);
        state.phase = machine::next(Phase::Init, Event::Routed(start)).unwrap_or(route.start);
        files.save(&mut state)?;
        if state.workspace.mode == WorkspaceKind::Worktree {
            workspace::ensure_worktree(&route.root, &state.workspace)?;
        }
        let data = json!({"task": state.task, "risk": state.risk, "risk_reasons": state.risk_reasons, "workspace": state.workspace.path, "resumed": false});
        files.event(&mut state, EventKind::RunStarted, None, None, data)?;
        files.save(&mut state)?;
        let mut identity = None;
        if let Some(Ok((dirty, has_identity))) = probe.map(std::thread::JoinHandle::join) {
            warn_dirty(self.observer, &dirty.unwrap_or_default());
            identity = Some(!has_identity);
        }
        self.observer.run_started(&state, false);
        let mut driver = Driver::new(self, files, state, agents, lock, false).with_prompts(prompts);
        driver.identity = identity;
        driver.drive()
    }

    /// Continues run `id` from its last completed step.
    ///
    /// # Errors
    /// [`Error::RunNotFound`], [`Error::CorruptState`], [`Error::NotResumable`], and what
    /// [`Pipeline::run`] returns.
    pub fn resume(
        &self,
        root: &Path,
        id: &RunId,
        max_verify: Option<u32>,
        no_wait: bool,
    ) -> Result<RunState> {
        let store = Store::new(root);
        // An unknown run is reported as such (exit 3), also in a repository without
        // `.fabrik/` (where taking the lock would fail first); the state is read once, below.
        if !store.run_dir(id).join("state.json").exists() {
            return Err(Error::RunNotFound {
                id: id.to_string(),
                dir: store.runs_dir(),
            });
        }
        let prompts = Prompts::load(root)?;
        let lock = store.lock(!no_wait, |pid| self.observer.waiting_for_lock(pid))?;
        let mut state = store.load(id)?;
        if let Some(m) = max_verify {
            state.max_verify = m.max(1);
        }
        match (state.status, state.phase) {
            (_, Phase::Done) => return Ok(state),
            (_, Phase::Failed(code)) => {
                let at = state.failed_at.ok_or_else(|| Error::NotResumable {
                    id: id.to_string(),
                    reason: "it never started".into(),
                })?;
                if code == exit::RETRY_EXHAUSTED && state.iteration >= state.max_verify {
                    return Err(Error::NotResumable {
                        id: id.to_string(),
                        reason: format!(
                            "verification rejected it {} times; pass --max-verify {} to allow another iteration",
                            state.iteration,
                            state.iteration + 1
                        ),
                    });
                }
                state.phase = if code == exit::RETRY_EXHAUSTED {
                    Phase::Execution
                } else {
                    at
                };
                state.failed_at = None;
                state.error = None;
            }
            _ => {}
        }
        if state.phase == Phase::Verification {
            // Gates run immediately before every verification (DESIGN section 3); the
            // workspace may have changed since the interrupted run passed them.
            state.phase = Phase::PreVerify;
        }
        state.status = DriverStatus::Running;
        let running: Vec<Stage> = remaining_stages(state.phase);
        let agents = self.agents_for(&running)?;
        let files = RunFiles::create(&store, id)?;
        state.event_seq = state.event_seq.max(files.events_written());
        if state.workspace.mode == WorkspaceKind::Worktree {
            workspace::ensure_worktree(root, &state.workspace)?;
        }
        let data = json!({"task": state.task, "risk": state.risk, "resumed": true, "phase": state.phase.label()});
        files.event(&mut state, EventKind::RunStarted, None, None, data)?;
        files.save(&mut state)?;
        self.observer.run_started(&state, true);
        Driver::new(self, files, state, agents, lock, true)
            .with_prompts(prompts)
            .drive()
    }
}

fn remaining_stages(from: Phase) -> Vec<Stage> {
    let order = [
        (Phase::Discovery, Stage::Discovery),
        (Phase::Planning, Stage::Planning),
        (Phase::Execution, Stage::Execution),
        (Phase::PreVerify, Stage::Verification),
        (Phase::Verification, Stage::Verification),
        (Phase::Ship, Stage::Ship),
    ];
    let first = order
        .iter()
        .position(|(p, _)| *p == from)
        .unwrap_or(order.len());
    let mut v: Vec<Stage> = order[first..].iter().map(|(_, s)| *s).collect();
    if v.contains(&Stage::Verification) && !v.contains(&Stage::Execution) {
        // A rejection sends the run back to execution.
        v.push(Stage::Execution);
    }
    v.dedup();
    v
}

/// The phase that runs a stage; verification always goes through the gates first.
fn stage_phase(s: Stage) -> Phase {
    match s {
        Stage::Discovery => Phase::Discovery,
        Stage::Planning => Phase::Planning,
        Stage::Execution => Phase::Execution,
        Stage::PreVerify | Stage::Verification => Phase::PreVerify,
        Stage::Ship => Phase::Ship,
    }
}

fn read_plan(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Plan {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if text.trim().is_empty() {
        return Err(Error::Plan {
            path: path.to_path_buf(),
            reason: "the file is empty".into(),
        });
    }
    Ok(text)
}

fn warn_dirty(observer: &dyn Observer, files: &[String]) {
    if !files.is_empty() {
        observer.log(
            Level::Warn,
            &format!(
                "{} uncommitted change(s) are not part of this run (it starts from HEAD)",
                files.len()
            ),
        );
    }
}

/// Drives one run; owns its state while the lock is held.
pub(crate) struct Driver<'p, 'a> {
    pub(crate) p: &'p Pipeline<'a>,
    pub(crate) files: RunFiles,
    pub(crate) state: RunState,
    pub(crate) agents: BTreeMap<String, Box<dyn Agent>>,
    pub(crate) started: Instant,
    pub(crate) base_elapsed: f64,
    /// The phase a resumed driver starts in: its stage may have been in flight at a crash.
    resumed: Option<Phase>,
    /// Files changed since the base commit, and the untracked ones; cleared when a write
    /// stage ends or a command gate ran.
    changed: Option<Vec<String>>,
    untracked: Option<Vec<String>>,
    /// Whether commits need fabrik's own identity (the repository has none); asked once.
    identity: Option<bool>,
    /// The run's prompt templates (the repository's overrides, else the embedded ones).
    pub(crate) prompts: Prompts,
    /// Prompt bytes sent since the current stage began (`Driver::call` runs on threads).
    pub(crate) prompt_bytes: AtomicU64,
    _lock: RepoLock,
}

/// Why a step did not produce an event.
pub(crate) enum Stop {
    /// Ctrl-C / SIGTERM.
    Interrupted,
    /// Could not write the run's files, or git failed.
    Fatal(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Fatal(e)
    }
}

impl<'p, 'a> Driver<'p, 'a> {
    fn new(
        p: &'p Pipeline<'a>,
        files: RunFiles,
        state: RunState,
        agents: BTreeMap<String, Box<dyn Agent>>,
        lock: RepoLock,
        resumed: bool,
    ) -> Self {
        let base_elapsed = state.elapsed_seconds;
        let resumed = resumed.then_some(state.phase);
        Driver {
            resumed,
            // A fresh worktree equals its base: nothing changed until a write stage runs.
            changed: (resumed.is_none() && state.workspace.mode == WorkspaceKind::Worktree)
                .then(Vec::new),
            untracked: None,
            identity: None,
            prompts: Prompts::default(),
            prompt_bytes: AtomicU64::new(0),
            p,
            files,
            state,
            agents,
            started: Instant::now(),
            base_elapsed,
            _lock: lock,
        }
    }

    fn with_prompts(mut self, prompts: Prompts) -> Self {
        self.prompts = prompts;
        self
    }

    pub(crate) fn workspace(&self) -> PathBuf {
        PathBuf::from(&self.state.workspace.path)
    }

    /// True once, when a resumed driver enters the phase it was resumed in.
    pub(crate) fn resumed_into(&mut self, phase: Phase) -> bool {
        if self.resumed == Some(phase) {
            self.resumed = None;
            return true;
        }
        self.resumed = None;
        false
    }

    /// Files changed since the base commit (cached until [`Driver::tree_changed`]).
    pub(crate) fn changed_files(&mut self) -> Vec<String> {
        if self.changed.is_none() {
            let files = match self.state.workspace.base_commit.clone() {
                Some(base) => {
                    let untracked = self.untracked_files();
                    git::changed_since(&self.workspace(), &base, &untracked).unwrap_or_default()
                }
                None => Vec::new(),
            };
            self.changed = Some(files);
        }
        self.changed.clone().unwrap_or_default()
    }

    /// Untracked, not ignored files of the workspace (cached until [`Driver::tree_changed`]).
    pub(crate) fn untracked_files(&mut self) -> Vec<String> {
        if self.untracked.is_none() {
            self.untracked = Some(git::untracked(&self.workspace()).unwrap_or_default());
        }
        self.untracked.clone().unwrap_or_default()
    }

    /// Forgets what the workspace looked like: after a write stage or a command gate.
    pub(crate) fn tree_changed(&mut self) {
        self.changed = None;
        self.untracked = None;
    }

    /// Whether commits must supply an identity.
    pub(crate) fn needs_identity(&mut self) -> bool {
        *self.identity.get_or_insert_with(|| {
            !git::has_identity(std::path::Path::new(&self.state.workspace.path))
        })
    }

    pub(crate) fn save(&mut self) -> Result<()> {
        self.state.elapsed_seconds = self.base_elapsed + self.started.elapsed().as_secs_f64();
        self.files.save(&mut self.state)
    }

    pub(crate) fn event(
        &mut self,
        kind: EventKind,
        stage: Option<Stage>,
        iteration: Option<u32>,
        data: serde_json::Value,
    ) -> Result<()> {
        self.files
            .event(&mut self.state, kind, stage, iteration, data)
    }

    fn drive(mut self) -> Result<RunState> {
        loop {
            let phase = self.state.phase;
            if phase.is_terminal() {
                return self.finish();
            }
            if self.p.cancel.is_cancelled() {
                return self.interrupt();
            }
            self.p
                .observer
                .log(Level::Debug, &format!("entering {}", phase.label()));
            let event = match self.step(phase) {
                Ok(ev) => ev,
                Err(Stop::Interrupted) => return self.interrupt(),
                Err(Stop::Fatal(e)) => return Err(e),
            };
            let to = machine::next(phase, event).unwrap_or(Phase::Failed(exit::STAGE_FAILURE));
            if let Phase::Failed(_) = to {
                self.state.failed_at = Some(phase);
            }
            self.p.observer.log(
                Level::Debug,
                &format!("{} -> {}", phase.label(), to.label()),
            );
            self.state.phase = to;
            self.save()?;
        }
    }

    fn step(&mut self, phase: Phase) -> std::result::Result<Event, Stop> {
        match phase {
            Phase::Discovery => self.discovery(),
            Phase::Planning => self.planning(),
            Phase::Execution => self.execution(),
            Phase::PreVerify => self.pre_verify(),
            Phase::Verification => self.verification(),
            Phase::Ship => self.ship(),
            Phase::Init | Phase::Done | Phase::Failed(_) => Ok(Event::StageFailed),
        }
    }

    fn finish(mut self) -> Result<RunState> {
        self.state.status = DriverStatus::Finished;
        if let (Phase::Failed(_), WorkspaceKind::InPlace, Some(cp)) = (
            self.state.phase,
            self.state.workspace.mode,
            self.state.workspace.checkpoint.clone(),
        ) {
            let ws = self.workspace();
            match workspace::restore(&ws, &cp) {
                Ok(()) => self.p.observer.log(
                    Level::Info,
                    "restored the working tree to its state before execution",
                ),
                Err(e) => self.p.observer.log(
                    Level::Warn,
                    &format!("could not restore the working tree: {e}"),
                ),
            }
        }
        let data = json!({"status": self.state.to_result().status, "exit_code": self.state.exit_code(), "error": self.state.error});
        self.event(EventKind::RunFinished, None, None, data)?;
        self.save()?;
        fabrik_core::durable::flush();
        Ok(self.state)
    }

    fn interrupt(mut self) -> Result<RunState> {
        self.state.status = DriverStatus::Interrupted;
        self.p.observer.log(
            Level::Warn,
            &format!(
                "interrupted; continue with `fabrik resume {}`",
                self.state.run_id
            ),
        );
        let data = json!({"status": "interrupted", "exit_code": exit::INTERRUPTED, "phase": self.state.phase.label()});
        self.event(EventKind::RunFinished, None, None, data)?;
        self.save()?;
        fabrik_core::durable::flush();
        Ok(self.state)
    }

    /// Records a finished stage: result, step report, events.
    pub(crate) fn record(&mut self, result: StageResult, next: &str) -> Result<()> {
        let step = self.state.stages.len() + 1;
        let changed = self.changed_files();
        let issues = (result.stage == Stage::Verification)
            .then_some((self.state.open_issues.as_slice(), self.state.max_verify));
        let report =
            crate::report::StepReport::new(step, &result, changed, issues, next.to_owned());
        let stem = format!("reports/step-{step}-{}", result.stage);
        self.files
            .write(&format!("{stem}.md"), report.markdown().as_bytes())?;
        let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
        self.files.write(&format!("{stem}.json"), &json)?;
        if result.usage.total_tokens() > 0 {
            let u = serde_json::to_value(&result.usage).unwrap_or_default();
            self.event(
                EventKind::Usage,
                Some(result.stage),
                Some(result.iteration),
                json!({"agent": result.agent, "model": result.model, "usage": u}),
            )?;
        }
        let data = json!({"status": result.status, "error": result.error, "agent": result.agent});
        self.event(
            EventKind::StageFinished,
            Some(result.stage),
            Some(result.iteration),
            data,
        )?;
        self.p
            .observer
            .stage_finished(&result, self.state.max_verify);
        self.state.stages.push(result);
        Ok(())
    }
}
