//! Thin helpers over the `git` binary (present wherever fabrik runs; no libgit2).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Runs `git -C dir args...` and returns trimmed stdout.
///
/// # Errors
/// [`Error::Git`] with the stderr when git fails or cannot start.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    match fabrik_core::git::run(dir, args) {
        Ok(out) => Ok(String::from_utf8_lossy(&out).trim_end().to_owned()),
        Err(fabrik_core::git::GitError::Spawn { source, .. }) => Err(Error::Git {
            args: args.join(" "),
            stderr: source.to_string(),
        }),
        Err(fabrik_core::git::GitError::Failed { stderr, .. }) => Err(Error::Git {
            args: args.join(" "),
            stderr,
        }),
    }
}

/// The top of the work tree containing `dir`, or `None` outside git. Remembered per
/// process: the answer does not change while fabrik runs, and each git call costs a spawn.
#[must_use]
pub fn toplevel(dir: &Path) -> Option<PathBuf> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<PathBuf>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(dir).cloned()) {
        return hit;
    }
    let top = git(dir, &["rev-parse", "--show-toplevel"])
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    if let Ok(mut c) = cache.lock() {
        c.insert(dir.to_path_buf(), top.clone());
    }
    top
}

/// Files with uncommitted changes (tracked or untracked, not ignored).
///
/// # Errors
/// git failures.
pub fn dirty_files(dir: &Path) -> Result<Vec<String>> {
    let s = git(dir, &["status", "--porcelain", "--untracked-files=all"])?;
    Ok(s.lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_owned)
        .collect())
}

/// Untracked, not ignored files.
///
/// # Errors
/// git failures.
pub fn untracked(dir: &Path) -> Result<Vec<String>> {
    let s = git(dir, &["ls-files", "--others", "--exclude-standard"])?;
    Ok(s.lines().map(str::to_owned).collect())
}

/// Files changed since `base` (committed, uncommitted and untracked), sorted, unique.
///
/// # Errors
/// git failures.
pub fn changed_since(dir: &Path, base: &str) -> Result<Vec<String>> {
    let mut files: Vec<String> = git(dir, &["diff", "--name-only", base])?
        .lines()
        .map(str::to_owned)
        .collect();
    files.extend(untracked(dir)?);
    files.sort();
    files.dedup();
    Ok(files)
}

/// Whether the repository has an identity to commit with.
#[must_use]
pub fn has_identity(dir: &Path) -> bool {
    git(dir, &["config", "user.email"]).is_ok_and(|s| !s.is_empty())
}
