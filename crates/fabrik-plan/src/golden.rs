//! Golden paths: one per sub-heading, per table row (table with a Command column), per
//! top-level list item (when the items are paths, not `Command:`/`Exit code:` labels), or
//! the whole section. Each must carry a command and an exit code.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::gates::{command_lines, is_command, is_output_label};
use crate::markdown::{Unit, UnitKind};
use crate::model::GoldenPath;
use crate::plan::Cx;
use crate::rules::{Finding, Rule};
use crate::sections::{Section, SectionKind};
use crate::text;

static EXIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bexit(?:s|ed)?(?:[\s_-]*(?:code|status))?\b[^\d\n]{0,16}?(-?\d{1,3})\b")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

const LABELS: &[&str] = &[
    "command", "run", "expected", "exit", "output", "changed", "result", "files", "stdout",
    "stderr",
];

pub(crate) fn extract(cx: &Cx<'_>, notes: &mut Vec<Finding>) -> Vec<GoldenPath> {
    let mut out = Vec::new();
    for sec in cx.chunks(SectionKind::GoldenPaths).filter(|s| !s.folded) {
        if let Some(rows) = table_paths(cx, sec) {
            out.extend(rows);
            continue;
        }
        for (title, range) in regions(cx, sec) {
            let command = find_command(cx, &range);
            let exit_code = find_exit(cx.slice(&range));
            out.push(GoldenPath {
                title,
                command,
                exit_code,
                span: cx.span(&range),
            });
        }
    }
    for p in &out {
        let missing = match (&p.command, p.exit_code) {
            (None, None) => "neither a command nor an exit code",
            (None, Some(_)) => "no command",
            (Some(_), None) => "no exit code",
            (Some(_), Some(_)) => continue,
        };
        notes.push(Finding::new(
            Rule::GoldenPathIncomplete,
            Some(p.span),
            format!("golden path `{}` has {missing}", p.title),
        ));
    }
    out
}

/// The regions of a section that are golden paths, with titles.
fn regions(cx: &Cx<'_>, sec: &Section) -> Vec<(String, Range<usize>)> {
    let units: Vec<&Unit> = cx.units_in(&sec.body).map(|(_, u)| u).collect();
    let heads: Vec<&Unit> = units
        .iter()
        .copied()
        .filter(|u| matches!(u.kind, UnitKind::Heading(_)))
        .collect();
    if !heads.is_empty() {
        return heads
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let end = heads.get(i + 1).map_or(sec.body.end, |n| n.range.start);
                (text::clean(&h.text), h.range.start..end)
            })
            .collect();
    }
    let mut tops: Vec<(usize, &Unit)> = Vec::new();
    for u in &units {
        if let Some(item) = u.item {
            let top = cx.doc.outermost_item_after(item, sec.body.start);
            if tops.last().is_none_or(|(t, _)| *t != top) {
                tops.push((top, u));
            }
        }
    }
    let labelled = tops.iter().any(|(_, u)| {
        let lead = text::clean(&u.text).to_lowercase();
        LABELS.iter().any(|l| lead.starts_with(l))
    });
    if tops.len() >= 2 && !labelled {
        return tops
            .iter()
            .map(|(top, u)| (first_line(&u.text), cx.doc.items[*top].range.clone()))
            .collect();
    }
    match units.first() {
        Some(first) => vec![(text::clean(&sec.heading), first.range.start..sec.body.end)],
        None => Vec::new(),
    }
}

fn first_line(s: &str) -> String {
    text::clean(s.lines().next().unwrap_or(""))
        .chars()
        .take(60)
        .collect()
}

