//! The `openai` backend: any OpenAI-compatible `/chat/completions` endpoint (OpenAI,
//! OpenRouter, Ollama, vLLM, llama.cpp server, LM Studio), over blocking HTTP.
//!
//! Read-only stages (discovery, planning, review, verification) are one plain chat: the
//! final text is the first choice's content. Write stages (execution, ship) run a bounded
//! tool loop whose tools are confined to the workspace.
//!
//! - `agent`: [`OpenAiAgent`], the conversation and its transcript.
//! - `client`: the HTTP request, retries on 429/5xx (`Retry-After`), typed errors.
//! - `tools`: the tool loop and the six tools.
//! - `confine`: path resolution inside the workspace.
//! - `wire`: the request and response bodies as serde types.

mod agent;
mod client;
mod confine;
mod tools;
mod wire;

pub use agent::OpenAiAgent;
