//! Test fixtures for fabrik's integration tests.
//!
//! Owns: the `fabrik-fake-agent` binary and its typed [`Script`] (a scriptable stand-in for
//! an agent CLI: edits, verdicts, garbage, stalls, grandchildren, ignored SIGTERM, crashes),
//! its call log ([`calls`]), locating that binary from other packages' tests
//! ([`fake_agent_bin_near`]), [`TestRepo`], a throwaway git repository, and [`FakeOpenAi`], a
//! scripted OpenAI-compatible HTTP server that records every request.
//!
//! Does not own: anything fabrik ships. Only tests depend on this crate, so it panics with
//! a clear message instead of returning errors.

mod calls;
mod locate;
pub mod openai;
mod repo;
pub mod script;

pub use calls::{Call, PROMPT_PREFIX_BYTES, calls, read_jsonl};
pub use locate::{fake_agent_bin, fake_agent_bin_near};
pub use openai::{FakeOpenAi, RecordedRequest, Reply};
pub use repo::{TestRepo, sha256_hex};
pub use script::{Action, Issue, Script, Severity, Step, Stream, Verdict};

/// Exit code of the fake agent when its script is unusable or an action fails.
pub const FAKE_AGENT_ERROR_EXIT: i32 = 97;
