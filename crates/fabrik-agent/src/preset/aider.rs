//! Aider, `aider --message-file` (0.86.2; reference/agent-clis.md section 5).
//!
//! `aider --model <model> --message-file <prompt-file> --yes-always [--dry-run]
//! --no-auto-commits --no-dirty-commits --no-suggest-shell-commands --no-gitignore
//! --no-pretty --no-stream --no-fancy-input --no-check-update --no-show-release-notes
//! --no-show-model-warnings --no-analytics --analytics-log <transcript>.aider-analytics.jsonl
//! --chat-history-file <tmp>/chat.md --input-history-file <tmp>/input.history`
//!
//! - `model` is required: without it aider starts an OpenRouter browser login and waits
//!   five minutes. Working directory: the process cwd (no flag exists).
//! - Autonomy: aider applies edits directly. Read-only adds `--dry-run` ("without modifying
//!   files"), the only read-only switch its help offers; commits are off in both modes and
//!   shell suggestions are off (`--yes-always` never runs them anyway). Chat and input
//!   history go to a temporary directory, not the workspace. Still written in the workspace
//!   even read-only: aider's repo-map cache (`.aider.tags.cache.*`).
//! - Sessions: none; every call is fresh and `session_id` is `None`.
//! - Output: no JSON on stdout. Usage comes from the analytics log (`message_send` events:
//!   `prompt_tokens`, `completion_tokens`, `cost`; no cache split, `cost` 0 means the price is
//!   unknown and is reported as `None`). The final text is scraped from stdout: the start-up
//!   banner and the `Tokens:`/`Cost:` and price-list lines are dropped.
//! - Failures: aider exits 0 even when every LLM call failed. A run with no `message_send`
//!   event failed; the `litellm.<ErrorClass>: …` block on stdout says why.

use std::path::{Path, PathBuf};

use fabrik_core::Usage;
use serde::Deserialize;

use super::agent::{CallCtx, Cli, Invocation, Output, Parsed, Prompt, Reply};
use super::failure::{Failure, Hints, Kind, kind_from_text};
use super::json;
use crate::Autonomy;

/// The aider preset.
#[derive(Debug)]
pub(crate) struct Aider;

static HINTS: Hints = Hints {
    program: "aider",
    install: "`pip install aider-chat` (or `pipx install aider-chat`)",
    auth: "set the API key variable of the model's provider (e.g. ANTHROPIC_API_KEY, OPENAI_API_KEY) in the environment or in `[agents.{agent}.env]`",
    models: "`aider --list-models <part of a name>`",
};

/// Flags for a quiet, non-interactive, non-committing run.
const QUIET: &[&str] = &[
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
];

/// Start-up lines before the answer.
const BANNER: &[&str] = &[
    "Aider v",
    "Model:",
    "Main model:",
    "Weak model:",
    "Editor model:",
    "Git repo:",
    "Repo-map:",
    "https://aider.chat/HISTORY.html",
    "Added .aider",
    "Detected dumb terminal",
    "Update git name",
    "Update git email",
    "You can skip this check",
    "HTTPSConnectionPool(",
];

/// Lines that are never part of the answer.
const NOISE: &[&str] = &["Tokens: ", "Cost: ", "HTTPSConnectionPool("];

#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    MessageSend {
        properties: Sent,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Sent {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    cost: f64,
}

impl Cli for Aider {
    fn hints(&self) -> &'static Hints {
        &HINTS
    }

    fn prompt(&self) -> Prompt {
        Prompt::File
    }

    fn needs_model(&self) -> bool {
        true
    }

    fn side_file(&self, stdout: &Path) -> Option<PathBuf> {
        Some(stdout.with_extension("aider-analytics.jsonl"))
    }

    fn invocation(&self, c: &CallCtx<'_>) -> Invocation {
        let mut args = Vec::new();
        if let Some(m) = c.model {
            args.extend(["--model".to_owned(), m.to_owned()]);
        }
        args.extend(["--message-file", c.prompt_file, "--yes-always"].map(str::to_owned));
        if c.autonomy == Autonomy::ReadOnly {
            args.push("--dry-run".to_owned());
        }
        args.extend(QUIET.iter().map(|s| (*s).to_owned()));
        args.extend([
            "--analytics-log".to_owned(),
            c.side_file.to_owned(),
            "--chat-history-file".to_owned(),
            format!("{}/chat.md", c.scratch),
            "--input-history-file".to_owned(),
            format!("{}/input.history", c.scratch),
        ]);
        args.extend(c.extra.iter().cloned());
        Invocation {
            args,
            env: Vec::new(),
        }
    }

    fn parse(&self, out: &Output<'_>) -> Parsed {
        let sent: Vec<Sent> = json::lines::<Event>(out.side)
            .filter_map(|e| match e {
                Event::MessageSend { properties } => Some(properties),
                Event::Other => None,
            })
            .collect();
        if sent.is_empty() {
            return no_call(out.stdout);
        }
        let cost: f64 = sent.iter().map(|s| s.cost).sum();
        Parsed::Reply(Reply {
            text: answer(out.stdout),
            usage: Some(Usage {
                input_tokens: sent
                    .iter()
                    .fold(0, |n, s| n.saturating_add(s.prompt_tokens)),
                output_tokens: sent
                    .iter()
                    .fold(0, |n, s| n.saturating_add(s.completion_tokens)),
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                cost_usd: (cost.is_finite() && cost > 0.0).then_some(cost),
                estimated: false,
            }),
            session_id: None,
        })
    }
}

