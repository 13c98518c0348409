//! Child-process supervision for agents and gates.
//!
//! Each child runs in its own process group with a null or piped stdin. Its stdout and
//! stderr are drained concurrently by two threads into capped files and bounded in-memory
//! head/tail buffers, redacted line by line. On timeout or cancellation the whole group gets
//! SIGTERM, then SIGKILL after a grace period; when the child exits on its own, any process
//! left in its group is ended the same way, and descendants that left the group (`setsid`)
//! are found by an environment token and killed (see `escapees`), so no orphan survives
//! (reference/reliability.md P7, P9, P10).

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::redact::Redactor;

mod escapees;

pub use escapees::TOKEN_VAR;

/// A shared flag set by the signal handler; supervisors poll it.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    #[must_use]
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Wraps a flag registered with a signal handler.
    #[must_use]
    pub fn from_flag(flag: Arc<AtomicBool>) -> CancelToken {
        CancelToken(flag)
    }

    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancellation was requested.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Program (looked up on PATH when it has no slash).
    pub program: OsString,
    /// Arguments.
    pub args: Vec<OsString>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Environment: when `clear_env`, exactly these; otherwise added to fabrik's own.
    pub env: Vec<(OsString, OsString)>,
    /// Start from an empty environment.
    pub clear_env: bool,
    /// Bytes written to stdin, which is then closed; `None` gives a null stdin.
    pub stdin: Option<Vec<u8>>,
    /// Where the full (capped, redacted) stdout goes.
    pub stdout_path: Option<PathBuf>,
    /// Where the full (capped, redacted) stderr goes.
    pub stderr_path: Option<PathBuf>,
    /// Wall-clock limit.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Output limits.
    pub limits: Limits,
    /// Applied to every line before it is stored anywhere.
    pub redactor: Redactor,
}

/// Bounds on what is kept of a stream.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes kept in memory from the start of the stream.
    pub head: usize,
    /// Bytes kept in memory from the end of the stream.
    pub tail: usize,
    /// Bytes written to the stream's file; the rest is counted, not stored.
    pub file_cap: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            head: 1 << 20,
            tail: 1 << 20,
            file_cap: 256 << 20,
        }
    }
}

impl Spec {
    /// A spec with defaults: null stdin, inherited environment, no timeout, 5 s grace.
    pub fn new(program: impl Into<OsString>, cwd: impl Into<PathBuf>) -> Spec {
        Spec {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            clear_env: false,
            stdin: None,
            stdout_path: None,
            stderr_path: None,
            timeout: None,
            grace: Duration::from_secs(5),
            limits: Limits::default(),
            redactor: Redactor::default(),
        }
    }

    /// Appends an argument.
    #[must_use]
    pub fn arg(mut self, a: impl Into<OsString>) -> Spec {
        self.args.push(a.into());
        self
    }
}

/// Why fabrik ended the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The wall-clock limit passed.
    Timeout,
    /// fabrik was interrupted.
    Cancelled,
}

/// How the child ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Exit code, when it exited normally.
    pub code: Option<i32>,
    /// Signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Set when fabrik ended it.
    pub stopped: Option<StopReason>,
    /// Wall time.
    pub elapsed: Duration,
    /// stdout as kept.
    pub stdout: Captured,
    /// stderr as kept.
    pub stderr: Captured,
    /// Processes of the child's group still alive after the child exited (then killed).
    pub leaked: bool,
    /// Descendants that had left the group (`setsid`) and were still running once the
    /// child and its group were gone (then killed).
    pub escaped: usize,
}

impl Outcome {
    /// Exit code 0 and not stopped.
    #[must_use]
    pub fn success(&self) -> bool {
        self.code == Some(0) && self.stopped.is_none()
    }
}

/// What was kept of one output stream.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    /// The first bytes (up to `Limits::head`).
    pub head: Vec<u8>,
    /// The last bytes (up to `Limits::tail`), not overlapping `head`.
    pub tail: Vec<u8>,
    /// Bytes the child wrote.
    pub total: u64,
}

