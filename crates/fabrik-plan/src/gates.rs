//! Gate commands: shell code blocks (not ones labelled as expected output), tables with a
//! Command column, and backticked commands in list items. A gate-looking list item or table
//! row without a command is reported, as is a gates section with no command at all.

use std::collections::HashSet;
use std::ops::Range;

use crate::markdown::{CodeSpan, Unit, UnitKind};
use crate::model::Gate;
use crate::plan::Cx;
use crate::rules::{Finding, Rule};
use crate::sections::SectionKind;
use crate::text;

/// Info strings of fenced blocks that hold output or data, never a command.
const NOT_COMMANDS: &[&str] = &[
    "text", "txt", "output", "json", "jsonl", "yaml", "yml", "toml", "log", "diff", "plain", "md",
    "markdown", "xml", "html",
];

/// Words that make a list item a gate (so that it must have a command).
const GATE_WORDS: &[&str] = &[
    "lint",
    "linter",
    "test",
    "tests",
    "typecheck",
    "type-check",
    "type check",
    "build",
    "format",
    "fmt",
    "clippy",
    "duplicate",
    "duplicates",
    "dupes",
    "clones",
    "scope",
    "schema",
    "audit",
    "coverage",
    "e2e",
    "smoke",
    "mypy",
    "ruff",
];

/// Plain-word programs accepted as a command without arguments.
const TOOLS: &[&str] = &[
    "make", "pytest", "tox", "ruff", "mypy", "just", "nox", "rake", "gradle", "mvn", "npm", "yarn",
    "pnpm",
];

pub(crate) fn extract(cx: &Cx<'_>, notes: &mut Vec<Finding>) -> Vec<Gate> {
    let mut gates = Vec::new();
    let chunks: Vec<_> = cx
        .chunks(SectionKind::Gates)
        .filter(|s| !s.folded)
        .collect();
    for sec in &chunks {
        let mut table_units = HashSet::new();
        for t in cx
            .doc
            .tables
            .iter()
            .filter(|t| sec.body.contains(&t.range.start))
        {
            table_units.extend(t.rows.iter().flatten().copied());
            table_gates(cx, &t.rows, notes, &mut gates);
        }
        let units: Vec<(usize, &Unit)> = cx
            .units_in(&sec.body)
            .filter(|(id, _)| !table_units.contains(id))
            .collect();
        block_gates(cx, &units, &mut gates);
        item_gates(cx, &sec.body, &units, notes, &mut gates);
    }
    if let Some(first) = chunks.first()
        && gates.is_empty()
        && !notes.iter().any(|n| n.rule == Rule::GateWithoutCommand)
    {
        notes.push(Finding::new(
            Rule::GateWithoutCommand,
            Some(cx.span(&first.heading_range)),
            format!("section `{}` defines no runnable command", first.heading),
        ));
    }
    gates
}

/// Commands of shell code blocks, one per logical line (`\` continuations joined).
fn block_gates(cx: &Cx<'_>, units: &[(usize, &Unit)], gates: &mut Vec<Gate>) {
    for (i, (_, u)) in units.iter().enumerate() {
        let UnitKind::Code { info, .. } = &u.kind else {
            continue;
        };
        let lang = info.split_whitespace().next().unwrap_or("").to_lowercase();
        let label = i
            .checked_sub(1)
            .map_or("", |p| units[p].1.text.as_str())
            .to_lowercase();
        if NOT_COMMANDS.contains(&lang.as_str()) || is_output_label(&label) {
            continue;
        }
        let name = text::clean(label.trim_end_matches(':'));
        for (cmd, range) in command_lines(cx, u) {
            gates.push(Gate {
                name: name.clone(),
                command: cmd,
                span: cx.span(&range),
            });
        }
    }
}

pub(crate) fn is_output_label(label: &str) -> bool {
    [
        "output",
        "stdout",
        "stderr",
        "prints",
        "response",
        "result",
        "changed files",
        "side effect",
    ]
    .iter()
    .any(|w| label.contains(w))
}

/// The logical command lines of a code block with their source ranges.
pub(crate) fn command_lines(cx: &Cx<'_>, u: &Unit) -> Vec<(String, Range<usize>)> {
    let src = cx.slice(&u.range);
    let mut out = Vec::new();
    let mut cursor = 0;
    let mut pending: Option<(String, usize)> = None;
    for line in u.text.lines() {
        let at = src[cursor..].find(line).map_or(cursor, |p| cursor + p);
        cursor = at + line.len();
        let t = line.trim();
        let t = t.strip_prefix("$ ").unwrap_or(t);
        if pending.is_none() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        let (mut cmd, start) = pending.take().unwrap_or((String::new(), at));
        cmd.push_str(t.trim_end_matches('\\').trim_end());
        if t.ends_with('\\') {
            cmd.push(' ');
            pending = Some((cmd, start));
        } else {
            out.push((cmd, u.range.start + start..u.range.start + cursor));
        }
    }
    if let Some((cmd, start)) = pending {
        out.push((
            cmd.trim_end().to_owned(),
            u.range.start + start..u.range.start + cursor,
        ));
    }
    out
}

