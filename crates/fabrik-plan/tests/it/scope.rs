//! The scope check on temporary git repositories: each kind of violation, renames, and
//! the errors for a missing base revision or a directory that is not a repository.

use std::path::Path;

use fabrik_plan::{Error, Finding, Plan, check_scope};
use pretty_assertions::assert_eq;

use crate::support::{self, git, ids, write};

fn ok_plan_text() -> String {
    std::fs::read_to_string(support::plans_dir().join("ok-rust-remove-command.md")).unwrap()
}

fn append(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    let mut s = std::fs::read_to_string(&p).unwrap();
    s.push_str(text);
    std::fs::write(p, s).unwrap();
}

/// The changes the ok plan asks for.
fn do_the_plan(root: &Path) {
    append(root, "src/main.rs", "// remove arm\n");
    append(root, "src/store.rs", "// remove_item\n");
    append(root, "README.md", "    tally remove apple\n");
    write(root, "tests/remove.rs", "#[test]\nfn removes() {}\n");
}

fn scope(root: &Path, plan: &Plan) -> Vec<Finding> {
    check_scope(root, plan, "HEAD").unwrap()
}

fn messages(f: &[Finding]) -> Vec<(&'static str, String)> {
    f.iter().map(|f| (f.rule.id(), f.message.clone())).collect()
}

#[test]
fn planned_changes_pass() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&ok_plan_text()))),
        vec![]
    );
    // Staged changes count the same as unstaged ones.
    git(repo.path(), &["add", "-A"]);
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&ok_plan_text()))),
        vec![]
    );
}

#[test]
fn unplanned_change_is_found() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    append(repo.path(), ".gitignore", "*.bak\n");
    write(repo.path(), "src/helpers.rs", "pub fn helper() {}\n");
    let f = scope(repo.path(), &support::parse(&ok_plan_text()));
    assert_eq!(
        messages(&f),
        [
            (
                "S001",
                "`.gitignore` was modified but is not in the manifest".to_owned()
            ),
            (
                "S001",
                "`src/helpers.rs` was created but is not in the manifest".to_owned()
            ),
        ]
    );
    assert_eq!(f[0].path.as_deref(), Some(".gitignore"));
}

#[test]
fn do_not_touch_is_found() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    append(repo.path(), "migrations/001_init.sql", "-- edited\n");
    let f = scope(repo.path(), &support::parse(&ok_plan_text()));
    assert_eq!(ids(&f), ["S001", "S002"]);
    let s002 = f.iter().find(|f| f.rule.id() == "S002").unwrap();
    assert_eq!(
        s002.message,
        "`migrations/001_init.sql` was changed but matches DO-NOT-TOUCH `migrations/**`"
    );
    // Points at the DO-NOT-TOUCH entry in the plan.
    assert_eq!(s002.span.map(|s| s.line), Some(36));
}

#[test]
fn create_that_modified_an_existing_file_is_found() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    std::fs::remove_file(repo.path().join("tests/remove.rs")).unwrap();
    append(repo.path(), "tests/store.rs", "// more\n");
    let text = ok_plan_text().replace(
        "| `tests/remove.rs` | CREATE |",
        "| `tests/store.rs` | CREATE |",
    );
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&text))),
        [(
            "S003",
            "the plan says CREATE `tests/store.rs`, but it existed at the base and was modified"
                .to_owned()
        )]
    );
}

#[test]
fn modify_that_created_a_file_is_found() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    std::fs::remove_file(repo.path().join("tests/remove.rs")).unwrap();
    write(repo.path(), "tests/remove.rs", "// created\n");
    let text = ok_plan_text()
        .replace(
            "| `tests/remove.rs` | CREATE |",
            "| `tests/remove.rs` | MODIFY |",
        )
        .replace(
            "| integration tests for `tally remove` | - |",
            "| integration tests for `tally remove` | the other tests |",
        );
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&text))),
        [("S004", "the plan says MODIFY `tests/remove.rs`, but it did not exist at the base and was created".to_owned())]
    );
}

#[test]
fn delete_not_done_and_wrong_kind_of_change_are_found() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    let text = ok_plan_text().replace("| `README.md` | MODIFY |", "| `tests/store.rs` | DELETE | replaced by `tests/remove.rs` | - |\n| `README.md` | MODIFY |");
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&text))),
        [(
            "S005",
            "the plan says DELETE `tests/store.rs`, but it is still there unchanged".to_owned()
        )]
    );
    append(repo.path(), "tests/store.rs", "// edited instead\n");
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&text))),
        [(
            "S006",
            "the plan says DELETE `tests/store.rs`, but `tests/store.rs` was modified".to_owned()
        )]
    );
    std::fs::remove_file(repo.path().join("README.md")).unwrap();
    let f = scope(repo.path(), &support::parse(&text));
    assert!(
        f.iter()
            .any(|f| f.message == "the plan says MODIFY `README.md`, but `README.md` was deleted"),
        "{f:?}"
    );
}

