//! `--in-place`: refuses a dirty tree, restores the tree when the run fails, leaves a
//! successful change uncommitted.

use fabrik_testkit::{Script, Step};
use pretty_assertions::assert_eq;

use crate::common::{Fixture, happy};

/// A builder that edits a tracked file and creates a new one.
fn editing_builder() -> Step {
    Step::stage("execution")
        .write("README.md", "# test repo\n\nEdited by the builder.\n")
        .write("src/new.rs", "pub fn added() {}\n")
        .print("edited\n")
}

#[test]
fn in_place_refuses_a_dirty_tree_unless_allowed() {
    let fx = Fixture::new();
    fx.script(happy());
    fx.repo
        .write("README.md", "# test repo\n\nwork in progress\n");
    let head = fx.repo.head();

    // A worktree run is fine, but says the edit is not part of it.
    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("warning: 1 uncommitted change(s) are not part of this run"),
        "{run:?}"
    );
    let branch = r["branch"].as_str().unwrap();
    assert_eq!(
        fx.repo.git(&["show", &format!("{branch}:README.md")]),
        "# test repo"
    );

    let calls = fx.calls().len();
    let run = fx.run(&["--in-place", "fix typo in docs"]);
    run.expect_code(3);
    assert!(run.stderr.contains("uncommitted changes"), "{run:?}");
    assert!(run.stderr.contains("README.md"), "{run:?}");
    assert!(run.stderr.contains("--allow-dirty"), "{run:?}");
    assert_eq!(fx.calls().len(), calls, "an agent ran on a refused tree");

    let run = fx.run(&["--in-place", "--allow-dirty", "fix typo in docs"]);
    run.expect_code(0);
    // The user's edit is still there, next to the agent's (uncommitted) change.
    assert_eq!(
        fx.repo.read("README.md"),
        "# test repo\n\nwork in progress\n"
    );
    assert_eq!(fx.repo.read("docs/fix.md"), "typo fixed\n");
    assert_eq!(fx.repo.head(), head);
}

#[test]
fn a_failed_in_place_run_restores_the_tree() {
    let fx = Fixture::new();
    fx.script(
        Script::new()
            .step(editing_builder())
            .step(Step::stage("verification").reject(&["no"])),
    );
    // The user's uncommitted edit of a tracked file (which the builder then overwrites)
    // and untracked file exist before the run and must survive it.
    fx.repo
        .write("README.md", "# test repo\n\nwork in progress\n");
    fx.repo.write("scratch.txt", "mine\n");
    let before = fx.repo.tree_listing();
    let head = fx.repo.head();

    let (run, r) = fx.run_json(&["--json", "--in-place", "--allow-dirty", "fix typo in docs"]);
    run.expect_code(2);
    assert_eq!(r["workspace"], "in place");
    assert_eq!(r["branch"], serde_json::Value::Null);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        fx.stages_called(&id),
        ["execution", "verification", "execution", "verification"]
    );

    let after: Vec<_> = fx
        .repo
        .tree_listing()
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".fabrik/"))
        .collect();
    assert_eq!(after, before);
    assert!(!fx.repo.exists("src/new.rs"));
    assert_eq!(
        fx.repo.read("README.md"),
        "# test repo\n\nwork in progress\n"
    );
    assert_eq!(fx.repo.head(), head);
    assert_eq!(fx.repo.git(&["diff", "--name-only"]), "README.md");
    assert_eq!(
        fx.repo.git(&["ls-files", "--others", "--exclude-standard"]),
        "scratch.txt"
    );
}

#[test]
fn a_failed_in_place_run_on_a_clean_tree_leaves_it_clean() {
    let fx = Fixture::new();
    fx.script(
        Script::new()
            .step(editing_builder())
            .step(Step::stage("verification").reject(&["no"])),
    );
    let (run, r) = fx.run_json(&["--json", "--in-place", "fix typo in docs"]);
    run.expect_code(2);
    assert_eq!(r["status"], "failure");
    assert!(fx.repo.is_clean(), "{}", fx.repo.status());
    assert!(!fx.repo.exists("src/new.rs"));
    assert_eq!(fx.repo.read("README.md"), "# test repo\n");
}

#[test]
fn a_successful_in_place_run_leaves_the_change_uncommitted() {
    let fx = Fixture::new();
    fx.script(
        Script::new()
            .step(editing_builder())
            .step(Step::stage("verification").approve())
            .step(Step::stage("ship").print("nothing to document\n")),
    );
    let head = fx.repo.head();
    let (run, r) = fx.run_json(&["--json", "--in-place", "fix typo in docs"]);
    run.expect_code(0);
    assert_eq!(r["status"], "success");
    assert_eq!(fx.repo.head(), head, "an in-place run must not commit");
    assert_eq!(fx.repo.git(&["diff", "--name-only"]), "README.md");
    assert_eq!(
        fx.repo.git(&["ls-files", "--others", "--exclude-standard"]),
        "src/new.rs"
    );
    assert_eq!(fx.repo.read("src/new.rs"), "pub fn added() {}\n");
    assert!(!fx.repo.exists(".fabrik/worktrees"));
    let calls = fx.calls();
    assert_eq!(
        calls[0].cwd.canonicalize().unwrap(),
        fx.repo.path().canonicalize().unwrap()
    );
}

#[test]
fn the_verifier_sees_the_files_an_in_place_builder_created() {
    let fx = Fixture::new();
    fx.script(
        Script::new()
            .step(editing_builder())
            .step(Step::stage("verification").approve())
            .step(Step::any().print("ok\n")),
    );
    let (run, r) = fx.run_json(&["--json", "--risk", "high", "--in-place", "fix typo in docs"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap();
    let verifier = fx
        .calls()
        .into_iter()
        .find(|c| c.stage == "verification" && c.run_id == id)
        .unwrap();
    assert!(
        verifier.prompt.contains("- src/new.rs"),
        "{}",
        verifier.prompt
    );
    assert!(
        verifier.prompt.contains("Edited by the builder."),
        "{}",
        verifier.prompt
    );
}
