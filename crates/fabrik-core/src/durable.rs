//! Crash-safe files: atomic replacement and append-only JSON Lines with torn-tail repair.
//!
//! The promise (reference/reliability.md P1, P4): `kill -9` at any instant leaves every file
//! either its old or its new content, and a torn final JSONL line is never glued to the next
//! record.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// sha256 of `bytes` as lowercase hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// How soon a write must survive power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Before the call returns: temp file, fsync, rename, fsync of the directory. For run
    /// snapshots and the frozen plan, which resume depends on.
    Now,
    /// Crash-atomic at once (rename); the fsyncs are queued to the background syncer and
    /// [`flush`] waits for them. For reports and transcripts, where a power loss may cost
    /// the last moments but never corrupts.
    Deferred,
}

/// Replaces `path` with `bytes` atomically with [`Durability::Deferred`].
///
/// # Errors
/// Any I/O error; the old file is then intact.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, bytes, Durability::Deferred)
}

/// Replaces `path` with `bytes` atomically: a temp file in the same directory renamed over
/// the target, so readers (and a process killed at any instant) see the old or the new
/// content, never a mix; `durability` says when it also survives power loss.
///
/// # Errors
/// Any I/O error; the old file is then intact.
pub fn write_atomic(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("atomic_write: path has no file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let now = durability == Durability::Now;
    let result = File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            if now { f.sync_data() } else { Ok(()) }
        })
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    if now {
        sync_dir(dir)
    } else {
        syncer::queue(path);
        Ok(())
    }
}

/// Waits until every queued fsync is done (call before reporting a run as finished).
pub fn flush() {
    syncer::flush();
}

/// Background fsyncs. fsync costs milliseconds per call on ordinary disks (3-4 ms measured
/// here); doing it inline for every snapshot, report and event would dominate fabrik's own
/// overhead. Writes are already crash-atomic through rename; the syncer adds power-loss
/// durability moments later, batching repeated files, and `flush` makes it complete.
mod syncer {
    use std::collections::BTreeSet;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::mpsc::{self, Sender};
    use std::sync::{Mutex, OnceLock};

    enum Msg {
        Sync(PathBuf),
        Flush(Sender<()>),
    }

    fn sender() -> Option<Sender<Msg>> {
        static TX: OnceLock<Mutex<Sender<Msg>>> = OnceLock::new();
        let tx = TX.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Msg>();
            std::thread::spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut files = BTreeSet::new();
                    let mut waiters = Vec::new();
                    for m in std::iter::once(first).chain(rx.try_iter()) {
                        match m {
                            Msg::Sync(p) => {
                                files.insert(p);
                            }
                            Msg::Flush(w) => waiters.push(w),
                        }
                    }
                    let dirs: BTreeSet<PathBuf> = files
                        .iter()
                        .filter_map(|p| p.parent().map(Path::to_path_buf))
                        .collect();
                    for p in files.iter().chain(&dirs) {
                        let _ = File::open(p).and_then(|f| f.sync_all());
                    }
                    for w in waiters {
                        let _ = w.send(());
                    }
                }
            });
            Mutex::new(tx)
        });
        tx.lock().ok().map(|g| g.clone())
    }

    pub(super) fn queue(path: &Path) {
        if let Some(tx) = sender() {
            let _ = tx.send(Msg::Sync(path.to_path_buf()));
        }
    }

    pub(super) fn flush() {
        let (tx, rx) = mpsc::channel();
        if let Some(s) = sender()
            && s.send(Msg::Flush(tx)).is_ok()
        {
            let _ = rx.recv();
        }
    }
}

/// fsyncs a directory so a rename in it survives power loss.
///
/// # Errors
/// When the directory cannot be opened or synced.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Serialises `value` as pretty JSON plus a newline and writes it with [`Durability::Now`].
///
/// # Errors
/// I/O errors; serialisation of these types cannot fail.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes, Durability::Now)
}

