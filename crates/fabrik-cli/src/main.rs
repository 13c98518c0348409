//! The `fabrik` binary: parses the command line, dispatches to one file per subcommand,
//! and maps every error to a message and an exit code in one place ([`exit_code`]).
// Doc comments here are clap's --help text, where `<id>` and `<repo>` are literal words.
#![allow(rustdoc::invalid_html_tags)]

mod cli;
mod commands;
mod output;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use fabrik_core::exit;
use fabrik_core::process::CancelToken;

use crate::cli::{Cli, Command};
use crate::output::Printer;

/// What a command wants the process to exit with.
pub(crate) type Outcome = Result<u8, CliError>;

/// Every error the binary can report; [`exit_code`] maps each to the contract's codes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Configuration problems (exit 3).
    #[error(transparent)]
    Config(#[from] fabrik_config::Error),
    /// Pipeline problems (exit per variant).
    #[error(transparent)]
    Pipeline(#[from] fabrik_pipeline::Error),
    /// Clone detection problems (exit 3: bad paths, config, base revision).
    #[error(transparent)]
    Clones(#[from] fabrik_clones::Error),
    /// Plan lint and scope problems (exit 3; a broken pipe exits 0).
    #[error(transparent)]
    Plan(#[from] fabrik_plan::Error),
    /// Schema check problems (exit 3: no repository, unknown base revision; a broken pipe
    /// exits 0).
    #[error(transparent)]
    Schema(#[from] fabrik_gates::SchemaError),
    /// Bad usage detected after parsing (exit 3).
    #[error("{0}")]
    Usage(String),
    /// Writing output failed (a broken pipe exits 0).
    #[error("failed to write output")]
    Io(#[from] std::io::Error),
}

fn main() -> ExitCode {
    let args = cli::with_shorthand(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::SUCCESS
                }
                // clap's usage errors exit 2 by default; 2 means "retry exhausted" here.
                _ => exit::CONFIG_ERROR,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cancel = install_signal_handlers();
    let printer = Printer::new(&cli.global);
    let outcome = dispatch(cli, &printer, &cancel);
    ExitCode::from(match outcome {
        Ok(code) => code,
        Err(e) => {
            let code = exit_code(&e);
            if code != exit::SUCCESS {
                printer.error(&e);
            }
            code
        }
    })
}

fn dispatch(cli: Cli, printer: &Printer, cancel: &CancelToken) -> Outcome {
    let cwd = match &cli.global.cwd {
        Some(p) => std::path::absolute(p)?,
        None => std::env::current_dir()?,
    };
    if !cwd.is_dir() {
        return Err(CliError::Usage(format!(
            "--cwd `{}` is not a directory",
            cwd.display()
        )));
    }
    let ctx = commands::Ctx {
        global: &cli.global,
        cwd,
        printer,
        cancel,
    };
    match cli.command {
        Command::Run(args) => commands::run::run(&args, &ctx),
        Command::Stage(args) => commands::stage::run(&args, &ctx),
        Command::Resume(args) => commands::resume::run(&args, &ctx),
        Command::Status(args) => commands::status::run(&args, &ctx),
        Command::Dupes(args) => {
            let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
            Ok(commands::dupes::run(&args, &ctx.cwd, &mut out, &mut err)?)
        }
        Command::Plan(cmd) => Ok(commands::plan::run(
            &cmd,
            &ctx.cwd,
            &mut std::io::stdout().lock(),
        )?),
        Command::Prompts(cmd) => commands::prompts::run(&cmd, &ctx),
        Command::Scope(args) => Ok(commands::scope::run(
            &args,
            &ctx.cwd,
            &mut std::io::stdout().lock(),
        )?),
        Command::SchemaCheck(args) => Ok(commands::schema_check::run(
            &args,
            &ctx.cwd,
            &mut std::io::stdout().lock(),
        )?),
        Command::Demo(args) => commands::demo::run(&args, &ctx),
        Command::DemoAgent(args) => commands::demo::agent(&args, &ctx.cwd),
        Command::Init(args) => commands::init::run(&args, &ctx),
        Command::Agents => {
            let config = ctx.config(&ctx.root())?;
            Ok(commands::agents::run(
                &config,
                &mut std::io::stdout().lock(),
            )?)
        }
    }
}

/// The one place errors become exit codes.
fn exit_code(e: &CliError) -> u8 {
    use fabrik_pipeline::Error as P;
    match e {
        CliError::Config(_) | CliError::Usage(_) => exit::CONFIG_ERROR,
        CliError::Pipeline(p) => match p {
            P::EmptyTask => exit::RISK_FAILURE,
            P::Agent(fabrik_agent::Error::Unavailable { .. }) => exit::CONFIG_ERROR,
            P::Agent(fabrik_agent::Error::Cancelled { .. }) => exit::INTERRUPTED,
            P::Agent(_) => exit::STAGE_FAILURE,
            P::NotARepo { .. }
            | P::NoCommits { .. }
            | P::DirtyTree { .. }
            | P::RunNotFound { .. }
            | P::CorruptState { .. }
            | P::Busy { .. }
            | P::NotResumable { .. }
            | P::Plan { .. }
            | P::Prompt(_) => exit::CONFIG_ERROR,
            P::Git { .. } | P::Io { .. } => exit::STAGE_FAILURE,
        },
        CliError::Io(io)
        | CliError::Plan(fabrik_plan::Error::Write(io))
        | CliError::Schema(fabrik_gates::SchemaError::Write(io))
            if io.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            exit::SUCCESS
        }
        CliError::Plan(_) | CliError::Clones(_) | CliError::Schema(_) => exit::CONFIG_ERROR,
        CliError::Io(_) => exit::STAGE_FAILURE,
    }
}

/// First SIGINT/SIGTERM sets the cancel flag (agents get SIGTERM, state is saved, exit
/// 130); a second one exits at once (the state on disk is consistent at every instant).
fn install_signal_handlers() -> CancelToken {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(
            sig,
            i32::from(exit::INTERRUPTED),
            Arc::clone(&flag),
        );
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    CancelToken::from_flag(flag)
}

/// Writes to stdout; a closed pipe is not an error worth a panic.
pub(crate) fn stdout_line(s: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_readme_table() {
        let readme = include_str!("../../../README.md");
        for (code, meaning) in exit::TABLE {
            let row = format!("| {code} | {meaning} |");
            assert!(readme.contains(&row), "README.md lacks the row `{row}`");
        }
    }

    #[test]
    fn shorthand_inserts_run() {
        let v = |a: &[&str]| cli::with_shorthand(a.iter().map(Into::into).collect());
        assert_eq!(
            v(&["fabrik", "--dry-run", "Test task"]),
            v(&["fabrik", "run", "--dry-run", "Test task"])
        );
        assert_eq!(v(&["fabrik", "--risk", "low", "x"])[1], "run");
        assert_eq!(v(&["fabrik", "status"])[1], "status");
        assert_eq!(v(&["fabrik", "--help"]).len(), 2);
        assert_eq!(v(&["fabrik", "--json", "status", "x"])[1], "--json");
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
