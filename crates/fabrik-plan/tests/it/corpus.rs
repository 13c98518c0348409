//! Every plan under `tests/plans/`: `ok-*.md` must pass lint (and grounding against its
//! fixture repository) with zero findings; `PNNN-*.md` must fail with exactly rule PNNN.

use pretty_assertions::assert_eq;

use crate::support::{self, ids};

/// The fixture repository a corpus plan is grounded against.
fn repo_for(name: &str) -> &'static str {
    if name.contains("python") {
        "notes"
    } else {
        "tally"
    }
}

#[test]
fn corpus_plans_fail_with_exactly_their_rule() {
    let mut names: Vec<String> = std::fs::read_dir(support::plans_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "corpus too small: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let plan = support::load(name);
        let mut findings = support::lint(&plan);
        let expected: Vec<&str> = if name.starts_with("ok-") {
            vec![]
        } else {
            vec![&name[..4]]
        };
        if name.starts_with("ok-") || name.starts_with("P07") {
            let repo = support::repo(repo_for(name));
            findings.extend(support::ground(&plan, repo.path()));
        }
        let got = ids(&findings);
        if got != expected {
            let detail: Vec<String> = findings
                .iter()
                .map(|f| {
                    format!(
                        "{} {}:{} {}",
                        f.rule.id(),
                        f.span.map_or(0, |s| s.line),
                        f.span.map_or(0, |s| s.column),
                        f.message
                    )
                })
                .collect();
            failures.push(format!(
                "{name}: expected {expected:?}, got {got:?}\n    {}",
                detail.join("\n    ")
            ));
        }
    }
    assert_eq!(failures, Vec::<String>::new());
}

#[test]
fn every_lint_rule_has_a_corpus_plan() {
    let names: Vec<String> = std::fs::read_dir(support::plans_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<&str> = fabrik_plan::Rule::ALL
        .iter()
        .map(|r| r.id())
        .filter(|id| id.starts_with('P'))
        .filter(|id| !names.iter().any(|n| n.starts_with(id)))
        .collect();
    assert_eq!(missing, Vec::<&str>::new());
}
