//! Report writers: jscpd's JSON shape (`json`), SARIF 2.1.0 (`sarif`) and text (`text`).
//! Each writes to a given writer; the library never prints.

mod json;
mod sarif;
mod text;

pub use json::write_json;
pub use sarif::write_sarif;
pub use text::{TextOptions, write_text};

use crate::model::{ClonePair, Report};

/// The clones to list: all of them, or the `most` largest (by lines, then tokens) in
/// report order.
pub(crate) fn listed(report: &Report, most: Option<usize>) -> Vec<&ClonePair> {
    let mut clones: Vec<&ClonePair> = report.clones.iter().collect();
    if let Some(n) = most.filter(|&n| n < clones.len()) {
        let mut order: Vec<usize> = (0..clones.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse((clones[i].lines, clones[i].tokens)), i));
        order.truncate(n);
        order.sort_unstable();
        clones = order.into_iter().map(|i| &report.clones[i]).collect();
    }
    clones
}