#[test]
fn renames_are_accepted_when_planned() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    git(repo.path(), &["mv", "tests/store.rs", "tests/store_cli.rs"]);
    let renamed = ok_plan_text().replace(
        "| `README.md` | MODIFY |",
        "| `tests/store.rs -> tests/store_cli.rs` | RENAME | the name says what it tests | its content |\n| `README.md` | MODIFY |",
    );
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&renamed))),
        vec![]
    );
    // DELETE old + CREATE new says the same.
    let split = ok_plan_text().replace(
        "| `README.md` | MODIFY |",
        "| `tests/store.rs` | DELETE | moved | - |\n| `tests/store_cli.rs` | CREATE | moved here | - |\n| `README.md` | MODIFY |",
    );
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&split))),
        vec![]
    );
    // An unstaged move (delete + untracked file) is the same rename.
    git(repo.path(), &["reset", "-q"]);
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&renamed))),
        vec![]
    );
}

#[test]
fn unplanned_rename_is_reported_on_both_sides() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    git(repo.path(), &["mv", "tests/store.rs", "tests/store_cli.rs"]);
    assert_eq!(
        messages(&scope(repo.path(), &support::parse(&ok_plan_text()))),
        [
            (
                "S001",
                "`tests/store.rs` was deleted but is not in the manifest".to_owned()
            ),
            (
                "S001",
                "`tests/store_cli.rs` was created but is not in the manifest".to_owned()
            ),
        ]
    );
}

#[test]
fn planned_but_untouched_files_are_warnings() {
    let repo = support::repo("tally");
    append(repo.path(), "src/main.rs", "// only this\n");
    let f = scope(repo.path(), &support::parse(&ok_plan_text()));
    assert_eq!(ids(&f), ["S007"]);
    assert_eq!(f.len(), 3);
    assert!(!fabrik_plan::has_errors(&f));
}

#[test]
fn unknown_base_is_a_typed_error_naming_it() {
    let repo = support::repo("tally");
    let plan = support::parse(&ok_plan_text());
    let err = check_scope(repo.path(), &plan, "no-such-branch").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownRevision { rev, .. } if rev == "no-such-branch"),
        "{err:?}"
    );
    assert!(err.to_string().contains("`no-such-branch`"), "{err}");
    assert!(matches!(
        check_scope(repo.path(), &plan, "--output=/tmp/x"),
        Err(Error::UnknownRevision { .. })
    ));
}

#[test]
fn not_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = check_scope(dir.path(), &support::parse(&ok_plan_text()), "HEAD").unwrap_err();
    assert!(matches!(err, Error::Git { .. }), "{err:?}");
}

#[test]
fn plan_file_inside_the_repo_is_not_a_change_and_odd_paths_parse() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    let plan_path = repo.path().join("PLAN.md");
    let text = ok_plan_text().replace(
        "| `README.md` | MODIFY |",
        "| `docs/my notes.md` | CREATE | notes with a space | - |\n| `README.md` | MODIFY |",
    );
    std::fs::write(&plan_path, &text).unwrap();
    write(repo.path(), "docs/my notes.md", "hi\n");
    let plan = Plan::load(&plan_path, &fabrik_plan::ParseOptions::default()).unwrap();
    assert_eq!(messages(&scope(repo.path(), &plan)), vec![]);
}

#[test]
fn empty_manifest_is_reported() {
    let repo = support::repo("tally");
    append(repo.path(), "src/main.rs", "// x\n");
    let f = scope(
        repo.path(),
        &support::parse("# Plan\n\n## Gates\n\n- tests: `cargo test`\n"),
    );
    assert_eq!(ids(&f), ["S008"]);
}

#[test]
fn works_from_a_subdirectory() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    assert_eq!(
        messages(&scope(
            &repo.path().join("src"),
            &support::parse(&ok_plan_text())
        )),
        vec![]
    );
}

#[test]
fn scope_text_rendering() {
    let repo = support::repo("tally");
    do_the_plan(repo.path());
    append(repo.path(), "migrations/001_init.sql", "-- edited\n");
    git(repo.path(), &["mv", "tests/store.rs", "tests/cli.rs"]);
    std::fs::remove_file(repo.path().join("tests/remove.rs")).unwrap();
    let plan = support::parse(&ok_plan_text());
    let f = scope(repo.path(), &plan);
    insta::assert_snapshot!(fabrik_plan::render_text(&f, Some(&plan), "plan.md"));
}
