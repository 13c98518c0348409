//! Errors of the schema check: problems with the repository or the revision, never with
//! the schema files themselves (those become parse warnings).

use std::path::PathBuf;

/// Why the schema check could not run.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// `dir` is not inside a git work tree.
    #[error("`{}` is not inside a git repository", dir.display())]
    NotARepo {
        /// The directory asked about.
        dir: PathBuf,
    },
    /// The base revision names no commit.
    #[error("unknown base revision `{rev}` in `{}`", repo.display())]
    UnknownRevision {
        /// The revision as given.
        rev: String,
        /// The repository's top level.
        repo: PathBuf,
    },
    /// git could not be started.
    #[error("could not run git in `{}`", dir.display())]
    GitSpawn {
        /// Where git was run.
        dir: PathBuf,
        /// The spawn error.
        #[source]
        source: std::io::Error,
    },
    /// git failed.
    #[error("`git {args}` failed in `{}`: {stderr}", dir.display())]
    Git {
        /// Where git was run.
        dir: PathBuf,
        /// Its arguments.
        args: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// A file could not be read.
    #[error("could not read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing the report failed (a closed pipe is not worth an error code).
    #[error("failed to write output")]
    Write(#[source] std::io::Error),
}
