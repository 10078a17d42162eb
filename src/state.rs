//! The isolator's per-container state: the `ContainerConfig` seen at prepare.
//!
//! Commands after prepare receive it as `container_config`, so it must
//! survive an agent restart. It is kept in memory and checkpointed to
//! `<state_directory>/<module_name>/<container_id>`, the original module's
//! layout and format (compact JSON of the `ContainerConfig`), so an upgraded
//! agent recovers containers the old module started. A checkpoint is written
//! to a temp file, fsynced and renamed: after a crash the file is the old one
//! or the new one, never a torn one.
//!
//! Nothing in the directory can stop the agent: loading never looks at it,
//! and recover never fails. A checkpoint recover cannot read makes its
//! container unknown, with the file and the reason reported; every entry
//! that is not a running container's is removed (a killed writer's temp
//! file, an orphan's or a forgotten container's file, anything else), and
//! what cannot be removed is reported. Prepare refuses what recover could
//! not read back, so that no container starts whose state would be lost.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::string::FromUtf8Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{CallError, ErrorKind};
use crate::runner::tempfiles::{read_bounded, Unreadable};
use crate::schema::{parse_json, validate, Schema, SchemaError};

/// Prefix of checkpoints being written; never a container id (ids from
/// Mesos are UUIDs).
const TEMP_PREFIX: &str = ".tmp-";
/// The largest state file read back. A `ContainerConfig` is a few KiB; a
/// bigger file is corrupt, and reading it whole would let it exhaust memory.
/// Prepare refuses to write a bigger one, which recover could not read.
pub const MAX_STATE_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// The longest file name Linux file systems take (`NAME_MAX`), which is also
/// the longest id Mesos accepts for each part of a `ContainerID`; a nested
/// container's id (`parent.child`) can be longer, and cannot be a file name.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Numbers the temp files of this process, so that two checkpoints written
/// at once never share one, even when their names are shortened.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// The containers this isolator knows. Shared by all threads.
#[derive(Debug)]
pub struct State {
    directory: PathBuf,
    containers: Mutex<HashMap<String, Arc<str>>>,
}

/// Why a state file could not be read back. Each message starts with the
/// file's path, so that the log line says which file is at fault.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No checkpoint: the module never prepared the container (or the
    /// isolator was added to an agent whose containers were running).
    #[error("{} does not exist", .path.display())]
    Missing { path: PathBuf },
    /// Not followed: recovery reads only what the module wrote.
    #[error("{} is a symbolic link, which is not followed", .path.display())]
    SymbolicLink { path: PathBuf },
    /// A FIFO, a directory, a device...: never opened for reading.
    #[error("{} is {kind}, not a regular file", .path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    /// Opening or reading it failed (the state directory is a file, a
    /// permission, an I/O error).
    #[error("{} {what}: {source}", .path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: io::Error,
    },
    /// Over [`MAX_STATE_FILE_BYTES`]: corrupt, and not read whole.
    #[error("{} is larger than {MAX_STATE_FILE_BYTES} bytes", .path.display())]
    TooLarge { path: PathBuf },
    #[error("{} is not UTF-8: {source}", .path.display())]
    NotUtf8 {
        path: PathBuf,
        source: FromUtf8Error,
    },
    /// Empty, cut short (a crash of a writer that did not write atomically,
    /// as the original module's), or not JSON at all.
    #[error("{} is not valid JSON: {source}", .path.display())]
    NotJson { path: PathBuf, source: SchemaError },
    /// JSON that stout's `protobuf::parse<ContainerConfig>` would refuse.
    #[error("{} is not a ContainerConfig: {source}", .path.display())]
    NotContainerConfig { path: PathBuf, source: SchemaError },
}

