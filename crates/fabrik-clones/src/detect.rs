//! Exact (and, with normalization, renamed) clone detection over token windows.
//!
//! 1. Every window of `min_tokens` tokens has a 64-bit polynomial rolling hash, salted by
//!    language family. Winnowing selects about one fingerprint (a shorter window) in
//!    `w / 2` positions so that every match of `min_tokens` tokens contains a fingerprint
//!    selected in both copies; a parallel pass marks fingerprints seen twice in two
//!    bitsets, and only windows around those get their exact hash kept (16 bytes each).
//!    In changed mode the kept windows are those whose hash is in the focus set.
//! 2. The kept windows are sorted by (hash, file, position). In each group of equal
//!    hashes every later window is paired with the first one, as jscpd pairs each copy
//!    with the first occurrence.
//! 3. Pairs are processed per second-side file in position order: each is extended
//!    backwards and forwards to the maximal match (comparing tokens, so hash collisions
//!    cannot report false clones), clamped so the two sides of a clone within one file
//!    never overlap, and kept if long enough in tokens and lines. A pair whose window lies
//!    inside an already reported second-side range (or a rejected match), or inside an
//!    already extended match on the same diagonal, is skipped, so each region is extended
//!    about once and minified or periodic files stay near linear.
//!
//! Files are sorted by path and every step sorts its output, so results do not depend on
//! the file system's order or on the number of threads. Memory: 12 bytes per token for the
//! tokens, 12 bytes per selected fingerprint, 16 bytes per possibly repeated window.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::lang::Language;
use crate::load::FileTokens;

const BASE: u64 = 0x9E37_79B9_7F4A_7C15 | 1;

/// A clone in token coordinates: `len` tokens from `a_start` in file `a_file` equal `len`
/// tokens from `b_start` in file `b_file`; `(a_file, a_start) < (b_file, b_start)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RawClone {
    pub(crate) a_file: u32,
    pub(crate) a_start: u32,
    pub(crate) b_file: u32,
    pub(crate) b_start: u32,
    pub(crate) len: u32,
}

/// Which windows are worth indexing.
pub(crate) enum Filter<'a> {
    /// Windows whose hash occurs at least twice anywhere (full scan).
    Repeated,
    /// Windows whose hash is in this set (changed mode: the windows of added lines).
    Focus(&'a HashSet<u64>),
}

/// What the detector needs to know about the files.
pub(crate) struct Input<'a> {
    pub(crate) langs: &'a [Language],
    pub(crate) files: &'a [FileTokens],
    pub(crate) min_tokens: usize,
    pub(crate) min_lines: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Window {
    hash: u64,
    file: u32,
    pos: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Seed {
    b_file: u32,
    b_pos: u32,
    a_file: u32,
    a_pos: u32,
}

/// The hashes of all windows of `k` tokens of `tokens`, with their start positions.
pub(crate) fn window_hashes(
    tokens: &[crate::Token],
    k: usize,
    lang: Language,
) -> impl Iterator<Item = (usize, u64)> + '_ {
    window_hashes_in(tokens, k, lang, 0, (tokens.len() + 1).saturating_sub(k))
}

/// The hashes of the windows of `k` tokens starting at `from..to`.
fn window_hashes_in(
    tokens: &[crate::Token],
    k: usize,
    lang: Language,
    from: usize,
    to: usize,
) -> impl Iterator<Item = (usize, u64)> + '_ {
    let salt = u64::from(lang.family()).wrapping_mul(0xA24B_AED4_963E_E407);
    let pow = (1..k).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut h = tokens
        .iter()
        .skip(from)
        .take(k)
        .fold(0u64, |h, t| h.wrapping_mul(BASE).wrapping_add(tok(t)));
    (from..to).map(move |i| {
        if i > from {
            h = h
                .wrapping_sub(tok(&tokens[i - 1]).wrapping_mul(pow))
                .wrapping_mul(BASE)
                .wrapping_add(tok(&tokens[i + k - 1]));
        }
        (i, h ^ salt)
    })
}

fn tok(t: &crate::Token) -> u64 {
    u64::from(t.hash).wrapping_mul(0xFF51_AFD7_ED55_8CCD) | 1
}

