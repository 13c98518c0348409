//! Grounding on temporary git repositories: every kind of invented claim is found, and the
//! honest plan passes.

use std::path::Path;

use pretty_assertions::assert_eq;

use crate::support::{self, ids};

fn ok_plan() -> String {
    std::fs::read_to_string(support::plans_dir().join("ok-rust-remove-command.md")).unwrap()
}

/// (rule id, message) of the grounding findings of `text` against `repo`.
fn ground_text(text: &str, repo: &Path) -> Vec<(&'static str, String)> {
    let plan = support::parse(text);
    support::ground(&plan, repo)
        .into_iter()
        .map(|f| (f.rule.id(), f.message))
        .collect()
}

#[test]
fn honest_plan_passes() {
    let repo = support::repo("tally");
    assert_eq!(ground_text(&ok_plan(), repo.path()), vec![]);
    let py = support::repo("notes");
    let text =
        std::fs::read_to_string(support::plans_dir().join("ok-python-search-command.md")).unwrap();
    assert_eq!(ground_text(&text, py.path()), vec![]);
}

#[test]
fn invented_path_is_found() {
    let repo = support::repo("tally");
    let text = ok_plan().replace(
        "| `tests/store.rs` | existing integration test |",
        "| `tests/cli_smoke.rs` | existing integration test |",
    );
    assert_eq!(
        ground_text(&text, repo.path()),
        [(
            "P070",
            "`tests/cli_smoke.rs` is claimed to exist but is not in the repository".to_owned()
        )]
    );
}

#[test]
fn invented_symbol_is_found() {
    let repo = support::repo("tally");
    let text = ok_plan().replace(
        "| `load_config()` |",
        "| `TallyService::reload()` | `src/config.rs` | REUSE |\n| `load_config()` |",
    );
    assert_eq!(
        ground_text(&text, repo.path()),
        [(
            "P072",
            "`TallyService::reload()` is not an identifier anywhere in the repository".to_owned()
        )]
    );
}

#[test]
fn line_reference_off_by_200_is_found() {
    let repo = support::repo("tally");
    // Past the end of a short file.
    let text = ok_plan().replace("`src/store.rs:30`", "`src/store.rs:230`");
    assert_eq!(
        ground_text(&text, repo.path()),
        [(
            "P073",
            "`src/store.rs:230` is past the end of the file (44 lines)".to_owned()
        )]
    );
    // Inside a long file, but 200 lines from the symbol.
    let long: String = (1..=400)
        .map(|n| {
            if n == 250 {
                "pub fn compact_store() {}\n".to_owned()
            } else {
                format!("// line {n}\n")
            }
        })
        .collect();
    support::write(repo.path(), "src/compact.rs", &long);
    let text = ok_plan().replace(
        "| `load_config()` |",
        "| `compact_store()` | `src/compact.rs:50` | REUSE |\n| `load_config()` |",
    );
    assert_eq!(
        ground_text(&text, repo.path()),
        [(
            "P074",
            "`src/compact.rs:50` is 200 lines from `compact_store`, which is at line 250"
                .to_owned()
        )]
    );
    let near = text.replace("`src/compact.rs:50`", "`src/compact.rs:245`");
    assert_eq!(ground_text(&near, repo.path()), vec![]);
}

#[test]
fn create_of_existing_file_is_found() {
    let repo = support::repo("tally");
    let text = ok_plan().replace("| `tests/remove.rs` | CREATE |", "| `src/store.rs` | CREATE |").replace(
        "| `src/store.rs` | MODIFY | add `Store::remove_item(&mut self, name: &str) -> bool` | the file format, `open()`, `add_item()`, `list_items()` |\n",
        "",
    );
    let got = ground_text(&text, repo.path());
    assert_eq!(
        got,
        [(
            "P071",
            "CREATE of an existing file - reuse it: `src/store.rs` already exists".to_owned()
        )]
    );
}

