//! Changed mode: which clones did this change introduce, and what do they copy?
//!
//! The lines the diff adds are read from `git diff --unified=0 BASE` (so uncommitted work
//! counts) plus `git ls-files --others --exclude-standard` (untracked files count whole).
//! The whole repository is scanned, but only windows whose hash equals that of a window
//! touching added lines are indexed, so the work after tokenizing is proportional to the
//! change. A clone is kept when at least one side overlaps added lines; every kept clone
//! is new unless `Options::baseline` accounts for it (see [`crate::Baseline::mark`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::build::{build, classes, recount};
use rayon::prelude::*;

use crate::detect::{Filter, FocusFilter, find_clones, window_hashes, winnow_window};
use crate::load::{Corpus, FileTokens, load};
use crate::model::{ClonePair, Report};
use crate::options::Options;
use crate::scan::{Clock, input, validate};
use crate::{Error, Result, near, walk};

/// Added line ranges (1-based, inclusive, sorted) per file relative to the repository root.
pub type AddedLines = HashMap<String, Vec<(u32, u32)>>;

/// Finds the clones that the changes since `base` (committed, uncommitted and untracked)
/// add to the repository containing `root`, matched against the whole repository.
/// Names in the report are relative to the repository's top level.
///
/// # Errors
/// `root` outside a git repository, an unknown `base`, git failing, or bad options.
pub fn detect_changed(root: &Path, base: &str, opts: &Options) -> Result<Report> {
    validate(opts)?;
    let mut clock = Clock::start();
    let top = toplevel(root)?;
    // Git reads the tree while the walk and the cache do: neither needs the other.
    let (added, walked) = std::thread::scope(|s| {
        let git = s.spawn(|| added_lines(&top, base));
        let walked = walk::walk(&top, &[PathBuf::from(".")], opts).map(|walked| load(walked, opts));
        (git.join(), walked)
    });
    let added = added.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let mut corpus = walked?;
    clock.lap("git, walk and stat");
    let changed: Vec<usize> = (0..corpus.files.len())
        .filter(|&f| added.contains_key(&corpus.files[f].name))
        .collect();
    corpus.ensure_loaded(&changed, opts);
    if opts.near {
        corpus.load_all(opts);
    }
    clock.lap("load changed");
    let (focus, focus_fingerprints) = focus_hashes(&corpus, &added, opts.min_tokens);
    let candidates = sharing(&corpus, &focus_fingerprints);
    corpus.ensure_loaded(&candidates, opts);
    clock.lap("candidates");
    // Clones near the change that do not touch it stay until the baseline has counted
    // them: a third copy of baselined code must be new even though its fingerprint is known.
    let raw = find_clones(&input(&corpus, opts), &Filter::Focus(&focus));
    clock.lap("detect");
    let mut report = build(&corpus, &raw);
    report.cache.not_loaded = corpus.tokens.iter().filter(|t| !t.loaded()).count() as u64;
    clock.lap("report");
    if opts.near {
        near::add_near(&corpus, opts, &mut report);
    }
    let touches = |c: &ClonePair| {
        [&c.first, &c.second]
            .iter()
            .any(|f| overlaps(&added, &f.name, f.start.line, f.end.line))
    };
    match &opts.baseline {
        Some(baseline) => baseline.mark(&mut report.clones, touches),
        None => report.clones.iter_mut().for_each(|c| c.is_new = true),
    }
    report.clones.retain(touches);
    report.classes = classes(&report.clones);
    recount(&mut report.statistics, &report.clones);
    corpus.save_cache();
    clock.lap("cache");
    report.timings = clock.laps;
    Ok(report)
}

/// The top level of the work tree containing `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf> {
    let out = git(dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| Error::NotARepository(dir.to_path_buf()))?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out).trim_end_matches(['\n', '\r']),
    ))
}

/// The lines added since `base` in the repository at `top`: diff hunks and untracked files.
///
/// # Errors
/// An unknown `base`, or git failing.
pub fn added_lines(top: &Path, base: &str) -> Result<AddedLines> {
    let spec = format!("{base}^{{commit}}");
    if base.starts_with('-') || git(top, &["rev-parse", "--verify", "--quiet", &spec]).is_err() {
        return Err(Error::BadRevision {
            rev: base.to_owned(),
            dir: top.to_path_buf(),
        });
    }
    let diff = git(
        top,
        &[
            "-c",
            "core.quotepath=off",
            "diff",
            "--unified=0",
            "--no-color",
            "--no-ext-diff",
            "-M",
            base,
            "--",
        ],
    )?;
    let mut added = parse_diff(&String::from_utf8_lossy(&diff));
    let untracked = git(top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    for name in untracked.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        added.insert(
            String::from_utf8_lossy(name).into_owned(),
            vec![(1, u32::MAX)],
        );
    }
    Ok(added)
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    fabrik_core::git::run(dir, args).map_err(|e| match e {
        fabrik_core::git::GitError::Spawn { dir, args, source } => {
            Error::GitSpawn { args, dir, source }
        }
        fabrik_core::git::GitError::Failed { dir, args, stderr } => {
            Error::Git { args, dir, stderr }
        }
    })
}

