//! SARIF 2.1.0 for GitHub code scanning: one result per clone, located at the second
//! fragment, with the first fragment as a related location and the clone fingerprint as a
//! partial fingerprint (so code scanning tracks the alert across line shifts).

use std::io::Write;

use serde_json::{Value, json};

use crate::baseline::fingerprint_hex;
use crate::model::{CloneKind, ClonePair, Fragment};
use crate::{Error, Report, Result};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const EXACT_RULE: &str = "duplicate-code";
const NEAR_RULE: &str = "near-duplicate-code";

/// Writes the report as a SARIF 2.1.0 log.
///
/// # Errors
/// The writer fails.
pub fn write_sarif(report: &Report, out: &mut dyn Write, most: Option<usize>) -> Result<()> {
    let results: Vec<Value> = super::listed(report, most)
        .into_iter()
        .map(result)
        .collect();
    let log = json!({
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [{
            "tool": { "driver": {
                "name": "fabrik-dupes",
                "informationUri": "https://github.com/fabrik-dev/fabrik",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules(),
            }},
            "results": results,
        }],
    });
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, &log).map_err(|e| Error::Write(e.into()))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(Error::Write)
}

fn rules() -> Value {
    json!([
        {
            "id": EXACT_RULE,
            "name": "DuplicateCode",
            "shortDescription": { "text": "Duplicated code" },
            "fullDescription": { "text": "A fragment of at least min-tokens tokens and min-lines lines that also exists elsewhere (exactly, or with identifiers or literals renamed). Reuse the existing code instead of copying it." },
            "defaultConfiguration": { "level": "warning" },
            "properties": { "tags": ["maintainability", "duplication"] },
        },
        {
            "id": NEAR_RULE,
            "name": "NearDuplicateCode",
            "shortDescription": { "text": "Near-duplicate code" },
            "fullDescription": { "text": "A block whose token shingles are at least 80% similar (Jaccard) to another block: a copy with a few statements added, removed or changed." },
            "defaultConfiguration": { "level": "note" },
            "properties": { "tags": ["maintainability", "duplication"] },
        },
    ])
}

fn result(c: &ClonePair) -> Value {
    let (rule, index) = if c.kind == CloneKind::Near {
        (NEAR_RULE, 1)
    } else {
        (EXACT_RULE, 0)
    };
    let other = &c.first;
    let text = format!(
        "{} code ({} lines, {} tokens) also at [{}:{}](1).",
        if c.kind == CloneKind::Near {
            "Near-duplicate"
        } else {
            "Duplicated"
        },
        c.lines,
        c.tokens,
        other.name,
        other.start.line,
    );
    json!({
        "ruleId": rule,
        "ruleIndex": index,
        "level": if c.kind == CloneKind::Near { "note" } else { "warning" },
        "message": { "text": text },
        "locations": [location(&c.second)],
        "relatedLocations": [{
            "id": 1,
            "physicalLocation": location(other)["physicalLocation"].clone(),
            "message": { "text": "first occurrence" },
        }],
        "partialFingerprints": { "fabrikClone/v1": fingerprint_hex(c.fingerprint) },
        "properties": { "kind": c.kind.name(), "isNew": c.is_new, "similarity": c.similarity },
    })
}

fn location(f: &Fragment) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&f.name), "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": f.start.line,
                "startColumn": f.start.column + 1,
                "endLine": f.end.line,
                "endColumn": f.end.column + 1,
            },
        },
    })
}

/// A relative URI reference: `/`-separated, with reserved bytes percent-encoded.
fn uri(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_are_encoded() {
        assert_eq!(super::uri("a b/c%.py"), "a%20b/c%25.py");
    }
}
