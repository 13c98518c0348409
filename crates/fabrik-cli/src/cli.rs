//! The command line, defined once with clap derive; `///` comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run AI coding agents through a deterministic, gated pipeline.
///
/// fabrik routes a task by risk, then runs discovery (two agents in parallel), planning (a
/// plan that is reviewed and frozen), execution in an isolated git worktree, pre-flight
/// gates, an independent verifier (fresh session, JSON verdict, at most --max-verify
/// rounds) and ship. Every run is persisted under .fabrik/runs/<id>/ and can be resumed.
#[derive(Debug, Parser)]
#[command(
    name = "fabrik",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Examples:\n  fabrik --dry-run \"Add JWT authentication\"   show the route, run nothing\n  fabrik \"Fix the typo in README\"             run the pipeline (shorthand for `fabrik run`)\n  fabrik status                               list runs\n  fabrik resume <RUN_ID>                      continue after Ctrl-C or a crash\n  fabrik demo                                 the whole pipeline, offline, on a sample repo\n\nExit codes: 0 success, 1 stage failure, 2 verification rejected --max-verify times,\n3 configuration error, 4 pre-flight gate failure, 5 empty task, 130 interrupted."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct GlobalArgs {
    /// Print machine-readable JSON on stdout and nothing else.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Log every step to stderr as `[PIPELINE] <time> <LEVEL>: <message>`.
    #[arg(long, short = 'v', global = true)]
    pub(crate) verbose: bool,
    /// Use this config file instead of <repo>/fabrik.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Run as if started in this directory.
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) cwd: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the pipeline on TASK (also: `fabrik [OPTIONS] TASK`).
    Run(RunArgs),
    /// Run one stage's agent alone and print its final text.
    Stage(StageArgs),
    /// Continue an interrupted or failed run from its last completed step.
    Resume(ResumeArgs),
    /// List runs, or show one: stages, gates, verdicts, usage.
    Status(StatusArgs),
    /// Find duplicated code: a jscpd-compatible clone detector, diff-aware with --changed.
    Dupes(crate::commands::dupes::DupesArgs),
    /// The Stage-2 plan contract: print it, or lint a plan against it (and the repository).
    #[command(subcommand)]
    Plan(crate::commands::plan::PlanCommand),
    /// Show a stage's prompt template (embedded, or .fabrik/prompts/<stage>.md).
    #[command(subcommand)]
    Prompts(crate::commands::prompts::PromptsCommand),
    /// Check the diff against a plan's file-impact manifest and DO-NOT-TOUCH list.
    Scope(crate::commands::scope::ScopeArgs),
    /// Find new SQL/Prisma tables or columns that near-duplicate existing ones.
    SchemaCheck(crate::commands::schema_check::SchemaCheckArgs),
    /// List the configured agents, whether each can run here, and the exact command line
    /// every stage would run.
    Agents,
    /// Write a commented fabrik.toml for the agent CLIs on PATH and the project's gates.
    ///
    /// Maps the seed's stage table onto the agent CLIs found on PATH (saying what falls back
    /// to what, and how to install what is missing), proposes gate commands from Cargo.toml,
    /// pyproject.toml/setup.cfg, package.json and go.mod, and keeps .fabrik/ out of git. An
    /// existing fabrik.toml is left alone unless --force (which keeps fabrik.toml.bak).
    Init(crate::commands::init::InitArgs),
    /// Run the whole pipeline offline on a generated sample repository, with recorded agents.
    ///
    /// Creates a small Python project in a new directory (or --dir), commits it, writes a
    /// fabrik.toml whose agents replay one recorded session, and runs a high-risk task
    /// through every stage, as `fabrik run` does. No network, no API key, no agent CLI;
    /// the gates need python3. Nothing outside that directory is touched.
    Demo(crate::commands::demo::DemoArgs),
    /// The recorded agents of `fabrik demo` (internal).
    #[command(name = "__demo-agent", hide = true)]
    DemoAgent(crate::commands::demo::DemoAgentArgs),
}

/// Risk levels for `--risk`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RiskArg {
    /// Start at execution.
    Low,
    /// Start at planning.
    Medium,
    /// Start at discovery.
    High,
}

