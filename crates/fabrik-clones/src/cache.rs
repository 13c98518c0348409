//! The incremental token cache in `<repo>/.fabrik/cache/`, one cache per tokenizer
//! configuration and window size.
//!
//! The *store* is keyed by content: an xxh3 hash of a file's bytes seeded with its
//! language. An entry holds the file's tokens, line starts and winnowed fingerprints. The
//! *stat index* maps each scanned path to its stat key (size, mtime, ctime, inode) and
//! content key, so a file whose stat is unchanged is not read at all; one whose stat
//! changed is read and hashed, and its tokens are reused when the content is known (a
//! fresh git worktree of the same commit is warm). A file modified less than [`RACY`]
//! before it was looked at is not put in the stat index (git's "racily clean" rule), so
//! an edit within the file system's timestamp granularity cannot hide behind a stat.
//!
//! A store file holds a header, an index of fixed-size entries and the fingerprints
//! (checksummed together and read whole: about a tenth of the store), then each entry's
//! tokens and line starts with their own checksum, read only when needed. So a warm
//! `--changed` run reads the stat index, the store's index and fingerprints, and the
//! tokens of the few files that may share code with the change.
//!
//! Two store files: a large *base* and a small *delta* holding the entries the base
//! lacks, so a warm run after a small edit rewrites only the delta. When the delta grows
//! past a quarter of the base, both are compacted into a new base holding the contents of
//! that run's files. The stat index (24 bytes per file) is rewritten when it changes.
//! Anything that does not check out is ignored and rebuilt, never an error. Writes go to
//! a temporary file that is renamed into place.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::tokenize::{Token, TokenizeOptions};
use crate::{Error, Result};

/// Bumped whenever the lexer changes what it emits or winnowing what it selects.
const LEXER_VERSION: u8 = 7;
/// The file format (2: stat index, lazy data) and the lexer version: a file with another
/// magic is from another fabrik and is removed when a new base is written.
const MAGIC: &[u8; 8] = &[b'F', b'B', b'K', b'C', b'L', b'N', 2, LEXER_VERSION];
/// Magic, options key, entry count, fingerprint bytes, checksum.
const HEADER: usize = 8 + 8 + 8 + 8 + 8;
/// content, data offset, data checksum, fingerprint offset (u64 each); token count, line
/// start count, lines, fingerprint count (u32 each).
const ENTRY: usize = 4 * 8 + 4 * 4;
/// path, stat, content.
const STAT_ENTRY: usize = 3 * 8;
const TOKEN: usize = 12;
const FINGERPRINT: usize = 12;
/// Files modified this recently are not trusted by their stat alone.
pub(crate) const RACY: Duration = Duration::from_secs(2);

/// One stored content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The content key.
    pub(crate) content: u64,
    data_offset: u64,
    data_sum: u64,
    fps_offset: u64,
    /// Number of tokens.
    pub(crate) tokens: u32,
    line_starts: u32,
    /// Lines as jscpd counts them.
    pub(crate) lines: u32,
    fps: u32,
}

impl Entry {
    fn data_len(&self) -> usize {
        self.tokens as usize * TOKEN + self.line_starts as usize * 4
    }
}

/// Which store file and which entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    delta: bool,
    entry: u32,
}

/// One store file: its index and fingerprints in memory, its data on disk.
struct Part {
    file: File,
    entries: Vec<Entry>,
    fps: Vec<u8>,
    tokens: usize,
}

/// What to store for one file.
pub(crate) struct Record<'a> {
    /// xxh3 of the path the file was read from.
    pub(crate) path: u64,
    /// The stat key, or 0 when the stat is not to be trusted.
    pub(crate) stat: u64,
    pub(crate) content: u64,
    pub(crate) lines: u32,
    pub(crate) data: RecordData<'a>,
}

/// Where a record's tokens are.
pub(crate) enum RecordData<'a> {
    /// In this store entry.
    Cached(Slot),
    /// Tokenized in this run.
    Fresh {
        tokens: &'a [Token],
        line_starts: &'a [u32],
        fingerprints: &'a [(u32, u64)],
    },
}

