//! The run store: `.fabrik/` at the repository root.
//!
//! ```text
//! .fabrik/lock                          flock held by the driving fabrik (pid inside)
//! .fabrik/events.jsonl                  every run's events
//! .fabrik/runs/<id>/state.json          atomic snapshot after every transition
//! .fabrik/runs/<id>/events.jsonl        this run's events
//! .fabrik/runs/<id>/{discovery.md, plan.md, verdict-<n>.json, gates-<n>.json}
//! .fabrik/runs/<id>/reports/step-<n>-<stage>.{md,json}
//! .fabrik/runs/<id>/agents/<stage>-<n>.{prompt,stdout,stderr}
//! ```

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use fabrik_core::contract::{EVENT_SCHEMA, Event, EventKind, event_id};
use fabrik_core::durable::{Durability, append_jsonl, read_jsonl, write_json_atomic};
use fabrik_core::{RunId, Stage};

use crate::error::{Error, Result, io};
use crate::state::{RunState, STATE_VERSION};

/// The `.fabrik/` directory of one repository.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// The repository lock; released when dropped or when the process dies (flock).
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
}

impl Store {
    /// The store of the repository at `root` (no I/O).
    #[must_use]
    pub fn new(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
        }
    }

    /// The repository root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/.fabrik`.
    #[must_use]
    pub fn dir(&self) -> PathBuf {
        self.root.join(".fabrik")
    }

    /// `<root>/.fabrik/runs`.
    #[must_use]
    pub fn runs_dir(&self) -> PathBuf {
        self.dir().join("runs")
    }

    /// The directory of run `id`.
    #[must_use]
    pub fn run_dir(&self, id: &RunId) -> PathBuf {
        self.runs_dir().join(id.as_str())
    }

    /// Creates `.fabrik/` and keeps it out of git (`.git/info/exclude`).
    ///
    /// # Errors
    /// I/O errors.
    pub fn init(&self) -> Result<()> {
        fs::create_dir_all(self.runs_dir()).map_err(io(self.runs_dir()))?;
        let exclude = self.root.join(".git").join("info").join("exclude");
        if self.root.join(".git").is_dir() {
            let current = fs::read_to_string(&exclude).unwrap_or_default();
            if !current
                .lines()
                .any(|l| l.trim() == ".fabrik/" || l.trim() == "/.fabrik/")
            {
                fs::create_dir_all(exclude.parent().unwrap_or(&self.root)).map_err(io(&exclude))?;
                let sep = if current.is_empty() || current.ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                fs::write(&exclude, format!("{current}{sep}/.fabrik/\n")).map_err(io(&exclude))?;
            }
        }
        Ok(())
    }

    /// Takes the repository lock. When another fabrik holds it: with `wait`, calls
    /// `on_wait(holder_pid)` once and blocks; without, fails with [`Error::Busy`].
    ///
    /// # Errors
    /// [`Error::Busy`] or I/O errors.
    pub fn lock(&self, wait: bool, on_wait: impl FnOnce(Option<u32>)) -> Result<RepoLock> {
        let path = self.dir().join("lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = read_pid(&mut file);
                if !wait {
                    return Err(Error::Busy { pid });
                }
                on_wait(pid);
                file.lock().map_err(io(&path))?;
            }
            Err(TryLockError::Error(e)) => return Err(Error::Io { path, source: e }),
        }
        file.set_len(0).map_err(io(&path))?;
        file.rewind().map_err(io(&path))?;
        let _ = write!(file, "{}", std::process::id());
        Ok(RepoLock { _file: file })
    }

    /// Reads a run's state.
    ///
    /// # Errors
    /// [`Error::RunNotFound`], [`Error::CorruptState`] (naming the file), I/O errors.
    pub fn load(&self, id: &RunId) -> Result<RunState> {
        let path = self.run_dir(id).join("state.json");
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::RunNotFound {
                    id: id.to_string(),
                    dir: self.runs_dir(),
                });
            }
            Err(e) => return Err(Error::Io { path, source: e }),
        };
        let state: RunState = serde_json::from_slice(&bytes).map_err(|e| Error::CorruptState {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if state.state_version > STATE_VERSION {
            let reason = format!(
                "written by a newer fabrik (state version {})",
                state.state_version
            );
            return Err(Error::CorruptState { path, reason });
        }
        Ok(state)
    }

    /// Every run id, oldest first.
    ///
    /// # Errors
    /// I/O errors reading the directory.
    pub fn list(&self) -> Result<Vec<RunId>> {
        let dir = self.runs_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::Io {
                    path: dir,
                    source: e,
                });
            }
        };
        // A directory without state.json is a run that died before its first snapshot:
        // nothing ran, so there is nothing to list or resume.
        let mut ids: Vec<RunId> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                e.path().join("state.json").exists().then_some(())?;
                e.file_name().to_str().and_then(RunId::parse)
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Moves a corrupt `state.json` aside (never deleted) and records the run as failed,
    /// rebuilding what it can (task, risk) from the run's event log.
    ///
    /// # Errors
    /// I/O errors.
    pub fn mark_failed(&self, id: &RunId) -> Result<PathBuf> {
        let dir = self.run_dir(id);
        let path = dir.join("state.json");
        let aside = dir.join(format!("state.json.corrupt-{}", std::process::id()));
        let events: Vec<Event> = read_jsonl(&dir.join("events.jsonl"))
            .map(|r| r.records)
            .unwrap_or_default();
        let started = events.iter().find(|e| e.kind == EventKind::RunStarted);
        let field = |k: &str| started.and_then(|e| e.data.get(k)).cloned();
        let now = fabrik_core::time::now_rfc3339();
        let mut fresh = RunState {
            state_version: STATE_VERSION,
            run_id: id.clone(),
            task: field("task")
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "(unknown)".into()),
            risk: field("risk")
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or(fabrik_core::Risk::Medium),
            risk_reasons: Vec::new(),
            phase: crate::machine::Phase::Failed(fabrik_core::exit::STAGE_FAILURE),
            status: crate::state::DriverStatus::Finished,
            created_at: started.map_or_else(|| now.clone(), |e| e.ts.clone()),
            updated_at: now,
            elapsed_seconds: 0.0,
            plan_source: None,
            workspace: crate::state::WorkspaceState {
                mode: crate::state::WorkspaceKind::Worktree,
                path: field("workspace")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                branch: None,
                base_commit: None,
                checkpoint: None,
            },
            max_verify: 0,
            iteration: 0,
            plan_sha256: None,
            open_issues: Vec::new(),
            sessions: Vec::new(),
            stages: Vec::new(),
            stages_skipped: Vec::new(),
            event_seq: events.len() as u64,
            error: Some(format!(
                "state.json was corrupt and was moved to {}",
                aside.display()
            )),
            failed_at: None,
        };
        fs::rename(&path, &aside).map_err(io(&path))?;
        fresh.updated_at = fabrik_core::time::now_rfc3339();
        write_json_atomic(&path, &fresh).map_err(io(&path))?;
        Ok(aside)
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut s).ok()?;
    s.trim().parse().ok()
}

