//! `fabrik-fake-agent`: a real process standing in for an agent CLI in fabrik's tests.
//!
//! Usage: `fabrik-fake-agent --script FILE [--prompt-file FILE | --prompt TEXT]`.
//! It reads the prompt (stdin unless given otherwise; nothing when stdin is a terminal),
//! appends one line to the script's call log, picks the first step matching
//! `FABRIK_STAGE`/`FABRIK_ITERATION`/`FABRIK_ATTEMPT`, runs its actions, and exits 0.
//! A bad script, bad arguments or a failing action exit 97 with a message on stderr.

// A test fixture whose whole purpose is to exit with chosen codes, so `process::exit` is the
// point, not a shortcut.
#![allow(clippy::exit)]

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use fabrik_testkit::{Action, Call, FAKE_AGENT_ERROR_EXIT, PROMPT_PREFIX_BYTES, Script, Stream};

const USAGE: &str = "fabrik-fake-agent --script FILE [--prompt-file FILE | --prompt TEXT]";
/// Output is produced in chunks of this size so large outputs stream.
const CHUNK: usize = 64 * 1024;
const DEFAULT_LINE_LEN: usize = 100;

fn main() {
    if let Err(msg) = run() {
        let _ = std::io::stdout().flush();
        let _ = writeln!(std::io::stderr(), "fake agent: {msg}");
        std::process::exit(FAKE_AGENT_ERROR_EXIT);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args(std::env::args_os().skip(1))?;
    let script = Script::from_file(&args.script)?;
    let inv = Invocation::from_env()?;
    let prompt = read_prompt(args.prompt)?;
    if let Some(log) = &script.log {
        append_call(log, &inv, &prompt)?;
    }
    let Some(step) = script.select(&inv.stage, inv.iteration, inv.attempt) else {
        let msg = format!("fake agent: nothing scripted for stage {}\n", inv.stage);
        return emit(Stream::Stdout, msg.as_bytes());
    };
    for (n, action) in step.actions.iter().enumerate() {
        run_action(action, &prompt).map_err(|e| format!("action {} ({action:?}): {e}", n + 1))?;
    }
    Ok(())
}

/// Where the prompt comes from.
enum PromptSource {
    Stdin,
    File(PathBuf),
    Arg(Vec<u8>),
}

struct Args {
    script: PathBuf,
    prompt: PromptSource,
}

fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let mut script = None;
    let mut prompt = PromptSource::Stdin;
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(OsString::from(value))),
            _ => (&*text, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value; usage: {USAGE}"))
        };
        match flag {
            "--script" => script = Some(PathBuf::from(value()?)),
            "--prompt-file" => prompt = PromptSource::File(value()?.into()),
            "--prompt" => prompt = PromptSource::Arg(value()?.into_vec()),
            _ => return Err(format!("unexpected argument `{text}`; usage: {USAGE}")),
        }
    }
    let script = script.ok_or(format!("missing --script; usage: {USAGE}"))?;
    Ok(Args { script, prompt })
}

fn read_prompt(source: PromptSource) -> Result<Vec<u8>, String> {
    match source {
        PromptSource::Arg(bytes) => Ok(bytes),
        PromptSource::File(path) => std::fs::read(&path)
            .map_err(|e| format!("failed to read prompt file `{}`: {e}", path.display())),
        PromptSource::Stdin => {
            let mut stdin = std::io::stdin();
            let mut buf = Vec::new();
            // A terminal would block forever; a null or closed stdin reads as empty.
            if !stdin.is_terminal() {
                stdin
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("failed to read stdin: {e}"))?;
            }
            Ok(buf)
        }
    }
}

/// The `FABRIK_*` variables fabrik sets for an agent.
struct Invocation {
    stage: String,
    iteration: u32,
    attempt: u32,
    session: String,
    run_id: String,
}

impl Invocation {
    fn from_env() -> Result<Self, String> {
        Ok(Self {
            stage: env_string("FABRIK_STAGE"),
            iteration: env_index("FABRIK_ITERATION")?,
            attempt: env_index("FABRIK_ATTEMPT")?,
            session: env_string("FABRIK_SESSION"),
            run_id: env_string("FABRIK_RUN_ID"),
        })
    }
}

