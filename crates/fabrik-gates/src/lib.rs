//! Pre-flight gates: the deterministic checks that run immediately before every
//! verification (and optionally before execution). Fail-closed: only pass and skip let the
//! pipeline go on. A gate whose program is missing reports `tool_missing`, distinct from a
//! failure, so the user knows to install something rather than fix code.
//!
//! This crate runs gates and records their results; it does not decide what happens next.

mod command;

use std::path::Path;
use std::time::Duration;

use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;

pub use command::run_command_gate;

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
