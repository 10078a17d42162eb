//! The isolator's state directory, damaged or unexpected, at load and at
//! `recover`: every case leaves the module loaded and recover successful
//! (Mesos exits when it fails), keeps the state of the containers whose
//! checkpoint is sound, says in the log which file is at fault and why, and
//! leaves no file behind for ever. Driven through the library API with the
//! real Mesos 1.11.0 inputs of `tests/fixtures/`.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

use common::{answer, fixture, Scratch};
use mesos_command_modules::state::MAX_STATE_FILE_BYTES;
use mesos_command_modules::{Answer, ErrorKind, Method, Module, ModuleKind};
use serde_json::{json, Value};

/// The container of `isolator_prepare/long-task.json`, the one
/// `isolator_recover/restarted-agent-task.json` recovers.
const LONG_TASK: &str = "5d863b27-579a-4a18-84fd-568d0f4eeffc";
/// The container of `isolator_prepare/command-task.json`.
const COMMAND_TASK: &str = "8a96d8d3-e1eb-42bf-b37c-9104f9a7b9fc";

// ---------------------------------------------------------------------
// Log capture: tests run in parallel threads, so each test uses its own
// `module_name` and looks only at the lines labelled with it.

struct Capture;

static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

fn records() -> MutexGuard<'static, Vec<(log::Level, String)>> {
    RECORDS.lock().unwrap_or_else(|p| p.into_inner())
}

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            records().push((record.level(), record.args().to_string()));
        }
    }

    fn flush(&self) {}
}

fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_boxed_logger(Box::new(Capture)).expect("the only logger");
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// The lines at `level` of module `name`.
fn logged(level: log::Level, name: &str) -> Vec<String> {
    let label = format!("[{name} ");
    records()
        .iter()
        .filter(|(l, text)| *l == level && text.starts_with(&label))
        .map(|(_, text)| text.clone())
        .collect()
}

// ---------------------------------------------------------------------

/// An isolator named `name` whose state lives in `state_directory`, with
/// `extra` parameters.
fn isolator(s: &Scratch, name: &str, state_directory: &Path, extra: &[(&str, &str)]) -> Module {
    capture_logs();
    let mut parameters = vec![
        ("module_name".to_string(), name.to_string()),
        (
            "temp_directory".to_string(),
            s.temp_dir().display().to_string(),
        ),
        (
            "state_directory".to_string(),
            state_directory.display().to_string(),
        ),
    ];
    parameters.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Module::new(
        ModuleKind::Isolator,
        "com_criteo_mesos_CommandIsolator",
        &parameters,
    )
    .expect("the isolator loads")
}

/// A script recording the input of each call as `<method>.json` and its
/// method in `calls`.
fn recorder(s: &Scratch) -> PathBuf {
    let dir = s.path().display().to_string();
    s.script(
        "recorder",
        &format!(
            r#"cp "$1" "{dir}/$MESOS_COMMAND_METHOD.json"
echo "$MESOS_COMMAND_METHOD $MESOS_COMMAND_CONTAINER_ID" >> "{dir}/calls""#
        ),
    )
}

