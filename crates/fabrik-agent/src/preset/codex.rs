//! OpenAI Codex, `codex exec` (codex-cli 0.169.0; reference/agent-clis.md section 3).
//!
//! New session:
//! `codex exec --json --skip-git-repo-check -C <ws> -s read-only|workspace-write [-m <model>] -`
//! Resumed (`exec resume` accepts neither `-s` nor `-C`; the sandbox goes through `-c`):
//! `codex exec resume --json --skip-git-repo-check -c sandbox_mode="…" [-m <model>] <id> -`
//!
//! - Prompt: stdin (the `-` argument). `argv_extra` goes before the positionals.
//! - Autonomy: `-s read-only` (exec's default, made explicit) or `-s workspace-write`
//!   (commands run sandboxed, writable only inside the workspace); approvals are `never` in
//!   exec. `--full-auto` no longer exists; the bypass flag is never used.
//! - Output: JSONL events, read line by line (malformed lines skipped). Final text: the last
//!   `agent_message` item; session: `thread.started.thread_id`; usage: `turn.completed`,
//!   which is cumulative over the thread (see [`super::cumulative`]). OpenAI semantics:
//!   `input_tokens` includes cached input, so input = input − cached − cache-write
//!   (`cache_write_input_tokens` assumed part of the input as well; unverified). Reasoning
//!   tokens are part of `output_tokens`. No cost field.
//! - Failures: `turn.failed`; otherwise the last top-level `error` event when no turn
//!   completed. Offline, codex reconnects forever: on timeout such an error (network, 401)
//!   is reported as the cause instead of a bare timeout. `item.type:"error"` items are
//!   warnings and ignored. Exit 0 is not trusted alone.

use fabrik_core::Usage;
use serde::Deserialize;

use super::agent::{CallCtx, Cli, Invocation, Output, Parsed, Prompt, Reply};
use super::cumulative::Cumulative;
use super::failure::{Failure, Hints};
use super::json;
use crate::{Autonomy, SessionPolicy};

/// The codex preset.
#[derive(Debug)]
pub(crate) struct Codex;

