//! Hostile outputs: malformed, wrongly typed, 10 000 levels deep, not
//! UTF-8, 1 GiB, replaced by a symbolic link, a FIFO or a directory; error
//! files and streams that never end. Each is a clear error, nothing hangs,
//! and the module's memory stays within the configured cap.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_command_modules::{Answer, ErrorKind, Module};

use crate::common::{alive, fixture};
use crate::harness::{memory_kib, reset_peak_memory, Scenario};
use crate::kills::{error, LABELS, LABELS_COMMAND, LABELS_DOC, LABELS_TIMEOUT};

fn hook(sc: &Scenario, command: &Path, extra: &[(&str, &str)]) -> Arc<Module> {
    let mut params = vec![
        (LABELS_COMMAND, command.to_str().unwrap()),
        (LABELS_TIMEOUT, "20"),
        ("kill_grace_period", "0.2"),
    ];
    params.extend_from_slice(extra);
    sc.hook(&params)
}

/// The error of a labels call whose command writes `body`'s output.
fn labels_error(sc: &Scenario, name: &str, body: &str) -> (String, String) {
    let cmd = sc.script(name, body);
    let hook = hook(sc, &cmd, &[]);
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::BadOutput, "{e}");
    (e.message.clone(), cmd.display().to_string())
}

fn invalid(cmd: &str, problem: &str) -> String {
    format!(
        "Command \"{cmd}\" returned invalid output: the output is not a valid Labels: {problem}"
    )
}

