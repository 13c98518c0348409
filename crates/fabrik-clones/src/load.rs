//! Reading and tokenizing the walked files in parallel, through the cache. Binary files
//! (NUL bytes), files over the size cap and unreadable files are skipped and counted.
//! Content is dropped once tokenized: only tokens, line starts and fingerprints stay.
//!
//! Loading is lazy: a file whose stat is unchanged since the cache recorded it is not
//! read, and its tokens stay in the cache until [`Corpus::ensure_loaded`] asks for them.
//! Its fingerprints, line count and token count are known at once, which is all a
//! `--changed` run needs to decide which files may share code with the change.

use std::time::SystemTime;

use memchr::memchr_iter;
use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::cache::{Cache, Record, RecordData, Slot, stat_key};
use crate::detect::fingerprints;
use crate::lang::Language;
use crate::model::{CacheStats, SkipReason, Skipped};
use crate::options::Options;
use crate::tokenize::{Token, tokenize};
use crate::walk::{SourceFile, Walked};

/// The tokens of one file and where its lines start.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileTokens {
    /// Empty until loaded (see [`FileTokens::loaded`]).
    pub(crate) tokens: Vec<Token>,
    /// Byte offset of the start of each line; `line_starts[0] == 0`. Empty until loaded.
    pub(crate) line_starts: Vec<u32>,
    /// Lines as jscpd counts them (a final newline does not open a line).
    pub(crate) lines: u32,
    /// Number of tokens, known before they are loaded.
    pub(crate) token_count: usize,
    /// xxh3 of the content, seeded with the language: the cache key.
    pub(crate) content_key: u64,
    /// Winnowed fingerprints for windows of `min_tokens` (see [`fingerprints`]).
    pub(crate) fingerprints: Option<Vec<(u32, u64)>>,
    /// The cache entry holding the tokens while they are not loaded.
    pub(crate) pending: Option<Slot>,
    /// The cache entry the tokens came from (`None`: tokenized in this run).
    pub(crate) origin: Option<Slot>,
    /// Cache bookkeeping: hashes of the path and of the stat.
    pub(crate) path_key: u64,
    pub(crate) stat: u64,
}

impl FileTokens {
    /// The 1-based line of byte offset `pos`.
    pub(crate) fn line_of(&self, pos: u32) -> u32 {
        self.line_starts.partition_point(|&s| s <= pos) as u32
    }

    /// Whether the tokens and line starts are in memory.
    pub(crate) fn loaded(&self) -> bool {
        self.pending.is_none()
    }

    /// Tokenizes `bytes` as `lang`: tokens, line starts and fingerprints.
    fn tokenized(lang: Language, bytes: &[u8], opts: &Options) -> FileTokens {
        Self::tokenized_as(lang, bytes, content_key(lang, bytes), opts)
    }

    /// [`FileTokens::tokenized`] with the content key already known.
    fn tokenized_as(lang: Language, bytes: &[u8], key: u64, opts: &Options) -> FileTokens {
        let tokens = tokenize(lang, bytes, &opts.tokenize);
        let (line_starts, lines) = line_starts(bytes);
        FileTokens {
            fingerprints: Some(fingerprints(&tokens, opts.min_tokens.max(1), lang)),
            token_count: tokens.len(),
            tokens,
            line_starts,
            lines,
            content_key: key,
            ..FileTokens::default()
        }
    }
}

/// The scanned files, parallel to their tokens.
#[derive(Default)]
pub(crate) struct Corpus {
    pub(crate) files: Vec<SourceFile>,
    /// The language of each file (parallel to `files`).
    pub(crate) langs: Vec<Language>,
    pub(crate) tokens: Vec<FileTokens>,
    /// File contents when the sources came from memory; empty when they are on disk.
    pub(crate) memory: Vec<Vec<u8>>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) cache: CacheStats,
    store: Option<Cache>,
}

enum Loaded {
    File(FileTokens, Source),
    Skip(SkipReason),
}

