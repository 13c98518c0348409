//! The file-impact manifest and the DO-NOT-TOUCH list. Manifest tables are found by
//! header names (`Path`, `Action`, `Reason`, `What will NOT change`, with synonyms, in any
//! order, extra columns tolerated); DO-NOT-TOUCH entries by the label that introduces them
//! (a heading, a bold paragraph, a list item) and the list or table that follows.

use std::collections::HashSet;
use std::ops::Range;

use globset::{Glob, GlobSetBuilder};

use crate::markdown::{Unit, UnitKind};
use crate::model::{Action, DoNotTouch, ManifestRow};
use crate::paths::{self, PathProblem};
use crate::plan::Cx;
use crate::rules::{Finding, Rule};
use crate::sections::{Section, SectionKind};
use crate::text::{self, DO_NOT_TOUCH};

pub(crate) struct ManifestOut {
    pub(crate) rows: Vec<ManifestRow>,
    pub(crate) do_not_touch: Vec<DoNotTouch>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Path,
    Action,
    Reason,
    NotChanged,
}

pub(crate) fn extract(cx: &Cx<'_>, notes: &mut Vec<Finding>) -> ManifestOut {
    let mut dnt = Dnt::default();
    for sec in cx.chunks(SectionKind::Manifest) {
        dnt.collect(cx, sec, notes);
    }
    let mut rows = Vec::new();
    let main: Vec<&Section> = cx
        .chunks(SectionKind::Manifest)
        .filter(|s| !s.folded)
        .collect();
    for sec in &main {
        for (ti, t) in cx.doc.tables.iter().enumerate() {
            if sec.body.contains(&t.range.start) && !dnt.tables.contains(&ti) {
                table_rows(cx, ti, notes, &mut rows);
            }
        }
    }
    if let Some(first) = main.first() {
        if rows.is_empty() {
            notes.push(Finding::new(
                Rule::ManifestNoTable,
                Some(cx.span(&first.heading_range)),
                format!("section `{}` has no manifest table rows", first.heading),
            ));
        }
        if !dnt.labelled || dnt.entries.is_empty() {
            let what = if dnt.labelled {
                "has no path or glob entries"
            } else {
                "is missing"
            };
            notes.push(Finding::new(
                Rule::DoNotTouchMissing,
                Some(cx.span(&first.heading_range)),
                format!("the DO-NOT-TOUCH list {what}"),
            ));
        }
    }
    check_rows(&rows, &dnt.entries, notes);
    ManifestOut {
        rows,
        do_not_touch: dnt.entries,
    }
}

fn column_role(header: &str) -> Option<Col> {
    let h = header.to_lowercase();
    let words: Vec<&str> = h
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |any: &[&str]| any.iter().any(|w| words.contains(w));
    if (has(&["not", "never"])
        && has(&[
            "change", "changed", "changes", "touch", "touched", "modified", "change?",
        ]))
        || has(&["unchanged", "preserved", "untouched", "kept"])
    {
        Some(Col::NotChanged)
    } else if has(&[
        "path",
        "paths",
        "file",
        "files",
        "filename",
        "artifact",
        "artifacts",
    ]) {
        Some(Col::Path)
    } else if has(&["action", "change", "operation", "op", "type", "kind"]) {
        Some(Col::Action)
    } else if has(&["reason", "justification", "why", "rationale", "purpose"]) {
        Some(Col::Reason)
    } else {
        None
    }
}

/// Reads one table as manifest rows when it has a Path column; reports missing columns.
fn table_rows(cx: &Cx<'_>, ti: usize, notes: &mut Vec<Finding>, out: &mut Vec<ManifestRow>) {
    let t = &cx.doc.tables[ti];
    let header: Vec<&Unit> = t.rows[0].iter().map(|&u| &cx.doc.units[u]).collect();
    let col = |role: Col| {
        header
            .iter()
            .position(|u| column_role(&u.text) == Some(role))
    };
    let Some(path_col) = col(Col::Path) else {
        return;
    };
    let (action, reason, keep) = (col(Col::Action), col(Col::Reason), col(Col::NotChanged));
    let missing: Vec<&str> = [
        (action, "Action"),
        (reason, "Reason"),
        (keep, "What will NOT change"),
    ]
    .iter()
    .filter(|(c, _)| c.is_none())
    .map(|(_, n)| *n)
    .collect();
    if !missing.is_empty() {
        let range = header.first().map_or(t.range.clone(), |u| {
            u.range.start..header.last().map_or(u.range.end, |l| l.range.end)
        });
        notes.push(Finding::new(
            Rule::ManifestMissingColumn,
            Some(cx.span(&range)),
            format!("manifest table has no {} column", missing.join(", no ")),
        ));
    }
    for row in &t.rows[1..] {
        let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map(|&u| &cx.doc.units[u]);
        let Some(path_cell) = cell(Some(path_col)) else {
            continue;
        };
        let text_of = |c| cell(c).map(|u| text::clean(&u.text)).unwrap_or_default();
        if row
            .iter()
            .all(|&u| text::clean(&cx.doc.units[u].text).is_empty())
        {
            continue;
        }
        let action_text = text_of(action);
        let (path, rename_to) = split_rename(cx, path_cell);
        let row = ManifestRow {
            path,
            rename_to,
            action: Action::parse(&action_text),
            action_text,
            reason: text_of(reason),
            unchanged: text_of(keep),
            span: cx.span(&path_cell.range),
        };
        // Empty cells of missing columns are already covered by P014.
        let at = Some(row.span);
        if reason.is_some() && text::is_placeholder(&row.reason) {
            notes.push(Finding::new(
                Rule::ManifestRowIncomplete,
                at,
                format!("row `{}` gives no reason", row.path),
            ));
        }
        if keep.is_some()
            && row.action == Some(Action::Modify)
            && text::is_placeholder(&row.unchanged)
        {
            notes.push(Finding::new(
                Rule::ManifestRowIncomplete,
                at,
                format!("MODIFY of `{}` does not say what will not change", row.path),
            ));
        }
        out.push(row);
    }
}

