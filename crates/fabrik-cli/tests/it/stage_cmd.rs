//! `fabrik stage STAGE PROMPT`: one agent alone.

use fabrik_testkit::{Script, Step};
use pretty_assertions::assert_eq;

use crate::common::Fixture;

fn script() -> Script {
    Script::new()
        .step(Step::stage("execution").print("BUILT: parse_config() now strict\n\n"))
        .step(Step::stage("verification").reject(&["missing test for --strict"]))
}

#[test]
fn stage_execution_prints_the_agents_final_text() {
    let fx = Fixture::new();
    fx.script(script());
    let run = fx.run(&["stage", "execution", "do it"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "BUILT: parse_config() now strict\n");
    let calls = fx.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].stage, "execution");
    assert_eq!(calls[0].session, "s2");
    assert_eq!(calls[0].prompt, "do it");
    assert!(fx.run_ids().is_empty(), "a single stage is not a run");
}

#[test]
fn stage_verification_with_a_rejection_exits_1() {
    let fx = Fixture::new();
    fx.script(script());
    let run = fx.run(&["stage", "verification", "check the diff"]);
    run.expect_code(1);
    assert!(run.stdout.contains("\"approved\": false"), "{run:?}");
    assert!(run.stdout.contains("missing test for --strict"), "{run:?}");
}

#[test]
fn stage_json_prints_a_stage_result() {
    let fx = Fixture::new();
    fx.script(script());
    let run = fx.run(&["--json", "stage", "verification", "check the diff"]);
    run.expect_code(1);
    let r = run.json();
    assert_eq!(r["stage"], "verification");
    assert_eq!(r["status"], "fail");
    assert_eq!(r["agent"], "verifier");
    assert_eq!(r["model"], "fake-verifier");
    assert_eq!(r["session"]["slot"], "s3");
    assert_eq!(r["iteration"], 1);
    assert_eq!(r["usage"]["estimated"], true);
    assert!(r["started_at"].as_str().unwrap().ends_with('Z'), "{r}");

    let run = fx.run(&["--json", "stage", "execution", "do it"]);
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["stage"], "execution");
    assert_eq!(r["status"], "pass");
    assert_eq!(r["agent"], "builder");
    let out = r["output_path"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "BUILT: parse_config() now strict\n\n"
    );
}
