//! `fabrik run --record DIR`, then the same run replayed by `kind = "replay"` agents in a
//! fresh clone: same result, same branch tree, no agent called.

use std::path::{Path, PathBuf};

use serde_json::Value;

use fabrik_testkit::{Script, Step};

use crate::common::{Fixture, Run, fabrik_cmd, happy};

const TASK: &str = "Add JWT authentication to the login endpoint";

/// The fixture's config with every agent replaced by a replay agent reading `rec`.
fn replay_config(fx: &Fixture, rec: &Path) -> String {
    let text = std::fs::read_to_string(fx.repo.join("fabrik.toml")).unwrap();
    text.lines()
        .map(|l| {
            if l == "kind = \"command\"" {
                "kind = \"replay\"".to_owned()
            } else if l.starts_with("argv = ") {
                format!(
                    "dir = {}",
                    serde_json::to_string(&rec.to_string_lossy()).unwrap()
                )
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Drops what differs between two runs of the same work: ids, times, paths.
fn normalize(v: &mut Value, id: &str) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let volatile = [
                    "run_id",
                    "_at",
                    "time",
                    "duration",
                    "workspace",
                    "branch",
                    "path",
                    "_ms",
                    "elapsed",
                ]
                .iter()
                .any(|p| k.contains(p));
                if volatile {
                    *val = Value::Null;
                } else {
                    normalize(val, id);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| normalize(i, id)),
        Value::String(s) if s.contains(id) => *s = s.replace(id, "<id>"),
        _ => {}
    }
}

fn clone_of(fx: &Fixture, into: &Path) {
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "-b", "main"])
        .arg(fx.repo.path())
        .arg(into)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(st.success());
    for (k, v) in [
        ("user.name", "Fabrik Test"),
        ("user.email", "test@fabrik.invalid"),
        ("commit.gpgsign", "false"),
    ] {
        let st = std::process::Command::new("git")
            .current_dir(into)
            .args(["config", k, v])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

fn ls_tree(dir: &Path, rev: &str) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["ls-tree", "-r", rev])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs [`TASK`] at high risk with `--record` into the scratch directory (exit 0).
fn record(fx: &Fixture) -> (PathBuf, Run, Value) {
    let rec = fx.aux("rec");
    let (run, result) = fx.run_json(&[
        "run",
        "--json",
        "--risk",
        "high",
        "--record",
        &rec.to_string_lossy(),
        TASK,
    ]);
    run.expect_code(0);
    (rec, run, result)
}

fn recorded_run() -> (Fixture, PathBuf, Value) {
    let fx = Fixture::new();
    fx.script(happy());
    let (rec, _, result) = record(&fx);
    (fx, rec, result)
}

/// Runs `fabrik ARGS` in a fresh clone of the fixture's repository, every agent replaced
/// by a replay agent reading `rec`; returns the clone.
fn replay(fx: &Fixture, rec: &Path, args: &[&str]) -> (PathBuf, Run) {
    let fresh = fx.aux("fresh");
    clone_of(fx, &fresh);
    let config = fx.aux("replay.toml");
    std::fs::write(&config, replay_config(fx, rec)).unwrap();
    let out = fabrik_cmd(&fresh)
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .unwrap();
    (fresh, Run::from(out))
}

/// Both results, normalized, are equal; returns the two run ids.
fn assert_same_result(mut recorded: Value, mut replayed: Value) -> (String, String) {
    let recorded_id = recorded["run_id"].as_str().unwrap().to_owned();
    let replayed_id = replayed["run_id"].as_str().unwrap().to_owned();
    normalize(&mut recorded, &recorded_id);
    normalize(&mut replayed, &replayed_id);
    pretty_assertions::assert_eq!(recorded, replayed);
    (recorded_id, replayed_id)
}

#[test]
fn replayed_run_matches_the_recorded_one() {
    let (fx, rec, recorded) = recorded_run();
    assert!(
        std::fs::read_dir(&rec).unwrap().count() >= 6,
        "one file per call"
    );
    let calls_before = fx.calls().len();

    let (fresh, run) = replay(&fx, &rec, &["run", "--json", "--risk", "high", TASK]);
    run.expect_code(0);
    assert_eq!(
        fx.calls().len(),
        calls_before,
        "the fake agent was not called"
    );
    let (recorded_id, replayed_id) = assert_same_result(recorded, run.json());
    assert_eq!(
        ls_tree(fx.repo.path(), &format!("fabrik/{recorded_id}")),
        ls_tree(&fresh, &format!("fabrik/{replayed_id}"))
    );
}

#[test]
fn changed_task_is_a_prompt_mismatch_naming_the_stage() {
    let (fx, rec, _) = recorded_run();
    let (_, run) = replay(
        &fx,
        &rec,
        &["run", "--risk", "high", "Add OAuth login instead"],
    );
    let stderr = &run.stderr;
    assert!(matches!(run.code, Some(1 | 3)), "{run:?}");
    assert!(
        stderr.contains("prompt of discovery iteration 1 differs from the recording"),
        "{stderr}"
    );
    assert!(stderr.contains("re-record with --record"), "{stderr}");
}

#[test]
fn a_crashed_agent_is_recorded_and_replayed_as_the_same_crash() {
    let fx = Fixture::new();
    fx.script(happy());
    // The second discovery agent crashes; discovery goes on with the first one.
    fx.script_d2(
        Script::new().step(
            Step::stage("discovery")
                .eprint("fatal: model overloaded\n")
                .exit(2),
        ),
    );
    let (rec, run, recorded) = record(&fx);
    assert!(run.stderr.contains("model overloaded"), "{run:?}");

    let (_, run) = replay(&fx, &rec, &["run", "--json", "--risk", "high", TASK]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("agent `d2` failed (exit code 2): fatal: model overloaded"),
        "{run:?}"
    );
    assert_same_result(recorded, run.json());
}