/// Writes of one run: its state snapshot and its events.
#[derive(Clone, Debug)]
pub struct RunFiles {
    /// `.fabrik/runs/<id>`.
    pub dir: PathBuf,
    global_events: PathBuf,
}

impl RunFiles {
    /// Creates the run's directories.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(store: &Store, id: &RunId) -> Result<RunFiles> {
        let dir = store.run_dir(id);
        for d in [dir.join("reports"), dir.join("agents")] {
            fs::create_dir_all(&d).map_err(io(&d))?;
        }
        Ok(RunFiles {
            dir,
            global_events: store.dir().join("events.jsonl"),
        })
    }

    /// Writes `state.json` atomically.
    ///
    /// # Errors
    /// I/O errors (the previous snapshot is then intact).
    pub fn save(&self, state: &mut RunState) -> Result<()> {
        state.updated_at = fabrik_core::time::now_rfc3339();
        let path = self.dir.join("state.json");
        write_json_atomic(&path, state).map_err(io(path))
    }

    /// Appends an event to the run's and the repository's log.
    ///
    /// # Errors
    /// I/O errors.
    pub fn event(
        &self,
        state: &mut RunState,
        kind: EventKind,
        stage: Option<Stage>,
        iteration: Option<u32>,
        data: serde_json::Value,
    ) -> Result<()> {
        let ev = Event {
            schema: EVENT_SCHEMA.to_owned(),
            event_id: event_id(&state.run_id, kind, stage, iteration, state.event_seq),
            ts: fabrik_core::time::now_rfc3339(),
            run_id: state.run_id.clone(),
            kind,
            stage,
            iteration,
            data,
        };
        state.event_seq += 1;
        let run_log = self.dir.join("events.jsonl");
        append_jsonl(&run_log, &ev).map_err(io(run_log))?;
        append_jsonl(&self.global_events, &ev).map_err(io(&self.global_events))
    }

    /// Lines already in the run's event log (a resumed driver continues numbering after
    /// them, so event ids stay unique even when the last snapshot was lost).
    #[must_use]
    pub fn events_written(&self) -> u64 {
        read_jsonl::<serde_json::Value>(&self.dir.join("events.jsonl"))
            .map(|r| (r.records.len() + r.skipped) as u64)
            .unwrap_or(0)
    }

    /// Writes a file of the run atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        // The frozen plan is what the state's sha256 refers to: durable before the state is.
        let durability = if name == "plan.md" {
            Durability::Now
        } else {
            Durability::Deferred
        };
        fabrik_core::durable::write_atomic(&path, bytes, durability).map_err(io(&path))?;
        Ok(path)
    }
}
