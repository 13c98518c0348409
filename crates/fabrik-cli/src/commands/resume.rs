//! `fabrik resume RUN_ID`: continue from the last completed step.

use fabrik_core::RunId;
use fabrik_pipeline::Pipeline;

use crate::cli::ResumeArgs;
use crate::commands::Ctx;
use crate::output::HumanObserver;
use crate::{CliError, Outcome};

pub(crate) fn run(args: &ResumeArgs, ctx: &Ctx<'_>) -> Outcome {
    let id = RunId::parse(&args.run_id).ok_or_else(|| {
        CliError::Usage(format!(
            "`{}` is not a run id (see `fabrik status`)",
            args.run_id
        ))
    })?;
    let root = ctx.root();
    let config = ctx.config(&root)?;
    let observer = HumanObserver {
        printer: ctx.printer,
    };
    let pipeline = Pipeline::new(&config, &observer, ctx.cancel.clone())
        .with_record(args.record.as_ref().map(|d| ctx.cwd.join(d)));
    let state = pipeline.resume(&root, &id, args.max_verify, args.no_wait)?;
    crate::commands::run::finish(ctx, &state)
}
