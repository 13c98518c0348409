//! Claude Code, `claude -p` (2.1.330, flags also in 2.1.197; reference/agent-clis.md
//! section 2).
//!
//! `claude -p --output-format json --permission-mode <mode> [--disallowedTools …]
//! [--model <model>] [--resume <id>] < prompt`
//!
//! - Prompt: stdin (no prompt-file flag exists; no argument, so no ARG_MAX limit).
//! - Working directory: the process cwd (there is no `--cwd`).
//! - Autonomy: read-only is `--permission-mode dontAsk` (nothing that would need a prompt
//!   runs; observed to deny Bash) plus `--disallowedTools Bash,Edit,Write,NotebookEdit`, so
//!   that allow rules in the user's own settings cannot re-enable writing. Write is
//!   `--permission-mode acceptEdits`: file edits and simple filesystem commands; other Bash
//!   (builds, tests) stays denied unless `argv_extra` adds e.g.
//!   `["--allowedTools", "Bash(cargo test:*)"]`. Bypass modes are never used (as root they
//!   need `IS_SANDBOX=1` and exit 1 otherwise).
//! - Output: one `{"type":"result"}` object, or a JSON array of messages when the user's
//!   settings turn `verbose` on (the last `result` element is used). Tokens: `usage` (this
//!   invocation's main loop; Anthropic semantics, input excludes cache reads and writes).
//!   `total_cost_usd` is cumulative over a resumed session, see [`super::cumulative`].
//! - Failures: `is_error` (also with `subtype:"success"`) with the message in `result`;
//!   `api_error_status` (HTTP) and `api_error` (`connection_failed`) refine the kind. Exit 0
//!   with tool denials is a success (denials only show in `permission_denials`).

use serde::Deserialize;

use super::agent::{CallCtx, Cli, Invocation, Output, Parsed, Prompt, Reply};
use super::cumulative::Cumulative;
use super::failure::{Failure, Hints, Kind};
use super::json;
use crate::{Autonomy, SessionPolicy};

/// The claude preset.
#[derive(Debug)]
pub(crate) struct Claude;

static HINTS: Hints = Hints {
    program: "claude",
    install: "`npm install -g @anthropic-ai/claude-code` (recent versions need Node 22)",
    auth: "run `claude auth login` (check with `claude auth status`) or set ANTHROPIC_API_KEY in the environment or in `[agents.{agent}.env]`",
    models: "an alias such as `sonnet` or `opus`, or a full model name",
};

/// Tools a read-only call may never use, whatever the user's settings allow.
const WRITE_TOOLS: &str = "Bash,Edit,Write,NotebookEdit";

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    Result(Final),
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Final {
    #[serde(default)]
    subtype: Subtype,
    #[serde(default)]
    is_error: bool,
    #[serde(default)]
    result: String,
    #[serde(default)]
    errors: Vec<String>,
    session_id: Option<String>,
    total_cost_usd: Option<f64>,
    usage: Option<super::json::AnthropicUsage>,
    api_error_status: Option<i64>,
    api_error: Option<ApiError>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Subtype {
    #[default]
    Success,
    ErrorDuringExecution,
    ErrorMaxTurns,
    ErrorMaxBudgetUsd,
    ErrorMaxStructuredOutputRetries,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ApiError {
    ConnectionFailed,
    AuthenticationFailed,
    RateLimit,
    #[serde(other)]
    Other,
}

impl Cli for Claude {
    fn hints(&self) -> &'static Hints {
        &HINTS
    }

    fn broken_install(&self) -> &'static [&'static str] {
        &["claude native binary not installed"]
    }

    fn prompt(&self) -> Prompt {
        Prompt::Stdin
    }

    fn cumulative(&self) -> Cumulative {
        Cumulative::Cost
    }

    fn invocation(&self, c: &CallCtx<'_>) -> Invocation {
        let mut args: Vec<String> = ["-p", "--output-format", "json", "--permission-mode"]
            .map(str::to_owned)
            .to_vec();
        match c.autonomy {
            Autonomy::ReadOnly => {
                args.extend(["dontAsk", "--disallowedTools", WRITE_TOOLS].map(str::to_owned))
            }
            Autonomy::Write => args.push("acceptEdits".to_owned()),
        }
        if let Some(m) = c.model {
            args.extend(["--model".to_owned(), m.to_owned()]);
        }
        if let SessionPolicy::Resume(id) = c.session {
            args.extend(["--resume".to_owned(), id.clone()]);
        }
        args.extend(c.extra.iter().cloned());
        Invocation {
            args,
            env: Vec::new(),
        }
    }

    fn parse(&self, out: &Output<'_>) -> Parsed {
        let last = || {
            json::object::<Vec<Message>>(out.stdout)?
                .into_iter()
                .rev()
                .find_map(|m| match m {
                    Message::Result(r) => Some(r),
                    Message::Other => None,
                })
        };
        let found = match json::object::<Message>(out.stdout) {
            Some(Message::Result(r)) => Some(r),
            Some(Message::Other) | None => last(),
        };
        match found {
            Some(r) => r.parsed(),
            None => Parsed::Unparsed(
                "claude printed no `{\"type\":\"result\"}` object (`--output-format json`)".into(),
            ),
        }
    }
}

