//! `fabrik dupes`: find copied code, jscpd-compatible and diff-aware.
//!
//! This file only maps flags and `.jscpd.json` onto `fabrik_clones::Options`, picks the
//! entry point (full scan or `--changed`), applies baselines and writes the report; the
//! detection itself lives in the `fabrik-clones` crate.

use std::io::Write;
use std::path::{Path, PathBuf};

use fabrik_clones::report::{TextOptions, write_json, write_sarif, write_text};
use fabrik_clones::{Baseline, Error, JscpdConfig, Language, Mode, Options, Report, SkipReason};

/// Find duplicated code: exact copies, renamed copies (Type-2) and, with --near, near-miss
/// copies. Reads `.jscpd.json` (minTokens, minLines, threshold, ignore, mode, format) from
/// the first path or the repository root; flags override it.
///
/// Exit status: 0 clean; 1 when the duplicated-lines percentage is above --threshold, or
/// when --changed or --baseline finds a new clone; 3 on a usage or configuration error.
#[derive(clap::Args, Debug)]
pub(crate) struct DupesArgs {
    /// Files or directories to scan. `.gitignore` is respected; hidden files and symlinks
    /// are skipped.
    #[arg(value_name = "PATHS", default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    /// Leave out files matching GLOB, relative to the scanned path, e.g. "**/vendor/**"
    /// (repeatable; adds to `ignore` of .jscpd.json).
    #[arg(long, value_name = "GLOB")]
    pub(crate) ignore: Vec<String>,

    /// Only these languages, comma-separated: rust, python, javascript, jsx, typescript,
    /// tsx, go, java, kotlin, c, cpp, csharp, ruby, php, swift, bash, sql, generic.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(crate) languages: Vec<String>,

    /// Shortest clone in tokens [default: 50].
    #[arg(long, value_name = "N")]
    pub(crate) min_tokens: Option<usize>,

    /// Shortest clone in lines [default: 5].
    #[arg(long, value_name = "N")]
    pub(crate) min_lines: Option<usize>,

    /// Which tokens count, as in jscpd: strict = every token, whitespace too; mild = no
    /// whitespace (default); weak = no whitespace and no comments.
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) mode: Option<ModeArg>,

    /// Treat all identifiers as equal, so copies with renamed variables, functions or
    /// types are found (keywords still count).
    #[arg(long)]
    pub(crate) ignore_identifiers: bool,

    /// Treat all string and number literals as equal.
    #[arg(long)]
    pub(crate) ignore_literals: bool,

    /// Fail (exit 1) when duplicated lines are above PCT percent of all lines.
    #[arg(long, value_name = "PCT")]
    pub(crate) threshold: Option<f64>,

    /// Output: text (clickable path:line:col), json (jscpd's report shape, plus
    /// fingerprint, similarity, classes, skipped) or sarif (2.1.0, for code scanning).
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub(crate) format: FormatArg,

    /// Show only the N largest clones (statistics still count all).
    #[arg(long, value_name = "N")]
    pub(crate) most: Option<usize>,

    /// Report only clones that touch lines added since --base (committed, uncommitted
    /// and untracked), matched against the whole repository: "did this change copy code
    /// that already exists, and which?". Any such clone fails (exit 1).
    #[arg(long)]
    pub(crate) changed: bool,

    /// The revision --changed compares with [default: HEAD].
    #[arg(long, value_name = "REV", requires = "changed")]
    pub(crate) base: Option<String>,

    /// Clones whose fingerprint is in FILE are old: only new clones fail. Fingerprints
    /// survive line shifts and file renames.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,

    /// Write the fingerprints of all clones found to FILE (for --baseline).
    #[arg(long, value_name = "FILE", conflicts_with = "changed")]
    pub(crate) write_baseline: Option<PathBuf>,

    /// Also find near-miss copies (a few statements added, removed or changed): blocks
    /// whose 5-token shingles are at least 80% similar (Jaccard), reported as kind "near".
    #[arg(long)]
    pub(crate) near: bool,

    /// Do not read or write the token cache in <repo>/.fabrik/cache.
    #[arg(long)]
    pub(crate) no_cache: bool,

    /// List skipped files, cache use and phase timings on stderr; show whole fragments.
    #[arg(long)]
    pub(crate) verbose: bool,
}

/// `--mode`
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModeArg {
    /// Every token counts, whitespace too.
    Strict,
    /// Whitespace is skipped, comments count.
    Mild,
    /// Whitespace and comments are skipped.
    Weak,
}

