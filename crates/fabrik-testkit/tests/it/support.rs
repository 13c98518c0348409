//! Running the fake agent the way fabrik does: cwd, `FABRIK_*` variables, prompt on stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use fabrik_testkit::Script;
use tempfile::TempDir;

pub(crate) const FAKE_AGENT: &str = env!("CARGO_BIN_EXE_fabrik-fake-agent");

/// The `FABRIK_*` values of one invocation.
#[derive(Clone, Copy)]
pub(crate) struct Inv<'a> {
    pub(crate) stage: &'a str,
    pub(crate) iteration: u32,
    pub(crate) attempt: u32,
}

pub(crate) fn inv(stage: &str, iteration: u32, attempt: u32) -> Inv<'_> {
    Inv {
        stage,
        iteration,
        attempt,
    }
}

/// A scratch directory used as the agent's cwd, holding its script and outputs.
pub(crate) struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The agent command with `script` written to `script.json`, cwd = the sandbox and a
    /// clean set of `FABRIK_*` variables; stdin, stdout and stderr are left to the caller.
    pub(crate) fn command(&self, script: &Script, inv: Inv<'_>) -> Command {
        let script_path = script.write_to(self.join("script.json"));
        self.command_for(&script_path, inv)
    }

    /// Like [`Sandbox::command`] for a script file written by the caller.
    pub(crate) fn command_for(&self, script_path: &Path, inv: Inv<'_>) -> Command {
        let mut cmd = Command::new(FAKE_AGENT);
        cmd.arg("--script")
            .arg(script_path)
            .current_dir(self.path());
        for var in ["FABRIK_RUN_ID", "FABRIK_WORKSPACE", "FABRIK_SESSION"] {
            cmd.env_remove(var);
        }
        cmd.env("FABRIK_STAGE", inv.stage)
            .env("FABRIK_ITERATION", inv.iteration.to_string())
            .env("FABRIK_ATTEMPT", inv.attempt.to_string());
        cmd
    }

    /// Runs to completion with `prompt` on stdin.
    pub(crate) fn run(&self, script: &Script, inv: Inv<'_>, prompt: &[u8]) -> Output {
        let cmd = self.command(script, inv);
        run_with_stdin(cmd, prompt)
    }

    /// Spawns with stdin null and both outputs piped.
    pub(crate) fn spawn(&self, script: &Script, inv: Inv<'_>) -> Child {
        let mut cmd = self.command(script, inv);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    }
}

/// Spawns with outputs piped, writes `prompt` to stdin and closes it.
pub(crate) fn spawn_with_stdin(mut cmd: Command, prompt: &[u8]) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // An agent that takes its prompt elsewhere may exit before reading stdin.
    if let Err(e) = stdin.write_all(prompt) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(stdin);
    child
}

pub(crate) fn run_with_stdin(cmd: Command, prompt: &[u8]) -> Output {
    spawn_with_stdin(cmd, prompt).wait_with_output().unwrap()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}
