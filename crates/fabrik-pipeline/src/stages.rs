//! What each phase does. Every handler returns the machine [`Event`] it produced; the
//! driver applies the transition and persists.

use std::sync::atomic::Ordering;
use std::time::Duration;

use fabrik_agent::{Autonomy, Request, Response, SessionPolicy, Transcript};
use fabrik_core::contract::{
    EventKind, GateResult, Issue, SessionRef, Severity, StageResult, StageStatus, Verdict,
};
use fabrik_core::{Stage, Usage};
use serde_json::json;

use crate::machine::{Event, Phase};
use crate::observer::Level;
use crate::runner::{Driver, Stop};
use crate::state::WorkspaceKind;
use crate::{plan_check, prompts, verdict, workspace};

type Step = std::result::Result<Event, Stop>;

/// One agent call as the stages describe it.
pub(crate) struct Call<'x> {
    pub(crate) role: &'x str,
    pub(crate) stage: Stage,
    pub(crate) agent: &'x str,
    pub(crate) prompt: String,
    pub(crate) slot: &'x str,
    pub(crate) fresh: bool,
    pub(crate) autonomy: Autonomy,
    pub(crate) iteration: u32,
    pub(crate) attempt: u32,
    pub(crate) expect_json: bool,
    /// Position among concurrent calls of one stage (discovery), 0 otherwise.
    pub(crate) seat: usize,
}

impl<'x> Call<'x> {
    /// A first-attempt call of `role`, with the stage, session slot, autonomy and session
    /// policy that role always has (DESIGN.md section 3: s1 discovery and planning, s2
    /// execution, s3 a fresh verifier, s4 ship; reviewers and verifiers start fresh and answer
    /// in JSON; only execution and ship may write).
    fn new(role: &'static str, agent: &'x str, prompt: String, iteration: u32) -> Call<'x> {
        let (stage, slot, fresh, autonomy, expect_json) = match role {
            "discovery" => (Stage::Discovery, "s1", false, Autonomy::ReadOnly, false),
            "planning" => (Stage::Planning, "s1", false, Autonomy::ReadOnly, false),
            "review" => (Stage::Planning, "s1", true, Autonomy::ReadOnly, true),
            "execution" => (Stage::Execution, "s2", false, Autonomy::Write, false),
            "ship" => (Stage::Ship, "s4", true, Autonomy::Write, false),
            _ => (Stage::Verification, "s3", true, Autonomy::ReadOnly, true),
        };
        Call {
            role,
            stage,
            agent,
            prompt,
            slot,
            fresh,
            autonomy,
            iteration,
            attempt: 1,
            expect_json,
            seat: 0,
        }
    }
}

/// Bytes of diff given to the verifier.
const DIFF_BUDGET: usize = 200 * 1024;

impl Driver<'_, '_> {
    fn timeout(&self, stage: Stage, agent: &str) -> Duration {
        let s = &self.p.config.stages;
        let stage_timeout = match stage {
            Stage::Discovery => s.discovery.timeout,
            Stage::Planning => s.planning.timeout,
            Stage::Execution | Stage::PreVerify => s.execution.timeout,
            Stage::Verification => s.verification.timeout,
            Stage::Ship => s.ship.timeout,
        };
        self.p
            .config
            .agents
            .get(agent)
            .and_then(|a| a.timeout)
            .unwrap_or(stage_timeout)
    }

    fn transcript(&self, stem: &str) -> Transcript {
        let dir = self.files.dir.join("agents");
        let mut name = stem.to_owned();
        let mut k = 1;
        // A stage re-run after a crash keeps the interrupted attempt's files.
        while dir.join(format!("{name}.prompt")).exists() {
            k += 1;
            name = format!("{stem}-r{k}");
        }
        Transcript::in_dir(&dir, &name)
    }