fn env_string(name: &str) -> String {
    std::env::var_os(name)
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A 1-based counter variable: unset or empty means 1; anything but a number is a fabrik bug.
fn env_index(name: &str) -> Result<u32, String> {
    let value = env_string(name);
    if value.is_empty() {
        return Ok(1);
    }
    value
        .trim()
        .parse()
        .map_err(|_| format!("{name} is not a number: `{value}`"))
}

/// Appends one [`Call`] line with a single `write` on an `O_APPEND` file, so concurrent
/// agents (discovery runs two) never interleave.
fn append_call(log: &Path, inv: &Invocation, prompt: &[u8]) -> Result<(), String> {
    let call = Call {
        stage: inv.stage.clone(),
        iteration: inv.iteration,
        attempt: inv.attempt,
        session: inv.session.clone(),
        run_id: inv.run_id.clone(),
        cwd: std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?,
        pid: std::process::id(),
        prompt_bytes: prompt.len() as u64,
        prompt: String::from_utf8_lossy(&prompt[..prompt.len().min(PROMPT_PREFIX_BYTES)])
            .into_owned(),
    };
    let mut line = serde_json::to_vec(&call).map_err(|e| format!("cannot encode call: {e}"))?;
    line.push(b'\n');
    create_parent(log)?;
    let fail = |e: std::io::Error| format!("failed to append to log `{}`: {e}", log.display());
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(fail)?;
    let written = file.write(&line).map_err(fail)?;
    if written != line.len() {
        return Err(format!(
            "short write to log `{}`: {written} of {}",
            log.display(),
            line.len()
        ));
    }
    Ok(())
}

fn run_action(action: &Action, prompt: &[u8]) -> Result<(), String> {
    match action {
        Action::Write { path, content } => write_file(Path::new(path), content.as_bytes()),
        Action::Append { path, content } => append_file(Path::new(path), content.as_bytes()),
        Action::Delete(path) => delete(Path::new(path)),
        Action::Print(text) => emit(Stream::Stdout, text.as_bytes()),
        Action::Eprint(text) => emit(Stream::Stderr, text.as_bytes()),
        Action::Verdict(verdict) => emit(Stream::Stdout, verdict.render().as_bytes()),
        Action::CopyPromptTo(path) => write_file(path, prompt),
        Action::SleepMs(ms) => {
            std::thread::sleep(Duration::from_millis(*ms));
            Ok(())
        }
        Action::Stall(true) => stall(),
        Action::Stall(false) | Action::IgnoreSigterm(false) | Action::Abort(false) => Ok(()),
        Action::IgnoreSigterm(true) => ignore_sigterm(),
        Action::SpawnGrandchild { sleep_s, pidfile } => spawn_grandchild(*sleep_s, pidfile),
        Action::SpawnEscapee { sleep_s, pidfile } => spawn_escapee(*sleep_s, pidfile),
        Action::PrintBytes {
            stream,
            bytes,
            line_len,
        } => print_lines(*stream, *bytes, line_len.unwrap_or(DEFAULT_LINE_LEN)),
        Action::PrintNonUtf8(n) => {
            emit_pattern(Stream::Stdout, *n, |i| if i % 2 == 0 { 0xff } else { 0xfe })
        }
        Action::EchoEnv(var) => emit(
            Stream::Stdout,
            format!("{var}={}\n", env_string(var)).as_bytes(),
        ),
        Action::Exit(code) => {
            flush_all();
            std::process::exit(*code)
        }
        Action::Abort(true) => {
            flush_all();
            std::process::abort()
        }
        Action::Counter(path) => bump_counter(path),
    }
}

fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .map_err(|e| format!("failed to create `{}`: {e}", parent.display())),
        _ => Ok(()),
    }
}

fn write_file(path: &Path, content: &[u8]) -> Result<(), String> {
    create_parent(path)?;
    std::fs::write(path, content).map_err(|e| format!("failed to write `{}`: {e}", path.display()))
}

fn append_file(path: &Path, content: &[u8]) -> Result<(), String> {
    create_parent(path)?;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(content))
        .map_err(|e| format!("failed to append to `{}`: {e}", path.display()))
}

