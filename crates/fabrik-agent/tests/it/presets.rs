//! End-to-end preset calls against fake CLIs: a shell script named like the CLI, first on
//! the `PATH` the agent gets from its configured `env` (the test process's environment is
//! never changed). The script records its argv, cwd, stdin and prompt file, and prints an
//! output observed from the real CLI (tests/fixtures).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fabrik_agent::{
    Agent, Autonomy, Error, Request, Response, Result, SessionPolicy, Transcript, build,
};
use fabrik_config::{AgentConfig, AgentKind, PromptVia};
use fabrik_core::Usage;
use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;
use pretty_assertions::assert_eq;

const SCRIPT: &str = r#"#!/bin/sh
F="$FAKE_DIR"
: > "$F/argv"
for a in "$@"; do printf '%s\n' "$a" >> "$F/argv"; done
pwd > "$F/cwd"
printf '%s' "$FABRIK_STAGE" > "$F/stage"
printf '%s' "$OPENCODE_CONFIG_CONTENT" > "$F/opencode-config"
prev=
for a in "$@"; do
  case "$prev" in
    -f|--message-file) cat "$a" > "$F/prompt-file" ;;
    --analytics-log) cat "$F/side" > "$a" ;;
  esac
  prev="$a"
done
cat > "$F/stdin"
cat "$F/out"
cat "$F/err" >&2
if [ -f "$F/sleep" ]; then sleep "$(cat "$F/sleep")"; fi
exit "$(cat "$F/code")"
"#;

const PROMPT: &str = "Implement the plan.\nIt's {model} time.";

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A fake CLI, a workspace and a run directory in one temporary directory.
struct Fake {
    root: tempfile::TempDir,
    preset: &'static str,
}

impl Fake {
    /// A fake `preset` printing the observed run `case` (`<case>.stdout/.stderr/.exit`).
    fn observed(preset: &'static str, case: &str) -> Fake {
        let code: i32 = fixture(&format!("{case}.exit")).trim().parse().unwrap();
        Fake::printing(
            preset,
            &fixture(&format!("{case}.stdout")),
            &fixture(&format!("{case}.stderr")),
            if code == 124 { 0 } else { code },
        )
    }

    fn printing(preset: &'static str, out: &str, err: &str, code: i32) -> Fake {
        let root = tempfile::tempdir().unwrap();
        for d in ["bin", "fake", "ws", "run"] {
            std::fs::create_dir(root.path().join(d)).unwrap();
        }
        let bin = root.path().join("bin").join(preset);
        std::fs::write(&bin, SCRIPT).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let f = Fake { root, preset };
        f.put("out", out);
        f.put("err", err);
        f.put("code", &code.to_string());
        f.put("side", "");
        f
    }

