//! [`OpenAiAgent`]: one call is a plain chat (read-only stages) or the tool loop (write
//! stages), with the transcript written as it goes.
//!
//! Transcript: `<stem>.prompt` is the prompt, `<stem>.stdout` holds every response body,
//! one JSON line per request (as received when it is not JSON), `<stem>.stderr` a line per
//! retry and per tool call. Everything is redacted with the request's redactor plus the API
//! key and the secret-named values of the agent's `env`.

use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use fabrik_config::AgentConfig;
use fabrik_core::Usage;
use fabrik_core::redact::{Redactor, is_secret_name};

use super::client::{self, Client};
use super::confine::Root;
use super::tools::{self, ToolCtx};
use super::wire::{Body, ChatRequest, Message, ResponseMessage};
use crate::command::write;
use crate::env::agent_env;
use crate::{Agent, Autonomy, Error, Request, Response, Result};

/// An agent behind any OpenAI-compatible `/chat/completions` endpoint.
#[derive(Debug)]
pub struct OpenAiAgent {
    config: AgentConfig,
}

impl OpenAiAgent {
    /// Wraps a `kind = "openai"` agent.
    #[must_use]
    pub fn new(config: AgentConfig) -> OpenAiAgent {
        OpenAiAgent { config }
    }

    fn model_or_err(&self) -> Result<&str> {
        self.config
            .model
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| Error::Unavailable {
                agent: self.config.name.clone(),
                reason: "no `model` is set".to_owned(),
                hint: format!(
                    "set `model` of `[agents.{}]` to a model the endpoint serves",
                    self.config.name
                ),
            })
    }
}

impl Agent for OpenAiAgent {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> Option<&str> {
        self.config.model.as_deref()
    }

    fn describe(&self, role: &str) -> String {
        let base = self.config.base_url.as_deref().unwrap_or("<base_url>");
        let line = format!(
            "POST {}/chat/completions model={}",
            base.trim_end_matches('/'),
            self.model().unwrap_or("<model>")
        );
        let line = match Autonomy::for_role(role) {
            Autonomy::Write => format!("{line} (tools: {})", tools::NAMES.join(", ")),
            Autonomy::ReadOnly => line,
        };
        // A base_url may carry credentials (user:pass@host).
        Redactor::default().redact(&line).into_owned()
    }

    fn preflight(&self) -> Result<()> {
        client::base_url(&self.config)?;
        self.model_or_err()?;
        client::api_key(&self.config)?;
        Ok(())
    }

    fn call(&self, req: &Request<'_>) -> Result<Response> {
        let start = Instant::now();
        let deadline = start + req.timeout;
        let model = self.model_or_err()?;
        let client = Client::new(&self.config)?;
        let mut redactor = req.redactor.clone();
        if let Some(key) = client.key() {
            redactor.add_known(key);
        }
        for (k, v) in &self.config.env {
            if is_secret_name(k) {
                redactor.add_known(v);
            }
        }
        write(
            &req.transcript.prompt,
            redactor.redact(req.prompt).as_bytes(),
        )?;
        let mut conv = Conversation {
            agent: &self.config.name,
            model,
            client: &client,
            deadline,
            req,
            redactor: &redactor,
            stdout: create(&req.transcript.stdout)?,
            stderr: create(&req.transcript.stderr)?,
            usage: Usage::default(),
        };
        let text = match req.autonomy {
            Autonomy::ReadOnly => {
                let messages = [Message::User {
                    content: req.prompt.to_owned(),
                }];
                let reply = conv.complete(&messages, &[])?;
                conv.final_text(reply.content)?
            }
            Autonomy::Write => {
                let root = Root::new(req.workspace).map_err(|source| Error::Io {
                    path: req.workspace.to_path_buf(),
                    source,
                })?;
                let ctx = ToolCtx {
                    root,
                    env: self.tool_env(req),
                    redactor: &redactor,
                    cancel: req.cancel,
                    deadline,
                    timeout: req.timeout,
                    grace: req.grace,
                    agent: &self.config.name,
                };
                tools::run(&mut conv, &ctx, req.prompt)?
            }
        };
        Ok(Response {
            text,
            usage: conv.usage,
            session_id: None,
            duration: start.elapsed(),
        })
    }
}

impl OpenAiAgent {
    /// The environment of `run_command`: the same explicit environment a CLI agent gets.
    fn tool_env(&self, req: &Request<'_>) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        let extra: Vec<(String, String)> = self
            .config
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
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
        agent_env(&extra, &fabrik)
    }
}

