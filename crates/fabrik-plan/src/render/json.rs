//! A JSON array of findings:
//! `[{"rule":"P011","name":"manifest-absolute-path","severity":"error","file":"plan.md",
//! "line":14,"column":3,"path":null,"message":"...","hint":"..."}]`.
//! `line`/`column` are null for findings with no place in the plan (a missing section, a
//! changed file not in the manifest); `path` names the repository file a finding is about.

use serde::Serialize;

use crate::rules::Finding;

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    name: &'static str,
    severity: &'static str,
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    path: Option<&'a str>,
    message: &'a str,
    hint: &'a str,
}

/// Renders findings as a pretty-printed JSON array (with a trailing newline).
#[must_use]
pub fn render_json(findings: &[Finding], file: &str) -> String {
    let items: Vec<JsonFinding<'_>> = findings
        .iter()
        .map(|f| JsonFinding {
            rule: f.rule.id(),
            name: f.rule.name(),
            severity: f.severity.as_str(),
            file,
            line: f.span.map(|s| s.line),
            column: f.span.map(|s| s.column),
            path: f.path.as_deref(),
            message: &f.message,
            hint: &f.hint,
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_owned());
    s.push('\n');
    s
}