    fn put(&self, name: &str, text: &str) {
        std::fs::write(self.path("fake").join(name), text).unwrap();
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.root.path().join(sub)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path("fake").join(name)).unwrap_or_default()
    }

    fn config(&self, model: Option<&str>, extra: &[&str]) -> AgentConfig {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        AgentConfig {
            name: format!("my-{}", self.preset),
            kind: AgentKind::Preset,
            preset: Some(self.preset.to_owned()),
            argv: Vec::new(),
            prompt_via: PromptVia::Stdin,
            model: model.map(str::to_owned),
            timeout: None,
            env: BTreeMap::from([
                ("PATH".to_owned(), path),
                (
                    "FAKE_DIR".to_owned(),
                    self.path("fake").display().to_string(),
                ),
            ]),
            argv_extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            base_url: None,
            api_key_env: None,
            dir: None,
        }
    }

    fn agent(&self, model: Option<&str>, extra: &[&str]) -> Box<dyn Agent> {
        build(&self.config(model, extra)).unwrap()
    }

    fn call(
        &self,
        agent: &dyn Agent,
        role: &str,
        session: SessionPolicy,
        timeout: Duration,
    ) -> Result<Response> {
        let transcript = Transcript::in_dir(&self.path("run"), &format!("{role}-1"));
        let cancel = CancelToken::new();
        let redactor = Redactor::default();
        let ws = self.path("ws");
        let req = Request {
            role,
            prompt: PROMPT,
            workspace: &ws,
            run_id: "r1",
            slot: "s2",
            session,
            iteration: 1,
            attempt: 1,
            autonomy: Autonomy::for_role(role),
            timeout,
            grace: Duration::from_millis(100),
            expect_json: false,
            transcript: &transcript,
            cancel: &cancel,
            redactor: &redactor,
        };
        agent.call(&req)
    }

    /// The argv the fake received, with the temporary paths replaced by placeholders.
    fn argv(&self) -> Vec<String> {
        let raw: Vec<String> = self.read("argv").lines().map(str::to_owned).collect();
        let scratch = raw
            .iter()
            .find_map(|a| a.strip_suffix("/prompt.md").map(str::to_owned));
        raw.into_iter()
            .map(|a| {
                let a = match &scratch {
                    Some(s) => a.replace(s.as_str(), "<tmp>"),
                    None => a,
                };
                a.replace(&self.path("ws").display().to_string(), "<ws>")
                    .replace(&self.path("run").display().to_string(), "<run>")
            })
            .collect()
    }

    fn assert_ran_in_workspace(&self, stage: &str) {
        let cwd = PathBuf::from(self.read("cwd").trim());
        assert_eq!(
            cwd.canonicalize().unwrap(),
            self.path("ws").canonicalize().unwrap()
        );
        assert_eq!(self.read("stage"), stage);
    }
}

fn words(s: &[&str]) -> Vec<String> {
    s.iter().map(|w| (*w).to_owned()).collect()
}

const LONG: Duration = Duration::from_secs(20);

#[test]
fn droid_write_call_end_to_end() {
    let fake = Fake::observed("droid", "droid-success");
    let agent = fake.agent(Some("swe-1.5"), &["-r", "high"]);
    let r = fake
        .call(&*agent, "execution", SessionPolicy::New, LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "exec",
            "-o",
            "json",
            "--cwd",
            "<ws>",
            "--auto",
            "medium",
            "-m",
            "swe-1.5",
            "-f",
            "<tmp>/prompt.md",
            "-r",
            "high"
        ])
    );
    assert_eq!(fake.read("prompt-file"), PROMPT);
    assert_eq!(fake.read("stdin"), "");
    fake.assert_ran_in_workspace("execution");
    assert_eq!(r.text, "<final assistant text>");
    assert_eq!(
        r.session_id.as_deref(),
        Some("37f57e1e-950e-4814-8d3b-a8c5124a22dc")
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 51234,
            output_tokens: 2210,
            cache_read_tokens: 40960,
            cache_write_tokens: 0,
            cost_usd: None,
            estimated: false,
        }
    );
    // The private prompt file is gone after the call.
    let scratch = fake
        .read("argv")
        .lines()
        .find(|l| l.ends_with("/prompt.md"))
        .map(PathBuf::from)
        .unwrap();
    assert!(!scratch.exists());
}

#[test]
fn droid_resume_and_read_only() {
    let fake = Fake::observed("droid", "droid-success");
    let agent = fake.agent(None, &[]);
    fake.call(&*agent, "review", SessionPolicy::Resume("abc".into()), LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "exec",
            "-o",
            "json",
            "--cwd",
            "<ws>",
            "-s",
            "abc",
            "-f",
            "<tmp>/prompt.md"
        ])
    );
}

#[test]
fn claude_read_only_call_end_to_end() {
    let fake = Fake::observed("claude", "claude-mock");
    let agent = fake.agent(Some("sonnet"), &["--effort", "high"]);
    let r = fake
        .call(&*agent, "verification", SessionPolicy::New, LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "-p",
            "--output-format",
            "json",
            "--permission-mode",
            "dontAsk",
            "--disallowedTools",
            "Bash,Edit,Write,NotebookEdit",
            "--model",
            "sonnet",
            "--effort",
            "high",
        ])
    );
    assert_eq!(fake.read("stdin"), PROMPT);
    fake.assert_ran_in_workspace("verification");
    assert_eq!(r.text, "MOCK-OK: hello from the loopback mock.");
    assert_eq!(
        r.session_id.as_deref(),
        Some("2917b509-5b87-4578-a933-73b7beff9355")
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 1234,
            output_tokens: 56,
            cache_read_tokens: 1000,
            cache_write_tokens: 200,
            cost_usd: Some(0.003_628),
            estimated: false,
        }
    );
}

