//! Shared vocabulary of fabrik.
//!
//! This crate owns the types every other crate speaks: [`Stage`], [`Risk`], [`RunId`],
//! [`Usage`], the exit codes ([`exit`]), the JSON data contracts ([`contract`]), secret
//! redaction ([`redact`]), crash-safe file writes ([`durable`]) and child-process
//! supervision ([`process`]). It knows nothing about configuration, agents or the
//! pipeline's state machine.

pub mod contract;
pub mod durable;
pub mod exit;
pub mod git;
pub mod process;
pub mod redact;
mod run_id;
mod stage;
pub mod time;
mod usage;

pub use run_id::RunId;
pub use stage::{Risk, Stage};
pub use usage::Usage;
