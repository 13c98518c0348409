//! Stages of the pipeline and risk levels.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A step of the pipeline. `PreVerify` is the gate run that precedes every verification.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Stage 1: two agents read the repository and write a specification.
    Discovery,
    /// Stage 2: a spec-level plan, linted, reviewed and frozen.
    Planning,
    /// Stage 3: the builder edits the workspace.
    Execution,
    /// The pre-flight gates, run immediately before every verification.
    PreVerify,
    /// Stage 4: an independent verifier returns a JSON verdict.
    Verification,
    /// Stage 5: a cheap agent updates the docs.
    Ship,
}

impl Stage {
    /// The agent stages in pipeline order (gates excluded).
    pub const AGENT_STAGES: [Stage; 5] = [
        Stage::Discovery,
        Stage::Planning,
        Stage::Execution,
        Stage::Verification,
        Stage::Ship,
    ];

    /// The seed's stage number (1..=5); the gate run has none.
    #[must_use]
    pub fn number(self) -> Option<u8> {
        match self {
            Stage::Discovery => Some(1),
            Stage::Planning => Some(2),
            Stage::Execution => Some(3),
            Stage::PreVerify => None,
            Stage::Verification => Some(4),
            Stage::Ship => Some(5),
        }
    }

    /// Lowercase name as used in files, events and `FABRIK_STAGE`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Discovery => "discovery",
            Stage::Planning => "planning",
            Stage::Execution => "execution",
            Stage::PreVerify => "pre_verify",
            Stage::Verification => "verification",
            Stage::Ship => "ship",
        }
    }

    /// Parses a stage from its name or its number (`"3"` is execution).
    #[must_use]
    pub fn parse(s: &str) -> Option<Stage> {
        let s = s.trim().to_ascii_lowercase();
        [
            Stage::Discovery,
            Stage::Planning,
            Stage::Execution,
            Stage::PreVerify,
            Stage::Verification,
            Stage::Ship,
        ]
        .into_iter()
        .find(|st| st.as_str() == s || st.number().is_some_and(|n| n.to_string() == s))
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Risk level of a task; decides where the pipeline starts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Starts at execution.
    Low,
    /// Starts at planning.
    Medium,
    /// Starts at discovery.
    High,
}

impl Risk {
    /// The first stage for this risk (DESIGN.md section 3).
    #[must_use]
    pub fn start_stage(self) -> Stage {
        match self {
            Risk::Low => Stage::Execution,
            Risk::Medium => Stage::Planning,
            Risk::High => Stage::Discovery,
        }
    }

    /// Uppercase label for human output.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Risk::Low => "LOW",
            Risk::Medium => "MEDIUM",
            Risk::High => "HIGH",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_names_and_numbers() {
        assert_eq!(Stage::parse("3"), Some(Stage::Execution));
        assert_eq!(Stage::parse("Verification"), Some(Stage::Verification));
        assert_eq!(Stage::parse("pre_verify"), Some(Stage::PreVerify));
        assert_eq!(Stage::parse("6"), None);
        assert_eq!(Stage::parse("deploy"), None);
    }

    #[test]
    fn risk_start_stages_follow_the_table() {
        assert_eq!(Risk::Low.start_stage(), Stage::Execution);
        assert_eq!(Risk::Medium.start_stage(), Stage::Planning);
        assert_eq!(Risk::High.start_stage(), Stage::Discovery);
    }
}
