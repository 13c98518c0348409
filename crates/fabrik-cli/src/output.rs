//! Everything the binary shows: human lines on stdout, `[PIPELINE]` logs and errors on
//! stderr, the spinner, and the JSON documents of `--json`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fabrik_core::Stage;
use fabrik_core::contract::{PipelineResult, RunStatus, StageResult, StageStatus};
use fabrik_pipeline::machine::Phase;
use fabrik_pipeline::{Level, Observer, RunState};

use crate::CliError;
use crate::cli::GlobalArgs;

/// Writes output according to `--json` / `--verbose`.
#[derive(Debug)]
pub(crate) struct Printer {
    pub(crate) json: bool,
    verbose: bool,
    spinner: bool,
    spin: Mutex<Option<Spinner>>,
}

#[derive(Debug)]
struct Spinner {
    stop: std::sync::Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl Printer {
    pub(crate) fn new(g: &GlobalArgs) -> Printer {
        let spinner = !g.json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        Printer {
            json: g.json,
            verbose: g.verbose,
            spinner,
            spin: Mutex::new(None),
        }
    }

    /// A human line on stdout (suppressed with `--json`).
    pub(crate) fn line(&self, s: &str) {
        if !self.json {
            self.stop_spinner();
            let _ = crate::stdout_line(s);
        }
    }

    /// A JSON document on stdout.
    pub(crate) fn json<T: serde::Serialize>(&self, value: &T) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::other)?;
        writeln!(out)?;
        Ok(())
    }

    /// A log line on stderr: every level with `--verbose`, warnings always.
    pub(crate) fn log(&self, level: Level, msg: &str) {
        if self.verbose {
            self.stop_spinner();
            let ts = fabrik_core::time::now_rfc3339();
            let _ = writeln!(
                std::io::stderr(),
                "[PIPELINE] {ts} {}: {msg}",
                level.label()
            );
        } else if level == Level::Warn {
            self.stop_spinner();
            let _ = writeln!(std::io::stderr(), "warning: {msg}");
        }
    }

    /// `error:` / `Caused by:` / `hint:` on stderr.
    pub(crate) fn error(&self, e: &CliError) {
        self.stop_spinner();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {e}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            let _ = writeln!(err, "  Caused by: {s}");
            source = s.source();
        }
        if let Some(h) = hint(e) {
            let _ = writeln!(err, "hint: {h}");
        }
    }

    fn start_spinner(&self, label: String) {
        if !self.spinner || self.verbose {
            return;
        }
        self.stop_spinner();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let s2 = std::sync::Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let frames = ['|', '/', '-', '\\'];
            let start = Instant::now();
            let mut i = 0;
            while !s2.load(Ordering::Relaxed) {
                let _ = write!(
                    std::io::stderr(),
                    "\r{} {label}  {}s ",
                    frames[i % 4],
                    start.elapsed().as_secs()
                );
                i += 1;
                std::thread::sleep(Duration::from_millis(120));
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        });
        if let Ok(mut g) = self.spin.lock() {
            *g = Some(Spinner { stop, handle });
        }
    }

    fn stop_spinner(&self) {
        let taken = self.spin.lock().ok().and_then(|mut g| g.take());
        if let Some(s) = taken {
            s.stop.store(true, Ordering::Relaxed);
            let _ = s.handle.join();
        }
    }
}

fn hint(e: &CliError) -> Option<String> {
    use fabrik_pipeline::Error as P;
    match e {
        CliError::Pipeline(P::Agent(fabrik_agent::Error::Unavailable { hint, .. })) if !hint.is_empty() => Some(hint.clone()),
        CliError::Pipeline(P::NotARepo { .. }) => Some("run inside a git repository, or pass --in-place --allow-no-vcs".into()),
        CliError::Pipeline(P::NoCommits { .. }) => Some("commit once (a run branches from HEAD), or pass --in-place".into()),
        CliError::Pipeline(P::DirtyTree { .. }) => Some("commit or stash first, drop --in-place to work in a worktree, or pass --allow-dirty".into()),
        CliError::Pipeline(P::CorruptState { .. }) => Some("inspect the file; `fabrik status <RUN_ID> --mark-failed` records the run as failed and keeps the file aside".into()),
        CliError::Pipeline(P::RunNotFound { .. }) => Some("`fabrik status` lists the runs of this repository".into()),
        CliError::Pipeline(P::EmptyTask) => Some("describe the task, e.g. `fabrik \"Fix the typo in README\"`".into()),
        CliError::Pipeline(P::Busy { .. }) => Some("wait for it to finish, or drop --no-wait to queue behind it".into()),
        _ => None,
    }
}

/// "STAGE 3 EXECUTION" or "PRE-FLIGHT GATES".
pub(crate) fn stage_label(stage: Stage) -> String {
    match stage.number() {
        Some(n) => format!("STAGE {n} {}", stage.as_str().to_uppercase()),
        None => "PRE-FLIGHT GATES".to_owned(),
    }
}

