//! The plan contract inside a run: lint and grounding of a planner's (or the user's) plan
//! before it is frozen, and the `scope` gate that holds the build to the frozen plan.

use std::path::Path;
use std::time::Instant;

use fabrik_core::contract::GateResult;
use fabrik_plan::{Finding, GroundOptions, LintOptions, ParseOptions, Plan, Severity};

/// Bytes of a findings report kept in a gate's output tail.
const TAIL: usize = 4000;

/// What the contract check found in a plan.
#[derive(Debug)]
pub(crate) struct Checked {
    /// Error-level findings, one line each (fed back to the planner).
    pub(crate) errors: Vec<String>,
    /// The full rendered report (errors and warnings), for the run folder.
    pub(crate) report: String,
}

/// Lints `text` against the contract and grounds it in `repo`.
pub(crate) fn check(text: &str, repo: &Path) -> Checked {
    let plan = match Plan::parse(text, &ParseOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            return Checked {
                errors: vec![e.to_string()],
                report: e.to_string(),
            };
        }
    };
    let mut findings = fabrik_plan::lint(&plan, &LintOptions::default());
    match fabrik_plan::ground(&plan, repo, &GroundOptions::default()) {
        Ok(g) => findings.extend(g),
        Err(e) => {
            return Checked {
                errors: vec![format!("grounding failed: {e}")],
                report: e.to_string(),
            };
        }
    }
    fabrik_plan::sort_findings(&mut findings);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(line)
        .collect();
    Checked {
        errors,
        report: fabrik_plan::render_text(&findings, Some(&plan), "plan.md"),
    }
}

fn line(f: &Finding) -> String {
    let at = f
        .span
        .as_ref()
        .map(|s| format!("line {}: ", s.line))
        .unwrap_or_default();
    format!("[{}] {at}{} (fix: {})", f.rule.id(), f.message, f.hint)
}

/// The `scope` gate: the workspace's diff since `base` against the frozen plan's manifest.
/// `origin` is where the plan was read from, if it was brought with `--plan`: a plan file
/// inside the work tree is not a change to judge.
pub(crate) fn scope_gate(
    plan_text: &str,
    origin: Option<&Path>,
    workspace: &Path,
    base: &str,
) -> GateResult {
    let start = Instant::now();
    let result = GateResult::new(
        "scope",
        format!("fabrik scope --plan plan.md --base {base}"),
    );
    let outcome = Plan::parse(plan_text, &ParseOptions::default())
        .map(|plan| match origin {
            Some(origin) => plan.with_origin(origin.to_path_buf()),
            None => plan,
        })
        .and_then(|plan| fabrik_plan::check_scope(workspace, &plan, base).map(|f| (plan, f)));
    let result = match outcome {
        // Only with `[stages.planning] lint = false` can a frozen plan lack a manifest; there
        // is then nothing to hold the diff to, and the gate says so instead of failing.
        Ok((plan, _)) if plan.manifest().is_empty() => {
            result.skipped("skipped: the frozen plan has no file-impact manifest")
        }
        Ok((plan, findings)) => {
            let report = tail(&fabrik_plan::render_text(&findings, Some(&plan), "plan.md"));
            if fabrik_plan::has_errors(&findings) {
                result.failed(Some(1), report)
            } else {
                GateResult {
                    output_tail: report,
                    ..result
                }
            }
        }
        Err(e) => result.failed(None, e.to_string()),
    };
    result.timed(start)
}

fn tail(s: &str) -> String {
    let mut start = s.len().saturating_sub(TAIL);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_owned()
}
