//! Exit codes of `fabrik run`, `resume` and `stage` (DESIGN.md section 2, the seed's table).
//!
//! The binary is the only place that turns errors into these codes; a test compares this
//! table with the one in README.md.

/// Success, a dry run included.
pub const SUCCESS: u8 = 0;
/// A stage failed: the agent failed, timed out or produced no usable output.
pub const STAGE_FAILURE: u8 = 1;
/// Verification rejected the work `max_verify` times.
pub const RETRY_EXHAUSTED: u8 = 2;
/// Configuration error: bad flags, bad `fabrik.toml`, agent or model not available.
pub const CONFIG_ERROR: u8 = 3;
/// A pre-flight gate failed.
pub const GATE_FAILURE: u8 = 4;
/// Risk assessment failed: the task is empty or whitespace only.
pub const RISK_FAILURE: u8 = 5;
/// Interrupted (Ctrl-C or SIGTERM); the state is saved and `fabrik resume` continues.
pub const INTERRUPTED: u8 = 130;

/// Every code with its one-line meaning, in table order (README.md renders the same table).
pub const TABLE: &[(u8, &str)] = &[
    (SUCCESS, "success (a dry run too)"),
    (
        STAGE_FAILURE,
        "stage failure (agent failed, timed out, produced no usable output)",
    ),
    (
        RETRY_EXHAUSTED,
        "retry exhausted: verification rejected `max_verify` times",
    ),
    (
        CONFIG_ERROR,
        "configuration error: bad flags, bad fabrik.toml, agent/model not available",
    ),
    (GATE_FAILURE, "pre-flight gate failure"),
    (
        RISK_FAILURE,
        "risk assessment failure (empty or whitespace-only task)",
    ),
    (
        INTERRUPTED,
        "interrupted (Ctrl-C); state saved, `fabrik resume` continues",
    ),
];
