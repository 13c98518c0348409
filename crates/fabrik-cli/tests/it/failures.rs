//! Runs that fail: a gate, the builder, an agent that never finishes.

use std::time::Duration;

use fabrik_testkit::{Script, Step};
use pretty_assertions::assert_eq;

use crate::common::{
    Fixture, Setup, before, happy, pid_alive, read_pidfile, stage_names, wait_until,
};

#[test]
fn a_failing_gate_stops_before_the_verifier() {
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[
            ("fmt", "true"),
            ("lint", "echo 'lint: 3 problems' >&2; exit 1"),
        ]),
        ..Setup::default()
    });
    fx.script(happy());

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(4);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "failure");
    assert_eq!(r["exit_code"], 4);
    assert_eq!(stage_names(&r), ["execution", "pre_verify"]);
    let pre = &r["stages"][1];
    assert_eq!(pre["status"], "fail");
    assert_eq!(pre["gates"][0]["name"], "fmt");
    assert_eq!(pre["gates"][0]["status"], "pass");
    assert_eq!(pre["gates"][1]["name"], "lint");
    assert_eq!(pre["gates"][1]["status"], "fail");
    assert_eq!(pre["gates"][1]["exit_code"], 1);
    assert!(
        pre["gates"][1]["output_tail"]
            .as_str()
            .unwrap()
            .contains("lint: 3 problems"),
        "{pre}"
    );
    // Fail-closed: the verifier never saw the change.
    assert_eq!(fx.stages_called(&id), ["execution"]);
    assert!(!fx.run_dir(&id).join("verdict-1.json").exists());
    let gates = crate::common::read_json(&fx.run_dir(&id).join("gates-1.json"));
    assert_eq!(gates[1]["status"], "fail");
}

#[test]
fn a_gate_whose_tool_is_missing_fails_as_tool_missing() {
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[("tools", "no-such-tool-xyz --check")]),
        ..Setup::default()
    });
    fx.script(happy());

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(4);
    let id = r["run_id"].as_str().unwrap().to_owned();
    let gate = &r["stages"][1]["gates"][0];
    assert_eq!(gate["status"], "tool_missing");
    let tail = gate["output_tail"].as_str().unwrap();
    assert!(tail.starts_with("tool missing: no-such-tool-xyz"), "{tail}");
    assert_eq!(fx.stages_called(&id), ["execution"]);

    // The human output says so too.
    let run = fx.run(&["fix typo in docs"]);
    run.expect_code(4);
    assert!(
        run.stdout
            .contains("PRE-FLIGHT GATES: FAIL (tools TOOL MISSING, clones PASS, schema SKIP)"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("RESULT: FAILURE (exit 4: pre-flight gate failure)"),
        "{run:?}"
    );
}

#[test]
fn a_failing_builder_fails_the_run_with_its_exit_code() {
    let fx = Fixture::new();
    fx.script(before(
        Step::stage("execution")
            .eprint("builder exploded\n")
            .exit(3),
        happy(),
    ));

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(1);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "failure");
    assert_eq!(r["exit_code"], 1);
    assert_eq!(stage_names(&r), ["execution"]);
    let exec = &r["stages"][0];
    assert_eq!(exec["status"], "fail");
    let error = exec["error"].as_str().unwrap();
    assert!(error.contains("exit code 3"), "{error}");
    assert!(error.contains("builder exploded"), "{error}");
    assert_eq!(fx.stages_called(&id), ["execution"]);
    assert_eq!(fx.state(&id)["error"], error);
    // Nothing was committed on the run's branch.
    assert_eq!(
        fx.repo.git(&["rev-parse", &format!("fabrik/{id}")]),
        fx.repo.head()
    );

    // Once the builder works, resume retries the failed step and finishes.
    fx.script(happy());
    let (run, r) = fx.run_json(&["--json", "resume", &id]);
    run.expect_code(0);
    assert_eq!(r["status"], "success");
    assert_eq!(r["run_id"], id.as_str());
    assert_eq!(
        fx.stages_called(&id),
        ["execution", "execution", "verification", "ship"]
    );
    assert_eq!(
        fx.repo.git(&["show", &format!("fabrik/{id}:docs/fix.md")]),
        "typo fixed"
    );
}

#[test]
fn a_timed_out_agent_is_killed_with_its_grandchildren() {
    let fx = Fixture::with(Setup {
        agent_lines: vec![("builder", "timeout = \"1s\"".to_owned())],
        ..Setup::default()
    });
    let pidfile = fx.aux("grandchild.pid");
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .spawn_grandchild(60, &pidfile)
                    .stall(),
            )
            .step(Step::any().approve()),
    );

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(1);
    let error = r["stages"][0]["error"].as_str().unwrap();
    assert!(error.contains("timed out"), "{error}");
    assert_eq!(r["stages"][0]["stage"], "execution");
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(fx.stages_called(&id), ["execution"]);

    let gc = read_pidfile(&pidfile);
    assert!(
        wait_until(Duration::from_secs(3), || !pid_alive(gc)),
        "grandchild {gc} survived the timeout"
    );
}

#[test]
fn a_process_an_agent_moved_out_of_its_group_does_not_outlive_the_stage() {
    let fx = Fixture::new();
    let pidfile = fx.aux("escapee.pid");
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .write("docs/fix.md", "typo fixed\n")
                    .spawn_escapee(60, &pidfile)
                    .print("done\n"),
            )
            .step(Step::stage("verification").approve())
            .step(Step::any().print("ok\n")),
    );
    let (run, _) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(0);
    let escapee = read_pidfile(&pidfile);
    assert!(
        wait_until(Duration::from_secs(3), || !pid_alive(escapee)),
        "the setsid escapee {escapee} survived its stage"
    );
}

#[test]
fn files_a_gate_writes_are_shown_to_the_verifier() {
    // A formatter-like gate that leaves a new file behind: the verifier must see the tree
    // as the gates left it, not as it was before them.
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[("codegen", "echo generated > generated_by_gate.txt")]),
        ..Setup::default()
    });
    fx.script(happy());
    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap();
    let verifier = fx
        .calls()
        .into_iter()
        .find(|c| c.stage == "verification" && c.run_id == id)
        .unwrap();
    assert!(
        verifier.prompt.contains("- generated_by_gate.txt"),
        "{}",
        verifier.prompt
    );
}