/// Where a file's tokens came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The cache, without reading the file (its stat is unchanged).
    Unread,
    /// The cache, after reading and hashing the file.
    Cached,
    /// The tokenizer.
    Tokenized,
}

/// Stats every walked file and reads those the cache does not know (or knows under
/// another stat), tokenizing those whose content it does not know either. Every file
/// gets its fingerprints; the tokens of unchanged files stay in the cache.
pub(crate) fn load(walked: Walked, opts: &Options) -> Corpus {
    let k = opts.min_tokens.max(1);
    let store = opts
        .cache_dir
        .as_ref()
        .map(|dir| Cache::open(dir, &opts.tokenize, k));
    let now = SystemTime::now();
    let results: Vec<Loaded> = walked
        .files
        .par_iter()
        .map(|f| load_one(f, opts, store.as_ref(), now))
        .collect();
    let mut corpus = Corpus {
        skipped: walked.skipped,
        store,
        ..Corpus::default()
    };
    for (file, result) in walked.files.into_iter().zip(results) {
        match result {
            Loaded::File(tokens, source) => {
                let counter = if source == Source::Tokenized {
                    &mut corpus.cache.misses
                } else {
                    &mut corpus.cache.hits
                };
                *counter += 1;
                corpus.cache.unread += u64::from(source == Source::Unread);
                corpus.langs.push(file.lang);
                corpus.files.push(file);
                corpus.tokens.push(tokens);
            }
            Loaded::Skip(reason) => corpus.skipped.push(Skipped {
                path: file.name,
                reason,
            }),
        }
    }
    corpus.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    corpus
}

fn load_one(file: &SourceFile, opts: &Options, cache: Option<&Cache>, now: SystemTime) -> Loaded {
    let meta = match std::fs::metadata(&file.path) {
        Ok(meta) if meta.len() > opts.max_size => {
            return Loaded::Skip(SkipReason::TooLarge(meta.len()));
        }
        Ok(meta) => meta,
        Err(e) => return Loaded::Skip(SkipReason::Unreadable(e.to_string())),
    };
    // The keys only serve the cache.
    let (path_key, stat) = match cache {
        Some(_) => (
            xxh3_64(file.path.as_os_str().as_encoded_bytes()),
            stat_key(&meta, now),
        ),
        None => (0, 0),
    };
    if let Some(cache) = cache
        && let Some(slot) = cache.by_stat(path_key, stat)
    {
        return Loaded::File(pending(cache, slot, path_key, stat), Source::Unread);
    }
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(e) => return Loaded::Skip(SkipReason::Unreadable(e.to_string())),
    };
    if bytes.len() as u64 > opts.max_size {
        return Loaded::Skip(SkipReason::TooLarge(bytes.len() as u64));
    }
    if memchr::memchr(0, &bytes).is_some() {
        return Loaded::Skip(SkipReason::Binary);
    }
    let key = content_key(file.lang, &bytes);
    if let Some(cache) = cache
        && let Some(slot) = cache.by_content(key)
    {
        return Loaded::File(pending(cache, slot, path_key, stat), Source::Cached);
    }
    let tokens = FileTokens {
        path_key,
        stat,
        ..FileTokens::tokenized_as(file.lang, &bytes, key, opts)
    };
    Loaded::File(tokens, Source::Tokenized)
}

/// The cache key of a file's content.
fn content_key(lang: Language, bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, lang as u64)
}

/// A file whose tokens stay in cache entry `slot` until they are needed.
fn pending(cache: &Cache, slot: Slot, path_key: u64, stat: u64) -> FileTokens {
    let entry = cache.entry(slot);
    FileTokens {
        lines: entry.lines,
        token_count: entry.tokens as usize,
        content_key: entry.content,
        fingerprints: Some(cache.fingerprints(slot)),
        pending: Some(slot),
        origin: Some(slot),
        path_key,
        stat,
        ..FileTokens::default()
    }
}

impl Corpus {
    /// The content of file `f`: from memory, or read again from disk (empty if unreadable).
    pub(crate) fn content(&self, f: usize) -> Vec<u8> {
        match self.memory.get(f) {
            Some(bytes) => bytes.clone(),
            None => std::fs::read(&self.files[f].path).unwrap_or_default(),
        }
    }

