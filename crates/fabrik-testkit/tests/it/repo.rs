//! `TestRepo`, alone and as the fake agent's workspace.

use fabrik_testkit::{Script, Step, TestRepo, sha256_hex};
use pretty_assertions::assert_eq;

use crate::support::{inv, run_with_stdin};

#[test]
fn new_repo_has_one_clean_commit_on_main() {
    let repo = TestRepo::new();
    assert!(repo.path().join(".git").is_dir());
    assert_eq!(repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
    assert_eq!(repo.head().len(), 40);
    assert_eq!(repo.read("README.md"), "# test repo\n");
    assert_eq!(repo.git(&["config", "user.email"]), "test@fabrik.invalid");
    assert_eq!(repo.git(&["config", "commit.gpgsign"]), "false");
    assert!(repo.is_clean());
}

#[test]
fn write_commit_and_compare_trees() {
    let repo = TestRepo::new();
    let first = repo.head();
    repo.write("src/lib.rs", "pub fn a() {}\n")
        .write("notes.txt", "n");
    assert!(!repo.is_clean());
    assert_eq!(repo.status(), "?? notes.txt\n?? src/lib.rs");
    let second = repo.commit_all("add files");
    assert_ne!(first, second);
    assert_eq!(repo.head(), second);
    assert!(repo.is_clean());
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]), "add files");

    let tree = repo.tree_of("HEAD");
    let paths: Vec<&str> = tree
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    assert_eq!(paths, ["README.md", "notes.txt", "src/lib.rs"]);
    assert_eq!(repo.tree_of(&first).lines().count(), 1);

    let expected = vec![
        ("README.md".to_owned(), sha256_hex(b"# test repo\n")),
        ("notes.txt".to_owned(), sha256_hex(b"n")),
        ("src/lib.rs".to_owned(), sha256_hex(b"pub fn a() {}\n")),
    ];
    assert_eq!(repo.tree_listing(), expected);
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn git_failure_panics_with_stderr() {
    let repo = TestRepo::new();
    let err = std::panic::catch_unwind(|| repo.git(&["rev-parse", "no-such-rev"])).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("no-such-rev"), "{msg}");
    assert!(
        !repo
            .git_output(&["rev-parse", "no-such-rev"])
            .status
            .success()
    );
}

#[test]
fn without_commit_has_an_unborn_head() {
    let repo = TestRepo::without_commit();
    assert!(!repo.git_output(&["rev-parse", "HEAD"]).status.success());
    assert!(repo.tree_listing().is_empty());
}

#[test]
fn repo_is_removed_on_drop() {
    let repo = TestRepo::new();
    let path = repo.path().to_path_buf();
    drop(repo);
    assert!(!path.exists());
}

#[test]
fn fake_agent_edits_the_repo_it_runs_in() {
    let repo = TestRepo::new();
    let script_dir = tempfile::tempdir().unwrap();
    let script = Script::new().step(
        Step::stage("execution")
            .write("src/main.rs", "fn main() {}\n")
            .print("done"),
    );
    let path = script.write_to(script_dir.path().join("s.json"));
    let mut cmd = std::process::Command::new(crate::support::FAKE_AGENT);
    cmd.arg("--script").arg(path).current_dir(repo.path());
    cmd.env("FABRIK_STAGE", inv("execution", 1, 1).stage);
    let out = run_with_stdin(cmd, b"build it");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(repo.read("src/main.rs"), "fn main() {}\n");
    assert_eq!(repo.status(), "?? src/main.rs");
}