/// A table with a Command column: one golden path per row.
fn table_paths(cx: &Cx<'_>, sec: &Section) -> Option<Vec<GoldenPath>> {
    let t = cx
        .doc
        .tables
        .iter()
        .find(|t| sec.body.contains(&t.range.start))?;
    let header: Vec<String> = t.rows[0]
        .iter()
        .map(|&u| cx.doc.units[u].text.to_lowercase())
        .collect();
    let cmd_col = header.iter().position(|h| h.contains("command"))?;
    let exit_col = header.iter().position(|h| h.contains("exit"));
    let mut out = Vec::new();
    for row in &t.rows[1..] {
        let cell = |c: usize| row.get(c).map(|&u| &cx.doc.units[u]);
        let Some(cmd) = cell(cmd_col) else { continue };
        let command = cmd
            .codes
            .first()
            .map(|c| c.text.trim().to_owned())
            .filter(|c| !text::is_placeholder(c));
        let exit_code = match exit_col.and_then(cell) {
            Some(u) => text::clean(&u.text).parse().ok(),
            None => row.iter().find_map(|&u| find_exit(&cx.doc.units[u].text)),
        };
        let title = row
            .first()
            .map(|&u| first_line(&cx.doc.units[u].text))
            .unwrap_or_default();
        let range = row
            .first()
            .map_or(cmd.range.clone(), |&u| cx.doc.units[u].range.clone());
        out.push(GoldenPath {
            title,
            command,
            exit_code,
            span: cx.span(&range),
        });
    }
    Some(out)
}

/// The first command in a region: code after a `Command:` label, or an unlabelled shell
/// block, or an unlabelled backticked command line; code labelled as output never counts.
fn find_command(cx: &Cx<'_>, range: &Range<usize>) -> Option<String> {
    let units: Vec<&Unit> = cx.units_in(range).map(|(_, u)| u).collect();
    for (i, u) in units.iter().enumerate() {
        if let UnitKind::Code { info, .. } = &u.kind {
            let label = i
                .checked_sub(1)
                .map_or(String::new(), |p| units[p].text.to_lowercase());
            let lang = info.split_whitespace().next().unwrap_or("").to_lowercase();
            let shell = lang.is_empty()
                || matches!(
                    lang.as_str(),
                    "sh" | "bash" | "shell" | "console" | "zsh" | "powershell" | "cmd"
                );
            let labelled = label.contains("command") || label.trim_end().ends_with("run:");
            if (labelled || (shell && !is_output_label(&label)))
                && !labelled_output(&label, labelled)
                && let Some((cmd, _)) = command_lines(cx, u).into_iter().next()
            {
                return Some(cmd);
            }
            continue;
        }
        for c in &u.codes {
            let before = cx
                .text
                .get(u.range.start..c.range.start)
                .unwrap_or("")
                .to_lowercase();
            let labelled = before.contains("command")
                || before.contains("run:")
                || before.trim_end().ends_with('$');
            if labelled_output(&before, labelled) || text::is_placeholder(&c.text) {
                continue;
            }
            if labelled || is_command(&c.text) {
                return Some(c.text.trim().to_owned());
            }
        }
    }
    None
}

/// Output labels win only when no command label comes after them.
fn labelled_output(label: &str, command_labelled: bool) -> bool {
    if !command_labelled {
        return is_output_label(label) || label.contains("file");
    }
    let cmd_at = label
        .rfind("command")
        .or_else(|| label.rfind("run:"))
        .unwrap_or(0);
    ["output", "stdout", "stderr", "changed", "files"]
        .iter()
        .any(|w| label.rfind(w).is_some_and(|at| at > cmd_at))
}

/// The exit code stated in `s` (`Exit code: 0`, `exits 1`, `exit status 2`).
pub(crate) fn find_exit(s: &str) -> Option<i32> {
    EXIT.captures(s)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(find_exit("**Expected exit code:** 0"), Some(0));
        assert_eq!(find_exit("then it exits 3 (config error)"), Some(3));
        assert_eq!(find_exit("Exit status = 130"), Some(130));
        assert_eq!(find_exit("exit code is `1`"), Some(1));
        assert_eq!(find_exit("no code here"), None);
    }
}