/// The calls `recorder` saw.
fn calls(s: &Scratch) -> Vec<String> {
    std::fs::read_to_string(s.path().join("calls"))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn seen(s: &Scratch, method: &str) -> Value {
    let text = std::fs::read_to_string(s.path().join(format!("{method}.json")))
        .unwrap_or_else(|e| panic!("{method} did not run: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The entries of a directory, sorted.
fn entries(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap_or_else(|e| panic!("{}: {e}", directory.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The real recover input of an agent restarted with the long task
/// running, with `orphans` added as Mesos lists them.
fn recover_input(orphans: &[Value]) -> String {
    let mut doc: Value =
        serde_json::from_str(&fixture("isolator_recover/restarted-agent-task.json")).unwrap();
    doc["orphans"] = Value::Array(orphans.to_vec());
    doc.to_string()
}

/// The real recover input of an agent restarted with no container left.
fn recover_nothing() -> String {
    let mut doc: Value =
        serde_json::from_str(&fixture("isolator_recover/restarted-agent-task.json")).unwrap();
    doc["states"] = json!([]);
    doc.to_string()
}

/// `fixture`'s prepare input with its container id set to `id` (a
/// `ContainerID` as Mesos writes it).
fn prepare_input(fixture_path: &str, id: Value) -> String {
    let mut doc: Value = serde_json::from_str(&fixture(fixture_path)).unwrap();
    doc["container_id"] = id;
    doc.to_string()
}

fn container_id(id: &str) -> String {
    json!({ "container_id": { "value": id } }).to_string()
}

/// The checkpoint prepare writes for the long task.
fn long_task_checkpoint() -> String {
    let doc: Value = serde_json::from_str(&fixture("isolator_prepare/long-task.json")).unwrap();
    doc["container_config"].to_string()
}

/// Mounts a tmpfs at `path`, or says why not.
fn mount_tmpfs(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(path)
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        other => Err(format!("mount -t tmpfs: {other:?}")),
    }
}

fn remount(path: &Path, options: &str) {
    let status = std::process::Command::new("mount")
        .args(["-o", &format!("remount,{options}")])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "remount {options} {}", path.display());
}

fn unmount(path: &Path) {
    let _ = std::process::Command::new("umount").arg(path).status();
}

// ---------------------------------------------------------------------

/// A checkpoint that is empty, half written, not JSON, or JSON of another
/// shape is skipped, with the file and the reason in an ERROR line; the
/// container is then unknown (no watch, no cleanup command), and its
/// cleanup still removes the file.
#[test]
fn a_bad_checkpoint_of_a_running_container_is_skipped_with_its_reason() {
    let checkpoint = long_task_checkpoint();
    let half = &checkpoint[..checkpoint.len() / 2];
    let cases: &[(&str, &str, &str)] = &[
        ("empty", "", "is not valid JSON"),
        ("half", half, "is not valid JSON"),
        ("text", "container config\n", "is not valid JSON"),
        ("null", "null", "is not a ContainerConfig"),
        ("array", "[]", "is not a ContainerConfig"),
        ("string", "\"x\"", "is not a ContainerConfig"),
        ("number", "5", "is not a ContainerConfig"),
        ("empty-object", "{}", "is not a ContainerConfig"),
        (
            "wrong-member",
            r#"{"directory":"/d","command_info":[]}"#,
            "is not a ContainerConfig",
        ),
        ("two-documents", "{}{}", "is not valid JSON"),
    ];
    for (case, content, reason) in cases {
        let s = Scratch::new();
        let name = format!("bad-{case}");
        let cmd = recorder(&s);
        let directory = s.state_dir().join(&name);
        std::fs::create_dir_all(&directory).unwrap();
        let file = directory.join(LONG_TASK);
        std::fs::write(&file, content).unwrap();
        let iso = isolator(
            &s,
            &name,
            &s.state_dir(),
            &[
                ("isolator_cleanup_command", cmd.to_str().unwrap()),
                ("isolator_usage_command", cmd.to_str().unwrap()),
            ],
        );
        let out = answer(&iso, Method::IsolatorRecover, &recover_input(&[]));
        assert_eq!(out.answer, Answer::None, "{case}");
        assert!(iso.state().unwrap().ids().is_empty(), "{case}");
        let expected = format!(
            "[{name} isolator_recover {LONG_TASK}] state skipped, the container is treated as \
             unknown: {} {reason}",
            file.display()
        );
        let errors = logged(log::Level::Error, &name);
        assert!(
            errors.len() == 1 && errors[0].starts_with(&expected),
            "{case}: {errors:?}"
        );
        // The file stays until cleanup (the container runs), then goes;
        // the cleanup command does not run for an unknown container.
        assert_eq!(entries(&directory), vec![LONG_TASK.to_string()], "{case}");
        let out = answer(&iso, Method::IsolatorCleanup, &container_id(LONG_TASK));
        assert_eq!(out.answer, Answer::None, "{case}");
        assert!(entries(&directory).is_empty(), "{case}");
        assert!(calls(&s).is_empty(), "{case}: {:?}", calls(&s));
    }
}

/// An orphan (a container Mesos is about to destroy) whose checkpoint is
/// corrupt: recover says so, as for a running container, removes the file,
/// and the orphan's cleanup succeeds without running the command.
#[test]
fn an_orphans_corrupt_checkpoint_is_logged_and_removed() {
    let s = Scratch::new();
    let name = "orphan-corrupt";
    let cmd = recorder(&s);
    let directory = s.state_dir().join(name);
    let first = isolator(&s, name, &s.state_dir(), &[]);
    for input in [
        "isolator_prepare/long-task.json",
        "isolator_prepare/command-task.json",
    ] {
        let out = answer(&first, Method::IsolatorPrepare, &fixture(input));
        assert_eq!(out.answer, Answer::None);
    }
    drop(first);
    let file = directory.join(COMMAND_TASK);
    std::fs::write(&file, "{\"command_info\":{\"val").unwrap();

    let second = isolator(
        &s,
        name,
        &s.state_dir(),
        &[("isolator_cleanup_command", cmd.to_str().unwrap())],
    );
    let out = answer(
        &second,
        Method::IsolatorRecover,
        &recover_input(&[json!({ "value": COMMAND_TASK })]),
    );
    assert_eq!(out.answer, Answer::None);
    assert_eq!(second.state().unwrap().ids(), vec![LONG_TASK.to_string()]);
    let expected = format!(
        "[{name} isolator_recover {COMMAND_TASK}] state of the orphan skipped, its cleanup \
         will not run the command: {} is not valid JSON",
        file.display()
    );
    let errors = logged(log::Level::Error, name);
    assert!(
        errors.len() == 1 && errors[0].starts_with(&expected),
        "{errors:?}"
    );
    assert_eq!(entries(&directory), vec![LONG_TASK.to_string()]);
    let out = answer(
        &second,
        Method::IsolatorCleanup,
        &fixture("isolator_cleanup/container.json"),
    );
    assert_eq!(out.answer, Answer::None);
    assert!(calls(&s).is_empty(), "{:?}", calls(&s));
}

/// Containers Mesos recovers that the module never checkpointed (the
/// isolator added to an agent with running containers) are unknown, and
/// said to be; a checkpoint Mesos does not mention is removed.
#[test]
fn unknown_containers_and_unknown_checkpoints() {
    let s = Scratch::new();
    let name = "unknowns";
    let cmd = recorder(&s);
    let first = isolator(&s, name, &s.state_dir(), &[]);
    let out = answer(
        &first,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/command-task.json"),
    );
    assert_eq!(out.answer, Answer::None);
    drop(first);

    let second = isolator(
        &s,
        name,
        &s.state_dir(),
        &[
            ("isolator_cleanup_command", cmd.to_str().unwrap()),
            ("isolator_watch_command", cmd.to_str().unwrap()),
        ],
    );
    let out = answer(&second, Method::IsolatorRecover, &recover_input(&[]));
    assert_eq!(out.answer, Answer::None);
    assert!(second.state().unwrap().ids().is_empty());
    let errors = logged(log::Level::Error, name);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with(&format!(
            "{} does not exist",
            s.state_dir().join(name).join(LONG_TASK).display()
        )),
        "{errors:?}"
    );
    assert_eq!(
        logged(log::Level::Info, name)
            .into_iter()
            .filter(|l| l.contains("removed"))
            .collect::<Vec<_>>(),
        vec![format!(
            "[{name} isolator_recover] removed state files of containers Mesos no longer runs: \
             {COMMAND_TASK}"
        )]
    );
    assert!(entries(&s.state_dir().join(name)).is_empty());
    // The unknown container's watch never completes, its cleanup runs no
    // command.
    assert!(common::call(
        &second,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container-2.json")
    )
    .is_none());
    let out = answer(&second, Method::IsolatorCleanup, &container_id(LONG_TASK));
    assert_eq!(out.answer, Answer::None);
    assert!(calls(&s).is_empty(), "{:?}", calls(&s));
}

/// What a killed writer leaves (temp files), files named after no valid
/// container id, hidden files and directories: removed at recover, named
/// in one INFO line (escaped, so a name cannot forge a log line), and the
/// live container restored.
#[test]
fn unknown_entries_are_removed_at_recover_and_named_safely() {
    let s = Scratch::new();
    let name = "unknown-entries";
    let directory = s.state_dir().join(name);
    let first = isolator(&s, name, &s.state_dir(), &[]);
    answer(
        &first,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    drop(first);
    let write = |n: &[u8], content: &str| {
        std::fs::write(
            directory.join(std::ffi::OsStr::from_bytes(n)),
            content.as_bytes(),
        )
        .unwrap()
    };
    write(format!(".tmp-{LONG_TASK}-4242").as_bytes(), "{\"comm");
    write(b".tmp-", "");
    write(b"not a container id", "{}");
    write(b"forged\n[x isolator_recover] restored", "{}");
    write(b"\xff\xfe", "{}");
    std::fs::create_dir_all(directory.join("a-directory/deeper")).unwrap();
    std::fs::write(directory.join("a-directory/deeper/file"), "x").unwrap();

    let iso = isolator(&s, name, &s.state_dir(), &[]);
    let out = answer(&iso, Method::IsolatorRecover, &recover_input(&[]));
    assert_eq!(out.answer, Answer::None);
    assert_eq!(iso.state().unwrap().ids(), vec![LONG_TASK.to_string()]);
    // A directory is never the module's own: it is left, with a warning.
    let mut left = vec![LONG_TASK.to_string(), "a-directory".to_string()];
    left.sort();
    assert_eq!(entries(&directory), left);
    assert!(directory.join("a-directory/deeper/file").is_file());
    let warnings = logged(log::Level::Warn, name);
    assert!(
        warnings.iter().any(|l| l.contains(
            "a-directory in place: a directory, which the \
                                             module never writes"
        )),
        "{warnings:?}"
    );
    let infos = logged(log::Level::Info, name);
    let removed: Vec<&String> = infos.iter().filter(|l| l.contains("removed")).collect();
    assert_eq!(removed.len(), 1, "{infos:?}");
    assert!(!removed[0].contains('\n'), "{:?}", removed[0]);
    assert!(!removed[0].contains("a-directory"), "{:?}", removed[0]);
    for part in [
        ".tmp-",
        "not a container id",
        "forged\\n[x isolator_recover] restored",
        "\\xff\\xfe",
    ] {
        assert!(removed[0].contains(part), "{part}: {:?}", removed[0]);
    }
}

/// Symbolic links in the state directory are never followed: one named
/// after a running container is refused (and its target kept), one named
/// after nothing is removed, not its target.
#[test]
fn symbolic_links_are_never_followed() {
    let s = Scratch::new();
    let name = "links";
    let directory = s.state_dir().join(name);
    std::fs::create_dir_all(&directory).unwrap();
    let outside = s.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("config"), long_task_checkpoint()).unwrap();
    std::fs::write(outside.join("dir/precious"), "keep me").unwrap();
    symlink(outside.join("config"), directory.join(LONG_TASK)).unwrap();
    symlink(outside.join("dir"), directory.join("stale-link")).unwrap();
    symlink(s.path().join("nowhere"), directory.join("dangling")).unwrap();

    let iso = isolator(&s, name, &s.state_dir(), &[]);
    let out = answer(&iso, Method::IsolatorRecover, &recover_input(&[]));
    assert_eq!(out.answer, Answer::None);
    assert!(iso.state().unwrap().ids().is_empty());
    let errors = logged(log::Level::Error, name);
    assert!(
        errors.len() == 1 && errors[0].contains("is a symbolic link, which is not followed"),
        "{errors:?}"
    );
    assert_eq!(entries(&directory), vec![LONG_TASK.to_string()]);
    let out = answer(&iso, Method::IsolatorCleanup, &container_id(LONG_TASK));
    assert_eq!(out.answer, Answer::None);
    assert!(entries(&directory).is_empty());
    assert_eq!(
        std::fs::read_to_string(outside.join("config")).unwrap(),
        long_task_checkpoint()
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("dir/precious")).unwrap(),
        "keep me"
    );
}

/// A state directory that is a file: the module loads (the agent must not
/// stop), recover succeeds and says once, naming the path, that the state
/// directory cannot be read; prepare then fails loudly, saying so (not
/// "File exists"), and the failed launch's cleanup succeeds quietly.
#[test]
fn a_state_directory_that_is_a_file() {
    let s = Scratch::new();
    let name = "dir-is-file";
    std::fs::create_dir_all(s.state_dir()).unwrap();
    let file = s.state_dir().join(name);
    std::fs::write(&file, long_task_checkpoint()).unwrap();
    for input in [recover_nothing(), recover_input(&[])] {
        records().retain(|(_, l)| !l.starts_with(&format!("[{name} ")));
        let iso = isolator(&s, name, &s.state_dir(), &[]);
        let out = answer(&iso, Method::IsolatorRecover, &input);
        assert_eq!(out.answer, Answer::None);
        let errors = logged(log::Level::Error, name);
        let expected = format!(
            "[{name} isolator_recover] cannot list the state directory {}: Not a directory (os \
             error 20)",
            file.display()
        );
        assert!(
            errors.iter().any(|l| l.starts_with(&expected)),
            "{errors:?}"
        );
        let out = answer(
            &iso,
            Method::IsolatorPrepare,
            &fixture("isolator_prepare/command-task.json"),
        );
        let Answer::Error(e) = out.answer else {
            panic!("{:?}", out.answer)
        };
        assert_eq!(e.kind, ErrorKind::State);
        assert_eq!(
            e.message,
            format!(
                "cannot checkpoint the state of container {COMMAND_TASK} in {0}: {0} is not a \
                 directory",
                file.display()
            )
        );
        // The failed launch's cleanup succeeds, and has no file to remove
        // (no error about one).
        let before = logged(log::Level::Error, name).len();
        let out = answer(
            &iso,
            Method::IsolatorCleanup,
            &fixture("isolator_cleanup/container.json"),
        );
        assert_eq!(out.answer, Answer::None);
        let errors = logged(log::Level::Error, name);
        assert_eq!(errors.len(), before, "{errors:?}");
    }
    // Nothing touched the file.
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        long_task_checkpoint()
    );
}

/// A state directory on a file system remounted read-only: the running
/// container is restored, and each file that cannot be removed is named in
/// a WARNING with the reason (instead of being kept silently for ever).
#[test]
fn a_read_only_state_directory() {
    let s = Scratch::new();
    let name = "read-only";
    let mount = s.path().join("mnt");
    if let Err(why) = mount_tmpfs(&mount) {
        println!("skipping a_read_only_state_directory: {why}");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let first = isolator(&s, name, &mount, &[]);
        for input in [
            "isolator_prepare/long-task.json",
            "isolator_prepare/command-task.json",
        ] {
            let out = answer(&first, Method::IsolatorPrepare, &fixture(input));
            assert_eq!(out.answer, Answer::None);
        }
        drop(first);
        let directory = mount.join(name);
        std::fs::write(directory.join(".tmp-x-1"), "half").unwrap();
        remount(&mount, "ro");

        let iso = isolator(&s, name, &mount, &[]);
        let out = answer(&iso, Method::IsolatorRecover, &recover_input(&[]));
        assert_eq!(out.answer, Answer::None);
        assert_eq!(iso.state().unwrap().ids(), vec![LONG_TASK.to_string()]);
        let warnings = logged(log::Level::Warn, name);
        for file in [".tmp-x-1", COMMAND_TASK] {
            let expected = format!(
                "[{name} isolator_recover] cannot remove {}: Read-only file system (os error \
                 30)",
                directory.join(file).display()
            );
            assert!(warnings.contains(&expected), "{file}: {warnings:?}");
        }
        // The cleanup of the running container cannot remove its file
        // either: logged, and the cleanup succeeds.
        let out = answer(&iso, Method::IsolatorCleanup, &container_id(LONG_TASK));
        assert_eq!(out.answer, Answer::None);
        remount(&mount, "rw");
    });
    unmount(&mount);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// A checkpoint larger than recover reads back would be lost at the next
/// restart: prepare refuses it, with the size, rather than starting a
/// container whose state cannot survive (and leaves no file).
#[test]
fn a_checkpoint_recover_would_refuse_is_refused_at_prepare() {
    let s = Scratch::new();
    let name = "huge";
    let directory = s.state_dir().join(name);
    let iso = isolator(&s, name, &s.state_dir(), &[]);
    let mut doc: Value = serde_json::from_str(&fixture("isolator_prepare/long-task.json")).unwrap();
    doc["container_config"]["executor_info"]["labels"] = json!({
        "labels": [{"key": "big", "value": "x".repeat(MAX_STATE_FILE_BYTES as usize)}]
    });
    let size = doc["container_config"].to_string().len();
    let out = answer(&iso, Method::IsolatorPrepare, &doc.to_string());
    let Answer::Error(e) = out.answer else {
        panic!("prepare accepted a checkpoint recover cannot read back")
    };
    assert_eq!(e.kind, ErrorKind::State);
    assert_eq!(
        e.message,
        format!(
            "cannot checkpoint the state of container {LONG_TASK} in {}: its ContainerConfig \
             is {size} bytes, more than the {MAX_STATE_FILE_BYTES} a state file may hold",
            directory.display()
        )
    );
    assert!(iso.state().unwrap().ids().is_empty());
    assert!(!directory.exists() || entries(&directory).is_empty());

    // One just below the limit is written and recovered.
    let room = MAX_STATE_FILE_BYTES as usize - (size - MAX_STATE_FILE_BYTES as usize) - 64;
    doc["container_config"]["executor_info"]["labels"]["labels"][0]["value"] =
        "x".repeat(room).into();
    let out = answer(&iso, Method::IsolatorPrepare, &doc.to_string());
    assert_eq!(out.answer, Answer::None);
    drop(iso);
    let again = isolator(&s, name, &s.state_dir(), &[]);
    let out = answer(&again, Method::IsolatorRecover, &recover_input(&[]));
    assert_eq!(out.answer, Answer::None);
    assert_eq!(again.state().unwrap().ids(), vec![LONG_TASK.to_string()]);
}

/// Mesos accepts container ids of up to 255 bytes (`NAME_MAX`); the temp
/// file of a checkpoint must not make prepare fail for a long one that
/// fits as a file name, and the checkpoint must survive a restart.
#[test]
fn a_long_container_id_is_checkpointed_and_recovered() {
    let s = Scratch::new();
    let name = "long-id";
    let id = "c".repeat(250);
    let iso = isolator(&s, name, &s.state_dir(), &[]);
    let out = answer(
        &iso,
        Method::IsolatorPrepare,
        &prepare_input("isolator_prepare/long-task.json", json!({ "value": id })),
    );
    assert_eq!(out.answer, Answer::None, "{:?}", out.failure);
    drop(iso);
    let again = isolator(&s, name, &s.state_dir(), &[]);
    let mut doc: Value =
        serde_json::from_str(&fixture("isolator_recover/restarted-agent-task.json")).unwrap();
    doc["states"][0]["container_id"]["value"] = id.clone().into();
    let out = answer(&again, Method::IsolatorRecover, &doc.to_string());
    assert_eq!(out.answer, Answer::None);
    assert_eq!(again.state().unwrap().ids(), vec![id.clone()]);
    assert_eq!(entries(&s.state_dir().join(name)), vec![id.clone()]);

    // A nested container whose `parent.child` id is longer than a file
    // name may be cannot be checkpointed (the original module ignored the
    // error and lost the state at the next restart): prepare says why, and
    // its cleanup succeeds quietly.
    let nested = json!({ "value": "n".repeat(250), "parent": { "value": id } });
    let length = 250 + 1 + 250;
    let out = answer(
        &again,
        Method::IsolatorPrepare,
        &prepare_input("isolator_prepare/nested-container.json", nested.clone()),
    );
    let Answer::Error(e) = out.answer else {
        panic!("{:?}", out.answer)
    };
    assert!(
        e.message.ends_with(&format!(
            ": its id is {length} bytes, longer than a file name may be (255 bytes)"
        )),
        "{e}"
    );
    let out = answer(
        &again,
        Method::IsolatorCleanup,
        &json!({ "container_id": nested }).to_string(),
    );
    assert_eq!(out.answer, Answer::None);
    assert!(logged(log::Level::Error, name)
        .iter()
        .all(|l| l.contains("isolator_prepare")));
}

/// A recovered nested container (a task group's) keeps its state, and its
/// cleanup gets its configuration.
#[test]
fn a_nested_container_survives_a_restart() {
    let s = Scratch::new();
    let name = "nested";
    let cmd = recorder(&s);
    let nesting = [("supports_nesting", "true")];
    let first = isolator(&s, name, &s.state_dir(), &nesting);
    for input in [
        "isolator_prepare/task-group-executor.json",
        "isolator_prepare/nested-container.json",
    ] {
        let out = answer(&first, Method::IsolatorPrepare, &fixture(input));
        assert_eq!(out.answer, Answer::None, "{input}");
    }
    drop(first);
    let nested: Value =
        serde_json::from_str(&fixture("isolator_cleanup/nested-container.json")).unwrap();
    let parent: Value =
        serde_json::from_str(&fixture("isolator_cleanup/container-2.json")).unwrap();
    let mut doc: Value =
        serde_json::from_str(&fixture("isolator_recover/restarted-agent-task.json")).unwrap();
    let template = doc["states"][0].clone();
    let mut states = Vec::new();
    for id in [&parent, &nested] {
        let mut state = template.clone();
        state["container_id"] = id["container_id"].clone();
        states.push(state);
    }
    doc["states"] = Value::Array(states);
    let second = isolator(
        &s,
        name,
        &s.state_dir(),
        &[
            ("supports_nesting", "true"),
            ("isolator_cleanup_command", cmd.to_str().unwrap()),
        ],
    );
    let out = answer(&second, Method::IsolatorRecover, &doc.to_string());
    assert_eq!(out.answer, Answer::None);
    assert_eq!(second.state().unwrap().ids().len(), 2);
    assert!(logged(log::Level::Error, name).is_empty());
    let out = answer(
        &second,
        Method::IsolatorCleanup,
        &fixture("isolator_cleanup/nested-container.json"),
    );
    assert_eq!(out.answer, Answer::None);
    let input = seen(&s, "isolator_cleanup");
    assert_eq!(
        input["container_config"]["container_class"], "DEFAULT",
        "{input}"
    );
}

/// Recover arguments the module cannot read (not what the shim passes,
/// but a module error must never be worse than a failed command): the
/// module cannot tell which containers run, so it removes no checkpoint,
/// restores what it can read and says why in an ERROR line.
#[test]
fn unreadable_recover_arguments_remove_no_checkpoint() {
    let real: Value =
        serde_json::from_str(&fixture("isolator_recover/restarted-agent-task.json")).unwrap();
    let states = real["states"].to_string();
    let mut unnamed = real["states"].clone();
    unnamed
        .as_array_mut()
        .unwrap()
        .push(json!({"container_id": {"val": "x"}, "pid": 1, "directory": "/d"}));
    let cases: Vec<(&str, Vec<String>, &str, bool)> = vec![
        (
            "args-states-not-json",
            vec!["[{\"container_id\"".to_string(), "[]".to_string()],
            "states",
            false,
        ),
        (
            "args-states-object",
            vec!["{}".to_string(), "[]".to_string()],
            "states",
            false,
        ),
        (
            "args-states-unnamed",
            vec![unnamed.to_string(), "[]".to_string()],
            "states",
            true,
        ),
        (
            "args-orphans-not-json",
            vec![states.clone(), "[{".to_string()],
            "orphans",
            true,
        ),
    ];
    for (name, arguments, member, restores) in cases {
        let s = Scratch::new();
        let directory = s.state_dir().join(name);
        let first = isolator(&s, name, &s.state_dir(), &[]);
        for input in [
            "isolator_prepare/long-task.json",
            "isolator_prepare/command-task.json",
        ] {
            answer(&first, Method::IsolatorPrepare, &fixture(input));
        }
        drop(first);
        let iso = isolator(&s, name, &s.state_dir(), &[]);
        let out = iso.call_blocking(Method::IsolatorRecover, arguments);
        assert_eq!(out.answer, Answer::None, "{name}");
        assert_eq!(
            entries(&directory),
            vec![LONG_TASK.to_string(), COMMAND_TASK.to_string()],
            "{name}: a checkpoint was removed"
        );
        let restored = if restores {
            vec![LONG_TASK.to_string()]
        } else {
            vec![]
        };
        assert_eq!(iso.state().unwrap().ids(), restored, "{name}");
        let errors = logged(log::Level::Error, name);
        let expected = format!(
            "[{name} isolator_recover] the {member} argument cannot be read, so no state file \
             is removed: "
        );
        assert!(
            errors.iter().any(|l| l.starts_with(&expected)),
            "{name}: {errors:?}"
        );
    }
}
