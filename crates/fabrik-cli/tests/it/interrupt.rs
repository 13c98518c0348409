//! Ctrl-C and `kill -9`: the run is saved, nothing is orphaned, and `fabrik resume`
//! finishes it without repeating completed steps or duplicating commits.

use std::path::Path;
use std::time::{Duration, Instant};

use fabrik_testkit::{Script, Step};
use nix::sys::signal::Signal;
use pretty_assertions::assert_eq;

use crate::common::{
    Fixture, Setup, happy, pid_alive, read_json, read_jsonl, read_pidfile, wait_until,
};

#[test]
fn ctrl_c_saves_the_run_kills_the_agent_group_and_resume_continues() {
    let fx = Fixture::new();
    let pidfile = fx.aux("grandchild.pid");
    fx.script(crate::common::before(
        Step::stage("execution")
            .spawn_grandchild(60, &pidfile)
            .sleep_ms(30_000),
        happy(),
    ));

    let mut fabrik = fx.spawn("run", &["Add JWT authentication"]);
    let started = wait_until(Duration::from_secs(20), || {
        fx.calls().iter().any(|c| c.stage == "execution") && pidfile.exists()
    });
    assert!(started, "execution never started: {}", fabrik.stderr_now());
    let gc = read_pidfile(&pidfile);
    assert!(pid_alive(gc));

    let sent = Instant::now();
    fabrik.signal(Signal::SIGINT);
    let run = fabrik
        .wait_for(Duration::from_secs(10))
        .expect("fabrik ignored SIGINT for 10 s");
    let took = sent.elapsed();
    run.expect_code(130);
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    assert!(run.stdout.contains("RESULT: INTERRUPTED"), "{run:?}");

    let id = fx.only_run_id();
    assert!(
        run.stdout.contains(&format!("fabrik resume {id}")),
        "{run:?}"
    );
    let state = fx.state(&id);
    assert_eq!(state["status"], "interrupted");
    assert_eq!(state["phase"]["phase"], "execution");
    assert!(
        wait_until(Duration::from_secs(3), || !pid_alive(gc)),
        "grandchild {gc} survived Ctrl-C"
    );
    let status = fx.run(&["--json", "status", &id]);
    status.expect_code(0);
    assert_eq!(status.json()["status"], "interrupted");
    assert_eq!(status.json()["exit_code"], 130);

    // The builder is quick now; resume picks up at execution.
    fx.script(happy());
    let run = fx.run(&["resume", &id]);
    run.expect_code(0);
    assert!(run.stdout.contains("RESULT: SUCCESS"), "{run:?}");
    assert!(
        run.stdout.contains("STARTING: Stage 3 (resumed)"),
        "{run:?}"
    );
    assert_eq!(
        fx.stages_called(&id),
        [
            "discovery",
            "discovery",
            "planning",
            "execution",
            "execution",
            "verification",
            "ship"
        ]
    );
    assert_eq!(fx.state(&id)["status"], "finished");
    assert_eq!(fx.state(&id)["phase"]["phase"], "done");
    assert_eq!(
        fx.repo.git(&["show", &format!("fabrik/{id}:docs/fix.md")]),
        "typo fixed"
    );
}

/// A seeded linear congruential generator (deterministic kill instants).
struct Lcg(u64);

impl Lcg {
    fn next_in(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lo + (self.0 >> 33) % (hi - lo)
    }
}

/// The plan of [`slow_script`]: its manifest names both files the builder creates, so the
/// `scope` gate passes.
const AUTH_PLAN: &str = "# Plan\n\n## 2. File-impact manifest\n| Path | Action | Reason | What will NOT change |\n|---|---|---|---|\n| src/auth.rs | CREATE | login | - |\n| src/jwt.rs | CREATE | verify | - |\n";

