//! Where a run edits files: a git worktree and branch per run (default), or the user's tree
//! in place with a checkpoint restored on failure. Commits carry trailers naming the run,
//! stage and iteration, so a stage retried after a crash adopts its commit instead of
//! repeating it.

use std::path::{Path, PathBuf};

use fabrik_core::{RunId, Stage};

use crate::error::{Error, Result, io};
use crate::git::{self, git};
use crate::state::{Checkpoint, WorkspaceKind, WorkspaceState};

/// Creates the worktree `.fabrik/worktrees/<id>` on branch `fabrik/<id>` from HEAD.
///
/// The worktree a run will use (nothing is created yet: the run's state is saved first, so
/// a crash at any instant leaves a resumable run, never an orphan worktree).
///
/// # Errors
/// [`Error::NoCommits`] in a repository without commits.
pub fn plan_worktree(root: &Path, id: &RunId) -> Result<WorkspaceState> {
    let base = git::head(root).ok_or_else(|| Error::NoCommits {
        path: root.to_path_buf(),
    })?;
    Ok(WorkspaceState {
        mode: WorkspaceKind::Worktree,
        path: worktree_path(root, id).to_string_lossy().into_owned(),
        branch: Some(format!("fabrik/{id}")),
        base_commit: Some(base),
        checkpoint: None,
    })
}

/// Makes sure the run's worktree exists: creates it (and its branch) the first time,
/// re-attaches the branch when a crash interrupted the creation, and on a resumed run
/// discards the uncommitted edits of the stage that was in flight (stages commit before
/// they are recorded as done, so anything uncommitted belongs to an unfinished attempt).
///
/// # Errors
/// git failures.
pub fn ensure_worktree(root: &Path, ws: &WorkspaceState) -> Result<()> {
    let (Some(branch), Some(base)) = (&ws.branch, &ws.base_commit) else {
        return Ok(());
    };
    let path = Path::new(&ws.path);
    if path.join(".git").exists() {
        return discard_uncommitted(path);
    }
    let p = ws.path.as_str();
    // The first time, nothing is in the way: one git call. Anything else (a branch or a
    // registration left by a crash) makes it fail and takes the careful path below.
    if !path.exists() && git(root, &["worktree", "add", "-q", "-b", branch, p, base]).is_ok() {
        return Ok(());
    }
    // A `worktree add` killed half-way leaves a registration (and maybe a directory) behind.
    let _ = git(root, &["worktree", "prune"]);
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(io(path))?;
    }
    if git(
        root,
        &[
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ],
    )
    .is_ok()
    {
        git(root, &["worktree", "add", "-q", p, branch])?;
    } else {
        git(root, &["worktree", "add", "-q", "-b", branch, p, base])?;
    }
    Ok(())
}

/// Runs `f` on a directory holding the tree at HEAD: the repository itself when it has no
/// uncommitted or untracked changes, otherwise a temporary detached worktree (removed after).
///
/// # Errors
/// git failures.
pub fn with_head_checkout<T>(root: &Path, f: impl FnOnce(&Path) -> T) -> Result<T> {
    if git::dirty_files(root)?.is_empty() {
        return Ok(f(root));
    }
    let tmp = root
        .join(".fabrik")
        .join(format!("head-{}", std::process::id()));
    let p = tmp.to_string_lossy().into_owned();
    git(root, &["worktree", "add", "-q", "--detach", &p, "HEAD"])?;
    let out = f(&tmp);
    let _ = git(root, &["worktree", "remove", "--force", &p]);
    Ok(out)
}

/// `<root>/.fabrik/worktrees/<id>`.
#[must_use]
pub fn worktree_path(root: &Path, id: &RunId) -> PathBuf {
    root.join(".fabrik").join("worktrees").join(id.as_str())
}

/// The in-place workspace: refuses a dirty tree unless `allow_dirty`; without git (only
/// with `allow_no_vcs`) there is no checkpoint.
///
/// # Errors
/// [`Error::DirtyTree`], git failures.
pub fn in_place(root: &Path, has_git: bool, allow_dirty: bool) -> Result<WorkspaceState> {
    let base_commit = if has_git { git::head(root) } else { None };
    if has_git && !allow_dirty {
        let dirty = git::dirty_files(root)?;
        if !dirty.is_empty() {
            return Err(Error::DirtyTree {
                files: dirty.into_iter().take(10).collect(),
            });
        }
    }
    Ok(WorkspaceState {
        mode: WorkspaceKind::InPlace,
        path: root.to_string_lossy().into_owned(),
        branch: None,
        base_commit,
        checkpoint: None,
    })
}

/// Records what an in-place tree looks like before execution.
///
/// # Errors
/// git failures.
pub fn checkpoint(dir: &Path) -> Result<Checkpoint> {
    let head = git::head(dir);
    let stash = git(dir, &["stash", "create"])
        .ok()
        .filter(|s| !s.is_empty());
    Ok(Checkpoint {
        head,
        stash,
        untracked: git::untracked(dir)?,
    })
}

