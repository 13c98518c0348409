//! Snapshots of the human output: the golden path and a dry run.

use crate::common::{Fixture, Setup, happy};

/// Runs `f` with filters for run ids, temporary paths, durations and token counts.
fn filtered(f: impl FnOnce()) {
    insta::with_settings!({
        filters => vec![
            (r"\d{8}-\d{6}-[0-9a-f]{4}", "[RUN_ID]"),
            (r"/[^\s]*/fabrik-test-[A-Za-z0-9]+", "[REPO]"),
            (r"TIME: \d+s", "TIME: [T]s"),
            (r"TOKENS: \d+ \(in \d+, out \d+", "TOKENS: [N] (in [N], out [N]"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        f();
    });
}

#[test]
fn golden_path_human_output() {
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[("check", "true")]),
        ..Setup::default()
    });
    fx.script(happy());
    let run = fx.run(&["fix typo in docs"]);
    run.expect_code(0);
    filtered(|| insta::assert_snapshot!("golden_path_low_risk", run.stdout));
}

#[test]
fn dry_run_human_output() {
    let fx = Fixture::with(Setup {
        gates: crate::common::gates(&[("tests", "cargo test --workspace")]),
        ..Setup::default()
    });
    let run = fx.run(&["--dry-run", "Add JWT authentication"]);
    run.expect_code(0);
    assert!(fx.calls().is_empty());
    assert!(!fx.repo.exists(".fabrik"));
    filtered(|| insta::assert_snapshot!("dry_run_high_risk", run.stdout));
}

/// Every `--help` is part of the interface: a change to it shows up in review.
#[test]
fn help_texts() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["", "run", "stage", "resume", "status"] {
        let mut args: Vec<&str> = cmd.split_whitespace().collect();
        args.push("--help");
        let run = crate::common::fabrik_in(dir.path(), &args);
        run.expect_code(0);
        let name = if cmd.is_empty() {
            "help".to_owned()
        } else {
            format!("help_{}", cmd.replace(' ', "_"))
        };
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, run.stdout);
        });
    }
}