/// `--format`
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormatArg {
    /// Human-readable.
    Text,
    /// jscpd's JSON report.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// Runs `fabrik dupes`; returns the exit code (0 clean, 1 findings). Errors are usage or
/// configuration errors (exit 3).
pub(crate) fn run(
    args: &DupesArgs,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let repo = fabrik_clones::toplevel(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let config = find_config(args, cwd, &repo)?;
    let mut opts = options(args, config.as_ref(), &repo)?;
    if let Some(path) = &args.baseline {
        opts.baseline = Some(Baseline::load(&cwd.join(path))?);
    }
    let report = if args.changed {
        fabrik_clones::detect_changed(cwd, args.base.as_deref().unwrap_or("HEAD"), &opts)?
    } else {
        fabrik_clones::detect(cwd, &args.paths, &opts)?
    };
    if let Some(path) = &args.write_baseline {
        Baseline::from_report(&report).write(&cwd.join(path))?;
    }
    write_report(args, &report, out)?;
    notes(args, &report, err).map_err(Error::Write)?;
    let threshold = args.threshold.or(config.as_ref().and_then(|c| c.threshold));
    Ok(exit_code(args, &report, threshold))
}

fn find_config(args: &DupesArgs, cwd: &Path, repo: &Path) -> Result<Option<JscpdConfig>, Error> {
    let first = args
        .paths
        .first()
        .map(|p| cwd.join(p).components().collect::<PathBuf>())
        .filter(|p| p.is_dir());
    let mut dirs: Vec<&Path> = first.iter().map(PathBuf::as_path).collect();
    dirs.extend([repo, cwd]);
    Ok(JscpdConfig::find(&dirs)?.map(|(_, config)| config))
}

fn options(args: &DupesArgs, config: Option<&JscpdConfig>, repo: &Path) -> Result<Options, Error> {
    let mut opts = Options::default();
    if let Some(config) = config {
        config.apply(&mut opts);
    }
    if let Some(n) = args.min_tokens {
        opts.min_tokens = n;
    }
    if let Some(n) = args.min_lines {
        opts.min_lines = n;
    }
    if let Some(mode) = args.mode {
        opts.tokenize.mode = match mode {
            ModeArg::Strict => Mode::Strict,
            ModeArg::Mild => Mode::Mild,
            ModeArg::Weak => Mode::Weak,
        };
    }
    opts.tokenize.ignore_identifiers |= args.ignore_identifiers;
    opts.tokenize.ignore_literals |= args.ignore_literals;
    opts.ignore.extend(args.ignore.iter().cloned());
    if !args.languages.is_empty() {
        opts.languages = languages(&args.languages)?;
    }
    opts.near = args.near;
    opts.cache_dir = (!args.no_cache).then(|| repo.join(".fabrik").join("cache"));
    Ok(opts)
}

fn languages(names: &[String]) -> Result<Vec<Language>, Error> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            Language::from_name(n).ok_or_else(|| Error::Invalid(format!("unknown language `{n}`")))
        })
        .collect()
}

fn write_report(args: &DupesArgs, report: &Report, out: &mut dyn Write) -> Result<(), Error> {
    match args.format {
        FormatArg::Json => write_json(report, out, args.most),
        FormatArg::Sarif => write_sarif(report, out, args.most),
        FormatArg::Text => write_text(
            report,
            out,
            TextOptions {
                most: args.most,
                verbose: args.verbose,
            },
        ),
    }
}

/// Skipped files, cache use and timings, on stderr.
fn notes(args: &DupesArgs, report: &Report, err: &mut dyn Write) -> std::io::Result<()> {
    if !report.skipped.is_empty() {
        let count =
            |f: fn(&SkipReason) -> bool| report.skipped.iter().filter(|s| f(&s.reason)).count();
        writeln!(
            err,
            "note: skipped {} files ({} too large, {} binary, {} unreadable){}",
            report.skipped.len(),
            count(|r| matches!(r, SkipReason::TooLarge(_))),
            count(|r| matches!(r, SkipReason::Binary)),
            count(|r| matches!(r, SkipReason::Unreadable(_))),
            if args.verbose {
                ":"
            } else {
                "; --verbose lists them"
            },
        )?;
    }
    if !args.verbose {
        return Ok(());
    }
    for skipped in &report.skipped {
        writeln!(err, "  {}: {}", skipped.path, reason(&skipped.reason))?;
    }
    writeln!(
        err,
        "cache: {} files reused ({} unchanged, not read), {} tokenized; tokens of {} files not needed",
        report.cache.hits, report.cache.unread, report.cache.misses, report.cache.not_loaded
    )?;
    for (phase, took) in &report.timings {
        writeln!(err, "time: {phase} {:.3}s", took.as_secs_f64())?;
    }
    Ok(())
}

fn reason(reason: &SkipReason) -> String {
    match reason {
        SkipReason::TooLarge(size) => format!("too large ({size} bytes)"),
        SkipReason::Binary => "binary (NUL bytes)".to_owned(),
        SkipReason::Unreadable(e) => format!("unreadable ({e})"),
    }
}

fn exit_code(args: &DupesArgs, report: &Report, threshold: Option<f64>) -> u8 {
    let total = &report.statistics.total;
    let above = threshold.is_some_and(|t| total.percentage > t);
    let new = (args.changed || args.baseline.is_some()) && total.new_clones > 0;
    u8::from(above || new)
}
