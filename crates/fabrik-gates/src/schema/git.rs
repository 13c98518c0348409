//! The git plumbing the check needs: the top level, the base commit, its tree, the changed
//! paths and blob contents (one `git cat-file --batch` for all of them).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::schema::SchemaError;

/// Runs git in `dir` and returns its stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, SchemaError> {
    fabrik_core::git::run(dir, args).map_err(|e| match e {
        fabrik_core::git::GitError::Spawn { dir, source, .. } => {
            SchemaError::GitSpawn { dir, source }
        }
        fabrik_core::git::GitError::Failed { dir, args, stderr } => {
            SchemaError::Git { dir, args, stderr }
        }
    })
}

/// The work tree's top level.
pub(crate) fn toplevel(dir: &Path) -> Result<PathBuf, SchemaError> {
    let out = git(dir, &["rev-parse", "--show-toplevel"]).map_err(|e| match e {
        SchemaError::Git { .. } => SchemaError::NotARepo {
            dir: dir.to_path_buf(),
        },
        e => e,
    })?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out).trim_end_matches(['\n', '\r']),
    ))
}

/// The commit `rev` names.
pub(crate) fn resolve(top: &Path, rev: &str) -> Result<String, SchemaError> {
    let unknown = || SchemaError::UnknownRevision {
        rev: rev.to_owned(),
        repo: top.to_path_buf(),
    };
    if rev.is_empty() || rev.starts_with('-') {
        return Err(unknown());
    }
    let out = git(
        top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| unknown())?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// `(blob id, path)` of every file in the commit's tree.
pub(crate) fn ls_tree(top: &Path, commit: &str) -> Result<Vec<(String, String)>, SchemaError> {
    let out = git(top, &["ls-tree", "-r", "-z", "--full-tree", commit])?;
    Ok(out
        .split(|&b| b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (meta, path) = entry.split_once('\t')?;
            let mut meta = meta.split(' ');
            let (_, kind, id) = (meta.next()?, meta.next()?, meta.next()?);
            (kind == "blob").then(|| (id.to_owned(), path.to_owned()))
        })
        .collect())
}

/// Paths changed since `commit` in the working tree (staged, unstaged, untracked).
pub(crate) fn changed(top: &Path, commit: &str) -> Result<Vec<String>, SchemaError> {
    let diff = git(
        top,
        &[
            "-c",
            "core.quotepath=off",
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            commit,
            "--",
        ],
    )?;
    let untracked = git(top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    let mut out: Vec<String> = diff
        .split(|&b| b == 0)
        .chain(untracked.split(|&b| b == 0))
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The contents of the blobs, in order.
pub(crate) fn blobs(top: &Path, ids: &[&str]) -> Result<Vec<Vec<u8>>, SchemaError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let spawn_err = |source| SchemaError::GitSpawn {
        dir: top.to_path_buf(),
        source,
    };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(spawn_err)?;
    let input: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let mut stdin = child.stdin.take();
    // Written from another thread: git's output pipe could fill before all input is read.
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(input.as_bytes());
        }
        drop(stdin);
    });
    let mut raw = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|mut o| o.read_to_end(&mut raw))
        .transpose();
    let _ = writer.join();
    let status = child.wait();
    read.map_err(spawn_err)?;
    status.map_err(spawn_err)?;
    let bad = |what: &str| SchemaError::Git {
        dir: top.to_path_buf(),
        args: "cat-file --batch".into(),
        stderr: what.to_owned(),
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut rest = raw.as_slice();
    for id in ids {
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("truncated output"))?;
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        rest = &rest[nl + 1..];
        let size: usize = match header.split(' ').collect::<Vec<_>>().as_slice() {
            [_, _, size] => size.parse().map_err(|_| bad(&header))?,
            _ => return Err(bad(&format!("{id}: {header}"))),
        };
        if rest.len() < size + 1 {
            return Err(bad("truncated output"));
        }
        out.push(rest[..size].to_vec());
        rest = &rest[size + 1..];
    }
    Ok(out)
}
