use std::path::Path;

use pretty_assertions::assert_eq;

use super::*;

fn load_str(text: &str) -> Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
    load(dir.path(), None)
}

fn invalid(text: &str) -> (usize, usize, String) {
    match load_str(text).unwrap_err() {
        Error::Invalid {
            line,
            column,
            message,
            ..
        } => (line, column, message),
        e @ Error::Read { .. } => panic!("unexpected {e:?}"),
    }
}

#[test]
fn defaults_follow_the_seed_stage_table() {
    let c = load(Path::new("/nonexistent-root"), None).unwrap();
    assert_eq!(c.stages.discovery.agents, vec!["codex", "gemini"]);
    assert_eq!(c.stages.planning.agent(), "sonnet");
    assert_eq!(c.stages.planning.reviewers, vec!["codex"]);
    assert_eq!(c.stages.execution.agent(), "swe");
    assert_eq!(c.stages.verification.agent(), "codex");
    assert_eq!(c.stages.ship.agent(), "haiku");
    assert_eq!(c.agents["swe"].model.as_deref(), Some("swe-1.5"));
    assert_eq!(c.pipeline.max_verify, 2);
    assert_eq!(c.pipeline.workspace, WorkspaceMode::Worktree);
    assert!(c.risk.high.contains(&"jwt".to_owned()));
    assert_eq!(c.path, None);
}

#[test]
fn user_file_overrides_and_refines() {
    let c = load_str(
        r#"
[pipeline]
max_verify = 3
[agents.codex]
model = "gpt-9"
[agents.bot]
kind = "command"
argv = ["bot", "{model}"]
timeout = "90s"
[stages.execution]
agent = "bot"
[[gates.command]]
name = "tests"
run = "true"
when = "changed:src/**"
"#,
    )
    .unwrap();
    assert_eq!(c.pipeline.max_verify, 3);
    assert_eq!(c.agents["codex"].kind, AgentKind::Preset);
    assert_eq!(c.agents["codex"].model.as_deref(), Some("gpt-9"));
    assert_eq!(
        c.agents["bot"].timeout,
        Some(std::time::Duration::from_secs(90))
    );
    assert_eq!(c.stages.execution.agent(), "bot");
    assert_eq!(
        c.stages.ship.agent(),
        "haiku",
        "untouched stages keep defaults"
    );
    assert_eq!(c.gates.command[0].when, GateWhen::Changed("src/**".into()));
}

#[test]
fn unknown_key_is_located() {
    let (line, col, msg) = invalid("[pipeline]\nmax_verify = 2\nmax_verfy = 3\n");
    assert_eq!((line, col), (3, 1));
    assert!(msg.contains("unknown field `max_verfy`"), "{msg}");
}

#[test]
fn bad_type_is_located() {
    let (line, col, msg) = invalid("[pipeline]\nmax_verify = \"two\"\n");
    assert_eq!((line, col), (2, 14));
    assert!(msg.contains("expected u32"), "{msg}");
}

#[test]
fn undefined_agent_is_located() {
    let (line, col, msg) = invalid("[stages.execution]\nagent = \"ghost\"\n");
    assert_eq!((line, col), (2, 9));
    assert!(msg.contains("`ghost`, which is not defined"), "{msg}");
}

#[test]
fn bad_duration_and_preset_are_located() {
    let (line, _, msg) =
        invalid("[agents.x]\nkind = \"command\"\nargv = [\"x\"]\ntimeout = \"soon\"\n");
    assert_eq!(line, 4);
    assert!(msg.contains("invalid duration"), "{msg}");
    let (line, _, msg) = invalid("[agents.x]\npreset = \"cursor\"\n");
    assert_eq!(line, 2);
    assert!(msg.contains("unknown preset"), "{msg}");
}

#[test]
fn command_agent_needs_argv() {
    let (_, _, msg) = invalid("[agents.x]\nkind = \"command\"\n");
    assert!(msg.contains("no `argv"), "{msg}");
}

#[test]
fn zero_max_verify_is_rejected() {
    let (line, _, msg) = invalid("[pipeline]\nmax_verify = 0\n");
    assert_eq!(line, 2);
    assert!(msg.contains("at least 1"));
}

#[test]
fn explicit_missing_config_is_a_read_error() {
    let e = load(Path::new("."), Some(Path::new("/nonexistent/fabrik.toml"))).unwrap_err();
    assert!(matches!(e, Error::Read { .. }));
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), &text).unwrap();
        let _ = load(dir.path(), None);
    }
}
