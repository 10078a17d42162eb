//! The isolator's checkpoints under attack: an unwritable state directory
//! at prepare, the process killed with SIGKILL in the middle of
//! checkpoints, corrupt and hostile state files at recover, and orphans.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_command_modules::state::State;
use mesos_command_modules::{Answer, ErrorKind, Method};
use serde_json::{json, Value};

use crate::common::{eventually, fixture};
use crate::harness::{logged, note, start_helper, Scenario};
use crate::kills::{error, LONG_TASK_ID};

const LONG_TASK: &str = "5d863b27-579a-4a18-84fd-568d0f4eeffc";

#[test]
fn prepare_fails_loudly_when_the_state_directory_is_not_writable() {
    let sc = Scenario::start("state directory not writable at prepare");
    let cmd = sc.script("prepare", "true");
    let mut directories: Vec<(PathBuf, String)> = Vec::new();
    let blocker = sc.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    directories.push((blocker.clone(), "Not a directory (os error 20)".to_string()));
    if let Some(path) = sc.tmpfs("ro-state", "ro,size=64k") {
        directories.push((path, "Read-only file system (os error 30)".to_string()));
    }
    for (directory, reason) in directories {
        let iso = sc.isolator(&[
            ("isolator_prepare_command", cmd.to_str().unwrap()),
            ("state_directory", directory.to_str().unwrap()),
        ]);
        let out = sc.call(
            &iso,
            Method::IsolatorPrepare,
            &fixture("isolator_prepare/long-task.json"),
        );
        let e = error(&out);
        assert_eq!(e.kind, ErrorKind::State);
        let expected = format!(
            "cannot checkpoint the state of container {LONG_TASK} in {}/faults: {reason}",
            directory.display()
        );
        assert_eq!(e.message, expected);
        // Loudly: an error in the agent's log, with the call's label.
        assert!(
            logged(log::Level::Error, &expected)
                .iter()
                .any(|l| l == &format!("[faults isolator_prepare {LONG_TASK}] {expected}")),
            "{:?}",
            crate::harness::logs()
        );
        // The command did not run; the container is not known; cleanup of
        // the failed launch succeeds.
        assert!(sc.recorded_pids().is_empty());
        assert!(iso.state().unwrap().ids().is_empty());
        let out = sc.call(&iso, Method::IsolatorCleanup, LONG_TASK_ID);
        assert_eq!(out.answer, Answer::None);
    }
    sc.finish();
}

/// Two checkpoints of the same container, large enough for a write to be
/// interrupted in its middle.
fn generations() -> (String, String) {
    let config = |fill: char| {
        json!({
            "command_info": {"value": "x"},
            "directory": "/d",
            "user": fill.to_string().repeat(256 * 1024),
        })
        .to_string()
    };
    (config('a'), config('b'))
}

/// Helper process: checkpoints one container again and again, alternating
/// two configurations, until it is killed. Touches `MCM_READY` once the
/// first checkpoint is on disk.
pub fn checkpoint_forever() {
    let directory = PathBuf::from(std::env::var_os("MCM_STATE_DIR").unwrap());
    let ready = PathBuf::from(std::env::var_os("MCM_READY").unwrap());
    let (a, b) = generations();
    for i in 0u64.. {
        // A fresh State each time: as an agent restarting, it does not know
        // the container, so prepare rewrites the file.
        let state = State::new(directory.clone());
        state
            .prepare("c", if i % 2 == 0 { &a } else { &b })
            .expect("checkpoint");
        if i == 0 {
            std::fs::write(&ready, "").unwrap();
        }
    }
}

