//! Pre-flight gates: the deterministic checks that run immediately before every
//! verification (and optionally before execution). Fail-closed: only pass and skip let the
//! pipeline go on. A gate whose program is missing reports `tool_missing`, distinct from a
//! failure, so the user knows to install something rather than fix code.
//!
//! This crate runs gates and records their results; it does not decide what happens next.

mod clones;
mod command;
mod schema;

use std::path::Path;
use std::time::Duration;

use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;

pub use clones::{BASELINE_FILE, run_clones_gate};
pub use command::run_command_gate;
pub use schema::{
    DEFAULT_SYNONYMS, FindingKind, Location, MatchReason, ParseWarning, SYNONYMS_FILE, SchemaError,
    SchemaFinding, SchemaItem, SchemaReport, Synonyms, check_schema, normalise, run_schema_gate,
};

use fabrik_config::GatesConfig;
use fabrik_core::contract::GateResult;

/// Runs every configured gate in order: command gates, then built-ins. All run even when
/// one fails, so a report shows every problem at once.
///
/// # Errors
/// [`Interrupted`] when fabrik is interrupted.
pub fn run_all(config: &GatesConfig, cx: &GateContext<'_>) -> Result<Vec<GateResult>, Interrupted> {
    let mut results = Vec::with_capacity(config.command.len() + config.builtin.len());
    for g in &config.command {
        results.push(run_command_gate(g, cx)?);
    }
    if config.builtin.iter().any(|b| b == "clones") {
        results.push(run_clones_gate(cx));
    }
    if config.builtin.iter().any(|b| b == "schema") {
        results.push(run_schema_gate(cx));
    }
    Ok(results)
}

/// What every gate run needs to know.
#[derive(Clone, Copy, Debug)]
pub struct GateContext<'a> {
    /// Where the gates run.
    pub workspace: &'a Path,
    /// Files changed by the run so far (relative paths), for `when = "changed:<glob>"`.
    pub changed_files: &'a [String],
    /// Set on Ctrl-C.
    pub cancel: &'a CancelToken,
    /// SIGTERM-to-SIGKILL grace.
    pub grace: Duration,
    /// Applied to every output tail.
    pub redactor: &'a Redactor,
    /// The commit the run started from (changed-mode gates compare against it).
    pub base: Option<&'a str>,
    /// The repository's `.fabrik/` directory (caches, baselines), when there is one.
    pub state_dir: Option<&'a Path>,
}

/// The gate run was interrupted; no result is recorded for the gate in flight.
#[derive(Debug, thiserror::Error)]
#[error("gate `{gate}` was interrupted")]
pub struct Interrupted {
    /// The gate in flight.
    pub gate: String,
}

/// Bytes of output kept in a gate's tail.
pub const TAIL_BYTES: usize = 4000;
