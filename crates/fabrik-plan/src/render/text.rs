//! rustc-like text:
//!
//! ```text
//! error[P011]: manifest path `/etc/passwd` is absolute
//!   --> plan.md:14:3
//!    |
//! 14 | | /etc/passwd | MODIFY | x | y |
//!    |   ^^^^^^^^^^^^^
//!    = hint: write the path relative to the repository root, e.g. `src/lib.rs`
//! ```

use std::fmt::Write as _;

use crate::plan::Plan;
use crate::rules::{Finding, Severity, Span};

/// Renders findings as rustc-style diagnostics followed by a one-line summary.
#[must_use]
pub fn render_text(findings: &[Finding], plan: Option<&Plan>, file: &str) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(out, "{file}: no findings");
        return out;
    }
    let width = findings
        .iter()
        .filter_map(|f| f.span)
        .map(|s| s.line.to_string().len())
        .max()
        .unwrap_or(1);
    for f in findings {
        one(&mut out, f, plan, file, width);
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let _ = writeln!(
        out,
        "{file}: {} and {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    out
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn one(out: &mut String, f: &Finding, plan: Option<&Plan>, file: &str, width: usize) {
    let pad = " ".repeat(width);
    let _ = writeln!(
        out,
        "{}[{}]: {}",
        f.severity.as_str(),
        f.rule.id(),
        f.message
    );
    match (f.span, &f.path) {
        (Some(s), _) => {
            let _ = writeln!(out, "{pad}--> {file}:{}:{}", s.line, s.column);
            if let Some(plan) = plan {
                snippet(out, plan, s, &pad, width);
            }
            if let Some(p) = &f.path {
                let _ = writeln!(out, "{pad} = path: {p}");
            }
        }
        (None, Some(p)) => {
            let _ = writeln!(out, "{pad}--> {p}");
        }
        (None, None) => {
            let _ = writeln!(out, "{pad}--> {file}");
        }
    }
    let _ = writeln!(out, "{pad} = hint: {}", f.hint);
    out.push('\n');
}

/// The offending line with a caret under the span (tabs shown as four spaces, control
/// characters escaped so that nothing invisible reaches the terminal).
fn snippet(out: &mut String, plan: &Plan, s: Span, pad: &str, width: usize) {
    let line = plan.line_text(s.line);
    let mut shown = String::new();
    let mut caret_at = 0;
    let mut caret_len = 0;
    let span_chars = plan
        .text()
        .get(s.offset..s.offset + s.len)
        .map_or(1, |t| t.chars().count().max(1));
    for (i, c) in line.chars().enumerate() {
        let piece = display(c);
        if i + 1 == s.column {
            caret_at = shown.chars().count();
        }
        if i + 1 >= s.column && i + 1 < s.column + span_chars {
            caret_len += piece.chars().count();
        }
        shown.push_str(&piece);
    }
    if s.column > line.chars().count() {
        caret_at = shown.chars().count();
    }
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{:>width$} | {shown}", s.line);
    let _ = writeln!(
        out,
        "{pad} | {}{}",
        " ".repeat(caret_at),
        "^".repeat(caret_len.max(1))
    );
}

fn display(c: char) -> String {
    match c {
        '\t' => "    ".to_owned(),
        c if c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}') =>
        {
            format!("\\u{{{:04X}}}", u32::from(c))
        }
        c => c.to_string(),
    }
}