fn entries(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_checkpoint_killed_midway_is_the_old_or_the_new_never_torn() {
    let sc = Scenario::start("SIGKILL during checkpoints");
    let directory = sc.path().join("state");
    let (a, b) = generations();
    let rounds = 20;
    let mut interrupted = 0;
    for round in 0..rounds {
        let ready = sc.path().join(format!("ready-{round}"));
        let mut helper = start_helper(
            "checkpoint",
            &[("MCM_STATE_DIR", &directory), ("MCM_READY", &ready)],
        );
        assert!(
            eventually(Duration::from_secs(10), || ready.exists()),
            "the helper did not start"
        );
        // When to strike (fault timing, not synchronization): somewhere in
        // the next few checkpoints, different each round.
        std::thread::sleep(Duration::from_millis((round * 7) % 23));
        helper.kill().unwrap();
        helper.wait().unwrap();

        let on_disk = std::fs::read_to_string(directory.join("c")).unwrap();
        assert!(
            on_disk == a || on_disk == b,
            "round {round}: a torn checkpoint of {} bytes",
            on_disk.len()
        );
        let before = entries(&directory);
        let temp = before.iter().filter(|n| n.starts_with(".tmp-c-")).count();
        interrupted += temp;
        // The next agent recovers the container and drops the half-written
        // temp file.
        let state = State::new(directory.clone());
        let report = state.recover(&["c".to_string()], &[]);
        assert_eq!(report.restored, vec!["c".to_string()]);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert_eq!(report.removed.len(), temp);
        assert_eq!(entries(&directory), vec!["c".to_string()]);
        assert_eq!(state.get("c").as_deref(), Some(on_disk.as_str()));
    }
    note(&format!(
        "SIGKILL during checkpoints: {rounds} kills, {interrupted} in the middle of a write, 0 torn"
    ));
    sc.finish();
}

fn recover_document(live: &[&str], orphans: &[&str]) -> String {
    json!({
        "states": live
            .iter()
            .map(|id| json!({"container_id": {"value": id}, "pid": 1, "directory": "/d"}))
            .collect::<Vec<_>>(),
        "orphans": orphans.iter().map(|id| json!({"value": id})).collect::<Vec<_>>(),
    })
    .to_string()
}

const VALID: &str = r#"{"command_info":{"value":"x"},"directory":"/d/valid"}"#;

#[test]
fn corrupt_state_files_are_logged_skipped_and_the_module_keeps_working() {
    let sc = Scenario::start("corrupt state at recover");
    let directory = sc.scratch.state_dir().join("faults");
    std::fs::create_dir_all(&directory).unwrap();
    let file = |id: &str| directory.join(id);
    std::fs::write(file("valid"), VALID).unwrap();
    std::fs::write(file("orphan"), VALID).unwrap();
    std::fs::write(file("stale"), VALID).unwrap();
    std::fs::write(file("truncated"), &VALID[..20]).unwrap();
    std::fs::write(file("empty"), "").unwrap();
    std::fs::write(file("binary"), b"\xff\xfe\x00{").unwrap();
    std::fs::write(file("not-a-config"), r#"{"directory":5}"#).unwrap();
    std::fs::File::create(file("huge"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let c = std::ffi::CString::new(file("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid path string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(file("dir")).unwrap();
    std::fs::write(file("dir").join("inside"), VALID).unwrap();
    let elsewhere = sc.path().join("elsewhere");
    std::fs::write(&elsewhere, VALID).unwrap();
    symlink(&elsewhere, file("link")).unwrap();
    std::fs::write(file(".tmp-valid-12345"), "half").unwrap();

    let seen = sc.path().join("usage-input.json");
    let usage = sc.script(
        "usage",
        &format!(
            "cp \"$1\" {}\necho '{{\"processes\":1}}' > \"$2\"",
            seen.display()
        ),
    );
    let iso = sc.isolator(&[("isolator_usage_command", usage.to_str().unwrap())]);
    let bad = [
        "truncated",
        "empty",
        "binary",
        "not-a-config",
        "huge",
        "fifo",
        "dir",
        "link",
    ];
    let mut live = vec!["valid"];
    live.extend_from_slice(&bad);
    let out = sc.call(
        &iso,
        Method::IsolatorRecover,
        &recover_document(&live, &["orphan"]),
    );
    // Recover succeeds (a failed recover stops the agent), without hanging
    // on the FIFO or reading the 1 GiB file.
    assert_eq!(out.answer, Answer::None);
    assert_eq!(
        iso.state().unwrap().ids(),
        vec!["orphan".to_string(), "valid".to_string()]
    );
    let p = |id: &str| file(id).display().to_string();
    let reasons = [
        (
            "truncated",
            format!("{} is not valid JSON: ", p("truncated")),
        ),
        ("empty", format!("{} is not valid JSON: ", p("empty"))),
        ("binary", format!("{} is not UTF-8: ", p("binary"))),
        (
            "not-a-config",
            format!("{} is not a ContainerConfig: ", p("not-a-config")),
        ),
        (
            "huge",
            format!("{} is larger than 16777216 bytes", p("huge")),
        ),
        (
            "fifo",
            format!("{} is a FIFO, not a regular file", p("fifo")),
        ),
        (
            "dir",
            format!("{} is a directory, not a regular file", p("dir")),
        ),
        (
            "link",
            format!("{} is a symbolic link, which is not followed", p("link")),
        ),
    ];
    for (id, reason) in reasons {
        let prefix = format!(
            "[faults isolator_recover {id}] state skipped, the container is treated as unknown: \
             {reason}"
        );
        let lines = logged(log::Level::Error, &format!("isolator_recover {id}]"));
        assert_eq!(lines.len(), 1, "{id}: {lines:?}");
        assert!(lines[0].starts_with(&prefix), "{id}: {}", lines[0]);
    }
    // The orphan's file, the stale one and the interrupted checkpoint went.
    assert!(!file("orphan").exists());
    assert!(!file("stale").exists());
    assert!(!file(".tmp-valid-12345").exists());

    // The module keeps working: the valid container's usage gets its
    // configuration, a new container can be prepared.
    let out = sc.call(
        &iso,
        Method::IsolatorUsage,
        r#"{"container_id":{"value":"valid"}}"#,
    );
    assert_eq!(out.failure, None);
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(input["container_config"]["directory"], "/d/valid");
    let out = sc.call(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    assert_eq!(out.answer, Answer::None);
    // Cleanup of every container, known or not, removes its state; a
    // directory in its place is not the module's, and stays.
    for id in bad.iter().chain(["orphan", "valid"].iter()) {
        let out = sc.call(
            &iso,
            Method::IsolatorCleanup,
            &json!({"container_id": {"value": id}}).to_string(),
        );
        assert_eq!(out.answer, Answer::None, "{id}");
    }
    assert_eq!(
        entries(&directory),
        vec![LONG_TASK.to_string(), "dir".to_string()]
    );
    std::fs::remove_dir_all(file("dir")).expect("the directory stays");
    sc.finish();
}

#[test]
fn orphans_files_are_removed_and_cleanup_still_gets_their_configuration() {
    let sc = Scenario::start("orphans at recover");
    let seen = sc.path().join("cleanup-input.json");
    let cleanup = sc.script("cleanup", &format!("cp \"$1\" {}", seen.display()));
    let first = sc.isolator(&[]);
    for id in ["live", "orphan", "forgotten"] {
        let mut doc: Value =
            serde_json::from_str(&fixture("isolator_prepare/long-task.json")).unwrap();
        doc["container_id"]["value"] = id.into();
        doc["container_config"]["directory"] = format!("/d/{id}").into();
        let out = sc.call(&first, Method::IsolatorPrepare, &doc.to_string());
        assert_eq!(out.answer, Answer::None);
    }
    sc.retire(first);
    // The agent restarts: "live" is still running, "orphan" is about to be
    // destroyed, "forgotten" is unknown to Mesos.
    let second = sc.isolator(&[("isolator_cleanup_command", cleanup.to_str().unwrap())]);
    let out = sc.call(
        &second,
        Method::IsolatorRecover,
        &recover_document(&["live"], &["orphan"]),
    );
    assert_eq!(out.answer, Answer::None);
    let directory = sc.scratch.state_dir().join("faults");
    assert_eq!(entries(&directory), vec!["live".to_string()]);
    assert_eq!(
        logged(log::Level::Info, "removed state files"),
        vec![
            "[faults isolator_recover] removed state files of containers Mesos no longer runs: \
             forgotten, orphan"
                .to_string()
        ]
    );
    let out = sc.call(
        &second,
        Method::IsolatorCleanup,
        r#"{"container_id":{"value":"orphan"}}"#,
    );
    assert_eq!(out.answer, Answer::None);
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(input["container_config"]["directory"], "/d/orphan");
    sc.finish();
}
