//! jscpd's JSON report shape, field for field, with fabrik's additions under new names
//! (`fingerprint`, `similarity` per clone; `classes`, `skipped` at the top level).

use std::io::Write;

use serde::Serialize;

use crate::baseline::fingerprint_hex;
use crate::model::{ClonePair, Fragment, Loc, Report, SkipReason, Statistics};
use crate::{Error, Result};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    duplicates: Vec<JsonClone<'a>>,
    statistics: JsonStatistics<'a>,
    classes: Vec<JsonClass<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonClone<'a> {
    format: &'a str,
    kind: &'a str,
    is_new: bool,
    lines: u32,
    tokens: u32,
    first_file: JsonFile<'a>,
    second_file: JsonFile<'a>,
    fragment: &'a str,
    fingerprint: String,
    similarity: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFile<'a> {
    name: &'a str,
    start: u32,
    end: u32,
    start_loc: Loc,
    end_loc: Loc,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonStatistics<'a> {
    detection_date: String,
    #[serde(flatten)]
    statistics: &'a Statistics,
}

#[derive(Serialize)]
struct JsonClass<'a> {
    format: &'a str,
    lines: u32,
    tokens: u32,
    fragments: Vec<JsonFile<'a>>,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    path: &'a str,
    reason: String,
}

fn file(f: &Fragment) -> JsonFile<'_> {
    JsonFile {
        name: &f.name,
        start: f.start.line,
        end: f.end.line,
        start_loc: f.start,
        end_loc: f.end,
    }
}

fn clone(c: &ClonePair) -> JsonClone<'_> {
    JsonClone {
        format: c.format.name(),
        kind: c.kind.name(),
        is_new: c.is_new,
        lines: c.lines,
        tokens: c.tokens,
        first_file: file(&c.first),
        second_file: file(&c.second),
        fragment: &c.fragment,
        fingerprint: fingerprint_hex(c.fingerprint),
        similarity: c.similarity,
    }
}

/// Why a file was skipped, in words.
pub(crate) fn reason(r: &SkipReason) -> String {
    match r {
        SkipReason::TooLarge(size) => format!("too large ({size} bytes)"),
        SkipReason::Binary => "binary".to_owned(),
        SkipReason::Unreadable(e) => format!("unreadable: {e}"),
    }
}

/// Writes the report as jscpd's JSON (`duplicates`, `statistics`), pretty-printed.
///
/// # Errors
/// The writer fails.
pub fn write_json(report: &Report, out: &mut dyn Write, most: Option<usize>) -> Result<()> {
    let json = JsonReport {
        duplicates: super::listed(report, most).into_iter().map(clone).collect(),
        statistics: JsonStatistics {
            detection_date: now_rfc3339(),
            statistics: &report.statistics,
        },
        classes: report
            .classes
            .iter()
            .map(|c| JsonClass {
                format: c.format.name(),
                lines: c.lines,
                tokens: c.tokens,
                fragments: c.fragments.iter().map(file).collect(),
            })
            .collect(),
        skipped: report
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                path: &s.path,
                reason: reason(&s.reason),
            })
            .collect(),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, &json).map_err(|e| Error::Write(e.into()))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(Error::Write)
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`, like jscpd's `detectionDate`.
fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
    }
}