    /// Performs one agent call. Usable from several threads at once (discovery).
    pub(crate) fn call(&self, c: &Call<'_>) -> std::result::Result<Response, fabrik_agent::Error> {
        let Some(agent) = self.agents.get(c.agent) else {
            return Err(fabrik_agent::Error::Unavailable {
                agent: c.agent.into(),
                reason: "not built".into(),
                hint: String::new(),
            });
        };
        let key = format!("{}:{}", c.slot, c.agent);
        let session = match (c.fresh, self.state.session(&key)) {
            (false, Some(id)) => SessionPolicy::Resume(id.to_owned()),
            _ => SessionPolicy::New,
        };
        // Discovery agents run at once: their transcripts are told apart by seat and name.
        let suffix = if c.seat > 0 {
            format!("-{}-{}", c.seat, c.agent)
        } else {
            String::new()
        };
        let attempt = if c.attempt > 1 {
            format!("-a{}", c.attempt)
        } else {
            String::new()
        };
        let transcript = self.transcript(&format!("{}{suffix}-{}{attempt}", c.role, c.iteration));
        let ws = self.workspace();
        let run_id = self.state.run_id.to_string();
        let req = Request {
            role: c.role,
            prompt: &c.prompt,
            workspace: &ws,
            run_id: &run_id,
            slot: c.slot,
            session,
            iteration: c.iteration,
            attempt: c.attempt,
            autonomy: c.autonomy,
            timeout: self.timeout(c.stage, c.agent),
            grace: self.p.config.pipeline.grace,
            expect_json: c.expect_json,
            transcript: &transcript,
            cancel: &self.p.cancel,
            redactor: &self.p.redactor,
        };
        self.p.observer.log(
            Level::Debug,
            &format!(
                "calling agent `{}` for {} ({} prompt bytes)",
                c.agent,
                c.role,
                c.prompt.len()
            ),
        );
        self.prompt_bytes
            .fetch_add(c.prompt.len() as u64, Ordering::Relaxed);
        agent.call(&req)
    }

    fn begin(
        &mut self,
        stage: Stage,
        agent: &str,
        slot: &str,
        iteration: u32,
    ) -> std::result::Result<StageResult, Stop> {
        self.prompt_bytes.store(0, Ordering::Relaxed);
        self.p.observer.stage_started(stage, agent, iteration);
        self.event(
            EventKind::StageStarted,
            Some(stage),
            Some(iteration),
            json!({"agent": agent}),
        )?;
        let model = self
            .p
            .config
            .agents
            .get(agent)
            .and_then(|a| a.model.clone());
        Ok(StageResult {
            stage,
            status: StageStatus::Pass,
            started_at: fabrik_core::time::now_rfc3339(),
            ended_at: String::new(),
            session: (!slot.is_empty()).then(|| SessionRef {
                slot: slot.to_owned(),
                backend_id: None,
            }),
            agent: (!agent.is_empty()).then(|| agent.to_owned()),
            model,
            iteration,
            output_path: None,
            error: None,
            usage: Usage::default(),
            prompt_bytes: 0,
            gates: Vec::new(),
        })
    }

    fn end(&mut self, mut r: StageResult, next: &str) -> std::result::Result<(), Stop> {
        r.ended_at = fabrik_core::time::now_rfc3339();
        r.prompt_bytes = self.prompt_bytes.swap(0, Ordering::Relaxed);
        self.record(r, next)?;
        Ok(())
    }

    /// Turns an agent error into the stage's event (or an interruption).
    fn failed(&mut self, mut r: StageResult, e: fabrik_agent::Error) -> Step {
        let event = match e {
            fabrik_agent::Error::Cancelled { .. } => return Err(Stop::Interrupted),
            fabrik_agent::Error::Unavailable { .. } => Event::Unavailable,
            _ => Event::StageFailed,
        };
        let msg = match &e {
            fabrik_agent::Error::Unavailable { hint, .. } if !hint.is_empty() => {
                format!("{e} (hint: {hint})")
            }
            _ => e.to_string(),
        };
        self.p.observer.log(Level::Warn, &msg);
        r.status = StageStatus::Fail;
        r.error = Some(msg.clone());
        self.state.error = Some(msg);
        self.end(r, "STOP (stage failed)")?;
        Ok(event)
    }

