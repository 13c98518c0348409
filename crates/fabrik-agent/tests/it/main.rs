//! Integration tests of fabrik-agent through its public API.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

mod openai;
mod presets;
