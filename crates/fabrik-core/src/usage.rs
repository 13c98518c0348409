//! Token and cost accounting of one agent call or a sum of them.

use std::ops::AddAssign;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Tokens and cost. Field names follow the OpenTelemetry GenAI conventions
/// (`gen_ai.usage.input_tokens` -> `input_tokens`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Cost in USD when the agent reported it.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// True when the numbers are fabrik's estimate (bytes / 4), not the agent's report.
    #[serde(default)]
    pub estimated: bool,
}

impl Usage {
    /// Estimates usage from byte counts (4 bytes per token), marked as an estimate.
    #[must_use]
    pub fn estimate(prompt_bytes: u64, output_bytes: u64) -> Usage {
        Usage {
            input_tokens: prompt_bytes.div_ceil(4),
            output_tokens: output_bytes.div_ceil(4),
            estimated: true,
            ..Usage::default()
        }
    }

    /// Input plus output tokens.
    #[must_use]
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl AddAssign<&Usage> for Usage {
    fn add_assign(&mut self, rhs: &Usage) {
        self.input_tokens += rhs.input_tokens;
        self.output_tokens += rhs.output_tokens;
        self.cache_read_tokens += rhs.cache_read_tokens;
        self.cache_write_tokens += rhs.cache_write_tokens;
        self.cost_usd = match (self.cost_usd, rhs.cost_usd) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
        // One estimated part makes the sum an estimate.
        self.estimated |= rhs.estimated;
    }
}