/// The splitmix64 finalizer: spreads a rolling hash over all 64 bits.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Finds all clones of at least `min_tokens` tokens and `min_lines` lines.
pub(crate) fn find_clones(input: &Input<'_>, filter: &Filter<'_>) -> Vec<RawClone> {
    let k = input.min_tokens.max(1);
    let windows = collect_windows(input, k, filter);
    let seeds = pair_with_first(&windows);
    drop(windows);
    let per_file: Vec<&[Seed]> = seeds.chunk_by(|x, y| x.b_file == y.b_file).collect();
    let mut clones: Vec<RawClone> = per_file
        .par_iter()
        .flat_map_iter(|s| extend_file(input, k, s))
        .collect();
    clones.par_sort_unstable();
    clones
}

fn collect_windows(input: &Input<'_>, k: usize, filter: &Filter<'_>) -> Vec<Window> {
    let per_file: Vec<Vec<Window>> = match filter {
        Filter::Repeated => repeated_windows(input, k),
        Filter::Focus(set) => {
            let focus = FocusFilter::new(set);
            (0..input.files.len())
                .into_par_iter()
                .map(|f| {
                    window_hashes(&input.files[f].tokens, k, input.langs[f])
                        .filter(|(_, hash)| focus.contains(*hash))
                        .map(|(pos, hash)| Window {
                            hash,
                            file: f as u32,
                            pos: pos as u32,
                        })
                        .collect()
                })
                .collect()
        }
    };
    let mut windows: Vec<Window> = per_file.into_iter().flatten().collect();
    // Grouping needs equal hashes together only; each group's first window is found by
    // `pair_with_first`, so the order inside a group does not matter.
    windows.par_sort_unstable_by_key(|w| w.hash);
    windows
}

/// Windows that may occur twice, found without touching every window's hash twice:
/// winnowing selects a few fingerprints of `k - w + 1` tokens per `w` positions, such
/// that any match of `k` tokens contains one fingerprint selected in both copies. Only
/// windows around fingerprints seen at least twice get their exact `k`-token hash.
fn repeated_windows(input: &Input<'_>, k: usize) -> Vec<Vec<Window>> {
    let w = winnow_window(k);
    let computed: Vec<Vec<(u32, u64)>> = (0..input.files.len())
        .into_par_iter()
        .map(|f| match &input.files[f].fingerprints {
            Some(_) => Vec::new(),
            None => fingerprints(&input.files[f].tokens, k, input.langs[f]),
        })
        .collect();
    let selected: Vec<&[(u32, u64)]> = (0..input.files.len())
        .map(|f| {
            input.files[f]
                .fingerprints
                .as_deref()
                .unwrap_or(&computed[f])
        })
        .collect();
    let seen = Bitsets::mark(&selected);
    (0..input.files.len())
        .into_par_iter()
        .map(|f| {
            let mut starts = Vec::new();
            for &(q, hash) in selected[f] {
                if seen.seen_twice(hash) {
                    let from = (q as usize + 1).saturating_sub(w);
                    // Rolling through a short gap is cheaper than starting a new hash.
                    match starts.last_mut() {
                        Some((_, end)) if *end + k >= from => *end = q as usize + 1,
                        _ => starts.push((from, q as usize + 1)),
                    }
                }
            }
            let tokens = &input.files[f].tokens;
            let last = (tokens.len() + 1).saturating_sub(k);
            starts
                .into_iter()
                .flat_map(|(from, to)| {
                    window_hashes_in(tokens, k, input.langs[f], from, to.min(last))
                })
                .map(|(pos, hash)| Window {
                    hash,
                    file: f as u32,
                    pos: pos as u32,
                })
                .collect()
        })
        .collect()
}

/// The winnowing window for windows of `k` tokens.
pub(crate) fn winnow_window(k: usize) -> usize {
    (k / 3).clamp(1, 32)
}

/// The winnowed fingerprints of a file for windows of `k` tokens (see
/// [`repeated_windows`]); computed while loading, when the tokens are hot in cache.
pub(crate) fn fingerprints(tokens: &[crate::Token], k: usize, lang: Language) -> Vec<(u32, u64)> {
    let w = winnow_window(k);
    winnow(tokens, k - w + 1, w, lang)
}

