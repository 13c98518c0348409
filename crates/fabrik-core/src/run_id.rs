//! Run identifiers: sortable and readable, `YYYYMMDD-HHMMSS-xxxx`.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Identifier of one pipeline run. Sorts by start time; the four hex digits keep two runs
/// started in the same second apart.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// A new id for a run starting now.
    #[must_use]
    pub fn generate() -> RunId {
        let now = SystemTime::now();
        let stamp = crate::time::rfc3339(now); // 2026-11-24T13:06:17.123Z
        let digits: String = stamp
            .chars()
            .filter(char::is_ascii_digit)
            .take(14)
            .collect();
        let (date, time) = digits.split_at(8.min(digits.len()));
        // RandomState is seeded per process from the OS; mixing in the nanoseconds and pid
        // keeps ids unique across processes started in the same second.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            now.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        RunId(format!("{date}-{time}-{:04x}", h.finish() & 0xffff))
    }

    /// Accepts an id typed by a user: only `[0-9A-Za-z_-]`, 1..=64 characters, so it can
    /// never name a path outside `.fabrik/runs/`.
    #[must_use]
    pub fn parse(s: &str) -> Option<RunId> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| RunId(s.to_owned()))
    }

    /// The id as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_readable_and_distinct() {
        let a = RunId::generate();
        let b = RunId::generate();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.as_str().split('-').collect();
        assert_eq!(parts.len(), 3, "{a}");
        assert_eq!(parts[0].len(), 8);
        assert_eq!(parts[1].len(), 6);
        assert_eq!(parts[2].len(), 4);
        assert!(RunId::parse(a.as_str()).is_some());
    }

    #[test]
    fn parse_rejects_path_tricks() {
        assert!(RunId::parse("../etc").is_none());
        assert!(RunId::parse("a/b").is_none());
        assert!(RunId::parse("").is_none());
    }
}
