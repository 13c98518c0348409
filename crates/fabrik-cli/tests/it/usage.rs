//! Exit codes for bad input (empty task, bad config, bad flags, missing agents, no git) and
//! the seed's canonical gate, run from a directory that is not a repository.

use std::path::Path;
use std::process::Command;

use pretty_assertions::assert_eq;

use crate::common::{FABRIK, Fixture, Setup, fabrik_in, happy, run_ids_in};

#[test]
fn an_empty_or_blank_task_exits_5_and_runs_nothing() {
    let fx = Fixture::new();
    fx.script(happy());
    for args in [
        &["run", "  "][..],
        &["  "][..],
        &["run", ""][..],
        &["--json", " \n\t"][..],
    ] {
        let run = fx.run(args);
        run.expect_code(5);
        assert!(
            run.stderr.contains("the task is empty"),
            "{args:?}: {run:?}"
        );
    }
    assert!(fx.calls().is_empty());
    assert!(!fx.repo.exists(".fabrik"), "a refused task wrote .fabrik/");
}

/// A repository whose fabrik.toml is `text`, committed.
fn repo_with_config(text: &str) -> Fixture {
    let fx = Fixture::new();
    fx.repo.write("fabrik.toml", text);
    fx.repo.commit_all("bad config");
    fx
}

#[test]
fn an_unknown_config_key_exits_3_with_file_line_and_column() {
    let fx = repo_with_config("[pipeline]\nmax_verfy = 3\n");
    let run = fx.run(&["fix typo in docs"]);
    run.expect_code(3);
    assert!(run.stderr.contains("fabrik.toml:2:1:"), "{run:?}");
    assert!(run.stderr.contains("max_verfy"), "{run:?}");
    assert!(!fx.repo.exists(".fabrik"));
}

#[test]
fn a_stage_naming_an_undefined_agent_exits_3_with_its_location() {
    let fx = repo_with_config("# agents\n[stages.execution]\nagent = \"ghost\"\n");
    let run = fx.run(&["fix typo in docs"]);
    run.expect_code(3);
    assert!(run.stderr.contains("fabrik.toml:3:9:"), "{run:?}");
    assert!(run.stderr.contains("`ghost`"), "{run:?}");
}

#[test]
fn usage_errors_exit_3() {
    let fx = Fixture::new();
    fx.script(happy());
    let cases: [&[&str]; 5] = [
        &["run", "--bogus", "x"],
        &["run", "--stage", "bogus", "x"],
        &["stage", "bogus", "x"],
        &["run", "--risk", "extreme", "x"],
        &["run", "--max-verify", "0", "x"],
    ];
    for args in cases {
        let run = fx.run(args);
        run.expect_code(3);
        assert!(run.stderr.contains("error:"), "{args:?}: {run:?}");
    }
    // --allow-dirty only makes sense in place.
    let run = fx.run(&["--allow-dirty", "fix typo in docs"]);
    run.expect_code(3);
    assert!(run.stderr.contains("--in-place"), "{run:?}");
    assert!(fx.calls().is_empty());
}

#[test]
fn a_missing_agent_binary_exits_3_naming_it() {
    let fx = Fixture::with(Setup {
        builder_program: Some("/no/such/agent-bin".to_owned()),
        ..Setup::default()
    });
    fx.script(happy());
    let run = fx.run(&["fix typo in docs"]);
    run.expect_code(3);
    assert!(run.stderr.contains("/no/such/agent-bin"), "{run:?}");
    assert!(run.stderr.contains("builder"), "{run:?}");
    assert!(
        fx.calls().is_empty(),
        "an agent ran before the preflight failed"
    );
    assert!(fx.run_ids().is_empty());
}

