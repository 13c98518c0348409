//! The incremental token cache in `<repo>/.fabrik/cache/`, keyed by an xxh3 hash of each
//! file's content and language, one cache per tokenizer configuration.
//!
//! Two files: a large *base* and a small *delta* holding entries the base lacks, so a warm
//! run after a small edit rewrites only the delta. When the delta grows past a quarter of
//! the base (or the base holds many stale entries) both are compacted into a new base.
//! Every file ends in an xxh3 checksum; anything that does not check out is ignored and
//! rebuilt, never an error. Writes go to a temporary file that is renamed into place.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use crate::tokenize::{Token, TokenizeOptions};
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"FBKCLN01";
/// Bumped whenever the lexer changes what it emits.
const LEXER_VERSION: u32 = 6;
const HEADER: usize = 8 + 8 + 4;

/// An indexed entry: content key, byte offset of its first token, token count.
type Entry = (u64, usize, usize);

/// An open cache: the raw bytes of base and delta and an index into them.
pub(crate) struct Cache {
    dir: PathBuf,
    key: u64,
    base: Vec<u8>,
    delta: Vec<u8>,
    /// content key -> (in delta?, byte offset of the first token, token count)
    index: HashMap<u64, (bool, usize, usize)>,
    base_keys: usize,
    base_tokens: usize,
}

impl Cache {
    /// Opens the cache for `opts` in `dir`; a missing or corrupt cache opens empty.
    pub(crate) fn open(dir: &Path, opts: &TokenizeOptions) -> Cache {
        let key = options_key(opts);
        let mut cache = Cache {
            dir: dir.to_path_buf(),
            key,
            base: Vec::new(),
            delta: Vec::new(),
            index: HashMap::new(),
            base_keys: 0,
            base_tokens: 0,
        };
        if let Some((bytes, entries)) = read_valid(&cache.path(false), key) {
            cache.base_keys = entries.len();
            for (content, offset, count) in entries {
                cache.base_tokens += count;
                cache.index.insert(content, (false, offset, count));
            }
            cache.base = bytes;
            if let Some((bytes, entries)) = read_valid(&cache.path(true), key) {
                for (content, offset, count) in entries {
                    cache.index.entry(content).or_insert((true, offset, count));
                }
                cache.delta = bytes;
            }
        }
        cache
    }

    fn path(&self, delta: bool) -> PathBuf {
        let suffix = if delta { ".delta" } else { "" };
        self.dir
            .join(format!("clones-{:016x}{suffix}.bin", self.key))
    }

    /// The cached tokens of a file whose content key is `content`.
    pub(crate) fn get(&self, content: u64) -> Option<Vec<Token>> {
        let &(in_delta, offset, count) = self.index.get(&content)?;
        let bytes = if in_delta { &self.delta } else { &self.base };
        let raw = bytes.get(offset..offset + count * 12)?;
        Some(raw.chunks_exact(12).map(decode_token).collect())
    }

    /// Stores the current files' tokens: the delta if the base still covers most of them,
    /// else a new base. Nothing is written when the cache already holds them all.
    pub(crate) fn save(&self, entries: &[(u64, &[Token])]) -> Result<()> {
        let in_base = |k: &u64| matches!(self.index.get(k), Some((false, ..)));
        let mut seen = HashSet::new();
        let fresh: Vec<_> = entries
            .iter()
            .filter(|(k, _)| !in_base(k) && seen.insert(*k))
            .copied()
            .collect();
        let used_base = entries.iter().filter(|(k, _)| in_base(k)).map(|(k, _)| *k);
        let stale = self
            .base_keys
            .saturating_sub(used_base.collect::<HashSet<_>>().len());
        let fresh_tokens: usize = fresh.iter().map(|(_, t)| t.len()).sum();
        let delta_keys = self.index.values().filter(|(d, ..)| *d).count();
        if fresh.is_empty() && stale == 0 && delta_keys == 0 {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        // Keep the cache out of `git status` in repositories that do not ignore `.fabrik/`.
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            write_atomic(&ignore, b"*\n")?;
        }
        if self.base_keys > 0 && fresh_tokens * 4 <= self.base_tokens && stale * 4 <= self.base_keys
        {
            let unchanged = fresh.len() == delta_keys
                && fresh
                    .iter()
                    .all(|(k, _)| matches!(self.index.get(k), Some((true, ..))));
            if unchanged {
                return Ok(());
            }
            return write_atomic(&self.path(true), &encode(self.key, &fresh));
        }
        let mut seen = HashSet::new();
        let all: Vec<_> = entries
            .iter()
            .filter(|(k, _)| seen.insert(*k))
            .copied()
            .collect();
        write_atomic(&self.path(false), &encode(self.key, &all))?;
        match std::fs::remove_file(self.path(true)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(self.path(true), e))
            }
            _ => Ok(()),
        }
    }
}

