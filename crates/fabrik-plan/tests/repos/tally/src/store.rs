//! The data file: one `name count` pair per line.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Counts per item name, backed by a text file.
pub struct Store {
    path: PathBuf,
    items: BTreeMap<String, u64>,
}

impl Store {
    /// Opens (or starts) the data file at `path`.
    pub fn open(path: &Path) -> io::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let items = text
            .lines()
            .filter_map(|l| l.rsplit_once(' '))
            .filter_map(|(n, c)| Some((n.to_owned(), c.parse().ok()?)))
            .collect();
        Ok(Self { path: path.to_path_buf(), items })
    }

    /// Adds one to `name`'s count and saves.
    pub fn add_item(&mut self, name: &str) {
        *self.items.entry(name.to_owned()).or_insert(0) += 1;
        self.save();
    }

    /// All items with their counts, sorted by name.
    pub fn list_items(&self) -> impl Iterator<Item = (&str, u64)> {
        self.items.iter().map(|(n, c)| (n.as_str(), *c))
    }

    fn save(&self) {
        let text: String = self.items.iter().map(|(n, c)| format!("{n} {c}\n")).collect();
        let _ = std::fs::write(&self.path, text);
    }
}
