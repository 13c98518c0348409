//! `fabrik stage STAGE PROMPT`: one stage's agent, alone, in the current directory.

use std::path::Path;

use fabrik_agent::{Autonomy, Request, SessionPolicy, Transcript};
use fabrik_core::contract::{SessionRef, StageResult, StageStatus};
use fabrik_core::{RunId, Stage};

use crate::error::{Error, Result, io};
use crate::runner::Pipeline;
use crate::{git, verdict};

/// What a single stage produced.
#[derive(Debug)]
pub struct SingleStage {
    /// The stage's result (verification: pass when approved).
    pub result: StageResult,
    /// The agent's final text.
    pub text: String,
}

impl Pipeline<'_> {
    /// Runs `stage`'s (first) agent once with `prompt` in `cwd`. Transcripts go to
    /// `.fabrik/stages/<id>/` at the repository root (or the directory, outside git).
    ///
    /// # Errors
    /// [`Error::Agent`] for every agent failure (the binary maps it to 1, 3 or 130).
    pub fn single_stage(&self, stage: Stage, prompt: &str, cwd: &Path) -> Result<SingleStage> {
        if prompt.trim().is_empty() {
            return Err(Error::EmptyTask);
        }
        let name = self
            .stage_agents(stage)
            .into_iter()
            .next()
            .unwrap_or_default();
        let agents = self.agents_for(&[stage])?;
        let agent = agents.get(&name).ok_or_else(|| {
            Error::Agent(fabrik_agent::Error::Unavailable {
                agent: name.clone(),
                reason: "no agent configured for this stage".into(),
                hint: format!("set [stages.{stage}] agent in fabrik.toml"),
            })
        })?;
        let root = git::toplevel(cwd).unwrap_or_else(|| cwd.to_path_buf());
        let id = RunId::generate();
        let dir = root.join(".fabrik").join("stages").join(id.as_str());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let transcript = Transcript::in_dir(&dir, stage.as_str());
        let (slot, autonomy) = match stage {
            Stage::Discovery | Stage::Planning => ("s1", Autonomy::ReadOnly),
            Stage::Execution | Stage::PreVerify => ("s2", Autonomy::Write),
            Stage::Verification => ("s3", Autonomy::ReadOnly),
            Stage::Ship => ("s4", Autonomy::Write),
        };
        let started_at = fabrik_core::time::now_rfc3339();
        let run_id = id.to_string();
        let req = Request {
            role: stage.as_str(),
            prompt,
            workspace: cwd,
            run_id: &run_id,
            slot,
            session: SessionPolicy::New,
            iteration: 1,
            attempt: 1,
            autonomy,
            timeout: self
                .config
                .agents
                .get(&name)
                .and_then(|a| a.timeout)
                .unwrap_or(self.config.stages.execution.timeout),
            grace: self.config.pipeline.grace,
            expect_json: stage == Stage::Verification,
            transcript: &transcript,
            cancel: &self.cancel,
            redactor: &self.redactor,
        };
        let resp = agent.call(&req)?;
        let status = match stage {
            Stage::Verification => match verdict::parse(&resp.text) {
                Some(v) if v.approved => StageStatus::Pass,
                _ => StageStatus::Fail,
            },
            _ => StageStatus::Pass,
        };
        let result = StageResult {
            stage,
            status,
            started_at,
            ended_at: fabrik_core::time::now_rfc3339(),
            session: Some(SessionRef {
                slot: slot.into(),
                backend_id: resp.session_id.clone(),
            }),
            agent: Some(name.clone()),
            model: agent.model().map(str::to_owned),
            iteration: 1,
            output_path: Some(transcript.stdout.to_string_lossy().into_owned()),
            error: None,
            usage: resp.usage.clone(),
            prompt_bytes: prompt.len() as u64,
            gates: Vec::new(),
        };
        Ok(SingleStage {
            result,
            text: resp.text,
        })
    }
}
