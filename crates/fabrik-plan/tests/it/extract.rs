//! What the parser extracts from a complete plan, asserted whole.

use fabrik_plan::{Action, SectionKind};
use pretty_assertions::assert_eq;

use crate::support;

#[test]
fn rust_plan_extraction() {
    let plan = support::load("ok-rust-remove-command.md");
    for kind in SectionKind::ALL {
        assert!(plan.has_section(kind), "{kind:?}");
    }
    let rows: Vec<(&str, Option<Action>)> = plan
        .manifest()
        .iter()
        .map(|r| (r.path.as_str(), r.action))
        .collect();
    assert_eq!(
        rows,
        [
            ("src/main.rs", Some(Action::Modify)),
            ("src/store.rs", Some(Action::Modify)),
            ("tests/remove.rs", Some(Action::Create)),
            ("README.md", Some(Action::Modify)),
        ]
    );
    let dnt: Vec<&str> = plan
        .do_not_touch()
        .iter()
        .map(|d| d.glob.as_str())
        .collect();
    assert_eq!(dnt, ["migrations/**", "Cargo.toml", "src/config.rs"]);
    let gates: Vec<&str> = plan.gates().iter().map(|g| g.command.as_str()).collect();
    assert_eq!(
        gates,
        [
            "cargo fmt --check",
            "cargo clippy --all-targets -- -D warnings",
            "cargo test",
            "fabrik dupes --changed --base HEAD"
        ]
    );
    let golden: Vec<(Option<&str>, Option<i32>)> = plan
        .golden_paths()
        .iter()
        .map(|g| (g.command.as_deref(), g.exit_code))
        .collect();
    assert_eq!(
        golden,
        [
            (Some("tally add apple && tally remove apple"), Some(0)),
            (Some("tally remove pear"), Some(1))
        ]
    );
    assert_eq!(plan.failure_rows().len(), 6);
    assert_eq!(
        (plan.manifest()[0].span.line, plan.manifest()[0].span.column),
        (29, 3)
    );
}

#[test]
fn python_plan_extraction() {
    let plan = support::load("ok-python-search-command.md");
    let dnt: Vec<(&str, usize)> = plan
        .do_not_touch()
        .iter()
        .map(|d| (d.glob.as_str(), d.span.line))
        .collect();
    assert_eq!(dnt, [("notes/__init__.py", 133), ("pyproject.toml", 134)]);
}

/// The same contract written the other ways real plans write it: setext and `Section N -`
/// headings, list-style gates, a golden-path table, a list failure matrix, inline
/// DO-NOT-TOUCH, a RENAME row and columns in another order.
const VARIANT: &str = "Plan title
==========

Section 1 - Repository Awareness
--------------------------------

- `rg -n parse_args src/` found `parse_args()` in `src/cli.rs`; REUSE it.

## 2) File Impact

| Action | What will NOT change | Path | Reason | Size |
|---|---|---|---|---|
| MODIFY | the other flags | `src/cli.rs` | add `--dry-run` | S |
| RENAME | its content | `src/old.rs -> src/new.rs` | clearer name | S |

- DO-NOT-TOUCH: `vendor/**`, `Cargo.lock`
- Everything else stays as it is.

### 3. Interface & Contract Specification

`--dry-run` prints the plan and exits 0.

## 4) INVARIANTS

- Must reuse: `parse_args()`.

## Section 5 - Gates

- lint: `cargo clippy -- -D warnings` (PASS: exit 0; FAIL: any warning)
- tests:
  ```sh
  cargo test --all
  ```
- PASS condition: both exit 0.

## 6. Golden Paths

| Scenario | Command | Expected output | Exit code |
|---|---|---|---|
| dry run | `app --dry-run x` | `would run x` | 0 |
| bad flag | `app --nope` | usage | 2 |

## 7. Failure Matrix

1. Config missing: detected by `ENOENT`; response: defaults; rollback: none needed, nothing written.
2. Bad flag: clap error; exit 2; rollback: nothing written.
3. Disk full: `write` fails; exit 1; rollback: temp file removed.
4. Gate fails: non-zero exit; re-execute; rollback: `git checkout -- src/`.
5. Timeout after 600 s: SIGTERM; exit 130; rollback: worktree discarded.

## 8. Step Report Template

Report changed files and gate tails; the verifier uses a separate session; max 2 re-verify cycles.
";

#[test]
fn variant_formats_extract_the_same_things() {
    let plan = support::parse(VARIANT);
    let kinds: Vec<SectionKind> = plan.sections().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, SectionKind::ALL);
    let rows: Vec<(&str, Option<&str>, Option<Action>, &str)> = plan
        .manifest()
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                r.rename_to.as_deref(),
                r.action,
                r.unchanged.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("src/cli.rs", None, Some(Action::Modify), "the other flags"),
            (
                "src/old.rs",
                Some("src/new.rs"),
                Some(Action::Rename),
                "its content"
            ),
        ]
    );
    let dnt: Vec<&str> = plan
        .do_not_touch()
        .iter()
        .map(|d| d.glob.as_str())
        .collect();
    assert_eq!(dnt, ["vendor/**", "Cargo.lock"]);
    let gates: Vec<(&str, &str)> = plan
        .gates()
        .iter()
        .map(|g| (g.name.as_str(), g.command.as_str()))
        .collect();
    assert_eq!(
        gates,
        [
            ("tests", "cargo test --all"),
            ("lint", "cargo clippy -- -D warnings")
        ]
    );
    let golden: Vec<(Option<&str>, Option<i32>)> = plan
        .golden_paths()
        .iter()
        .map(|g| (g.command.as_deref(), g.exit_code))
        .collect();
    assert_eq!(
        golden,
        [
            (Some("app --dry-run x"), Some(0)),
            (Some("app --nope"), Some(2))
        ]
    );
    assert_eq!(plan.failure_rows().len(), 5);
    assert_eq!(support::lint(&plan), vec![]);
}

#[test]
fn gates_in_other_shapes() {
    let text = "## 5. Gates\n\n| Gate | Check | PASS | FAIL |\n|---|---|---|---|\n| lint | `ruff check .` | exit 0 | non-zero |\n| note | see below | - | - |\n\n- fmt: `gofmt`\n- tests: the whole suite\n";
    let plan = support::parse(text);
    let gates: Vec<&str> = plan.gates().iter().map(|g| g.command.as_str()).collect();
    assert_eq!(gates, ["ruff check .", "gofmt"]);
    let f: Vec<(&str, String)> = support::lint(&plan)
        .into_iter()
        .filter(|f| f.rule.id() == "P020")
        .map(|f| (f.rule.id(), f.message))
        .collect();
    assert_eq!(
        f,
        [("P020", "gate `tests` has no runnable command".to_owned())]
    );
}

#[test]
fn a_plan_inventing_its_grounding_lists_every_invention() {
    let repo = support::repo("tally");
    let text = std::fs::read_to_string(support::plans_dir().join("ok-rust-remove-command.md"))
        .unwrap()
        .replace("`src/main.rs:31`", "`src/main.rs:331`")
        .replace("| `usage()` |", "| `print_usage_banner()` |")
        .replace(
            "| `tests/store.rs` | existing",
            "| `tests/e2e.rs` | existing",
        )
        .replace(
            "| `tests/remove.rs` | CREATE |",
            "| `src/config.rs` | CREATE |",
        )
        .replace("- `src/config.rs`\n", "");
    let plan = support::parse(&text);
    let mut ids: Vec<&str> = support::ground(&plan, repo.path())
        .iter()
        .map(|f| f.rule.id())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["P070", "P071", "P072", "P073", "P074"]);
}
