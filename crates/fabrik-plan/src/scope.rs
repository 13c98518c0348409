//! The scope check: the working tree's changes since a base revision (`git diff
//! --name-status -M BASE` plus untracked files) compared with the plan's manifest and
//! DO-NOT-TOUCH list. Shells out to `git` (DESIGN §1) with `-z` output so that any path
//! (spaces, quotes, newlines) parses.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};
use crate::model::Action;
use crate::paths;
use crate::plan::Plan;
use crate::rules::{Finding, Rule, Span, sort_findings};

/// One change between the base and the working tree.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Change {
    Added(String),
    Modified(String),
    Deleted(String),
    Renamed(String, String),
}

/// A manifest row with normalised paths.
struct Row {
    path: String,
    to: Option<String>,
    action: Action,
    span: Span,
}

/// Compares the changes in `repo` since `base` with the plan's manifest.
///
/// # Errors
/// [`Error::UnknownRevision`] when `base` names no commit; [`Error::Git`] /
/// [`Error::GitSpawn`] when git fails or `repo` is not a git work tree.
pub fn check_scope(repo: &Path, plan: &Plan, base: &str) -> Result<Vec<Finding>> {
    let top =
        PathBuf::from(git(repo, &["rev-parse", "--show-toplevel"])?.trim_end_matches(['\n', '\r']));
    let unknown = || Error::UnknownRevision {
        rev: base.to_owned(),
        repo: top.clone(),
    };
    if base.starts_with('-') || base.is_empty() {
        return Err(unknown());
    }
    let sha = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{base}^{{commit}}"),
        ],
    )
    .map_err(|_| unknown())?;
    let sha = sha.trim();
    let diff = git(
        &top,
        &[
            "diff",
            "--name-status",
            "-z",
            "-M",
            "--no-ext-diff",
            sha,
            "--",
        ],
    )?;
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    let own = plan_path_in(&top, plan);
    let mut changes = parse_name_status(&diff);
    changes.extend(
        untracked
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(|p| Change::Added(p.to_owned())),
    );
    changes.retain(
        |c| !matches!(c, Change::Added(p) | Change::Modified(p) if Some(p) == own.as_ref()),
    );
    Ok(compare(plan, &changes))
}

/// Runs git in `dir` and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = fabrik_core::git::run(dir, args).map_err(|e| match e {
        fabrik_core::git::GitError::Spawn { dir, source, .. } => Error::GitSpawn { dir, source },
        fabrik_core::git::GitError::Failed { dir, args, stderr } => {
            Error::Git { dir, args, stderr }
        }
    })?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The plan file's path relative to the work tree, when it lies inside it (it is the
/// input of the check, not a change to judge).
fn plan_path_in(top: &Path, plan: &Plan) -> Option<String> {
    let origin = plan.origin()?.canonicalize().ok()?;
    let top = top.canonicalize().ok()?;
    Some(
        origin
            .strip_prefix(top)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/"),
    )
}

/// Parses `git diff --name-status -z` output.
fn parse_name_status(s: &str) -> Vec<Change> {
    let mut out = Vec::new();
    let mut it = s.split('\0').filter(|f| !f.is_empty());
    while let Some(status) = it.next() {
        let Some(path) = it.next() else { break };
        let change = match status.chars().next() {
            Some('A') => Change::Added(path.to_owned()),
            Some('D') => Change::Deleted(path.to_owned()),
            Some('R') => match it.next() {
                Some(new) => Change::Renamed(path.to_owned(), new.to_owned()),
                None => break,
            },
            Some('C') => match it.next() {
                Some(new) => Change::Added(new.to_owned()),
                None => break,
            },
            _ => Change::Modified(path.to_owned()),
        };
        out.push(change);
    }
    out
}

fn compare(plan: &Plan, changes: &[Change]) -> Vec<Finding> {
    let mut out = Vec::new();
    do_not_touch(plan, changes, &mut out);
    let rows: Vec<Row> = plan
        .manifest()
        .iter()
        .filter_map(|r| {
            Some(Row {
                path: paths::normalize(&r.path, false).ok()?,
                to: r
                    .rename_to
                    .as_deref()
                    .and_then(|t| paths::normalize(t, false).ok()),
                action: r.action?,
                span: r.span,
            })
        })
        .collect();
    if rows.is_empty() {
        out.push(Finding::new(
            Rule::ScopeNoManifest,
            None,
            "the plan has no usable manifest rows; every change is unplanned",
        ));
        sort_findings(&mut out);
        return out;
    }
    let mut touched: HashSet<&str> = HashSet::new();
    let mut deleted: HashSet<&str> = HashSet::new();
    for c in changes {
        match c {
            Change::Renamed(old, new)
                if rows.iter().any(|r| {
                    r.action == Action::Rename && &r.path == old && r.to.as_ref() == Some(new)
                }) => {}
            Change::Renamed(old, new) => {
                judge(&rows, old, Kind::Deleted, &mut out);
                judge(&rows, new, Kind::Added, &mut out);
            }
            Change::Added(p) => judge(&rows, p, Kind::Added, &mut out),
            Change::Modified(p) => judge(&rows, p, Kind::Modified, &mut out),
            Change::Deleted(p) => judge(&rows, p, Kind::Deleted, &mut out),
        }
        match c {
            Change::Renamed(old, new) => {
                touched.extend([old.as_str(), new.as_str()]);
                deleted.insert(old);
            }
            Change::Deleted(p) => {
                touched.insert(p);
                deleted.insert(p);
            }
            Change::Added(p) | Change::Modified(p) => {
                touched.insert(p);
            }
        }
    }
    planned(&rows, &touched, &deleted, &mut out);
    sort_findings(&mut out);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Added,
    Modified,
    Deleted,
}