#[test]
fn claude_resumed_cost_is_per_call() {
    let fake = Fake::printing("claude", &fixture("claude-r1.json"), "", 0);
    let agent = fake.agent(Some("sonnet"), &[]);
    let id = "ae0e661d-bf55-48ff-b6d9-eeeaf7f07cfe";
    let first = fake
        .call(&*agent, "execution", SessionPolicy::New, LONG)
        .unwrap();
    assert_eq!(first.usage.cost_usd, Some(0.003_628));
    fake.put("out", &fixture("claude-r2.json"));
    let second = fake
        .call(&*agent, "execution", SessionPolicy::Resume(id.into()), LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "-p",
            "--output-format",
            "json",
            "--permission-mode",
            "acceptEdits",
            "--model",
            "sonnet",
            "--resume",
            id
        ])
    );
    // Reported 0.007256 for the session so far; this call cost the difference.
    assert_eq!(
        second.usage.cost_usd.map(|c| (c * 1e6).round()),
        Some(3628.0)
    );
    assert_eq!(second.usage.input_tokens, 1234);
}

#[test]
fn claude_not_logged_in_is_unavailable_with_a_hint() {
    let fake = Fake::observed("claude", "claude-not-logged-in");
    let agent = fake.agent(None, &[]);
    match fake.call(&*agent, "planning", SessionPolicy::New, LONG) {
        Err(Error::Unavailable {
            agent,
            reason,
            hint,
        }) => {
            assert_eq!(agent, "my-claude");
            assert!(reason.contains("Not logged in"), "{reason}");
            assert!(
                hint.contains("claude auth login") && hint.contains("ANTHROPIC_API_KEY"),
                "{hint}"
            );
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn codex_calls_and_resume_end_to_end() {
    let fake = Fake::printing(
        "codex",
        &fixture("codex-r1.jsonl"),
        "Reading additional input from stdin...\n",
        0,
    );
    let agent = fake.agent(Some("gpt-5.3-codex"), &[]);
    let first = fake
        .call(&*agent, "discovery", SessionPolicy::New, LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-C",
            "<ws>",
            "-s",
            "read-only",
            "-m",
            "gpt-5.3-codex",
            "-"
        ])
    );
    assert_eq!(fake.read("stdin"), PROMPT);
    fake.assert_ran_in_workspace("discovery");
    let thread = "01a20ac8-47bf-7b72-aee5-b32adb433e7c";
    assert_eq!(first.session_id.as_deref(), Some(thread));
    let per_call = Usage {
        input_tokens: 234,
        output_tokens: 56,
        cache_read_tokens: 1000,
        cache_write_tokens: 0,
        cost_usd: None,
        estimated: false,
    };
    assert_eq!(first.usage, per_call);
    // The resumed thread reports totals (468/2000/112); the call itself used half.
    fake.put("out", &fixture("codex-r2.jsonl"));
    let second = fake
        .call(
            &*agent,
            "execution",
            SessionPolicy::Resume(thread.into()),
            LONG,
        )
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "exec",
            "resume",
            "--json",
            "--skip-git-repo-check",
            "-c",
            "sandbox_mode=\"workspace-write\"",
            "-m",
            "gpt-5.3-codex",
            thread,
            "-",
        ])
    );
    assert_eq!(second.usage, per_call);
}

