//! `fabrik plan template` prints the Stage-2 plan contract; `fabrik plan lint PLAN.md`
//! checks a plan against it and, with `--repo`, against the repository (grounding).
//! Exit 0 clean, 1 error-level findings; errors (unreadable plan, bad repo) go to the caller,
//! which maps them to exit 3.

use std::io::Write;
use std::path::{Path, PathBuf};

use fabrik_plan::{Error, Format, GroundOptions, LintOptions, ParseOptions, Plan};

/// Exit code of a lint-style command without error-level findings.
pub(crate) const CLEAN: u8 = 0;
/// Exit code of a lint-style command with at least one error-level finding.
pub(crate) const FINDINGS: u8 = 1;

/// `fabrik plan ...`
#[derive(clap::Subcommand, Debug)]
pub(crate) enum PlanCommand {
    /// Print the Stage-2 plan contract: the eight sections, the manifest format and the
    /// rules the lint enforces (what the planner agent reads).
    Template,
    /// Lint a plan against the contract; with --repo, also check its claims against the
    /// repository.
    ///
    /// Exit codes: 0 no error-level findings, 1 findings at error level, 3 the plan or the
    /// repository could not be read.
    Lint(LintArgs),
}

/// Arguments of `fabrik plan lint`.
#[derive(clap::Args, Debug)]
pub(crate) struct LintArgs {
    /// The plan (markdown).
    #[arg(value_name = "PLAN")]
    pub(crate) plan: PathBuf,
    /// Check grounding against this repository: claimed paths and symbols exist, CREATE
    /// targets do not, `path:line` references are in range and near their symbol.
    #[arg(long, value_name = "DIR")]
    pub(crate) repo: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
    /// Fail plans whose manifest lists more files than this.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub(crate) max_manifest_rows: usize,
}

/// How findings are printed (`plan lint`, `scope`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    /// rustc-like diagnostics with the offending line.
    #[default]
    Text,
    /// A JSON array of findings (rule, severity, line, column, message, hint).
    Json,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
            OutputFormat::Sarif => Format::Sarif,
        }
    }
}

/// Runs `fabrik plan ...`, writing to `out`; returns the exit code.
pub(crate) fn run(cmd: &PlanCommand, cwd: &Path, out: &mut dyn Write) -> Result<u8, Error> {
    match cmd {
        PlanCommand::Template => {
            out.write_all(fabrik_plan::CONTRACT.as_bytes())
                .map_err(Error::Write)?;
            Ok(CLEAN)
        }
        PlanCommand::Lint(args) => lint(args, cwd, out),
    }
}

fn lint(args: &LintArgs, cwd: &Path, out: &mut dyn Write) -> Result<u8, Error> {
    let plan = Plan::load(&resolve(cwd, &args.plan), &ParseOptions::default())?;
    let opts = LintOptions {
        max_manifest_rows: args.max_manifest_rows,
        ..LintOptions::default()
    };
    let mut findings = fabrik_plan::lint(&plan, &opts);
    if let Some(repo) = &args.repo {
        findings.extend(fabrik_plan::ground(
            &plan,
            &resolve(cwd, repo),
            &GroundOptions::default(),
        )?);
        fabrik_plan::sort_findings(&mut findings);
    }
    let shown = args.plan.display().to_string();
    write_findings(out, &findings, &plan, &shown, args.format)
}

/// Renders findings to `out` and returns the lint-style exit code.
pub(crate) fn write_findings(
    out: &mut dyn Write,
    findings: &[fabrik_plan::Finding],
    plan: &Plan,
    shown: &str,
    format: OutputFormat,
) -> Result<u8, Error> {
    let text = fabrik_plan::render(findings, Some(plan), shown, format.into());
    out.write_all(text.as_bytes()).map_err(Error::Write)?;
    Ok(if fabrik_plan::has_errors(findings) {
        FINDINGS
    } else {
        CLEAN
    })
}

/// `path` as given when absolute, else under `cwd`.
pub(crate) fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}
