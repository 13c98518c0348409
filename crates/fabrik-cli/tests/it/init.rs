//! `fabrik init`: the agent CLIs on a given PATH mapped onto the stage table, gates from
//! the project's files, a file that loads, idempotence and `--force`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use fabrik_testkit::TestRepo;
use tempfile::TempDir;

use crate::common::{Run, fabrik_cmd};

/// A directory holding fake `claude` and `codex` executables, and `git` (fabrik needs it).
fn fake_bin() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["claude", "codex"] {
        let p = dir.path().join(name);
        std::fs::write(&p, "#!/bin/sh\necho fake\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let git = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .unwrap();
    std::os::unix::fs::symlink(git, dir.path().join("git")).unwrap();
    dir
}

fn fabrik(repo: &Path, bin: &Path, args: &[&str]) -> Run {
    Run::from(
        fabrik_cmd(repo)
            .env("PATH", bin)
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn init_maps_the_installed_clis_and_the_file_loads() {
    let bin = fake_bin();
    let repo = TestRepo::new();
    repo.write("Cargo.toml", "[package]\nname = \"x\"\n");
    let run = fabrik(repo.path(), bin.path(), &["init"]);
    run.expect_code(0);
    assert!(run.stdout.contains("wrote "), "{run:?}");
    assert!(
        run.stderr.contains(
            "droid not found: execution uses claude (install: npm install -g @factory/cli)"
        ),
        "{run:?}"
    );
    let text = repo.read("fabrik.toml");
    for needle in [
        "run = \"cargo fmt --check\"",
        "run = \"cargo clippy --all-targets -- -D warnings\"",
        "run = \"cargo test\"",
        "builtin = [\"scope\", \"clones\", \"schema\"]",
        "# Agent CLIs found on PATH: claude, codex.",
        "[stages.verification]\nagent = \"codex\"",
        "[stages.execution]\nagent = \"sonnet\"",
    ] {
        assert!(text.contains(needle), "{needle}\n---\n{text}");
    }
    let exclude = repo.read(".git/info/exclude");
    assert!(exclude.lines().any(|l| l == "/.fabrik/"), "{exclude}");

    let dry = fabrik(repo.path(), bin.path(), &["--dry-run", "x"]);
    dry.expect_code(0);
    for agent in ["sonnet", "codex", "haiku"] {
        assert!(dry.stdout.contains(agent), "{agent}: {dry:?}");
    }
}

#[test]
fn init_is_idempotent_and_force_keeps_a_backup() {
    let bin = fake_bin();
    let repo = TestRepo::new();
    repo.write("Cargo.toml", "[package]\nname = \"x\"\n");
    fabrik(repo.path(), bin.path(), &["init"]).expect_code(0);
    repo.write("fabrik.toml", "# mine\n");

    let again = fabrik(repo.path(), bin.path(), &["init"]);
    again.expect_code(0);
    assert!(
        again
            .stderr
            .contains("fabrik.toml exists; --force to overwrite"),
        "{again:?}"
    );
    assert_eq!(repo.read("fabrik.toml"), "# mine\n");
    assert!(!repo.exists("fabrik.toml.bak"));

    let forced = fabrik(repo.path(), bin.path(), &["init", "--force", "--json"]);
    forced.expect_code(0);
    assert_eq!(repo.read("fabrik.toml.bak"), "# mine\n");
    assert!(repo.read("fabrik.toml").contains("[stages.execution]"));
    let summary = forced.json();
    assert_eq!(summary["written"], true, "{summary}");
    assert_eq!(
        summary["agents_found"],
        serde_json::json!(["claude", "codex"])
    );
    assert_eq!(summary["stages"]["verification"], "codex", "{summary}");
    assert_eq!(summary["gates"].as_array().unwrap().len(), 3, "{summary}");
    assert!(
        summary["warnings"][0]
            .as_str()
            .unwrap()
            .contains("droid not found"),
        "{summary}"
    );
    assert!(
        summary["path"].as_str().unwrap().ends_with("fabrik.toml"),
        "{summary}"
    );
}

#[test]
fn init_without_any_cli_says_what_to_install() {
    let bin = tempfile::tempdir().unwrap();
    let real = fake_bin();
    std::os::unix::fs::symlink(real.path().join("git"), bin.path().join("git")).unwrap();
    let repo = TestRepo::new();
    let run = fabrik(repo.path(), bin.path(), &["init"]);
    run.expect_code(0);
    assert!(run.stderr.contains("no agent CLI found on PATH"), "{run:?}");
    assert!(
        run.stderr.contains("npm install -g @openai/codex"),
        "{run:?}"
    );
    let text = repo.read("fabrik.toml");
    assert!(
        text.contains("UNAVAILABLE: codex not found on PATH"),
        "{text}"
    );
    assert!(text.contains("#   kind = \"command\""), "{text}");
}
