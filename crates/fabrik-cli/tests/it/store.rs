//! The run store: the repository lock, corrupt state, the event log, and secrets.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;

use fabrik_testkit::{Script, Step};
use pretty_assertions::assert_eq;

use crate::common::{Fixture, Setup, before, happy, read_jsonl, wait_until, walk_files};

#[test]
fn a_held_repository_lock_refuses_with_no_wait_and_queues_without() {
    let fx = Fixture::new();
    fx.script(happy());
    let lock_path = fx.repo.join(".fabrik/lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let mut lock = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    write!(lock, "{}", std::process::id()).unwrap();

    let run = fx.run(&["--no-wait", "fix typo in docs"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains(&format!("pid {}", std::process::id())),
        "{run:?}"
    );
    assert!(fx.calls().is_empty());
    assert!(fx.run_ids().is_empty());

    let fabrik = fx.spawn("queued", &["fix typo in docs"]);
    let waiting = wait_until(Duration::from_secs(10), || {
        fabrik.stderr_now().contains("waiting for")
    });
    assert!(waiting, "no `waiting for` notice: {}", fabrik.stderr_now());
    std::thread::sleep(Duration::from_millis(200));
    assert!(fx.calls().is_empty(), "it ran while the lock was held");
    lock.unlock().unwrap();
    drop(lock);
    let run = fabrik.wait(Duration::from_secs(30));
    run.expect_code(0);
    assert!(run.stdout.contains("RESULT: SUCCESS"), "{run:?}");
    let id = fx.only_run_id();
    assert_eq!(fx.stages_called(&id), ["execution", "verification", "ship"]);
}

#[test]
fn a_corrupt_state_is_reported_kept_and_can_be_marked_failed() {
    let fx = Fixture::new();
    fx.script(happy());
    fx.run(&["fix typo in docs"]).expect_code(0);
    let id = fx.only_run_id();
    let state = fx.run_dir(&id).join("state.json");
    let garbage = b"{\"state_version\": 1, \"run_id\": \x00garbage";
    std::fs::write(&state, garbage).unwrap();

    for args in [&["status", id.as_str()][..], &["resume", id.as_str()][..]] {
        let run = fx.run(args);
        run.expect_code(3);
        assert!(
            run.stderr.contains(&state.display().to_string()),
            "{args:?}: {run:?}"
        );
        assert!(run.stderr.contains("--mark-failed"), "{args:?}: {run:?}");
        assert_eq!(
            std::fs::read(&state).unwrap(),
            garbage,
            "{args:?} modified it"
        );
    }
    // The listing survives one unreadable run.
    let list = fx.run(&["status"]);
    list.expect_code(0);
    assert!(list.stdout.contains("UNREADABLE"), "{list:?}");

    let run = fx.run(&["status", &id, "--mark-failed"]);
    run.expect_code(0);
    let aside: Vec<_> = std::fs::read_dir(fx.run_dir(&id))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), garbage);

    let status = fx.run(&["--json", "status", &id]);
    status.expect_code(0);
    let r = status.json();
    assert_eq!(r["status"], "failure");
    assert_eq!(r["task"], "fix typo in docs");
    assert_eq!(r["run_id"], id.as_str());
}

#[test]
fn an_unknown_run_id_exits_3() {
    let fx = Fixture::new();
    fx.script(happy());
    for args in [
        &["status", "20200101-000000-abcd"][..],
        &["resume", "20200101-000000-abcd"][..],
        &["resume", "../../etc"][..],
    ] {
        let run = fx.run(args);
        run.expect_code(3);
        assert!(run.stderr.contains("error:"), "{args:?}: {run:?}");
    }
    assert!(fx.calls().is_empty());
    // Also once the store exists.
    fx.run(&["fix typo in docs"]).expect_code(0);
    for verb in ["status", "resume"] {
        let run = fx.run(&[verb, "20200101-000000-abcd"]);
        run.expect_code(3);
        assert!(
            run.stderr.contains("no run `20200101-000000-abcd`"),
            "{run:?}"
        );
    }
}

