//! The preset driver, shared by the six CLIs.
//!
//! A [`Cli`] knows one agent CLI: the argv of a headless call for a given autonomy and
//! session, and how to read its output. [`PresetAgent`] does the rest the same way for all
//! of them: writes the transcript, runs the CLI under supervision with the command
//! backend's process handling ([`launch_process`]), reads the output back from the
//! transcript files (whole, not just the in-memory head and tail), and maps the outcome to a
//! [`Response`] or a typed [`Error`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fabrik_config::AgentConfig;
use fabrik_core::Usage;
use fabrik_core::process::{Captured, Outcome, SpawnError, StopReason};
use fabrik_core::redact::Redactor;

use super::cumulative::{Cumulative, Report};
use super::failure::{Failure, Hints, Kind};
use super::{aider, claude, codex, droid, gemini, opencode};
use crate::command::{
    Launch, agent_path, crashed, find_program, launch_process, quote, spawn_failed, status_text,
    write,
};
use crate::{Agent, Autonomy, Error, Request, Response, Result, SessionPolicy};

/// How a CLI receives its prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// Piped to stdin (no ARG_MAX limit).
    Stdin,
    /// Written to a private temporary file named by `CallCtx::prompt_file`.
    File,
}

/// Everything a [`Cli`] needs to build one call's argv.
#[derive(Debug)]
pub(crate) struct CallCtx<'a> {
    /// `model` of the agent.
    pub(crate) model: Option<&'a str>,
    /// Read-only or write.
    pub(crate) autonomy: Autonomy,
    /// New or resumed session.
    pub(crate) session: &'a SessionPolicy,
    /// The workspace (also the process cwd).
    pub(crate) workspace: &'a str,
    /// The prompt file, for [`Prompt::File`] CLIs.
    pub(crate) prompt_file: &'a str,
    /// A private per-call directory, removed after the call.
    pub(crate) scratch: &'a str,
    /// The path of [`Cli::side_file`], when the CLI has one.
    pub(crate) side_file: &'a str,
    /// The agent's configured `env`.
    pub(crate) env: &'a BTreeMap<String, String>,
    /// `argv_extra` of the agent.
    pub(crate) extra: &'a [String],
}

/// One call's command line, after the program name.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// Arguments, `argv_extra` last.
    pub(crate) args: Vec<String>,
    /// Variables the preset sets (after the agent's configured `env`).
    pub(crate) env: Vec<(String, String)>,
}

/// What a call printed, as kept in the transcript (redacted).
#[derive(Debug, Default)]
pub(crate) struct Output<'a> {
    /// Exit code (`None` when killed).
    pub(crate) code: Option<i32>,
    /// stdout.
    pub(crate) stdout: &'a str,
    /// stderr.
    pub(crate) stderr: &'a str,
    /// The side file's content (aider's analytics log), else empty.
    pub(crate) side: &'a str,
    /// Whether the call resumed a session.
    pub(crate) resumed: bool,
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reply {
    /// The final text.
    pub(crate) text: String,
    /// Usage as the CLI reported it (normalised), `None` when it reported none.
    pub(crate) usage: Option<Usage>,
    /// The CLI's session id.
    pub(crate) session_id: Option<String>,
}

/// What a parser made of a call's output.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Parsed {
    /// The CLI answered.
    Reply(Reply),
    /// The CLI reported (or its output shows) a failure.
    Failed(Failure),
    /// The expected JSON is not there; the reason says what was missing.
    Unparsed(String),
}

