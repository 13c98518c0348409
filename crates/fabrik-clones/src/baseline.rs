//! Baselines: the clones a repository already had, so that only new ones fail.
//!
//! A baseline is a JSON file mapping clone fingerprints (16 hex digits) to how many clones
//! had that fingerprint. A fingerprint hashes both fragments' tokens as written (comments
//! and whitespace left out), independent of which side is first: it survives line shifts,
//! re-indentation, moves and file renames. Because copies of one fragment share a
//! fingerprint, the baseline counts them: when a run has more clones with a fingerprint
//! than the baseline counted, the extra ones are new, preferring clones that touch lines
//! the diff adds (changed mode), else the last in report order. So a third copy of
//! already duplicated code is new, while the old pair stays accepted.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::build::recount;
use crate::model::{ClonePair, Report};
use crate::{Error, Result};

/// The fingerprints of the clones a repository had when the baseline was written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version; 1.
    pub version: u32,
    /// Fingerprint (16 lowercase hex digits) -> number of clones with it.
    pub fingerprints: BTreeMap<String, u32>,
}

/// A fingerprint as the baseline and the reports write it.
#[must_use]
pub fn fingerprint_hex(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

impl Baseline {
    /// The baseline of a report's clones.
    #[must_use]
    pub fn from_report(report: &Report) -> Baseline {
        let mut fingerprints = BTreeMap::new();
        for clone in &report.clones {
            *fingerprints
                .entry(fingerprint_hex(clone.fingerprint))
                .or_insert(0) += 1;
        }
        Baseline {
            version: 1,
            fingerprints,
        }
    }

    /// Reads a baseline file.
    ///
    /// # Errors
    /// The file cannot be read, or is not a baseline (with the line of the problem).
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| Error::Baseline {
            path: path.to_path_buf(),
            line: e.line(),
            message: crate::error::json_message(&e),
        })?;
        if baseline.version != 1 {
            return Err(Error::Baseline {
                path: path.to_path_buf(),
                line: 1,
                message: format!("unsupported version {}", baseline.version),
            });
        }
        Ok(baseline)
    }

    /// Writes the baseline atomically (temporary file, then rename), pretty-printed and
    /// sorted so that it diffs well in version control.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        crate::cache::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }

    /// Marks as new every clone the baseline does not account for (the last ones in
    /// report order when there are more than it counted), and recounts the statistics.
    pub fn apply(&self, report: &mut Report) {
        self.mark(&mut report.clones, |_| false);
        recount(&mut report.statistics, &report.clones);
    }

    /// Marks clones new when the baseline does not account for them. Of the clones that
    /// share a fingerprint, those for which `prefer` holds are marked new first.
    pub fn mark(&self, clones: &mut [ClonePair], prefer: impl Fn(&ClonePair) -> bool) {
        let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, clone) in clones.iter().enumerate() {
            groups.entry(clone.fingerprint).or_default().push(i);
        }
        for (fingerprint, mut members) in groups {
            let known = self
                .fingerprints
                .get(&fingerprint_hex(fingerprint))
                .copied()
                .unwrap_or(0);
            members.sort_by_key(|&i| (std::cmp::Reverse(prefer(&clones[i])), std::cmp::Reverse(i)));
            let new = members.len().saturating_sub(known as usize);
            for (n, &i) in members.iter().enumerate() {
                clones[i].is_new = n < new;
            }
        }
    }
}