impl Captured {
    /// Whether bytes were dropped between head and tail.
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.total > (self.head.len() + self.tail.len()) as u64
    }

    /// Head and tail as text (lossy), with a marker where bytes were dropped.
    #[must_use]
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        if self.truncated() {
            let dropped = self.total - (self.head.len() + self.tail.len()) as u64;
            s.push_str(&format!("\n[... {dropped} bytes not kept in memory ...]\n"));
        }
        s.push_str(&String::from_utf8_lossy(&self.tail));
        s
    }

    /// The last `max` bytes as text (for error messages and gate tails).
    #[must_use]
    pub fn tail_text(&self, max: usize) -> String {
        let all: Vec<u8> = if self.tail.is_empty() {
            self.head.clone()
        } else {
            self.tail.clone()
        };
        let start = all.len().saturating_sub(max);
        String::from_utf8_lossy(&all[start..]).into_owned()
    }
}

/// Failure to start the child at all.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The program does not exist or is not executable.
    #[error("program `{program}` not found")]
    NotFound {
        /// The program as given.
        program: String,
    },
    /// Any other I/O error while starting.
    #[error("failed to start `{program}`")]
    Io {
        /// The program as given.
        program: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

const POLL: Duration = Duration::from_millis(5);
/// How often a running child's supervisor looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);
/// How long to wait for the pipes to close after the group is gone (an escaped grandchild
/// can hold them forever).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs `spec` to completion under supervision.
///
/// # Errors
/// Only when the child cannot be started; everything after that is in the [`Outcome`].
pub fn run(spec: &Spec, cancel: &CancelToken) -> Result<Outcome, SpawnError> {
    let start = Instant::now();
    let token = escapees::new_token();
    let mut cmd = command(spec);
    cmd.env(TOKEN_VAR, &token);
    let program = spec.program.to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|source| match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => SpawnError::NotFound {
            program: program.clone(),
        },
        _ => SpawnError::Io {
            program: program.clone(),
            source,
        },
    })?;
    let pgid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));

    let stdin_thread = child
        .stdin
        .take()
        .zip(spec.stdin.clone())
        .map(|(mut pipe, bytes)| {
            // A child that never reads its stdin must not block us: write from a thread.
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            })
        });
    let out = child.stdout.take().map(|p| {
        drain(
            p,
            spec.stdout_path.clone(),
            spec.limits,
            spec.redactor.clone(),
        )
    });
    let err = child.stderr.take().map(|p| {
        drain(
            p,
            spec.stderr_path.clone(),
            spec.limits,
            spec.redactor.clone(),
        )
    });

    let (status, stopped) = supervise(child, pgid, spec, cancel, start);
    // The leader is gone; anything left in its group is an orphan in the making.
    let leaked = group_alive(pgid);
    if leaked {
        terminate_group(pgid, spec.grace);
    }
    // Before the pipes are drained: an escapee holding them would keep them open.
    let escaped = escapees::reap(&token, pgid);
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    let stdout = join_drain(out, deadline);
    let stderr = join_drain(err, deadline);
    if let Some(t) = stdin_thread {
        let _ = t.join();
    }
    Ok(Outcome {
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        stopped,
        elapsed: start.elapsed(),
        stdout,
        stderr,
        leaked,
        escaped,
    })
}