#[test]
fn events_are_versioned_unique_and_mirrored_in_the_repository_log() {
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[("check", "true")]),
        ..Setup::default()
    });
    fx.script(before(
        Step::stage("verification").iteration(1).reject(&["redo"]),
        happy(),
    ));
    fx.run(&["fix typo in docs"]).expect_code(0);
    let id = fx.only_run_id();

    let events = read_jsonl(&fx.run_dir(&id).join("events.jsonl"));
    assert!(events.len() >= 10, "{events:?}");
    let mut ids = BTreeSet::new();
    for e in &events {
        assert_eq!(e["schema"], "fabrik.event/1", "{e}");
        assert_eq!(e["run_id"], id.as_str(), "{e}");
        let ts = e["ts"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.contains('T'), "{e}");
        let event_id = e["event_id"].as_str().unwrap();
        assert!(!event_id.is_empty());
        assert!(ids.insert(event_id.to_owned()), "duplicate event id: {e}");
    }
    let kinds: BTreeSet<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "run_started",
        "stage_started",
        "stage_finished",
        "gate_result",
        "verdict",
        "usage",
        "run_finished",
    ] {
        assert!(kinds.contains(kind), "no {kind} event in {kinds:?}");
    }
    assert_eq!(events.first().unwrap()["kind"], "run_started");
    assert_eq!(events.last().unwrap()["kind"], "run_finished");
    assert_eq!(events.last().unwrap()["data"]["exit_code"], 0);
    let verdicts: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "verdict")
        .map(|e| {
            (
                e["iteration"].as_u64().unwrap(),
                e["data"]["approved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(verdicts, [(1, false), (2, true)]);
    let gates: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "gate_result")
        .map(|e| {
            (
                e["data"]["name"].as_str().unwrap(),
                e["data"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    // The command gate, then the built-ins on by default (`clones`; `schema` skips in a repo
    // without schema files), before each verification.
    assert_eq!(
        gates,
        [
            ("check", "pass"),
            ("clones", "pass"),
            ("schema", "skip"),
            ("check", "pass"),
            ("clones", "pass"),
            ("schema", "skip")
        ]
    );

    let repo_log = read_jsonl(&fx.repo.join(".fabrik/events.jsonl"));
    assert_eq!(repo_log, events);
}

#[test]
fn an_agent_secret_never_reaches_the_store() {
    const SECRET: &str = "sk-test-abcdefghijklmnopqrstuvwx";
    let env = format!("env = {{ MY_API_TOKEN = \"{SECRET}\" }}");
    // The config (which holds the secret) stays outside the repository, so the worktree
    // under .fabrik/ holds no copy of it and every byte there must be clean.
    let fx = Fixture::with(Setup {
        config_outside: true,
        agent_lines: ["d1", "d2", "planner", "builder", "verifier", "shipper"]
            .into_iter()
            .map(|a| (a, env.clone()))
            .collect(),
        ..Setup::default()
    });
    let echo = |stage: &str| {
        Step::stage(stage)
            .echo_env("MY_API_TOKEN")
            .eprint(format!("stderr says {SECRET}\n"))
    };
    fx.script(
        Script::new()
            .step(echo("discovery"))
            .step(echo("planning"))
            .step(echo("execution").write("docs/fix.md", "done\n").exit(0))
            .step(
                Step::stage("verification")
                    .echo_env("MY_API_TOKEN")
                    .approve(),
            )
            .step(echo("ship")),
    );
    let run = fx.run(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    assert!(!run.stdout.contains(SECRET), "{run:?}");
    assert!(!run.stderr.contains(SECRET), "{run:?}");
    // The agents did see it.
    let exec = std::fs::read_to_string(
        fx.run_dir(&fx.only_run_id())
            .join("agents/execution-1.stdout"),
    )
    .unwrap();
    assert!(exec.starts_with("MY_API_TOKEN=‹redacted:"), "{exec}");

    let files = walk_files(&fx.repo.join(".fabrik"));
    assert!(files.len() > 20, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the secret is in {}",
            f.display()
        );
    }
}
