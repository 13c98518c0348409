//! Typed agent errors.

use std::time::Duration;

/// Why an agent call produced no response.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The agent cannot run at all: binary missing, not logged in, model not found.
    #[error("agent `{agent}` is unavailable: {reason}")]
    Unavailable {
        /// Agent name.
        agent: String,
        /// What is missing.
        reason: String,
        /// What to do about it.
        hint: String,
    },
    /// The call ran past its time limit and was stopped.
    #[error("agent `{agent}` timed out after {}s", after.as_secs())]
    Timeout {
        /// Agent name.
        agent: String,
        /// The limit.
        after: Duration,
    },
    /// The agent exited with a failure status or was killed by a signal.
    #[error("agent `{agent}` failed ({status}){}", tail_suffix(stderr_tail))]
    Crashed {
        /// Agent name.
        agent: String,
        /// "exit code 3" or "signal 6".
        status: String,
        /// The end of its stderr, redacted.
        stderr_tail: String,
    },
    /// The agent's output could not be used.
    #[error("agent `{agent}` produced unusable output: {reason}")]
    BadOutput {
        /// Agent name.
        agent: String,
        /// What was wrong.
        reason: String,
    },
    /// fabrik was interrupted during the call.
    #[error("agent `{agent}` was interrupted")]
    Cancelled {
        /// Agent name.
        agent: String,
    },
    /// fabrik could not write the call's transcript.
    #[error("failed to write transcript `{path}`")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn tail_suffix(tail: &str) -> String {
    let t = tail.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(": {t}")
    }
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;
