//! Golden paths by risk, and the verification loop (reject, re-execute, give up).

use fabrik_testkit::{Script, Step, sha256_hex};
use pretty_assertions::assert_eq;

use crate::common::{Fixture, PLAN, before, happy, read_json, stage_names};

/// Lines of the commit messages on `rev` that mention `Fabrik-Stage: <stage>`.
fn stage_commits(fx: &Fixture, rev: &str, stage: &str) -> Vec<String> {
    let out = fx.repo.git(&[
        "log",
        "--format=%H",
        "--fixed-strings",
        &format!("--grep=Fabrik-Stage: {stage}"),
        rev,
    ]);
    out.lines().map(str::to_owned).collect()
}

#[test]
fn low_risk_runs_execution_gates_verification_ship_on_a_branch() {
    let fx = Fixture::new();
    fx.script(happy());
    let head = fx.repo.head();

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(0);

    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["version"], "1.0.0");
    assert_eq!(r["status"], "success");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["risk"], "low");
    assert_eq!(r["risk_reasons"], serde_json::json!(["typo", "docs"]));
    assert_eq!(
        stage_names(&r),
        ["execution", "pre_verify", "verification", "ship"]
    );
    for s in r["stages"].as_array().unwrap() {
        assert_eq!(s["status"], "pass", "{s}");
    }
    let branch = format!("fabrik/{id}");
    assert_eq!(r["branch"], branch);
    assert_eq!(
        r["workspace"],
        fx.repo
            .join(".fabrik/worktrees")
            .join(&id)
            .to_string_lossy()
            .as_ref()
    );
    assert_eq!(r["metrics"]["tokens_estimated"], true);
    assert_eq!(r["metrics"]["verification_iterations"], 1);
    assert_eq!(r["metrics"]["stages_executed"], 3);
    assert_eq!(r["metrics"]["stages_skipped"], 2);
    assert_eq!(r["plan_sha256"], serde_json::Value::Null);
    assert_eq!(fx.stages_called(&id), ["execution", "verification", "ship"]);

    // The user's tree and branch are untouched.
    assert!(fx.repo.is_clean(), "{}", fx.repo.status());
    assert!(!fx.repo.exists("docs/fix.md"));
    assert_eq!(fx.repo.head(), head);
    assert_eq!(fx.repo.git(&["branch", "--show-current"]), "main");

    // The branch holds the execution commit, with trailers naming the run.
    let commits = stage_commits(&fx, &branch, "execution");
    assert_eq!(commits.len(), 1, "{commits:?}");
    let body = fx.repo.git(&["log", "-1", "--format=%B", &commits[0]]);
    let lines: Vec<&str> = body.lines().collect();
    for trailer in [
        format!("Fabrik-Run: {id}"),
        "Fabrik-Stage: execution".to_owned(),
        "Fabrik-Iteration: 1".to_owned(),
    ] {
        assert!(
            lines.contains(&trailer.as_str()),
            "{trailer} not in:\n{body}"
        );
    }
    assert_eq!(
        fx.repo.git(&["show", &format!("{branch}:docs/fix.md")]),
        "typo fixed"
    );
    assert_eq!(
        fx.repo.git(&["rev-parse", &format!("{}^", commits[0])]),
        head,
        "the execution commit sits on the run's base"
    );
    // Ship had nothing to change: no ship commit.
    assert_eq!(stage_commits(&fx, &branch, "ship"), Vec::<String>::new());
}

