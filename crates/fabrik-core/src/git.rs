//! Running `git` (present wherever fabrik runs; no libgit2): one place that sets up the
//! child's environment, so every crate's git calls behave alike.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A git call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started.
    #[error("failed to run `git {args}` in `{}`", dir.display())]
    Spawn {
        /// Where it was run.
        dir: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// Why it could not start.
        #[source]
        source: std::io::Error,
    },
    /// `git` ran and exited non-zero.
    #[error("`git {args}` failed in `{}`: {stderr}", dir.display())]
    Failed {
        /// Where it was run.
        dir: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// The last lines of its stderr.
        stderr: String,
    },
}

/// Runs `git -C dir args...` and returns its stdout. The child gets `LC_ALL=C` (parsable
/// messages), no terminal prompts, a null stdin, and none of the `GIT_DIR`-style variables a
/// git hook would set (they would point the call at another repository).
///
/// # Errors
/// [`GitError`] when git cannot start or exits non-zero (with the end of its stderr).
pub fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = output(dir, args)?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.trim().lines().rev().take(5).collect();
    Err(GitError::Failed {
        dir: dir.to_path_buf(),
        args: args.join(" "),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// Runs git like [`run`] and returns its exit status, stdout and stderr whatever the status
/// (for commands whose non-zero exit is an answer, such as `commit` with nothing to commit).
///
/// # Errors
/// [`GitError::Spawn`] when git cannot start.
pub fn output(dir: &Path, args: &[&str]) -> Result<std::process::Output, GitError> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        // Never mark fabrik's own git calls as some agent's descendants (a fabrik run as an
        // agent inherits its parent's token).
        .env_remove(crate::process::TOKEN_VAR)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| GitError::Spawn {
            dir: dir.to_path_buf(),
            args: args.join(" "),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_carry_the_arguments_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let e = run(dir.path(), &["rev-parse", "HEAD"]).unwrap_err();
        assert!(
            matches!(&e, GitError::Failed { args, stderr, .. } if args == "rev-parse HEAD" && stderr.contains("not a git repository")),
            "{e}"
        );
        assert!(
            run(dir.path(), &["--version"])
                .unwrap()
                .starts_with(b"git version")
        );
    }
}
