//! Renderers for findings: rustc-like text, a JSON array, and SARIF 2.1.0.

mod json;
mod sarif;
mod text;

pub use json::render_json;
pub use sarif::render_sarif;
pub use text::render_text;

use crate::plan::Plan;
use crate::rules::Finding;

/// An output format for findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// rustc-like diagnostics with the offending line and a caret.
    #[default]
    Text,
    /// A JSON array of findings.
    Json,
    /// A SARIF 2.1.0 log.
    Sarif,
}

/// Renders `findings` about the plan displayed as `file` (`plan` supplies source lines
/// for the text format; without it only locations are printed).
#[must_use]
pub fn render(findings: &[Finding], plan: Option<&Plan>, file: &str, format: Format) -> String {
    match format {
        Format::Text => render_text(findings, plan, file),
        Format::Json => render_json(findings, file),
        Format::Sarif => render_sarif(findings, file),
    }
}
