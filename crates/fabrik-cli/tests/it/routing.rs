//! The risk router and start overrides, seen through dry runs (which run nothing) and
//! through real runs with `--plan` and `--stage`.

use fabrik_testkit::sha256_hex;
use pretty_assertions::assert_eq;

use crate::common::{Fixture, happy, stage_names};

/// The `DRY-RUN: Would execute stages ...` line and the RISK line of a dry run.
fn route(fx: &Fixture, args: &[&str]) -> (String, String) {
    let mut all = vec!["--dry-run"];
    all.extend_from_slice(args);
    let run = fx.run(&all);
    run.expect_code(0);
    let line = |prefix: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line: {run:?}"))
            .to_owned()
    };
    (line("RISK: "), line("DRY-RUN: "))
}

#[test]
fn risk_keywords_pick_the_start_stage() {
    let fx = Fixture::new();
    let plan = fx.aux("my-plan.md");
    std::fs::write(&plan, crate::common::PLAN).unwrap();
    let plan = plan.to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["fix typo in docs"],
            "LOW (matched: typo, docs)",
            "3, 4, 5",
        ),
        (
            vec!["Refactor the parser"],
            "MEDIUM (default)",
            "2, 3, 4, 5",
        ),
        (
            vec!["Add JWT authentication"],
            "HIGH (matched: authentication, jwt)",
            "1, 2, 3, 4, 5",
        ),
        // The highest level wins.
        (
            vec!["Fix the typo in the OAuth docs"],
            "HIGH (matched: oauth)",
            "1, 2, 3, 4, 5",
        ),
        // Word boundaries: "authors" is not "auth", "Typography" is not "typo".
        (
            vec!["Update the authors list"],
            "MEDIUM (default)",
            "2, 3, 4, 5",
        ),
        (vec!["Typography tweaks"], "MEDIUM (default)", "2, 3, 4, 5"),
        (
            vec!["--risk", "low", "Add JWT authentication"],
            "LOW (override)",
            "3, 4, 5",
        ),
        (
            vec!["--stage", "verification", "Add JWT authentication"],
            "HIGH (matched: authentication, jwt)",
            "4, 5",
        ),
        (vec!["--stage", "ship", "x"], "MEDIUM (default)", "5"),
        (
            vec!["--plan", plan.as_str(), "Add JWT authentication"],
            "HIGH (matched: authentication, jwt)",
            "3, 4, 5",
        ),
    ];
    for (args, risk, stages) in cases {
        let (risk_line, stages_line) = route(&fx, &args);
        assert_eq!(risk_line, format!("RISK: {risk}"), "{args:?}");
        assert_eq!(
            stages_line,
            format!("DRY-RUN: Would execute stages {stages}"),
            "{args:?}"
        );
    }
    assert!(fx.calls().is_empty());
    assert!(!fx.repo.exists(".fabrik"));
}

#[test]
fn a_brought_plan_is_frozen_and_skips_discovery_and_planning() {
    let fx = Fixture::new();
    fx.script(happy());
    let plan_path = fx.aux("my-plan.md");
    let plan = "# My plan\n\n| Path | Action |\n|---|---|\n| docs/fix.md | CREATE |\n";
    std::fs::write(&plan_path, plan).unwrap();

    let (run, r) = fx.run_json(&[
        "--json",
        "--plan",
        &plan_path.to_string_lossy(),
        "Add JWT authentication",
    ]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        stage_names(&r),
        ["execution", "pre_verify", "verification", "ship"]
    );
    assert_eq!(r["plan_sha256"], sha256_hex(plan.as_bytes()));
    assert_eq!(
        std::fs::read_to_string(fx.run_dir(&id).join("plan.md")).unwrap(),
        plan
    );
    assert_eq!(fx.stages_called(&id), ["execution", "verification", "ship"]);
    let calls = fx.calls();
    assert!(calls[0].prompt.contains("# My plan"), "{}", calls[0].prompt);
    assert!(calls[1].prompt.contains("# My plan"), "{}", calls[1].prompt);

    let run = fx.run(&["--plan", "/no/such/plan.md", "x"]);
    run.expect_code(3);
    assert!(run.stderr.contains("/no/such/plan.md"), "{run:?}");
}

#[test]
fn stage_override_starts_at_the_gates_before_verification() {
    let fx = Fixture::new();
    fx.script(happy());
    let (run, r) = fx.run_json(&[
        "--json",
        "--stage",
        "verification",
        "Add JWT authentication",
    ]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(stage_names(&r), ["pre_verify", "verification", "ship"]);
    assert_eq!(fx.stages_called(&id), ["verification", "ship"]);
}