    fn absorb(&mut self, r: &mut StageResult, resp: &Response, agent: &str, slot: &str) {
        r.usage += &resp.usage;
        if let Some(id) = &resp.session_id {
            if let Some(s) = r.session.as_mut() {
                s.backend_id = Some(id.clone());
            }
            self.state
                .set_session(&format!("{slot}:{agent}"), id.clone());
        }
    }

    pub(crate) fn discovery(&mut self) -> Step {
        let names = self.p.config.stages.discovery.agents.clone();
        let mut r = self.begin(Stage::Discovery, &names.join(", "), "s1", 1)?;
        let prompt = self.prompts.discovery(&self.state.task);
        let this = &*self;
        // Concurrent: the stage takes as long as the slowest agent, not the sum.
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let prompt = prompt.clone();
                    s.spawn(move || {
                        let c = Call {
                            seat: i + 1,
                            ..Call::new("discovery", n, prompt, 1)
                        };
                        this.call(&c)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| "agent thread panicked".to_owned()))
                .collect()
        });
        let mut merged = String::from("# Discovery\n\n");
        let mut ok = 0;
        let mut first_err = None;
        for (name, res) in names.iter().zip(results) {
            let model = self
                .p
                .config
                .agents
                .get(name)
                .and_then(|a| a.model.clone())
                .unwrap_or_default();
            match res {
                Ok(Ok(resp)) => {
                    ok += 1;
                    self.absorb(&mut r, &resp, name, "s1");
                    merged.push_str(&format!("## {name} ({model})\n\n{}\n\n", resp.text.trim()));
                }
                Ok(Err(e)) => {
                    merged.push_str(&format!("## {name} ({model})\n\n(failed: {e})\n\n"));
                    if matches!(
                        e,
                        fabrik_agent::Error::Cancelled { .. }
                            | fabrik_agent::Error::Unavailable { .. }
                    ) || first_err.is_none()
                    {
                        first_err = Some(e);
                    }
                }
                Err(msg) => merged.push_str(&format!("## {name}\n\n(failed: {msg})\n\n")),
            }
        }
        self.files
            .write("discovery.md", self.p.redactor.redact(&merged).as_bytes())?;
        r.output_path = Some("discovery.md".into());
        match first_err {
            Some(
                e @ (fabrik_agent::Error::Cancelled { .. }
                | fabrik_agent::Error::Unavailable { .. }),
            ) => self.failed(r, e),
            Some(e) if ok == 0 => self.failed(r, e),
            Some(e) => {
                self.p.observer.log(
                    Level::Warn,
                    &format!(
                        "discovery continues with {ok} of {} agents: {e}",
                        names.len()
                    ),
                );
                self.end(r, "planning")?;
                Ok(Event::Succeeded)
            }
            None => {
                self.end(r, "planning")?;
                Ok(Event::Succeeded)
            }
        }
    }

    pub(crate) fn planning(&mut self) -> Step {
        let planner = self.p.config.stages.planning.agent().to_owned();
        let reviewers = self.p.config.stages.planning.reviewers.clone();
        let max_revisions = self.p.config.stages.planning.max_revisions;
        let mut r = self.begin(Stage::Planning, &planner, "s1", 1)?;
        let discovery = std::fs::read_to_string(self.files.dir.join("discovery.md")).ok();
        let mut feedback: Vec<String> = Vec::new();
        for revision in 0..=max_revisions {
            let prompt = self
                .prompts
                .planning(&self.state.task, discovery.as_deref(), &feedback);
            let c = Call::new("planning", &planner, prompt, revision + 1);
            let plan = match self.call(&c) {
                Ok(resp) => {
                    self.absorb(&mut r, &resp, &planner, "s1");
                    resp.text
                }
                Err(e) => return self.failed(r, e),
            };
            let plan = match self.contract_check(
                plan,
                &planner,
                discovery.as_deref(),
                revision + 1,
                &mut r,
            ) {
                Ok(Ok(plan)) => plan,
                Ok(Err(errors)) => return self.plan_failed(r, &errors),
                Err(e) => return self.failed(r, e),
            };
            feedback.clear();
            for reviewer in &reviewers {
                let prompt = self.prompts.review(&self.state.task, &plan);
                match self.verdict_call("review", reviewer, prompt, revision + 1, &mut r) {
                    Ok(Some(v)) if v.approved => {}
                    Ok(Some(v)) => {
                        feedback.extend(v.issues.iter().map(prompts::issue_line));
                        if v.issues.is_empty() {
                            feedback.push(format!("{reviewer}: {}", v.summary));
                        }
                    }
                    Ok(None) => return self.no_verdict(r, reviewer),
                    Err(e) => return self.failed(r, e),
                }
            }
            if feedback.is_empty() {
                let sha = fabrik_core::durable::sha256_hex(plan.as_bytes());
                self.files.write("plan.md", plan.as_bytes())?;
                self.state.plan_sha256 = Some(sha);
                r.output_path = Some("plan.md".into());
                self.end(r, "execution")?;
                return Ok(Event::Succeeded);
            }
            self.p.observer.log(
                Level::Info,
                &format!("plan revision {} rejected by review", revision + 1),
            );
        }
        let msg = format!(
            "the plan was not accepted after {} revision(s): {}",
            max_revisions,
            feedback.join("; ")
        );
        r.status = StageStatus::Fail;
        r.error = Some(msg.clone());
        self.state.error = Some(msg);
        self.end(r, "STOP (plan rejected)")?;
        Ok(Event::StageFailed)
    }

    /// Lints and grounds a plan (`[stages.planning] lint`); on errors the planner is asked
    /// once more with the findings. Returns the plan that passes, or the remaining errors.
    fn contract_check(
        &mut self,
        mut plan: String,
        planner: &str,
        discovery: Option<&str>,
        revision: u32,
        r: &mut StageResult,
    ) -> std::result::Result<std::result::Result<String, Vec<String>>, fabrik_agent::Error> {
        if !self.p.config.stages.planning.lint {
            return Ok(if plan.trim().is_empty() {
                Err(vec!["the plan is empty".into()])
            } else {
                Ok(plan)
            });
        }
        let ws = self.workspace();
        for attempt in 1..=2 {
            let checked = plan_check::check(&plan, &ws);
            let _ = self.files.write(
                &format!("plan-lint-{revision}-{attempt}.txt"),
                checked.report.as_bytes(),
            );
            if checked.errors.is_empty() {
                return Ok(Ok(plan));
            }
            if attempt == 2 {
                return Ok(Err(checked.errors));
            }
            let n = checked.errors.len();
            self.p.observer.log(
                Level::Warn,
                &format!(
                    "the plan fails the contract ({n} error(s)); asking the planner once more"
                ),
            );
            let prompt = self
                .prompts
                .planning(&self.state.task, discovery, &checked.errors);
            let c = Call {
                attempt: 2,
                ..Call::new("planning", planner, prompt, revision)
            };
            let resp = self.call(&c)?;
            self.absorb(r, &resp, planner, "s1");
            plan = resp.text;
        }
        Ok(Ok(plan))
    }

    fn plan_failed(&mut self, mut r: StageResult, errors: &[String]) -> Step {
        let shown: Vec<&str> = errors.iter().take(8).map(String::as_str).collect();
        let more = errors.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        let msg = format!(
            "the plan fails the contract after a re-ask: {}{more}",
            shown.join("; ")
        );
        r.status = StageStatus::Fail;
        r.error = Some(msg.clone());
        self.state.error = Some(msg);
        self.end(r, "STOP (plan fails lint)")?;
        Ok(Event::StageFailed)
    }

    /// A call that must end in a JSON verdict: one re-ask when unparseable.
    fn verdict_call(
        &mut self,
        role: &'static str,
        agent: &str,
        prompt: String,
        iteration: u32,
        r: &mut StageResult,
    ) -> std::result::Result<Option<Verdict>, fabrik_agent::Error> {
        let mut prompt = prompt;
        for attempt in 1..=2 {
            let c = Call {
                attempt,
                ..Call::new(role, agent, prompt.clone(), iteration)
            };
            let resp = self.call(&c)?;
            self.absorb(r, &resp, agent, c.slot);
            if let Some(v) = verdict::parse(&resp.text) {
                return Ok(Some(v));
            }
            self.p.observer.log(
                Level::Warn,
                &format!("agent `{agent}` gave no parseable JSON verdict (attempt {attempt})"),
            );
            prompt = self.prompts.reask(&prompt);
        }
        Ok(None)
    }

    fn no_verdict(&mut self, mut r: StageResult, agent: &str) -> Step {
        let msg =
            format!("agent `{agent}` produced unusable output: no JSON verdict after a re-ask");
        r.status = StageStatus::Fail;
        r.error = Some(msg.clone());
        self.state.error = Some(msg);
        self.end(r, "STOP (no verdict)")?;
        Ok(Event::StageFailed)
    }

    /// The frozen plan, verified against its sha256: nobody edits a frozen plan.
    fn frozen_plan(&self) -> std::result::Result<Option<String>, String> {
        let Some(sha) = &self.state.plan_sha256 else {
            return Ok(None);
        };
        let path = self.files.dir.join("plan.md");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the frozen plan `{}`: {e}", path.display()))?;
        let now = fabrik_core::durable::sha256_hex(text.as_bytes());
        if &now != sha {
            return Err(format!(
                "the frozen plan `{}` was changed after it was frozen (sha256 {} expected, {now} found); a frozen plan is never edited: start a new run with `--plan`",
                path.display(),
                &sha[..12.min(sha.len())]
            ));
        }
        Ok(Some(text))
    }

    fn plan_tampered(&mut self, mut r: StageResult, msg: String) -> Step {
        r.status = StageStatus::Fail;
        r.error = Some(msg.clone());
        self.state.error = Some(msg);
        self.end(r, "STOP (frozen plan changed)")?;
        Ok(Event::StageFailed)
    }

    pub(crate) fn execution(&mut self) -> Step {
        let iteration = self.state.iteration + 1;
        let agent = self.p.config.stages.execution.agent().to_owned();
        let ws = self.workspace();
        let id = self.state.run_id.clone();
        let worktree = self.state.workspace.mode == WorkspaceKind::Worktree;
        let mut r = self.begin(Stage::Execution, &agent, "s2", iteration)?;
        let resumed = self.resumed_into(Phase::Execution);
        if worktree && resumed {
            if let Some(sha) = workspace::head_is_commit_of(&ws, &id, Stage::Execution, iteration) {
                // The commit landed before a crash; adopt it rather than build twice.
                self.p.observer.log(
                    Level::Info,
                    &format!(
                        "adopting commit {} of an interrupted execution",
                        &sha[..sha.len().min(12)]
                    ),
                );
                r.output_path = Some(format!("commit {sha}"));
                self.end(r, "pre-flight gates")?;
                return Ok(Event::Succeeded);
            }
            workspace::discard_uncommitted(&ws)?;
        } else if !worktree
            && self.state.workspace.checkpoint.is_none()
            && self.state.workspace.base_commit.is_some()
        {
            self.state.workspace.checkpoint = Some(workspace::checkpoint(&ws)?);
            self.save()?;
        }
        if self.p.config.gates.before_execution {
            let gates = self.run_gates()?;
            if gates.iter().any(|g| !g.status.is_ok()) {
                r.gates = gates;
                r.status = StageStatus::Fail;
                r.error = Some("a pre-execution gate failed".into());
                self.state.error = r.error.clone();
                self.end(r, "STOP (gate failed)")?;
                return Ok(Event::GateFailed);
            }
        }
        let plan = match self.frozen_plan() {
            Ok(p) => p,
            Err(msg) => return self.plan_tampered(r, msg),
        };
        let prompt = self.prompts.execution(
            &self.state.task,
            plan.as_deref(),
            &self.state.open_issues,
            iteration,
        );
        let c = Call::new("execution", &agent, prompt, iteration);
        let result = self.call(&c);
        // The builder changed the tree (maybe half-way, if it failed), in place or not.
        self.tree_changed();
        let resp = match result {
            Ok(resp) => resp,
            Err(e) => return self.failed(r, e),
        };
        self.absorb(&mut r, &resp, &agent, "s2");
        if worktree {
            let summary = self
                .state
                .task
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect::<String>();
            let identity = self.needs_identity();
            if let Some(sha) =
                workspace::commit(&ws, &id, Stage::Execution, iteration, &summary, identity)?
            {
                r.output_path = Some(format!("commit {sha}"));
            }
            self.tree_changed();
        }
        self.end(r, "pre-flight gates")?;
        Ok(Event::Succeeded)
    }

    /// What diff-based gates compare against: the base commit, or, in place with
    /// `--allow-dirty`, the checkpoint's snapshot of the user's uncommitted edits, so the
    /// builder is not blamed for changes that were there before the run.
    fn gate_base(&self) -> Option<String> {
        let ws = &self.state.workspace;
        ws.checkpoint
            .as_ref()
            .and_then(|c| c.stash.clone())
            .or_else(|| ws.base_commit.clone())
    }

    fn run_gates(&mut self) -> std::result::Result<Vec<GateResult>, Stop> {
        let ws = self.workspace();
        let changed = self.changed_files();
        let base = self.gate_base();
        let state_dir = self
            .files
            .dir
            .parent()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf);
        let cx = fabrik_gates::GateContext {
            base: base.as_deref(),
            state_dir: state_dir.as_deref(),
            workspace: &ws,
            changed_files: &changed,
            cancel: &self.p.cancel,
            grace: self.p.config.pipeline.grace,
            redactor: &self.p.redactor,
        };
        self.p.observer.log(
            Level::Debug,
            &format!(
                "running {} gate(s)",
                self.p.config.gates.command.len() + self.p.config.gates.builtin.len()
            ),
        );
        let results = fabrik_gates::run_all(&self.p.config.gates, &cx);
        // A command gate may rewrite files (a formatter): what changed must be asked again.
        if !self.p.config.gates.command.is_empty() {
            self.tree_changed();
        }
        let mut results = results.map_err(|_| Stop::Interrupted)?;
        // `scope` needs the frozen plan, which only the pipeline has; it runs here rather
        // than in fabrik-gates so that crate does not depend on its sibling fabrik-plan.
        let wants_scope = self.p.config.gates.builtin.iter().any(|b| b == "scope");
        if let (true, Some(base)) = (wants_scope, self.gate_base()) {
            match self.frozen_plan() {
                Ok(Some(plan)) => {
                    let origin = self.state.plan_source.as_deref().map(std::path::Path::new);
                    results.push(plan_check::scope_gate(&plan, origin, &ws, &base));
                }
                Ok(None) => {}
                Err(msg) => results.push(
                    GateResult::new("scope", "fabrik scope --plan plan.md").failed(None, msg),
                ),
            }
        }
        Ok(results)
    }

    pub(crate) fn pre_verify(&mut self) -> Step {
        let iteration = self.state.iteration + 1;
        let mut r = self.begin(Stage::PreVerify, "", "", iteration)?;
        let gates = self.run_gates()?;
        for g in &gates {
            let data = serde_json::to_value(g).unwrap_or_default();
            self.event(
                EventKind::GateResult,
                Some(Stage::PreVerify),
                Some(iteration),
                data,
            )?;
        }
        let name = format!("gates-{iteration}.json");
        self.files.write(
            &name,
            &serde_json::to_vec_pretty(&gates).unwrap_or_default(),
        )?;
        r.output_path = Some(name);
        let failed: Vec<String> = gates
            .iter()
            .filter(|g| !g.status.is_ok())
            .map(|g| format!("{}: {}", g.name, g.status.label()))
            .collect();
        r.gates = gates;
        if failed.is_empty() {
            self.end(r, "verification")?;
            Ok(Event::GatesPassed)
        } else {
            let msg = format!("pre-flight gate failed: {}", failed.join(", "));
            r.status = StageStatus::Fail;
            r.error = Some(msg.clone());
            self.state.error = Some(msg);
            self.end(r, "STOP (gate failed)")?;
            Ok(Event::GateFailed)
        }
    }

    pub(crate) fn verification(&mut self) -> Step {
        let iteration = self.state.iteration + 1;
        let max = self.state.max_verify;
        let agent = self.p.config.stages.verification.agent().to_owned();
        let mut r = self.begin(Stage::Verification, &agent, "s3", iteration)?;
        let ws = self.workspace();
        let untracked = self.untracked_files();
        let diff = workspace::diff(
            &ws,
            self.state.workspace.base_commit.as_deref(),
            DIFF_BUDGET,
            &untracked,
        );
        let gates = self
            .state
            .stages
            .iter()
            .rev()
            .find(|s| s.stage == Stage::PreVerify)
            .map(|s| s.gates.clone())
            .unwrap_or_default();
        let plan = match self.frozen_plan() {
            Ok(p) => p,
            Err(msg) => return self.plan_tampered(r, msg),
        };
        let prompt = self
            .prompts
            .verification(&self.state.task, plan.as_deref(), &diff, &gates);
        let verdict = match self.verdict_call("verification", &agent, prompt, iteration, &mut r) {
            Ok(Some(v)) => v,
            Ok(None) => {
                self.state.iteration = iteration;
                return self.no_verdict(r, &agent);
            }
            Err(e) => return self.failed(r, e),
        };
        self.state.iteration = iteration;
        let name = format!("verdict-{iteration}.json");
        self.files.write(
            &name,
            &serde_json::to_vec_pretty(&verdict).unwrap_or_default(),
        )?;
        r.output_path = Some(name);
        self.event(
            EventKind::Verdict,
            Some(Stage::Verification),
            Some(iteration),
            serde_json::to_value(&verdict).unwrap_or_default(),
        )?;
        if verdict.approved {
            self.state.open_issues.clear();
            self.end(r, "ship")?;
            return Ok(Event::Approved);
        }
        let mut issues = verdict.issues.clone();
        if issues.is_empty() {
            issues.push(Issue {
                severity: Severity::Blocker,
                file: None,
                line: None,
                message: verdict.summary.clone(),
            });
        }
        self.state.open_issues = issues;
        r.status = StageStatus::Fail;
        r.error = Some(format!("rejected: {}", verdict.summary));
        let next = if iteration < max {
            "execution (with the verifier's issues)".to_owned()
        } else {
            format!("STOP (rejected {iteration}/{max})")
        };
        if iteration >= max {
            self.state.error = Some(format!(
                "verification rejected the work {iteration} time(s)"
            ));
        }
        self.end(r, &next)?;
        Ok(Event::Rejected { iteration, max })
    }

    pub(crate) fn ship(&mut self) -> Step {
        let agent = self.p.config.stages.ship.agent().to_owned();
        let ws = self.workspace();
        let id = self.state.run_id.clone();
        let worktree = self.state.workspace.mode == WorkspaceKind::Worktree;
        let iteration = self.state.iteration.max(1);
        let mut r = self.begin(Stage::Ship, &agent, "s4", iteration)?;
        if worktree && self.resumed_into(Phase::Ship) {
            if let Some(sha) = workspace::head_is_commit_of(&ws, &id, Stage::Ship, iteration) {
                r.output_path = Some(format!("commit {sha}"));
                self.end(r, "DONE")?;
                return Ok(Event::Succeeded);
            }
            workspace::discard_uncommitted(&ws)?;
        }
        let changed = self.changed_files();
        let prompt = self.prompts.ship(&self.state.task, &changed);
        let c = Call::new("ship", &agent, prompt, iteration);
        let result = self.call(&c);
        self.tree_changed();
        let resp = match result {
            Ok(resp) => resp,
            Err(e) => return self.failed(r, e),
        };
        self.absorb(&mut r, &resp, &agent, "s4");
        let identity = worktree && self.needs_identity();
        if worktree
            && let Some(sha) =
                workspace::commit(&ws, &id, Stage::Ship, iteration, "docs", identity)?
        {
            r.output_path = Some(format!("commit {sha}"));
        }
        self.tree_changed();
        self.end(r, "DONE")?;
        Ok(Event::Succeeded)
    }
}