/// Why a checkpoint could not be written. The container must not start:
/// its state would be lost at the next restart.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Recover would refuse to read it back ([`MAX_STATE_FILE_BYTES`]).
    #[error(
        "its ContainerConfig is {size} bytes, more than the {MAX_STATE_FILE_BYTES} a state file \
         may hold"
    )]
    TooLarge { size: usize },
    /// Its id cannot be a file name ([`MAX_FILE_NAME_BYTES`]).
    #[error(
        "its id is {length} bytes, longer than a file name may be ({MAX_FILE_NAME_BYTES} bytes)"
    )]
    IdTooLong { length: usize },
    /// Something else than a directory is where the state directory
    /// should be (a file, a symbolic link).
    #[error("{} is not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What [`State::recover`] found.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Containers restored with their configuration.
    pub restored: Vec<String>,
    /// Containers in Mesos's list whose file is missing or unreadable, and why.
    pub skipped: Vec<(String, ReadError)>,
    /// Orphans whose file exists but cannot be read, and why: their cleanup
    /// runs no command (an orphan without a file is not listed: the module
    /// may never have prepared it).
    pub orphans_skipped: Vec<(String, ReadError)>,
    /// Entries removed: orphans', stale ones, interrupted checkpoints, as
    /// [`printable`] names.
    pub removed: Vec<String>,
    /// Entries that could not be removed (a read-only file system...), as
    /// [`printable`] paths, and why; a later recover tries again.
    pub not_removed: Vec<(String, io::Error)>,
    /// Directories found there, as [`printable`] paths, left in place: the
    /// module writes none, so one is not its own (a `state_directory`
    /// pointed at a directory of something else), and deleting a tree it
    /// did not write could destroy another program's data.
    pub foreign: Vec<String>,
    /// Why the state directory could not be listed (it does not exist is
    /// not an error): no file of a container Mesos no longer runs was
    /// removed.
    pub unlisted: Option<io::Error>,
}

impl State {
    /// State kept in `directory` (created on the first checkpoint).
    pub fn new(directory: PathBuf) -> State {
        State {
            directory,
            containers: Mutex::new(HashMap::new()),
        }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<str>>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single insert or remove).
        self.containers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configuration of a known container.
    pub fn get(&self, id: &str) -> Option<Arc<str>> {
        self.lock().get(id).cloned()
    }

    /// The known containers, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Records a new container and checkpoints it. Blocking (fsync).
    ///
    /// Fails if the container is already known or the checkpoint cannot be
    /// written, or could not be read back by [`State::recover`]: a
    /// container whose state would be lost at the next restart must not
    /// start.
    pub fn prepare(&self, id: &str, config: &str) -> Result<(), CallError> {
        {
            let mut containers = self.lock();
            if containers.contains_key(id) {
                return Err(CallError::new(
                    ErrorKind::State,
                    format!("container {id} has already been prepared"),
                ));
            }
            containers.insert(id.to_string(), Arc::from(config));
        }
        self.checkpoint(id, config).map_err(|e| {
            self.lock().remove(id);
            CallError::new(
                ErrorKind::State,
                format!(
                    "cannot checkpoint the state of container {id} in {}: {e}",
                    self.directory.display()
                ),
            )
        })
    }

