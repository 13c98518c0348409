//! Presets: the headless command lines and JSON outputs of six agent CLIs.
//!
//! One file per CLI (`droid`, `claude`, `codex`, `gemini`, `aider`, `opencode`) builds its
//! argv for an autonomy and a session, and parses its output into typed serde values; its
//! module docs give the exact command line, the usage mapping and the failure signatures
//! (all from reference/agent-clis.md). `agent` is the shared driver, `failure` turns what
//! went wrong into a typed error, `cumulative` makes per-call figures out of session totals.
//!
//! Usage is normalised to separate buckets: `input_tokens` is uncached input only (cache
//! reads and cache writes are counted in their own fields), `output_tokens` includes
//! reasoning, `cost_usd` is set only when the CLI reports a price in USD.

mod agent;
mod aider;
mod claude;
mod codex;
mod cumulative;
mod droid;
mod failure;
mod gemini;
mod json;
mod opencode;
#[cfg(test)]
mod parser_tests;
#[cfg(test)]
mod testing;

pub(crate) use agent::build;
