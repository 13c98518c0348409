//! opencode, `opencode run` (1.18.33; reference/agent-clis.md section 6).
//!
//! `opencode run --format json --dir <ws> [-m <provider/model>] [-s <id>] < prompt`
//!
//! - Prompt: stdin alone (observed to work; a message argument would hit ARG_MAX).
//! - Autonomy: opencode's default `build` agent allows edits and bash, which is the write
//!   mode (`--auto`, which approves "ask" items such as paths outside the project, is never
//!   used). opencode has no read-only flag: read-only sets `OPENCODE_CONFIG_CONTENT` with
//!   `"permission": {"edit": "deny", "bash": "deny"}`, merged into the value of that variable
//!   in `[agents.<name>.env]` when there is one (an unparsable value is replaced, so the
//!   restriction always applies). The permission keys follow opencode's config format; the
//!   reference confirms the mechanism but no read-only run was observed.
//! - Output: JSONL events, read line by line (malformed lines skipped). Final text: the
//!   `text` parts of the last step that has any; session: `sessionID`; usage: the sum of
//!   `step_finish` parts, `tokens.input` excludes cache reads, output = `output` +
//!   `reasoning`, `cost` in USD (0 when the price is unknown: reported as `None`).
//! - Failures: an `error` event (`APIError` with `statusCode`, `Cannot connect to API`, …).

use fabrik_core::Usage;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::agent::{CallCtx, Cli, Invocation, Output, Parsed, Prompt, Reply};
use super::failure::{Failure, Hints, Kind};
use super::json;
use crate::{Autonomy, SessionPolicy};

/// The opencode preset.
#[derive(Debug)]
pub(crate) struct Opencode;

static HINTS: Hints = Hints {
    program: "opencode",
    install: "`npm install -g opencode-ai`",
    auth: "run `opencode providers login` (check with `opencode providers list`) or set the provider's API key variable in the environment or in `[agents.{agent}.env]`",
    models: "`provider/model`, as listed by `opencode models`",
};