/// Whether a code span holds a command rather than a name or a path.
pub(crate) fn is_command(code: &str) -> bool {
    let c = code.trim();
    !text::is_placeholder(c)
        && (c.contains(char::is_whitespace) || c.starts_with("./") || TOOLS.contains(&c))
}

/// A table with a Command column: one gate per row; an empty command cell is a finding.
fn table_gates(cx: &Cx<'_>, rows: &[Vec<usize>], notes: &mut Vec<Finding>, gates: &mut Vec<Gate>) {
    let header: Vec<String> = rows[0]
        .iter()
        .map(|&u| cx.doc.units[u].text.to_lowercase())
        .collect();
    let Some(cmd_col) = header
        .iter()
        .position(|h| h.contains("command") || h.contains("cmd") || h.trim() == "run")
    else {
        // No Command column: a backticked command anywhere in a row makes the row a gate.
        for row in &rows[1..] {
            let name = row
                .first()
                .map(|&u| text::clean(&cx.doc.units[u].text))
                .unwrap_or_default();
            let cmd = row
                .iter()
                .flat_map(|&u| &cx.doc.units[u].codes)
                .find(|c| is_command(&c.text));
            if let Some(c) = cmd {
                let (command, span) = (c.text.trim().to_owned(), cx.span(&c.range));
                gates.push(Gate {
                    name,
                    command,
                    span,
                });
            }
        }
        return;
    };
    for row in &rows[1..] {
        let Some(cell) = row.get(cmd_col).map(|&u| &cx.doc.units[u]) else {
            continue;
        };
        let name = row
            .first()
            .map(|&u| text::clean(&cx.doc.units[u].text))
            .unwrap_or_default();
        let cmd = cell
            .codes
            .first()
            .map_or_else(|| text::clean(&cell.text), |c| c.text.trim().to_owned());
        if text::is_placeholder(&cmd) {
            notes.push(Finding::new(
                Rule::GateWithoutCommand,
                Some(cx.span(&cell.range)),
                format!("gate `{name}` has no command"),
            ));
        } else {
            gates.push(Gate {
                name,
                command: cmd,
                span: cx.span(&cell.range),
            });
        }
    }
}

/// Backticked commands in list items; a gate-named item without any command is reported.
fn item_gates(
    cx: &Cx<'_>,
    body: &Range<usize>,
    units: &[(usize, &Unit)],
    notes: &mut Vec<Finding>,
    gates: &mut Vec<Gate>,
) {
    let mut seen = HashSet::new();
    for &(_, u) in units {
        let Some(item) = u.item else { continue };
        let top = cx.doc.outermost_item_after(item, body.start);
        if !seen.insert(top) {
            continue;
        }
        let inside: Vec<&Unit> = units
            .iter()
            .map(|(_, v)| *v)
            .filter(|v| v.item.is_some_and(|i| cx.doc.item_within(i, top)))
            .collect();
        let lead = text::clean(&u.text).to_lowercase();
        if [
            "pass",
            "fail",
            "expected",
            "exit",
            "condition",
            "note",
            "output",
        ]
        .iter()
        .any(|w| lead.starts_with(w))
        {
            continue;
        }
        let mut found = inside.iter().any(|v| v.is_code_block());
        let gate_like = looks_like_gate(&lead);
        let runnable = |c: &&CodeSpan| is_command(&c.text) || (gate_like && is_program(&c.text));
        for v in &inside {
            for c in v.codes.iter().filter(runnable) {
                found = true;
                gates.push(Gate {
                    name: gate_name(&lead),
                    command: c.text.trim().to_owned(),
                    span: cx.span(&c.range),
                });
            }
        }
        let placeholder = inside
            .iter()
            .flat_map(|v| &v.codes)
            .find(|c| text::is_placeholder(&c.text));
        if !found && (placeholder.is_some() || gate_like) {
            let at = placeholder.map_or(&u.range, |c| &c.range);
            notes.push(Finding::new(
                Rule::GateWithoutCommand,
                Some(cx.span(at)),
                format!("gate `{}` has no runnable command", gate_name(&lead)),
            ));
        }
    }
}

/// A bare program name (`gofmt`, `cargo-deny`): a command when it stands in a gate item.
fn is_program(code: &str) -> bool {
    let c = code.trim();
    c.starts_with(|ch: char| ch.is_ascii_lowercase())
        && c.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
}

fn gate_name(lead: &str) -> String {
    let name = lead.split([':', '—', '\n']).next().unwrap_or(lead).trim();
    name.chars().take(60).collect()
}

fn looks_like_gate(lead: &str) -> bool {
    let name = gate_name(lead);
    name.split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|w| GATE_WORDS.contains(&w))
        || GATE_WORDS
            .iter()
            .any(|g| g.contains(' ') && name.contains(g))
}