#[test]
fn codex_stuck_offline_reports_the_network_not_a_timeout() {
    let fake = Fake::observed("codex", "codex-offline");
    fake.put("sleep", "30");
    let agent = fake.agent(None, &[]);
    match fake.call(
        &*agent,
        "verification",
        SessionPolicy::New,
        Duration::from_millis(700),
    ) {
        Err(Error::Unavailable { reason, .. }) => {
            assert!(
                reason.contains("cannot reach") && reason.contains("still retrying"),
                "{reason}"
            );
        }
        r => panic!("{r:?}"),
    }
    // A plain stall is a timeout.
    let fake = Fake::printing("codex", "", "", 0);
    fake.put("sleep", "30");
    let agent = fake.agent(None, &[]);
    let r = fake.call(
        &*agent,
        "verification",
        SessionPolicy::New,
        Duration::from_millis(300),
    );
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
}

#[test]
fn codex_turn_failed_with_exit_zero_is_an_error() {
    let out = "{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n{\"type\":\"turn.failed\",\"error\":{\"message\":\"stream error: boom\"}}\n";
    let fake = Fake::printing("codex", out, "", 0);
    let agent = fake.agent(None, &[]);
    match fake.call(&*agent, "execution", SessionPolicy::New, LONG) {
        Err(Error::Crashed {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, "exit code 0, but it reported an error");
            assert_eq!(stderr_tail, "stream error: boom");
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn gemini_write_call_end_to_end() {
    let fake = Fake::observed("gemini", "gemini-mock");
    let agent = fake.agent(Some("gemini-3.8-flash"), &[]);
    let r = fake
        .call(
            &*agent,
            "ship",
            SessionPolicy::Resume("6316cd32".into()),
            LONG,
        )
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "-o",
            "json",
            "--skip-trust",
            "--approval-mode",
            "auto_edit",
            "-m",
            "gemini-3.8-flash",
            "--resume",
            "6316cd32"
        ])
    );
    assert_eq!(fake.read("stdin"), PROMPT);
    fake.assert_ran_in_workspace("ship");
    assert_eq!(r.text, "MOCK-OK: hello from the loopback mock.");
    assert_eq!(r.usage.input_tokens, 468);
    assert_eq!(r.usage.cache_read_tokens, 2000);
    assert_eq!(r.usage.output_tokens, 126);
    assert!(!r.usage.estimated);
}

#[test]
fn gemini_exit_41_is_unavailable() {
    let fake = Fake::observed("gemini", "gemini-no-auth");
    let agent = fake.agent(None, &[]);
    match fake.call(&*agent, "discovery", SessionPolicy::New, LONG) {
        Err(Error::Unavailable { reason, hint, .. }) => {
            assert!(reason.contains("Please set an Auth method"), "{reason}");
            assert!(hint.contains("GEMINI_API_KEY"), "{hint}");
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn aider_read_only_call_end_to_end() {
    let fake = Fake::observed("aider", "aider-mock");
    fake.put("side", &fixture("aider-mock-alog.jsonl"));
    let agent = fake.agent(Some("openai/mock-model"), &[]);
    let r = fake
        .call(&*agent, "planning", SessionPolicy::New, LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "--model",
            "openai/mock-model",
            "--message-file",
            "<tmp>/prompt.md",
            "--yes-always",
            "--dry-run",
            "--no-auto-commits",
            "--no-dirty-commits",
            "--no-suggest-shell-commands",
            "--no-gitignore",
            "--no-pretty",
            "--no-stream",
            "--no-fancy-input",
            "--no-check-update",
            "--no-show-release-notes",
            "--no-show-model-warnings",
            "--no-analytics",
            "--analytics-log",
            "<run>/planning-1.aider-analytics.jsonl",
            "--chat-history-file",
            "<tmp>/chat.md",
            "--input-history-file",
            "<tmp>/input.history",
        ])
    );
    assert_eq!(fake.read("prompt-file"), PROMPT);
    assert_eq!(r.text, "MOCK-OK: hello from the loopback mock.");
    assert_eq!(r.session_id, None);
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.output_tokens,
            r.usage.estimated
        ),
        (1234, 56, false)
    );
}