#[test]
fn malformed_json_is_a_clear_error() {
    let sc = Scenario::start("malformed JSON");
    let (message, cmd) = labels_error(&sc, "cut", r#"printf '{"labels": [' > "$2""#);
    assert_eq!(
        message,
        invalid(
            &cmd,
            "Malformed JSON: syntax error at line 1 near:  (at line 1, column 13)"
        )
    );
    sc.finish();
}

#[test]
fn wrongly_typed_output_is_a_clear_error() {
    let sc = Scenario::start("wrong types");
    let (message, cmd) = labels_error(&sc, "number", r#"echo '{"labels":[{"key":5}]}' > "$2""#);
    assert_eq!(
        message,
        invalid(&cmd, "Not expecting a JSON number for field 'key'")
    );
    let (message, cmd) = labels_error(&sc, "array", r#"echo '[]' > "$2""#);
    assert_eq!(message, invalid(&cmd, "Expecting a JSON object"));
    let (message, cmd) = labels_error(
        &sc,
        "missing",
        r#"echo '{"labels":[{"value":"v"}]}' > "$2""#,
    );
    assert_eq!(
        message,
        invalid(&cmd, "Missing required fields: labels[0].key")
    );
    sc.finish();
}

#[test]
fn unknown_fields_are_ignored_as_the_agent_does() {
    let sc = Scenario::start("unknown fields");
    let cmd = sc.script(
        "extra",
        r#"echo '{"labels":[{"key":"k","value":"v","color":"red"}],"unknown":{"deep":[1,{"x":null}]}}' > "$2""#,
    );
    let hook = hook(&sc, &cmd, &[]);
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let Answer::Value(json) = &out.answer else {
        panic!("{:?}", out.answer)
    };
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(value["labels"][0]["key"], "k");
    assert!(out.failure.is_none());
    sc.finish();
}

#[test]
fn json_nested_10000_deep_is_refused_in_bounded_time_and_words() {
    let sc = Scenario::start("JSON nested 10 000 deep");
    let arrays = sc.path().join("arrays.json");
    std::fs::write(
        &arrays,
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
    )
    .unwrap();
    let objects = sc.path().join("objects.json");
    std::fs::write(
        &objects,
        format!(
            "{{\"labels\":[{}1{}]}}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        ),
    )
    .unwrap();
    for (name, file) in [("arrays", &arrays), ("objects", &objects)] {
        let started = Instant::now();
        let (message, cmd) = labels_error(&sc, name, &format!("cat {} > \"$2\"", file.display()));
        assert!(
            message.starts_with(&invalid(
                &cmd,
                "Malformed JSON: syntax error at line 1 near: "
            )),
            "{message}"
        );
        assert!(message.ends_with("... [truncated]"), "{message}");
        assert!(message.len() < 1200, "a {} byte message", message.len());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    sc.finish();
}

#[test]
fn output_that_is_not_utf8_is_a_clear_error() {
    let sc = Scenario::start("non-UTF-8 output");
    let (message, cmd) = labels_error(
        &sc,
        "bytes",
        r#"printf '{"labels":[{"key":"\377\376"}]}' > "$2""#,
    );
    assert_eq!(
        message,
        invalid(&cmd, "it is not UTF-8 (invalid byte at offset 19)")
    );
    sc.finish();
}

/// Peak memory growth in KiB while `f` runs.
fn peak_growth(f: impl FnOnce()) -> u64 {
    reset_peak_memory();
    let before = memory_kib("VmRSS");
    f();
    memory_kib("VmHWM").saturating_sub(before)
}

#[test]
fn a_1_gib_output_file_is_refused_without_reading_it() {
    let sc = Scenario::start("1 GiB output file");
    let cap = 8 * 1024 * 1024;
    let cmd = sc.script("huge", r#"truncate -s 1G "$2""#);
    let hook = hook(&sc, &cmd, &[("max_output_bytes", "8MiB")]);
    let mut message = String::new();
    let grew = peak_growth(|| {
        let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
        message = error(&out).message.clone();
    });
    assert_eq!(
        message,
        format!(
            "Command \"{}\" wrote more than {cap} bytes to its output file (max_output_bytes)",
            cmd.display()
        )
    );
    // The cap, plus room for the runtime's own churn; never the file's size.
    assert!(
        grew * 1024 <= cap + 4 * 1024 * 1024,
        "memory grew by {grew} KiB for a cap of {} KiB",
        cap / 1024
    );
    sc.finish();
}

#[test]
fn a_1_gib_stream_on_stdout_and_stderr_is_drained_and_bounded() {
    let sc = Scenario::start("1 GiB on stdout and stderr");
    let cmd = sc.script(
        "chatty",
        r#"head -c 1073741824 /dev/zero &
head -c 268435456 /dev/zero >&2 &
wait
echo '{"labels":[]}' > "$2""#,
    );
    let hook = hook(&sc, &cmd, &[]);
    let started = Instant::now();
    let grew = peak_growth(|| {
        let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
        assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    });
    assert!(grew < 8 * 1024, "memory grew by {grew} KiB");
    assert!(started.elapsed() < Duration::from_secs(15));
    let logged = crate::harness::logged(log::Level::Info, "stdout:");
    assert_eq!(logged.len(), 1);
    assert!(logged[0].ends_with("[truncated]"));
    assert!(logged[0].len() < 65 * 1024 * 4, "{}", logged[0].len());
    sc.finish();
}

fn replaced(sc: &Scenario, name: &str, body: &str, problem: &str) {
    let cmd = sc.script(name, body);
    let hook = hook(sc, &cmd, &[]);
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::BadOutput);
    let prefix = format!("Command \"{}\": the output file /", cmd.display());
    assert!(e.message.starts_with(&prefix), "{e}");
    assert!(e.message.ends_with(problem), "{e}");
}

#[test]
fn an_output_file_replaced_by_a_link_a_fifo_or_a_directory_is_not_read() {
    let sc = Scenario::start("output replaced");
    replaced(
        &sc,
        "link",
        r#"rm "$2"; ln -s /etc/shadow "$2""#,
        "/output was replaced by a symbolic link, which is not followed",
    );
    replaced(
        &sc,
        "zero",
        r#"rm "$2"; ln -s /dev/zero "$2""#,
        "/output was replaced by a symbolic link, which is not followed",
    );
    // A FIFO, with a writer blocked on it for ever: nothing waits for it.
    replaced(
        &sc,
        "fifo",
        r#"rm "$2"; mkfifo "$2"; (echo '{}' > "$2" &)"#,
        "/output was replaced by a FIFO, which is not read",
    );
    replaced(
        &sc,
        "dir",
        r#"rm "$2"; mkdir "$2""#,
        "/output was replaced by a directory, which is not read",
    );
    sc.finish();
}

fn failed_with(sc: &Scenario, name: &str, body: &str) -> (String, String) {
    let cmd = sc.script(name, body);
    let hook = hook(sc, &cmd, &[]);
    let started = Instant::now();
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert!(started.elapsed() < Duration::from_secs(3));
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::ExitStatus, "{e}");
    (e.message.clone(), cmd.display().to_string())
}

#[test]
fn an_error_file_that_never_ends_is_bounded() {
    let sc = Scenario::start("endless error file");
    let (message, cmd) = failed_with(&sc, "fifo", r#"rm "$3"; mkfifo "$3"; exit 1"#);
    assert!(
        message.starts_with(&format!(
            "Command \"{cmd}\" exited with return code 1. (its error file could not be read: the \
             error file /"
        )),
        "{message}"
    );
    assert!(message.ends_with("/error was replaced by a FIFO, which is not read)"));

    let (message, _) = failed_with(&sc, "zero", r#"rm "$3"; ln -s /dev/zero "$3"; exit 1"#);
    assert!(
        message.ends_with("/error was replaced by a symbolic link, which is not followed)"),
        "{message}"
    );

    // Writers that keep appending, one of them escaped into its own
    // session: the cause is cut at 64 KiB, and the writers die with the call.
    let (message, cmd) = failed_with(
        &sc,
        "writer",
        r#"yes 'disk on fire' >> "$3" &
echo $! >> "$PIDS"
( setsid sh -c 'echo $$ >> "$PIDS"; exec yes escaped' >> "$3" & )
while [ $(stat -c %s "$3") -lt 200000 ]; do sleep 0.01; done
exit 1"#,
    );
    let head = format!("Command \"{cmd}\" exited with return code 1. Cause: ");
    assert!(message.starts_with(&head), "{}", &message[..200]);
    assert!(message.ends_with(" [truncated]"));
    assert!(message.len() <= head.len() + 64 * 1024 + " [truncated]".len());
    let writers = sc.recorded_pids();
    assert!(writers.iter().all(|&p| !alive(p)), "{writers:?}");
    sc.finish();
}
