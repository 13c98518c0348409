//! Scenarios for fabrik's process supervision: stalls, ignored SIGTERM, grandchildren.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use fabrik_testkit::{Script, Step};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpgid};
use pretty_assertions::assert_eq;

use crate::support::{Sandbox, inv};

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap())
}

/// Reads the first stdout line, which the scripts below print once they are set up.
fn first_line(child: &mut Child) -> (String, BufReader<std::process::ChildStdout>) {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    (line, reader)
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn a_stalled_agent_dies_of_sigterm() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::any().print("ready\n").stall());
    let mut child = sb.spawn(&script, inv("execution", 1, 1));
    let (line, _reader) = first_line(&mut child);
    assert_eq!(line, "ready\n");
    assert_eq!(
        wait_timeout(&mut child, Duration::from_millis(200)),
        None,
        "stall ended"
    );
    kill(pid_of(&child), Signal::SIGTERM).unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10)).unwrap();
    assert_eq!(status.signal(), Some(Signal::SIGTERM as i32));
}

#[test]
fn ignore_sigterm_survives_sigterm_until_sigkill() {
    let sb = Sandbox::new();
    let script = Script::new().step(Step::any().ignore_sigterm().print("ready\n").stall());
    let mut child = sb.spawn(&script, inv("execution", 1, 1));
    let (line, _reader) = first_line(&mut child);
    assert_eq!(line, "ready\n");
    kill(pid_of(&child), Signal::SIGTERM).unwrap();
    kill(pid_of(&child), Signal::SIGTERM).unwrap();
    assert_eq!(
        wait_timeout(&mut child, Duration::from_millis(300)),
        None,
        "died of SIGTERM"
    );
    kill(pid_of(&child), Signal::SIGKILL).unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10)).unwrap();
    assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
}

#[test]
fn grandchild_outlives_the_agent_and_holds_its_pipes() {
    let sb = Sandbox::new();
    let pidfile = sb.join("grandchild.pid");
    let script = Script::new().step(
        Step::any()
            .spawn_grandchild(60, &pidfile)
            .print("spawned\n"),
    );
    let mut cmd = sb.command(&script, inv("execution", 1, 1));
    // Its own group, as fabrik runs agents, so the grandchild's group is checkable.
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let agent = pid_of(&child);
    let status = wait_timeout(&mut child, Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0));

    let grandchild: i32 = std::fs::read_to_string(&pidfile).unwrap().parse().unwrap();
    let grandchild = Pid::from_raw(grandchild);
    assert_ne!(grandchild, agent);
    assert_eq!(
        getpgid(Some(grandchild)).unwrap(),
        agent,
        "not in the agent's group"
    );
    assert_eq!(kill(grandchild, None), Ok(()), "grandchild is gone");

    // The agent has exited, yet its stdout only reaches EOF once the grandchild dies.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !reader.is_finished(),
        "stdout closed while the grandchild lives"
    );
    nix::sys::signal::killpg(agent, Signal::SIGKILL).unwrap();
    assert_eq!(reader.join().unwrap(), "spawned\n");
}
