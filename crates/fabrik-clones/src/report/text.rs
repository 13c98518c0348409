//! The human report: each clone with both locations as `path:line:col` (1-based columns,
//! so terminals and editors can jump there) and its fragment, then one summary line.

use std::io::Write;

use crate::model::{ClonePair, Fragment, Report, Stats};
use crate::{Error, Result};

/// How much the text report shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Only the N largest clones.
    pub most: Option<usize>,
    /// Whole fragments instead of their first lines.
    pub verbose: bool,
}

/// Fragment lines shown per clone without `verbose`.
const PREVIEW_LINES: usize = 6;

/// Writes the text report.
///
/// # Errors
/// The writer fails.
pub fn write_text(report: &Report, out: &mut dyn Write, opts: TextOptions) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    write_all(report, &mut out, opts)
        .and_then(|()| out.flush())
        .map_err(Error::Write)
}

fn write_all(report: &Report, out: &mut dyn Write, opts: TextOptions) -> std::io::Result<()> {
    for clone in super::listed(report, opts.most) {
        write_clone(clone, out, opts.verbose)?;
    }
    writeln!(out, "{}", summary(&report.statistics.total))
}

fn write_clone(c: &ClonePair, out: &mut dyn Write, verbose: bool) -> std::io::Result<()> {
    let similarity = if c.similarity < 1.0 {
        format!(", {:.0}% similar", c.similarity * 100.0)
    } else {
        String::new()
    };
    let new = if c.is_new { " [new]" } else { "" };
    writeln!(
        out,
        "{} clone: {} lines, {} tokens ({}{similarity}){new}",
        c.kind.name(),
        c.lines,
        c.tokens,
        c.format
    )?;
    writeln!(out, "  {}", place(&c.first))?;
    writeln!(out, "  {}", place(&c.second))?;
    let lines: Vec<&str> = c.fragment.lines().collect();
    let shown = if verbose {
        lines.len()
    } else {
        lines.len().min(PREVIEW_LINES)
    };
    for (i, line) in lines.iter().take(shown).enumerate() {
        writeln!(out, "  {:>6} | {line}", c.first.start.line as usize + i)?;
    }
    if shown < lines.len() {
        writeln!(out, "         | ... {} more lines", lines.len() - shown)?;
    }
    writeln!(out)
}

/// `path:line:col` (1-based) of the start, and the last line.
pub(crate) fn place(f: &Fragment) -> String {
    format!(
        "{}:{}:{} (to line {})",
        f.name,
        f.start.line,
        f.start.column + 1,
        f.end.line
    )
}

/// The summary line.
pub(crate) fn summary(t: &Stats) -> String {
    let new = if t.new_clones > 0 {
        format!(", {} new", t.new_clones)
    } else {
        String::new()
    };
    format!(
        "{} clones{new}: {} duplicated lines of {} ({:.2}%), {} files, {} tokens",
        t.clones, t.duplicated_lines, t.lines, t.percentage, t.sources, t.tokens
    )
}
