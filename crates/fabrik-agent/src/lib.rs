//! Agents: the [`Agent`] trait and its backends.
//!
//! A backend turns a [`Request`] (prompt, workspace, session policy, autonomy, time limit)
//! into a [`Response`] (final text, usage, the backend's session id) or a typed [`Error`]
//! that the binary maps to an exit code: [`Error::Unavailable`] is a configuration problem
//! (exit 3), the others are stage failures (exit 1). This crate owns how agents are
//! started and supervised; it does not know the pipeline's order of stages.
//!
//! Backends: [`CommandAgent`] runs any program from its `argv`; the presets (`preset =
//! "droid" | "claude" | "codex" | "gemini" | "aider" | "opencode"`) know each CLI's headless
//! flags, its permission flags for [`Autonomy`], its sessions and its JSON output, and
//! classify its failures. Both run through the same supervised process handling.
//! [`OpenAiAgent`] (`kind = "openai"`) talks to any OpenAI-compatible endpoint over HTTP:
//! plain chat for read-only stages, a tool loop confined to the workspace for write stages.
//! [`Recorder`] wraps any backend and stores every call (`--record DIR`); [`ReplayAgent`]
//! (`kind = "replay"`) plays those calls back, checking each prompt's hash.

mod command;
mod env;
mod error;
mod openai;
mod preset;
mod replay;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fabrik_config::{AgentConfig, AgentKind};
use fabrik_core::Usage;
use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;

pub use command::CommandAgent;
pub use error::{Error, Result};
pub use openai::OpenAiAgent;
pub use replay::{Recorder, Recording, ReplayAgent, prompt_hash};

/// Whether the agent may edit the workspace. Planning, review and verification never may.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Autonomy {
    /// Read files, write nothing.
    ReadOnly,
    /// Edit files in the workspace.
    Write,
}

impl Autonomy {
    /// The autonomy the pipeline gives a role (`FABRIK_STAGE`): execution and ship may
    /// write; discovery, planning, review and verification may not.
    #[must_use]
    pub fn for_role(role: &str) -> Autonomy {
        match role {
            "execution" | "pre_verify" | "ship" => Autonomy::Write,
            _ => Autonomy::ReadOnly,
        }
    }
}

/// Which conversation the call belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionPolicy {
    /// A fresh session (always for the verifier).
    New,
    /// Continue the backend's session with this id.
    Resume(String),
}

/// Where a call's prompt and output are kept.
#[derive(Clone, Debug)]
pub struct Transcript {
    /// The prompt as sent (redacted).
    pub prompt: PathBuf,
    /// Everything the agent printed on stdout (capped, redacted).
    pub stdout: PathBuf,
    /// Everything the agent printed on stderr (capped, redacted).
    pub stderr: PathBuf,
}

impl Transcript {
    /// `<dir>/<stem>.{prompt,stdout,stderr}`.
    #[must_use]
    pub fn in_dir(dir: &Path, stem: &str) -> Transcript {
        Transcript {
            prompt: dir.join(format!("{stem}.prompt")),
            stdout: dir.join(format!("{stem}.stdout")),
            stderr: dir.join(format!("{stem}.stderr")),
        }
    }
}

/// One call to an agent.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// `FABRIK_STAGE`: discovery, planning, review, execution, verification or ship.
    pub role: &'a str,
    /// The prompt.
    pub prompt: &'a str,
    /// The agent's working directory.
    pub workspace: &'a Path,
    /// `FABRIK_RUN_ID`.
    pub run_id: &'a str,
    /// `FABRIK_SESSION`: s1..s4.
    pub slot: &'a str,
    /// New or resumed session.
    pub session: SessionPolicy,
    /// `FABRIK_ITERATION`, 1-based.
    pub iteration: u32,
    /// `FABRIK_ATTEMPT`, 1-based (2 when fabrik re-asks for usable output).
    pub attempt: u32,
    /// Read-only or write.
    pub autonomy: Autonomy,
    /// Wall-clock limit.
    pub timeout: Duration,
    /// SIGTERM-to-SIGKILL grace.
    pub grace: Duration,
    /// Whether a JSON verdict is expected in the final text.
    pub expect_json: bool,
    /// Where prompt and output go.
    pub transcript: &'a Transcript,
    /// Set on Ctrl-C.
    pub cancel: &'a CancelToken,
    /// Applied to everything written.
    pub redactor: &'a Redactor,
}

/// What an agent returned.
#[derive(Clone, Debug)]
pub struct Response {
    /// The final text.
    pub text: String,
    /// Tokens and cost (estimated when the backend does not report them).
    pub usage: Usage,
    /// The backend's own session id, when it has one.
    pub session_id: Option<String>,
    /// Wall time of the call.
    pub duration: Duration,
}

/// A configured agent.
pub trait Agent: Send + Sync {
    /// The name from `[agents.<name>]`.
    fn name(&self) -> &str;
    /// The model it is asked to use.
    fn model(&self) -> Option<&str>;
    /// The command line (or endpoint) a call for `role` would use, secrets redacted; for
    /// dry runs and `fabrik agents`.
    fn describe(&self, role: &str) -> String;
    /// Checks, without calling a model, that the agent can run at all (binary present).
    ///
    /// # Errors
    /// [`Error::Unavailable`] naming what is missing.
    fn preflight(&self) -> Result<()>;
    /// Performs one call.
    ///
    /// # Errors
    /// A typed [`Error`]; see the crate docs for how each maps to an exit code.
    fn call(&self, req: &Request<'_>) -> Result<Response>;
}

/// Builds the backend for `config`.
///
/// # Errors
/// [`Error::Unavailable`] for a backend this build cannot drive.
pub fn build(config: &AgentConfig) -> Result<Box<dyn Agent>> {
    match config.kind {
        AgentKind::Command => Ok(Box::new(CommandAgent::new(config.clone()))),
        AgentKind::Preset => Ok(Box::new(preset::build(config)?)),
        AgentKind::Openai => Ok(Box::new(OpenAiAgent::new(config.clone()))),
        AgentKind::Replay => match &config.dir {
            Some(dir) => Ok(Box::new(ReplayAgent::new(&config.name, dir))),
            None => Err(Error::Unavailable {
                agent: config.name.clone(),
                reason: "`kind = \"replay\"` needs `dir`".into(),
                hint: format!(
                    "set `dir = \"<recordings>\"` in `[agents.{}]` (made by `fabrik run --record <dir>`)",
                    config.name
                ),
            }),
        },
    }
}