static HINTS: Hints = Hints {
    program: "codex",
    install: "`npm install -g @openai/codex`",
    auth: "run `codex login` (check with `codex login status`) or set CODEX_API_KEY in the environment or in `[agents.{agent}.env]`",
    models: "a model id your provider serves, e.g. `gpt-5.3-codex`",
};

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Event {
    #[serde(rename = "thread.started")]
    ThreadStarted { thread_id: String },
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: CodexUsage },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: ErrorBody },
    #[serde(rename = "item.completed")]
    ItemCompleted { item: Item },
    #[serde(rename = "error")]
    Error { message: String },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Item {
    AgentMessage {
        #[serde(default)]
        text: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct CodexUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    #[serde(default)]
    cache_write_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

/// What a run's events amount to.
#[derive(Debug, Default)]
struct Run {
    thread: Option<String>,
    text: Option<String>,
    usage: Option<CodexUsage>,
    failed: Option<String>,
    last_error: Option<String>,
}

impl Run {
    fn fold(mut self, e: Event) -> Run {
        match e {
            Event::ThreadStarted { thread_id } => self.thread = Some(thread_id),
            Event::TurnCompleted { usage } => self.usage = Some(usage),
            Event::TurnFailed { error } => self.failed = Some(error.message),
            Event::ItemCompleted {
                item: Item::AgentMessage { text },
            } => self.text = Some(text),
            Event::Error { message } => self.last_error = Some(message),
            Event::ItemCompleted { item: Item::Other } | Event::Other => {}
        }
        self
    }
}

impl Cli for Codex {
    fn hints(&self) -> &'static Hints {
        &HINTS
    }

    fn prompt(&self) -> Prompt {
        Prompt::Stdin
    }

    fn cumulative(&self) -> Cumulative {
        Cumulative::Tokens
    }

    fn invocation(&self, c: &CallCtx<'_>) -> Invocation {
        let sandbox = match c.autonomy {
            Autonomy::ReadOnly => "read-only",
            Autonomy::Write => "workspace-write",
        };
        let mut args = vec!["exec".to_owned()];
        if let SessionPolicy::Resume(_) = c.session {
            args.push("resume".to_owned());
        }
        args.extend(["--json", "--skip-git-repo-check"].map(str::to_owned));
        match c.session {
            SessionPolicy::New => {
                args.extend(["-C", c.workspace, "-s", sandbox].map(str::to_owned))
            }
            SessionPolicy::Resume(_) => {
                args.extend(["-c".to_owned(), format!("sandbox_mode=\"{sandbox}\"")]);
            }
        }
        if let Some(m) = c.model {
            args.extend(["-m".to_owned(), m.to_owned()]);
        }
        args.extend(c.extra.iter().cloned());
        if let SessionPolicy::Resume(id) = c.session {
            args.push(id.clone());
        }
        args.push("-".to_owned());
        Invocation {
            args,
            env: Vec::new(),
        }
    }

    fn parse(&self, out: &Output<'_>) -> Parsed {
        let run = json::lines::<Event>(out.stdout).fold(Run::default(), Run::fold);
        if let Some(msg) = run.failed {
            return Parsed::Failed(Failure::from_text(msg));
        }
        match (run.usage, run.last_error) {
            (Some(u), _) => Parsed::Reply(Reply {
                text: run.text.unwrap_or_default(),
                usage: Some(Usage {
                    input_tokens: u
                        .input_tokens
                        .saturating_sub(u.cached_input_tokens)
                        .saturating_sub(u.cache_write_input_tokens),
                    output_tokens: u.output_tokens,
                    cache_read_tokens: u.cached_input_tokens,
                    cache_write_tokens: u.cache_write_input_tokens,
                    cost_usd: None,
                    estimated: false,
                }),
                session_id: run.thread,
            }),
            (None, Some(msg)) => Parsed::Failed(Failure::from_text(msg)),
            (None, None) => {
                Parsed::Unparsed("codex printed no `turn.completed` event (`--json`)".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::preset::failure::Kind;
    use crate::preset::testing::{
        Case, assert_known_flags, assert_valid_value, ctx, fixture, matrix, section, value,
    };

    #[test]
    fn argv_uses_only_documented_flags_and_values() {
        let exec_help = section(&fixture("codex-help.txt"), "# codex exec --help").to_owned();
        let subs = fixture("codex-subcommands-help.txt");
        let resume_help = section(&subs, "## codex exec resume --help");
        let env = BTreeMap::new();
        let extra = vec![
            "-c".to_owned(),
            "model_reasoning_effort=\"high\"".to_owned(),
        ];
        for (autonomy, session) in matrix() {
            let args = Codex
                .invocation(&ctx(autonomy, &session, &env, &extra))
                .args;
            assert_eq!(
                args.last().map(String::as_str),
                Some("-"),
                "prompt on stdin"
            );
            let want = match autonomy {
                Autonomy::ReadOnly => "read-only",
                Autonomy::Write => "workspace-write",
            };
            assert!(
                !args
                    .iter()
                    .any(|a| a.contains("dangerously") || a == "danger-full-access")
            );
            match &session {
                SessionPolicy::New => {
                    assert_eq!(args[0], "exec");
                    assert_known_flags(&args[1..], &exec_help);
                    assert_valid_value(&args, "-s", &exec_help);
                    assert_eq!(value(&args, "-s"), Some(want));
                    assert_eq!(value(&args, "-C"), Some("/ws"));
                }
                SessionPolicy::Resume(id) => {
                    assert_eq!(args[..2], ["exec", "resume"]);
                    assert_known_flags(&args[2..], resume_help);
                    assert!(!args.iter().any(|a| a == "-s" || a == "-C"));
                    assert_eq!(
                        args.iter()
                            .filter(|a| *a == &format!("sandbox_mode=\"{want}\""))
                            .count(),
                        1
                    );
                    assert_eq!(args[args.len() - 2], *id);
                }
            }
            assert!(args.contains(&"--json".to_owned()));
            assert!(args.contains(&"--skip-git-repo-check".to_owned()));
            assert_eq!(value(&args, "-m"), Some("m-1"));
        }
    }

    #[test]
    fn mock_success_gives_text_usage_and_thread() {
        let Parsed::Reply(r) = Codex.parse(&Case::load("codex-mock").output()) else {
            panic!("not a reply")
        };
        assert_eq!(
            r,
            Reply {
                text: "MOCK-OK: hello from the loopback mock.".into(),
                usage: Some(Usage {
                    input_tokens: 234,
                    output_tokens: 56,
                    cache_read_tokens: 1000,
                    cache_write_tokens: 0,
                    cost_usd: None,
                    estimated: false,
                }),
                session_id: Some("01a20ac7-f474-7812-a347-ee1c60bc2f45".into()),
            }
        );
    }

    #[test]
    fn resumed_thread_reports_totals() {
        let text = fixture("codex-r2.jsonl");
        let out = Output {
            code: Some(0),
            stdout: &text,
            ..Output::default()
        };
        let Parsed::Reply(r) = Codex.parse(&out) else {
            panic!("not a reply")
        };
        let u = r.usage.unwrap();
        assert_eq!(
            (u.input_tokens, u.cache_read_tokens, u.output_tokens),
            (468, 2000, 112)
        );
    }

    #[test]
    fn observed_failures_are_classified() {
        let p = Codex.parse(&Case::load("codex-401").output());
        assert!(
            matches!(
                p,
                Parsed::Failed(Failure {
                    kind: Kind::Auth,
                    ..
                })
            ),
            "{p:?}"
        );
        // Killed while reconnecting forever: the last error says why.
        let p = Codex.parse(&Case::load("codex-offline").output());
        assert!(
            matches!(
                p,
                Parsed::Failed(Failure {
                    kind: Kind::Network,
                    ..
                })
            ),
            "{p:?}"
        );
        let p = Codex.parse(&Output {
            code: Some(0),
            stdout: "{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n",
            ..Output::default()
        });
        assert!(matches!(p, Parsed::Unparsed(_)));
    }
}