fn delete(path: &Path) -> Result<(), String> {
    let is_dir = std::fs::symlink_metadata(path).map(|m| m.is_dir());
    let result = match is_dir {
        Ok(true) => std::fs::remove_dir_all(path),
        Ok(false) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    result.map_err(|e| format!("failed to delete `{}`: {e}", path.display()))
}

/// Writes to a stream and flushes, so output before a stall or a kill reaches the reader.
fn emit(stream: Stream, bytes: &[u8]) -> Result<(), String> {
    let result = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(bytes),
    };
    result.map_err(|e| format!("failed to write to {stream:?}: {e}"))
}

/// Emits exactly `total` bytes, byte `i` being `byte_at(i)`, in [`CHUNK`]-sized writes.
fn emit_pattern(stream: Stream, total: u64, byte_at: impl Fn(u64) -> u8) -> Result<(), String> {
    let mut buf = Vec::with_capacity(CHUNK);
    let mut pos = 0u64;
    while pos < total {
        let len = (total - pos).min(CHUNK as u64);
        buf.clear();
        buf.extend((pos..pos + len).map(&byte_at));
        emit(stream, &buf)?;
        pos += len;
    }
    Ok(())
}

/// Lines of `line_len` bytes (`x`s then `\n`), cut at exactly `total` bytes.
fn print_lines(stream: Stream, total: u64, line_len: usize) -> Result<(), String> {
    if line_len == 0 {
        return Err("line_len must be at least 1".to_owned());
    }
    let line_len = line_len as u64;
    emit_pattern(stream, total, |i| {
        if i % line_len == line_len - 1 {
            b'\n'
        } else {
            b'x'
        }
    })
}

fn flush_all() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

fn stall() -> ! {
    flush_all();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Replaces SIGTERM's default action (terminate) by a handler that only sets a flag that
/// nobody reads: the signal is effectively ignored, without unsafe code. Unlike `SIG_IGN`,
/// a handler is not inherited across exec, so grandchildren still die of SIGTERM.
fn ignore_sigterm() -> Result<(), String> {
    signal_hook::flag::register(
        signal_hook::consts::SIGTERM,
        Arc::new(AtomicBool::new(false)),
    )
    .map(drop)
    .map_err(|e| format!("failed to install a SIGTERM handler: {e}"))
}

/// Starts `sleep N` in our process group; it inherits stdout and stderr, so it holds the
/// pipes open after we exit. It is deliberately never waited for.
fn spawn_grandchild(sleep_s: u64, pidfile: &Path) -> Result<(), String> {
    let child = Command::new("sleep")
        .arg(sleep_s.to_string())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("failed to spawn `sleep {sleep_s}`: {e}"))?;
    let pid = child.id();
    drop(child);
    write_pidfile(pid, pidfile)
}

fn spawn_escapee(sleep_s: u64, pidfile: &Path) -> Result<(), String> {
    let child = Command::new("setsid")
        .args(["sleep", &sleep_s.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("failed to spawn `setsid sleep {sleep_s}`: {e}"))?;
    let pid = child.id();
    drop(child);
    // `setsid` calls setsid(2) after it starts: wait until the child's group is its own.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline && group_of(pid) != Some(pid) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    write_pidfile(pid, pidfile)
}

/// The process group of `pid`, from `/proc/<pid>/stat`.
fn group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

fn write_pidfile(pid: u32, pidfile: &Path) -> Result<(), String> {
    // Written aside and renamed, so a test polling the pidfile never reads half of it.
    let mut tmp = pidfile.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    write_file(Path::new(&tmp), pid.to_string().as_bytes())?;
    std::fs::rename(&tmp, pidfile)
        .map_err(|e| format!("failed to write pidfile `{}`: {e}", pidfile.display()))
}

/// Increments the integer in `path` under an exclusive lock (concurrent agents share it).
fn bump_counter(path: &Path) -> Result<(), String> {
    create_parent(path)?;
    let fail = |e: std::io::Error| format!("counter `{}`: {e}", path.display());
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(fail)?;
    file.lock().map_err(fail)?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(fail)?;
    let text = text.trim();
    let n: u64 = if text.is_empty() {
        0
    } else {
        text.parse()
            .map_err(|_| format!("counter `{}` holds `{text}`", path.display()))?
    };
    file.set_len(0).map_err(fail)?;
    file.seek(SeekFrom::Start(0)).map_err(fail)?;
    file.write_all((n + 1).to_string().as_bytes()).map_err(fail)
}