fn create(path: &std::path::Path) -> Result<File> {
    File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// One call's conversation with the endpoint: sends requests, records them, sums usage.
pub(crate) struct Conversation<'a> {
    agent: &'a str,
    model: &'a str,
    client: &'a Client,
    deadline: Instant,
    req: &'a Request<'a>,
    redactor: &'a Redactor,
    stdout: File,
    stderr: File,
    usage: Usage,
}

impl Conversation<'_> {
    /// One request: the first choice's message.
    ///
    /// # Errors
    /// The client's errors; BadOutput when the body is not a usable completion.
    pub(crate) fn complete(
        &mut self,
        messages: &[Message],
        tools: &[serde_json::Value],
    ) -> Result<ResponseMessage> {
        if self.req.cancel.is_cancelled() {
            return Err(Error::Cancelled {
                agent: self.agent.to_owned(),
            });
        }
        let body = serde_json::to_vec(&ChatRequest {
            model: self.model,
            messages,
            tools,
            stream: false,
        })
        .map_err(|e| Error::BadOutput {
            agent: self.agent.to_owned(),
            reason: format!("cannot encode the request: {e}"),
        })?;
        let mut lines = Vec::new();
        let answer = self.client.post(
            &body,
            self.deadline,
            self.req.timeout,
            self.req.cancel,
            &mut |line| lines.push(line),
        );
        for line in lines {
            self.log(&line);
        }
        let raw = answer?.body;
        let parsed = Body::parse(&raw);
        // One line per response: compact JSON when it parses, else the body as received.
        let line = match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(v) => v.to_string(),
            Err(_) => raw.clone(),
        };
        self.record(&line)?;
        match parsed {
            Some(Body::Chat(chat)) => {
                if let Some(u) = chat.usage {
                    self.usage.input_tokens += u.prompt_tokens;
                    self.usage.output_tokens += u.completion_tokens;
                    self.usage.cache_read_tokens +=
                        u.prompt_tokens_details.map_or(0, |d| d.cached_tokens);
                }
                let choice = chat
                    .choices
                    .into_iter()
                    .next()
                    .ok_or_else(|| self.bad_output("the response has no choices"))?;
                if choice.finish_reason.as_deref() == Some("length") {
                    self.log("the answer was cut at the model's output token limit");
                }
                Ok(choice.message)
            }
            Some(Body::Error { error }) => Err(Error::Crashed {
                agent: self.agent.to_owned(),
                status: "API error".to_owned(),
                stderr_tail: self
                    .redactor
                    .redact(error.message.as_deref().unwrap_or("(no message)"))
                    .into_owned(),
            }),
            Some(Body::Unknown(v)) => {
                let shape = match v.as_object() {
                    Some(o) => format!(
                        "an object with keys {}",
                        o.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                    ),
                    None => "not an object".to_owned(),
                };
                Err(self.bad_output(&format!(
                    "the response is JSON but not a chat completion ({shape})"
                )))
            }
            None => Err(self.bad_output("the response is not valid JSON")),
        }
    }

    /// The final text of a reply without tool calls.
    ///
    /// # Errors
    /// BadOutput when it is empty.
    pub(crate) fn final_text(&self, content: Option<String>) -> Result<String> {
        match content {
            Some(t) if !t.trim().is_empty() => Ok(t),
            _ => Err(self.bad_output("the model answered with an empty message")),
        }
    }

    /// A BadOutput naming where the raw responses are kept.
    pub(crate) fn bad_output(&self, what: &str) -> Error {
        Error::BadOutput {
            agent: self.agent.to_owned(),
            reason: format!(
                "{what}; the raw response is kept in {}",
                self.stdout_path().display()
            ),
        }
    }

    fn stdout_path(&self) -> PathBuf {
        self.req.transcript.stdout.clone()
    }

    /// Appends a redacted response line to the stdout transcript.
    fn record(&mut self, line: &str) -> Result<()> {
        let red = self.redactor.redact(line);
        let r = self
            .stdout
            .write_all(red.as_bytes())
            .and_then(|()| self.stdout.write_all(b"\n"));
        r.map_err(|source| Error::Io {
            path: self.stdout_path(),
            source,
        })
    }

    /// Appends a redacted line to the stderr transcript (best effort: a log line must not
    /// fail the stage).
    pub(crate) fn log(&mut self, line: &str) {
        let red = self.redactor.redact(line);
        let _ = writeln!(self.stderr, "{red}");
    }
}