/// Appends one JSON value as a line to `path`, first repairing a torn tail: if the file does
/// not end in `\n`, the unterminated fragment is moved to `<path>.torn` and cut off, so it can
/// never be glued to this record.
///
/// # Errors
/// I/O errors.
pub fn append_jsonl<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut f = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    repair_torn_tail(&mut f, path)?;
    // One write call for the whole line: with O_APPEND, concurrent appenders never interleave
    // inside a line of this size.
    f.write_all(&line)?;
    syncer::queue(path);
    Ok(())
}

fn repair_torn_tail(f: &mut File, path: &Path) -> io::Result<()> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(len - 1))?;
    f.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Find the start of the torn fragment: after the last newline.
    let chunk = len.min(1 << 20);
    f.seek(SeekFrom::Start(len - chunk))?;
    let mut buf = Vec::with_capacity(usize::try_from(chunk).unwrap_or(0));
    f.take(chunk).read_to_end(&mut buf)?;
    let keep = match buf.iter().rposition(|&b| b == b'\n') {
        Some(i) => len - chunk + i as u64 + 1,
        None if chunk == len => 0,
        None => len - chunk,
    };
    let fragment_start = usize::try_from(keep - (len - chunk)).unwrap_or(0);
    let mut torn = path.as_os_str().to_os_string();
    torn.push(".torn");
    let mut t = OpenOptions::new()
        .create(true)
        .append(true)
        .open(PathBuf::from(torn))?;
    t.write_all(&buf[fragment_start..])?;
    t.write_all(b"\n")?;
    f.set_len(keep)?;
    Ok(())
}

/// Lines of a JSON Lines file that parsed, and how many did not.
#[derive(Debug)]
pub struct JsonLines<T> {
    /// Records in file order.
    pub records: Vec<T>,
    /// Malformed lines skipped (a bad line never hides the lines after it).
    pub skipped: usize,
}

/// Reads a JSON Lines file leniently: blank and malformed lines are skipped and counted.
/// A missing file reads as empty.
///
/// # Errors
/// I/O errors other than "not found".
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<JsonLines<T>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(parse_jsonl(&bytes))
}

/// Parses JSON Lines leniently (see [`read_jsonl`]).
#[must_use]
pub fn parse_jsonl<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> JsonLines<T> {
    let mut out = JsonLines {
        records: Vec::new(),
        skipped: 0,
    };
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(line) {
            Ok(v) => out.records.push(v),
            Err(_) => out.skipped += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }

    #[test]
    fn torn_tail_is_cut_and_saved_before_append() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        fs::write(&p, b"{\"a\":1}\n{\"a\":2").unwrap();
        append_jsonl(&p, &json!({"a": 3})).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\"a\":1}\n{\"a\":3}\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("events.jsonl.torn")).unwrap(),
            "{\"a\":2\n"
        );
    }

    #[test]
    fn torn_only_line_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.jsonl");
        fs::write(&p, b"{\"a\":").unwrap();
        append_jsonl(&p, &json!({"b": 1})).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\"b\":1}\n");
    }

    #[test]
    fn reader_skips_bad_lines_without_hiding_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.jsonl");
        fs::write(
            &p,
            b"{\"a\":1}\r\n\n\0\0\0garbage\n{\"a\":2}{\"a\":9}\n{\"a\":3}",
        )
        .unwrap();
        let r: JsonLines<Value> = read_jsonl(&p).unwrap();
        assert_eq!(r.records, vec![json!({"a":1}), json!({"a":3})]);
        assert_eq!(r.skipped, 2);
    }

    proptest::proptest! {
        #[test]
        fn append_after_any_truncation_keeps_every_complete_line(cut in 0usize..200) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("e.jsonl");
            for i in 0..10 { append_jsonl(&p, &json!({"i": i})).unwrap(); }
            let bytes = fs::read(&p).unwrap();
            let cut = cut.min(bytes.len());
            fs::write(&p, &bytes[..cut]).unwrap();
            let complete = bytes[..cut].iter().filter(|&&b| b == b'\n').count();
            append_jsonl(&p, &json!({"i": 99})).unwrap();
            let r: JsonLines<Value> = read_jsonl(&p).unwrap();
            proptest::prop_assert_eq!(r.skipped, 0);
            proptest::prop_assert_eq!(r.records.len(), complete + 1);
        }
    }
}
