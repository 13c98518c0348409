//! `fabrik.toml`: the model, its defaults and layered loading.
//!
//! Owns parsing and validation, with errors that carry file, line and column. The layers
//! are the embedded defaults ([`DEFAULT_TOML`], the seed's stage table) and the repo's
//! `fabrik.toml` (or `--config`); a key set in a higher layer wins. This crate does not
//! know how agents or gates run.

mod error;
mod model;
mod raw;

use std::path::{Path, PathBuf};

pub use error::{Error, Result};
pub use model::{
    AgentConfig, AgentKind, BUILTIN_GATES, Config, GateCommand, GateWhen, GatesConfig, PRESETS,
    PipelineConfig, PromptVia, RiskConfig, StageConfig, StagesConfig, WorkspaceMode,
};

/// The fully commented default configuration; `fabrik init` writes it and the docs quote it.
pub const DEFAULT_TOML: &str = include_str!("default-fabrik.toml");

/// File name looked up at the repository root.
pub const FILE_NAME: &str = "fabrik.toml";

/// Loads the configuration: defaults, then `explicit` (which must exist) or
/// `<root>/fabrik.toml` when present.
///
/// # Errors
/// A file that cannot be read, does not parse, has unknown keys or bad types, or names an
/// agent that is not defined: each with the file, line and column.
pub fn load(root: &Path, explicit: Option<&Path>) -> Result<Config> {
    let defaults = raw::parse(DEFAULT_TOML, Path::new("<built-in defaults>"))?;
    let (user, path) = match explicit {
        Some(p) => (Some(read(p)?), Some(p.to_path_buf())),
        None => {
            let p = root.join(FILE_NAME);
            if p.is_file() {
                (Some(read(&p)?), Some(p))
            } else {
                (None, None)
            }
        }
    };
    let merged = match &user {
        Some((text, p)) => defaults.merge(raw::parse(text, p)?),
        None => defaults,
    };
    model::resolve(
        merged,
        user.as_ref().map(|(t, p)| (t.as_str(), p.as_path())),
        path,
    )
}

/// Parses `text` as a `fabrik.toml` named `path` (for messages), over the defaults.
///
/// # Errors
/// As [`load`], without the read errors.
pub fn from_str(text: &str, path: &Path) -> Result<Config> {
    let defaults = raw::parse(DEFAULT_TOML, Path::new("<built-in defaults>"))?;
    let merged = defaults.merge(raw::parse(text, path)?);
    model::resolve(merged, Some((text, path)), Some(path.to_path_buf()))
}

fn read(path: &Path) -> Result<(String, PathBuf)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((text, path.to_path_buf()))
}

/// Parses a duration like `20m`, `90s` or `1h 30m`.
///
/// # Errors
/// When the text is not a duration.
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration `{text}`: {e} (try `90s`, `20m` or `1h`)"))
}

#[cfg(test)]
mod tests;
