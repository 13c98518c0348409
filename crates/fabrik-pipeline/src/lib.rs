//! fabrik's pipeline: risk routing, the state machine, the run store, workspaces, prompts,
//! step reports and events.
//!
//! [`Pipeline::run`] routes a task, creates a run under `.fabrik/runs/<id>/`, and walks
//! DESIGN.md section 3's transition table ([`machine`]) through the agents and gates,
//! writing `state.json` atomically after every transition. [`Pipeline::resume`] continues
//! a run after Ctrl-C, a crash or `kill -9`. This crate never prints: progress goes to an
//! [`Observer`]; the binary renders it.

mod error;
pub mod git;
pub mod machine;
mod observer;
mod plan_check;
pub mod prompts;
pub mod report;
pub mod risk;
mod runner;
mod single;
mod stages;
pub mod state;
pub mod store;
pub mod verdict;
pub mod workspace;

pub use error::{Error, Result};
pub use observer::{Level, Observer, Silent};
pub use runner::{Pipeline, Route, RunOptions};
pub use single::SingleStage;
pub use state::{DriverStatus, RunState};
pub use store::Store;