#[test]
fn aider_needs_a_model_and_fails_on_exit_zero() {
    let fake = Fake::observed("aider", "aider-no-key");
    let agent = fake.agent(None, &[]);
    assert!(matches!(agent.preflight(), Err(Error::Unavailable { .. })));
    let agent = fake.agent(Some("sonnet"), &[]);
    agent.preflight().unwrap();
    match fake.call(&*agent, "execution", SessionPolicy::New, LONG) {
        Err(Error::Unavailable { reason, hint, .. }) => {
            assert!(reason.contains("litellm.AuthenticationError"), "{reason}");
            assert!(hint.contains("ANTHROPIC_API_KEY"), "{hint}");
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn opencode_read_only_call_end_to_end() {
    let fake = Fake::observed("opencode", "opencode-mock");
    let agent = fake.agent(Some("mock/mock-model"), &[]);
    let r = fake
        .call(&*agent, "review", SessionPolicy::New, LONG)
        .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "run",
            "--format",
            "json",
            "--dir",
            "<ws>",
            "-m",
            "mock/mock-model"
        ])
    );
    assert_eq!(fake.read("stdin"), PROMPT);
    let config: serde_json::Value = serde_json::from_str(&fake.read("opencode-config")).unwrap();
    assert_eq!(
        config,
        serde_json::json!({"permission": {"edit": "deny", "bash": "deny"}})
    );
    assert_eq!(r.text, "MOCK-OK: hello from the loopback mock.");
    assert_eq!(
        r.session_id.as_deref(),
        Some("ses_df538b252ffeeCi3B0EzpqEnnJ")
    );
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.cache_read_tokens,
            r.usage.output_tokens
        ),
        (234, 1000, 56)
    );
    // Write roles run with opencode's defaults.
    fake.call(
        &*agent,
        "execution",
        SessionPolicy::Resume("ses_1".into()),
        LONG,
    )
    .unwrap();
    assert_eq!(
        fake.argv(),
        words(&[
            "run",
            "--format",
            "json",
            "--dir",
            "<ws>",
            "-m",
            "mock/mock-model",
            "-s",
            "ses_1"
        ])
    );
    assert_eq!(fake.read("opencode-config"), "");
}

#[test]
fn opencode_api_error_is_unavailable() {
    let fake = Fake::observed("opencode", "opencode-401");
    let agent = fake.agent(None, &[]);
    let r = fake.call(&*agent, "execution", SessionPolicy::New, LONG);
    assert!(matches!(r, Err(Error::Unavailable { .. })), "{r:?}");
}

#[test]
fn output_that_is_not_json_is_bad_output_naming_the_transcript() {
    for preset in ["droid", "claude", "codex", "gemini", "opencode"] {
        let fake = Fake::printing(preset, "Sure! Here is my answer.\n", "", 0);
        let agent = fake.agent(Some("m"), &[]);
        match fake.call(&*agent, "execution", SessionPolicy::New, LONG) {
            Err(Error::BadOutput { reason, .. }) => {
                let kept = fake.path("run").join("execution-1.stdout");
                assert!(
                    reason.contains(&kept.display().to_string()),
                    "{preset}: {reason}"
                );
                assert_eq!(
                    std::fs::read_to_string(&kept).unwrap(),
                    "Sure! Here is my answer.\n"
                );
            }
            r => panic!("{preset}: {r:?}"),
        }
    }
}

#[test]
fn crashes_and_broken_installs() {
    let fake = Fake::printing(
        "codex",
        "",
        "error: unexpected argument '--full-auto' found\n",
        2,
    );
    let agent = fake.agent(None, &[]);
    match fake.call(&*agent, "execution", SessionPolicy::New, LONG) {
        Err(Error::Crashed {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, "exit code 2");
            assert!(stderr_tail.contains("--full-auto"));
        }
        r => panic!("{r:?}"),
    }
    let fake = Fake::printing(
        "droid",
        "",
        "Error: Could not find the droid binary for linux-x64.\n",
        1,
    );
    let agent = fake.agent(None, &[]);
    match fake.call(&*agent, "execution", SessionPolicy::New, LONG) {
        Err(Error::Unavailable { hint, .. }) => assert!(hint.contains("@factory/cli"), "{hint}"),
        r => panic!("{r:?}"),
    }
}

