//! `fabrik scope --plan PLAN.md [--base REV]`: compares the working tree's changes since
//! REV (`git diff --name-status -M` plus untracked files) with the plan's file-impact
//! manifest and DO-NOT-TOUCH list. Exit 0 in scope, 1 error-level findings; errors (no
//! repository, unknown REV, unreadable plan) go to the caller, which maps them to exit 3.

use std::io::Write;
use std::path::{Path, PathBuf};

use fabrik_plan::{Error, ParseOptions, Plan};

use crate::commands::plan::{OutputFormat, resolve, write_findings};

/// Arguments of `fabrik scope`.
#[derive(clap::Args, Debug)]
pub(crate) struct ScopeArgs {
    /// The plan whose manifest the changes must match.
    #[arg(long, value_name = "PLAN.md")]
    pub(crate) plan: PathBuf,
    /// The revision to diff the working tree against.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub(crate) base: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
}

/// Runs `fabrik scope` in the repository containing `cwd`, writing to `out`.
pub(crate) fn run(args: &ScopeArgs, cwd: &Path, out: &mut dyn Write) -> Result<u8, Error> {
    let plan = Plan::load(&resolve(cwd, &args.plan), &ParseOptions::default())?;
    let findings = fabrik_plan::check_scope(cwd, &plan, &args.base)?;
    let shown = args.plan.display().to_string();
    write_findings(out, &findings, &plan, &shown, args.format)
}