    /// Forgets a container and removes its file, known or not. Blocking.
    pub fn remove(&self, id: &str) -> Result<(), CallError> {
        self.lock().remove(id);
        if id.len() > MAX_FILE_NAME_BYTES {
            // Its prepare could not checkpoint it (`WriteError::IdTooLong`):
            // there is no file, and looking for one fails with a misleading
            // "File name too long".
            return Ok(());
        }
        match remove_entry(&self.directory.join(id)) {
            Ok(()) => sync_directory(&self.directory).map_err(|e| self.io_error(id, e)),
            // No file: never checkpointed, or the state directory is not a
            // directory (prepare then failed, and said why).
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) =>
            {
                Ok(())
            }
            Err(e) => Err(self.io_error(id, e)),
        }
    }

    fn io_error(&self, id: &str, e: io::Error) -> CallError {
        CallError::new(
            ErrorKind::State,
            format!(
                "cannot remove the state file {}: {e}",
                self.directory.join(id).display()
            ),
        )
    }

    /// Restores the containers Mesos recovered (`live`) from their files,
    /// and removes every other entry: orphans' (Mesos is about to destroy
    /// them; their configuration stays in memory so that cleanup still
    /// receives it), stale ones, and interrupted checkpoints. Blocking.
    ///
    /// Never fails: an unreadable file is reported in `skipped` (or
    /// `orphans_skipped`) and the container is treated as unknown; an entry
    /// that cannot be removed is reported in `not_removed`.
    pub fn recover(&self, live: &[String], orphans: &[String]) -> Recovered {
        let mut report = self.restore(live, orphans);
        self.remove_unknown(live, &mut report);
        report
    }

    /// [`State::recover`] without removing anything: for a recover whose
    /// list of running containers is not known for sure, where removing
    /// the files of the others could remove a running container's.
    pub fn restore(&self, live: &[String], orphans: &[String]) -> Recovered {
        let mut report = Recovered::default();
        let mut seen: HashSet<&str> = HashSet::new();
        for id in live {
            if !seen.insert(id) {
                continue;
            }
            match self.read(id) {
                Ok(config) => {
                    self.lock().insert(id.clone(), Arc::from(config.as_str()));
                    report.restored.push(id.clone());
                }
                Err(reason) => report.skipped.push((id.clone(), reason)),
            }
        }
        for id in orphans {
            if !seen.insert(id) {
                continue;
            }
            match self.read(id) {
                Ok(config) => {
                    self.lock().insert(id.clone(), Arc::from(config.as_str()));
                }
                Err(ReadError::Missing { .. }) => {}
                Err(reason) => report.orphans_skipped.push((id.clone(), reason)),
            }
        }
        report
    }

    /// Removes every entry of the state directory not named after a
    /// container of `live`.
    fn remove_unknown(&self, live: &[String], report: &mut Recovered) {
        let keep: HashSet<&str> = live.iter().map(String::as_str).collect();
        let entries = match fs::read_dir(&self.directory) {
            Ok(entries) => entries,
            // Nothing was ever checkpointed.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => {
                report.unlisted = Some(e);
                return;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    report.unlisted = Some(e);
                    break;
                }
            };
            let name = entry.file_name();
            // Every name the module writes is UTF-8 (ids come through the
            // shim as UTF-8): any other name is not a container's.
            if name.to_str().is_some_and(|n| keep.contains(n)) {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                report
                    .foreign
                    .push(format!("{}/{}", self.directory.display(), printable(&name)));
                continue;
            }
            match remove_entry(&entry.path()) {
                Ok(()) => report.removed.push(printable(&name)),
                // Gone meanwhile: nothing to report.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => report.not_removed.push((
                    format!("{}/{}", self.directory.display(), printable(&name)),
                    e,
                )),
            }
        }
        report.removed.sort();
        if !report.removed.is_empty() {
            let _ = sync_directory(&self.directory);
        }
    }

    /// Reads a checkpoint back. Only a regular file is read (opened without
    /// following a symbolic link and without blocking on a FIFO), and at
    /// most [`MAX_STATE_FILE_BYTES`]: recovery must not hang or exhaust
    /// memory on whatever a crash or an operator left there.
    fn read(&self, id: &str) -> Result<String, ReadError> {
        let path = self.directory.join(id);
        let content = match read_bounded(&path, MAX_STATE_FILE_BYTES) {
            Ok(content) => content,
            Err(Unreadable::Missing) => return Err(ReadError::Missing { path }),
            Err(Unreadable::SymbolicLink) => return Err(ReadError::SymbolicLink { path }),
            Err(Unreadable::NotRegular(kind)) => return Err(ReadError::NotRegular { path, kind }),
            Err(Unreadable::Io(what, source)) => return Err(ReadError::Io { path, what, source }),
        };
        if content.truncated {
            return Err(ReadError::TooLarge { path });
        }
        let text = match String::from_utf8(content.bytes) {
            Ok(text) => text,
            Err(source) => return Err(ReadError::NotUtf8 { path, source }),
        };
        let value = match parse_json(&text) {
            Ok(value) => value,
            Err(source) => return Err(ReadError::NotJson { path, source }),
        };
        if let Err(source) = validate(Schema::ContainerConfig, &value) {
            return Err(ReadError::NotContainerConfig { path, source });
        }
        Ok(text)
    }

    fn checkpoint(&self, id: &str, config: &str) -> Result<(), WriteError> {
        if id.len() > MAX_FILE_NAME_BYTES {
            return Err(WriteError::IdTooLong { length: id.len() });
        }
        if config.len() as u64 > MAX_STATE_FILE_BYTES {
            return Err(WriteError::TooLarge { size: config.len() });
        }
        if let Err(e) = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.directory)
        {
            // `create` says "File exists" for a file in the directory's
            // place, which does not say what is wrong.
            return Err(match fs::symlink_metadata(&self.directory) {
                Ok(m) if !m.is_dir() => WriteError::NotADirectory {
                    path: self.directory.clone(),
                },
                _ => WriteError::Io(e),
            });
        }
        let temp = self.directory.join(temp_name(id));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&temp)?;
            file.write_all(config.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temp, self.directory.join(id))?;
            sync_directory(&self.directory)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        Ok(written?)
    }
}

