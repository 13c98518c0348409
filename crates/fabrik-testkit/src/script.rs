//! The fake agent's script: which actions to perform for which stage, iteration and attempt.
//!
//! Tests build a [`Script`] with the builder methods, write it to a file with
//! [`Script::write_to`], and point `fabrik-fake-agent --script FILE` at it. The binary reads
//! the same types back, so the JSON format is whatever these types serialize to:
//!
//! ```json
//! {
//!   "log": "/abs/calls.jsonl",
//!   "steps": [
//!     {"stage": "verification", "iteration": 1, "attempt": 1, "actions": [{"print": "hi"}]},
//!     {"stage": "*", "actions": [{"exit": 3}]}
//!   ]
//! }
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Matches every stage in [`Step::stage`].
pub const ANY_STAGE: &str = "*";

/// A whole scenario: an optional call log and the steps to choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// File that gets one [`crate::Call`] JSON line per invocation, before any action runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
    /// Candidates in order; the first one that matches the invocation runs.
    #[serde(default)]
    pub steps: Vec<Step>,
}

impl Script {
    /// An empty script: every invocation prints "nothing scripted" and exits 0.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records every invocation in `path` (JSON lines, see [`crate::calls`]).
    #[must_use]
    pub fn log(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// Appends a candidate step; earlier steps win.
    #[must_use]
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// The step the fake agent runs for this invocation, if any.
    #[must_use]
    pub fn select(&self, stage: &str, iteration: u32, attempt: u32) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| s.matches(stage, iteration, attempt))
    }

    /// The script as pretty JSON.
    ///
    /// # Panics
    /// When a path in it is not UTF-8.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| panic!("script is not representable as JSON: {e}"))
    }

    /// Parses a script, naming `path` in the error.
    ///
    /// # Errors
    /// A message naming `path` when it cannot be read or is not a valid script.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("failed to read script `{}`: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("failed to parse script `{}`: {e}", path.display()))
    }

    /// Writes the script to `path` (parents created) and returns the path.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write_to(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = path.as_ref();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("failed to create `{}`: {e}", parent.display()));
        }
        std::fs::write(path, self.to_json())
            .unwrap_or_else(|e| panic!("failed to write script `{}`: {e}", path.display()));
        path.to_path_buf()
    }
}

/// One candidate: a filter on the invocation and the actions to run when it matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `FABRIK_STAGE` to match, or [`ANY_STAGE`].
    pub stage: String,
    /// `FABRIK_ITERATION` to match; absent matches any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u32>,
    /// `FABRIK_ATTEMPT` to match; absent matches any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Run in order; the first failing action ends the agent with exit code 97.
    #[serde(default)]
    pub actions: Vec<Action>,
}

impl Step {
    /// A step for `stage` (`"execution"`, `"verification"`, ... or `"*"`).
    #[must_use]
    pub fn stage(stage: impl Into<String>) -> Self {
        Self {
            stage: stage.into(),
            iteration: None,
            attempt: None,
            actions: Vec::new(),
        }
    }

    /// A step for every stage; put it last as a fallback.
    #[must_use]
    pub fn any() -> Self {
        Self::stage(ANY_STAGE)
    }

    /// Whether this step applies to the given invocation.
    #[must_use]
    pub fn matches(&self, stage: &str, iteration: u32, attempt: u32) -> bool {
        (self.stage == ANY_STAGE || self.stage == stage)
            && self.iteration.is_none_or(|i| i == iteration)
            && self.attempt.is_none_or(|a| a == attempt)
    }

    /// Only for `FABRIK_ITERATION == n`.
    #[must_use]
    pub fn iteration(mut self, n: u32) -> Self {
        self.iteration = Some(n);
        self
    }

    /// Only for `FABRIK_ATTEMPT == n`.
    #[must_use]
    pub fn attempt(mut self, n: u32) -> Self {
        self.attempt = Some(n);
        self
    }

    /// Appends any action.
    #[must_use]
    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    /// Creates or overwrites a file (parents created); relative paths are under the cwd.
    #[must_use]
    pub fn write(self, path: impl Into<String>, content: impl Into<String>) -> Self {
        self.action(Action::Write {
            path: path.into(),
            content: content.into(),
        })
    }

