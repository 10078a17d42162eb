//! Helpers shared by the integration tests: scripts written on the fly, and
//! modules configured around them with private temp and state directories.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_command_modules::input::Input;
use mesos_command_modules::runtime::runtime;
use mesos_command_modules::{Method, Module, ModuleKind, Outcome, StateMode};
use tempfile::TempDir;

/// A scratch area: scripts, the module's temp directory, its state.
pub struct Scratch {
    pub dir: TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes an executable script named `name` with `body` after a
    /// `#!/bin/sh` line.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    pub fn temp_dir(&self) -> PathBuf {
        let p = self.dir.path().join("tmp");
        std::fs::create_dir_all(&p).expect("mkdir tmp");
        p
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Files left in the module's temp directory (in its private subdirs;
    /// the empty call directories it keeps on a tmpfs hold nothing).
    pub fn leftover_temp_files(&self) -> Vec<PathBuf> {
        files_under(&self.temp_dir())
    }

    /// Parameters with `module_name`, the scratch temp and state
    /// directories, and `extra`.
    pub fn params(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p = vec![
            ("module_name".to_string(), "test".to_string()),
            (
                "temp_directory".to_string(),
                self.temp_dir().display().to_string(),
            ),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        p
    }

    pub fn hook(&self, extra: &[(&str, &str)]) -> Module {
        Module::new(
            ModuleKind::Hook,
            "com_criteo_mesos_CommandHook",
            &self.params(extra),
        )
        .expect("hook config")
    }

    pub fn isolator(&self, extra: &[(&str, &str)]) -> Module {
        let state = self.state_dir().display().to_string();
        let mut all = Vec::new();
        if !extra.iter().any(|(k, _)| *k == "state_directory") {
            all.push(("state_directory", state.as_str()));
        }
        all.extend_from_slice(extra);
        Module::with_state(
            ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator",
            &self.params(&all),
            StateMode::Checkpointed,
        )
        .expect("isolator config")
    }
}

/// The text of a fixture under tests/fixtures/.
pub fn fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Calls `method` with a whole input document and waits for the outcome.
pub fn call(module: &Module, method: Method, document: &str) -> Option<Outcome> {
    let input = Input::from_document(document).expect("input document");
    runtime().block_on(module.call(method, input))
}

/// Like [`call`], for calls that always answer.
pub fn answer(module: &Module, method: Method, document: &str) -> Outcome {
    call(module, method, document).expect("an outcome")
}

/// Whether a process is still running. A zombie is dead: once its parent
/// is gone, reaping it is init's job (slow on some machines), not ours.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Whether a child of ours has been reaped (no zombie left by us).
pub fn reaped(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits up to `limit` for `condition`.
pub fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// The files under `dir`, at any depth, without following symbolic links
/// (which are listed): what a directory holds once its empty directories,
/// and the call directories kept on a tmpfs with their three files empty
/// for a later call, are left out.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() && !is_kept_call_directory(&entry.path()) => {
                out.extend(files_under(&entry.path()))
            }
            Ok(kind) if kind.is_dir() => {}
            _ => out.push(entry.path()),
        }
    }
    out
}

/// A call directory kept for a later call: `input`, `output` and `error`,
/// all empty, and nothing else.
fn is_kept_call_directory(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut names: Vec<_> = entries
        .flatten()
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() == 0))
        .map(|e| e.file_name())
        .collect();
    names.sort();
    names == ["error", "input", "output"]
        && std::fs::read_dir(dir).is_ok_and(|entries| entries.count() == 3)
}
