//! Detection options, with jscpd's defaults.

use std::path::PathBuf;

use crate::baseline::Baseline;
use crate::lang::Language;
use crate::tokenize::TokenizeOptions;

/// Which tokens count, with jscpd's meaning of the modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Every token counts, whitespace inside lines too: indentation changes break a match.
    Strict,
    /// Whitespace and newlines are skipped; comments count (the default).
    #[default]
    Mild,
    /// Whitespace, newlines and comments are skipped (jscpd's `--skip-comments`).
    Weak,
}

impl Mode {
    /// `strict`, `mild` or `weak`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::Mild => "mild",
            Mode::Weak => "weak",
        }
    }

    /// Parses `strict`, `mild` or `weak`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "strict" => Some(Mode::Strict),
            "mild" => Some(Mode::Mild),
            "weak" => Some(Mode::Weak),
            _ => None,
        }
    }
}

/// The similarity bound of near-miss clones; see [`crate::near`].
pub const DEFAULT_NEAR_SIMILARITY: f64 = 0.8;

/// Everything that shapes one detection run.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Shortest clone, in tokens (jscpd `--min-tokens`, default 50).
    pub min_tokens: usize,
    /// Shortest clone, in lines (jscpd `--min-lines`, default 5).
    pub min_lines: usize,
    /// Files larger than this many bytes are skipped and counted (default 1 MiB).
    pub max_size: u64,
    /// Token normalization.
    pub tokenize: TokenizeOptions,
    /// File globs to leave out (matched against the path relative to the scanned root).
    pub ignore: Vec<String>,
    /// Only these languages; empty means all.
    pub languages: Vec<Language>,
    /// Respect `.gitignore`, `.ignore` and `.git/info/exclude` (default true).
    pub gitignore: bool,
    /// Also look for near-miss clones (see [`crate::near`]).
    pub near: bool,
    /// Lowest Jaccard similarity of a near-miss clone, in (0, 1].
    pub near_similarity: f64,
    /// Where the token cache lives (`<repo>/.fabrik/cache`); `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Clones this baseline accounts for are not new (see [`Baseline::mark`]).
    pub baseline: Option<Baseline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_tokens: 50,
            min_lines: 5,
            max_size: 1 << 20,
            tokenize: TokenizeOptions::default(),
            ignore: Vec::new(),
            languages: Vec::new(),
            gitignore: true,
            near: false,
            near_similarity: DEFAULT_NEAR_SIMILARITY,
            cache_dir: None,
            baseline: None,
        }
    }
}
