//! The generic `command` backend: any CLI, configured by `argv` with placeholders.
//!
//! The prompt goes on stdin, as the `{prompt}` argument or in `{prompt_file}`; stdout is
//! the final text; a non-zero exit is a failure carrying the stderr tail. Usage is
//! estimated (bytes / 4) because a generic command reports none.
//!
//! The process handling here ([`launch_process`] and the outcome helpers) is shared with
//! the presets: every CLI backend runs with the same explicit environment, supervision,
//! transcript files and redaction.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fabrik_config::{AgentConfig, PromptVia};
use fabrik_core::Usage;
use fabrik_core::process::{self, Limits, Outcome, SpawnError, Spec, StopReason};

use crate::env::agent_env;
use crate::{Agent, Error, Request, Response, Result, SessionPolicy};

/// An agent run as a plain command.
#[derive(Debug)]
pub struct CommandAgent {
    config: AgentConfig,
}

impl CommandAgent {
    /// Wraps a `kind = "command"` agent.
    #[must_use]
    pub fn new(config: AgentConfig) -> CommandAgent {
        CommandAgent { config }
    }

    /// The argv for `req` with placeholders filled in.
    fn argv(&self, vars: &Vars<'_>) -> Vec<String> {
        self.config
            .argv
            .iter()
            .chain(&self.config.argv_extra)
            .map(|a| vars.fill(a))
            .collect()
    }
}

/// Values of the argv placeholders.
struct Vars<'a> {
    prompt: &'a str,
    prompt_file: &'a str,
    model: &'a str,
    cwd: &'a str,
    session: &'a str,
    stage: &'a str,
    run_id: &'a str,
}

impl Vars<'_> {
    fn fill(&self, arg: &str) -> String {
        arg.replace("{prompt_file}", self.prompt_file)
            .replace("{model}", self.model)
            .replace("{cwd}", self.cwd)
            .replace("{session}", self.session)
            .replace("{stage}", self.stage)
            .replace("{run_id}", self.run_id)
            // Last, so a prompt containing "{model}" is passed verbatim.
            .replace("{prompt}", self.prompt)
    }
}

impl Agent for CommandAgent {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> Option<&str> {
        self.config.model.as_deref()
    }

    fn describe(&self, role: &str) -> String {
        let vars = Vars {
            prompt: "<prompt>",
            prompt_file: "<prompt-file>",
            model: self.model().unwrap_or(""),
            cwd: "<workspace>",
            session: "<session>",
            stage: role,
            run_id: "<run-id>",
        };
        let argv = self.argv(&vars);
        let via = match self.config.prompt_via {
            PromptVia::Stdin => " < prompt",
            PromptVia::Arg | PromptVia::File => "",
        };
        format!("{}{via}", shell_words(&argv))
    }

    fn preflight(&self) -> Result<()> {
        let program = self.config.argv.first().map_or("", String::as_str);
        if find_program(program, agent_path(&self.config)).is_some() {
            Ok(())
        } else {
            Err(self.missing(program))
        }
    }

    fn call(&self, req: &Request<'_>) -> Result<Response> {
        let prompt_red = req.redactor.redact(req.prompt);
        write(&req.transcript.prompt, prompt_red.as_bytes())?;
        let session = match &req.session {
            SessionPolicy::New => "",
            SessionPolicy::Resume(id) => id.as_str(),
        };
        let vars = Vars {
            prompt: req.prompt,
            prompt_file: &req.transcript.prompt.to_string_lossy(),
            model: self.model().unwrap_or(""),
            cwd: &req.workspace.to_string_lossy(),
            session,
            stage: req.role,
            run_id: req.run_id,
        };
        let argv = self.argv(&vars);
        let stdin =
            (self.config.prompt_via == PromptVia::Stdin).then(|| req.prompt.as_bytes().to_vec());
        let launch = Launch {
            program: &argv[0],
            args: &argv[1..],
            env: &[],
            stdin,
        };
        let outcome = launch_process(&self.config, req, &launch).map_err(|e| match e {
            SpawnError::NotFound { program } => self.missing(&program),
            e @ SpawnError::Io { .. } => spawn_failed(&self.config.name, &e),
        })?;
        if let Some(e) = stopped(&self.config.name, &outcome, req.timeout) {
            return Err(e);
        }
        if !outcome.success() {
            return Err(crashed(&self.config.name, &outcome));
        }
        let usage = Usage::estimate(req.prompt.len() as u64, outcome.stdout.total);
        Ok(Response {
            text: outcome.stdout.text(),
            usage,
            session_id: None,
            duration: outcome.elapsed,
        })
    }
}