/// The variable opencode reads inline configuration from.
const CONFIG_VAR: &str = "OPENCODE_CONFIG_CONTENT";

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    StepStart {
        #[serde(rename = "sessionID")]
        session_id: Option<String>,
    },
    Text {
        #[serde(rename = "sessionID")]
        session_id: Option<String>,
        part: TextPart,
    },
    StepFinish {
        #[serde(rename = "sessionID")]
        session_id: Option<String>,
        part: FinishPart,
    },
    Error {
        #[serde(rename = "sessionID")]
        session_id: Option<String>,
        error: ErrorBody,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct TextPart {
    #[serde(default)]
    text: String,
}

#[derive(Debug, Deserialize)]
struct FinishPart {
    #[serde(default)]
    tokens: Tokens,
    #[serde(default)]
    cost: f64,
}

#[derive(Debug, Default, Deserialize)]
struct Tokens {
    #[serde(default)]
    input: u64,
    #[serde(default)]
    output: u64,
    #[serde(default)]
    reasoning: u64,
    #[serde(default)]
    cache: Cache,
}

#[derive(Debug, Default, Deserialize)]
struct Cache {
    #[serde(default)]
    read: u64,
    #[serde(default)]
    write: u64,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    data: ErrorData,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorData {
    message: Option<String>,
    #[serde(rename = "statusCode")]
    status_code: Option<i64>,
}

/// What a run's events amount to.
#[derive(Debug, Default)]
struct Run {
    session: Option<String>,
    step: Vec<String>,
    last_step: Vec<String>,
    usage: Option<Usage>,
    cost: f64,
    error: Option<ErrorBody>,
}

impl Run {
    fn fold(mut self, e: Event) -> Run {
        let session = match e {
            Event::StepStart { session_id } => {
                if !self.step.is_empty() {
                    self.last_step = std::mem::take(&mut self.step);
                }
                session_id
            }
            Event::Text { session_id, part } => {
                self.step.push(part.text);
                session_id
            }
            Event::StepFinish { session_id, part } => {
                self.add(&part);
                session_id
            }
            Event::Error { session_id, error } => {
                self.error = Some(error);
                session_id
            }
            Event::Other => None,
        };
        if self.session.is_none() {
            self.session = session;
        }
        self
    }

    fn add(&mut self, part: &FinishPart) {
        let u = self.usage.get_or_insert_with(Usage::default);
        let t = &part.tokens;
        u.input_tokens = u.input_tokens.saturating_add(t.input);
        u.output_tokens = u
            .output_tokens
            .saturating_add(t.output.saturating_add(t.reasoning));
        u.cache_read_tokens = u.cache_read_tokens.saturating_add(t.cache.read);
        u.cache_write_tokens = u.cache_write_tokens.saturating_add(t.cache.write);
        self.cost += part.cost;
    }
}

impl Cli for Opencode {
    fn hints(&self) -> &'static Hints {
        &HINTS
    }

    fn prompt(&self) -> Prompt {
        Prompt::Stdin
    }

    fn invocation(&self, c: &CallCtx<'_>) -> Invocation {
        let mut args: Vec<String> = ["run", "--format", "json", "--dir", c.workspace]
            .map(str::to_owned)
            .to_vec();
        if let Some(m) = c.model {
            args.extend(["-m".to_owned(), m.to_owned()]);
        }
        if let SessionPolicy::Resume(id) = c.session {
            args.extend(["-s".to_owned(), id.clone()]);
        }
        args.extend(c.extra.iter().cloned());
        let env = match c.autonomy {
            Autonomy::ReadOnly => vec![(
                CONFIG_VAR.to_owned(),
                read_only_config(c.env.get(CONFIG_VAR).map(String::as_str)),
            )],
            Autonomy::Write => Vec::new(),
        };
        Invocation { args, env }
    }

    fn parse(&self, out: &Output<'_>) -> Parsed {
        let run = json::lines::<Event>(out.stdout).fold(Run::default(), Run::fold);
        if let Some(e) = run.error {
            return Parsed::Failed(e.failure());
        }
        if run.usage.is_none() && run.step.is_empty() && run.last_step.is_empty() {
            return Parsed::Unparsed(
                "opencode printed no `text` or `step_finish` event (`--format json`)".into(),
            );
        }
        let texts = if run.step.is_empty() {
            run.last_step
        } else {
            run.step
        };
        let cost = run.cost;
        Parsed::Reply(Reply {
            text: texts.join("\n"),
            usage: run.usage.map(|u| Usage {
                cost_usd: (cost.is_finite() && cost > 0.0).then_some(cost),
                ..u
            }),
            session_id: run.session,
        })
    }
}

impl ErrorBody {
    fn failure(self) -> Failure {
        let message = match self.data.message {
            Some(m) if !m.trim().is_empty() => format!("{}: {m}", self.name),
            _ => self.name.clone(),
        };
        let f = Failure::from_text(message).with_status(self.data.status_code);
        match self.name.as_str() {
            "ProviderAuthError" => Failure::new(Kind::Auth, f.message),
            "ProviderModelNotFoundError" | "ModelNotFoundError" => {
                Failure::new(Kind::Model, f.message)
            }
            _ => f,
        }
    }
}

/// `OPENCODE_CONFIG_CONTENT` for a read-only call: `user`'s configuration (when it is a
/// JSON object) with edits and shell commands denied.
fn read_only_config(user: Option<&str>) -> String {
    let mut config: Map<String, Value> = user
        .and_then(|u| serde_json::from_str(u).ok())
        .unwrap_or_default();
    let mut permission = match config.remove("permission") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    for key in ["edit", "bash"] {
        permission.insert(key.to_owned(), Value::String("deny".to_owned()));
    }
    config.insert("permission".to_owned(), Value::Object(permission));
    Value::Object(config).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::preset::testing::{
        Case, assert_known_flags, assert_valid_value, ctx, fixture, matrix, section, value,
    };

    #[test]
    fn argv_uses_only_documented_flags_and_values() {
        let help = section(&fixture("opencode-help.txt"), "# opencode run --help").to_owned();
        let env = BTreeMap::new();
        let extra = vec!["--variant".to_owned(), "high".to_owned()];
        for (autonomy, session) in matrix() {
            let inv = Opencode.invocation(&ctx(autonomy, &session, &env, &extra));
            let args = &inv.args;
            assert_eq!(args[0], "run");
            assert_known_flags(&args[1..], &help);
            assert_valid_value(args, "--format", &help);
            assert_eq!(value(args, "--format"), Some("json"));
            assert_eq!(value(args, "--dir"), Some("/ws"));
            assert!(!args.iter().any(|a| a == "--auto"));
            let resumed = matches!(session, SessionPolicy::Resume(_));
            assert_eq!(value(args, "-s") == Some("0199-abc"), resumed);
            assert_eq!(args[args.len() - 2..], extra[..]);
            match autonomy {
                Autonomy::ReadOnly => {
                    assert_eq!(inv.env.len(), 1);
                    assert_eq!(inv.env[0].0, CONFIG_VAR);
                    assert_eq!(
                        json_value(&inv.env[0].1),
                        json_value(r#"{"permission":{"bash":"deny","edit":"deny"}}"#)
                    );
                }
                Autonomy::Write => assert!(inv.env.is_empty()),
            }
        }
    }

    fn json_value(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn read_only_config_keeps_the_users_settings() {
        let user =
            r#"{"provider":{"mock":{"npm":"x"}},"permission":{"webfetch":"deny","edit":"allow"}}"#;
        assert_eq!(
            json_value(&read_only_config(Some(user))),
            json_value(
                r#"{"permission":{"bash":"deny","edit":"deny","webfetch":"deny"},"provider":{"mock":{"npm":"x"}}}"#
            )
        );
        assert_eq!(
            json_value(&read_only_config(Some("not json"))),
            json_value(r#"{"permission":{"bash":"deny","edit":"deny"}}"#)
        );
    }

    #[test]
    fn mock_success_gives_text_usage_and_session() {
        assert_eq!(
            Opencode.parse(&Case::load("opencode-mock").output()),
            Parsed::Reply(Reply {
                text: "MOCK-OK: hello from the loopback mock.".into(),
                usage: Some(Usage {
                    input_tokens: 234,
                    output_tokens: 56,
                    cache_read_tokens: 1000,
                    cache_write_tokens: 0,
                    cost_usd: None,
                    estimated: false,
                }),
                session_id: Some("ses_df538b252ffeeCi3B0EzpqEnnJ".into()),
            })
        );
    }

    #[test]
    fn last_step_text_and_summed_cost() {
        let stdout = [
            r#"{"type":"step_start","sessionID":"s1","part":{}}"#,
            r#"{"type":"text","sessionID":"s1","part":{"text":"looking"}}"#,
            r#"{"type":"step_finish","sessionID":"s1","part":{"tokens":{"input":10,"output":2,"reasoning":1,"cache":{"read":5,"write":3}},"cost":0.5}}"#,
            "garbage line",
            r#"{"type":"step_start","sessionID":"s1","part":{}}"#,
            r#"{"type":"text","sessionID":"s1","part":{"text":"done"}}"#,
            r#"{"type":"step_finish","sessionID":"s1","part":{"tokens":{"input":1,"output":1},"cost":0.25}}"#,
        ]
        .join("\n");
        let out = Output {
            code: Some(0),
            stdout: &stdout,
            ..Output::default()
        };
        let Parsed::Reply(r) = Opencode.parse(&out) else {
            panic!("not a reply")
        };
        assert_eq!(r.text, "done");
        assert_eq!(
            r.usage,
            Some(Usage {
                input_tokens: 11,
                output_tokens: 4,
                cache_read_tokens: 5,
                cache_write_tokens: 3,
                cost_usd: Some(0.75),
                estimated: false,
            })
        );
    }

    #[test]
    fn observed_failures_are_classified() {
        let kind = |name: &str| match Opencode.parse(&Case::load(name).output()) {
            Parsed::Failed(f) => f.kind,
            p => panic!("{name}: {p:?}"),
        };
        assert_eq!(kind("opencode-offline"), Kind::Network);
        assert_eq!(kind("opencode-401"), Kind::Auth);
        // A missing key shows only as "Unexpected server error": a crash with the message.
        assert_eq!(kind("opencode-no-key"), Kind::Other);
    }
}
