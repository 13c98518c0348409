//! Integration tests of `fabrik-clones`: properties of detection, changed mode in a real
//! git repository, baselines, the cache and bad input.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] panic on setup failure"
)]

mod bad_input;
mod cache;
mod changed;
mod near;
mod props;
mod support;