#[test]
fn modify_or_delete_of_missing_file_is_found() {
    let repo = support::repo("tally");
    let text = ok_plan().replace(
        "| `README.md` | MODIFY |",
        "| `docs/old.md` | DELETE | obsolete | - |\n| `src/a.rs -> src/b.rs` | RENAME | clearer name | its content |\n| `README.md` | MODIFY |",
    );
    assert_eq!(
        ground_text(&text, repo.path()),
        [
            (
                "P070",
                "DELETE of `docs/old.md`, which does not exist".to_owned()
            ),
            (
                "P070",
                "RENAME of `src/a.rs`, which does not exist".to_owned()
            ),
        ]
    );
}

#[test]
fn symlink_out_of_the_repository_is_refused() {
    let repo = support::repo("tally");
    let text = ok_plan().replace(
        "| `README.md` | MODIFY |",
        "| `shared-cache/x.toml` | CREATE | cache | - |\n| `README.md` | MODIFY |",
    );
    assert_eq!(
        ids(&support::ground(&support::parse(&text), repo.path())),
        ["P075"]
    );
}

#[test]
fn absolute_and_bare_names_in_awareness_resolve() {
    let repo = support::repo("tally");
    let root = repo.path().canonicalize().unwrap();
    // A repo-absolute path (as editors write them) and a bare file name both resolve.
    let text = ok_plan().replace(
        "`src/main.rs:51`",
        &format!("`@{}/src/main.rs:51`", root.display()),
    );
    let text = text.replace("`src/config.rs:29`", "`config.rs:29`");
    assert_eq!(ground_text(&text, repo.path()), vec![]);
    let outside = ok_plan().replace("| `tests/store.rs` |", "| `/etc/hostname` |");
    assert_eq!(
        ids(&support::ground(&support::parse(&outside), repo.path())),
        ["P070"]
    );
}

#[test]
fn not_found_rows_are_not_claims() {
    let repo = support::repo("tally");
    let text = ok_plan().replace(
        "| `load_config()` |",
        "| `Store::prune()` in `src/prune.rs` | NOT FOUND | CREATE later |\n| `load_config()` |",
    );
    assert_eq!(ground_text(&text, repo.path()), vec![]);
}

#[test]
fn gitignored_files_are_not_evidence() {
    let repo = support::repo("tally");
    support::write(
        repo.path(),
        "target/debug/gen.rs",
        "fn only_in_build_output() {}\n",
    );
    let text = ok_plan().replace(
        "| `load_config()` |",
        "| `only_in_build_output()` | generated | REUSE |\n| `load_config()` |",
    );
    assert_eq!(
        ids(&support::ground(&support::parse(&text), repo.path())),
        ["P072"]
    );
}

#[test]
fn repository_must_be_a_directory() {
    let plan = support::parse(&ok_plan());
    let err = fabrik_plan::ground(
        &plan,
        Path::new("/definitely/not/here"),
        &fabrik_plan::GroundOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, fabrik_plan::Error::NotADirectory { .. }),
        "{err}"
    );
}

#[test]
fn identifier_index_is_fast_on_a_large_repo() {
    let repo = tempfile::tempdir().unwrap();
    for d in 0..50 {
        for f in 0..100 {
            let body: String = (0..40)
                .map(|l| format!("fn item_{d}_{f}_{l}(x: u32) -> u32 {{ x + {l} }}\n"))
                .collect();
            support::write(repo.path(), &format!("m{d}/f{f}.rs"), &body);
        }
    }
    let text = ok_plan().replace(
        "| `load_config()` |",
        "| `item_49_99_39()` | `m49/f99.rs:40` | REUSE |\n| `load_config()` |",
    );
    let start = std::time::Instant::now();
    let findings = support::ground(&support::parse(&text), repo.path());
    let took = start.elapsed();
    // 5,000 files / 200,000 lines; the tally paths are absent from this repo, the new one is found.
    assert!(
        findings
            .iter()
            .all(|f| !f.message.contains("item_49_99_39")),
        "{findings:?}"
    );
    assert!(took.as_secs_f64() < 10.0, "grounding took {took:?}");
}
