//! The temp directory under attack: files removed while the command runs
//! (by the command, or by a tmp cleaner taking the whole directory), files
//! left next to them, a full temp directory, a read-only one, one that is a
//! file. Each is a clear error and leaves nothing behind; later calls work.

use std::path::PathBuf;
use std::time::Duration;

use mesos_command_modules::runner::tempfiles::memory_backed;
use mesos_command_modules::{Answer, ErrorKind, Method, Module};

use crate::common::{files_under, fixture};
use crate::harness::{cgroups, clear_logs, logged, skip, Scenario};
use crate::kills::{error, LABELS, LABELS_COMMAND, LABELS_DOC, LABELS_TIMEOUT};

const ANSWER: &str = r#"echo '{"labels":[]}' > "$2""#;

#[test]
fn temp_files_removed_while_the_command_runs() {
    let sc = Scenario::start("temp files removed during the call");
    let cmd = sc.script(
        "remover",
        &format!(
            r#"case "$(cat "$1")" in
  *remove-files*) rm -f "$1" "$2" "$3"; exit 0 ;;
  *remove-directory*) rm -rf "$(dirname "$(dirname "$1")")"; exit 0 ;;
  *litter*) echo x > "$2.tmp"; mkdir "$(dirname "$1")/sub"; echo y > "$(dirname "$1")/sub/z" ;;
esac
{ANSWER}"#
        ),
    );
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        (LABELS_TIMEOUT, "5"),
    ]);
    let doc = |marker: &str| {
        let mut doc: serde_json::Value = serde_json::from_str(&fixture(LABELS_DOC)).unwrap();
        doc["task_info"]["name"] = marker.into();
        doc.to_string()
    };

    // Its own files removed: the answer is gone, and said so.
    let out = sc.call(&hook, LABELS, &doc("remove-files"));
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::BadOutput);
    assert!(
        e.message
            .starts_with(&format!("Command \"{}\": the output file /", cmd.display())),
        "{e}"
    );
    assert!(
        e.message
            .ends_with("/output was removed while the command ran"),
        "{e}"
    );

    // The whole private directory removed (a tmp cleaner): the same, and
    // the next call creates a new one.
    let out = sc.call(&hook, LABELS, &doc("remove-directory"));
    assert!(error(&out)
        .message
        .ends_with("/output was removed while the command ran"));
    let out = sc.call(&hook, LABELS, &doc("plain"));
    assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));

    // Files and directories written next to its own go with them.
    let out = sc.call(&hook, LABELS, &doc("litter"));
    assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    sc.finish();
}

#[test]
fn a_full_temp_directory_is_a_clear_error() {
    let sc = Scenario::start("temp directory full");
    let Some(small) = sc.tmpfs("small", "size=64k") else {
        return;
    };
    let cmd = sc.script("ok", ANSWER);
    let temp = small.to_str().unwrap().to_string();
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        ("temp_directory", &temp),
    ]);
    // An input larger than the file system.
    let mut doc: serde_json::Value = serde_json::from_str(&fixture(LABELS_DOC)).unwrap();
    doc["task_info"]["data"] = "A".repeat(100 * 1024).into();
    let out = sc.call(&hook, LABELS, &doc.to_string());
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(
        e.message
            .starts_with(&format!("cannot write the input file {temp}/")),
        "{e}"
    );
    assert!(
        e.message
            .ends_with("/input: No space left on device (os error 28)"),
        "{e}"
    );
    // Nothing left behind on the full file system, and a small call works.
    // (Paths, not entries: an entry keeps its directory open.)
    let private: Vec<_> = std::fs::read_dir(&small)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(private.len(), 1, "only the private directory");
    assert_eq!(files_under(&private[0]), Vec::<std::path::PathBuf>::new());
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    // The command cannot write its answer on a full file system: its own
    // failure, reported as such.
    let filler = sc.script(
        "filler",
        r#"head -c 1000000 /dev/zero > "$(dirname "$1")/fill" 2>/dev/null
echo '{"labels":[]}' > "$2" || { echo "no space for the answer" > /dev/stderr; exit 3; }"#,
    );
    let hook = sc.hook(&[
        (LABELS_COMMAND, filler.to_str().unwrap()),
        ("temp_directory", &temp),
    ]);
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(
        error(&out).message,
        format!(
            "Command \"{}\" exited with return code 3.",
            filler.display()
        )
    );
    assert_eq!(files_under(&private[0]), Vec::<std::path::PathBuf>::new());
    drop(hook);
    sc.finish();
}