/// Robust winnowing: the rightmost minimal hash of every `w` consecutive `kp`-grams,
/// each selected position once. Empty for files shorter than `kp + w - 1` tokens.
fn winnow(tokens: &[crate::Token], kp: usize, w: usize, lang: Language) -> Vec<(u32, u64)> {
    let count = (tokens.len() + 1).saturating_sub(kp);
    let mut out = Vec::with_capacity(count * 2 / (w + 1) + 1);
    if count < w {
        return out;
    }
    // A ring buffer of (position, hash) with increasing hashes: the front is the minimum
    // of the last `w` hashes. No per-file array of all hashes is needed. It holds up to
    // `w + 1` entries: the new hash is pushed before the oldest expires.
    let mut ring = vec![(0u32, 0u64); (w + 1).next_power_of_two()];
    let mask = ring.len() - 1;
    let (mut head, mut tail) = (0usize, 0usize);
    let mut last = u32::MAX;
    for (i, hash) in window_hashes(tokens, kp, lang) {
        while tail > head && ring[(tail - 1) & mask].1 >= hash {
            tail -= 1;
        }
        ring[tail & mask] = (i as u32, hash);
        tail += 1;
        if ring[head & mask].0 as usize + w <= i {
            head += 1;
        }
        if i + 1 >= w && ring[head & mask].0 != last {
            out.push(ring[head & mask]);
            last = ring[head & mask].0;
        }
    }
    out
}

/// A focus set behind a bitset: almost every window of the repository misses the bitset,
/// so the hash set is consulted only for the few windows that may be in it.
pub(crate) struct FocusFilter<'a> {
    bits: Vec<u64>,
    mask: u64,
    set: &'a HashSet<u64>,
}

impl<'a> FocusFilter<'a> {
    pub(crate) fn new(set: &'a HashSet<u64>) -> FocusFilter<'a> {
        let size = (set.len() * 32).next_power_of_two().max(1 << 12);
        let mut bits = vec![0u64; size / 64];
        let mask = size as u64 - 1;
        for &hash in set {
            let (word, bit) = slot(hash, mask);
            bits[word] |= bit;
        }
        FocusFilter { bits, mask, set }
    }

    pub(crate) fn contains(&self, hash: u64) -> bool {
        let (word, bit) = slot(hash, self.mask);
        self.bits[word] & bit != 0 && self.set.contains(&hash)
    }
}

/// The word and bit of `hash` in a bitset of `mask + 1` bits (a power of two). Window
/// hashes are not finalized (grouping needs equality only); they are spread here.
fn slot(hash: u64, mask: u64) -> (usize, u64) {
    let index = mix(hash) & mask;
    ((index >> 6) as usize, 1u64 << (index & 63))
}

/// Two bitsets over fingerprint hashes: seen once, seen at least twice (up to
/// collisions, which only let a few unique windows through to the exact grouping).
struct Bitsets {
    once: Vec<AtomicU64>,
    twice: Vec<AtomicU64>,
    mask: u64,
}

impl Bitsets {
    fn mark(selected: &[&[(u32, u64)]]) -> Bitsets {
        let total: usize = selected.iter().map(|s| s.len()).sum();
        let bits = (total * 16).next_power_of_two().max(1 << 16);
        let words = bits / 64;
        let sets = Bitsets {
            once: (0..words).map(|_| AtomicU64::new(0)).collect(),
            twice: (0..words).map(|_| AtomicU64::new(0)).collect(),
            mask: bits as u64 - 1,
        };
        selected.par_iter().for_each(|file| {
            for &(_, hash) in *file {
                let (word, bit) = slot(hash, sets.mask);
                if sets.once[word].fetch_or(bit, Ordering::Relaxed) & bit != 0 {
                    sets.twice[word].fetch_or(bit, Ordering::Relaxed);
                }
            }
        });
        sets
    }