/// Every stage is deterministic and takes 300 ms; the verifier rejects iteration 1.
fn slow_script() -> Script {
    Script::new()
        .step(
            Step::stage("discovery")
                .sleep_ms(300)
                .print("Discovery: auth lives in src/auth.rs\n"),
        )
        .step(Step::stage("planning").sleep_ms(300).print(AUTH_PLAN))
        .step(
            Step::stage("execution")
                .iteration(1)
                .write("src/auth.rs", "pub fn login() {}\n")
                .sleep_ms(300)
                .print("built login\n"),
        )
        .step(
            Step::stage("execution")
                .write("src/jwt.rs", "pub fn verify() {}\n")
                .sleep_ms(300)
                .print("built verify\n"),
        )
        .step(
            Step::stage("verification")
                .iteration(1)
                .sleep_ms(300)
                .reject(&["JWT verification is missing"]),
        )
        .step(Step::stage("verification").sleep_ms(300).approve())
        .step(
            Step::stage("ship")
                .write("CHANGELOG.md", "- JWT authentication\n")
                .sleep_ms(300)
                .print("documented\n"),
        )
}

/// The run whose state.json exists (a run killed before its first snapshot has none).
fn saved_run(fx: &Fixture) -> Option<String> {
    fx.run_ids()
        .into_iter()
        .find(|id| fx.run_dir(id).join("state.json").exists())
}

/// Every file fabrik keeps for run `id` parses.
fn assert_run_files_parse(fx: &Fixture, id: &str) {
    let dir = fx.run_dir(id);
    read_json(&dir.join("state.json"));
    read_jsonl(&dir.join("events.jsonl"));
    read_jsonl(&fx.repo.join(".fabrik/events.jsonl"));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            read_json(&path);
        }
    }
    for entry in std::fs::read_dir(dir.join("reports")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            read_json(&path);
        }
    }
}

