//! The built-in `clones` gate: did this run copy code that already exists?
//!
//! `fabrik dupes --changed --ignore-identifiers` against the run's base commit: only clones
//! with a side in lines the run added, matched against the whole workspace, renamed copies
//! included. `.jscpd.json` in the workspace sets
//! thresholds; `<repo>/.fabrik/clones-baseline.json` (written with `fabrik dupes
//! --write-baseline`) marks known clones, which are listed but do not fail the gate.

use std::fmt::Write as _;
use std::time::Instant;

use fabrik_clones::{Baseline, JscpdConfig, Options};
use fabrik_core::contract::GateResult;

use crate::{GateContext, TAIL_BYTES};

/// File name of the baseline under `.fabrik/`.
pub const BASELINE_FILE: &str = "clones-baseline.json";

/// Runs the gate.
#[must_use]
pub fn run_clones_gate(cx: &GateContext<'_>) -> GateResult {
    let start = Instant::now();
    let command = format!(
        "fabrik dupes --changed --ignore-identifiers --base {}",
        cx.base.unwrap_or("HEAD")
    );
    let result = GateResult::new("clones", command);
    let Some(base) = cx.base else {
        return result.skipped("skipped: no git base commit (run outside git)");
    };
    let result = match detect(cx, base) {
        Ok((new, known)) if new.is_empty() => GateResult {
            output_tail: describe(&new, &known),
            ..result
        },
        Ok((new, known)) => result.failed(Some(1), describe(&new, &known)),
        Err(e) => result.failed(None, format!("clone detection failed: {e}")),
    };
    result.timed(start)
}

type Pairs = Vec<fabrik_clones::ClonePair>;

fn detect(cx: &GateContext<'_>, base: &str) -> fabrik_clones::Result<(Pairs, Pairs)> {
    let mut opts = Options::default();
    // Agents rename what they copy: the gate matches renamed copies (Type-2) too.
    opts.tokenize.ignore_identifiers = true;
    if let Some((_, cfg)) = JscpdConfig::find(&[cx.workspace])? {
        cfg.apply(&mut opts);
    }
    if let Some(dir) = cx.state_dir {
        opts.cache_dir = Some(dir.join("cache"));
        let path = dir.join(BASELINE_FILE);
        if path.is_file() {
            opts.baseline = Some(Baseline::load(&path)?);
        }
    }
    let report = fabrik_clones::detect_changed(cx.workspace, base, &opts)?;
    Ok(report.clones.into_iter().partition(|c| c.is_new))
}

fn describe(new: &[fabrik_clones::ClonePair], known: &[fabrik_clones::ClonePair]) -> String {
    let mut s = String::new();
    if new.is_empty() && known.is_empty() {
        s.push_str("no copied code in the lines this run added\n");
    }
    let groups: [(&str, &[fabrik_clones::ClonePair]); 2] =
        [("NEW clone", new), ("known clone (baseline)", known)];
    for (label, list) in groups {
        for c in list {
            let _ = writeln!(
                s,
                "{label}: {}:{}-{} duplicates {}:{}-{} ({} lines, {} tokens, {}); reuse the existing code",
                c.first.name,
                c.first.start.line,
                c.first.end.line,
                c.second.name,
                c.second.start.line,
                c.second.end.line,
                c.lines,
                c.tokens,
                c.kind.name()
            );
        }
    }
    if s.len() > TAIL_BYTES {
        let mut cut = TAIL_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[... more clones ...]\n");
    }
    s
}
