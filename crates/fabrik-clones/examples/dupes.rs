//! A stand-in for `fabrik dupes` with the same flags that matter for benchmarks, calling
//! the library the way the CLI does (cache in `<repo>/.fabrik/cache`, `--changed` against
//! the whole repository). `bench/dupes.sh` uses it when `FABRIK` points at it:
//!
//! `cargo build --release -p fabrik-clones --example dupes`
//! `FABRIK=target/release/examples/dupes bench/dupes.sh`

use std::io::Write;
use std::path::PathBuf;

use fabrik_clones::report::{TextOptions, write_json, write_sarif, write_text};
use fabrik_clones::{Language, Mode, Options};

struct Args {
    opts: Options,
    paths: Vec<PathBuf>,
    changed: bool,
    base: String,
    format: String,
    no_cache: bool,
}

fn parse() -> Result<Args, Box<dyn std::error::Error>> {
    let mut a = Args {
        opts: Options::default(),
        paths: Vec::new(),
        changed: false,
        base: "HEAD".to_owned(),
        format: "text".to_owned(),
        no_cache: false,
    };
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "dupes") {
        args.next();
    }
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--min-tokens" => a.opts.min_tokens = value()?.parse()?,
            "--min-lines" => a.opts.min_lines = value()?.parse()?,
            "--mode" => a.opts.tokenize.mode = Mode::from_name(&value()?).ok_or("bad mode")?,
            "--languages" => {
                for name in value()?.split(',') {
                    a.opts
                        .languages
                        .push(Language::from_name(name).ok_or("bad language")?);
                }
            }
            "--ignore" => a.opts.ignore.push(value()?),
            "--format" => a.format = value()?,
            "--base" => a.base = value()?,
            "--changed" => a.changed = true,
            "--no-cache" => a.no_cache = true,
            "--near" => a.opts.near = true,
            "--ignore-identifiers" => a.opts.tokenize.ignore_identifiers = true,
            "--ignore-literals" => a.opts.tokenize.ignore_literals = true,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}").into()),
            _ => a.paths.push(PathBuf::from(arg)),
        }
    }
    if a.paths.is_empty() {
        a.paths.push(PathBuf::from("."));
    }
    Ok(a)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = parse()?;
    let cwd = std::env::current_dir()?;
    let repo = fabrik_clones::toplevel(&cwd).unwrap_or_else(|_| cwd.clone());
    if !args.no_cache {
        args.opts.cache_dir = Some(repo.join(".fabrik").join("cache"));
    }
    let report = if args.changed {
        fabrik_clones::detect_changed(&cwd, &args.base, &args.opts)?
    } else {
        fabrik_clones::detect(&cwd, &args.paths, &args.opts)?
    };
    if std::env::var_os("DUPES_TIMINGS").is_some() {
        let mut err = std::io::stderr().lock();
        for (phase, took) in &report.timings {
            writeln!(err, "{phase}: {:.3}s", took.as_secs_f64())?;
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format.as_str() {
        "json" => write_json(&report, &mut out, None)?,
        "sarif" => write_sarif(&report, &mut out, None)?,
        _ => write_text(&report, &mut out, TextOptions::default())?,
    }
    out.flush()?;
    Ok(())
}
