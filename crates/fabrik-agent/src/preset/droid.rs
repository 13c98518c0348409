//! Factory droid, `droid exec` (droid 0.225.2; reference/agent-clis.md section 1).
//!
//! `droid exec -o json --cwd <ws> [--auto medium] [-m <model>] [-s <id>] -f <prompt-file>`
//!
//! - Prompt: `-f` file (droid also reads stdin, but `-s` "requires a prompt" and whether
//!   stdin counts is unverified; the file is the documented source either way).
//! - Autonomy: read-only is droid's default (no flag; "No modifications to files or
//!   system"); write is `--auto medium` (edits, builds, tests, local git; no push).
//! - Output: one `{"type":"result"}` object. `usage` uses Anthropic's field names and is
//!   read as such (input excludes cache reads and writes; unverified against a real run).
//!   There is no USD cost (`factory_credits` is not money), so `cost_usd` is `None`.
//! - Failures: `is_error`/`subtype:"failure"` with the message in `result` ("Authentication
//!   failed…" -> unavailable, "Exec failed" -> crashed); an unknown `-s` id exits 1 with no
//!   output at all; the npm wrapper without its platform binary says `Could not find the
//!   droid binary`.

use serde::Deserialize;

use super::agent::{CallCtx, Cli, Invocation, Output, Parsed, Prompt, Reply};
use super::failure::{Failure, Hints, Kind};
use super::json;
use crate::{Autonomy, SessionPolicy};

/// The droid preset.
#[derive(Debug)]
pub(crate) struct Droid;

static HINTS: Hints = Hints {
    program: "droid",
    install: "`npm install -g @factory/cli` (its platform package, e.g. `@factory/cli-linux-x64`, must install too) or Factory's installer",
    auth: "set FACTORY_API_KEY (create a key at https://app.factory.ai/settings/api-keys) in the environment or in `[agents.{agent}.env]`",
    models: "see \"Available Models\" in `droid exec --help`, or `custom:<alias>`",
};

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
    session_id: Option<String>,
    usage: Option<super::json::AnthropicUsage>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Subtype {
    #[default]
    Success,
    Failure,
    #[serde(other)]
    Other,
}

impl Cli for Droid {
    fn hints(&self) -> &'static Hints {
        &HINTS
    }

    fn broken_install(&self) -> &'static [&'static str] {
        &["Could not find the droid binary"]
    }

    fn prompt(&self) -> Prompt {
        Prompt::File
    }

    fn invocation(&self, c: &CallCtx<'_>) -> Invocation {
        let mut args: Vec<String> = ["exec", "-o", "json", "--cwd", c.workspace]
            .map(str::to_owned)
            .to_vec();
        if c.autonomy == Autonomy::Write {
            args.extend(["--auto".to_owned(), "medium".to_owned()]);
        }
        if let Some(m) = c.model {
            args.extend(["-m".to_owned(), m.to_owned()]);
        }
        if let SessionPolicy::Resume(id) = c.session {
            args.extend(["-s".to_owned(), id.clone()]);
        }
        args.extend(["-f".to_owned(), c.prompt_file.to_owned()]);
        args.extend(c.extra.iter().cloned());
        Invocation {
            args,
            env: Vec::new(),
        }
    }

    fn parse(&self, out: &Output<'_>) -> Parsed {
        match json::object::<Message>(out.stdout) {
            Some(Message::Result(r)) => r.parsed(),
            Some(Message::Other) | None => {
                let silent = out.stdout.trim().is_empty() && out.stderr.trim().is_empty();
                if out.resumed && out.code == Some(1) && silent {
                    return Parsed::Failed(Failure::new(
                        Kind::Other,
                        "droid exited 1 without output, which is what it does when the `-s` session id is unknown",
                    ));
                }
                Parsed::Unparsed(
                    "droid printed no `{\"type\":\"result\"}` object (`-o json`)".into(),
                )
            }
        }
    }
}

impl Final {
    fn parsed(self) -> Parsed {
        if self.is_error || self.subtype != Subtype::Success {
            let msg = if self.result.trim().is_empty() {
                format!("droid reported {:?} without a message", self.subtype)
            } else {
                self.result
            };
            return Parsed::Failed(Failure::from_text(msg));
        }
        Parsed::Reply(Reply {
            text: self.result,
            usage: self.usage.map(|u| u.into_usage(None)),
            session_id: self.session_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use fabrik_core::Usage;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::preset::testing::{
        Case, assert_known_flags, assert_valid_value, ctx, fixture, matrix, section, value,
    };

    fn help() -> String {
        section(&fixture("droid-help.txt"), "# droid exec --help").to_owned()
    }

    #[test]
    fn argv_uses_only_documented_flags_and_values() {
        let help = help();
        let env = BTreeMap::new();
        let extra = vec!["-r".to_owned(), "high".to_owned()];
        for (autonomy, session) in matrix() {
            let args = Droid
                .invocation(&ctx(autonomy, &session, &env, &extra))
                .args;
            assert_eq!(args[0], "exec");
            assert_known_flags(&args[1..], &help);
            // `-o` lists no choices in the help; its examples use `--output-format json`.
            assert!(help.contains("--output-format json"));
            assert_eq!(value(&args, "-o"), Some("json"));
            assert_eq!(value(&args, "--cwd"), Some("/ws"));
            assert_eq!(value(&args, "-f"), Some("/tmp/p/prompt.md"));
            assert_eq!(args[args.len() - 2..], extra[..], "argv_extra comes last");
            match autonomy {
                Autonomy::ReadOnly => {
                    assert!(
                        !args
                            .iter()
                            .any(|a| a == "--auto" || a == "--skip-permissions-unsafe")
                    );
                }
                Autonomy::Write => assert_valid_value(&args, "--auto", &help),
            }
            let resumed = matches!(session, SessionPolicy::Resume(_));
            assert_eq!(value(&args, "-s") == Some("0199-abc"), resumed);
        }
    }

    #[test]
    fn success_object_gives_text_usage_and_session() {
        let case = Case::load("droid-success");
        let Parsed::Reply(r) = Droid.parse(&case.output()) else {
            panic!("not a reply")
        };
        assert_eq!(
            r,
            Reply {
                text: "<final assistant text>".into(),
                usage: Some(Usage {
                    input_tokens: 51234,
                    output_tokens: 2210,
                    cache_read_tokens: 40960,
                    cache_write_tokens: 0,
                    cost_usd: None,
                    estimated: false,
                }),
                session_id: Some("37f57e1e-950e-4814-8d3b-a8c5124a22dc".into()),
            }
        );
    }

    #[test]
    fn observed_failures_are_classified() {
        let p = Droid.parse(&Case::load("droid-not-logged-in").output());
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
        let p = Droid.parse(&Case::load("droid-exec-failed").output());
        assert_eq!(p, Parsed::Failed(Failure::new(Kind::Other, "Exec failed")));
        let silent = Output {
            code: Some(1),
            resumed: true,
            ..Output::default()
        };
        assert!(matches!(Droid.parse(&silent), Parsed::Failed(_)));
        let text = Output {
            code: Some(0),
            stdout: "hello",
            ..Output::default()
        };
        assert!(matches!(Droid.parse(&text), Parsed::Unparsed(_)));
    }
}
