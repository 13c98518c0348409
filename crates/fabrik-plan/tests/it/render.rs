//! Renderers: the text rendering is snapshotted (insta); JSON and SARIF are checked for
//! their contract fields.

use fabrik_plan::{Format, render, render_json, render_sarif, render_text};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::support;

/// A short plan with problems of several kinds, tabs and a multi-byte character.
const BAD: &str = "# Plan\n\n## 1. Repo grounding\n\nWe looked at `src/lib.rs`.\n\n## 2. File impact\n\n| Path | Action | Reason | What will NOT change |\n|---|---|---|---|\n| `/etc/passwd` | MODIFY | café\tconfig | nothing |\n| `src/lib.rs` | UPDATE | x | y |\n\nDO-NOT-TOUCH: `vendor/**`\n\n## 5. Gates\n\n- tests: run the suite\n\n## 6. Golden paths\n\n- Command: `app run`\n\nWe will integrate it properly.\n";

fn bad() -> (fabrik_plan::Plan, Vec<fabrik_plan::Finding>) {
    let plan = support::parse(BAD);
    let findings = support::lint(&plan);
    (plan, findings)
}

#[test]
fn text_rendering() {
    let (plan, findings) = bad();
    insta::assert_snapshot!(render_text(&findings, Some(&plan), "plan.md"));
}

#[test]
fn text_rendering_of_a_clean_plan() {
    let plan = support::load("ok-rust-remove-command.md");
    assert_eq!(
        render(&support::lint(&plan), Some(&plan), "plan.md", Format::Text),
        "plan.md: no findings\n"
    );
}

#[test]
fn json_rendering_has_the_contract_fields() {
    let (_, findings) = bad();
    let v: Value = serde_json::from_str(&render_json(&findings, "plan.md")).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), findings.len());
    let first = arr.iter().find(|f| f["rule"] == "P011").unwrap();
    assert_eq!(first["name"], "manifest-absolute-path");
    assert_eq!(first["severity"], "error");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(11), Some(3))
    );
    assert_eq!(first["file"], "plan.md");
    assert!(first["hint"].as_str().unwrap().contains("relative"));
    let missing = arr.iter().find(|f| f["rule"] == "P001").unwrap();
    assert!(missing["line"].is_null());
    assert_eq!(render_json(&[], "p"), "[]\n");
}

#[test]
fn sarif_rendering_is_2_1_0() {
    let (_, findings) = bad();
    let v: Value = serde_json::from_str(&render_sarif(&findings, "plan.md")).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), fabrik_plan::Rule::ALL.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for r in results {
        let idx = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(matches!(r["level"].as_str(), Some("error" | "warning")));
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
    }
    let p011 = results.iter().find(|r| r["ruleId"] == "P011").unwrap();
    assert_eq!(
        p011["locations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
}

#[test]
fn rule_ids_and_names_are_unique_and_stable() {
    let ids: Vec<&str> = fabrik_plan::Rule::ALL.iter().map(|r| r.id()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    insta::assert_snapshot!(
        fabrik_plan::Rule::ALL
            .iter()
            .map(|r| format!(
                "{} {:<30} {:<7} {}",
                r.id(),
                r.name(),
                r.default_severity().as_str(),
                r.summary()
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
