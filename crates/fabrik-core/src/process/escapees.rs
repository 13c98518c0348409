//! Processes that left their group (`setsid`, a daemonizing double fork) and so escape
//! `killpg`.
//!
//! fabrik makes itself a *child subreaper* (Linux `PR_SET_CHILD_SUBREAPER`): a process whose
//! parent dies is re-parented to fabrik instead of init. Every child fabrik starts carries
//! a unique `FABRIK_PROC_TOKEN` in its environment, which its descendants inherit. When a
//! child has exited and its group is gone, fabrik's own children whose environment holds
//! that token can only be its escaped descendants: they get SIGKILL and are reaped, round
//! after round, since killing one may re-parent its children to fabrik in turn.
//!
//! Only processes positively identified by their token are signalled or waited for, so a
//! concurrent call's children (another token) and fabrik's own git processes (no token)
//! are never touched. A process that clears its environment, or one re-parented to fabrik
//! only after the rounds end, is not found.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// The environment variable that marks a child and its descendants.
pub const TOKEN_VAR: &str = "FABRIK_PROC_TOKEN";

/// Rounds of "find, kill, reap": each round handles one more generation of re-parenting.
const ROUNDS: usize = 8;

/// A token no other child of this process has.
pub(super) fn new_token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    become_subreaper();
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Makes fabrik the subreaper of its descendants, once. Where that is not possible the
/// escapees stay with init, as before.
fn become_subreaper() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_child_subreaper(true);
    });
}

/// Kills and reaps the escaped descendants of the child started with `token` as the leader
/// of group `pgid`; returns how many were still running. Members of that group that were
/// re-parented to fabrik and already killed (zombies, whose environment is gone) are reaped
/// too, except a process whose pid is `pgid` itself: that could be a new leader reusing it.
pub(super) fn reap(token: &str, pgid: Pid) -> usize {
    let marker = format!("{TOKEN_VAR}={token}");
    let mut found = 0;
    for _ in 0..ROUNDS {
        let mut running = Vec::new();
        let mut dead = Vec::new();
        for pid in children() {
            if has_marker(pid, marker.as_bytes()) {
                running.push(pid);
            } else if pid != pgid && zombie_of(pid, pgid) {
                dead.push(pid);
            }
        }
        if running.is_empty() && dead.is_empty() {
            break;
        }
        for &pid in &running {
            let _ = kill(pid, Signal::SIGKILL);
        }
        found += running.len();
        running.extend(dead);
        wait_for(&running);
    }
    found
}

/// Reaps `pids`, giving them up to a second to die (a process fabrik may not signal, such
/// as a setuid program, must not hang it).
fn wait_for(pids: &[Pid]) {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut left: Vec<Pid> = pids.to_vec();
    while !left.is_empty() && Instant::now() < deadline {
        left.retain(|&pid| {
            matches!(
                waitpid(pid, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        if !left.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Whether `pid` is a zombie of process group `pgid` (from `/proc/<pid>/stat`).
fn zombie_of(pid: Pid, pgid: Pid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
    state == Some("Z") && pgrp == Some(pgid.as_raw())
}

/// The direct children of this process (of every thread).
fn children() -> Vec<Pid> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for task in tasks.flatten() {
        let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        pids.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .map(Pid::from_raw),
        );
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Whether `pid`'s environment holds `marker` (`VAR=value`) as a whole entry. A zombie has
/// none, so it never matches.
fn has_marker(pid: Pid, marker: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|&b| b == 0).any(|entry| entry == marker))
}
