//! The crate's error type. Messages are lowercase and name the file or revision.

use std::path::PathBuf;

/// What can go wrong while detecting clones.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path to scan or a file to read or write failed.
    #[error("failed to access `{path}`")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An ignore glob does not parse.
    #[error("invalid ignore glob `{glob}`")]
    Glob {
        /// The glob as given.
        glob: String,
        /// The underlying error.
        #[source]
        source: globset::Error,
    },
    /// A configuration file (`.jscpd.json`) is malformed.
    #[error("failed to parse `{path}` at line {line}, column {column}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A baseline file is malformed.
    #[error("failed to parse baseline `{path}` at line {line}: {message}")]
    Baseline {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Writing a report failed.
    #[error("failed to write the report")]
    Write(#[source] std::io::Error),
    /// An option value is out of range.
    #[error("invalid option: {0}")]
    Invalid(String),
    /// `git` could not be run.
    #[error("failed to run `git {args}` in `{dir}`")]
    GitSpawn {
        /// The arguments.
        args: String,
        /// The working directory.
        dir: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `git` ran and failed.
    #[error("`git {args}` failed in `{dir}`: {stderr}")]
    Git {
        /// The arguments.
        args: String,
        /// The working directory.
        dir: PathBuf,
        /// What git wrote to stderr (trimmed).
        stderr: String,
    },
    /// The directory is not inside a git work tree.
    #[error("`{0}` is not inside a git repository")]
    NotARepository(PathBuf),
    /// The base revision of `--changed` does not name a commit.
    #[error("unknown base revision `{rev}` in `{dir}`")]
    BadRevision {
        /// The revision as given.
        rev: String,
        /// The repository.
        dir: PathBuf,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// serde_json's message without its own " at line L column C" suffix (the error says it).
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
