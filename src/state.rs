//! The isolator's per-container state: the `ContainerConfig` seen at prepare.
//!
//! Commands after prepare receive it as `container_config`, so it must
//! survive an agent restart. It is kept in memory and checkpointed to
//! `<state_directory>/<module_name>/<container_id>`, the original module's
//! layout and format (compact JSON of the `ContainerConfig`), so an upgraded
//! agent recovers containers the old module started. A checkpoint is written
//! to a temp file, fsynced and renamed: after a crash the file is the old one
//! or the new one, never a torn one.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{CallError, ErrorKind};
use crate::runner::tempfiles::{read_bounded, Unreadable};
use crate::schema::{parse_json, validate, Schema};

/// Prefix of checkpoints being written; never a container id (ids from
/// Mesos are UUIDs).
const TEMP_PREFIX: &str = ".tmp-";
/// The largest state file read back. A `ContainerConfig` is a few KiB; a
/// bigger file is corrupt, and reading it whole would let it exhaust memory.
pub const MAX_STATE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The containers this isolator knows. Shared by all threads.
#[derive(Debug)]
pub struct State {
    directory: PathBuf,
    containers: Mutex<HashMap<String, Arc<str>>>,
}

/// What [`State::recover`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Containers restored with their configuration.
    pub restored: Vec<String>,
    /// Containers in Mesos's list whose file is missing or unreadable, and why.
    pub skipped: Vec<(String, String)>,
    /// Files removed: orphans', stale ones, interrupted checkpoints.
    pub removed: Vec<String>,
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
    /// written: a container whose state would be lost at the next restart
    /// must not start.
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
        match remove_entry(&self.directory.join(id)) {
            Ok(()) => sync_directory(&self.directory).map_err(|e| self.io_error(id, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
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
    /// and removes every other file: orphans' (Mesos is about to destroy
    /// them; their configuration stays in memory so that cleanup still
    /// receives it), stale ones, and interrupted checkpoints. Blocking.
    ///
    /// Never fails: an unreadable file is reported in `skipped` and the
    /// container is treated as unknown.
    pub fn recover(&self, live: &[String], orphans: &[String]) -> Recovered {
        let mut report = Recovered::default();
        for id in live.iter().chain(orphans) {
            match self.read(id) {
                Ok(config) => {
                    self.lock().insert(id.clone(), Arc::from(config.as_str()));
                    if live.contains(id) {
                        report.restored.push(id.clone());
                    }
                }
                Err(reason) if live.contains(id) => report.skipped.push((id.clone(), reason)),
                Err(_) => {}
            }
        }
        let keep: HashSet<&String> = live.iter().collect();
        if let Ok(entries) = fs::read_dir(&self.directory) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name) && remove_entry(&entry.path()).is_ok() {
                    report.removed.push(name);
                }
            }
        }
        report.removed.sort();
        if !report.removed.is_empty() {
            let _ = sync_directory(&self.directory);
        }
        report
    }

    /// Reads a checkpoint back. Only a regular file is read (opened without
    /// following a symbolic link and without blocking on a FIFO), and at
    /// most [`MAX_STATE_FILE_BYTES`]: recovery must not hang or exhaust
    /// memory on whatever a crash or an operator left there.
    fn read(&self, id: &str) -> Result<String, String> {
        let path = self.directory.join(id);
        let content = read_bounded(&path, MAX_STATE_FILE_BYTES).map_err(|problem| {
            let problem = match problem {
                Unreadable::Missing => "does not exist".to_string(),
                Unreadable::SymbolicLink => "is a symbolic link, which is not followed".to_string(),
                Unreadable::NotRegular(kind) => format!("is {kind}, not a regular file"),
                Unreadable::Io(what, e) => format!("{what}: {e}"),
            };
            format!("{} {problem}", path.display())
        })?;
        if content.truncated {
            return Err(format!(
                "{} is larger than {MAX_STATE_FILE_BYTES} bytes",
                path.display()
            ));
        }
        let text = String::from_utf8(content.bytes)
            .map_err(|e| format!("{} is not UTF-8: {e}", path.display()))?;
        let value =
            parse_json(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
        validate(Schema::ContainerConfig, &value)
            .map_err(|e| format!("{} is not a ContainerConfig: {e}", path.display()))?;
        Ok(text)
    }

    fn checkpoint(&self, id: &str, config: &str) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.directory)?;
        let temp = self
            .directory
            .join(format!("{TEMP_PREFIX}{id}-{}", std::process::id()));
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
        written
    }
}

/// Removes what is at `path` in the state directory: a file, a symbolic
/// link (not its target), or a directory with its content (the state
/// directory is ours: whatever is there under a container's name goes with
/// the container).
fn remove_entry(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
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
            report.skipped[0].1.contains("not valid JSON"),
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
}