impl CommandAgent {
    fn missing(&self, program: &str) -> Error {
        Error::Unavailable {
            agent: self.config.name.clone(),
            reason: format!("program `{program}` was not found on PATH"),
            hint: format!(
                "install it, or fix `argv` of `[agents.{}]` in fabrik.toml",
                self.config.name
            ),
        }
    }
}

/// What to start for one agent call: the program, its arguments, variables the backend
/// sets on top of the agent's explicit environment, and the bytes for stdin.
pub(crate) struct Launch<'a> {
    /// Program, looked up on the agent's `PATH` when it has no slash.
    pub(crate) program: &'a str,
    /// Arguments after the program.
    pub(crate) args: &'a [String],
    /// Variables set by the backend itself (after the allowlist and the configured `env`).
    pub(crate) env: &'a [(String, String)],
    /// Written to stdin, which is then closed; `None` gives a null stdin.
    pub(crate) stdin: Option<Vec<u8>>,
}

/// Runs one agent call under supervision: its own process group, the explicit environment
/// (allowlist + `env` + `FABRIK_*`), the workspace as cwd, output streamed redacted into the
/// transcript files, the request's timeout and grace. Shared by every CLI backend.
///
/// # Errors
/// Only when the program cannot be started; how it ended is in the [`Outcome`].
pub(crate) fn launch_process(
    config: &AgentConfig,
    req: &Request<'_>,
    launch: &Launch<'_>,
) -> std::result::Result<Outcome, SpawnError> {
    let mut extra: Vec<(String, String)> = config
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    extra.extend(launch.env.iter().cloned());
    let fabrik = [
        ("FABRIK_RUN_ID", req.run_id.to_owned()),
        ("FABRIK_STAGE", req.role.to_owned()),
        ("FABRIK_ITERATION", req.iteration.to_string()),
        ("FABRIK_ATTEMPT", req.attempt.to_string()),
        (
            "FABRIK_WORKSPACE",
            req.workspace.to_string_lossy().into_owned(),
        ),
        ("FABRIK_SESSION", req.slot.to_owned()),
    ];
    let mut redactor = req.redactor.clone();
    for (k, v) in &extra {
        if fabrik_core::redact::is_secret_name(k) {
            redactor.add_known(v);
        }
    }
    let mut spec = Spec::new(launch.program, req.workspace);
    spec.args = launch.args.iter().map(Into::into).collect();
    spec.env = agent_env(&extra, &fabrik);
    spec.clear_env = true;
    spec.stdin = launch.stdin.clone();
    spec.stdout_path = Some(req.transcript.stdout.clone());
    spec.stderr_path = Some(req.transcript.stderr.clone());
    spec.timeout = Some(req.timeout);
    spec.grace = req.grace;
    spec.limits = Limits {
        head: 4 << 20,
        tail: 1 << 20,
        file_cap: 64 << 20,
    };
    spec.redactor = redactor;
    process::run(&spec, req.cancel)
}

/// The error for a child fabrik ended (timeout or Ctrl-C), if it did.
pub(crate) fn stopped(agent: &str, outcome: &Outcome, timeout: Duration) -> Option<Error> {
    match outcome.stopped? {
        StopReason::Timeout => Some(Error::Timeout {
            agent: agent.to_owned(),
            after: timeout,
        }),
        StopReason::Cancelled => Some(Error::Cancelled {
            agent: agent.to_owned(),
        }),
    }
}

/// "exit code 3", "killed by signal 9".
pub(crate) fn status_text(outcome: &Outcome) -> String {
    match (outcome.code, outcome.signal) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => "unknown status".to_owned(),
    }
}

/// A failed exit: its status and the end of stderr (of stdout when stderr is empty: some
/// CLIs print their errors there).
pub(crate) fn crashed(agent: &str, outcome: &Outcome) -> Error {
    let mut tail = outcome.stderr.tail_text(2000);
    if tail.trim().is_empty() {
        tail = outcome.stdout.tail_text(2000);
    }
    Error::Crashed {
        agent: agent.to_owned(),
        status: status_text(outcome),
        stderr_tail: tail,
    }
}