    /// Appends to a file, creating it.
    #[must_use]
    pub fn append(self, path: impl Into<String>, content: impl Into<String>) -> Self {
        self.action(Action::Append {
            path: path.into(),
            content: content.into(),
        })
    }

    /// Deletes a file or a directory tree.
    #[must_use]
    pub fn delete(self, path: impl Into<String>) -> Self {
        self.action(Action::Delete(path.into()))
    }

    /// Prints `text` to stdout as is (no newline added).
    #[must_use]
    pub fn print(self, text: impl Into<String>) -> Self {
        self.action(Action::Print(text.into()))
    }

    /// Prints `text` to stderr as is.
    #[must_use]
    pub fn eprint(self, text: impl Into<String>) -> Self {
        self.action(Action::Eprint(text.into()))
    }

    /// Prints a verdict in a JSON code fence (see [`Verdict::render`]).
    #[must_use]
    pub fn verdict(self, verdict: Verdict) -> Self {
        self.action(Action::Verdict(verdict))
    }

    /// Prints an approving verdict with no issues.
    #[must_use]
    pub fn approve(self) -> Self {
        self.verdict(Verdict::approve())
    }

    /// Prints a rejecting verdict with one blocker issue per message.
    #[must_use]
    pub fn reject(self, messages: &[&str]) -> Self {
        self.verdict(Verdict::reject(messages))
    }

    /// Writes the prompt bytes the agent received to `path`.
    #[must_use]
    pub fn copy_prompt_to(self, path: impl Into<PathBuf>) -> Self {
        self.action(Action::CopyPromptTo(path.into()))
    }

    /// Sleeps `ms` milliseconds.
    #[must_use]
    pub fn sleep_ms(self, ms: u64) -> Self {
        self.action(Action::SleepMs(ms))
    }

    /// Sleeps forever (until killed).
    #[must_use]
    pub fn stall(self) -> Self {
        self.action(Action::Stall(true))
    }

    /// Survives SIGTERM from here on; only SIGKILL ends the agent.
    #[must_use]
    pub fn ignore_sigterm(self) -> Self {
        self.action(Action::IgnoreSigterm(true))
    }

    /// Starts `sleep sleep_s` in the agent's process group holding its stdout and stderr,
    /// writes its pid to `pidfile`, and does not wait for it.
    #[must_use]
    pub fn spawn_grandchild(self, sleep_s: u64, pidfile: impl Into<PathBuf>) -> Self {
        self.action(Action::SpawnGrandchild {
            sleep_s,
            pidfile: pidfile.into(),
        })
    }

    /// Starts `sleep sleep_s` in a new session (`setsid`: out of the agent's process group,
    /// so a group kill cannot reach it) holding the agent's stdout and stderr, waits until it
    /// has left the group, writes its pid to `pidfile`, and does not wait for it.
    #[must_use]
    pub fn spawn_escapee(self, sleep_s: u64, pidfile: impl Into<PathBuf>) -> Self {
        self.action(Action::SpawnEscapee {
            sleep_s,
            pidfile: pidfile.into(),
        })
    }

    /// Emits exactly `bytes` bytes of 100-byte `x...x\n` lines to `stream`.
    #[must_use]
    pub fn print_bytes(self, stream: Stream, bytes: u64) -> Self {
        self.action(Action::PrintBytes {
            stream,
            bytes,
            line_len: None,
        })
    }

    /// Emits exactly `n` bytes of invalid UTF-8 to stdout.
    #[must_use]
    pub fn print_non_utf8(self, n: u64) -> Self {
        self.action(Action::PrintNonUtf8(n))
    }

    /// Prints `VAR=<value>\n` (empty value when unset).
    #[must_use]
    pub fn echo_env(self, var: impl Into<String>) -> Self {
        self.action(Action::EchoEnv(var.into()))
    }

    /// Exits now with `code` (stdout and stderr flushed first).
    #[must_use]
    pub fn exit(self, code: i32) -> Self {
        self.action(Action::Exit(code))
    }

    /// Dies of SIGABRT.
    #[must_use]
    pub fn abort(self) -> Self {
        self.action(Action::Abort(true))
    }