    fn seen_twice(&self, hash: u64) -> bool {
        let (word, bit) = slot(hash, self.mask);
        self.twice[word].load(Ordering::Relaxed) & bit != 0
    }
}

fn pair_with_first(windows: &[Window]) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for group in windows.chunk_by(|x, y| x.hash == y.hash) {
        let Some(&first) = group.iter().min_by_key(|w| (w.file, w.pos)) else {
            continue;
        };
        seeds.extend(group.iter().filter(|w| **w != first).map(|w| Seed {
            b_file: w.file,
            b_pos: w.pos,
            a_file: first.file,
            a_pos: first.pos,
        }));
    }
    seeds.par_sort_unstable();
    seeds
}

/// Extends the seeds of one second-side file, in position order.
fn extend_file(input: &Input<'_>, k: usize, seeds: &[Seed]) -> Vec<RawClone> {
    let mut out = Vec::new();
    let mut covered_end = 0usize;
    let mut diagonals: HashMap<(u32, i64), usize> = HashMap::new();
    for seed in seeds {
        let b_pos = seed.b_pos as usize;
        if b_pos + k <= covered_end {
            continue;
        }
        let diagonal = (seed.a_file, i64::from(seed.b_pos) - i64::from(seed.a_pos));
        if diagonals.get(&diagonal).is_some_and(|&end| b_pos < end) {
            continue;
        }
        // In one file, sides closer than `k` tokens can never make a clone of `k` tokens.
        if seed.a_file == seed.b_file && seed.b_pos - seed.a_pos < k as u32 {
            continue;
        }
        let clone = extend(input, seed);
        let end = (clone.b_start + clone.len) as usize;
        if clone.len as usize >= k && long_enough(input, &clone) {
            diagonals.insert(diagonal, end + 1);
            covered_end = covered_end.max(end);
            out.push(clone);
        } else {
            // A rejected match (too few lines, e.g. minified code) covers all it explored,
            // clamp or not: else a minified or periodic file costs one extension per token.
            let explored = end
                + matching(
                    input,
                    seed.a_file,
                    seed.b_file,
                    clone.a_start as usize + clone.len as usize,
                    end,
                );
            diagonals.insert(diagonal, explored + 1);
            covered_end = covered_end.max(explored);
        }
    }
    out
}

/// How many tokens match from `a_at` in file `a` and `b_at` in file `b`.
fn matching(input: &Input<'_>, a: u32, b: u32, a_at: usize, b_at: usize) -> usize {
    let a = &input.files[a as usize].tokens;
    let b = &input.files[b as usize].tokens;
    a.get(a_at..)
        .unwrap_or_default()
        .iter()
        .zip(b.get(b_at..).unwrap_or_default())
        .take_while(|(x, y)| x.hash == y.hash)
        .count()
}

/// The maximal match through the seed, clamped so that sides in one file do not overlap
/// (the scan stops at the clamp).
fn extend(input: &Input<'_>, seed: &Seed) -> RawClone {
    let a = &input.files[seed.a_file as usize].tokens;
    let b = &input.files[seed.b_file as usize].tokens;
    let (mut a0, mut b0) = (seed.a_pos as usize, seed.b_pos as usize);
    while a0 > 0 && b0 > 0 && a[a0 - 1].hash == b[b0 - 1].hash {
        a0 -= 1;
        b0 -= 1;
    }
    let limit = if seed.a_file == seed.b_file {
        b0 - a0
    } else {
        usize::MAX
    };
    let len = a[a0..]
        .iter()
        .zip(&b[b0..])
        .take(limit)
        .take_while(|(x, y)| x.hash == y.hash)
        .count();
    RawClone {
        a_file: seed.a_file,
        a_start: a0 as u32,
        b_file: seed.b_file,
        b_start: b0 as u32,
        len: len as u32,
    }
}

fn long_enough(input: &Input<'_>, clone: &RawClone) -> bool {
    let file = &input.files[clone.a_file as usize];
    let first = file.tokens[clone.a_start as usize];
    let last = file.tokens[(clone.a_start + clone.len - 1) as usize];
    let lines = file.line_of(last.end.saturating_sub(1)) + 1 - file.line_of(first.start);
    lines as usize >= input.min_lines
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
