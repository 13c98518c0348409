//! Planning review, verdict parsing and discovery failures.

use fabrik_testkit::{Script, Step};
use pretty_assertions::assert_eq;

use crate::common::{Fixture, PLAN, Setup, before, happy, stage_names};

fn with_reviewer() -> Fixture {
    Fixture::with(Setup {
        reviewer: true,
        ..Setup::default()
    })
}

#[test]
fn a_rejected_plan_goes_back_to_the_planner_with_the_feedback() {
    let fx = with_reviewer();
    let feedback = "the manifest misses src/auth/session.rs";
    let mut script = Script::new()
        .step(
            Step::stage("planning")
                .copy_prompt_to(fx.aux("plan-1.prompt"))
                .iteration(1)
                .print("# Draft plan\n"),
        )
        .step(
            Step::stage("planning")
                .copy_prompt_to(fx.aux("plan-2.prompt"))
                .print(PLAN),
        )
        .step(Step::stage("review").iteration(1).reject(&[feedback]));
    script.steps.extend(happy().steps);
    fx.script(script);
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    let calls: Vec<(String, u32, String)> = fx
        .calls()
        .into_iter()
        .filter(|c| c.stage == "planning" || c.stage == "review")
        .map(|c| (c.stage, c.iteration, c.session))
        .collect();
    assert_eq!(
        calls,
        [
            ("planning".to_owned(), 1, "s1".to_owned()),
            ("review".to_owned(), 1, "s1".to_owned()),
            ("planning".to_owned(), 2, "s1".to_owned()),
            ("review".to_owned(), 2, "s1".to_owned()),
        ]
    );
    let first = std::fs::read_to_string(fx.aux("plan-1.prompt")).unwrap();
    let second = std::fs::read_to_string(fx.aux("plan-2.prompt")).unwrap();
    assert!(!first.contains(feedback), "{first}");
    assert!(second.contains(feedback), "{second}");
    // The accepted (second) plan is the frozen one.
    assert_eq!(
        std::fs::read_to_string(fx.run_dir(&id).join("plan.md")).unwrap(),
        PLAN
    );
}

#[test]
fn a_plan_rejected_after_every_revision_fails_the_run() {
    let fx = with_reviewer();
    fx.script(before(
        Step::stage("review").reject(&["not concrete"]),
        happy(),
    ));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(1);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(stage_names(&r), ["discovery", "planning"]);
    let error = r["stages"][1]["error"].as_str().unwrap();
    assert!(
        error.contains("not accepted after 2 revision(s)"),
        "{error}"
    );
    assert!(error.contains("not concrete"), "{error}");
    // max_revisions = 2: the first plan and two revisions, each reviewed.
    assert_eq!(
        fx.stages_called(&id),
        [
            "discovery",
            "discovery",
            "planning",
            "review",
            "planning",
            "review",
            "planning",
            "review"
        ]
    );
    assert!(!fx.run_dir(&id).join("plan.md").exists());
    assert_eq!(r["plan_sha256"], serde_json::Value::Null);
}

#[test]
fn an_unparseable_verdict_is_asked_again_once() {
    let fx = Fixture::new();
    fx.script(before(
        Step::stage("verification")
            .attempt(1)
            .print("Looks fine to me, ship it!\n"),
        happy(),
    ));
    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    let attempts: Vec<(String, u32)> = fx
        .calls()
        .into_iter()
        .map(|c| (c.stage, c.attempt))
        .collect();
    assert_eq!(
        attempts,
        [
            ("execution".to_owned(), 1),
            ("verification".to_owned(), 1),
            ("verification".to_owned(), 2),
            ("ship".to_owned(), 1),
        ]
    );
    assert_eq!(r["metrics"]["verification_iterations"], 1);
    assert_eq!(fx.state(&id)["phase"]["phase"], "done");
}

#[test]
fn a_verifier_that_never_gives_a_verdict_fails_the_stage() {
    let fx = Fixture::new();
    fx.script(before(
        Step::stage("verification").print("{ not json at all\n"),
        happy(),
    ));
    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(1);
    let v = r["stages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(v["stage"], "verification");
    assert_eq!(v["status"], "fail");
    assert!(
        v["error"].as_str().unwrap().contains("no JSON verdict"),
        "{v}"
    );
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        fx.stages_called(&id),
        ["execution", "verification", "verification"]
    );
}

#[test]
fn discovery_continues_with_one_agent_and_fails_without_any() {
    let fx = Fixture::new();
    fx.script(happy());
    fx.script_d2(Script::new().step(Step::stage("discovery").eprint("d2 down\n").exit(7)));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("discovery continues with 1 of 2 agents"),
        "{run:?}"
    );
    let id = r["run_id"].as_str().unwrap().to_owned();
    let discovery = std::fs::read_to_string(fx.run_dir(&id).join("discovery.md")).unwrap();
    assert!(discovery.contains("Discovery notes"), "{discovery}");
    assert!(discovery.contains("(failed: "), "{discovery}");

    fx.script(before(Step::stage("discovery").exit(7), happy()));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(1);
    assert_eq!(stage_names(&r), ["discovery"]);
    assert_eq!(r["stages"][0]["status"], "fail");
}