    /// Increments the integer in `path` (a missing file counts as 0), under a file lock.
    #[must_use]
    pub fn counter(self, path: impl Into<PathBuf>) -> Self {
        self.action(Action::Counter(path.into()))
    }
}

/// One thing the fake agent does. JSON: externally tagged, e.g. `{"print": "hi"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// `{"write": {"path": "src/a.rs", "content": "..."}}`: create parents, overwrite.
    Write {
        /// Relative to the cwd (the workspace) or absolute.
        path: String,
        /// The new content.
        content: String,
    },
    /// `{"append": {"path": "...", "content": "..."}}`: append, creating the file.
    Append {
        /// Relative to the cwd or absolute.
        path: String,
        /// Appended as is.
        content: String,
    },
    /// `{"delete": "path"}`: remove a file or a directory tree; missing is an error.
    Delete(String),
    /// `{"print": "text"}`: to stdout, no newline added.
    Print(String),
    /// `{"eprint": "text"}`: to stderr, no newline added.
    Eprint(String),
    /// `{"verdict": {...}}`: prints [`Verdict::render`] to stdout.
    Verdict(Verdict),
    /// `{"copy_prompt_to": "/abs/path"}`: the received prompt bytes, verbatim.
    CopyPromptTo(PathBuf),
    /// `{"sleep_ms": 250}`.
    SleepMs(u64),
    /// `{"stall": true}`: sleep forever; `false` does nothing.
    Stall(bool),
    /// `{"ignore_sigterm": true}`: SIGTERM no longer terminates; `false` does nothing.
    IgnoreSigterm(bool),
    /// `{"spawn_grandchild": {"sleep_s": 30, "pidfile": "/abs/pid"}}`.
    SpawnGrandchild {
        /// Argument of `sleep`.
        sleep_s: u64,
        /// Receives the grandchild's pid (decimal, no newline), written atomically.
        pidfile: PathBuf,
    },
    /// `{"spawn_escapee": {"sleep_s": 30, "pidfile": "/abs/pid"}}`: like `spawn_grandchild`,
    /// but the sleep runs under `setsid`, in its own session and group.
    SpawnEscapee {
        /// Argument of `sleep`.
        sleep_s: u64,
        /// Receives the escapee's pid (decimal, no newline), written atomically.
        pidfile: PathBuf,
    },
    /// `{"print_bytes": {"stream": "stdout", "bytes": 1000000, "line_len": 100}}`.
    ///
    /// The output is the first `bytes` bytes of repeated lines of `line_len` bytes
    /// (`line_len - 1` times `x`, then `\n`; default 100), written in 64 KiB chunks.
    PrintBytes {
        /// Where to write.
        stream: Stream,
        /// Exact number of bytes.
        bytes: u64,
        /// Line length including the newline; at least 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line_len: Option<usize>,
    },
    /// `{"print_non_utf8": 16}`: that many bytes of `0xff 0xfe` pairs on stdout.
    PrintNonUtf8(u64),
    /// `{"echo_env": "FABRIK_STAGE"}`: prints `FABRIK_STAGE=<value>\n`.
    EchoEnv(String),
    /// `{"exit": 3}`: exit now with that code.
    Exit(i32),
    /// `{"abort": true}`: die of SIGABRT; `false` does nothing.
    Abort(bool),
    /// `{"counter": "/abs/path"}`: increment the integer in that file.
    Counter(PathBuf),
}

/// Output stream of [`Action::PrintBytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The verifier's verdict (DESIGN section 3), as the fake agent prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// Whether the change is accepted.
    pub approved: bool,
    /// Problems found; empty when absent in the script.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// One-paragraph summary; empty when absent in the script.
    #[serde(default)]
    pub summary: String,
}

impl Verdict {
    /// Approved, no issues, summary "Looks good.".
    #[must_use]
    pub fn approve() -> Self {
        Self {
            approved: true,
            issues: Vec::new(),
            summary: "Looks good.".to_owned(),
        }
    }

    /// Rejected with one blocker (no file or line) per message.
    #[must_use]
    pub fn reject(messages: &[&str]) -> Self {
        let issues = messages.iter().map(|m| Issue::blocker(*m)).collect();
        Self {
            approved: false,
            issues,
            summary: "Changes required.".to_owned(),
        }
    }