/// The cache key of a tokenizer configuration.
fn options_key(opts: &TokenizeOptions) -> u64 {
    let text = format!(
        "{LEXER_VERSION}:{}:{}:{}",
        opts.mode.name(),
        opts.ignore_identifiers,
        opts.ignore_literals
    );
    xxh3_64(text.as_bytes())
}

fn decode_token(raw: &[u8]) -> Token {
    let word = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    Token {
        hash: word(0),
        start: word(4),
        end: word(8),
    }
}

fn encode(key: u64, entries: &[(u64, &[Token])]) -> Vec<u8> {
    let tokens: usize = entries.iter().map(|(_, t)| t.len()).sum();
    let mut out = Vec::with_capacity(HEADER + entries.len() * 12 + tokens * 12 + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key.to_le_bytes());
    // Counts fit in u32: a token is at least one byte and offsets are u32.
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (content, toks) in entries {
        out.extend_from_slice(&content.to_le_bytes());
        out.extend_from_slice(&(toks.len() as u32).to_le_bytes());
        for t in *toks {
            out.extend_from_slice(&t.hash.to_le_bytes());
            out.extend_from_slice(&t.start.to_le_bytes());
            out.extend_from_slice(&t.end.to_le_bytes());
        }
    }
    let sum = xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Reads a cache file and indexes it; `None` when missing, foreign or corrupt.
fn read_valid(path: &Path, key: u64) -> Option<(Vec<u8>, Vec<Entry>)> {
    let bytes = std::fs::read(path).ok()?;
    let body_len = bytes.len().checked_sub(8)?;
    let (body, sum) = bytes.split_at(body_len);
    if body.len() < HEADER || &body[..8] != MAGIC || u64_at(body, 8)? != key {
        return None;
    }
    if u64_at(sum, 0)? != xxh3_64(body) {
        return None;
    }
    let count = u32_at(body, 16)? as usize;
    let mut entries = Vec::with_capacity(count.min(body.len() / 12));
    let mut at = HEADER;
    for _ in 0..count {
        let content = u64_at(body, at)?;
        let n = u32_at(body, at + 8)? as usize;
        let start = at + 12;
        at = start.checked_add(n.checked_mul(12)?)?;
        if at > body.len() {
            return None;
        }
        entries.push((content, start, n));
    }
    (at == body.len()).then_some((bytes, entries))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".tmp-{}-{nanos}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(n: u32) -> Vec<Token> {
        (0..n)
            .map(|i| Token {
                hash: i * 7,
                start: i,
                end: i + 1,
            })
            .collect()
    }

    #[test]
    fn round_trip_base_then_delta() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TokenizeOptions::default();
        let (a, b, c) = (toks(100), toks(50), toks(3));
        Cache::open(dir.path(), &opts)
            .save(&[(1, &a), (2, &b)])
            .unwrap();
        let cache = Cache::open(dir.path(), &opts);
        assert_eq!(cache.get(1), Some(a.clone()));
        assert_eq!(cache.get(3), None);
        cache.save(&[(1, &a), (2, &b), (3, &c)]).unwrap();
        assert!(
            cache.path(true).exists(),
            "a small change goes to the delta"
        );
        let cache = Cache::open(dir.path(), &opts);
        assert_eq!(cache.get(3), Some(c));
        assert_eq!(cache.get(2), Some(b));
    }

    #[test]
    fn corrupt_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TokenizeOptions::default();
        let a = toks(10);
        let cache = Cache::open(dir.path(), &opts);
        cache.save(&[(1, &a)]).unwrap();
        let path = cache.path(false);
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Cache::open(dir.path(), &opts).get(1), None);
        std::fs::write(&path, b"garbage").unwrap();
        let cache = Cache::open(dir.path(), &opts);
        assert_eq!(cache.get(1), None);
        cache.save(&[(1, &a)]).unwrap();
        assert_eq!(Cache::open(dir.path(), &opts).get(1), Some(a));
    }
}