/// `old -> new` (or two code spans) in a Path cell; otherwise the one path.
fn split_rename(cx: &Cx<'_>, cell: &Unit) -> (String, Option<String>) {
    if cell.codes.len() >= 2
        && (cell.text.contains("->") || cell.text.contains('→') || cell.text.contains(" to "))
    {
        return (
            cell.codes[0].text.trim().to_owned(),
            Some(cell.codes[1].text.trim().to_owned()),
        );
    }
    let v = text::value_of(cell, cx.slice(&cell.range));
    for sep in ["->", "→", "=>"] {
        if let Some((a, b)) = v.split_once(sep) {
            return (text::clean(a), Some(text::clean(b)));
        }
    }
    (v, None)
}

fn check_rows(rows: &[ManifestRow], dnt: &[DoNotTouch], notes: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    let protected = {
        let mut b = GlobSetBuilder::new();
        for d in dnt {
            if let Ok(g) = Glob::new(&d.glob) {
                b.add(g);
            }
        }
        b.build().ok()
    };
    for row in rows {
        let at = Some(row.span);
        match row.action {
            None => notes.push(Finding::new(
                Rule::ManifestUnknownAction,
                at,
                format!(
                    "unknown manifest action `{}` for `{}`",
                    row.action_text, row.path
                ),
            )),
            Some(Action::Rename) if row.rename_to.is_none() => notes.push(
                Finding::new(
                    Rule::ManifestUnknownAction,
                    at,
                    format!("RENAME of `{}` names no new path", row.path),
                )
                .with_hint("write the Path cell as `old/path -> new/path`"),
            ),
            _ => {}
        }
        for p in std::iter::once(&row.path).chain(row.rename_to.as_ref()) {
            let Some(norm) = path_finding(p, row, notes) else {
                continue;
            };
            if !seen.insert(norm.clone()) {
                notes.push(Finding::new(
                    Rule::ManifestDuplicateRow,
                    at,
                    format!("`{norm}` is listed more than once"),
                ));
            }
            if row.action.is_some()
                && protected
                    .as_ref()
                    .is_some_and(|g| g.is_match(norm.trim_end_matches('/')))
            {
                notes.push(Finding::new(
                    Rule::ManifestTouchesProtected,
                    at,
                    format!("`{norm}` is in the manifest and on the DO-NOT-TOUCH list"),
                ));
            }
        }
    }
}

/// Checks one manifest path; returns its normalised form when it is usable.
fn path_finding(p: &str, row: &ManifestRow, notes: &mut Vec<Finding>) -> Option<String> {
    let at = Some(row.span);
    match paths::normalize(p, false) {
        Ok(n) => Some(n),
        Err(PathProblem::Absolute) => {
            notes.push(Finding::new(
                Rule::ManifestAbsolutePath,
                at,
                format!("manifest path `{p}` is absolute"),
            ));
            None
        }
        Err(PathProblem::Escapes) => {
            notes.push(Finding::new(
                Rule::ManifestPathEscapes,
                at,
                format!("manifest path `{p}` escapes the repository"),
            ));
            None
        }
        Err(PathProblem::Invalid(why)) => {
            notes.push(Finding::new(
                Rule::ManifestInvalidPath,
                at,
                format!("manifest path `{p}` is invalid: {why}"),
            ));
            None
        }
    }
}

/// The DO-NOT-TOUCH entries found so far.
#[derive(Default)]
struct Dnt {
    labelled: bool,
    entries: Vec<DoNotTouch>,
    /// Tables that hold DO-NOT-TOUCH entries (not manifest rows).
    tables: HashSet<usize>,
}

