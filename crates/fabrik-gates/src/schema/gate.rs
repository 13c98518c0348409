//! The built-in `schema` gate: fails when the run adds a table or column that
//! near-duplicates an existing one. Parse warnings are listed but do not fail it.

use std::fmt::Write as _;
use std::time::Instant;

use fabrik_core::contract::GateResult;

use crate::schema::{SchemaReport, Synonyms, check_schema};
use crate::{GateContext, TAIL_BYTES};

/// Extra synonym groups under `.fabrik/`: one group per line, names separated by commas.
pub const SYNONYMS_FILE: &str = "schema-synonyms.txt";

/// Runs the gate.
#[must_use]
pub fn run_schema_gate(cx: &GateContext<'_>) -> GateResult {
    let start = Instant::now();
    let result = GateResult::new(
        "schema",
        format!("fabrik schema-check --base {}", cx.base.unwrap_or("HEAD")),
    );
    let Some(base) = cx.base else {
        return result.skipped("skipped: no git base commit (run outside git)");
    };
    let mut synonyms = Synonyms::default();
    let loaded = match cx.state_dir {
        Some(dir) => synonyms
            .extend_from_file(&dir.join(SYNONYMS_FILE))
            .map(|_| ()),
        None => Ok(()),
    };
    let result = match loaded.and_then(|()| check_schema(cx.workspace, base, &synonyms)) {
        Ok(report) if report.schema_files.is_empty() => {
            result.skipped("skipped: no schema files (SQL migrations, *.prisma) in the repository")
        }
        Ok(report) if report.findings.is_empty() => GateResult {
            output_tail: describe(&report),
            ..result
        },
        Ok(report) => result.failed(Some(1), describe(&report)),
        Err(e) => result.failed(None, format!("schema check failed: {e}")),
    };
    result.timed(start)
}

/// The findings, then the warnings, bounded to [`TAIL_BYTES`].
pub(crate) fn describe(report: &SchemaReport) -> String {
    let mut s = String::new();
    if report.changed_schema_files.is_empty() {
        s.push_str("no schema file changed\n");
    } else if report.findings.is_empty() {
        let _ = writeln!(
            s,
            "no duplicate tables or columns in {} changed schema file(s)",
            report.changed_schema_files.len()
        );
    }
    for f in &report.findings {
        let _ = writeln!(s, "{}", f.message());
    }
    for w in &report.warnings {
        let _ = writeln!(s, "warning: {}: {}", w.location, w.message);
    }
    if s.len() > TAIL_BYTES {
        let mut cut = TAIL_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[... more ...]\n");
    }
    s
}
