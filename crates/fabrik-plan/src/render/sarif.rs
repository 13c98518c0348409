//! SARIF 2.1.0 (OASIS), the format code-scanning UIs ingest. Columns are Unicode code
//! points (`columnKind: unicodeCodePoints`), matching the text renderer. Findings without
//! a place in the plan point at the repository file they are about, or at the plan itself.

use serde_json::{Value, json};

use crate::rules::{Finding, Rule, Severity};

/// Renders findings as one SARIF 2.1.0 log with one run (with a trailing newline).
#[must_use]
pub fn render_sarif(findings: &[Finding], file: &str) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "name": r.name(),
                "shortDescription": { "text": r.summary() },
                "help": { "text": r.hint() },
                "defaultConfiguration": { "level": level(r.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = findings.iter().map(|f| result(f, file)).collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "fabrik-plan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/fabrik-dev/fabrik",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn result(f: &Finding, file: &str) -> Value {
    let index = Rule::ALL.iter().position(|&r| r == f.rule).unwrap_or(0);
    let location = match (f.span, &f.path) {
        (Some(s), _) => json!({ "physicalLocation": {
            "artifactLocation": { "uri": file },
            "region": { "startLine": s.line, "startColumn": s.column },
        }}),
        (None, Some(p)) => json!({ "physicalLocation": { "artifactLocation": { "uri": p } } }),
        (None, None) => json!({ "physicalLocation": { "artifactLocation": { "uri": file } } }),
    };
    json!({
        "ruleId": f.rule.id(),
        "ruleIndex": index,
        "level": level(f.severity),
        "message": { "text": format!("{} (hint: {})", f.message, f.hint) },
        "locations": [location],
    })
}
