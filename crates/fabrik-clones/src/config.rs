//! `.jscpd.json`: the keys of jscpd's config file that fabrik honours. Other keys are
//! ignored (jscpd has many, and a shared config must keep working for both tools).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::lang::Language;
use crate::options::{Mode, Options};
use crate::{Error, Result};

/// The honoured keys of a `.jscpd.json`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JscpdConfig {
    /// `minTokens`
    pub min_tokens: Option<usize>,
    /// `minLines`
    pub min_lines: Option<usize>,
    /// `threshold`: fail above this percentage of duplicated lines.
    pub threshold: Option<f64>,
    /// `ignore`: globs.
    pub ignore: Option<Vec<String>>,
    /// `mode`: `strict`, `mild` or `weak`.
    pub mode: Option<ModeName>,
    /// `format`: languages to scan (jscpd's formats), a list or a comma-separated string.
    pub format: Option<Formats>,
    /// `ignoreIdentifiers`
    pub ignore_identifiers: Option<bool>,
    /// `ignoreLiterals`
    pub ignore_literals: Option<bool>,
    /// `gitignore`: respect `.gitignore` (default true).
    pub gitignore: Option<bool>,
}

/// A mode as written in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeName {
    /// `strict`
    Strict,
    /// `mild`
    Mild,
    /// `weak`
    Weak,
}

/// jscpd's `format`: `["python", "go"]` or `"python,go"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Formats {
    /// A list of names.
    List(Vec<String>),
    /// A comma-separated string.
    Joined(String),
}

impl JscpdConfig {
    /// The file name jscpd looks for.
    pub const FILE_NAME: &'static str = ".jscpd.json";

    /// Reads the first `.jscpd.json` found in `dirs`, in order.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed (with its line and column).
    pub fn find(dirs: &[&Path]) -> Result<Option<(PathBuf, JscpdConfig)>> {
        for dir in dirs {
            let path = dir.join(Self::FILE_NAME);
            if path.is_file() {
                let config = Self::load(&path)?;
                return Ok(Some((path, config)));
            }
        }
        Ok(None)
    }

    /// Reads and checks one config file.
    ///
    /// # Errors
    /// The file cannot be read, is not JSON of the expected shape, or names an unknown
    /// format.
    pub fn load(path: &Path) -> Result<JscpdConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: JscpdConfig = serde_json::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: crate::error::json_message(&e),
        })?;
        config.languages_in(path, &text)?;
        Ok(config)
    }

    fn languages_in(&self, path: &Path, text: &str) -> Result<Vec<Language>> {
        let names: Vec<String> = match &self.format {
            None => return Ok(Vec::new()),
            Some(Formats::List(list)) => list.clone(),
            Some(Formats::Joined(s)) => s.split(',').map(str::to_owned).collect(),
        };
        names
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|name| {
                Language::from_name(name).ok_or_else(|| {
                    let at = text.find(name.as_str()).unwrap_or(0);
                    let line = text[..at].matches('\n').count() + 1;
                    let column = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
                    Error::Config {
                        path: path.to_path_buf(),
                        line,
                        column,
                        message: format!("unknown format `{name}`"),
                    }
                })
            })
            .collect()
    }

    /// Applies the config to `opts` (callers apply command-line flags afterwards, so that
    /// flags win).
    pub fn apply(&self, opts: &mut Options) {
        if let Some(v) = self.min_tokens {
            opts.min_tokens = v;
        }
        if let Some(v) = self.min_lines {
            opts.min_lines = v;
        }
        if let Some(v) = &self.ignore {
            opts.ignore.extend(v.iter().cloned());
        }
        if let Some(m) = self.mode {
            opts.tokenize.mode = match m {
                ModeName::Strict => Mode::Strict,
                ModeName::Mild => Mode::Mild,
                ModeName::Weak => Mode::Weak,
            };
        }
        if let Ok(langs) = self.languages_in(Path::new(""), "") {
            opts.languages.extend(langs);
        }
        if let Some(v) = self.ignore_identifiers {
            opts.tokenize.ignore_identifiers = v;
        }
        if let Some(v) = self.ignore_literals {
            opts.tokenize.ignore_literals = v;
        }
        if let Some(v) = self.gitignore {
            opts.gitignore = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<JscpdConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JscpdConfig::FILE_NAME);
        std::fs::write(&path, text).unwrap();
        JscpdConfig::load(&path)
    }

    #[test]
    fn reads_the_honoured_keys() {
        let c = load(
            r#"{"minTokens": 30, "mode": "weak", "format": "python,go", "reporters": ["json"]}"#,
        )
        .unwrap();
        let mut opts = Options::default();
        c.apply(&mut opts);
        assert_eq!(opts.min_tokens, 30);
        assert_eq!(opts.tokenize.mode, Mode::Weak);
        assert_eq!(opts.languages, [Language::Python, Language::Go]);
    }

    #[test]
    fn malformed_config_names_file_and_line() {
        let err = load("{\n  \"minLines\": 5,\n  \"mode\": \"fuzzy\"\n}").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(".jscpd.json") && text.contains("line 3"),
            "{text}"
        );
        let err = load("{\n \"format\": [\"cobol\"]\n}").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