/// A program that exists but could not be started.
pub(crate) fn spawn_failed(agent: &str, e: &SpawnError) -> Error {
    let detail = match e {
        SpawnError::Io { source, .. } => format!(": {source}"),
        SpawnError::NotFound { .. } => String::new(),
    };
    Error::Crashed {
        agent: agent.to_owned(),
        status: format!("{e}{detail}"),
        stderr_tail: String::new(),
    }
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Finds `program` as `execve` would: a path when it has a slash, else on `path` (the
/// agent's `PATH`: the one in its configured `env`, else fabrik's own).
#[must_use]
pub(crate) fn find_program(program: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let p = Path::new(program);
        return is_exec(p).then(|| p.to_path_buf());
    }
    let inherited = std::env::var_os("PATH");
    let path = path.or(inherited.as_deref())?;
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| is_exec(p))
}

/// The `PATH` an agent runs with: its configured `env` wins over fabrik's.
pub(crate) fn agent_path(config: &AgentConfig) -> Option<&OsStr> {
    config.env.get("PATH").map(OsStr::new)
}

/// Quotes `argv` for display the way a POSIX shell would read it back.
pub(crate) fn shell_words(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

/// Quotes one word for a POSIX shell (unchanged when nothing in it needs quoting).
pub(crate) fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%{}<>".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use fabrik_config::AgentKind;
    use fabrik_core::process::CancelToken;
    use fabrik_core::redact::Redactor;

    use super::*;
    use crate::{Autonomy, Transcript};

    fn agent(argv: &[&str], via: PromptVia) -> CommandAgent {
        CommandAgent::new(AgentConfig {
            name: "bot".into(),
            kind: AgentKind::Command,
            preset: None,
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            prompt_via: via,
            model: Some("m1".into()),
            timeout: None,
            env: BTreeMap::from([("BOT_TOKEN".into(), "supersecretvalue".into())]),
            argv_extra: Vec::new(),
            base_url: None,
            api_key_env: None,
            dir: None,
        })
    }

    fn call(a: &CommandAgent, prompt: &str) -> (Result<Response>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let t = Transcript::in_dir(dir.path(), "execution-1");
        let cancel = CancelToken::new();
        let redactor = Redactor::default();
        let req = Request {
            role: "execution",
            prompt,
            workspace: dir.path(),
            run_id: "r1",
            slot: "s2",
            session: SessionPolicy::New,
            iteration: 2,
            attempt: 1,
            autonomy: Autonomy::Write,
            timeout: Duration::from_secs(10),
            grace: Duration::from_millis(100),
            expect_json: false,
            transcript: &t,
            cancel: &cancel,
            redactor: &redactor,
        };
        (a.call(&req), dir)
    }

    #[test]
    fn stdin_prompt_env_and_placeholders() {
        let a = agent(
            &[
                "sh",
                "-c",
                "cat; echo \" $1 $FABRIK_STAGE $FABRIK_ITERATION $FABRIK_SESSION $BOT_TOKEN\"",
                "x",
                "{model}",
            ],
            PromptVia::Stdin,
        );
        let (r, _d) = call(&a, "hi");
        let r = r.unwrap();
        assert!(
            r.text.starts_with("hi m1 execution 2 s2 ‹redacted:env:"),
            "{}",
            r.text
        );
        assert!(r.usage.estimated);
    }

    #[test]
    fn prompt_as_arg_and_file() {
        let a = agent(
            &["sh", "-c", "echo \"$1\"", "x", "{prompt}"],
            PromptVia::Arg,
        );
        assert_eq!(call(&a, "p {model}").0.unwrap().text, "p {model}\n");
        let a = agent(
            &["sh", "-c", "cat \"$1\"", "x", "{prompt_file}"],
            PromptVia::File,
        );
        assert_eq!(call(&a, "from file").0.unwrap().text, "from file");
    }

    #[test]
    fn failures_are_typed() {
        let a = agent(&["sh", "-c", "echo boom >&2; exit 7"], PromptVia::Stdin);
        let e = call(&a, "").0.unwrap_err();
        assert_eq!(e.to_string(), "agent `bot` failed (exit code 7): boom");
        let a = agent(&["/no/such/agent-bin"], PromptVia::Stdin);
        assert!(matches!(
            call(&a, "").0.unwrap_err(),
            Error::Unavailable { .. }
        ));
        assert!(matches!(a.preflight(), Err(Error::Unavailable { .. })));
    }

    #[test]
    fn describe_quotes_and_redacts_nothing_secret() {
        let a = agent(
            &["bot", "--model", "{model}", "--say", "it's"],
            PromptVia::Stdin,
        );
        assert_eq!(
            a.describe("execution"),
            r"bot --model m1 --say 'it'\''s' < prompt"
        );
    }
}
