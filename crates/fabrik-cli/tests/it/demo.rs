//! `fabrik demo`: the whole high-risk pipeline, offline, on a generated sample repository,
//! with the recorded agents of the hidden `fabrik __demo-agent`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fabrik_testkit::TestRepo;
use pretty_assertions::assert_eq;

use crate::common::{Run, fabrik_cmd, fabrik_in, read_json};

/// `git -C dir ARGS`, isolated from the machine's configuration; trimmed stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The value after `RUN: ` in the header.
fn run_id(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("RUN: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no RUN line: {run:?}"))
        .to_owned()
}

/// Runs `fabrik ARGS` in `cwd` with the temporary directory at `tmp`, timed.
fn demo(cwd: &Path, tmp: &Path, args: &[&str]) -> (Run, Duration) {
    let start = Instant::now();
    let out = fabrik_cmd(cwd)
        .env("TMPDIR", tmp)
        .args(args)
        .output()
        .unwrap();
    (Run::from(out), start.elapsed())
}

#[test]
fn demo_runs_the_whole_pipeline_offline_and_leaves_the_cwd_alone() {
    // The user's cwd is a repository of its own: the demo must not run there.
    let user = TestRepo::new();
    user.write("notes.txt", "mine\n");
    let listing = user.tree_listing();
    let head = user.head();
    let tmp = tempfile::tempdir().unwrap();

    let (run, took) = demo(user.path(), tmp.path(), &["demo"]);
    run.expect_code(0);
    assert!(took < Duration::from_secs(10), "took {took:?}: {run:?}");

    // The full high-risk route, with one rejection and a fix.
    let expected = [
        "RISK: HIGH (matched: password)",
        "STAGE 1 DISCOVERY: PASS",
        "STAGE 2 PLANNING: PASS",
        "STAGE 3 EXECUTION: PASS",
        "PRE-FLIGHT GATES: PASS (compile PASS, tests PASS, clones PASS, schema SKIP, scope PASS)",
        "STAGE 4 VERIFICATION: FAIL (iteration 1/2)",
        "STAGE 3 EXECUTION: PASS (iteration 2)",
        "PRE-FLIGHT GATES: PASS (compile PASS, tests PASS, clones PASS, schema SKIP, scope PASS)",
        "STAGE 4 VERIFICATION: PASS (iteration 2/2)",
        "STAGE 5 SHIP: PASS",
        "RESULT: SUCCESS",
    ];
    let lines: Vec<&str> = run.stdout.lines().collect();
    let mut at = 0;
    for want in expected {
        let found = lines[at..].iter().position(|l| *l == want);
        let Some(i) = found else {
            panic!("`{want}` missing (or out of order) after line {at}: {run:?}")
        };
        at += i + 1;
    }

    // Exactly one new directory under the temporary directory: the sample repository.
    let made: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    let dir = made[0].canonicalize().unwrap();
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("fabrik-demo-"), "{name}");
    let id = run_id(&run);
    let branch = format!("fabrik/{id}");
    let d = dir.display();
    for hint in [
        format!("fabrik status {id} --cwd {d}"),
        format!("git -C {d} diff main {branch}"),
        format!("{d}/.fabrik/runs/{id}/reports"),
    ] {
        assert!(run.stdout.contains(&hint), "`{hint}` not shown: {run:?}");
    }

    // The branch: two execution commits and a ship commit on top of main.
    git(&dir, &["rev-parse", "--verify", &branch]);
    let stages: Vec<String> = git(
        &dir,
        &[
            "log",
            "--format=%(trailers:key=Fabrik-Stage,valueonly)",
            &format!("main..{branch}"),
        ],
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(str::to_owned)
    .collect();
    assert_eq!(stages, ["ship", "execution", "execution"]);
    let changed = git(&dir, &["diff", "--name-only", "main", &branch]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        ["CHANGELOG.md", "accounts/signup.py", "tests/test_signup.py"]
    );
    let signup = git(&dir, &["show", &format!("{branch}:accounts/signup.py")]);
    assert!(
        signup.contains("if len(password) < MIN_PASSWORD_LENGTH:"),
        "{signup}"
    );
    // The sample repository's own tree is untouched, still on main.
    assert_eq!(git(&dir, &["status", "--porcelain"]), "");
    assert_eq!(git(&dir, &["branch", "--show-current"]), "main");

    // The verifier's first verdict: one blocker with file and line.
    let run_dir = dir.join(".fabrik/runs").join(&id);
    let v1 = read_json(&run_dir.join("verdict-1.json"));
    assert_eq!(v1["approved"], false);
    assert_eq!(v1["issues"].as_array().unwrap().len(), 1, "{v1}");
    assert_eq!(v1["issues"][0]["severity"], "blocker");
    assert_eq!(v1["issues"][0]["file"], "accounts/signup.py");
    assert_eq!(v1["issues"][0]["line"], 31);
    assert_eq!(read_json(&run_dir.join("verdict-2.json"))["approved"], true);

    // The recorded plan meets the plan contract against the sample repository.
    let plan = run_dir.join("plan.md");
    let lint = fabrik_in(
        user.path(),
        &[
            "plan",
            "lint",
            &plan.to_string_lossy(),
            "--repo",
            &dir.to_string_lossy(),
        ],
    );
    lint.expect_code(0);

    // `fabrik status` finds the run from anywhere with --cwd.
    let status = fabrik_in(
        user.path(),
        &["status", &id, "--cwd", &dir.to_string_lossy(), "--json"],
    );
    status.expect_code(0);
    let r = status.json();
    assert_eq!(r["status"], "success");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["metrics"]["verification_iterations"], 2);
    assert_eq!(r["branch"], branch.as_str());

    // The user's repository: same files, same HEAD, nothing new, no .fabrik.
    assert_eq!(user.tree_listing(), listing);
    assert_eq!(user.head(), head);
    assert!(!user.exists(".fabrik"));
}