/// An open cache.
pub(crate) struct Cache {
    dir: PathBuf,
    key: u64,
    base: Option<Part>,
    delta: Option<Part>,
    by_content: HashMap<u64, Slot>,
    /// path -> (stat, content)
    stats: HashMap<u64, (u64, u64)>,
}

impl Cache {
    /// Opens the cache for `opts` and windows of `k` tokens in `dir`; a missing or corrupt
    /// cache opens empty.
    pub(crate) fn open(dir: &Path, opts: &TokenizeOptions, k: usize) -> Cache {
        let key = options_key(opts, k);
        let path = |kind| cache_path(dir, key, kind);
        let base = read_part(&path(Kind::Base), key);
        let (delta, stats) = match base {
            Some(_) => (
                read_part(&path(Kind::Delta), key),
                read_stats(&path(Kind::Stats), key).unwrap_or_default(),
            ),
            None => (None, HashMap::new()),
        };
        // The base wins over the delta for a content both hold.
        let mut by_content = HashMap::new();
        for (delta, part) in [(false, &base), (true, &delta)] {
            for (i, e) in part.iter().flat_map(|p| p.entries.iter().enumerate()) {
                let slot = Slot {
                    delta,
                    entry: i as u32,
                };
                by_content.entry(e.content).or_insert(slot);
            }
        }
        Cache {
            dir: dir.to_path_buf(),
            key,
            base,
            delta,
            by_content,
            stats,
        }
    }

    fn part(&self, delta: bool) -> Option<&Part> {
        if delta {
            self.delta.as_ref()
        } else {
            self.base.as_ref()
        }
    }

    fn path(&self, kind: Kind) -> PathBuf {
        cache_path(&self.dir, self.key, kind)
    }

    fn at(&self, slot: Slot) -> (&Part, Entry) {
        let part = self.part(slot.delta).expect("slots come from this cache");
        (part, part.entries[slot.entry as usize])
    }

    /// The entry at `slot`.
    pub(crate) fn entry(&self, slot: Slot) -> Entry {
        self.at(slot).1
    }

    /// The stored content of the file at `path` if its stat key is still `stat`.
    pub(crate) fn by_stat(&self, path: u64, stat: u64) -> Option<Slot> {
        match self.stats.get(&path) {
            Some(&(known, content)) if stat != 0 && known == stat => self.by_content(content),
            _ => None,
        }
    }

    /// The stored content with this content key.
    pub(crate) fn by_content(&self, content: u64) -> Option<Slot> {
        self.by_content.get(&content).copied()
    }

    /// The fingerprints of the entry at `slot`.
    pub(crate) fn fingerprints(&self, slot: Slot) -> Vec<(u32, u64)> {
        let (part, e) = self.at(slot);
        let from = e.fps_offset as usize;
        part.fps[from..from + e.fps as usize * FINGERPRINT]
            .chunks_exact(FINGERPRINT)
            .map(|raw| (u32_at(raw, 0), u64_at(raw, 4)))
            .collect()
    }

    /// The raw tokens and line starts of the entry at `slot`, if they check out.
    fn raw(&self, slot: Slot) -> Option<Vec<u8>> {
        let (part, e) = self.at(slot);
        let mut raw = vec![0u8; e.data_len()];
        part.file.read_exact_at(&mut raw, e.data_offset).ok()?;
        (xxh3_64(&raw) == e.data_sum).then_some(raw)
    }

    /// The tokens and line starts of the entry at `slot`; `None` if unreadable or corrupt.
    pub(crate) fn data(&self, slot: Slot) -> Option<(Vec<Token>, Vec<u32>)> {
        let e = self.entry(slot);
        let raw = self.raw(slot)?;
        let (tokens, starts) = raw.split_at(e.tokens as usize * TOKEN);
        let tokens = tokens
            .chunks_exact(TOKEN)
            .map(|t| Token {
                hash: u32_at(t, 0),
                start: u32_at(t, 4),
                end: u32_at(t, 8),
            })
            .collect();
        let starts = starts.chunks_exact(4).map(|s| u32_at(s, 0)).collect();
        Some((tokens, starts))
    }

