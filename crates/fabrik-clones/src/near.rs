//! Near-miss clones (`--near`): copies with a few statements added, removed or changed.
//!
//! **Granularity: blocks.** A block is a line whose next non-blank line is indented
//! deeper, plus every following line indented deeper (blank lines included), plus a
//! closing line at the opening indentation that starts with `}`, `)`, `]`, `end`, `fi`,
//! `done` or `esac`. This finds functions, methods, classes and loops in brace and
//! indentation languages alike. Blocks need at least `min_lines` lines and `min_tokens`
//! tokens; blocks over 4,000 tokens are left out.
//!
//! **Similarity: token edit similarity.** `1 - D / (|A| + |B|)` where `D` is the number of
//! tokens (after the mode's normalization) to insert or delete to turn block A into block
//! B, i.e. the Dice coefficient of their longest common token subsequence. Two blocks of
//! one language family form a near-miss clone when it is at least `near_similarity`
//! (default 0.8: about a fifth of the pair's tokens added, removed or changed) and they
//! are not nested in each other, not already one exact clone, and not inside a larger
//! reported near-miss pair.
//!
//! **Candidates: MinHash LSH.** One-permutation MinHash over 3-token shingles with 100
//! bins and 25 bands of 4 rows: pairs whose shingle Jaccard is 0.6 (typical of 0.8 edit
//! similarity) become candidates with probability 0.97. Every candidate is verified with
//! Myers' O((N+M)D) diff, so no pair below the bound is reported.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::build::{classes, combine, fragment, recount, side_hash};
use crate::load::{Corpus, FileTokens};
use crate::model::{CloneKind, ClonePair, Fragment, Report};
use crate::options::Options;

const SHINGLE: usize = 3;
const BINS: usize = 100;
const ROWS: usize = 4;
const MAX_BLOCK_TOKENS: usize = 4000;
const MAX_BUCKET: usize = 64;

#[derive(Clone, Debug)]
struct Block {
    file: u32,
    /// Token range `[start, end)`.
    start: u32,
    end: u32,
    family: u8,
    signature: Vec<u32>,
    /// The block's token hashes, sorted (for the multiset bound).
    sorted: Vec<u32>,
}

/// Adds near-miss clone pairs to `report` (kind `near`) and recounts its statistics.
pub(crate) fn add_near(corpus: &Corpus, opts: &Options, report: &mut Report) {
    let blocks: Vec<Block> = (0..corpus.files.len())
        .into_par_iter()
        .flat_map_iter(|f| file_blocks(corpus, f, opts))
        .collect();
    let mut pairs = candidates(&blocks);
    pairs.sort_unstable_by_key(|&(x, y)| {
        (std::cmp::Reverse(size(&blocks[x]) + size(&blocks[y])), x, y)
    });
    let accepted: Vec<(usize, usize, f64)> = pairs
        .par_iter()
        .filter_map(|&(x, y)| similar(corpus, &blocks[x], &blocks[y], opts).map(|s| (x, y, s)))
        // Identical blocks (similarity 1) are exact clones, reported as such.
        .filter(|&(_, _, s)| s < 1.0)
        .collect();
    let files: HashSet<u32> = accepted
        .iter()
        .flat_map(|&(x, y, _)| [blocks[x].file, blocks[y].file])
        .collect();
    let contents: HashMap<u32, Vec<u8>> = files
        .into_par_iter()
        .map(|f| (f, corpus.content(f as usize)))
        .collect();
    let built: Vec<ClonePair> = accepted
        .par_iter()
        .map(|&(x, y, s)| near_pair(corpus, &contents, &blocks[x], &blocks[y], s))
        .collect();
    let mut cover = Cover::default();
    report.clones.iter().for_each(|c| cover.add(c));
    let mut kept: Vec<ClonePair> = Vec::new();
    for pair in built {
        if !cover.covers(&pair) {
            cover.add(&pair);
            kept.push(pair);
        }
    }
    report.clones.extend(kept);
    report
        .clones
        .sort_by(|x, y| (&x.first, &x.second, x.kind).cmp(&(&y.first, &y.second, y.kind)));
    report.classes = classes(&report.clones);
    recount(&mut report.statistics, &report.clones);
}

fn size(b: &Block) -> u32 {
    b.end - b.start
}

fn file_blocks(corpus: &Corpus, f: usize, opts: &Options) -> Vec<Block> {
    let content = corpus.content(f);
    let ft = &corpus.tokens[f];
    let family = corpus.langs[f].family();
    line_blocks(&content, ft)
        .into_iter()
        .filter_map(|(first, last)| {
            let (start, end) = token_range(ft, first, last);
            let tokens = end - start;
            let ok = (last - first + 1) as usize >= opts.min_lines
                && tokens >= opts.min_tokens.max(SHINGLE)
                && tokens <= MAX_BLOCK_TOKENS;
            ok.then(|| Block {
                file: f as u32,
                start: start as u32,
                end: end as u32,
                family,
                signature: signature(&shingles(&ft.tokens[start..end])),
                sorted: {
                    let mut hashes: Vec<u32> =
                        ft.tokens[start..end].iter().map(|t| t.hash).collect();
                    hashes.sort_unstable();
                    hashes
                },
            })
        })
        .collect()
}

