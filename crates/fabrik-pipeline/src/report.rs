//! Step reports: the seed's format, one per executed stage, markdown plus a JSON twin.

use std::fmt::Write as _;

use fabrik_core::contract::{GateResult, Issue, StageResult, StageStatus};
use serde::Serialize;

use crate::prompts::issue_line;

/// What a step report says.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// 1-based step number within the run.
    pub step: usize,
    /// PASS or FAIL.
    pub status: String,
    /// Session slot (and backend id).
    pub session: String,
    /// The stage name.
    pub mode: String,
    /// Files changed by the run so far.
    pub changed_files: Vec<String>,
    /// Output tails of the gates.
    pub gate_output: Vec<String>,
    /// Each gate's status.
    pub gates: Vec<(String, String)>,
    /// Verification result (verification steps).
    pub verification: Option<VerificationLine>,
    /// What runs next, or `STOP (<reason>)`.
    pub next: String,
    /// The stage as in the PipelineResult.
    pub stage: StageResult,
}

/// The verification block of a report.
#[derive(Clone, Debug, Serialize)]
pub struct VerificationLine {
    /// PASS / FAIL.
    pub result: String,
    /// Issues, one per line.
    pub issues: Vec<String>,
    /// This iteration.
    pub count: u32,
    /// `max_verify`.
    pub max: u32,
}

impl StepReport {
    /// Builds the report of `stage`.
    #[must_use]
    pub fn new(
        step: usize,
        stage: &StageResult,
        changed: Vec<String>,
        issues: Option<(&[Issue], u32)>,
        next: String,
    ) -> StepReport {
        let session = stage.session.as_ref().map_or_else(
            || "-".to_owned(),
            |s| match &s.backend_id {
                Some(id) => format!("{} ({id})", s.slot),
                None => s.slot.clone(),
            },
        );
        StepReport {
            step,
            status: if stage.status == StageStatus::Fail {
                "FAIL".into()
            } else {
                "PASS".into()
            },
            session,
            mode: stage.stage.to_string(),
            changed_files: changed,
            gate_output: stage
                .gates
                .iter()
                .filter(|g| !g.output_tail.trim().is_empty())
                .map(gate_tail)
                .collect(),
            gates: stage
                .gates
                .iter()
                .map(|g| (g.name.clone(), g.status.label().to_owned()))
                .collect(),
            verification: issues.map(|(issues, max)| VerificationLine {
                result: if stage.status == StageStatus::Pass {
                    "PASS".into()
                } else {
                    "FAIL".into()
                },
                issues: issues.iter().map(issue_line).collect(),
                count: stage.iteration,
                max,
            }),
            next,
            stage: stage.clone(),
        }
    }

    /// The markdown form.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "STEP {} STATUS: {}\nSESSION ID: {}\nMODE: {}\nChanged files:\n",
            self.step, self.status, self.session, self.mode
        );
        list(&mut s, &self.changed_files);
        s.push_str("Gate output:\n");
        if self.gate_output.is_empty() {
            s.push_str("(none)\n");
        }
        for t in &self.gate_output {
            let _ = writeln!(s, "{t}");
        }
        s.push_str("Pre-Flight Gates:\n");
        let gates: Vec<String> = self
            .gates
            .iter()
            .map(|(n, st)| format!("{n}: {st}"))
            .collect();
        list(&mut s, &gates);
        s.push_str("Verification:\n");
        match &self.verification {
            Some(v) => {
                let issues = if v.issues.is_empty() {
                    "none".to_owned()
                } else {
                    v.issues.join("; ")
                };
                let _ = write!(
                    s,
                    "- Result: {}\n- Issues: {issues}\n- Re-verify count: {}/{}\n",
                    v.result, v.count, v.max
                );
            }
            None => s.push_str("- Result: n/a\n"),
        }
        let _ = writeln!(s, "Next:\n- {}", self.next);
        s
    }
}

fn gate_tail(g: &GateResult) -> String {
    let tail: Vec<&str> = g.output_tail.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!("[{}]\n{}", g.name, tail.join("\n"))
}

fn list(s: &mut String, items: &[String]) {
    if items.is_empty() {
        s.push_str("- (none)\n");
    }
    for i in items {
        let _ = writeln!(s, "- {i}");
    }
}
