//! From token coordinates to a report: locations, fragments, fingerprints, kinds, clone
//! classes and statistics. Only files that take part in a clone are read again.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::detect::RawClone;
use crate::lang::Language;
use crate::load::{Corpus, FileTokens};
use crate::model::{CloneClass, CloneKind, ClonePair, Fragment, Loc, Report, Statistics, Stats};
use crate::options::Mode;
use crate::tokenize::{TokenizeOptions, tokenize};

/// Builds the report of `raw` clones over `corpus`.
pub(crate) fn build(corpus: &Corpus, raw: &[RawClone]) -> Report {
    let contents = read_involved(corpus, raw);
    let mut clones: Vec<ClonePair> = raw.par_iter().map(|c| pair(corpus, &contents, c)).collect();
    clones.sort_by(|x, y| (&x.first, &x.second).cmp(&(&y.first, &y.second)));
    let mut statistics = base_statistics(corpus);
    recount(&mut statistics, &clones);
    Report {
        classes: classes(&clones),
        clones,
        statistics,
        skipped: corpus.skipped.clone(),
        cache: corpus.cache,
        timings: Vec::new(),
    }
}

/// The content of every file that appears in a clone (lossless bytes).
fn read_involved(corpus: &Corpus, raw: &[RawClone]) -> HashMap<u32, Vec<u8>> {
    let files: HashSet<u32> = raw.iter().flat_map(|c| [c.a_file, c.b_file]).collect();
    files
        .into_par_iter()
        .map(|f| (f, corpus.content(f as usize)))
        .collect()
}

fn pair(corpus: &Corpus, contents: &HashMap<u32, Vec<u8>>, c: &RawClone) -> ClonePair {
    let empty = Vec::new();
    let a_text = contents.get(&c.a_file).unwrap_or(&empty);
    let b_text = contents.get(&c.b_file).unwrap_or(&empty);
    let a_lang = corpus.files[c.a_file as usize].lang;
    let first = fragment(corpus, c.a_file, c.a_start, c.len);
    let second = fragment(corpus, c.b_file, c.b_start, c.len);
    let ha = side_hash(a_lang, a_text, &first);
    let hb = side_hash(corpus.files[c.b_file as usize].lang, b_text, &second);
    let line_start = position_of_line(&corpus.tokens[c.a_file as usize], first.start.line);
    let text = a_text
        .get(line_start as usize..first.end.position as usize)
        .unwrap_or_default();
    ClonePair {
        format: a_lang,
        kind: if ha == hb {
            CloneKind::Exact
        } else {
            CloneKind::Renamed
        },
        lines: first.lines(),
        tokens: c.len,
        fragment: String::from_utf8_lossy(text).into_owned(),
        first,
        second,
        fingerprint: combine(ha, hb),
        is_new: false,
        similarity: 1.0,
    }
}

/// The fragment of `len` tokens from token `start` of file `file`.
pub(crate) fn fragment(corpus: &Corpus, file: u32, start: u32, len: u32) -> Fragment {
    let ft = &corpus.tokens[file as usize];
    let first = ft.tokens[start as usize];
    let last = ft.tokens[(start + len.max(1) - 1) as usize];
    Fragment {
        name: corpus.files[file as usize].name.clone(),
        start: loc(ft, first.start, first.start),
        end: loc(ft, last.end.saturating_sub(1).max(last.start), last.end),
    }
}

/// The location of byte `position`, on the line of byte `on` (for an end position, the
/// line of the last byte: a token that ends with a newline ends on that line).
fn loc(ft: &FileTokens, on: u32, position: u32) -> Loc {
    let line = ft.line_of(on);
    Loc {
        line,
        column: position - position_of_line(ft, line),
        position,
    }
}