/// One supported agent CLI.
pub(crate) trait Cli: Send + Sync + std::fmt::Debug {
    /// Binary name, install and auth advice.
    fn hints(&self) -> &'static Hints;
    /// Output signatures of a broken installation.
    fn broken_install(&self) -> &'static [&'static str] {
        &[]
    }
    /// How the prompt is passed.
    fn prompt(&self) -> Prompt;
    /// Whether `model` must be set (aider starts an OAuth flow without one).
    fn needs_model(&self) -> bool {
        false
    }
    /// Which reported figures are session totals.
    fn cumulative(&self) -> Cumulative {
        Cumulative::No
    }
    /// A file the CLI writes besides stdout that the parser reads (kept next to the
    /// transcript; derived from the transcript's stdout path).
    fn side_file(&self, _stdout: &Path) -> Option<PathBuf> {
        None
    }
    /// The command line of one call.
    fn invocation(&self, call: &CallCtx<'_>) -> Invocation;
    /// Reads a call's output.
    fn parse(&self, out: &Output<'_>) -> Parsed;
}

/// Builds the preset named in `config`.
///
/// # Errors
/// [`Error::Unavailable`] for a name fabrik has no preset for.
pub(crate) fn build(config: &AgentConfig) -> Result<PresetAgent> {
    let name = config.preset.as_deref().unwrap_or("");
    let cli: Box<dyn Cli> = match name {
        "droid" => Box::new(droid::Droid),
        "claude" => Box::new(claude::Claude),
        "codex" => Box::new(codex::Codex),
        "gemini" => Box::new(gemini::Gemini),
        "aider" => Box::new(aider::Aider),
        "opencode" => Box::new(opencode::Opencode),
        _ => {
            return Err(Error::Unavailable {
                agent: config.name.clone(),
                reason: format!("there is no preset `{name}`"),
                hint: format!(
                    "use one of {} in `[agents.{}]`, or `kind = \"command\"`",
                    fabrik_config::PRESETS.join(", "),
                    config.name
                ),
            });
        }
    };
    Ok(PresetAgent {
        config: config.clone(),
        cli,
    })
}

/// An agent driven through one of the preset CLIs.
#[derive(Debug)]
pub(crate) struct PresetAgent {
    config: AgentConfig,
    cli: Box<dyn Cli>,
}

impl Agent for PresetAgent {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> Option<&str> {
        self.config.model.as_deref()
    }

    fn describe(&self, role: &str) -> String {
        let ctx = CallCtx {
            model: self.model(),
            autonomy: Autonomy::for_role(role),
            session: &SessionPolicy::New,
            workspace: "<workspace>",
            prompt_file: "<prompt-file>",
            scratch: "<tmp>",
            side_file: "<transcript>.aider-analytics.jsonl",
            env: &self.config.env,
            extra: &self.config.argv_extra,
        };
        let inv = self.cli.invocation(&ctx);
        let mut words: Vec<String> = inv
            .env
            .iter()
            .map(|(k, v)| {
                if self.config.env.contains_key(k) {
                    format!("{k}='<[agents.{}.env] value, amended>'", self.config.name)
                } else {
                    format!("{k}={}", quote(v))
                }
            })
            .collect();
        words.push(self.cli.hints().program.to_owned());
        words.extend(redact_flag_values(&inv.args).iter().map(|a| quote(a)));
        let mut line = words.join(" ");
        if self.cli.prompt() == Prompt::Stdin {
            line.push_str(" < <prompt>");
        }
        Redactor::from_env(&self.config.env)
            .redact(&line)
            .into_owned()
    }

    fn preflight(&self) -> Result<()> {
        self.need_model()?;
        let program = self.cli.hints().program;
        match find_program(program, agent_path(&self.config)) {
            Some(_) => Ok(()),
            None => Err(self.missing()),
        }
    }

    fn call(&self, req: &Request<'_>) -> Result<Response> {
        write(
            &req.transcript.prompt,
            req.redactor.redact(req.prompt).as_bytes(),
        )?;
        self.need_model()?;
        let scratch = tempfile::Builder::new()
            .prefix("fabrik-agent-")
            .tempdir()
            .map_err(|source| Error::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let prompt_file = scratch.path().join("prompt.md");
        if self.cli.prompt() == Prompt::File {
            write(&prompt_file, req.prompt.as_bytes())?;
        }
        let side = self.cli.side_file(&req.transcript.stdout);
        if let Some(p) = &side {
            // A stale log from an earlier attempt must not be read as this call's.
            let _ = std::fs::remove_file(p);
        }
        let ctx = CallCtx {
            model: self.model(),
            autonomy: req.autonomy,
            session: &req.session,
            workspace: &req.workspace.to_string_lossy(),
            prompt_file: &prompt_file.to_string_lossy(),
            scratch: &scratch.path().to_string_lossy(),
            side_file: &side.as_deref().unwrap_or(Path::new("")).to_string_lossy(),
            env: &self.config.env,
            extra: &self.config.argv_extra,
        };
        let inv = self.cli.invocation(&ctx);
        let launch = Launch {
            program: self.cli.hints().program,
            args: &inv.args,
            env: &inv.env,
            stdin: (self.cli.prompt() == Prompt::Stdin).then(|| req.prompt.as_bytes().to_vec()),
        };
        let outcome = launch_process(&self.config, req, &launch).map_err(|e| match e {
            SpawnError::NotFound { .. } => self.missing(),
            e @ SpawnError::Io { .. } => spawn_failed(&self.config.name, &e),
        })?;
        let stdout = kept(&req.transcript.stdout, &outcome.stdout);
        let stderr = kept(&req.transcript.stderr, &outcome.stderr);
        let side_text = side
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let out = Output {
            code: outcome.code,
            stdout: &stdout,
            stderr: &stderr,
            side: &side_text,
            resumed: matches!(req.session, SessionPolicy::Resume(_)),
        };
        let parsed = self.cli.parse(&out);
        self.finish(req, &outcome, parsed, &out)
    }
}

impl PresetAgent {
    fn finish(
        &self,
        req: &Request<'_>,
        outcome: &Outcome,
        parsed: Parsed,
        out: &Output<'_>,
    ) -> Result<Response> {
        let agent = &self.config.name;
        match outcome.stopped {
            Some(StopReason::Cancelled) => {
                return Err(Error::Cancelled {
                    agent: agent.clone(),
                });
            }
            Some(StopReason::Timeout) => return Err(self.timed_out(req, parsed)),
            None => {}
        }
        let status = if outcome.code == Some(0) {
            "exit code 0, but it reported an error".to_owned()
        } else {
            status_text(outcome)
        };
        match parsed {
            Parsed::Reply(r) if outcome.code == Some(0) => self.response(req, outcome, r),
            Parsed::Reply(_) => Err(crashed(agent, outcome)),
            Parsed::Failed(f) => Err(self.error(f, &status)),
            Parsed::Unparsed(why) if outcome.code == Some(0) => Err(Error::BadOutput {
                agent: agent.clone(),
                reason: format!(
                    "{why}; the raw output is kept in `{}`",
                    req.transcript.stdout.display()
                ),
            }),
            Parsed::Unparsed(_) => Err(self.unrecognised(outcome, out, &status)),
        }
    }

    fn response(&self, req: &Request<'_>, outcome: &Outcome, r: Reply) -> Result<Response> {
        let estimate = Usage::estimate(req.prompt.len() as u64, r.text.len() as u64);
        let usage = match r.usage {
            None => estimate,
            Some(u) => Report {
                dir: req.transcript.stdout.parent().unwrap_or(Path::new(".")),
                cli: self.cli.hints().program,
                policy: &req.session,
                session: r.session_id.as_deref(),
                what: self.cli.cumulative(),
                estimate,
            }
            .per_call(u)?,
        };
        Ok(Response {
            text: r.text,
            usage,
            session_id: r.session_id,
            duration: outcome.elapsed,
        })
    }

    /// A timeout, unless the output shows the CLI was stuck retrying a setup problem
    /// (codex never gives up when offline): then that problem, which is what to fix.
    fn timed_out(&self, req: &Request<'_>, parsed: Parsed) -> Error {
        match parsed {
            Parsed::Failed(f) if f.kind != Kind::Other => {
                let f = Failure::new(
                    f.kind,
                    format!(
                        "still retrying when stopped after {}s; last error: {}",
                        req.timeout.as_secs(),
                        f.message.trim()
                    ),
                );
                self.error(f, "timed out")
            }
            _ => Error::Timeout {
                agent: self.config.name.clone(),
                after: req.timeout,
            },
        }
    }

    /// A failed exit without the JSON the parser looks for: a broken install, a
    /// recognisable setup problem in the text, or a crash.
    fn unrecognised(&self, outcome: &Outcome, out: &Output<'_>, status: &str) -> Error {
        let text = format!("{}\n{}", tail(out.stderr, 2000), tail(out.stdout, 2000));
        let message = tail(text.trim(), 600).trim().to_owned();
        if self.cli.broken_install().iter().any(|s| text.contains(s)) {
            return self.error(Failure::new(Kind::Install, message), status);
        }
        let f = Failure::from_text(message);
        if f.kind == Kind::Other {
            crashed(&self.config.name, outcome)
        } else {
            self.error(f, status)
        }
    }

    fn error(&self, f: Failure, status: &str) -> Error {
        f.into_error(&self.config.name, self.model(), self.cli.hints(), status)
    }

    fn need_model(&self) -> Result<()> {
        if self.cli.needs_model() && self.model().is_none_or(str::is_empty) {
            let program = self.cli.hints().program;
            return Err(Error::Unavailable {
                agent: self.config.name.clone(),
                reason: format!("preset `{program}` needs a model"),
                hint: format!(
                    "set `model` in `[agents.{}]` (without one {program} waits for a browser login)",
                    self.config.name
                ),
            });
        }
        Ok(())
    }

    fn missing(&self) -> Error {
        let h = self.cli.hints();
        Error::Unavailable {
            agent: self.config.name.clone(),
            reason: format!("`{}` was not found on PATH", h.program),
            hint: format!("install it: {}", h.install),
        }
    }
}

/// The stream as written to its transcript file (complete up to the file cap), or the
/// in-memory head and tail when the file is missing or short (a drain that timed out).
fn kept(path: &Path, captured: &Captured) -> String {
    match std::fs::read(path) {
        Ok(bytes) if !bytes.is_empty() || captured.total == 0 => {
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => captured.text(),
    }
}

/// The last `max` bytes of `s`, cut at a character boundary.
fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Hides the values of flags named like secrets (`--openai-api-key X`, `--password=X`).
fn redact_flag_values(args: &[String]) -> Vec<String> {
    let secret = |flag: &str| {
        flag.starts_with("--")
            && flag.to_ascii_lowercase().split(['-', '_']).any(|w| {
                matches!(
                    w,
                    "key"
                        | "token"
                        | "secret"
                        | "password"
                        | "passwd"
                        | "credential"
                        | "credentials"
                )
            })
    };
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next && !a.starts_with('-') {
            out.push("<redacted>".to_owned());
            hide_next = false;
            continue;
        }
        hide_next = false;
        match a.split_once('=') {
            Some((flag, _)) if secret(flag) => out.push(format!("{flag}=<redacted>")),
            _ => {
                hide_next = secret(a);
                out.push(a.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_flag_values_are_hidden() {
        let args: Vec<String> = [
            "--openai-api-key",
            "abc",
            "--map-tokens",
            "1024",
            "--api-key=x=y",
            "-m",
            "m",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            redact_flag_values(&args),
            [
                "--openai-api-key",
                "<redacted>",
                "--map-tokens",
                "1024",
                "--api-key=<redacted>",
                "-m",
                "m"
            ]
        );
    }

    #[test]
    fn tail_respects_char_boundaries() {
        assert_eq!(tail("aé", 1), "");
        assert_eq!(tail("aé", 2), "é");
    }
}
