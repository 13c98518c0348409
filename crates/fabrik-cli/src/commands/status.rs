//! `fabrik status [RUN_ID]`: list runs, or show one.

use fabrik_core::contract::{Issue, StageStatus};
use fabrik_core::{RunId, exit};
use fabrik_pipeline::machine::Phase;
use fabrik_pipeline::state::{DriverStatus, RunState};
use fabrik_pipeline::{Error as PError, Store};

use crate::cli::StatusArgs;
use crate::commands::Ctx;
use crate::output::{footer, stage_line};
use crate::{CliError, Outcome};

pub(crate) fn run(args: &StatusArgs, ctx: &Ctx<'_>) -> Outcome {
    let store = Store::new(&ctx.root());
    match &args.run_id {
        None => list(&store, ctx),
        Some(id) => {
            let id = RunId::parse(id)
                .ok_or_else(|| CliError::Usage(format!("`{id}` is not a run id")))?;
            if args.mark_failed {
                return mark_failed(&store, &id, ctx);
            }
            show(&store.load(&id)?, ctx)
        }
    }
}

fn list(store: &Store, ctx: &Ctx<'_>) -> Outcome {
    let ids = store.list()?;
    if ctx.printer.json {
        let results: Vec<_> = ids
            .iter()
            .filter_map(|id| store.load(id).ok())
            .map(|s| s.to_result())
            .collect();
        ctx.printer.json(&results)?;
        return Ok(exit::SUCCESS);
    }
    if ids.is_empty() {
        ctx.printer
            .line("no runs yet (start one with `fabrik \"<task>\"`)");
        return Ok(exit::SUCCESS);
    }
    ctx.printer.line(&format!(
        "{:<22} {:<12} {:<7} {:<13} TASK",
        "RUN", "STATUS", "RISK", "PHASE"
    ));
    for id in ids {
        let line = match store.load(&id) {
            Ok(s) => format!(
                "{:<22} {:<12} {:<7} {:<13} {}",
                id.as_str(),
                status_word(&s),
                s.risk.to_string(),
                s.phase.label(),
                s.task
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect::<String>()
            ),
            Err(e) => format!("{:<22} {:<12} {e}", id.as_str(), "UNREADABLE"),
        };
        ctx.printer.line(&line);
    }
    Ok(exit::SUCCESS)
}

fn status_word(s: &RunState) -> &'static str {
    match (s.status, s.phase) {
        (_, Phase::Done) => "success",
        (_, Phase::Failed(_)) => "failed",
        (DriverStatus::Interrupted, _) => "interrupted",
        // No driver finished it: either running now or killed; resume continues either way.
        _ => "running",
    }
}

fn show(s: &RunState, ctx: &Ctx<'_>) -> Outcome {
    let r = s.to_result();
    if ctx.printer.json {
        ctx.printer.json(&r)?;
        return Ok(exit::SUCCESS);
    }
    ctx.printer.line(&format!(
        "RUN: {}   STATUS: {}   PHASE: {}",
        r.run_id,
        status_word(s),
        s.phase.label()
    ));
    ctx.printer
        .line(&format!("TASK: {}", s.task.lines().next().unwrap_or("")));
    ctx.printer.line(&format!(
        "RISK: {} ({})",
        s.risk.label(),
        s.risk_reasons.join(", ")
    ));
    ctx.printer.line(&format!(
        "WORKSPACE: {}{}",
        r.workspace,
        r.branch
            .as_ref()
            .map(|b| format!("   BRANCH: {b}"))
            .unwrap_or_default()
    ));
    if let Some(sha) = &s.plan_sha256 {
        ctx.printer.line(&format!("PLAN: frozen, sha256 {sha}"));
    }
    ctx.printer.line("");
    for st in &s.stages {
        let mut line = stage_line(st, s.max_verify);
        let u = &st.usage;
        if st.agent.is_some() {
            let est = if u.estimated { "~" } else { "" };
            // Prompt size: an estimate (4 bytes a token); absent in older runs.
            let prompt = if st.prompt_bytes > 0 {
                format!(" | prompt ~{} tokens", st.prompt_bytes.div_ceil(4))
            } else {
                String::new()
            };
            line.push_str(&format!(
                "   [{} | {est}{} tokens{prompt}]",
                st.agent.as_deref().unwrap_or(""),
                u.total_tokens()
            ));
        }
        // `stage_line` already shows what failed gates said.
        ctx.printer.line(&line);
    }
    if !s.open_issues.is_empty() && !matches!(s.phase, Phase::Done) {
        ctx.printer
            .line("\nOPEN ISSUES (from the last verification):");
        for i in &s.open_issues {
            ctx.printer.line(&format!("- {}", issue(i)));
        }
    }
    if let Some(e) = &s.error {
        ctx.printer.line(&format!("\nERROR: {e}"));
    }
    for l in footer(&r) {
        ctx.printer.line(&l);
    }
    let failed_stages = s
        .stages
        .iter()
        .filter(|x| x.status == StageStatus::Fail)
        .count();
    if failed_stages > 0 || s.status != DriverStatus::Finished {
        ctx.printer
            .line(&format!("REPORTS: .fabrik/runs/{}/reports/", r.run_id));
    }
    Ok(exit::SUCCESS)
}

fn issue(i: &Issue) -> String {
    fabrik_pipeline::prompts::issue_line(i)
}

fn mark_failed(store: &Store, id: &RunId, ctx: &Ctx<'_>) -> Outcome {
    match store.load(id) {
        Err(PError::CorruptState { .. }) => {}
        Ok(_) => {
            return Err(CliError::Usage(format!(
                "run `{id}` has a readable state; nothing to mark"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let aside = store.mark_failed(id)?;
    ctx.printer.line(&format!(
        "run {id} recorded as failed; the corrupt state is kept at {}",
        aside.display()
    ));
    Ok(exit::SUCCESS)
}