/// Restores an in-place tree to `cp`: tracked files to the checkpoint's HEAD (plus its
/// uncommitted changes), files the run created removed; untracked files that existed at the
/// checkpoint are kept.
///
/// # Errors
/// git or I/O failures.
pub fn restore(dir: &Path, cp: &Checkpoint) -> Result<()> {
    let Some(head) = &cp.head else { return Ok(()) };
    git(dir, &["reset", "-q", "--hard", head])?;
    for f in git::untracked(dir)? {
        if !cp.untracked.contains(&f) {
            let p = dir.join(&f);
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    if let Some(stash) = &cp.stash {
        git(dir, &["stash", "apply", "-q", stash])?;
    }
    Ok(())
}

fn trailers(id: &RunId, stage: Stage, iteration: u32) -> String {
    format!("Fabrik-Run: {id}\nFabrik-Stage: {stage}\nFabrik-Iteration: {iteration}")
}

/// Whether HEAD of `dir` is this run's commit for (stage, iteration).
#[must_use]
pub fn head_is_commit_of(dir: &Path, id: &RunId, stage: Stage, iteration: u32) -> Option<String> {
    let body = git(dir, &["log", "-1", "--format=%B"]).ok()?;
    body.contains(&trailers(id, stage, iteration))
        .then(|| git::head(dir))
        .flatten()
}

/// Commits everything in the worktree, naming the run; `None` when nothing changed.
/// `identity` supplies a committer when the repository has none configured.
///
/// # Errors
/// git failures.
pub fn commit(
    dir: &Path,
    id: &RunId,
    stage: Stage,
    iteration: u32,
    summary: &str,
    identity: bool,
) -> Result<Option<String>> {
    git(dir, &["add", "-A"])?;
    let msg = format!(
        "fabrik({id}): {stage} {iteration}: {summary}\n\n{}",
        trailers(id, stage, iteration)
    );
    let mut args = vec![];
    if identity {
        args.extend([
            "-c",
            "user.name=fabrik",
            "-c",
            "user.email=fabrik@localhost",
        ]);
    }
    // No hooks (the verifier and gates are the checks) and no auto-maintenance spawned per commit.
    args.extend([
        "-c",
        "maintenance.auto=false",
        "-c",
        "gc.auto=0",
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &msg,
    ]);
    let out = fabrik_core::git::output(dir, &args).map_err(|e| Error::Git {
        args: "commit".into(),
        stderr: e.to_string(),
    })?;
    if out.status.success() {
        return git::head(dir).map(Some).ok_or_else(|| Error::Git {
            args: "rev-parse HEAD".into(),
            stderr: "no commit after `git commit` succeeded".into(),
        });
    }
    // `git commit` exits 1 with nothing staged (and says so on stdout, in English: git runs
    // with LC_ALL=C); anything else is a real failure.
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout.contains("nothing to commit") || git(dir, &["diff", "--cached", "--quiet"]).is_ok() {
        return Ok(None);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(Error::Git {
        args: "commit".into(),
        stderr: stderr.trim().to_owned(),
    })
}

/// Discards uncommitted edits in a worktree (before re-running a stage that was in flight).
///
/// # Errors
/// git failures.
pub fn discard_uncommitted(dir: &Path) -> Result<()> {
    git(dir, &["reset", "-q", "--hard", "HEAD"])?;
    git(dir, &["clean", "-q", "-fd"])?;
    Ok(())
}

/// The diff of the run so far (bounded), for the verifier, with the `untracked` files
/// (from [`git::untracked`]) listed after it.
#[must_use]
pub fn diff(dir: &Path, base: Option<&str>, max_bytes: usize, untracked: &[String]) -> String {
    let Some(base) = base else {
        return String::from("(no git: diff unavailable)");
    };
    let mut d = git(dir, &["diff", "--stat", "-p", base]).unwrap_or_default();
    if !untracked.is_empty() {
        d.push_str("\n\nUntracked new files:\n");
        for f in untracked {
            d.push_str(&format!("- {f}\n"));
        }
    }
    if d.len() > max_bytes {
        let mut cut = max_bytes;
        while !d.is_char_boundary(cut) {
            cut -= 1;
        }
        d.truncate(cut);
        d.push_str("\n[... diff truncated ...]\n");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_says_none_when_nothing_changed_and_names_the_commit_otherwise() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]).unwrap();
        std::fs::write(dir.join("a.txt"), "a\n").unwrap();
        let id = RunId::generate();
        let first = commit(dir, &id, Stage::Execution, 1, "add a", true).unwrap();
        let head = git(dir, &["rev-parse", "HEAD"]).unwrap();
        assert_eq!(first.as_deref(), Some(head.as_str()));
        assert_eq!(
            commit(dir, &id, Stage::Ship, 1, "docs", true).unwrap(),
            None,
            "a clean tree is not an error"
        );
        assert_eq!(
            head_is_commit_of(dir, &id, Stage::Execution, 1).as_deref(),
            Some(head.as_str())
        );
        assert_eq!(head_is_commit_of(dir, &id, Stage::Ship, 1), None);

        // A real failure is an error, not "nothing to commit": signing that cannot work.
        std::fs::write(dir.join("b.txt"), "b\n").unwrap();
        git(dir, &["config", "commit.gpgsign", "true"]).unwrap();
        git(dir, &["config", "gpg.program", "/nonexistent/gpg"]).unwrap();
        let err = commit(dir, &id, Stage::Ship, 1, "docs", true).unwrap_err();
        assert!(err.to_string().contains("gpg"), "{err}");
    }
}
