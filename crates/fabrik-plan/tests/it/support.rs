//! Shared helpers: the corpus location, fixture repositories copied into temp dirs with git.

use std::path::{Path, PathBuf};
use std::process::Command;

use fabrik_plan::{Finding, GroundOptions, LintOptions, ParseOptions, Plan};

pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn plans_dir() -> PathBuf {
    crate_dir().join("tests/plans")
}

pub(crate) fn load(name: &str) -> Plan {
    Plan::load(&plans_dir().join(name), &ParseOptions::default()).unwrap()
}

pub(crate) fn parse(text: &str) -> Plan {
    Plan::parse(text, &ParseOptions::default()).unwrap()
}

pub(crate) fn lint(plan: &Plan) -> Vec<Finding> {
    fabrik_plan::lint(plan, &LintOptions::default())
}

pub(crate) fn ground(plan: &Plan, repo: &Path) -> Vec<Finding> {
    fabrik_plan::ground(plan, repo, &GroundOptions::default()).unwrap()
}

pub(crate) fn ids(findings: &[Finding]) -> Vec<&'static str> {
    let mut v: Vec<_> = findings.iter().map(|f| f.rule.id()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A fixture repository (`tests/repos/<name>`) copied into a temp dir and committed.
pub(crate) fn repo(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&crate_dir().join("tests/repos").join(name), dir.path());
    if name == "tally" {
        // A symlink out of the repository, for `P075 ground-path-outside-repo`.
        std::os::unix::fs::symlink(std::env::temp_dir(), dir.path().join("shared-cache")).unwrap();
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

pub(crate) fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}
