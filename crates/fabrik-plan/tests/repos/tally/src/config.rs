//! `tally.toml`: where the data file lives.

use std::fmt;
use std::path::{Path, PathBuf};

/// The settings of one tally.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data file.
    pub data_path: PathBuf,
}

/// Why the configuration could not be read.
#[derive(Debug)]
pub enum ConfigError {
    /// The file exists but could not be read.
    Unreadable(std::io::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(e) => write!(f, "cannot read tally.toml: {e}"),
        }
    }
}

/// Reads `path`; a missing file means the defaults.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_config(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config { data_path: PathBuf::from("tally.txt") }),
        Err(e) => Err(ConfigError::Unreadable(e)),
    }
}

fn parse_config(text: &str) -> Config {
    let data_path = text
        .lines()
        .find_map(|l| l.strip_prefix("data = "))
        .map_or_else(|| PathBuf::from("tally.txt"), |v| PathBuf::from(v.trim_matches('"')));
    Config { data_path }
}