/// Blocks as 1-based inclusive line ranges, from indentation.
fn line_blocks(content: &[u8], ft: &FileTokens) -> Vec<(u32, u32)> {
    let lines: Vec<&[u8]> = (0..ft.line_starts.len())
        .map(|i| {
            let start = ft.line_starts[i] as usize;
            let end = ft
                .line_starts
                .get(i + 1)
                .map_or(content.len(), |&e| e as usize);
            content.get(start..end).unwrap_or_default()
        })
        .collect();
    let indents: Vec<Option<usize>> = lines.iter().map(|l| indent(l)).collect();
    let mut blocks = Vec::new();
    for (i, ind) in indents.iter().enumerate() {
        let Some(ind) = *ind else { continue };
        let mut last = i;
        let mut deeper = false;
        for (j, other) in indents.iter().enumerate().skip(i + 1) {
            match *other {
                None => {}
                Some(o) if o > ind => {
                    deeper = true;
                    last = j;
                }
                Some(o) => {
                    if o == ind && deeper && is_closer(lines[j]) {
                        last = j;
                    }
                    break;
                }
            }
        }
        if deeper {
            blocks.push((i as u32 + 1, last as u32 + 1));
        }
    }
    blocks
}

/// Width of the leading whitespace (tab = 4), or `None` for a blank line.
fn indent(line: &[u8]) -> Option<usize> {
    let mut width = 0;
    for &b in line {
        match b {
            b' ' => width += 1,
            b'\t' => width += 4,
            b'\r' | b'\n' => return None,
            _ => return Some(width),
        }
    }
    None
}

fn is_closer(line: &[u8]) -> bool {
    let text = line.trim_ascii_start();
    [&b"}"[..], b")", b"]", b"end", b"fi", b"done", b"esac"]
        .iter()
        .any(|c| text.starts_with(c))
}

/// The tokens starting on lines `first..=last`.
fn token_range(ft: &FileTokens, first: u32, last: u32) -> (usize, usize) {
    let from = ft.line_starts[first as usize - 1];
    let to = ft
        .line_starts
        .get(last as usize)
        .copied()
        .unwrap_or(u32::MAX);
    let start = ft.tokens.partition_point(|t| t.start < from);
    let end = ft.tokens.partition_point(|t| t.start < to);
    (start, end.max(start))
}

