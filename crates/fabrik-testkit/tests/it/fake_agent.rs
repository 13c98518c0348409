//! Actions, step selection, exit codes and the call log of the fake agent.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use fabrik_testkit::{Call, FAKE_AGENT_ERROR_EXIT, Issue, Script, Severity, Step, Stream, Verdict};
use pretty_assertions::assert_eq;

use crate::support::{Sandbox, inv, run_with_stdin, spawn_with_stdin, stderr, stdout};

#[test]
fn file_actions_and_prints() {
    let sb = Sandbox::new();
    std::fs::write(sb.join("old.txt"), "old").unwrap();
    std::fs::create_dir_all(sb.join("olddir/sub")).unwrap();
    let script = Script::new().step(
        Step::stage("execution")
            .write("src/deep/a.rs", "fn a() {}\n")
            .write("over.txt", "first")
            .write("over.txt", "second")
            .append("log.txt", "one\n")
            .append("log.txt", "two\n")
            .delete("old.txt")
            .delete("olddir")
            .print("out 1\n")
            .eprint("err 1\n")
            .print("out 2"),
    );
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "out 1\nout 2");
    assert_eq!(stderr(&out), "err 1\n");
    let read = |rel| std::fs::read_to_string(sb.join(rel)).unwrap();
    assert_eq!(read("src/deep/a.rs"), "fn a() {}\n");
    assert_eq!(read("over.txt"), "second");
    assert_eq!(read("log.txt"), "one\ntwo\n");
    assert!(!sb.join("old.txt").exists());
    assert!(!sb.join("olddir").exists());
}

#[test]
fn verdict_round_trips_through_the_json_fence() {
    let sb = Sandbox::new();
    let verdict = Verdict::reject(&["tests are missing"])
        .issue(Issue::new(Severity::Minor, "typo").at("src/lib.rs", 12))
        .summary("Two problems.");
    let script = Script::new().step(Step::stage("verification").verdict(verdict.clone()));
    let out = sb.run(&script, inv("verification", 1, 1), b"");
    let text = stdout(&out);
    assert_eq!(text, verdict.render());
    let body = text
        .strip_prefix("Review done.\n```json\n")
        .and_then(|rest| rest.strip_suffix("\n```\n"))
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "approved": false,
            "issues": [
                {"severity": "blocker", "message": "tests are missing"},
                {"severity": "minor", "file": "src/lib.rs", "line": 12, "message": "typo"}
            ],
            "summary": "Two problems."
        })
    );
    assert_eq!(serde_json::from_value::<Verdict>(value).unwrap(), verdict);
}

#[test]
fn verdict_defaults_missing_issues_and_summary() {
    let sb = Sandbox::new();
    let json = r#"{"steps":[{"stage":"*","actions":[{"verdict":{"approved":true}}]}]}"#;
    std::fs::write(sb.join("raw.json"), json).unwrap();
    let cmd = sb.command_for(&sb.join("raw.json"), inv("verification", 1, 1));
    let out = run_with_stdin(cmd, b"");
    assert_eq!(
        stdout(&out),
        "Review done.\n```json\n{\n  \"approved\": true,\n  \"issues\": [],\n  \"summary\": \"\"\n}\n```\n"
    );
}

#[test]
fn first_step_matching_stage_iteration_and_attempt_runs() {
    let sb = Sandbox::new();
    let script = Script::new()
        .step(
            Step::stage("verification")
                .iteration(1)
                .attempt(2)
                .print("v i1 a2"),
        )
        .step(Step::stage("verification").iteration(2).print("v i2"))
        .step(Step::stage("verification").print("v any"))
        .step(Step::stage("execution").attempt(2).print("e a2"))
        .step(Step::any().print("fallback"));
    for (stage, iteration, attempt, expected) in [
        ("verification", 1, 2, "v i1 a2"),
        ("verification", 1, 1, "v any"),
        ("verification", 2, 2, "v i2"),
        ("verification", 3, 1, "v any"),
        ("execution", 5, 2, "e a2"),
        ("execution", 1, 1, "fallback"),
        ("ship", 1, 1, "fallback"),
    ] {
        let out = sb.run(&script, inv(stage, iteration, attempt), b"");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), expected, "{stage} i{iteration} a{attempt}");
    }
}

