//! How the pipeline tells the outside world what it is doing. The binary renders it (human
//! lines, `[PIPELINE]` logs, a spinner); the library never prints.

use fabrik_core::Stage;
use fabrik_core::contract::StageResult;

use crate::state::RunState;

/// Log levels of [`Observer::log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Details for `--verbose`.
    Debug,
    /// Progress.
    Info,
    /// Something the user should know.
    Warn,
}

impl Level {
    /// Upper-case label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
        }
    }
}

/// Receives progress. Every method has a no-op default.
pub trait Observer: Sync {
    /// A run was created (or resumed) and is about to enter `state.phase`.
    fn run_started(&self, _state: &RunState, _resumed: bool) {}
    /// A log line.
    fn log(&self, _level: Level, _msg: &str) {}
    /// A stage began.
    fn stage_started(&self, _stage: Stage, _agent: &str, _iteration: u32) {}
    /// A stage ended.
    fn stage_finished(&self, _result: &StageResult, _max_verify: u32) {}
    /// Another fabrik holds the repository lock; we wait.
    fn waiting_for_lock(&self, _pid: Option<u32>) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;

impl Observer for Silent {}
