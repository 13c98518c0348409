//! The crate's typed errors: conditions under which no finding can be produced at all
//! (unreadable or oversized plans, a repository or git that cannot be used). Everything
//! wrong *inside* a plan is a [`crate::Finding`], not an error.

use std::path::PathBuf;

/// What can stop parsing, grounding or a scope check before it produces findings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plan is larger than [`crate::ParseOptions::max_bytes`].
    #[error("plan `{path}` is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The plan file (or `<input>` for in-memory text).
        path: PathBuf,
        /// Its size in bytes (at least `limit + 1` when read from a stream).
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The plan is not UTF-8.
    #[error("plan `{path}` is not valid UTF-8: invalid byte at offset {offset} (line {line})")]
    NotUtf8 {
        /// The plan file (or `<input>`).
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
    },
    /// The plan path names a directory, a FIFO, a device or something else that is not a file.
    #[error("plan `{path}` is not a regular file")]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// Reading a file or directory failed.
    #[error("failed to read `{path}`")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The repository given for grounding or scope is not a directory.
    #[error("repository `{path}` is not a directory")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// `git` could not be started.
    #[error("failed to run `git` in `{dir}`")]
    GitSpawn {
        /// Where it was run.
        dir: PathBuf,
        /// Why it could not start.
        #[source]
        source: std::io::Error,
    },
    /// `git` ran and failed.
    #[error("`git {args}` failed in `{dir}`: {stderr}")]
    Git {
        /// Where it was run.
        dir: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// The last lines of its stderr.
        stderr: String,
    },
    /// The base revision of a scope check does not name a commit.
    #[error("base revision `{rev}` does not exist in `{repo}`")]
    UnknownRevision {
        /// The revision as given.
        rev: String,
        /// The repository it was looked up in.
        repo: PathBuf,
    },
    /// Writing rendered output failed.
    #[error("failed to write output")]
    Write(#[source] std::io::Error),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