    /// Adds an issue.
    #[must_use]
    pub fn issue(mut self, issue: Issue) -> Self {
        self.issues.push(issue);
        self
    }

    /// Replaces the summary.
    #[must_use]
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }

    /// Exactly what the agent prints: a `Review done.` line, then the pretty JSON in a
    /// fenced block tagged `json`, each line ending in a newline:
    ///
    /// ````text
    /// Review done.
    /// ```json
    /// { "approved": true, ... }
    /// ```
    /// ````
    #[must_use]
    pub fn render(&self) -> String {
        // Strings, bools and integers only: serialization cannot fail.
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        format!("Review done.\n```json\n{json}\n```\n")
    }
}

/// One finding in a [`Verdict`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issue {
    /// How bad it is.
    pub severity: Severity,
    /// File concerned, if any (omitted from the output when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line, if any (omitted from the output when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    /// An issue of `severity` with no location.
    #[must_use]
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Self {
            severity,
            file: None,
            line: None,
            message: message.into(),
        }
    }

    /// A blocker with no location.
    #[must_use]
    pub fn blocker(message: impl Into<String>) -> Self {
        Self::new(Severity::Blocker, message)
    }

    /// Sets the location.
    #[must_use]
    pub fn at(mut self, file: impl Into<String>, line: u32) -> Self {
        self.file = Some(file.into());
        self.line = Some(line);
        self
    }
}

/// Severity of an [`Issue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Must be fixed before shipping.
    Blocker,
    /// Should be fixed.
    Major,
    /// Nice to fix.
    Minor,
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn json_format_is_the_documented_one() {
        let script = Script::new().log("/tmp/calls.jsonl").step(
            Step::stage("verification")
                .iteration(2)
                .attempt(1)
                .write("a.txt", "A")
                .print_bytes(Stream::Stderr, 10)
                .reject(&["broken"]),
        );
        let value: serde_json::Value = serde_json::from_str(&script.to_json()).unwrap();
        let expected = serde_json::json!({
            "log": "/tmp/calls.jsonl",
            "steps": [{
                "stage": "verification", "iteration": 2, "attempt": 1,
                "actions": [
                    {"write": {"path": "a.txt", "content": "A"}},
                    {"print_bytes": {"stream": "stderr", "bytes": 10}},
                    {"verdict": {
                        "approved": false,
                        "issues": [{"severity": "blocker", "message": "broken"}],
                        "summary": "Changes required."
                    }}
                ]
            }]
        });
        assert_eq!(value, expected);
        assert_eq!(serde_json::from_value::<Script>(value).unwrap(), script);
    }

    #[test]
    fn unknown_actions_and_fields_are_rejected() {
        for bad in [
            r#"{"steps":[{"stage":"*","actions":[{"explode":true}]}]}"#,
            r#"{"steps":[{"stage":"*","actions":[{"write":{"path":"a","content":"","x":1}}]}]}"#,
            r#"{"steps":[{"stage":"*","iter":1}]}"#,
            r#"{"steps":[],"logg":"x"}"#,
        ] {
            assert!(serde_json::from_str::<Script>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn first_matching_step_wins() {
        let script = Script::new()
            .step(
                Step::stage("verification")
                    .iteration(1)
                    .attempt(2)
                    .print("a"),
            )
            .step(Step::stage("verification").iteration(1).print("b"))
            .step(Step::stage("verification").print("c"))
            .step(Step::any().print("d"));
        let pick = |stage, i, a| script.select(stage, i, a).map(|s| s.actions.clone());
        assert_eq!(
            pick("verification", 1, 2),
            Some(vec![Action::Print("a".into())])
        );
        assert_eq!(
            pick("verification", 1, 1),
            Some(vec![Action::Print("b".into())])
        );
        assert_eq!(
            pick("verification", 3, 2),
            Some(vec![Action::Print("c".into())])
        );
        assert_eq!(pick("ship", 1, 1), Some(vec![Action::Print("d".into())]));
        assert_eq!(Script::new().select("ship", 1, 1), None);
    }
}
