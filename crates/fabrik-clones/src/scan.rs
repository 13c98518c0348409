//! The entry points of a full scan: files on disk or sources in memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::build::build;
use crate::detect::{Filter, Input, find_clones};
use crate::lang::Language;
use crate::load::{Corpus, load, load_memory};
use crate::model::Report;
use crate::options::Options;
use crate::{Error, Result, near, walk};

/// Finds clones among the files under `paths` (relative to `cwd`, or absolute). Names in
/// the report are relative to `cwd`.
///
/// # Errors
/// A path that does not exist, an invalid ignore glob or an out-of-range option.
pub fn detect(cwd: &Path, paths: &[PathBuf], opts: &Options) -> Result<Report> {
    validate(opts)?;
    let mut clock = Clock::start();
    let walked = walk::walk(cwd, paths, opts)?;
    clock.lap("walk");
    let mut corpus = load(walked, opts);
    corpus.load_all(opts);
    clock.lap("load");
    corpus.save_cache();
    clock.lap("cache");
    let mut report = report(&corpus, opts, &mut clock);
    report.timings = clock.laps;
    Ok(report)
}

/// Finds clones among in-memory sources `(name, language, content)`; the cache, size cap
/// and ignore globs do not apply. Used by tests and by callers that already hold files.
///
/// # Errors
/// An out-of-range option.
pub fn detect_sources(sources: Vec<(String, Language, Vec<u8>)>, opts: &Options) -> Result<Report> {
    validate(opts)?;
    let corpus = load_memory(sources, opts);
    Ok(report(&corpus, opts, &mut Clock::start()))
}

fn report(corpus: &Corpus, opts: &Options, clock: &mut Clock) -> Report {
    let raw = find_clones(&input(corpus, opts), &Filter::Repeated);
    clock.lap("detect");
    let mut report = build(corpus, &raw);
    clock.lap("report");
    if opts.near {
        near::add_near(corpus, opts, &mut report);
        clock.lap("near");
    }
    if let Some(baseline) = &opts.baseline {
        baseline.apply(&mut report);
    }
    report
}

/// Phase timings.
pub(crate) struct Clock {
    last: Instant,
    pub(crate) laps: Vec<(&'static str, Duration)>,
}

impl Clock {
    pub(crate) fn start() -> Clock {
        Clock {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }

    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }
}

pub(crate) fn input<'a>(corpus: &'a Corpus, opts: &Options) -> Input<'a> {
    Input {
        langs: &corpus.langs,
        files: &corpus.tokens,
        min_tokens: opts.min_tokens,
        min_lines: opts.min_lines,
    }
}

/// Checks option ranges.
pub(crate) fn validate(opts: &Options) -> Result<()> {
    if opts.min_tokens < 2 {
        return Err(Error::Invalid(format!(
            "min tokens must be at least 2, not {}",
            opts.min_tokens
        )));
    }
    if !(opts.near_similarity > 0.0 && opts.near_similarity <= 1.0) {
        return Err(Error::Invalid(format!(
            "near similarity must be in (0, 1], not {}",
            opts.near_similarity
        )));
    }
    Ok(())
}
