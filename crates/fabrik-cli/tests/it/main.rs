//! Integration tests of the `fabrik` binary: real processes, real git repositories, and the
//! scripted fake agent from `fabrik-testkit` standing in for every agent CLI.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

mod clones_gate;
mod common;
mod demo;
mod failures;
mod golden;
mod in_place;
mod init;
mod interrupt;
mod plan_contract;
mod planning;
mod prompts;
mod record_replay;
mod resources;
mod routing;
mod snapshots;
mod stage_cmd;
mod store;
mod usage;
