//! `fabrik run [OPTIONS] TASK` (and the bare shorthand).

use fabrik_core::contract::{Metrics, PIPELINE_RESULT_VERSION, PipelineResult, RunStatus};
use fabrik_core::{Risk, RunId, Stage, exit};
use fabrik_pipeline::{Pipeline, Route, RunOptions, RunState};

use crate::cli::{RiskArg, RunArgs, StageArg};
use crate::commands::Ctx;
use crate::output::{HumanObserver, footer, header};
use crate::{CliError, Outcome};

pub(crate) fn run(args: &RunArgs, ctx: &Ctx<'_>) -> Outcome {
    if args.task.trim().is_empty() {
        return Err(fabrik_pipeline::Error::EmptyTask.into());
    }
    if (args.allow_no_vcs || args.allow_dirty) && !args.in_place {
        return Err(CliError::Usage(
            "--allow-dirty and --allow-no-vcs apply to --in-place runs only".into(),
        ));
    }
    let root = ctx.root();
    let config = ctx.config(&root)?;
    let observer = HumanObserver {
        printer: ctx.printer,
    };
    let pipeline = Pipeline::new(&config, &observer, ctx.cancel.clone())
        .with_record(args.record.as_ref().map(|d| ctx.cwd.join(d)));
    let opts = RunOptions {
        task: args.task.clone(),
        cwd: ctx.cwd.clone(),
        risk: args.risk.map(risk),
        start_stage: args.stage.map(stage),
        plan_file: args.plan.as_ref().map(|p| ctx.cwd.join(p)),
        in_place: args.in_place
            || config.pipeline.workspace == fabrik_config::WorkspaceMode::InPlace,
        allow_dirty: args.allow_dirty,
        allow_no_vcs: args.allow_no_vcs,
        max_verify: args.max_verify,
        no_wait: args.no_wait,
    };
    let route = pipeline.route(&opts)?;
    if args.dry_run {
        return dry_run(&pipeline, &config, &opts, &route, ctx);
    }
    let state = pipeline.run(&opts)?;
    finish(ctx, &state)
}

/// Prints the result (human or JSON) and returns the run's exit code.
pub(crate) fn finish(ctx: &Ctx<'_>, state: &RunState) -> Outcome {
    let result = state.to_result();
    if ctx.printer.json {
        ctx.printer.json(&result)?;
    } else {
        for l in footer(&result) {
            ctx.printer.line(&l);
        }
    }
    Ok(result.exit_code)
}

fn start_label(route: &Route) -> String {
    crate::output::phase_label(route.start)
}

fn dry_run(
    pipeline: &Pipeline<'_>,
    config: &fabrik_config::Config,
    opts: &RunOptions,
    route: &Route,
    ctx: &Ctx<'_>,
) -> Outcome {
    let id = RunId::generate();
    let workspace = if opts.in_place {
        "in place".to_owned()
    } else {
        fabrik_pipeline::workspace::worktree_path(&route.root, &id)
            .display()
            .to_string()
    };
    if ctx.printer.json {
        let result = PipelineResult {
            version: PIPELINE_RESULT_VERSION.to_owned(),
            run_id: id,
            task: opts.task.clone(),
            risk: route.assessment.risk,
            risk_reasons: route.assessment.reasons.clone(),
            status: RunStatus::DryRun,
            exit_code: exit::SUCCESS,
            workspace,
            branch: None,
            plan_sha256: None,
            stages: Vec::new(),
            metrics: Metrics {
                stages_skipped: u32::try_from(route.stages.iter().filter(|(_, on)| !on).count())
                    .unwrap_or(0),
                ..Metrics::default()
            },
        };
        ctx.printer.json(&result)?;
        return Ok(exit::SUCCESS);
    }
    for l in header(
        &opts.task,
        id.as_str(),
        &workspace,
        route.assessment.risk.label(),
        &route.assessment.reasons,
        &start_label(route),
    ) {
        ctx.printer.line(&l);
    }
    let nums: Vec<String> = route
        .stages
        .iter()
        .filter(|(_, on)| *on)
        .filter_map(|(s, _)| s.number())
        .map(|n| n.to_string())
        .collect();
    ctx.printer.line(&format!(
        "DRY-RUN: Would execute stages {}",
        nums.join(", ")
    ));
    for (s, on) in &route.stages {
        if !on {
            continue;
        }
        let describe = |names: &[String]| -> String {
            let list: Vec<String> = names
                .iter()
                .map(|a| {
                    let model = config.agents.get(a).and_then(|c| c.model.clone());
                    format!("{a} ({})", model.as_deref().unwrap_or("default model"))
                })
                .collect();
            list.join(", ")
        };
        let mut agents = describe(&pipeline.stage_agents(*s));
        if *s == Stage::Planning {
            let st = &config.stages.planning;
            agents = describe(&st.agents);
            if !st.reviewers.is_empty() {
                agents.push_str(&format!(" -> review: {}", describe(&st.reviewers)));
            }
        }
        let label = crate::output::stage_label(*s);
        if *s == Stage::Verification {
            ctx.printer
                .line(&format!("  PRE-FLIGHT GATES: {}", gates_summary(config)));
        }
        ctx.printer.line(&format!("  {label}: {agents}"));
    }
    ctx.printer.line("");
    ctx.printer.line("RESULT: DRY-RUN SUCCESS");
    Ok(exit::SUCCESS)
}

fn gates_summary(config: &fabrik_config::Config) -> String {
    let mut g: Vec<String> = config
        .gates
        .command
        .iter()
        .map(|c| format!("{} (`{}`)", c.name, c.run))
        .collect();
    g.extend(
        config
            .gates
            .builtin
            .iter()
            .map(|b| format!("{b} (built-in)")),
    );
    if g.is_empty() {
        "none configured".to_owned()
    } else {
        g.join(", ")
    }
}

fn risk(r: RiskArg) -> Risk {
    match r {
        RiskArg::Low => Risk::Low,
        RiskArg::Medium => Risk::Medium,
        RiskArg::High => Risk::High,
    }
}

pub(crate) fn stage(s: StageArg) -> Stage {
    match s {
        StageArg::Discovery => Stage::Discovery,
        StageArg::Planning => Stage::Planning,
        StageArg::Execution => Stage::Execution,
        StageArg::Verification => Stage::Verification,
        StageArg::Ship => Stage::Ship,
    }
}