#[test]
fn no_matching_step_says_so_and_exits_0() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::stage("execution").exit(9));
    let out = sb.run(&script, inv("ship", 1, 1), b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "fake agent: nothing scripted for stage ship\n"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn exit_stops_at_once_with_the_code() {
    let sb = Sandbox::new();
    let script = Script::new().step(
        Step::any()
            .print("before")
            .eprint("oops")
            .exit(3)
            .write("after", ""),
    );
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "before");
    assert_eq!(stderr(&out), "oops");
    assert!(!sb.join("after").exists());
}

#[test]
fn abort_dies_of_sigabrt() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::any().print("crashing").abort());
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert_eq!(out.status.code(), None);
    assert_eq!(
        out.status.signal(),
        Some(nix::sys::signal::Signal::SIGABRT as i32)
    );
    assert_eq!(stdout(&out), "crashing");
}

#[test]
fn print_bytes_emits_exactly_n_bytes() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::any().print_bytes(Stream::Stdout, 1_000_003).action(
        fabrik_testkit::Action::PrintBytes {
            stream: Stream::Stderr,
            bytes: 25,
            line_len: Some(10),
        },
    ));
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), 1_000_003);
    let line = format!("{}\n", "x".repeat(99));
    assert_eq!(stdout(&out), format!("{}xxx", line.repeat(10_000)));
    assert_eq!(stderr(&out), "xxxxxxxxx\nxxxxxxxxx\nxxxxx");
}

#[test]
fn print_non_utf8_emits_invalid_bytes() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::any().print_non_utf8(7));
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert_eq!(out.stdout, [0xff, 0xfe, 0xff, 0xfe, 0xff, 0xfe, 0xff]);
    assert!(std::str::from_utf8(&out.stdout).is_err());
}

#[test]
fn echo_env_prints_name_and_value() {
    let sb = Sandbox::new();
    let script = Script::new().step(
        Step::any()
            .echo_env("FABRIK_STAGE")
            .echo_env("MY_VAR")
            .echo_env("FABRIK_TESTKIT_UNSET"),
    );
    let mut cmd = sb.command(&script, inv("review", 2, 1));
    cmd.env("MY_VAR", "a b=c")
        .env_remove("FABRIK_TESTKIT_UNSET");
    let out = run_with_stdin(cmd, b"");
    assert_eq!(
        stdout(&out),
        "FABRIK_STAGE=review\nMY_VAR=a b=c\nFABRIK_TESTKIT_UNSET=\n"
    );
}

#[test]
fn counter_counts_concurrent_invocations() {
    let sb = Sandbox::new();
    let counter = sb.join("state/count");
    let script = Script::new().step(Step::any().counter(&counter));
    assert_eq!(
        sb.run(&script, inv("execution", 1, 1), b"").status.code(),
        Some(0)
    );
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "1");
    // Written once: rewriting it per spawn would race with the agents reading it.
    let path = script.write_to(sb.join("counter.json"));
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = sb.command_for(&path, inv("discovery", 1, 1));
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "9");
}

#[test]
fn call_log_records_every_invocation() {
    let sb = Sandbox::new();
    let log = sb.join("logs/calls.jsonl");
    let script = Script::new()
        .log(&log)
        .step(Step::stage("planning").print("plan"));
    let mut cmd = sb.command(&script, inv("planning", 2, 1));
    cmd.env("FABRIK_RUN_ID", "run-42")
        .env("FABRIK_SESSION", "s1");
    let child = spawn_with_stdin(cmd, "plan the thing ✓".as_bytes());
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "plan");
    // No step matches, but the call is still logged; missing variables take their defaults.
    let mut cmd = sb.command(&script, inv("ship", 1, 1));
    cmd.env_remove("FABRIK_ITERATION").env("FABRIK_ATTEMPT", "");
    let second = run_with_stdin(cmd, b"");
    assert_eq!(second.status.code(), Some(0));

    let calls = fabrik_testkit::calls(&log);
    let cwd = sb.path().canonicalize().unwrap();
    let expected_first = Call {
        stage: "planning".into(),
        iteration: 2,
        attempt: 1,
        session: "s1".into(),
        run_id: "run-42".into(),
        cwd: cwd.clone(),
        pid,
        prompt_bytes: 18,
        prompt: "plan the thing ✓".into(),
    };
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0], expected_first);
    assert_eq!(
        (
            calls[1].stage.as_str(),
            calls[1].iteration,
            calls[1].attempt,
            calls[1].session.as_str()
        ),
        ("ship", 1, 1, "")
    );
    let raw = fabrik_testkit::read_jsonl(&log);
    assert_eq!(raw[0]["run_id"], "run-42");
    assert_eq!(raw[1]["prompt_bytes"], 0);
}

