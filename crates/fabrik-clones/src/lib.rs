//! `fabrik-clones`: the clone detector behind `fabrik dupes` and the pipeline's `clones` gate.
//!
//! It owns tokenizing source files (a table-driven lexer per language family), finding
//! token-window clones with a rolling hash extended to maximal matches, near-miss clones,
//! the diff-aware changed mode, baselines, the token cache, `.jscpd.json` and the report
//! formats (jscpd's JSON shape, SARIF 2.1.0, text). It does not own the command line
//! (`fabrik-cli`) or gate policy (`fabrik-gates`), and it never prints: reports are written
//! to a writer the caller gives.
//!
//! ```no_run
//! use std::path::{Path, PathBuf};
//! let opts = fabrik_clones::Options::default();
//! let report = fabrik_clones::detect(Path::new("."), &[PathBuf::from("src")], &opts)?;
//! for clone in &report.clones {
//!     let (a, b) = (&clone.first, &clone.second);
//!     let _ = (a.name.as_str(), a.start.line, b.name.as_str(), b.start.line);
//! }
//! # Ok::<(), fabrik_clones::Error>(())
//! ```

mod baseline;
mod build;
mod cache;
mod changed;
mod config;
mod detect;
mod error;
mod lang;
mod load;
mod model;
pub mod near;
mod options;
pub mod report;
mod scan;
pub mod tokenize;
mod walk;

pub use baseline::{Baseline, fingerprint_hex};
pub use changed::{AddedLines, added_lines, detect_changed, toplevel};
pub use config::{Formats, JscpdConfig, ModeName};
pub use error::{Error, Result};
pub use lang::Language;
pub use model::{
    CacheStats, CloneClass, CloneKind, ClonePair, Fragment, Loc, Report, SkipReason, Skipped,
    Statistics, Stats,
};
pub use options::{DEFAULT_NEAR_SIMILARITY, Mode, Options};
pub use scan::{detect, detect_sources};
pub use tokenize::{Token, TokenizeOptions, tokenize};