#[test]
fn outside_git_a_run_needs_in_place_and_allow_no_vcs() {
    let fx = Fixture::new();
    fx.script(happy());
    let dir = fx.plain_dir();

    let run = fabrik_in(&dir, &["fix typo in docs"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("is not inside a git repository"),
        "{run:?}"
    );
    assert!(run.stderr.contains("--allow-no-vcs"), "{run:?}");
    assert!(fx.calls().is_empty());

    let run = fabrik_in(
        &dir,
        &["--json", "--in-place", "--allow-no-vcs", "fix typo in docs"],
    );
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["status"], "success");
    assert_eq!(r["workspace"], "in place");
    assert_eq!(r["branch"], serde_json::Value::Null);
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/fix.md")).unwrap(),
        "typo fixed\n"
    );
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(fx.stages_called(&id), ["execution", "verification", "ship"]);
    assert!(
        dir.join(".fabrik/runs")
            .join(&id)
            .join("state.json")
            .is_file()
    );
}

fn empty_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("fabrik-plain-")
        .tempdir()
        .unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_seed_canonical_gate_passes_outside_a_repository() {
    let dir = empty_dir();

    let help = fabrik_in(dir.path(), &["--help"]);
    help.expect_code(0);
    assert!(help.stdout.contains("Usage:"), "{help:?}");

    let run = fabrik_in(dir.path(), &["--dry-run", "Test task"]);
    run.expect_code(0);
    assert!(run.stdout.contains("PIPELINE: Test task"), "{run:?}");
    assert!(run.stdout.contains("RISK: MEDIUM (default)"), "{run:?}");
    assert!(
        run.stdout
            .contains("DRY-RUN: Would execute stages 2, 3, 4, 5"),
        "{run:?}"
    );
    assert!(run.stdout.contains("RESULT: DRY-RUN SUCCESS"), "{run:?}");
    assert_eq!(
        entries(dir.path()),
        Vec::<String>::new(),
        "a dry run wrote files"
    );

    // Literally, through a shell, with fabrik on PATH.
    let bin_dir = Path::new(FABRIK).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg("fabrik --help >/dev/null && fabrik --dry-run \"Test task\" >/dev/null && echo PASS")
        .current_dir(dir.path())
        .env("PATH", path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PASS\n");
    assert!(out.status.success());
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_json_dry_run_prints_only_the_result_document() {
    let dir = empty_dir();
    let run = fabrik_in(
        dir.path(),
        &["--json", "--dry-run", "Add JWT authentication"],
    );
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["status"], "dry_run");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["version"], "1.0.0");
    assert_eq!(r["risk"], "high");
    assert_eq!(r["task"], "Add JWT authentication");
    assert_eq!(r["stages"], serde_json::json!([]));
    assert_eq!(run.stderr, "");
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_repository_without_commits_exits_3_and_leaves_no_run() {
    let fx = Fixture::new();
    fx.script(happy());
    let dir = fx.plain_dir();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);

    let run = fabrik_in(&dir, &["fix typo in docs"]);
    run.expect_code(3);
    assert!(run.stderr.contains("has no commits yet"), "{run:?}");
    assert!(run.stderr.contains("hint: commit once"), "{run:?}");
    assert!(fx.calls().is_empty());
    assert!(run_ids_in(&dir).is_empty());
}

#[test]
fn agents_lists_each_stage_command_line() {
    let fx = Fixture::new();
    let run = fx.run(&["agents"]);
    run.expect_code(0);
    assert!(run.stdout.contains("execution"), "{run:?}");
    assert!(run.stdout.contains("--script"), "{run:?}");
    // The built-in defaults name CLIs that an empty PATH does not have: exit 3, each named.
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::fabrik_cmd(dir.path())
        .env("PATH", dir.path())
        .arg("agents")
        .output()
        .unwrap();
    let run = crate::common::Run::from(out);
    run.expect_code(3);
    assert!(
        run.stdout.contains("`droid` was not found on PATH"),
        "{run:?}"
    );
    assert!(run.stdout.contains("codex exec --json"), "{run:?}");
}