/// One side of a change against the manifest row covering it.
fn judge(rows: &[Row], path: &str, kind: Kind, out: &mut Vec<Finding>) {
    let row = rows.iter().find(|r| {
        paths::covers(&r.path, path) || r.to.as_deref().is_some_and(|t| paths::covers(t, path))
    });
    let Some(row) = row else {
        let what = match kind {
            Kind::Added => "created",
            Kind::Modified => "modified",
            Kind::Deleted => "deleted",
        };
        out.push(
            Finding::new(
                Rule::ScopeUnplannedChange,
                None,
                format!("`{path}` was {what} but is not in the manifest"),
            )
            .with_path(path),
        );
        return;
    };
    let is_new_side = row.to.as_deref().is_some_and(|t| paths::covers(t, path));
    let at = Some(row.span);
    let finding = match (row.action, kind) {
        (Action::Create, Kind::Added)
        | (Action::Modify, Kind::Modified)
        | (Action::Delete, Kind::Deleted) => None,
        (Action::Rename, Kind::Added) if is_new_side => None,
        (Action::Rename, Kind::Deleted) if !is_new_side => None,
        (Action::Create, Kind::Modified) => Some(Finding::new(
            Rule::ScopeCreateModifiedExisting,
            at,
            format!("the plan says CREATE `{path}`, but it existed at the base and was modified"),
        )),
        (Action::Modify, Kind::Added) => Some(Finding::new(
            Rule::ScopeModifyCreated,
            at,
            format!(
                "the plan says MODIFY `{path}`, but it did not exist at the base and was created"
            ),
        )),
        (action, kind) => {
            let did = match kind {
                Kind::Added => "created",
                Kind::Modified => "modified",
                Kind::Deleted => "deleted",
            };
            Some(Finding::new(
                Rule::ScopeActionMismatch,
                at,
                format!(
                    "the plan says {} `{}`, but `{path}` was {did}",
                    action.as_str(),
                    row.path
                ),
            ))
        }
    };
    out.extend(finding.map(|f| f.with_path(path)));
}

/// Planned actions that did not happen.
fn planned(rows: &[Row], touched: &HashSet<&str>, deleted: &HashSet<&str>, out: &mut Vec<Finding>) {
    for r in rows {
        let hit = |p: &str, set: &HashSet<&str>| set.iter().any(|t| paths::covers(p, t));
        let f = match r.action {
            Action::Delete | Action::Rename if !hit(&r.path, deleted) && !hit(&r.path, touched) => {
                Finding::new(
                    Rule::ScopeDeleteNotDone,
                    Some(r.span),
                    format!(
                        "the plan says {} `{}`, but it is still there unchanged",
                        r.action.as_str(),
                        r.path
                    ),
                )
            }
            Action::Create | Action::Modify if !hit(&r.path, touched) => Finding::new(
                Rule::ScopePlannedUntouched,
                Some(r.span),
                format!(
                    "the plan says {} `{}`, but the diff does not touch it",
                    r.action.as_str(),
                    r.path
                ),
            ),
            _ => continue,
        };
        out.push(f.with_path(r.path.clone()));
    }
}

/// S002: any side of any change that matches a DO-NOT-TOUCH glob.
fn do_not_touch(plan: &Plan, changes: &[Change], out: &mut Vec<Finding>) {
    let mut b = GlobSetBuilder::new();
    // Only globs that compile (the lint reports the others); `index` maps set positions back.
    let mut index = Vec::new();
    for g in plan.do_not_touch() {
        if let Ok(glob) = Glob::new(&g.glob) {
            b.add(glob);
            index.push(g);
        }
    }
    let set = b.build().unwrap_or_else(|_| GlobSet::empty());
    for c in changes {
        let sides: Vec<&str> = match c {
            Change::Renamed(a, b) => vec![a, b],
            Change::Added(p) | Change::Modified(p) | Change::Deleted(p) => vec![p],
        };
        for p in sides {
            if let Some(&i) = set.matches(p).first() {
                let g = index[i];
                out.push(
                    Finding::new(
                        Rule::ScopeDoNotTouch,
                        Some(g.span),
                        format!("`{p}` was changed but matches DO-NOT-TOUCH `{}`", g.glob),
                    )
                    .with_path(p),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_z_parses_renames_and_odd_paths() {
        let s = "M\0a b.rs\0R087\0old.rs\0new.rs\0D\0gone\0A\0x\ny\0C100\0src.rs\0copy.rs\0";
        assert_eq!(
            parse_name_status(s),
            vec![
                Change::Modified("a b.rs".into()),
                Change::Renamed("old.rs".into(), "new.rs".into()),
                Change::Deleted("gone".into()),
                Change::Added("x\ny".into()),
                Change::Added("copy.rs".into()),
            ]
        );
    }
}