fn command(spec: &Spec) -> Command {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        .process_group(0)
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if spec.clear_env {
        cmd.env_clear();
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Waits for the child, enforcing the timeout and cancellation. A waiter thread owns the
/// child so its exit is seen at once (no polling delay); signals go to the process group.
fn supervise(
    child: std::process::Child,
    pgid: Pid,
    spec: &Spec,
    cancel: &CancelToken,
    start: Instant,
) -> (Option<ExitStatus>, Option<StopReason>) {
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let mut child = child;
        let status = child.wait().ok();
        let _ = tx.send(());
        status
    });
    let mut stopped = None;
    loop {
        let tick = match spec.timeout {
            Some(t) => t.saturating_sub(start.elapsed()).min(CANCEL_POLL),
            None => CANCEL_POLL,
        };
        match rx.recv_timeout(tick) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let reason = if cancel.is_cancelled() {
            Some(StopReason::Cancelled)
        } else if spec.timeout.is_some_and(|t| start.elapsed() >= t) {
            Some(StopReason::Timeout)
        } else {
            None
        };
        if let Some(reason) = reason {
            stopped = Some(reason);
            let _ = killpg(pgid, Signal::SIGTERM);
            if rx.recv_timeout(spec.grace).is_err() {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            break;
        }
    }
    (waiter.join().ok().flatten(), stopped)
}

/// Whether any process is left in the group (zombies of members re-parented to fabrik, a
/// subreaper, are reaped first: they are gone, but `killpg` still counts them).
fn group_alive(pgid: Pid) -> bool {
    escapees::reap_group_zombies(pgid);
    killpg(pgid, None).is_ok()
}

/// SIGTERM to the group, then SIGKILL after `grace` if anything is still there.
pub fn terminate_group(pgid: Pid, grace: Duration) {
    let _ = killpg(pgid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !group_alive(pgid) {
            return;
        }
        thread::sleep(POLL);
    }
    let _ = killpg(pgid, Signal::SIGKILL);
}

/// A drain thread's result arrives on this channel when the stream closes.
type DrainHandle = mpsc::Receiver<Captured>;

fn drain(
    pipe: impl Read + Send + 'static,
    path: Option<PathBuf>,
    limits: Limits,
    redactor: Redactor,
) -> DrainHandle {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(Drain::new(path.as_deref(), limits, redactor).run(pipe));
    });
    rx
}

/// Waits for a stream to close, at most until `deadline`: a pipe held open by an escaped
/// grandchild must not hang fabrik (the thread is then left to finish on its own).
fn join_drain(handle: Option<DrainHandle>, deadline: Instant) -> Captured {
    handle
        .and_then(|rx| {
            rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .ok()
        })
        .unwrap_or_default()
}

/// Longest line held before it is redacted and flushed anyway.
const MAX_LINE: usize = 1 << 20;

struct Drain {
    file: Option<BufWriter<File>>,
    written: u64,
    limits: Limits,
    redactor: Redactor,
    line: Vec<u8>,
    captured: Captured,
}

impl Drain {
    fn new(path: Option<&Path>, limits: Limits, redactor: Redactor) -> Drain {
        Drain {
            file: path.and_then(|p| File::create(p).ok()).map(BufWriter::new),
            written: 0,
            limits,
            redactor,
            line: Vec::new(),
            captured: Captured::default(),
        }
    }