/// `Fabrik-Iteration` of every commit of `stage` on `rev`.
fn commit_iterations(fx: &Fixture, rev: &str, stage: &str) -> Vec<String> {
    let out = fx.repo.git(&[
        "log",
        "--fixed-strings",
        &format!("--grep=Fabrik-Stage: {stage}"),
        "--format=%(trailers:key=Fabrik-Iteration,valueonly)",
        rev,
    ]);
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn branch_tree(fx: &Fixture, id: &str) -> String {
    fx.repo.git(&["ls-tree", "-r", &format!("fabrik/{id}")])
}

const TASK: &str = "Add JWT authentication";

/// One crash scenario: start the run, SIGKILL fabrik at a random instant, check that the
/// store is readable, resume, and so on until a round finishes by itself. Returns the run id
/// and (delay ms, killed, phase afterwards) per round.
fn crash_until_done(fx: &Fixture, rng: &mut Lcg) -> (String, Vec<(u64, bool, Option<String>)>) {
    let mut history = Vec::new();
    for round in 0..12 {
        let id = saved_run(fx);
        let args: Vec<&str> = match &id {
            Some(id) => vec!["resume", id.as_str()],
            None => vec![TASK],
        };
        let mut fabrik = fx.spawn(&format!("round-{round}"), &args);
        let delay = rng.next_in(50, 1500);
        std::thread::sleep(Duration::from_millis(delay));
        let killed = fabrik.wait_for(Duration::ZERO).is_none();
        if killed {
            fabrik.signal(Signal::SIGKILL);
        }
        let run = fabrik.wait(Duration::from_secs(10));
        assert!(
            run.code.is_none() || run.code == Some(0),
            "round {round} ({delay} ms): {run:?}\nhistory: {history:?}"
        );
        // Let the killed fabrik's children (a git command, an agent) finish, as they would
        // before a user gets to type `fabrik resume`.
        std::thread::sleep(Duration::from_millis(400));
        let phase = saved_run(fx).map(|id| {
            let status = fx.run(&["--json", "status", &id]);
            status.expect_code(0);
            let r = status.json();
            assert_eq!(r["run_id"], id.as_str());
            assert!(
                ["interrupted", "success"].contains(&r["status"].as_str().unwrap()),
                "round {round}: {r}"
            );
            assert_run_files_parse(fx, &id);
            fx.state(&id)["phase"]["phase"].as_str().unwrap().to_owned()
        });
        history.push((delay, killed, phase));
        if !killed {
            let id = saved_run(fx).expect("a finished round saved no run");
            return (id, history);
        }
    }
    panic!("the run never finished: {history:?}");
}

#[test]
fn kill_9_at_random_instants_then_resume_matches_an_uninterrupted_run() {
    let setup = Setup {
        config_outside: true,
        ..Setup::default()
    };

    // The reference: the same script, never interrupted.
    let reference = Fixture::with(setup.clone());
    reference.script(slow_script());
    reference.run(&[TASK]).expect_code(0);
    let ref_id = reference.only_run_id();
    let ref_rev = format!("fabrik/{ref_id}");
    let ref_tree = branch_tree(&reference, &ref_id);
    assert_eq!(
        commit_iterations(&reference, &ref_rev, "execution"),
        ["2", "1"]
    );
    assert_eq!(commit_iterations(&reference, &ref_rev, "ship"), ["2"]);

    // The whole run takes over 2 s and no kill comes later than 1.5 s, so every scenario
    // is killed at least once; scenarios repeat until 8 kills have landed.
    let mut rng = Lcg(0x5eed_f00d);
    let mut kills = 0;
    let mut scenarios = 0;
    while kills < 8 {
        scenarios += 1;
        assert!(scenarios <= 8, "8 scenarios gave only {kills} kills");
        let fx = Fixture::with(setup.clone());
        fx.script(slow_script());
        let (id, history) = crash_until_done(&fx, &mut rng);
        kills += history.iter().filter(|(_, killed, _)| *killed).count();

        let saved: Vec<String> = fx
            .run_ids()
            .into_iter()
            .filter(|r| fx.run_dir(r).join("state.json").exists())
            .collect();
        assert_eq!(
            saved,
            std::slice::from_ref(&id),
            "a second run was started: {history:?}"
        );
        // The run is done; resuming it again is a no-op that reports success.
        let run = fx.run(&["resume", &id]);
        run.expect_code(0);
        assert!(run.stdout.contains("RESULT: SUCCESS"), "{run:?}");
        assert_run_files_parse(&fx, &id);

        let rev = format!("fabrik/{id}");
        assert_eq!(branch_tree(&fx, &id), ref_tree, "{history:?}");
        assert_eq!(
            commit_iterations(&fx, &rev, "execution"),
            ["2", "1"],
            "duplicate or missing execution commits: {history:?}"
        );
        assert_eq!(commit_iterations(&fx, &rev, "ship"), ["2"], "{history:?}");
        let state = fx.state(&id);
        assert_eq!(state["phase"]["phase"], "done");
        assert_eq!(state["iteration"], 2);
        // Resumes continue the event numbering: no id is reused.
        let events = read_jsonl(&fx.run_dir(&id).join("events.jsonl"));
        let ids: std::collections::BTreeSet<&str> = events
            .iter()
            .map(|e| e["event_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), events.len(), "duplicate event ids: {history:?}");
        // The user's tree never moved.
        assert!(fx.repo.is_clean(), "{}", fx.repo.status());
        assert!(!Path::new(&fx.repo.join("src/auth.rs")).exists());
    }
}

#[test]
fn a_run_stopped_right_after_its_first_snapshot_resumes_from_its_start() {
    let fx = Fixture::new();
    fx.script(happy());
    // The repository's event log cannot be opened: the run stops right after writing its
    // first state snapshot, exactly as a kill -9 at that instant would leave it.
    std::fs::create_dir_all(fx.repo.join(".fabrik/events.jsonl")).unwrap();
    let run = fx.run(&["fix typo in docs"]);
    run.expect_code(1);
    assert!(run.stderr.contains("events.jsonl"), "{run:?}");
    let id = fx.only_run_id();
    assert!(fx.calls().is_empty());

    std::fs::remove_dir(fx.repo.join(".fabrik/events.jsonl")).unwrap();
    let run = fx.run(&["resume", &id]);
    run.expect_code(0);
    assert_eq!(fx.stages_called(&id), ["execution", "verification", "ship"]);
    assert_eq!(fx.state(&id)["phase"]["phase"], "done");
}

#[test]
fn sigterm_during_verification_and_resume_reruns_the_gates_first() {
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[("count", "echo ran >> {aux}/gate-runs")]),
        ..Setup::default()
    });
    fx.script(crate::common::before(
        Step::stage("verification").sleep_ms(30_000).approve(),
        happy(),
    ));
    let gate_runs = || {
        std::fs::read_to_string(fx.aux("gate-runs"))
            .unwrap_or_default()
            .lines()
            .count()
    };

    let mut fabrik = fx.spawn("run", &["--json", "fix typo in docs"]);
    let verifying = wait_until(Duration::from_secs(20), || {
        fx.calls().iter().any(|c| c.stage == "verification")
    });
    assert!(
        verifying,
        "verification never started: {}",
        fabrik.stderr_now()
    );
    assert_eq!(gate_runs(), 1);
    fabrik.signal(Signal::SIGTERM);
    let run = fabrik
        .wait_for(Duration::from_secs(10))
        .expect("fabrik ignored SIGTERM for 10 s");
    run.expect_code(130);
    let id = fx.only_run_id();
    assert_eq!(fx.state(&id)["status"], "interrupted");
    let r = run.json();
    assert_eq!(r["status"], "interrupted");
    assert_eq!(r["exit_code"], 130);
    assert_eq!(r["run_id"], id.as_str());

    // Time passed since the gates ran: they run again, immediately before the verifier.
    fx.script(happy());
    let (run, r) = fx.run_json(&["--json", "resume", &id]);
    run.expect_code(0);
    assert_eq!(gate_runs(), 2, "the resumed verification skipped the gates");
    let names = crate::common::stage_names(&r);
    assert_eq!(
        names,
        [
            "execution",
            "pre_verify",
            "pre_verify",
            "verification",
            "ship"
        ]
    );
    assert_eq!(
        fx.stages_called(&id),
        ["execution", "verification", "verification", "ship"]
    );
}