/// The temp file a checkpoint of `id` is written to before its rename:
/// `.tmp-<id>-<pid>-<n>`, the id shortened so that the name fits in
/// [`MAX_FILE_NAME_BYTES`] (an id of up to 255 bytes, which Mesos accepts,
/// must not fail prepare for its temp file's sake), unique in the process
/// thanks to `n`. Recover removes any such file a killed writer left.
fn temp_name(id: &str) -> String {
    let suffix = format!(
        "-{}-{}",
        std::process::id(),
        NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
    );
    let room = MAX_FILE_NAME_BYTES.saturating_sub(TEMP_PREFIX.len() + suffix.len());
    let mut end = id.len().min(room);
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    format!("{TEMP_PREFIX}{}{suffix}", &id[..end])
}

/// A file name as the log shows it: control characters escaped (`\n`),
/// backslashes doubled and bytes that are not UTF-8 as `\xff`, so that a
/// name in the state directory can neither break nor forge a log line.
pub fn printable(name: &OsStr) -> String {
    let mut out = String::with_capacity(name.len());
    for chunk in name.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Removes what is at `path` in the state directory: a file, a symbolic
/// link (not its target), or a directory with its content (the state
/// directory is ours: whatever is there under a container's name goes with
/// the container).
fn remove_entry(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        // The module writes no directory: not its own to delete.
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    }
}

fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"command_info":{"value":"x"},"directory":"/d"}"#;

    #[test]
    fn prepare_checkpoints_and_remove_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::new(dir.path().join("m"));
        state.prepare("a", CONFIG).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("m/a")).unwrap(), CONFIG);
        assert_eq!(state.get("a").as_deref(), Some(CONFIG));
        let e = state.prepare("a", CONFIG).unwrap_err();
        assert!(e.message.contains("already been prepared"), "{e}");
        state.remove("a").unwrap();
        assert!(state.get("a").is_none());
        assert!(!dir.path().join("m/a").exists());
        state.remove("never-seen").unwrap();
    }

    #[test]
    fn prepare_fails_when_the_checkpoint_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let state = State::new(blocker.join("m"));
        let e = state.prepare("a", CONFIG).unwrap_err();
        assert_eq!(e.kind, ErrorKind::State);
        assert!(state.get("a").is_none());
    }

    #[test]
    fn recover_restores_skips_corrupt_files_and_removes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        let before = State::new(path.clone());
        for id in ["live", "orphan", "stale"] {
            before.prepare(id, CONFIG).unwrap();
        }
        fs::write(path.join("corrupt"), "{\"command_info\":").unwrap();
        fs::write(path.join(".tmp-x-1"), "partial").unwrap();

        let after = State::new(path.clone());
        let report = after.recover(
            &["live".into(), "corrupt".into(), "missing".into()],
            &["orphan".into()],
        );
        assert_eq!(report.restored, vec!["live".to_string()]);
        assert_eq!(report.skipped.len(), 2);
        assert!(
            report.skipped[0].1.to_string().contains("not valid JSON"),
            "{:?}",
            report.skipped
        );
        assert_eq!(report.removed, vec![".tmp-x-1", "orphan", "stale"]);
        assert_eq!(after.get("live").as_deref(), Some(CONFIG));
        assert_eq!(after.get("orphan").as_deref(), Some(CONFIG));
        assert!(after.get("corrupt").is_none());
        let mut left: Vec<String> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["corrupt", "live"]);
    }

    #[test]
    fn temp_names_fit_in_a_file_name_and_never_repeat() {
        let long = "é".repeat(200);
        let mut names = HashSet::new();
        for id in ["c", long.as_str(), &"x".repeat(255)] {
            for _ in 0..3 {
                let name = temp_name(id);
                assert!(name.len() <= MAX_FILE_NAME_BYTES, "{name}");
                assert!(name.starts_with(TEMP_PREFIX), "{name}");
                assert!(names.insert(name));
            }
        }
        assert!(temp_name("c").starts_with(&format!(".tmp-c-{}-", std::process::id())));
    }

    #[test]
    fn checkpoints_recover_could_not_read_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::new(dir.path().join("m"));
        let big = format!(
            r#"{{"directory":"{}"}}"#,
            "d".repeat(MAX_STATE_FILE_BYTES as usize)
        );
        let e = state.prepare("a", &big).unwrap_err();
        assert_eq!(e.kind, ErrorKind::State);
        assert!(e.message.ends_with("a state file may hold"), "{e}");
        let e = state.prepare(&"i".repeat(256), CONFIG).unwrap_err();
        assert!(e.message.ends_with("(255 bytes)"), "{e}");
        assert!(state.ids().is_empty());
        state.remove(&"i".repeat(256)).unwrap();
    }

    #[test]
    fn names_are_printable_on_one_line() {
        let name = OsStr::from_bytes(b"a\nb\\c\xff\x1b");
        assert_eq!(printable(name), "a\\nb\\\\c\\xff\\u{1b}");
        assert_eq!(printable(OsStr::new("5d863b27-é")), "5d863b27-é");
    }

    #[test]
    fn restore_removes_nothing_and_reports_orphans_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        let before = State::new(path.clone());
        for id in ["live", "orphan", "stale"] {
            before.prepare(id, CONFIG).unwrap();
        }
        fs::write(path.join("bad-orphan"), "").unwrap();
        let after = State::new(path.clone());
        let report = after.restore(
            &["live".into(), "live".into()],
            &[
                "orphan".into(),
                "bad-orphan".into(),
                "never-prepared".into(),
            ],
        );
        assert_eq!(report.restored, vec!["live".to_string()]);
        assert!(report.skipped.is_empty());
        assert_eq!(report.orphans_skipped.len(), 1);
        assert_eq!(report.orphans_skipped[0].0, "bad-orphan");
        assert!(matches!(
            report.orphans_skipped[0].1,
            ReadError::NotJson { .. }
        ));
        assert!(report.removed.is_empty());
        assert_eq!(after.ids(), vec!["live".to_string(), "orphan".to_string()]);
        let mut left: Vec<String> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["bad-orphan", "live", "orphan", "stale"]);
    }

    #[test]
    fn a_state_directory_that_cannot_be_listed_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m");
        fs::write(&file, "").unwrap();
        let report = State::new(file).recover(&["live".into()], &[]);
        let e = report.unlisted.expect("reported");
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
        assert!(matches!(report.skipped[0].1, ReadError::Io { .. }));
        // A directory never created is not an error: nothing was checkpointed.
        let report = State::new(dir.path().join("absent")).recover(&[], &[]);
        assert!(report.unlisted.is_none());
    }
}