/// Stages for `--stage` and `fabrik stage`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum StageArg {
    /// Stage 1: two agents write a specification.
    Discovery,
    /// Stage 2: a plan, reviewed and frozen.
    Planning,
    /// Stage 3: the builder edits the workspace.
    Execution,
    /// Stage 4: pre-flight gates, then an independent verifier.
    Verification,
    /// Stage 5: docs and changelog.
    Ship,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// What to build or change, in plain words. Risk keywords (auth, payment, migration, ...)
    /// route it through discovery and planning first.
    pub(crate) task: String,
    /// Show the route, agents and gates; run nothing and write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Start at this stage instead of the one the risk picks.
    #[arg(long, value_enum)]
    pub(crate) stage: Option<StageArg>,
    /// Override the risk router.
    #[arg(long, value_enum)]
    pub(crate) risk: Option<RiskArg>,
    /// Bring your own plan: freeze it and skip discovery and planning.
    #[arg(long, value_name = "PLAN.md")]
    pub(crate) plan: Option<PathBuf>,
    /// Work in the current tree instead of a new worktree (restored if the run fails).
    #[arg(long)]
    pub(crate) in_place: bool,
    /// With --in-place: allow uncommitted changes (they are restored on failure).
    #[arg(long)]
    pub(crate) allow_dirty: bool,
    /// With --in-place: allow running outside a git repository (no restore on failure).
    #[arg(long)]
    pub(crate) allow_no_vcs: bool,
    /// Verification rounds before the run fails with exit 2.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) max_verify: Option<u32>,
    /// Fail at once when another fabrik holds this repository's lock, instead of waiting.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// Store every agent call (prompt hash, text, usage, workspace diff) in DIR, for
    /// `kind = "replay"` agents.
    #[arg(long, value_name = "DIR")]
    pub(crate) record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct StageArgs {
    /// The stage whose agent to run.
    #[arg(value_enum)]
    pub(crate) stage: StageArg,
    /// The prompt to send.
    pub(crate) prompt: String,
}

#[derive(Debug, Args)]
pub(crate) struct ResumeArgs {
    /// The run to continue (see `fabrik status`).
    pub(crate) run_id: String,
    /// Raise the verification budget (to resume a run that exhausted it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) max_verify: Option<u32>,
    /// Fail at once when another fabrik holds this repository's lock.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// Store every agent call in DIR, as `fabrik run --record` does.
    #[arg(long, value_name = "DIR")]
    pub(crate) record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Show this run in detail.
    pub(crate) run_id: Option<String>,
    /// Record a run whose state.json is corrupt as failed (the corrupt file is kept aside).
    #[arg(long, requires = "run_id")]
    pub(crate) mark_failed: bool,
}

/// Subcommand names, for the `fabrik TASK` shorthand.
pub(crate) const SUBCOMMANDS: &[&str] = &[
    "run",
    "stage",
    "resume",
    "status",
    "plan",
    "prompts",
    "scope",
    "schema-check",
    "agents",
    "init",
    "dupes",
    "demo",
    "__demo-agent",
    "help",
];

/// Options of `run` that take a value (the shorthand must skip their values).
const VALUE_OPTIONS: &[&str] = &[
    "--stage",
    "--risk",
    "--plan",
    "--max-verify",
    "--config",
    "--cwd",
];

/// Inserts `run` when the first positional argument is not a subcommand, so
/// `fabrik --dry-run "Test task"` means `fabrik run --dry-run "Test task"`.
pub(crate) fn with_shorthand(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" {
            break;
        }
        if a.starts_with('-') && a.len() > 1 {
            i += if VALUE_OPTIONS.contains(&a.as_ref()) {
                2
            } else {
                1
            };
            continue;
        }
        if SUBCOMMANDS.contains(&a.as_ref()) {
            return args;
        }
        break;
    }
    let bare_flags_only = args[1..].iter().all(|a| {
        let s = a.to_string_lossy();
        s == "--help" || s == "-h" || s == "--version" || s == "-V"
    });
    if args.len() <= 1 || bare_flags_only {
        return args;
    }
    let mut out = args;
    out.insert(1, "run".into());
    out
}