#[test]
fn a_read_only_or_missing_temp_directory_is_a_clear_error() {
    let sc = Scenario::start("temp directory not writable");
    let cmd = sc.script("ok", ANSWER);
    if let Some(ro) = sc.tmpfs("ro", "ro,size=64k") {
        let temp = ro.to_str().unwrap().to_string();
        let hook = sc.hook(&[
            (LABELS_COMMAND, cmd.to_str().unwrap()),
            ("temp_directory", &temp),
        ]);
        let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
        let e = error(&out);
        assert_eq!(e.kind, ErrorKind::Io);
        assert_eq!(
            e.message,
            format!(
                "cannot create a private temp directory under {temp}: Read-only file system (os \
                 error 30)"
            )
        );
        assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
    }
    // A temp directory that is a file.
    let file = sc.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        ("temp_directory", file.to_str().unwrap()),
    ]);
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(
        error(&out).message,
        format!(
            "cannot create a private temp directory under {}: Not a directory (os error 20)",
            file.display()
        )
    );
    // Usage still answers (its contract absorbs failures), quickly.
    let usage = sc.script("usage", r#"echo '{"processes":1}' > "$2""#);
    let iso = sc.isolator(&[
        ("isolator_usage_command", usage.to_str().unwrap()),
        ("temp_directory", file.to_str().unwrap()),
    ]);
    let out = sc.call(
        &iso,
        Method::IsolatorUsage,
        &fixture("isolator_usage/container.json"),
    );
    assert!(matches!(out.answer, Answer::Value(_)));
    assert_eq!(out.failure.unwrap().kind, ErrorKind::Io);
    assert!(out.duration < Duration::from_secs(1));
    sc.finish();
}

#[test]
fn a_temp_directory_off_tmpfs_is_said_at_load() {
    let sc = Scenario::start("temp directory's file system at load");
    let cmd = sc.script("answer", ANSWER);
    let said = || logged(log::Level::Info, "is not on a tmpfs");

    // The scenario's own temp directory, wherever the machine keeps it.
    let hook = sc.hook(&[(LABELS_COMMAND, cmd.to_str().unwrap())]);
    let temp = hook.config().temp_directory.clone();
    match memory_backed(&temp) {
        Some(false) => {
            let lines = said();
            assert_eq!(lines.len(), 1, "{lines:?}");
            let expected = format!(
                "[faults] temp_directory {} is not on a tmpfs: each call creates and removes",
                temp.display()
            );
            assert!(lines[0].starts_with(&expected), "{}", lines[0]);
            assert!(
                lines[0].ends_with("under /run) avoids both"),
                "{}",
                lines[0]
            );
        }
        _ => assert_eq!(said(), Vec::<String>::new()),
    }

    // A tmpfs: nothing said.
    clear_logs();
    let shm = std::path::Path::new("/dev/shm");
    if memory_backed(shm) == Some(true) {
        let dir = tempfile::tempdir_in(shm).unwrap();
        let on_tmpfs = sc.hook(&[
            (LABELS_COMMAND, cmd.to_str().unwrap()),
            ("temp_directory", dir.path().to_str().unwrap()),
        ]);
        assert_eq!(said(), Vec::<String>::new());
        sc.retire(on_tmpfs);
    } else {
        skip("no tmpfs at /dev/shm: the quiet case of the temp directory check");
    }
    sc.finish();
}

/// On a tmpfs, a call's directory and files serve a later call only when
/// nothing of its command can reach them any more: its cgroup was found
/// empty once it had exited. A command that left a process behind, or one
/// contained by its process group only, leaves a directory that no later
/// call gets.
#[test]
fn call_directories_serve_again_only_when_nothing_of_the_command_is_left() {
    let sc = Scenario::start("call directories kept on a tmpfs");
    let Some(temp) = sc.tmpfs("calls", "size=1m") else {
        return;
    };
    if !cgroups() {
        return;
    }
    let cmd = sc.script(
        "where",
        r#"case "$(cat "$1")" in *leave-one*) setsid sleep 1000 >/dev/null 2>&1 & ;; esac
echo "{\"labels\":[{\"key\":\"directory\",\"value\":\"$(dirname "$1")\"}]}" > "$2""#,
    );
    let doc = |marker: &str| {
        let mut doc: serde_json::Value = serde_json::from_str(&fixture(LABELS_DOC)).unwrap();
        doc["task_info"]["name"] = marker.into();
        doc.to_string()
    };
    let directory_of = |hook: &Module, marker: &str| {
        let out = sc.call(hook, LABELS, &doc(marker));
        let Answer::Value(answer) = &out.answer else {
            panic!("no answer: {out:?}");
        };
        let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
        PathBuf::from(answer["labels"][0]["value"].as_str().unwrap())
    };
    let temp_directory = temp.to_str().unwrap();
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        ("temp_directory", temp_directory),
    ]);
    let first = directory_of(&hook, "plain");
    let sizes: Vec<u64> = ["input", "output", "error"]
        .iter()
        .map(|name| std::fs::metadata(first.join(name)).unwrap().len())
        .collect();
    assert_eq!(sizes, [0, 0, 0], "kept with its files emptied");
    assert_eq!(directory_of(&hook, "plain"), first, "and served again");
    assert_eq!(directory_of(&hook, "leave-one"), first);
    assert!(
        !first.exists(),
        "a directory whose command left a process is removed"
    );
    assert_ne!(directory_of(&hook, "plain"), first);
    drop(hook);
    assert_eq!(files_under(&temp), Vec::<PathBuf>::new());

    let grouped = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        ("temp_directory", temp_directory),
        ("command_cgroup", "none"),
    ]);
    let once = directory_of(&grouped, "plain");
    assert!(
        !once.exists(),
        "with a process group only, no directory is kept"
    );
    assert_ne!(directory_of(&grouped, "plain"), once);
    drop(grouped);
    sc.finish();
}
