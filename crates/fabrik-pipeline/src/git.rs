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

/// Files changed since `base` (committed and uncommitted) plus the `untracked` ones (from
/// [`untracked`]), sorted, unique.
///
/// # Errors
/// git failures.
pub fn changed_since(dir: &Path, base: &str, untracked: &[String]) -> Result<Vec<String>> {
    let mut files: Vec<String> = git(dir, &["diff", "--name-only", base])?
        .lines()
        .map(str::to_owned)
        .collect();
    files.extend_from_slice(untracked);
    files.sort();
    files.dedup();
    Ok(files)
}

/// The commit HEAD of the work tree at `dir` points to, or `None` without commits (or
/// outside git).
///
/// Read from the repository's files when they have the classic layout (`.git` directory or
/// worktree `gitdir:` file, loose or packed refs): fabrik asks after every commit, and a
/// spawn of git costs more than the rest of the step. Anything else (reftable, a symref
/// chain, an unreadable file, a subdirectory of the work tree) falls back to `git
/// rev-parse`. Like every git call of fabrik's, it ignores `GIT_DIR` and friends.
#[must_use]
pub fn head(dir: &Path) -> Option<String> {
    read_head(dir).or_else(|| git(dir, &["rev-parse", "--verify", "-q", "HEAD^{commit}"]).ok())
}

fn read_head(dir: &Path) -> Option<String> {
    let dot_git = dir.join(".git");
    let gitdir = if dot_git.is_dir() {
        dot_git
    } else {
        let link = std::fs::read_to_string(&dot_git).ok()?;
        let target = PathBuf::from(link.strip_prefix("gitdir:")?.trim());
        dir.join(target)
    };
    let common = match std::fs::read_to_string(gitdir.join("commondir")) {
        Ok(rel) => gitdir.join(rel.trim()),
        Err(_) => gitdir.clone(),
    };
    let head = std::fs::read_to_string(gitdir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref: ") else {
        return object_id(head);
    };
    if !name.starts_with("refs/heads/") || name.contains("..") {
        return None;
    }
    if let Ok(id) = std::fs::read_to_string(common.join(name)) {
        return object_id(id.trim());
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .find_map(|l| {
            let (id, refname) = l.split_once(' ')?;
            (refname == name).then(|| object_id(id)).flatten()
        })
}

/// `s` if it is a full SHA-1 or SHA-256 object id in lowercase hex.
fn object_id(s: &str) -> Option<String> {
    let hex = s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (matches!(s.len(), 40 | 64) && hex).then(|| s.to_owned())
}

/// Whether the repository has an identity to commit with.
#[must_use]
pub fn has_identity(dir: &Path) -> bool {
    git(dir, &["config", "user.email"]).is_ok_and(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`git`] with an identity for commits; panics on failure.
    fn run(dir: &Path, args: &[&str]) -> String {
        let identity = [
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "-c",
            "commit.gpgsign=false",
        ];
        let all: Vec<&str> = identity.iter().chain(args).copied().collect();
        git(dir, &all).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn head_is_read_from_the_repository_files_like_git_would() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        run(&repo, &["init", "-q", "-b", "main"]);
        assert_eq!(read_head(&repo), None, "unborn branch");
        assert_eq!(head(&repo), None);
        std::fs::write(repo.join("a"), "a").unwrap();
        run(&repo, &["add", "a"]);
        run(&repo, &["commit", "-q", "-m", "one"]);
        let one = run(&repo, &["rev-parse", "HEAD"]);
        assert_eq!(read_head(&repo).as_deref(), Some(one.as_str()), "loose ref");

        run(&repo, &["pack-refs", "--all"]);
        assert!(!repo.join(".git/refs/heads/main").exists());
        assert_eq!(
            read_head(&repo).as_deref(),
            Some(one.as_str()),
            "packed ref"
        );

        let wt = tmp.path().join("wt");
        run(
            &repo,
            &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()],
        );
        std::fs::write(wt.join("b"), "b").unwrap();
        run(&wt, &["add", "b"]);
        run(&wt, &["commit", "-q", "-m", "two"]);
        let two = run(&wt, &["rev-parse", "HEAD"]);
        assert_ne!(one, two);
        assert_eq!(read_head(&wt).as_deref(), Some(two.as_str()), "worktree");
        assert_eq!(read_head(&repo).as_deref(), Some(one.as_str()));

        run(&repo, &["checkout", "-q", "--detach", &two]);
        assert_eq!(read_head(&repo).as_deref(), Some(two.as_str()), "detached");

        // Not the top of the work tree: git answers.
        std::fs::create_dir(repo.join("sub")).unwrap();
        assert_eq!(read_head(&repo.join("sub")), None);
        assert_eq!(head(&repo.join("sub")).as_deref(), Some(two.as_str()));
    }
}