/// Parses `git diff --unified=0` into added line ranges per new path.
pub(crate) fn parse_diff(diff: &str) -> AddedLines {
    let mut added: AddedLines = HashMap::new();
    let mut current: Option<String> = None;
    let mut in_header = false;
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            in_header = true;
            current = None;
        } else if in_header && let Some(path) = line.strip_prefix("+++ ") {
            current = new_path(path);
        } else if let Some(hunk) = line.strip_prefix("@@ ") {
            in_header = false;
            if let (Some(file), Some(range)) = (&current, hunk_added(hunk)) {
                added.entry(file.clone()).or_default().push(range);
            }
        }
    }
    for ranges in added.values_mut() {
        ranges.sort_unstable();
    }
    added
}

fn new_path(path: &str) -> Option<String> {
    let path = path.trim_end_matches('\t');
    let unquoted = if path.starts_with('"') {
        unquote(path)
    } else {
        path.to_owned()
    };
    unquoted.strip_prefix("b/").map(str::to_owned)
}

/// Undoes git's C-style quoting of a path (`"b/a\"b"`).
fn unquote(quoted: &str) -> String {
    let inner = quoted.trim_matches('"');
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&o @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(o - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The added range of a hunk header's `+start,count`, if it adds lines.
fn hunk_added(hunk: &str) -> Option<(u32, u32)> {
    let plus = hunk.split_whitespace().find_map(|w| w.strip_prefix('+'))?;
    let (start, count) = match plus.split_once(',') {
        Some((s, c)) => (s.parse::<u32>().ok()?, c.parse::<u32>().ok()?),
        None => (plus.parse::<u32>().ok()?, 1),
    };
    (count > 0).then(|| (start, start + count - 1))
}

fn overlaps(added: &AddedLines, name: &str, first: u32, last: u32) -> bool {
    let Some(ranges) = added.get(name) else {
        return false;
    };
    let i = ranges.partition_point(|&(_, end)| end < first);
    ranges.get(i).is_some_and(|&(start, _)| start <= last)
}

fn token_lines(ft: &FileTokens, start: u32, len: u32) -> (u32, u32) {
    let first = ft.tokens[start as usize];
    let last = ft.tokens[(start + len - 1) as usize];
    (
        ft.line_of(first.start),
        ft.line_of(last.end.saturating_sub(1)),
    )
}

/// The hashes of all windows that overlap added lines, and the fingerprints those
/// windows select: any window of another file equal to a focus window selects the same
/// fingerprint (see [`crate::detect`]), so a file without one cannot share a focus window.
fn focus_hashes(corpus: &Corpus, added: &AddedLines, k: usize) -> (HashSet<u64>, HashSet<u64>) {
    let w = winnow_window(k);
    let mut focus = HashSet::new();
    let mut selected = HashSet::new();
    for (f, file) in corpus.files.iter().enumerate() {
        if !added.contains_key(&file.name) {
            continue;
        }
        let ft = &corpus.tokens[f];
        let mut in_focus = vec![false; ft.tokens.len()];
        for (pos, hash) in window_hashes(&ft.tokens, k, file.lang) {
            let (first, last) = token_lines(ft, pos as u32, k as u32);
            if overlaps(added, &file.name, first, last) {
                focus.insert(hash);
                in_focus[pos] = true;
            }
        }
        // A window at `p` selects a fingerprint at `p..p + w`.
        for &(q, hash) in ft.fingerprints.as_deref().unwrap_or_default() {
            let q = q as usize;
            let windows = in_focus
                .get((q + 1).saturating_sub(w)..=q)
                .unwrap_or_default();
            if windows.iter().any(|&x| x) {
                selected.insert(hash);
            }
        }
    }
    (focus, selected)
}

/// The files not loaded yet that select one of `fingerprints`.
fn sharing(corpus: &Corpus, fingerprints: &HashSet<u64>) -> Vec<usize> {
    let filter = FocusFilter::new(fingerprints);
    (0..corpus.tokens.len())
        .into_par_iter()
        .filter(|&f| {
            let ft = &corpus.tokens[f];
            !ft.loaded()
                && ft
                    .fingerprints
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|&(_, hash)| filter.contains(hash))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_hunks_become_added_ranges() {
        let diff = "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n\
                    @@ -1,0 +2,3 @@ def f\n+a\n++++ not a header\n+c\n@@ -9 +12 @@\n-x\n+y\n\
                    @@ -20,2 +22,0 @@\n-gone\n-gone\n\
                    diff --git a/old b/\"sp ace\"\n--- /dev/null\n+++ \"b/sp\\\"ace\"\n@@ -0,0 +1 @@\n+z\n";
        let added = parse_diff(diff);
        assert_eq!(added["x.py"], vec![(2, 4), (12, 12)]);
        assert_eq!(added["sp\"ace"], vec![(1, 1)]);
        assert!(overlaps(&added, "x.py", 4, 9));
        assert!(!overlaps(&added, "x.py", 5, 11));
        assert!(!overlaps(&added, "y.py", 1, 100));
    }
}
