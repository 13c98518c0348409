//! `fabrik stage STAGE PROMPT`: one stage's agent alone.

use fabrik_core::contract::StageStatus;
use fabrik_core::exit;
use fabrik_pipeline::Pipeline;

use crate::Outcome;
use crate::cli::StageArgs;
use crate::commands::Ctx;
use crate::output::HumanObserver;

pub(crate) fn run(args: &StageArgs, ctx: &Ctx<'_>) -> Outcome {
    let root = ctx.root();
    let config = ctx.config(&root)?;
    let observer = HumanObserver {
        printer: ctx.printer,
    };
    let pipeline = Pipeline::new(&config, &observer, ctx.cancel.clone());
    let stage = crate::commands::run::stage(args.stage);
    let out = pipeline.single_stage(stage, &args.prompt, &ctx.cwd)?;
    if ctx.printer.json {
        ctx.printer.json(&out.result)?;
    } else {
        ctx.printer.line(out.text.trim_end());
    }
    Ok(if out.result.status == StageStatus::Fail {
        exit::STAGE_FAILURE
    } else {
        exit::SUCCESS
    })
}