#[test]
fn log_keeps_a_prompt_prefix_and_copy_prompt_to_keeps_all() {
    let sb = Sandbox::new();
    let log = sb.join("calls.jsonl");
    let copy = sb.join("copies/prompt.txt");
    let prompt: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let script = Script::new()
        .log(&log)
        .step(Step::any().copy_prompt_to(&copy));
    let out = sb.run(&script, inv("execution", 1, 1), &prompt);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read(&copy).unwrap(), prompt);
    let calls = fabrik_testkit::calls(&log);
    assert_eq!(calls[0].prompt_bytes, 10_000);
    assert_eq!(calls[0].prompt.as_bytes(), &prompt[..4096]);
}

#[test]
fn prompt_file_and_prompt_arg_replace_stdin() {
    let sb = Sandbox::new();
    let copy = sb.join("copy.txt");
    let script = Script::new().step(Step::any().copy_prompt_to(&copy));
    std::fs::write(sb.join("prompt.md"), "from file").unwrap();
    let mut cmd = sb.command(&script, inv("execution", 1, 1));
    cmd.arg("--prompt-file").arg(sb.join("prompt.md"));
    assert_eq!(run_with_stdin(cmd, b"ignored").status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "from file");

    let mut cmd = sb.command(&script, inv("execution", 1, 1));
    cmd.arg("--prompt=from arg");
    assert_eq!(run_with_stdin(cmd, b"ignored").status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "from arg");
}

#[test]
fn null_stdin_is_an_empty_prompt() {
    let sb = Sandbox::new();
    let log = sb.join("calls.jsonl");
    let script = Script::new().log(&log).step(Step::any().print("ok"));
    let out = sb
        .command(&script, inv("ship", 1, 1))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "ok");
    assert_eq!(fabrik_testkit::calls(&log)[0].prompt_bytes, 0);
}

#[test]
fn unusable_scripts_and_failed_actions_exit_97() {
    let sb = Sandbox::new();
    let missing = sb.join("missing.json");
    let bad_json = sb.join("bad.json");
    let unknown = sb.join("unknown.json");
    std::fs::write(&bad_json, "{not json").unwrap();
    std::fs::write(
        &unknown,
        r#"{"steps":[{"stage":"*","actions":[{"explode":true}]}]}"#,
    )
    .unwrap();
    for (path, needle) in [
        (&missing, "failed to read script"),
        (&bad_json, "failed to parse script"),
        (&unknown, "unknown variant `explode`"),
    ] {
        let out = std::process::Command::new(crate::support::FAKE_AGENT)
            .arg("--script")
            .arg(path)
            .env("FABRIK_STAGE", "execution")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(FAKE_AGENT_ERROR_EXIT));
        let err = stderr(&out);
        assert!(err.contains(needle), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }

    let script = Script::new().step(Step::any().print("a").delete("nope").print("b"));
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert_eq!(out.status.code(), Some(FAKE_AGENT_ERROR_EXIT));
    assert_eq!(stdout(&out), "a");
    assert!(
        stderr(&out).contains("failed to delete `nope`"),
        "{}",
        stderr(&out)
    );

    let mut cmd = sb.command(&script, inv("execution", 1, 1));
    cmd.env("FABRIK_ITERATION", "two");
    let out = run_with_stdin(cmd, b"");
    assert_eq!(out.status.code(), Some(FAKE_AGENT_ERROR_EXIT));
    assert!(
        stderr(&out).contains("FABRIK_ITERATION is not a number"),
        "{}",
        stderr(&out)
    );

    let out = std::process::Command::new(crate::support::FAKE_AGENT)
        .arg("--bogus")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(FAKE_AGENT_ERROR_EXIT));
    assert!(
        stderr(&out).contains("unexpected argument `--bogus`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sleep_ms_delays() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::any().sleep_ms(300).print("late"));
    let start = std::time::Instant::now();
    let out = sb.run(&script, inv("execution", 1, 1), b"");
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(stdout(&out), "late");
}
