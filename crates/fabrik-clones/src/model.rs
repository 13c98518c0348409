//! The result of a detection run: clone pairs, clone classes, statistics, skipped files.
//! The report writers (`report::*`) turn it into text, jscpd JSON or SARIF.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::lang::Language;

/// A position in a file, as jscpd writes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Loc {
    /// 1-based line.
    pub line: u32,
    /// 0-based column in bytes (jscpd's convention; text output adds 1).
    pub column: u32,
    /// 0-based byte offset in the file.
    pub position: u32,
}

/// One side of a clone: a file and the range from the first token's start to the last
/// token's end.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fragment {
    /// The file, relative to the working directory (or the repository in changed mode).
    pub name: String,
    /// Start of the first token.
    pub start: Loc,
    /// End of the last token (exclusive column and position).
    pub end: Loc,
}

impl Fragment {
    /// Number of lines from the first to the last line, both included.
    #[must_use]
    pub fn lines(&self) -> u32 {
        self.end.line.saturating_sub(self.start.line) + 1
    }

    /// Whether two fragments share at least one line of one file.
    #[must_use]
    pub fn overlaps(&self, other: &Fragment) -> bool {
        self.name == other.name
            && self.start.line <= other.end.line
            && other.start.line <= self.end.line
    }
}

/// What kind of copy a clone is (jscpd's `kind`, plus `near`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloneKind {
    /// The same tokens (comments and whitespace as the mode says).
    Exact,
    /// The same tokens once identifiers and/or literals are ignored, different as written.
    Renamed,
    /// A near-miss copy: a few statements added, removed or changed (`--near`).
    Near,
}

impl CloneKind {
    /// `exact`, `renamed` or `near`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CloneKind::Exact => "exact",
            CloneKind::Renamed => "renamed",
            CloneKind::Near => "near",
        }
    }
}

/// A pair of fragments with the same (normalized) tokens. `first` sorts before `second`;
/// when several copies exist, each later copy is paired with the first one, as jscpd does.
#[derive(Clone, Debug, PartialEq)]
pub struct ClonePair {
    /// The language of the first fragment.
    pub format: Language,
    /// Exact, renamed or near.
    pub kind: CloneKind,
    /// Lines of the first fragment.
    pub lines: u32,
    /// Tokens of the first fragment.
    pub tokens: u32,
    /// The earlier fragment (by path, then position).
    pub first: Fragment,
    /// The later fragment.
    pub second: Fragment,
    /// The text of the first fragment, from the start of its first line.
    pub fragment: String,
    /// Identifies the clone across line shifts, re-indentation and renames: a hash of both
    /// fragments' token texts (comments and whitespace left out), independent of order.
    pub fingerprint: u64,
    /// Not in the baseline (or, in changed mode, touching lines the diff adds).
    pub is_new: bool,
    /// Token-shingle Jaccard similarity: 1 for exact and renamed clones.
    pub similarity: f64,
}

/// All copies of one fragment: the first fragment and every fragment paired with it.
#[derive(Clone, Debug, PartialEq)]
pub struct CloneClass {
    /// The language of the first fragment.
    pub format: Language,
    /// Tokens of the first fragment.
    pub tokens: u32,
    /// Lines of the first fragment.
    pub lines: u32,
    /// The first fragment, then its copies in report order.
    pub fragments: Vec<Fragment>,
}

/// jscpd's statistics block, for all files or one format.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Clone pairs reported.
    pub clones: u64,
    /// Lines inside the second fragment of some clone, each line counted once.
    pub duplicated_lines: u64,
    /// Tokens of the clones, summed.
    pub duplicated_tokens: u64,
    /// Lines of all scanned files.
    pub lines: u64,
    /// Clones marked new.
    pub new_clones: u64,
    /// Lines inside the second fragment of some new clone.
    pub new_duplicated_lines: u64,
    /// `duplicatedLines / lines * 100`.
    pub percentage: f64,
    /// `duplicatedTokens / tokens * 100`.
    pub percentage_tokens: f64,
    /// Files scanned.
    pub sources: u64,
    /// Tokens of all scanned files.
    pub tokens: u64,
}

/// Statistics overall and per format.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Statistics {
    /// All formats together.
    pub total: Stats,
    /// Per format name.
    pub formats: BTreeMap<String, Stats>,
}

/// Why a file was not scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Larger than `max_size` (its size in bytes).
    TooLarge(u64),
    /// Contains NUL bytes.
    Binary,
    /// Could not be read (the error).
    Unreadable(String),
}

/// A file that was not scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file as found.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
}

/// How the token cache did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Files whose tokens came from the cache.
    pub hits: u64,
    /// Files tokenized.
    pub misses: u64,
    /// Of the hits, files whose stat the cache recognised: not read at all.
    pub unread: u64,
    /// Files whose tokens were never loaded (changed mode: no fingerprint in common with
    /// the change, so they cannot share a window with it).
    pub not_loaded: u64,
}

/// The result of one detection run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Clone pairs, sorted by first fragment, then second.
    pub clones: Vec<ClonePair>,
    /// Clone pairs grouped by their first fragment.
    pub classes: Vec<CloneClass>,
    /// jscpd's statistics.
    pub statistics: Statistics,
    /// Files left out, sorted by path.
    pub skipped: Vec<Skipped>,
    /// Token cache use.
    pub cache: CacheStats,
    /// Wall time of each phase (`walk`, `load`, `detect`, `report`, `near`), for `--verbose`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}
