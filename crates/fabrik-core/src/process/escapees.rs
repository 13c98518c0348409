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

/// A token no other child of this process has, nor any other fabrik's (a random part
/// guards against another fabrik with the same pid in another pid namespace).
pub(super) fn new_token() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static NONCE: OnceLock<u64> = OnceLock::new();
    become_subreaper();
    let nonce = NONCE.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish()
    });
    format!(
        "{}-{nonce:016x}-{}",
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
    // One deadline for all rounds: a process that cannot die (uninterruptible sleep, or one
    // fabrik may not signal) must not hold fabrik for long.
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut stuck: Vec<Pid> = Vec::new();
    let mut found = 0;
    for _ in 0..ROUNDS {
        let children = children();
        reap_zombies_of(pgid, &children);
        let running: Vec<Pid> = children
            .into_iter()
            .filter(|pid| !stuck.contains(pid) && has_marker(*pid, marker.as_bytes()))
            .collect();
        if running.is_empty() {
            break;
        }
        for &pid in &running {
            let _ = kill(pid, Signal::SIGKILL);
        }
        found += running.len();
        stuck.extend(wait_for(&running, deadline));
        if Instant::now() >= deadline {
            break;
        }
    }
    if found > 0 {
        // Killing an escapee may have re-parented members of the group to fabrik.
        reap_group_zombies(pgid);
    }
    found
}

/// Reaps the zombies among fabrik's children that belonged to group `pgid` (members
/// re-parented to fabrik, then ended). A zombie still counts as a group member for
/// `killpg`, so this comes before asking whether the group is gone. The leader (`pid ==
/// pgid`) is left to the thread waiting for it, and could be a new leader reusing the pid.
pub(super) fn reap_group_zombies(pgid: Pid) {
    reap_zombies_of(pgid, &children());
}

fn reap_zombies_of(pgid: Pid, children: &[Pid]) {
    for &pid in children {
        if pid != pgid && zombie_of(pid, pgid) {
            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// Reaps `pids` until `deadline`; returns those still not reaped.
fn wait_for(pids: &[Pid], deadline: Instant) -> Vec<Pid> {
    let mut left: Vec<Pid> = pids.to_vec();
    loop {
        left.retain(|&pid| {
            matches!(
                waitpid(pid, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(2));
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
