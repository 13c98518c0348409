//! Reading and tokenizing the walked files in parallel, through the cache. Binary files
//! (NUL bytes), files over the size cap and unreadable files are skipped and counted.
//! Content is dropped once tokenized: only tokens and line starts stay in memory.

use memchr::memchr_iter;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::cache::Cache;
use crate::detect::fingerprints;
use crate::lang::Language;
use crate::model::{CacheStats, SkipReason, Skipped};
use crate::options::Options;
use crate::tokenize::{Token, tokenize};
use crate::walk::{SourceFile, Walked};

/// The tokens of one file and where its lines start.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileTokens {
    pub(crate) tokens: Vec<Token>,
    /// Byte offset of the start of each line; `line_starts[0] == 0`.
    pub(crate) line_starts: Vec<u32>,
    /// Lines as jscpd counts them (a final newline does not open a line).
    pub(crate) lines: u32,
    /// xxh3 of the content, seeded with the language: the cache key.
    pub(crate) content_key: u64,
    /// Winnowed fingerprints for a full scan, computed right after tokenizing.
    pub(crate) fingerprints: Option<Vec<(u32, u64)>>,
}

impl FileTokens {
    /// The 1-based line of byte offset `pos`.
    pub(crate) fn line_of(&self, pos: u32) -> u32 {
        self.line_starts.partition_point(|&s| s <= pos) as u32
    }
}

/// The scanned files, parallel to their tokens.
#[derive(Debug, Default)]
pub(crate) struct Corpus {
    pub(crate) files: Vec<SourceFile>,
    /// The language of each file (parallel to `files`).
    pub(crate) langs: Vec<Language>,
    pub(crate) tokens: Vec<FileTokens>,
    /// File contents when the sources came from memory; empty when they are on disk.
    pub(crate) memory: Vec<Vec<u8>>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) cache: CacheStats,
}

enum Loaded {
    File(FileTokens, bool),
    Skip(SkipReason),
}

/// Reads and tokenizes every walked file; the cache (if any) is read and then updated.
/// With `winnow`, each file's fingerprints for a full scan are computed too.
pub(crate) fn load(walked: Walked, opts: &Options, winnow: bool) -> Corpus {
    let cache = opts
        .cache_dir
        .as_ref()
        .map(|dir| Cache::open(dir, &opts.tokenize));
    let results: Vec<Loaded> = walked
        .files
        .par_iter()
        .map(|f| load_one(f, opts, cache.as_ref(), winnow))
        .collect();
    let mut corpus = Corpus {
        skipped: walked.skipped,
        ..Corpus::default()
    };
    for (file, result) in walked.files.into_iter().zip(results) {
        match result {
            Loaded::File(tokens, hit) => {
                let counter = if hit {
                    &mut corpus.cache.hits
                } else {
                    &mut corpus.cache.misses
                };
                *counter += 1;
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
    if let Some(cache) = cache {
        let entries: Vec<_> = corpus
            .tokens
            .iter()
            .map(|t| (t.content_key, t.tokens.as_slice()))
            .collect();
        // The cache is an optimisation: failing to write it must not fail the run.
        let _ = cache.save(&entries);
    }
    corpus
}

fn load_one(file: &SourceFile, opts: &Options, cache: Option<&Cache>, winnow: bool) -> Loaded {
    match std::fs::metadata(&file.path) {
        Ok(meta) if meta.len() > opts.max_size => {
            return Loaded::Skip(SkipReason::TooLarge(meta.len()));
        }
        Ok(_) => {}
        Err(e) => return Loaded::Skip(SkipReason::Unreadable(e.to_string())),
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
    let content_key = xxh3_64_with_seed(&bytes, file.lang as u64);
    let cached = cache.and_then(|c| c.get(content_key));
    let hit = cached.is_some();
    let tokens = cached.unwrap_or_else(|| tokenize(file.lang, &bytes, &opts.tokenize));
    let (line_starts, lines) = line_starts(&bytes);
    let fingerprints = winnow.then(|| fingerprints(&tokens, opts.min_tokens.max(1), file.lang));
    let tokens = FileTokens {
        tokens,
        line_starts,
        lines,
        content_key,
        fingerprints,
    };
    Loaded::File(tokens, hit)
}

/// Tokenizes in-memory sources, sorted by name.
pub(crate) fn load_memory(mut sources: Vec<(String, Language, Vec<u8>)>, opts: &Options) -> Corpus {
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    sources.dedup_by(|a, b| a.0 == b.0);
    let tokens: Vec<FileTokens> = sources
        .par_iter()
        .map(|(_, lang, bytes)| {
            let (line_starts, lines) = line_starts(bytes);
            let tokens = tokenize(*lang, bytes, &opts.tokenize);
            FileTokens {
                tokens,
                line_starts,
                lines,
                content_key: 0,
                fingerprints: None,
            }
        })
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

impl Corpus {
    /// The content of file `f`: from memory, or read again from disk (empty if unreadable).
    pub(crate) fn content(&self, f: usize) -> Vec<u8> {
        match self.memory.get(f) {
            Some(bytes) => bytes.clone(),
            None => std::fs::read(&self.files[f].path).unwrap_or_default(),
        }
    }
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