    fn run(mut self, mut pipe: impl Read) -> Captured {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.feed(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let rest = std::mem::take(&mut self.line);
        self.emit(&rest);
        if let Some(f) = self.file.as_mut() {
            let _ = f.flush();
        }
        self.captured
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        self.captured.total += bytes.len() as u64;
        while let Some(i) = memchr_nl(bytes) {
            self.line.extend_from_slice(&bytes[..=i]);
            let line = std::mem::take(&mut self.line);
            self.emit(&line);
            bytes = &bytes[i + 1..];
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() >= MAX_LINE {
            let line = std::mem::take(&mut self.line);
            self.emit(&line);
        }
    }

    fn emit(&mut self, raw: &[u8]) {
        if raw.is_empty() {
            return;
        }
        let red = self.redactor.redact_bytes(raw);
        if let Some(f) = self.file.as_mut() {
            let room = self.limits.file_cap.saturating_sub(self.written);
            let take = usize::try_from(room).unwrap_or(usize::MAX).min(red.len());
            if take > 0 && f.write_all(&red[..take]).is_ok() {
                self.written += take as u64;
            }
        }
        keep(&mut self.captured, &red, self.limits);
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Appends to head until full, then to a tail ring (trimmed in halves to stay amortised O(n)).
fn keep(c: &mut Captured, bytes: &[u8], limits: Limits) {
    let head_room = limits.head.saturating_sub(c.head.len());
    let (to_head, rest) = bytes.split_at(head_room.min(bytes.len()));
    c.head.extend_from_slice(to_head);
    if rest.is_empty() || limits.tail == 0 {
        return;
    }
    c.tail.extend_from_slice(rest);
    if c.tail.len() > limits.tail * 2 {
        let cut = c.tail.len() - limits.tail;
        c.tail.drain(..cut);
    }
}

/// Trims a captured tail to its limit (the ring keeps up to twice the limit while running).
fn finish(mut c: Captured, limits: Limits) -> Captured {
    if c.tail.len() > limits.tail {
        let cut = c.tail.len() - limits.tail;
        c.tail.drain(..cut);
    }
    c
}

impl Outcome {
    /// Applies the final tail trim (called by [`run`]'s callers that keep outcomes around).
    #[must_use]
    pub fn trimmed(mut self, limits: Limits) -> Outcome {
        self.stdout = finish(std::mem::take(&mut self.stdout), limits);
        self.stderr = finish(std::mem::take(&mut self.stderr), limits);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Spec {
        Spec::new("sh", std::env::temp_dir()).arg("-c").arg(script)
    }

    #[test]
    fn captures_stdout_stderr_and_code() {
        let o = run(&sh("echo out; echo err >&2; exit 3"), &CancelToken::new()).unwrap();
        assert_eq!(o.code, Some(3));
        assert_eq!(o.stdout.text(), "out\n");
        assert_eq!(o.stderr.text(), "err\n");
        assert!(!o.success());
    }

    #[test]
    fn stdin_is_delivered() {
        let mut s = sh("cat");
        s.stdin = Some(b"hello prompt".to_vec());
        let o = run(&s, &CancelToken::new()).unwrap();
        assert_eq!(o.stdout.text(), "hello prompt");
    }

    #[test]
    fn missing_program_is_not_found() {
        let e = run(
            &Spec::new("/nonexistent/agent-xyz", "."),
            &CancelToken::new(),
        )
        .unwrap_err();
        assert!(matches!(e, SpawnError::NotFound { .. }), "{e:?}");
    }

    #[test]
    fn timeout_kills_the_group_including_grandchildren() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("gc.pid");
        let mut s = sh(&format!(
            "sleep 30 & echo $! > {}; trap '' TERM; sleep 30",
            pidfile.display()
        ));
        s.timeout = Some(Duration::from_millis(300));
        s.grace = Duration::from_millis(200);
        let o = run(&s, &CancelToken::new()).unwrap();
        assert_eq!(o.stopped, Some(StopReason::Timeout));
        let gc: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            nix::sys::signal::kill(Pid::from_raw(gc), None).is_err(),
            "grandchild {gc} survived"
        );
        assert!(o.elapsed < Duration::from_secs(5));
    }

    /// The pid a test script writes to `path`, once it is there.
    fn wait_for_pid(path: &Path) -> Pid {
        loop {
            if let Ok(pid) = std::fs::read_to_string(path)
                .unwrap_or_default()
                .trim()
                .parse()
            {
                return Pid::from_raw(pid);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_descendant_that_left_the_group_is_killed_when_the_child_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("escapee.pid");
        // `setsid` puts the sleep in a new session (and group): killpg cannot reach it, and
        // it holds stdout open. The shell exits once the escapee has left the group.
        let s = sh(&format!(
            "setsid sh -c 'echo $$ > {0}; exec sleep 30' & \
             while [ ! -s {0} ]; do sleep 0.01; done; echo started",
            pidfile.display()
        ));
        let o = run(&s, &CancelToken::new()).unwrap();
        let pid = wait_for_pid(&pidfile);
        assert!(
            nix::sys::signal::kill(pid, None).is_err(),
            "escapee {pid} survived (or is an unreaped zombie)"
        );
        assert_eq!(o.escaped, 1);
        assert_eq!(o.code, Some(0));
        assert_eq!(o.stdout.text().trim(), "started");
    }

    #[test]
    fn a_group_member_left_behind_is_ended_without_waiting_out_the_grace() {
        // The member is re-parented to fabrik (a subreaper) when the shell exits; once
        // SIGTERM ends it, it is a zombie that must be reaped, not counted as alive until
        // the grace period runs out.
        let mut s = sh("sleep 30 & echo $! > /dev/null; exit 0");
        s.grace = Duration::from_secs(20);
        let o = run(&s, &CancelToken::new()).unwrap();
        assert!(o.leaked);
        assert!(o.elapsed < Duration::from_secs(10), "{:?}", o.elapsed);

        let mut s = sh("sleep 30 & sleep 30");
        s.timeout = Some(Duration::from_millis(200));
        s.grace = Duration::from_secs(20);
        let o = run(&s, &CancelToken::new()).unwrap();
        assert_eq!(o.stopped, Some(StopReason::Timeout));
        assert!(o.elapsed < Duration::from_secs(10), "{:?}", o.elapsed);
    }

    #[test]
    fn a_concurrent_childs_descendants_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("other.pid");
        // One child leaves a `setsid` sleep behind and keeps running; another child ends.
        // Ending the second must not touch the first one's escapee.
        let first = {
            let s = sh(&format!(
                "setsid sh -c 'echo $$ > {0}; exec sleep 30' </dev/null >/dev/null 2>&1 & \
                 sleep 1",
                pidfile.display()
            ));
            std::thread::spawn(move || run(&s, &CancelToken::new()).unwrap())
        };
        let pid = wait_for_pid(&pidfile);
        let second = run(&sh("echo done"), &CancelToken::new()).unwrap();
        assert_eq!(second.escaped, 0);
        assert!(
            nix::sys::signal::kill(pid, None).is_ok(),
            "the other child's escapee was killed"
        );
        let first = first.join().unwrap();
        assert_eq!(first.escaped, 1);
        assert!(nix::sys::signal::kill(pid, None).is_err());
    }

    #[test]
    fn huge_output_is_bounded_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sh("head -c 20000000 /dev/zero | tr '\\0' 'x'; echo; echo LAST");
        s.limits = Limits {
            head: 1024,
            tail: 1024,
            file_cap: 4096,
        };
        s.stdout_path = Some(dir.path().join("out"));
        let o = run(&s, &CancelToken::new()).unwrap().trimmed(s.limits);
        assert_eq!(o.stdout.total, 20_000_006);
        assert!(o.stdout.head.len() <= 1024 && o.stdout.tail.len() <= 1024);
        assert!(o.stdout.text().ends_with("LAST\n"));
        assert_eq!(
            std::fs::metadata(dir.path().join("out")).unwrap().len(),
            4096
        );
    }

    #[test]
    fn output_is_redacted_before_storage() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sh("echo token=s3cr3tvalue123");
        s.redactor = Redactor::from_env([("X_TOKEN", "s3cr3tvalue123")]);
        s.stdout_path = Some(dir.path().join("out"));
        let o = run(&s, &CancelToken::new()).unwrap();
        assert!(!o.stdout.text().contains("s3cr3t"));
        assert!(
            !std::fs::read_to_string(dir.path().join("out"))
                .unwrap()
                .contains("s3cr3t")
        );
    }

    #[test]
    fn cancel_stops_the_child() {
        let cancel = CancelToken::new();
        let c2 = cancel.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            c2.cancel();
        });
        let o = run(&sh("sleep 30"), &cancel).unwrap();
        assert_eq!(o.stopped, Some(StopReason::Cancelled));
    }
}
