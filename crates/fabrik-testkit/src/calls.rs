//! The fake agent's call log: one JSON line per invocation, read back by tests.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many prompt bytes a [`Call`] keeps in `prompt`.
pub const PROMPT_PREFIX_BYTES: usize = 4096;

/// One invocation of the fake agent, as it logged it before running any action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// `FABRIK_STAGE` ("" when unset).
    pub stage: String,
    /// `FABRIK_ITERATION` (1 when unset).
    pub iteration: u32,
    /// `FABRIK_ATTEMPT` (1 when unset).
    pub attempt: u32,
    /// `FABRIK_SESSION` ("" when unset).
    pub session: String,
    /// `FABRIK_RUN_ID` ("" when unset).
    pub run_id: String,
    /// The agent's working directory.
    pub cwd: PathBuf,
    /// The agent's process id.
    pub pid: u32,
    /// Size of the whole prompt.
    pub prompt_bytes: u64,
    /// The first [`PROMPT_PREFIX_BYTES`] bytes of the prompt, lossy UTF-8.
    pub prompt: String,
}

/// Every line of a JSON-lines file as a value; a missing file gives an empty list.
///
/// # Panics
/// When the file cannot be read or a non-empty line is not JSON (the message names the line).
#[must_use]
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    parse_lines(path)
}

/// The fake agent's call log in invocation order; a missing log means no call.
///
/// # Panics
/// When the file cannot be read or a line is not a [`Call`].
#[must_use]
pub fn calls(log: &Path) -> Vec<Call> {
    parse_lines(log)
}

fn parse_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("failed to read `{}`: {e}", path.display()),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("`{}` line {}: {e}\n{line}", path.display(), n + 1))
        })
        .collect()
}