#[test]
fn high_risk_runs_discovery_and_planning_with_sessions() {
    let fx = Fixture::new();
    fx.script(happy());
    fx.script_d2(
        Script::new()
            .step(Step::stage("discovery").print("Second opinion: JWT lives in auth.rs.\n")),
    );

    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["risk"], "high");
    assert_eq!(
        r["risk_reasons"],
        serde_json::json!(["authentication", "jwt"])
    );
    assert_eq!(
        stage_names(&r),
        [
            "discovery",
            "planning",
            "execution",
            "pre_verify",
            "verification",
            "ship"
        ]
    );
    assert_eq!(r["metrics"]["stages_skipped"], 0);

    let dir = fx.run_dir(&id);
    let discovery = std::fs::read_to_string(dir.join("discovery.md")).unwrap();
    assert!(discovery.contains("## d1 (fake-d1)"), "{discovery}");
    assert!(discovery.contains("## d2 (fake-d2)"), "{discovery}");
    assert!(
        discovery.contains("Discovery notes: reuse src/lib.rs."),
        "{discovery}"
    );
    assert!(
        discovery.contains("Second opinion: JWT lives in auth.rs."),
        "{discovery}"
    );

    let plan = std::fs::read(dir.join("plan.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&plan), PLAN);
    assert_eq!(r["plan_sha256"], sha256_hex(&plan));
    assert_eq!(fx.state(&id)["plan_sha256"], sha256_hex(&plan));

    let sessions: Vec<(String, String)> = fx
        .calls()
        .into_iter()
        .filter(|c| c.run_id == id)
        .map(|c| (c.stage, c.session))
        .collect();
    let expected: Vec<(String, String)> = [
        ("discovery", "s1"),
        ("discovery", "s1"),
        ("planning", "s1"),
        ("execution", "s2"),
        ("verification", "s3"),
        ("ship", "s4"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(sessions, expected);
    // The builder got the frozen plan.
    let exec = fx
        .calls()
        .into_iter()
        .find(|c| c.stage == "execution")
        .unwrap();
    assert!(exec.prompt.contains("FROZEN PLAN"), "{}", exec.prompt);
    assert!(
        exec.prompt.contains("docs/fix.md | CREATE"),
        "{}",
        exec.prompt
    );
}

#[test]
fn a_rejection_feeds_the_issues_into_a_second_execution() {
    let fx = Fixture::new();
    let issue = "parse_config() ignores the --strict flag";
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .iteration(1)
                    .copy_prompt_to(fx.aux("exec-1.prompt"))
                    .write("src/config.rs", "fn parse_config() {}\n"),
            )
            .step(
                Step::stage("execution")
                    .iteration(2)
                    .copy_prompt_to(fx.aux("exec-2.prompt"))
                    .write("src/config.rs", "fn parse_config(strict: bool) {}\n"),
            )
            .step(Step::stage("verification").iteration(1).reject(&[issue]))
            .step(Step::stage("verification").approve())
            .step(Step::stage("ship").print("nothing to document\n")),
    );

    let (run, r) = fx.run_json(&["--json", "--risk", "low", "make parsing strict"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "success");
    assert_eq!(r["metrics"]["verification_iterations"], 2);
    assert_eq!(
        stage_names(&r),
        [
            "execution",
            "pre_verify",
            "verification",
            "execution",
            "pre_verify",
            "verification",
            "ship"
        ]
    );
    let verifications: Vec<(u64, &str)> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["stage"] == "verification")
        .map(|s| {
            (
                s["iteration"].as_u64().unwrap(),
                s["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(verifications, [(1, "fail"), (2, "pass")]);

    let first = std::fs::read_to_string(fx.aux("exec-1.prompt")).unwrap();
    let second = std::fs::read_to_string(fx.aux("exec-2.prompt")).unwrap();
    assert!(!first.contains(issue), "{first}");
    assert!(second.contains(issue), "{second}");
    assert!(second.contains("ITERATION 2"), "{second}");

    let dir = fx.run_dir(&id);
    let v1 = read_json(&dir.join("verdict-1.json"));
    let v2 = read_json(&dir.join("verdict-2.json"));
    assert_eq!(v1["approved"], false);
    assert_eq!(v1["issues"][0]["message"], issue);
    assert_eq!(v1["issues"][0]["severity"], "blocker");
    assert_eq!(v2["approved"], true);
    assert!(!dir.join("verdict-3.json").exists());

    // Step reports in the seed's format, one per executed stage.
    let report = |name: &str| std::fs::read_to_string(dir.join("reports").join(name)).unwrap();
    assert_eq!(
        report("step-1-execution.md"),
        "STEP 1 STATUS: PASS\nSESSION ID: s2\nMODE: execution\nChanged files:\n- src/config.rs\n\
         Gate output:\n(none)\nPre-Flight Gates:\n- (none)\nVerification:\n- Result: n/a\n\
         Next:\n- pre-flight gates\n"
    );
    assert_eq!(
        report("step-3-verification.md"),
        format!(
            "STEP 3 STATUS: FAIL\nSESSION ID: s3\nMODE: verification\nChanged files:\n- src/config.rs\n\
             Gate output:\n(none)\nPre-Flight Gates:\n- (none)\nVerification:\n- Result: FAIL\n\
             - Issues: [blocker] {issue}\n- Re-verify count: 1/2\n\
             Next:\n- execution (with the verifier's issues)\n"
        )
    );
    assert!(
        report("step-6-verification.md")
            .contains("- Result: PASS\n- Issues: none\n- Re-verify count: 2/2\n"),
        "{}",
        report("step-6-verification.md")
    );
    let json = read_json(&dir.join("reports/step-3-verification.json"));
    assert_eq!(json["status"], "FAIL");
    assert_eq!(json["stage"]["stage"], "verification");
    for n in [
        "execution-1",
        "verification-1",
        "execution-2",
        "verification-2",
        "ship-2",
    ] {
        for ext in ["prompt", "stdout", "stderr"] {
            let f = dir.join("agents").join(format!("{n}.{ext}"));
            assert!(f.is_file(), "missing {}", f.display());
        }
    }

    // One execution commit per iteration, the second on top of the first.
    let branch = format!("fabrik/{id}");
    let commits = stage_commits(&fx, &branch, "execution");
    assert_eq!(commits.len(), 2, "{commits:?}");
    assert_eq!(
        fx.repo.git(&["show", &format!("{branch}:src/config.rs")]),
        "fn parse_config(strict: bool) {}"
    );
    let sessions: Vec<(String, u32, String)> = fx
        .calls()
        .into_iter()
        .map(|c| (c.stage, c.iteration, c.session))
        .collect();
    assert_eq!(
        sessions,
        [
            ("execution".to_owned(), 1, "s2".to_owned()),
            ("verification".to_owned(), 1, "s3".to_owned()),
            ("execution".to_owned(), 2, "s2".to_owned()),
            ("verification".to_owned(), 2, "s3".to_owned()),
            ("ship".to_owned(), 2, "s4".to_owned()),
        ]
    );
}

#[test]
fn a_verifier_that_always_rejects_exhausts_max_verify() {
    let fx = Fixture::new();
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .append("notes.txt", "another try\n")
                    .print("tried\n"),
            )
            .step(Step::stage("verification").reject(&["still wrong"])),
    );

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(2);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "failure");
    assert_eq!(r["exit_code"], 2);
    assert_eq!(r["metrics"]["verification_iterations"], 2);
    assert_eq!(
        fx.stages_called(&id),
        ["execution", "verification", "execution", "verification"]
    );
    let state = fx.state(&id);
    assert_eq!(state["phase"]["phase"], "failed");
    assert_eq!(state["phase"]["exit_code"], 2);

    // The budget is spent: resume refuses, and says how to allow another round.
    let run = fx.run(&["resume", &id]);
    run.expect_code(3);
    assert!(run.stderr.contains("--max-verify 3"), "{run:?}");

    let (run, r) = fx.run_json(&["--json", "--max-verify", "3", "fix typo in docs"]);
    run.expect_code(2);
    let id3 = r["run_id"].as_str().unwrap().to_owned();
    assert_ne!(id3, id);
    assert_eq!(r["metrics"]["verification_iterations"], 3);
    let executions = fx
        .stages_called(&id3)
        .iter()
        .filter(|s| *s == "execution")
        .count();
    assert_eq!(executions, 3);
}

#[test]
fn an_exhausted_run_resumes_with_a_larger_budget() {
    let fx = Fixture::new();
    fx.script(before(
        Step::stage("verification").reject(&["still wrong"]),
        happy(),
    ));
    fx.run(&["fix typo in docs"]).expect_code(2);
    let id = fx.only_run_id();

    fx.script(happy());
    let (run, r) = fx.run_json(&["--json", "resume", &id, "--max-verify", "3"]);
    run.expect_code(0);
    assert_eq!(r["status"], "success");
    assert_eq!(r["metrics"]["verification_iterations"], 3);
    let iterations: Vec<(String, u32)> = fx
        .calls()
        .into_iter()
        .map(|c| (c.stage, c.iteration))
        .collect();
    let expected: Vec<(String, u32)> = [
        ("execution", 1),
        ("verification", 1),
        ("execution", 2),
        ("verification", 2),
        ("execution", 3),
        ("verification", 3),
        ("ship", 3),
    ]
    .iter()
    .map(|(s, i)| ((*s).to_owned(), *i))
    .collect();
    assert_eq!(iterations, expected);
}

#[test]
fn status_lists_runs_and_verbose_logs_are_timestamped() {
    let fx = Fixture::new();
    fx.script(happy());
    let run = fx.run(&["--verbose", "fix typo in docs"]);
    run.expect_code(0);
    let id = fx.only_run_id();
    let logs: Vec<&str> = run.stderr.lines().collect();
    assert!(logs.len() >= 4, "{run:?}");
    for line in &logs {
        // `[PIPELINE] 2026-11-24T13:06:17.123Z INFO: ...`
        let rest = line
            .strip_prefix("[PIPELINE] ")
            .unwrap_or_else(|| panic!("not a log line: {line}"));
        let (ts, msg) = rest.split_once(' ').unwrap();
        crate::common::epoch_seconds(ts);
        assert!(
            ["DEBUG:", "INFO:", "WARN:", "ERROR:"]
                .iter()
                .any(|l| msg.starts_with(l)),
            "{line}"
        );
    }
    // Logs never go to stdout.
    assert!(!run.stdout.contains("[PIPELINE]"), "{run:?}");

    let list = fx.run(&["status"]);
    list.expect_code(0);
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} not listed: {list:?}"));
    assert!(row.contains("success"), "{row}");
    assert!(row.contains("fix typo in docs"), "{row}");

    let one = fx.run(&["status", &id]);
    one.expect_code(0);
    assert!(one.stdout.contains(&format!("RUN: {id}")), "{one:?}");
    assert!(one.stdout.contains("STAGE 3 EXECUTION: PASS"), "{one:?}");
    assert!(one.stdout.contains("RESULT: SUCCESS"), "{one:?}");

    let all = fx.run(&["--json", "status"]);
    all.expect_code(0);
    let list = all.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["run_id"], id.as_str());
}
