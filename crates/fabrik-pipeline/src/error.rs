//! Errors that stop fabrik from driving a run at all. A run that fails a stage, a gate or
//! its verification is not an error: it ends with a result and an exit code.

use std::path::PathBuf;

/// Why a run could not be started, continued or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The task is empty or whitespace only (exit 5).
    #[error("the task is empty")]
    EmptyTask,
    /// An agent cannot run (exit 3).
    #[error(transparent)]
    Agent(#[from] fabrik_agent::Error),
    /// Not inside a git repository and `--allow-no-vcs` not given.
    #[error("`{}` is not inside a git repository", path.display())]
    NotARepo {
        /// The directory.
        path: PathBuf,
    },
    /// Worktree mode needs a commit to branch from.
    #[error("the repository at `{}` has no commits yet", path.display())]
    NoCommits {
        /// The repository.
        path: PathBuf,
    },
    /// In-place mode on a dirty tree without `--allow-dirty`.
    #[error("the working tree has uncommitted changes: {}", files.join(", "))]
    DirtyTree {
        /// The changed files (at most 10).
        files: Vec<String>,
    },
    /// A git command failed.
    #[error("`git {args}` failed: {stderr}")]
    Git {
        /// The arguments.
        args: String,
        /// Its stderr.
        stderr: String,
    },
    /// A file could not be read or written.
    #[error("failed to access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No such run.
    #[error("no run `{id}` in `{}`", dir.display())]
    RunNotFound {
        /// The id asked for.
        id: String,
        /// Where runs are kept.
        dir: PathBuf,
    },
    /// state.json does not parse.
    #[error("run state `{}` is corrupt: {reason}", path.display())]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// Parser message.
        reason: String,
    },
    /// Another fabrik holds the repo lock and `--no-wait` was given.
    #[error("another fabrik (pid {}) is running in this repository", pid.map_or_else(|| "unknown".to_owned(), |p| p.to_string()))]
    Busy {
        /// The holder's pid, when it wrote one.
        pid: Option<u32>,
    },
    /// The run cannot be resumed.
    #[error("run `{id}` cannot be resumed: {reason}")]
    NotResumable {
        /// The run.
        id: String,
        /// Why.
        reason: String,
    },
    /// A prompt override under `.fabrik/prompts/` does not parse or render (exit 3).
    #[error(transparent)]
    Prompt(#[from] crate::prompts::TemplateError),
    /// `--plan` file problems.
    #[error("plan `{}` is unusable: {reason}", path.display())]
    Plan {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Maps an I/O error on `path`.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