#[test]
fn demo_with_dir_and_json_prints_only_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new").join("demo");
    let (run, _) = demo(
        tmp.path(),
        tmp.path(),
        &["--json", "demo", "--dir", "new/demo"],
    );
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["status"], "success");
    assert_eq!(r["risk"], "high");
    assert_eq!(r["metrics"]["verification_iterations"], 2);
    assert_eq!(r["metrics"]["stages_skipped"], 0);
    let id = r["run_id"].as_str().unwrap();
    assert!(
        dir.join(".fabrik/runs")
            .join(id)
            .join("state.json")
            .is_file()
    );
    // Nothing else was created next to it.
    let entries: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn demo_refuses_a_non_empty_dir() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("keep.txt"), "keep\n").unwrap();
    let (run, _) = demo(
        tmp.path(),
        tmp.path(),
        &["demo", "--dir", &tmp.path().to_string_lossy()],
    );
    run.expect_code(3);
    assert!(run.stderr.contains("is not empty"), "{run:?}");
    let entries: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "the directory was changed");
}

#[test]
fn the_demo_agent_is_hidden_and_refuses_to_run_outside_a_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let help = fabrik_in(tmp.path(), &["--help"]);
    help.expect_code(0);
    assert!(help.stdout.contains("demo"));
    assert!(!help.stdout.contains("__demo-agent"));
    let run = fabrik_cmd(tmp.path())
        .env_remove("FABRIK_STAGE")
        .env_remove("FABRIK_RUN_ID")
        .args(["__demo-agent", "builder"])
        .output()
        .unwrap();
    let run = Run::from(run);
    run.expect_code(3);
    // Even with the pipeline's variables and a matching prompt, it writes only into a
    // workspace of the demo (one whose fabrik.toml carries the demo's marker).
    let mut child = fabrik_cmd(tmp.path())
        .env("FABRIK_STAGE", "execution")
        .env("FABRIK_RUN_ID", "20260101-000000-abcd")
        .env("FABRIK_ITERATION", "1")
        .env("FABRIK_ATTEMPT", "1")
        .args(["__demo-agent", "builder"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prompt = "FROZEN PLAN:\n# Plan: reject passwords shorter than 12 characters\n";
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), prompt.as_bytes()).unwrap();
    let run = Run::from(child.wait_with_output().unwrap());
    run.expect_code(3);
    assert!(run.stderr.contains("refusing to write"), "{run:?}");
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none());
}
