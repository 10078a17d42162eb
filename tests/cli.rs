//! The `mesos-command-modules` command-line tool as an operator runs it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Scratch;

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the tool")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn manifest(s: &Scratch, modules: &str) -> String {
    let path = s.path().join("modules.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"libraries":[{{"file":"/usr/lib/mesos/modules/libmesos_command_modules.so","modules":[{modules}]}}]}}"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn fixture_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn check_prints_the_effective_configuration() {
    let s = Scratch::new();
    let cmd = s.script("prepare", "true");
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandIsolator","parameters":[
                {{"key":"module_name","value":"acl"}},
                {{"key":"isolator_prepare_command","value":"{}"}},
                {{"key":"isolator_prepare_timeout","value":"2.5"}}]}}"#,
            cmd.display()
        ),
    );
    let out = tool(&["check", &m]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("com_criteo_mesos_CommandIsolator (Isolator"),
        "{stdout}"
    );
    assert!(
        stdout.contains("isolator_prepare_timeout = 2.5s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("isolator_watch_frequence = 30s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("isolator_usage_command = (none)"),
        "{stdout}"
    );
}

#[test]
fn check_fails_on_the_originals_broken_example() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandHook","parameters":[
            {"key":"module_name","value":"hooks"},
            {"key":"hook_slave_run_task_label_decorator","value":"/bin/true"}]}"#,
    );
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "hook_slave_run_task_label_decorator: unknown key; did you mean \
             \"hook_slave_run_task_label_decorator_command\"?"
        ),
        "{stdout}"
    );
}

#[test]
fn call_prints_the_answer_and_exits_zero() {
    let s = Scratch::new();
    let cmd = s.script(
        "labels",
        r#"echo '{"labels":[{"key":"a","value":"b"}]}' > "$2""#,
    );
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandHook","parameters":[
                {{"key":"module_name","value":"hooks"}},
                {{"key":"hook_slave_run_task_label_decorator_command","value":"{}"}}]}}"#,
            cmd.display()
        ),
    );
    let out = tool(&[
        "call",
        &m,
        "--module",
        "com_criteo_mesos_CommandHook",
        "--method",
        "hook_slave_run_task_label_decorator",
        "--input",
        &fixture_path("slave_run_task_label_decorator/command-task.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"labels\":[{\"key\":\"a\",\"value\":\"b\"}]}\n"
    );
    assert!(text(&out.stderr).contains("took"), "{}", text(&out.stderr));
}

#[test]
fn call_reports_a_failure_on_stderr_and_exits_one() {
    let s = Scratch::new();
    let cmd = s.script("fail", "echo boom > \"$3\"; exit 5");
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandIsolator2","parameters":[
                {{"key":"module_name","value":"iso"}},
                {{"key":"isolator_prepare_command","value":"{}"}}]}}"#,
            cmd.display()
        ),
    );
    let out = tool(&[
        "call",
        &m,
        "--module",
        "iso",
        "--method",
        "isolator_prepare",
        "--input",
        &fixture_path("isolator_prepare/command-task.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("exited with return code 5. Cause: boom"),
        "{stderr}"
    );
}

#[test]
fn call_names_what_is_wrong_with_its_arguments() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandHook","parameters":[{"key":"module_name","value":"h"}]}"#,
    );
    let input = fixture_path("isolator_prepare/command-task.json");
    let out = tool(&[
        "call",
        &m,
        "--module",
        "nope",
        "--method",
        "isolator_prepare",
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no command module \"nope\""));
    let out = tool(&[
        "call",
        &m,
        "--module",
        "h",
        "--method",
        "isolator_prepare",
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is an Isolator method"),
        "{}",
        text(&out.stderr)
    );
}

/// The captures of `tests/fixtures/invalid-utf8/` hold bytes that are not
/// UTF-8 in labels and a command, as frameworks may send: `call` replaces
/// them with U+FFFD (and says so) as the module does in the agent, and the
/// call succeeds.
#[test]
fn call_replaces_bytes_that_are_not_utf8_and_succeeds() {
    let s = Scratch::new();
    let copy = s.path().join("recover-input");
    let recover = s.script("recover", &format!("cp \"$1\" '{}'", copy.display()));
    let labels = s.script(
        "labels",
        r#"echo '{"labels":[{"key":"added","value":"x"}]}' > "$2""#,
    );
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandIsolator","parameters":[
                {{"key":"module_name","value":"iso"}},
                {{"key":"isolator_recover_command","value":"{}"}}]}},
               {{"name":"com_criteo_mesos_CommandHook","parameters":[
                {{"key":"module_name","value":"hooks"}},
                {{"key":"hook_slave_run_task_label_decorator_command","value":"{}"}},
                {{"key":"hook_slave_run_task_label_decorator_merge","value":"true"}}]}}"#,
            recover.display(),
            labels.display()
        ),
    );
    let note = "holds bytes that are not valid UTF-8; they were replaced with U+FFFD";

    let out = tool(&[
        "call",
        &m,
        "--module",
        "iso",
        "--method",
        "isolator_recover",
        "--input",
        &fixture_path("invalid-utf8/isolator_recover.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));
    let input = std::fs::read_to_string(&copy).expect("the command's input is UTF-8");
    assert!(input.contains("caf\u{fffd} \u{fffd}\u{fffd}"), "{input}");
    assert!(input.contains("sleep 12 # \u{fffd}\u{fffd}"), "{input}");

    let out = tool(&[
        "call",
        &m,
        "--module",
        "hooks",
        "--method",
        "hook_slave_run_task_label_decorator",
        "--input",
        &fixture_path("invalid-utf8/slave_run_task_label_decorator.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels = answer["labels"].as_array().unwrap();
    assert!(
        labels.contains(&serde_json::json!({"key": "team", "value": "infra \u{fffd}\u{fffd}"})),
        "{answer}"
    );
    assert!(labels.contains(&serde_json::json!({"key": "added", "value": "x"})));
}