fn shingles(tokens: &[crate::Token]) -> Vec<u64> {
    let mut out: Vec<u64> = tokens
        .windows(SHINGLE)
        .map(|w| {
            w.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, t| {
                (h ^ u64::from(t.hash))
                    .wrapping_mul(0x0100_0000_01b3)
                    .rotate_left(17)
            })
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// One-permutation MinHash with rotation densification.
fn signature(shingles: &[u64]) -> Vec<u32> {
    let mut bins = vec![u32::MAX; BINS];
    for &s in shingles {
        let h = s.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let bin = (((h >> 32) * BINS as u64) >> 32) as usize;
        bins[bin] = bins[bin].min(h as u32);
    }
    let filled: Vec<usize> = (0..BINS).filter(|&i| bins[i] != u32::MAX).collect();
    if filled.is_empty() {
        return bins;
    }
    for i in 0..BINS {
        if bins[i] == u32::MAX {
            let next = filled.iter().find(|&&j| j > i).unwrap_or(&filled[0]);
            let distance = (next + BINS - i) % BINS;
            bins[i] = bins[*next].wrapping_add((distance as u32).wrapping_mul(0x9E37_79B9));
        }
    }
    bins
}

/// Pairs of blocks that share a band of their signatures, deduplicated and sorted.
fn candidates(blocks: &[Block]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = (0..BINS / ROWS)
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut keyed: Vec<(u64, usize)> = blocks
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let rows = &b.signature[band * ROWS..(band + 1) * ROWS];
                    let key = rows.iter().fold(u64::from(b.family), |h, &r| {
                        (h ^ u64::from(r))
                            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                            .rotate_left(23)
                    });
                    (key, i)
                })
                .collect();
            keyed.sort_unstable();
            let mut out = Vec::new();
            for group in keyed.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
                let members = &group[..group.len().min(MAX_BUCKET)];
                for (n, &(_, x)) in members.iter().enumerate() {
                    for &(_, y) in &members[n + 1..] {
                        if !nested(&blocks[x], &blocks[y]) {
                            out.push((x.min(y), x.max(y)));
                        }
                    }
                }
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

fn nested(x: &Block, y: &Block) -> bool {
    x.file == y.file && x.start < y.end && y.start < x.end
}

/// The token-sequence similarity `1 - D / (|A| + |B|)`, `D` the number of tokens to
/// insert or delete to turn one block into the other, if at least the bound.
fn similar(corpus: &Corpus, x: &Block, y: &Block, opts: &Options) -> Option<f64> {
    let hashes = |b: &Block| -> Vec<u32> {
        corpus.tokens[b.file as usize].tokens[b.start as usize..b.end as usize]
            .iter()
            .map(|t| t.hash)
            .collect()
    };
    let (a, b) = (hashes(x), hashes(y));
    let total = a.len() + b.len();
    let max_d = ((1.0 - opts.near_similarity) * total as f64).floor() as usize;
    // Cheap bounds first: the common subsequence is at most the shorter block and at
    // most the multiset intersection of the tokens.
    if total - 2 * a.len().min(b.len()) > max_d
        || total - 2 * common_tokens(&x.sorted, &y.sorted) > max_d
    {
        return None;
    }
    let d = edit_distance(&a, &b, max_d)?;
    Some(1.0 - d as f64 / total as f64)
}

/// The size of the multiset intersection of two sorted token sequences.
fn common_tokens(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

/// Myers' O((N+M)D) insert/delete distance, or `None` when above `max_d`.
fn edit_distance(a: &[u32], b: &[u32], max_d: usize) -> Option<usize> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let offset = max_d as isize + 1;
    let mut v = vec![0isize; 2 * max_d + 3];
    for d in 0..=max_d as isize {
        for k in (-d..=d).step_by(2) {
            let i = (k + offset) as usize;
            let mut x = if k == -d || (k != d && v[i - 1] < v[i + 1]) {
                v[i + 1]
            } else {
                v[i - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[i] = x;
            if x >= n && y >= m {
                return Some(d as usize);
            }
        }
    }
    None
}

fn near_pair(
    corpus: &Corpus,
    contents: &HashMap<u32, Vec<u8>>,
    x: &Block,
    y: &Block,
    similarity: f64,
) -> ClonePair {
    let (x, y) = if (x.file, x.start) <= (y.file, y.start) {
        (x, y)
    } else {
        (y, x)
    };
    let first = fragment(corpus, x.file, x.start, size(x));
    let second = fragment(corpus, y.file, y.start, size(y));
    let empty = Vec::new();
    let content = contents.get(&x.file).unwrap_or(&empty);
    let other = contents.get(&y.file).unwrap_or(&empty);
    let line_start = corpus.tokens[x.file as usize].line_starts[first.start.line as usize - 1];
    let text = content
        .get(line_start as usize..first.end.position as usize)
        .unwrap_or_default();
    let ha = side_hash(corpus.langs[x.file as usize], content, &first);
    let hb = side_hash(corpus.langs[y.file as usize], other, &second);
    ClonePair {
        format: corpus.langs[x.file as usize],
        kind: CloneKind::Near,
        lines: first.lines(),
        tokens: size(x),
        fragment: String::from_utf8_lossy(text).into_owned(),
        fingerprint: combine(ha, hb),
        first,
        second,
        is_new: false,
        similarity,
    }
}

/// The fragments of reported pairs by file, to skip pairs inside them.
#[derive(Default)]
struct Cover {
    by_name: HashMap<String, Vec<(Fragment, Fragment)>>,
}

impl Cover {
    fn add(&mut self, c: &ClonePair) {
        let entry = (c.first.clone(), c.second.clone());
        self.by_name
            .entry(c.first.name.clone())
            .or_default()
            .push(entry.clone());
        self.by_name
            .entry(c.second.name.clone())
            .or_default()
            .push((entry.1, entry.0));
    }

    /// Whether a reported pair already contains both sides of `pair`.
    fn covers(&self, pair: &ClonePair) -> bool {
        self.by_name.get(&pair.first.name).is_some_and(|sides| {
            sides
                .iter()
                .any(|(this, other)| contains(this, &pair.first) && contains(other, &pair.second))
        })
    }
}

fn contains(outer: &Fragment, inner: &Fragment) -> bool {
    outer.name == inner.name
        && outer.start.line <= inner.start.line
        && inner.end.line <= outer.end.line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::line_starts;

    #[test]
    fn blocks_follow_indentation() {
        let src = b"fn a() {\n    x;\n\n    y;\n}\nz\nif q:\n    w\n";
        let (starts, lines) = line_starts(src);
        let ft = FileTokens {
            line_starts: starts,
            lines,
            ..FileTokens::default()
        };
        assert_eq!(line_blocks(src, &ft), [(1, 5), (7, 8)]);
    }
}
