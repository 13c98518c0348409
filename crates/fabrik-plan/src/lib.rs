//! The Stage-2 plan contract (DESIGN §6): what a plan must contain, and the checks that
//! make a shallow or invented plan fail.
//!
//! - [`Plan`] parses markdown (pulldown-cmark, with byte offsets) into the eight contract
//!   sections, matching headings tolerantly, and extracts the file-impact manifest, the
//!   DO-NOT-TOUCH list, gate commands, golden paths and failure-matrix rows.
//! - [`lint`] checks the plan text alone; [`ground`] checks its claims against a
//!   repository (paths exist, CREATE targets do not, backticked symbols exist, `path:line`
//!   references are in range and near their symbol); [`check_scope`] compares a git diff
//!   with the manifest.
//! - [`render`] prints findings as rustc-like text, JSON or SARIF 2.1.0.
//! - [`CONTRACT`] is the planner's instructions (`fabrik plan template`).
//!
//! This crate owns no process state and prints nothing; it does not decide what a failed
//! check means for a run (the pipeline does) and does not map errors to exit codes (the CLI does).

mod error;
mod failures;
mod gates;
mod golden;
mod ground;
mod index;
mod lint;
mod manifest;
mod markdown;
mod model;
mod paths;
mod plan;
mod render;
mod rules;
mod scope;
mod sections;
mod source;
mod text;
mod vague;

pub use error::{Error, Result};
pub use ground::{GroundOptions, ground};
pub use lint::{LintOptions, lint};
pub use model::{Action, DoNotTouch, FailureRow, Gate, GoldenPath, ManifestRow};
pub use plan::{ParseOptions, Plan};
pub use render::{Format, render, render_json, render_sarif, render_text};
pub use rules::{Finding, Rule, Severity, Span, has_errors, sort_findings};
pub use scope::check_scope;
pub use sections::{Section, SectionKind, classify_heading};

/// The planner's instructions: the eight sections, the manifest format and the rules the
/// lint enforces. `fabrik plan template` prints it; the planning stage sends it to the planner.
pub const CONTRACT: &str = include_str!("contract.md");