impl Dnt {
    fn collect(&mut self, cx: &Cx<'_>, sec: &Section, notes: &mut Vec<Finding>) {
        if sec.folded && DO_NOT_TOUCH.is_match(&sec.heading) {
            self.labelled = true;
            self.region(cx, &sec.body, notes);
        }
        let units: Vec<(usize, &Unit)> = cx.units_in(&sec.body).collect();
        for (i, &(id, u)) in units.iter().enumerate() {
            let Some(m) = DO_NOT_TOUCH.find(cx.slice(&u.range)) else {
                continue;
            };
            self.labelled = true;
            match u.kind {
                UnitKind::Heading(level) => {
                    let end = units[i + 1..]
                        .iter()
                        .find(|(_, n)| matches!(n.kind, UnitKind::Heading(l) if l <= level))
                        .map_or(sec.body.end, |(_, n)| n.range.start);
                    self.region(cx, &(u.range.end..end), notes);
                }
                UnitKind::Cell { .. } | UnitKind::Code { .. } => {}
                _ => self.after_label(cx, id, u, u.range.start + m.end(), notes),
            }
        }
    }

    /// Entries written in a unit after its label, then the list or table right after it.
    fn after_label(
        &mut self,
        cx: &Cx<'_>,
        id: usize,
        u: &Unit,
        label_src: usize,
        notes: &mut Vec<Finding>,
    ) {
        for c in u.codes.iter().filter(|c| c.range.start >= label_src) {
            self.push(cx, &c.text, &c.range, notes);
        }
        let following = &cx.doc.units[id + 1..];
        match (u.item, following.first()) {
            (Some(item), _) => {
                let end = cx.doc.items[item].range.end;
                self.region(cx, &(u.range.end..end), notes);
            }
            (None, Some(next)) if next.item.is_some() => {
                let start = u.range.end;
                let end = following
                    .iter()
                    .take_while(|n| n.item.is_some())
                    .last()
                    .map_or(start, |n| n.range.end);
                self.region(cx, &(start..end), notes);
            }
            (
                None,
                Some(Unit {
                    kind: UnitKind::Cell { table, .. },
                    ..
                }),
            ) => {
                let range = cx.doc.tables[*table].range.clone();
                self.region(cx, &range, notes);
            }
            _ => {}
        }
    }

    /// Entries of every list item and table inside `range` (first unit of each item, first
    /// path-like column of each table).
    fn region(&mut self, cx: &Cx<'_>, range: &Range<usize>, notes: &mut Vec<Finding>) {
        let mut seen_items = HashSet::new();
        for (_, u) in cx.units_in(range) {
            if let (Some(item), UnitKind::Paragraph | UnitKind::ItemText) = (u.item, &u.kind)
                && seen_items.insert(item)
            {
                self.entry_of(cx, u, notes);
            }
        }
        for (ti, t) in cx.doc.tables.iter().enumerate() {
            if !range.contains(&t.range.start) || !self.tables.insert(ti) {
                continue;
            }
            let col = t.rows[0]
                .iter()
                .position(|&h| matches!(column_role(&cx.doc.units[h].text), Some(Col::Path)))
                .or_else(|| {
                    t.rows[0].iter().position(|&h| {
                        let h = cx.doc.units[h].text.to_lowercase();
                        h.contains("component") || h.contains("glob")
                    })
                })
                .unwrap_or(0);
            for row in &t.rows[1..] {
                if let Some(&c) = row.get(col) {
                    self.entry_of(cx, &cx.doc.units[c], notes);
                }
            }
        }
    }

    /// One entry from a list item or cell: its first code span, else its first path-like word.
    fn entry_of(&mut self, cx: &Cx<'_>, u: &Unit, notes: &mut Vec<Finding>) {
        if let Some(c) = u.codes.first() {
            self.push(cx, &c.text, &c.range, notes);
            return;
        }
        let src = cx.slice(&u.range);
        let Some(first) = src.split_whitespace().next() else {
            return;
        };
        let word = text::raw_value(first);
        let word = word
            .trim_end_matches([',', ';', ':', '.', ')'])
            .trim_start_matches('(');
        if text::is_path_like(word) || word.contains('*') {
            let at = u.range.start + src.find(word).unwrap_or(0);
            self.push(cx, word, &(at..at + word.len()), notes);
        }
    }

    fn push(&mut self, cx: &Cx<'_>, raw: &str, range: &Range<usize>, notes: &mut Vec<Finding>) {
        let span = cx.span(range);
        let raw = raw.trim().trim_start_matches('@');
        if text::is_placeholder(raw) {
            return;
        }
        let glob = match paths::normalize(raw, true) {
            Ok(g) if g.ends_with('/') => format!("{g}**"),
            Ok(g) => g,
            Err(p) => {
                let why = match p {
                    PathProblem::Absolute => "it is absolute",
                    PathProblem::Escapes => "it escapes the repository",
                    PathProblem::Invalid(w) => w,
                };
                notes.push(Finding::new(
                    Rule::ManifestInvalidPath,
                    Some(span),
                    format!("DO-NOT-TOUCH entry `{raw}` is unusable: {why}"),
                ));
                return;
            }
        };
        if let Err(e) = Glob::new(&glob) {
            notes.push(Finding::new(
                Rule::ManifestInvalidPath,
                Some(span),
                format!("DO-NOT-TOUCH glob `{raw}` is invalid: {e}"),
            ));
            return;
        }
        if !self.entries.iter().any(|e| e.glob == glob) {
            self.entries.push(DoNotTouch { glob, span });
        }
    }
}