/// Why no LLM call completed, from stdout.
fn no_call(stdout: &str) -> Parsed {
    if stdout.contains("No LLM model was specified and no API keys were provided") {
        return Parsed::Failed(Failure::new(
            Kind::Auth,
            "aider has no model and no API key and waits for a browser login to OpenRouter",
        ));
    }
    match last_litellm_error(stdout) {
        Some(f) => Parsed::Failed(f),
        None => Parsed::Unparsed(
            "aider logged no `message_send` event (`--analytics-log`), so no model call completed"
                .into(),
        ),
    }
}

/// The last `litellm.<Class>: message` block (up to its blank line), classified by the
/// exception class first.
fn last_litellm_error(stdout: &str) -> Option<Failure> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines.iter().rposition(|l| l.starts_with("litellm."))?;
    let block: Vec<&str> = lines[start..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .copied()
        .collect();
    let message = block.join(" ");
    let class = lines[start]
        .trim_start_matches("litellm.")
        .split(':')
        .next()
        .unwrap_or("");
    let kind = match class {
        "AuthenticationError" | "PermissionDeniedError" => Kind::Auth,
        "NotFoundError" => Kind::Model,
        "RateLimitError" => Kind::RateLimit,
        _ => kind_from_text(&message),
    };
    Some(Failure::new(kind, message))
}

/// The answer: stdout without the start-up banner and the per-call trailer lines.
fn answer(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty() && !BANNER.iter().any(|b| l.starts_with(b)))
        .unwrap_or(lines.len());
    let body = &lines[start..];
    let end = body
        .iter()
        .rposition(|l| l.starts_with("Tokens: "))
        .unwrap_or(body.len());
    body[..end]
        .iter()
        .filter(|l| !NOISE.iter().any(|n| l.starts_with(n)))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::SessionPolicy;
    use crate::preset::testing::{Case, assert_known_flags, ctx, fixture, matrix, value};

    #[test]
    fn argv_uses_only_documented_flags() {
        let help = fixture("aider-help.txt");
        let env = BTreeMap::new();
        let extra = vec!["--map-tokens".to_owned(), "2048".to_owned()];
        for (autonomy, session) in matrix() {
            let args = Aider
                .invocation(&ctx(autonomy, &session, &env, &extra))
                .args;
            assert_known_flags(&args, &help);
            assert_eq!(value(&args, "--model"), Some("m-1"));
            assert_eq!(value(&args, "--message-file"), Some("/tmp/p/prompt.md"));
            assert_eq!(
                value(&args, "--analytics-log"),
                Some("/run/agents/execution-1.aider-analytics.jsonl")
            );
            assert_eq!(value(&args, "--chat-history-file"), Some("/tmp/p/chat.md"));
            assert!(args.contains(&"--no-auto-commits".to_owned()));
            assert!(!args.iter().any(|a| a == "--restore-chat-history"));
            assert_eq!(
                args.contains(&"--dry-run".to_owned()),
                autonomy == Autonomy::ReadOnly
            );
            assert_eq!(args[args.len() - 2..], extra[..]);
            // No sessions: a resumed call is a fresh one.
            let new = Aider.invocation(&ctx(autonomy, &SessionPolicy::New, &env, &extra));
            assert_eq!(args, new.args);
        }
    }

    #[test]
    fn mock_success_scrapes_the_answer_and_reads_the_analytics_log() {
        let case = Case::load("aider-mock");
        let log = fixture("aider-mock-alog.jsonl");
        let out = Output {
            side: &log,
            ..case.output()
        };
        assert_eq!(
            Aider.parse(&out),
            Parsed::Reply(Reply {
                text: "MOCK-OK: hello from the loopback mock.".into(),
                usage: Some(Usage {
                    input_tokens: 1234,
                    output_tokens: 56,
                    cache_read_tokens: 0,
                    cache_write_tokens: 0,
                    cost_usd: None,
                    estimated: false,
                }),
                session_id: None,
            })
        );
    }

    #[test]
    fn exit_zero_failures_are_classified() {
        let kind = |name: &str, log: &str| {
            let case = Case::load(name);
            let out = Output {
                side: log,
                ..case.output()
            };
            match Aider.parse(&out) {
                Parsed::Failed(f) => f.kind,
                p => panic!("{name}: {p:?}"),
            }
        };
        assert_eq!(kind("aider-no-key", ""), Kind::Auth);
        assert_eq!(kind("aider-offline", ""), Kind::Network);
        assert_eq!(kind("aider-oauth", ""), Kind::Auth);
        // The mock's 401 surfaces as `BadRequestError: … mock 401`.
        assert_eq!(
            kind("aider-401", &fixture("aider-401-alog.jsonl")),
            Kind::Auth
        );
    }
}