/// The line a finished stage prints.
pub(crate) fn stage_line(r: &StageResult, max_verify: u32) -> String {
    let status = match r.status {
        StageStatus::Pass => "PASS",
        StageStatus::Fail => "FAIL",
        StageStatus::Skip => "SKIP",
    };
    let mut line = format!("{}: {status}", stage_label(r.stage));
    match r.stage {
        Stage::Verification => line.push_str(&format!(" (iteration {}/{max_verify})", r.iteration)),
        Stage::Execution if r.iteration > 1 => {
            line.push_str(&format!(" (iteration {})", r.iteration))
        }
        Stage::PreVerify => {
            let gates: Vec<String> = r
                .gates
                .iter()
                .map(|g| format!("{} {}", g.name, g.status.label()))
                .collect();
            if gates.is_empty() {
                line.push_str(" (no gates configured)");
            } else {
                line.push_str(&format!(" ({})", gates.join(", ")));
            }
        }
        _ => {}
    }
    if r.status == StageStatus::Fail
        && let Some(e) = &r.error
    {
        line.push_str(&format!("\n  {}", first_line(e, 200)));
    }
    // What a failed gate said, so the user need not open gates-<n>.json to see why.
    for g in r.gates.iter().filter(|g| !g.status.is_ok()) {
        let tail: Vec<&str> = g
            .output_tail
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(6)
            .collect();
        for l in tail.into_iter().rev() {
            line.push_str(&format!("\n    {}| {}", g.name, first_line(l, 160)));
        }
    }
    line
}

fn first_line(s: &str, max: usize) -> String {
    s.lines().next().unwrap_or("").chars().take(max).collect()
}

/// The header: PIPELINE / RUN / RISK / STARTING.
pub(crate) fn header(
    task: &str,
    run: &str,
    workspace: &str,
    risk: &str,
    reasons: &[String],
    start: &str,
) -> Vec<String> {
    let reasons = match reasons {
        [r] if r == "default" || r == "override" => format!("({r})"),
        rs => format!("(matched: {})", rs.join(", ")),
    };
    vec![
        format!("PIPELINE: {}", first_line(task, 80)),
        format!("RUN: {run}   WORKSPACE: {workspace}"),
        format!("RISK: {risk} {reasons}"),
        format!("STARTING: {start}"),
        String::new(),
    ]
}

/// The closing lines: RESULT / TIME / TOKENS.
pub(crate) fn footer(r: &PipelineResult) -> Vec<String> {
    let result = match r.status {
        RunStatus::Success => "SUCCESS".to_owned(),
        RunStatus::Failure => format!("FAILURE (exit {}: {})", r.exit_code, meaning(r.exit_code)),
        RunStatus::Interrupted => {
            format!("INTERRUPTED (continue with `fabrik resume {}`)", r.run_id)
        }
        RunStatus::DryRun => "DRY-RUN SUCCESS".to_owned(),
    };
    let m = &r.metrics;
    let cost = m
        .cost_usd
        .map_or_else(|| "n/a".to_owned(), |c| format!("${c:.2}"));
    let est = if m.tokens_estimated {
        ", estimated"
    } else {
        ""
    };
    let mut out = vec![
        String::new(),
        format!("RESULT: {result}"),
        format!("TIME: {:.0}s", m.total_time_seconds),
        format!(
            "TOKENS: {} (in {}, out {}{est})   COST: {cost}",
            m.total_tokens, m.input_tokens, m.output_tokens
        ),
    ];
    if let (RunStatus::Success, Some(b)) = (r.status, &r.branch) {
        out.push(format!("BRANCH: {b} (ready to merge)"));
    }
    out
}

fn meaning(code: u8) -> &'static str {
    fabrik_core::exit::TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("unknown", |(_, m)| m)
}

/// Renders pipeline progress as it happens.
pub(crate) struct HumanObserver<'a> {
    pub(crate) printer: &'a Printer,
}

/// "Stage 1", or "Pre-flight gates, then Stage 4".
pub(crate) fn phase_label(p: Phase) -> String {
    match p {
        Phase::Discovery => "Stage 1".into(),
        Phase::Planning => "Stage 2".into(),
        Phase::Execution => "Stage 3".into(),
        Phase::PreVerify => "Pre-flight gates, then Stage 4".into(),
        Phase::Verification => "Stage 4".into(),
        Phase::Ship => "Stage 5".into(),
        Phase::Init | Phase::Done | Phase::Failed(_) => p.label().to_owned(),
    }
}

impl Observer for HumanObserver<'_> {
    fn run_started(&self, state: &RunState, resumed: bool) {
        let r = state.to_result();
        let start = if resumed {
            format!("{} (resumed)", phase_label(state.phase))
        } else {
            phase_label(state.phase)
        };
        for l in header(
            &state.task,
            state.run_id.as_str(),
            &r.workspace,
            state.risk.label(),
            &state.risk_reasons,
            &start,
        ) {
            self.printer.line(&l);
        }
    }

    fn log(&self, level: Level, msg: &str) {
        self.printer.log(level, msg);
    }

    fn stage_started(&self, stage: Stage, agent: &str, iteration: u32) {
        self.printer.log(
            Level::Info,
            &format!(
                "{} started (agent: {agent}, iteration {iteration})",
                stage_label(stage)
            ),
        );
        let who = if agent.is_empty() {
            String::new()
        } else {
            format!("  {agent}")
        };
        self.printer
            .start_spinner(format!("{}{who}", stage_label(stage)));
    }

    fn stage_finished(&self, result: &StageResult, max_verify: u32) {
        self.printer.log(
            Level::Info,
            &format!(
                "{} finished: {:?}",
                stage_label(result.stage),
                result.status
            ),
        );
        self.printer.line(&stage_line(result, max_verify));
    }

    fn waiting_for_lock(&self, pid: Option<u32>) {
        let who = pid.map_or_else(
            || "another fabrik".to_owned(),
            |p| format!("fabrik (pid {p})"),
        );
        self.printer.log(
            Level::Warn,
            &format!("waiting for {who} holding .fabrik/lock; pass --no-wait to fail instead"),
        );
    }
}
