//! Integration tests of the testkit: the real `fabrik-fake-agent` binary driven by scripts,
//! and `TestRepo`.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions, which clippy.toml's allow-unwrap-in-tests does not cover"
)]

mod fake_agent;
mod locate;
mod repo;
mod signals;
mod support;