    /// Stores `records`, one per scanned file: contents the base lacks in the delta while
    /// they are small next to the base, else everything in a new base (which drops the
    /// contents no scanned file has); then the stat index if it changed. Nothing is written
    /// when the cache already holds it all. Base entries unused by this run are kept until
    /// the next new base, so scanning a subdirectory does not evict the rest of the tree.
    pub(crate) fn save(&self, records: &[Record<'_>]) -> Result<()> {
        let mut seen = HashSet::new();
        let unique: Vec<&Record<'_>> = records.iter().filter(|r| seen.insert(r.content)).collect();
        let in_base = |r: &&Record<'_>| matches!(r.data, RecordData::Cached(s) if !s.delta);
        let fresh: Vec<&Record<'_>> = unique.iter().copied().filter(|r| !in_base(r)).collect();
        let delta_entries = self.delta.as_ref().map_or(0, |d| d.entries.len());
        let store_current = fresh.len() == delta_entries
            && fresh
                .iter()
                .all(|r| matches!(r.data, RecordData::Cached(s) if s.delta));
        let stats: HashMap<u64, (u64, u64)> = records
            .iter()
            .filter(|r| r.stat != 0)
            .map(|r| (r.path, (r.stat, r.content)))
            .collect();
        if store_current && stats == self.stats {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        // Keep the cache out of `git status` in repositories that do not ignore `.fabrik/`.
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            write_atomic(&ignore, |w| w.write_all(b"*\n"))?;
        }
        if !store_current {
            self.save_store(&unique, &fresh)?;
        }
        if stats != self.stats {
            self.save_stats(&stats)?;
        }
        Ok(())
    }

    fn save_store(&self, unique: &[&Record<'_>], fresh: &[&Record<'_>]) -> Result<()> {
        let base_tokens = self.base.as_ref().map_or(0, |b| b.tokens);
        let fresh_tokens: usize = fresh.iter().map(|r| self.token_count(r)).sum();
        if self.base.is_some() && fresh_tokens * 4 <= base_tokens {
            return self.write(&self.path(Kind::Delta), fresh);
        }
        self.write(&self.path(Kind::Base), unique)?;
        remove_outdated(&self.dir);
        match std::fs::remove_file(self.path(Kind::Delta)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(self.path(Kind::Delta), e))
            }
            _ => Ok(()),
        }
    }

    fn save_stats(&self, stats: &HashMap<u64, (u64, u64)>) -> Result<()> {
        let mut rows: Vec<(u64, u64, u64)> = stats.iter().map(|(&p, &(s, c))| (p, s, c)).collect();
        rows.sort_unstable();
        let mut out = self.header(rows.len(), 0, rows.len() * STAT_ENTRY);
        for (path, stat, content) in rows {
            for word in [path, stat, content] {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        seal(&mut out, &[]);
        write_atomic(&self.path(Kind::Stats), |w| w.write_all(&out))
    }

    /// A file's header (magic, options key, `count`, `extra`, checksum left at 0) in a
    /// buffer with room for `body` more bytes.
    fn header(&self, count: usize, extra: usize, body: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + body);
        out.extend_from_slice(MAGIC);
        for word in [self.key, count as u64, extra as u64, 0] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    fn token_count(&self, r: &Record<'_>) -> usize {
        match &r.data {
            RecordData::Cached(slot) => self.entry(*slot).tokens as usize,
            RecordData::Fresh { tokens, .. } => tokens.len(),
        }
    }

    /// Writes a store file of `records`, one entry at a time: the index goes in last, when
    /// every entry's checksum is known. A cached entry whose data no longer checks out is
    /// written as zeros under its old checksum, so it stays detectably corrupt.
    fn write(&self, path: &Path, records: &[&Record<'_>]) -> Result<()> {
        let mut entries = Vec::with_capacity(records.len());
        let mut fps = Vec::new();
        for r in records {
            let fps_offset = fps.len() as u64;
            let entry = match &r.data {
                RecordData::Cached(slot) => {
                    let (part, e) = self.at(*slot);
                    let from = e.fps_offset as usize;
                    fps.extend_from_slice(&part.fps[from..from + e.fps as usize * FINGERPRINT]);
                    Entry { fps_offset, ..e }
                }
                RecordData::Fresh {
                    tokens,
                    line_starts,
                    fingerprints,
                } => {
                    for (pos, hash) in *fingerprints {
                        fps.extend_from_slice(&pos.to_le_bytes());
                        fps.extend_from_slice(&hash.to_le_bytes());
                    }
                    // Counts fit in u32: a token is at least one byte and offsets are u32.
                    Entry {
                        content: r.content,
                        data_offset: 0,
                        data_sum: 0,
                        fps_offset,
                        tokens: tokens.len() as u32,
                        line_starts: line_starts.len() as u32,
                        lines: r.lines,
                        fps: fingerprints.len() as u32,
                    }
                }
            };
            entries.push(entry);
        }
        let mut offset = (HEADER + entries.len() * ENTRY + fps.len()) as u64;
        for e in &mut entries {
            e.data_offset = offset;
            offset += e.data_len() as u64;
        }
        write_atomic(path, |w| {
            w.write_all(&vec![0; HEADER + entries.len() * ENTRY])?;
            w.write_all(&fps)?;
            for (e, r) in entries.iter_mut().zip(records) {
                let bytes = match &r.data {
                    RecordData::Cached(slot) => {
                        self.raw(*slot).unwrap_or_else(|| vec![0; e.data_len()])
                    }
                    RecordData::Fresh {
                        tokens,
                        line_starts,
                        ..
                    } => {
                        let bytes = encode(tokens, line_starts);
                        e.data_sum = xxh3_64(&bytes);
                        bytes
                    }
                };
                w.write_all(&bytes)?;
            }
            let mut head = self.header(entries.len(), fps.len(), entries.len() * ENTRY);
            for e in &entries {
                for word in [e.content, e.data_offset, e.data_sum, e.fps_offset] {
                    head.extend_from_slice(&word.to_le_bytes());
                }
                for word in [e.tokens, e.line_starts, e.lines, e.fps] {
                    head.extend_from_slice(&word.to_le_bytes());
                }
            }
            seal(&mut head, &fps);
            w.seek(SeekFrom::Start(0))?;
            w.write_all(&head)
        })
    }
}

/// The raw bytes of an entry: tokens, then line starts, little-endian.
fn encode(tokens: &[Token], line_starts: &[u32]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(tokens.len() * TOKEN + line_starts.len() * 4);
    for t in tokens {
        raw.extend_from_slice(&t.hash.to_le_bytes());
        raw.extend_from_slice(&t.start.to_le_bytes());
        raw.extend_from_slice(&t.end.to_le_bytes());
    }
    for s in line_starts {
        raw.extend_from_slice(&s.to_le_bytes());
    }
    raw
}

/// The three files of a cache.
#[derive(Clone, Copy)]
enum Kind {
    Base,
    Delta,
    Stats,
}

fn cache_path(dir: &Path, key: u64, kind: Kind) -> PathBuf {
    let suffix = match kind {
        Kind::Base => ".bin",
        Kind::Delta => ".delta.bin",
        Kind::Stats => ".stat.bin",
    };
    dir.join(format!("clones-{key:016x}{suffix}"))
}

/// The checksum of a file whose header's last eight bytes hold it: of the header without
/// them, the rest of `file` and `more` (what follows `file` on disk).
fn checksum(file: &[u8], more: &[u8]) -> u64 {
    let mut sum = Xxh3::new();
    sum.update(&file[..HEADER - 8]);
    sum.update(&file[HEADER..]);
    sum.update(more);
    sum.digest()
}

/// Puts the [`checksum`] into the header of `file`.
fn seal(file: &mut [u8], more: &[u8]) {
    let sum = checksum(file, more);
    file[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
}

/// Removes cache files of an older format (left by an older fabrik): nothing reads them.
fn remove_outdated(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("clones-") && name.ends_with(".bin")) {
            continue;
        }
        let mut magic = [0u8; 8];
        let current = File::open(&path)
            .and_then(|f| f.read_exact_at(&mut magic, 0))
            .is_ok_and(|()| &magic == MAGIC);
        if !current {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The stat key of a file: 0 (never trusted) when its content or metadata changed less
/// than [`RACY`] before `now`.
pub(crate) fn stat_key(meta: &std::fs::Metadata, now: SystemTime) -> u64 {
    let Ok(modified) = meta.modified() else {
        return 0;
    };
    // ctime too: tools that restore the mtime (`cp -p`, `rsync -t`, tar) still move it.
    let changed = u64::try_from(meta.ctime())
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::new(s, meta.ctime_nsec() as u32));
    let newest = changed.map_or(modified, |c| c.max(modified));
    if now.duration_since(newest).map_or(true, |age| age < RACY) {
        return 0;
    }
    let mut bytes = [0u8; 48];
    for (i, word) in [
        meta.len(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
        meta.ino(),
    ]
    .into_iter()
    .enumerate()
    {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
    }
    xxh3_64(&bytes) | 1
}

/// The cache key of a tokenizer configuration and window size.
fn options_key(opts: &TokenizeOptions, k: usize) -> u64 {
    let text = format!(
        "{LEXER_VERSION}:{}:{}:{}:{k}",
        opts.mode.name(),
        opts.ignore_identifiers,
        opts.ignore_literals
    );
    xxh3_64(text.as_bytes())
}

/// Reads a cache file's index and fingerprints; `None` when missing, foreign or corrupt.
fn read_part(path: &Path, key: u64) -> Option<Part> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut header = [0u8; HEADER];
    file.read_exact_at(&mut header, 0).ok()?;
    if &header[..8] != MAGIC || u64_at(&header, 8) != key {
        return None;
    }
    let count = usize::try_from(u64_at(&header, 16)).ok()?;
    let fps_len = usize::try_from(u64_at(&header, 24)).ok()?;
    let index_len = count.checked_mul(ENTRY)?;
    if HEADER.checked_add(index_len)?.checked_add(fps_len)? as u64 > len {
        return None;
    }
    let mut index = vec![0u8; HEADER + index_len + fps_len];
    index[..HEADER].copy_from_slice(&header);
    file.read_exact_at(&mut index[HEADER..], HEADER as u64)
        .ok()?;
    if checksum(&index, &[]) != u64_at(&header, HEADER - 8) {
        return None;
    }
    let fps = index.split_off(HEADER + index_len);
    let index = &index[HEADER..];
    let mut tokens = 0;
    let mut entries = Vec::with_capacity(count);
    for raw in index.chunks_exact(ENTRY) {
        let word = |i: usize| u64_at(raw, i * 8);
        let small = |i: usize| u32_at(raw, 32 + i * 4);
        let e = Entry {
            content: word(0),
            data_offset: word(1),
            data_sum: word(2),
            fps_offset: word(3),
            tokens: small(0),
            line_starts: small(1),
            lines: small(2),
            fps: small(3),
        };
        let fps_end = (e.fps_offset as usize).checked_add(e.fps as usize * FINGERPRINT)?;
        let data_end = e.data_offset.checked_add(e.data_len() as u64)?;
        if fps_end > fps.len() || data_end > len {
            return None;
        }
        tokens += e.tokens as usize;
        entries.push(e);
    }
    Some(Part {
        file,
        entries,
        fps,
        tokens,
    })
}

/// Reads a stat index; `None` when missing, foreign or corrupt.
fn read_stats(path: &Path, key: u64) -> Option<HashMap<u64, (u64, u64)>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < HEADER || &bytes[..8] != MAGIC || u64_at(&bytes, 8) != key {
        return None;
    }
    let count = usize::try_from(u64_at(&bytes, 16)).ok()?;
    let body = &bytes[HEADER..];
    if count.checked_mul(STAT_ENTRY)? != body.len()
        || checksum(&bytes, &[]) != u64_at(&bytes, HEADER - 8)
    {
        return None;
    }
    Some(
        body.chunks_exact(STAT_ENTRY)
            .map(|r| (u64_at(r, 0), (u64_at(r, 8), u64_at(r, 16))))
            .collect(),
    )
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(word)
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&b[i..i + 4]);
    u32::from_le_bytes(word)
}

/// Writes to a temporary file beside `path` through `fill`, then renames it into place.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".tmp-{}-{nanos}", std::process::id()));
    let result = File::create(&tmp)
        .and_then(|f| {
            let mut w = BufWriter::with_capacity(1 << 20, f);
            fill(&mut w)?;
            w.flush()
        })
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

    /// A record of path `p` (stat `10p + 1`, content `100p`) tokenized in this run.
    fn fresh<'a>(p: u64, tokens: &'a [Token], fps: &'a [(u32, u64)]) -> Record<'a> {
        Record {
            path: p,
            stat: p * 10 + 1,
            content: p * 100,
            lines: tokens.len() as u32,
            data: RecordData::Fresh {
                tokens,
                line_starts: &[0, 5],
                fingerprints: fps,
            },
        }
    }

    fn modified(dir: &Path) -> Vec<(String, SystemTime)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, e.metadata().unwrap().modified().unwrap())
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn round_trip_base_then_delta() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TokenizeOptions::default();
        let (a, b, c) = (toks(100), toks(50), toks(3));
        let fps = [(3u32, 99u64), (7, 12)];
        Cache::open(dir.path(), &opts, 50)
            .save(&[fresh(1, &a, &fps), fresh(2, &b, &[])])
            .unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        let slot = cache.by_stat(1, 11).unwrap();
        assert_eq!(cache.data(slot), Some((a.clone(), vec![0, 5])));
        assert_eq!(cache.fingerprints(slot), fps);
        assert_eq!(cache.entry(slot).content, 100);
        assert_eq!(cache.by_stat(1, 12), None, "a changed stat misses");
        assert_eq!(cache.by_stat(1, 0), None, "an untrusted stat misses");
        assert_eq!(cache.by_stat(3, 31), None);
        assert!(cache.by_content(200).is_some());
        assert!(Cache::open(dir.path(), &opts, 40).by_content(100).is_none());

        // The same files again: nothing is written.
        let keep = |p: u64| Record {
            path: p,
            stat: p * 10 + 1,
            content: p * 100,
            lines: 1,
            data: RecordData::Cached(cache.by_stat(p, p * 10 + 1).unwrap()),
        };
        let before = modified(dir.path());
        std::thread::sleep(Duration::from_millis(20));
        cache.save(&[keep(1), keep(2)]).unwrap();
        assert_eq!(modified(dir.path()), before);

        // A scan of a subset rewrites the stat index only: the other contents stay.
        let store = std::fs::read(cache.path(Kind::Base)).unwrap();
        cache.save(&[keep(1)]).unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(std::fs::read(cache.path(Kind::Base)).unwrap(), store);
        assert!(cache.by_stat(2, 21).is_none());
        assert!(cache.by_content(200).is_some());
        let keep = |p: u64| Record {
            path: p,
            stat: p * 10 + 1,
            content: p * 100,
            lines: 1,
            data: RecordData::Cached(cache.by_content(p * 100).unwrap()),
        };

        // One small new file: it goes to the delta.
        cache.save(&[keep(1), keep(2), fresh(3, &c, &[])]).unwrap();
        assert!(cache.path(Kind::Delta).exists());
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(cache.data(cache.by_stat(3, 31).unwrap()).unwrap().0, c);
        assert_eq!(cache.data(cache.by_stat(2, 21).unwrap()).unwrap().0, b);

        // The same contents under other paths and stats (a new worktree): the store
        // stays, only the stat index is rewritten.
        let moved = |p: u64| Record {
            path: p + 1000,
            stat: p * 10 + 3,
            ..keep(p)
        };
        let store = std::fs::read(cache.path(Kind::Base)).unwrap();
        cache.save(&[moved(1), moved(2)]).unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(std::fs::read(cache.path(Kind::Base)).unwrap(), store);
        assert!(cache.by_stat(1001, 13).is_some());
        assert!(cache.by_stat(1, 11).is_none());
    }

    #[test]
    fn many_new_contents_compact_into_a_new_base() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TokenizeOptions::default();
        let (a, b) = (toks(10), toks(100));
        let cache = Cache::open(dir.path(), &opts, 50);
        cache.save(&[fresh(1, &a, &[])]).unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        let kept = Record {
            data: RecordData::Cached(cache.by_content(100).unwrap()),
            ..fresh(1, &a, &[])
        };
        cache.save(&[kept, fresh(2, &b, &[])]).unwrap();
        assert!(!cache.path(Kind::Delta).exists());
        let cache = Cache::open(dir.path(), &opts, 50);
        assert!(cache.base.as_ref().unwrap().entries.len() == 2);
        assert_eq!(cache.data(cache.by_content(100).unwrap()).unwrap().0, a);
        assert_eq!(cache.data(cache.by_content(200).unwrap()).unwrap().0, b);
    }

    #[test]
    fn corrupt_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TokenizeOptions::default();
        let a = toks(10);
        let cache = Cache::open(dir.path(), &opts, 50);
        cache.save(&[fresh(1, &a, &[(1, 2)])]).unwrap();
        let path = cache.path(Kind::Base);
        let clean = std::fs::read(&path).unwrap();

        // A flipped byte in the tokens: the index opens, the entry's data does not.
        let mut bytes = clean.clone();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(cache.data(cache.by_stat(1, 11).unwrap()), None);

        // A flipped byte in the index: nothing opens.
        let mut bytes = clean;
        bytes[HEADER + 3] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Cache::open(dir.path(), &opts, 50).by_content(100), None);

        // A corrupt stat index: contents are still found by content.
        cache.save(&[fresh(1, &a, &[])]).unwrap();
        std::fs::write(cache.path(Kind::Stats), b"garbage").unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(cache.by_stat(1, 11), None);
        assert!(cache.by_content(100).is_some());

        std::fs::write(&path, b"garbage").unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(cache.by_content(100), None);
        cache.save(&[fresh(1, &a, &[])]).unwrap();
        let cache = Cache::open(dir.path(), &opts, 50);
        assert_eq!(cache.data(cache.by_content(100).unwrap()).unwrap().0, a);
    }

    #[test]
    fn files_of_an_older_format_are_removed_with_a_new_base() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("clones-00000000000000aa.bin");
        std::fs::write(&old, b"FBKCLN01 old tokens").unwrap();
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, b"kept").unwrap();
        let cache = Cache::open(dir.path(), &TokenizeOptions::default(), 50);
        cache.save(&[fresh(1, &toks(5), &[])]).unwrap();
        assert!(!old.exists());
        assert!(other.exists());
        assert!(cache.path(Kind::Base).exists() && cache.path(Kind::Stats).exists());
    }

    proptest::proptest! {
        /// A store file with a valid header and checksum but arbitrary entries (what only a
        /// bug or a hand-made file could produce) opens and answers without panicking.
        #[test]
        fn arbitrary_entries_never_panic(
            entries in proptest::collection::vec(
                (0u64..4, 0u64..600, proptest::prelude::any::<u64>(), 0u64..100,
                 0u32..40, 0u32..40, proptest::prelude::any::<u32>(), 0u32..8),
                0..6,
            ),
            fps in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let opts = TokenizeOptions::default();
            let cache = Cache::open(dir.path(), &opts, 50);
            let mut file = cache.header(entries.len(), fps.len(), 0);
            for &(content, offset, sum, fps_offset, tokens, starts, lines, fp) in &entries {
                for word in [content, offset, sum, fps_offset] {
                    file.extend_from_slice(&word.to_le_bytes());
                }
                for word in [tokens, starts, lines, fp] {
                    file.extend_from_slice(&word.to_le_bytes());
                }
            }
            file.extend_from_slice(&fps);
            seal(&mut file, &[]);
            file.extend_from_slice(&data);
            std::fs::write(cache.path(Kind::Base), &file).unwrap();
            let cache = Cache::open(dir.path(), &opts, 50);
            for content in 0..4 {
                if let Some(slot) = cache.by_content(content) {
                    let _ = cache.fingerprints(slot);
                    let _ = cache.data(slot);
                    let _ = cache.entry(slot);
                }
            }
            let _ = cache.save(&[]);
        }
    }
}