#[test]
fn missing_binaries_name_their_package() {
    let packages = [
        ("droid", "@factory/cli"),
        ("claude", "@anthropic-ai/claude-code"),
        ("codex", "@openai/codex"),
        ("gemini", "@google/gemini-cli"),
        ("aider", "aider-chat"),
        ("opencode", "opencode-ai"),
    ];
    for (preset, package) in packages {
        let fake = Fake::printing(preset, "", "", 0);
        let mut config = fake.config(Some("m"), &[]);
        config
            .env
            .insert("PATH".into(), fake.path("fake").display().to_string());
        let agent = build(&config).unwrap();
        for r in [
            agent.preflight(),
            fake.call(&*agent, "execution", SessionPolicy::New, LONG)
                .map(|_| ()),
        ] {
            match r {
                Err(Error::Unavailable { reason, hint, .. }) => {
                    assert!(
                        reason.contains(&format!("`{preset}` was not found")),
                        "{reason}"
                    );
                    assert!(hint.contains(package), "{hint}");
                }
                r => panic!("{preset}: {r:?}"),
            }
        }
        // With the fake on its PATH the preflight passes.
        fake.agent(Some("m"), &[]).preflight().unwrap();
    }
}

#[test]
fn describe_shows_each_roles_command_line() {
    let describe = |preset: &'static str, model: Option<&str>, extra: &[&str], role: &str| {
        let fake = Fake::printing(preset, "", "", 0);
        let mut config = fake.config(model, extra);
        config.env.insert(
            "OPENAI_API_KEY".into(),
            "sk-test-secret-value-1234567890".into(),
        );
        build(&config).unwrap().describe(role)
    };
    let cases = [
        (
            "droid",
            "verification",
            "droid exec -o json --cwd <workspace> -m m1 -f <prompt-file>",
        ),
        (
            "droid",
            "execution",
            "droid exec -o json --cwd <workspace> --auto medium -m m1 -f <prompt-file>",
        ),
        (
            "claude",
            "planning",
            "claude -p --output-format json --permission-mode dontAsk --disallowedTools Bash,Edit,Write,NotebookEdit --model m1 < <prompt>",
        ),
        (
            "claude",
            "ship",
            "claude -p --output-format json --permission-mode acceptEdits --model m1 < <prompt>",
        ),
        (
            "codex",
            "review",
            "codex exec --json --skip-git-repo-check -C <workspace> -s read-only -m m1 - < <prompt>",
        ),
        (
            "codex",
            "execution",
            "codex exec --json --skip-git-repo-check -C <workspace> -s workspace-write -m m1 - < <prompt>",
        ),
        (
            "gemini",
            "discovery",
            "gemini -o json --skip-trust --approval-mode plan -m m1 < <prompt>",
        ),
        (
            "gemini",
            "execution",
            "gemini -o json --skip-trust --approval-mode auto_edit -m m1 < <prompt>",
        ),
        (
            "opencode",
            "verification",
            "OPENCODE_CONFIG_CONTENT='{\"permission\":{\"bash\":\"deny\",\"edit\":\"deny\"}}' opencode run --format json --dir <workspace> -m m1 < <prompt>",
        ),
        (
            "opencode",
            "execution",
            "opencode run --format json --dir <workspace> -m m1 < <prompt>",
        ),
    ];
    for (preset, role, want) in cases {
        assert_eq!(
            describe(preset, Some("m1"), &[], role),
            want,
            "{preset} {role}"
        );
    }
    let aider = describe(
        "aider",
        Some("m1"),
        &["--openai-api-key", "sk-test-secret-value-1234567890"],
        "execution",
    );
    assert!(
        aider.starts_with(
            "aider --model m1 --message-file <prompt-file> --yes-always --no-auto-commits"
        ),
        "{aider}"
    );
    assert!(aider.ends_with("--openai-api-key <redacted>"), "{aider}");
    assert!(!aider.contains("secret-value"));
}