fn position_of_line(ft: &FileTokens, line: u32) -> u32 {
    ft.line_starts
        .get(line.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(0)
}

/// A hash of a fragment's tokens as written (comments and whitespace left out), so that
/// fingerprints survive line shifts, re-indentation and file renames.
pub(crate) fn side_hash(lang: Language, content: &[u8], f: &Fragment) -> u64 {
    let opts = TokenizeOptions {
        mode: Mode::Weak,
        ..TokenizeOptions::default()
    };
    let range = content
        .get(f.start.position as usize..f.end.position as usize)
        .unwrap_or_default();
    let hashes: Vec<u8> = tokenize(lang, range, &opts)
        .iter()
        .flat_map(|t| t.hash.to_le_bytes())
        .collect();
    xxh3_64(&hashes)
}

/// Combines two side hashes independently of their order.
pub(crate) fn combine(x: u64, y: u64) -> u64 {
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&lo.to_le_bytes());
    bytes[8..].copy_from_slice(&hi.to_le_bytes());
    xxh3_64_with_seed(&bytes, 0xC10E)
}

/// Groups pairs by their first fragment: each group is one clone class.
pub(crate) fn classes(clones: &[ClonePair]) -> Vec<CloneClass> {
    let mut groups: BTreeMap<&Fragment, CloneClass> = BTreeMap::new();
    for c in clones.iter().filter(|c| c.kind != CloneKind::Near) {
        groups
            .entry(&c.first)
            .or_insert_with(|| CloneClass {
                format: c.format,
                tokens: c.tokens,
                lines: c.lines,
                fragments: vec![c.first.clone()],
            })
            .fragments
            .push(c.second.clone());
    }
    groups.into_values().collect()
}

fn base_statistics(corpus: &Corpus) -> Statistics {
    let mut statistics = Statistics::default();
    for (file, ft) in corpus.files.iter().zip(&corpus.tokens) {
        for stats in [
            &mut statistics.total,
            statistics
                .formats
                .entry(file.lang.name().to_owned())
                .or_default(),
        ] {
            stats.sources += 1;
            stats.lines += u64::from(ft.lines);
            stats.tokens += ft.token_count as u64;
        }
    }
    statistics
}

/// Recomputes the clone-dependent statistics (after filtering or marking clones new).
pub(crate) fn recount(statistics: &mut Statistics, clones: &[ClonePair]) {
    fill(&mut statistics.total, clones.iter());
    for (name, stats) in &mut statistics.formats {
        let name = name.as_str();
        fill(
            stats,
            clones.iter().filter(move |c| c.format.name() == name),
        );
    }
}

fn fill<'a>(stats: &mut Stats, clones: impl Iterator<Item = &'a ClonePair> + Clone) {
    stats.clones = clones.clone().count() as u64;
    stats.duplicated_tokens = clones.clone().map(|c| u64::from(c.tokens)).sum();
    stats.duplicated_lines = union_lines(clones.clone());
    stats.new_clones = clones.clone().filter(|c| c.is_new).count() as u64;
    stats.new_duplicated_lines = union_lines(clones.filter(|c| c.is_new));
    stats.percentage = percent(stats.duplicated_lines, stats.lines);
    stats.percentage_tokens = percent(stats.duplicated_tokens, stats.tokens);
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Lines covered by the second fragments, each (file, line) counted once.
fn union_lines<'a>(clones: impl Iterator<Item = &'a ClonePair>) -> u64 {
    let mut ranges: Vec<(&str, u32, u32)> = clones
        .map(|c| {
            (
                c.second.name.as_str(),
                c.second.start.line,
                c.second.end.line,
            )
        })
        .collect();
    ranges.sort_unstable();
    let mut total = 0u64;
    let mut current: Option<(&str, u32, u32)> = None;
    for (name, start, end) in ranges {
        match current {
            Some((n, s, e)) if n == name && start <= e + 1 => current = Some((n, s, e.max(end))),
            _ => {
                if let Some((_, s, e)) = current {
                    total += u64::from(e - s + 1);
                }
                current = Some((name, start, end));
            }
        }
    }
    total + current.map_or(0, |(_, s, e)| u64::from(e - s + 1))
}