#[test]
fn ctrl_c_during_concurrent_discovery_stops_both_agents() {
    let fx = Fixture::new();
    let (pid1, pid2) = (fx.aux("d1.pid"), fx.aux("d2.pid"));
    fx.script(crate::common::before(
        Step::stage("discovery")
            .spawn_grandchild(60, &pid1)
            .sleep_ms(30_000),
        happy(),
    ));
    fx.script_d2(crate::common::before(
        Step::stage("discovery")
            .spawn_grandchild(60, &pid2)
            .sleep_ms(30_000),
        happy(),
    ));

    let fabrik = fx.spawn("run", &["Add JWT authentication"]);
    assert!(
        wait_until(Duration::from_secs(20), || pid1.exists() && pid2.exists()),
        "discovery never started: {}",
        fabrik.stderr_now()
    );
    let agents: Vec<u32> = fx.calls().iter().map(|c| c.pid).collect();
    assert_eq!(agents.len(), 2);
    let grandchildren = [read_pidfile(&pid1), read_pidfile(&pid2)];
    fabrik.signal(Signal::SIGINT);
    let run = fabrik.wait(Duration::from_secs(10));
    run.expect_code(130);
    let id = fx.only_run_id();
    assert_eq!(fx.state(&id)["status"], "interrupted");
    assert_eq!(fx.state(&id)["phase"]["phase"], "discovery");
    for pid in agents
        .iter()
        .map(|p| i32::try_from(*p).unwrap())
        .chain(grandchildren)
    {
        assert!(
            wait_until(Duration::from_secs(3), || !pid_alive(pid)),
            "process {pid} survived Ctrl-C"
        );
    }

    fx.script(happy());
    fx.run(&["resume", &id]).expect_code(0);
    assert_eq!(
        fx.stages_called(&id),
        [
            "discovery",
            "discovery",
            "discovery",
            "discovery",
            "planning",
            "execution",
            "verification",
            "ship"
        ]
    );
}