impl Final {
    fn parsed(self) -> Parsed {
        if self.is_error || self.subtype != Subtype::Success {
            return Parsed::Failed(self.failure());
        }
        Parsed::Reply(Reply {
            text: self.result,
            usage: self.usage.map(|u| u.into_usage(self.total_cost_usd)),
            session_id: self.session_id,
        })
    }

    fn failure(self) -> Failure {
        let msg = if !self.result.trim().is_empty() {
            self.result
        } else if !self.errors.is_empty() {
            self.errors.join("; ")
        } else {
            format!("claude ended with {:?}", self.subtype)
        };
        let f = Failure::from_text(msg).with_status(self.api_error_status);
        match self.api_error {
            Some(ApiError::ConnectionFailed) => Failure::new(Kind::Network, f.message),
            Some(ApiError::AuthenticationFailed) => Failure::new(Kind::Auth, f.message),
            Some(ApiError::RateLimit) => Failure::new(Kind::RateLimit, f.message),
            Some(ApiError::Other) | None => f,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use fabrik_core::Usage;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::preset::testing::{
        Case, assert_known_flags, assert_valid_value, ctx, fixture, matrix, value,
    };

    #[test]
    fn argv_uses_only_documented_flags_and_values() {
        let env = BTreeMap::new();
        let extra = vec!["--effort".to_owned(), "high".to_owned()];
        // Both the current help and the 2.1.197 that npm installs on Node 20.
        for help in [
            fixture("claude-help.txt"),
            fixture("claude-2.1.197-help.txt"),
        ] {
            for (autonomy, session) in matrix() {
                let args = Claude
                    .invocation(&ctx(autonomy, &session, &env, &extra))
                    .args;
                assert_known_flags(&args, &help);
                assert_valid_value(&args, "--output-format", &help);
                assert_valid_value(&args, "--permission-mode", &help);
                assert!(
                    !args
                        .iter()
                        .any(|a| a.contains("dangerously") || a == "bypassPermissions")
                );
                assert_eq!(value(&args, "--output-format"), Some("json"));
                assert_eq!(value(&args, "--model"), Some("m-1"));
                assert_eq!(args[args.len() - 2..], extra[..]);
                match autonomy {
                    Autonomy::ReadOnly => {
                        assert_eq!(value(&args, "--permission-mode"), Some("dontAsk"));
                        assert_eq!(value(&args, "--disallowedTools"), Some(WRITE_TOOLS));
                    }
                    Autonomy::Write => {
                        assert_eq!(value(&args, "--permission-mode"), Some("acceptEdits"));
                    }
                }
                let resumed = matches!(session, SessionPolicy::Resume(_));
                assert_eq!(value(&args, "--resume") == Some("0199-abc"), resumed);
            }
        }
    }

    fn reply(name: &str) -> Reply {
        let text = fixture(name);
        let out = Output {
            code: Some(0),
            stdout: &text,
            ..Output::default()
        };
        match Claude.parse(&out) {
            Parsed::Reply(r) => r,
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn mock_success_gives_text_usage_cost_and_session() {
        let case = Case::load("claude-mock");
        let Parsed::Reply(r) = Claude.parse(&case.output()) else {
            panic!("not a reply")
        };
        assert_eq!(
            r,
            Reply {
                text: "MOCK-OK: hello from the loopback mock.".into(),
                usage: Some(Usage {
                    input_tokens: 1234,
                    output_tokens: 56,
                    cache_read_tokens: 1000,
                    cache_write_tokens: 200,
                    cost_usd: Some(0.003_628),
                    estimated: false,
                }),
                session_id: Some("2917b509-5b87-4578-a933-73b7beff9355".into()),
            }
        );
    }

    #[test]
    fn resumed_run_reports_the_cumulative_cost() {
        let (r1, r2) = (reply("claude-r1.json"), reply("claude-r2.json"));
        assert_eq!(r1.session_id, r2.session_id);
        assert_eq!(r1.usage.as_ref().map(|u| u.input_tokens), Some(1234));
        assert_eq!(r2.usage.as_ref().map(|u| u.input_tokens), Some(1234));
        assert_eq!(r2.usage.and_then(|u| u.cost_usd), Some(0.007_256));
    }

    #[test]
    fn observed_failures_are_classified() {
        let kind = |name: &str| match Claude.parse(&Case::load(name).output()) {
            Parsed::Failed(f) => f.kind,
            p => panic!("{name}: {p:?}"),
        };
        assert_eq!(kind("claude-not-logged-in"), Kind::Auth);
        assert_eq!(kind("claude197-not-logged-in"), Kind::Auth);
        assert_eq!(kind("claude-no-network"), Kind::Network);
        assert_eq!(kind("claude-401"), Kind::Auth);
        // `--verbose` in the user's settings turns the object into an array.
        let verbose = fixture("claude-json-verbose.json");
        let out = Output {
            code: Some(1),
            stdout: &verbose,
            ..Output::default()
        };
        assert!(matches!(
            Claude.parse(&out),
            Parsed::Failed(Failure {
                kind: Kind::Auth,
                ..
            })
        ));
        // The root refusal prints no JSON: left to the generic exit handling.
        assert!(matches!(
            Claude.parse(&Case::load("claude-bypass-root").output()),
            Parsed::Unparsed(_)
        ));
    }
}