    /// Loads the tokens of `files` that are still in the cache. Tokens that no longer
    /// check out there are read from the source again.
    pub(crate) fn ensure_loaded(&mut self, files: &[usize], opts: &Options) {
        let mut wanted = vec![false; self.tokens.len()];
        for &f in files {
            wanted[f] = true;
        }
        let store = self.store.as_ref();
        let sources = &self.files;
        self.tokens
            .par_iter_mut()
            .enumerate()
            .filter(|(f, _)| wanted[*f])
            .for_each(|(f, ft)| {
                let Some(slot) = ft.pending.take() else {
                    return;
                };
                if let Some((tokens, starts)) = store.and_then(|s| s.data(slot)) {
                    ft.tokens = tokens;
                    ft.line_starts = starts;
                    return;
                }
                // Keyed by what is read now: the file may have changed since it was
                // statted, and a wrong key would poison the cache.
                let bytes = std::fs::read(&sources[f].path).unwrap_or_default();
                *ft = FileTokens {
                    path_key: ft.path_key,
                    ..FileTokens::tokenized(sources[f].lang, &bytes, opts)
                };
            });
    }

    /// Loads every file's tokens.
    pub(crate) fn load_all(&mut self, opts: &Options) {
        let all: Vec<usize> = (0..self.tokens.len()).collect();
        self.ensure_loaded(&all, opts);
    }

    /// Records every file in the cache. The cache is an optimisation: failing to write it
    /// must not fail the run.
    pub(crate) fn save_cache(&self) {
        let Some(store) = &self.store else {
            return;
        };
        let records: Vec<Record<'_>> = self
            .tokens
            .iter()
            .map(|ft| Record {
                path: ft.path_key,
                stat: ft.stat,
                content: ft.content_key,
                lines: ft.lines,
                data: match ft.origin {
                    Some(slot) => RecordData::Cached(slot),
                    None => RecordData::Fresh {
                        tokens: &ft.tokens,
                        line_starts: &ft.line_starts,
                        fingerprints: ft.fingerprints.as_deref().unwrap_or_default(),
                    },
                },
            })
            .collect();
        let _ = store.save(&records);
    }
}

/// Tokenizes in-memory sources, sorted by name.
pub(crate) fn load_memory(mut sources: Vec<(String, Language, Vec<u8>)>, opts: &Options) -> Corpus {
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    sources.dedup_by(|a, b| a.0 == b.0);
    let tokens: Vec<FileTokens> = sources
        .par_iter()
        .map(|(_, lang, bytes)| FileTokens::tokenized(*lang, bytes, opts))
        .collect();
    let mut corpus = Corpus {
        tokens,
        ..Corpus::default()
    };
    for (name, lang, bytes) in sources {
        corpus.files.push(SourceFile {
            path: name.clone().into(),
            name,
            lang,
        });
        corpus.langs.push(lang);
        corpus.memory.push(bytes);
    }
    corpus
}

/// Line start offsets and jscpd's line count of `bytes`.
pub(crate) fn line_starts(bytes: &[u8]) -> (Vec<u32>, u32) {
    let mut starts = Vec::with_capacity(bytes.len() / 32 + 1);
    starts.push(0);
    starts.extend(memchr_iter(b'\n', bytes).map(|p| p as u32 + 1));
    let newlines = starts.len() as u32 - 1;
    let lines = newlines + u32::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'));
    (starts, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_like_jscpd() {
        assert_eq!(line_starts(b"a\nb\n").1, 2);
        assert_eq!(line_starts(b"a\n\n\nc\nd").1, 5);
        assert_eq!(line_starts(b"").1, 0);
        let (starts, _) = line_starts(b"ab\ncd\n");
        let ft = FileTokens {
            line_starts: starts,
            ..FileTokens::default()
        };
        assert_eq!(
            (ft.line_of(0), ft.line_of(2), ft.line_of(3), ft.line_of(5)),
            (1, 1, 2, 2)
        );
    }
}
