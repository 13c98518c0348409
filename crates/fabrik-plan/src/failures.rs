//! Failure-matrix rows: table rows (with Detection / Response / Rollback columns checked),
//! or top-level list items when the section has no table.

use std::collections::HashSet;

use crate::markdown::Unit;
use crate::model::FailureRow;
use crate::plan::Cx;
use crate::rules::{Finding, Rule};
use crate::sections::SectionKind;
use crate::text;

/// (column name for messages, header words that identify it)
const COLUMNS: &[(&str, &[&str])] = &[
    (
        "Detection",
        &["detect", "detection", "detected", "signal", "symptom"],
    ),
    (
        "Response",
        &[
            "response",
            "respond",
            "mitigation",
            "handling",
            "action",
            "behavior",
            "behaviour",
            "recovery",
        ],
    ),
    ("Rollback", &["rollback", "revert", "undo", "restore"]),
];

pub(crate) fn extract(cx: &Cx<'_>, notes: &mut Vec<Finding>) -> Vec<FailureRow> {
    let mut rows = Vec::new();
    for sec in cx.chunks(SectionKind::FailureMatrix).filter(|s| !s.folded) {
        let tables: Vec<_> = cx
            .doc
            .tables
            .iter()
            .filter(|t| sec.body.contains(&t.range.start))
            .collect();
        for t in &tables {
            table_rows(cx, &t.rows, notes, &mut rows);
        }
        if tables.is_empty() {
            let mut seen = HashSet::new();
            for (_, u) in cx.units_in(&sec.body) {
                let Some(item) = u.item else { continue };
                if seen.insert(cx.doc.outermost_item_after(item, sec.body.start)) {
                    rows.push(FailureRow {
                        cells: vec![text::clean(&u.text)],
                        span: cx.span(&u.range),
                    });
                }
            }
        }
    }
    rows
}

fn table_rows(cx: &Cx<'_>, t: &[Vec<usize>], notes: &mut Vec<Finding>, out: &mut Vec<FailureRow>) {
    let header: Vec<&Unit> = t[0].iter().map(|&u| &cx.doc.units[u]).collect();
    let words = |u: &Unit| -> Vec<String> {
        u.text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let cols: Vec<(&str, Option<usize>)> = COLUMNS
        .iter()
        .map(|(name, keys)| {
            (
                *name,
                header
                    .iter()
                    .position(|h| words(h).iter().any(|w| keys.contains(&w.as_str()))),
            )
        })
        .collect();
    let missing: Vec<&str> = cols
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(n, _)| *n)
        .collect();
    if let (false, Some(first)) = (missing.is_empty(), header.first()) {
        notes.push(Finding::new(
            Rule::FailureRowIncomplete,
            Some(cx.span(&first.range)),
            format!("failure matrix has no {} column", missing.join(", no ")),
        ));
    }
    for row in &t[1..] {
        let cells: Vec<String> = row
            .iter()
            .map(|&u| text::clean(&cx.doc.units[u].text))
            .collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let Some(&first) = row.first() else { continue };
        let span = cx.span(&cx.doc.units[first].range);
        let empty: Vec<&str> = cols
            .iter()
            .filter_map(|(n, c)| c.map(|c| (n, c)))
            .filter(|(_, c)| cells.get(*c).is_none_or(|s| text::is_placeholder(s)))
            .map(|(n, _)| *n)
            .collect();
        if !empty.is_empty() {
            notes.push(Finding::new(
                Rule::FailureRowIncomplete,
                Some(span),
                format!(
                    "failure `{}` has an empty {} cell",
                    label(&cells),
                    empty.join(" and ")
                ),
            ));
        }
        out.push(FailureRow { cells, span });
    }
}

/// The row's first cell that is not just a number (`| # | Failure | ...`).
fn label(cells: &[String]) -> &str {
    cells
        .iter()
        .find(|c| !c.is_empty() && !c.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
        .map_or("", String::as_str)
}
