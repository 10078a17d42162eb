//! `mesos-command-modules call` behaves as the module in the agent: no
//! cleanup command and no watch for a container the module does not know,
//! and the answer printed as Mesos receives it, with what stout's parse
//! leaves out named on stderr.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Scratch;
use serde_json::{json, Value};

fn tool(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run the tool")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A manifest with one isolator and one hook module whose commands, for
/// every method given, append the method to `ran` and print the file named
/// by `$ANSWER` (if any).
fn manifest(s: &Scratch, isolator: &[&str], hook: &[&str]) -> (String, PathBuf) {
    let ran = s.path().join("ran");
    let cmd = s.script(
        "cmd",
        &format!(
            r#"echo "$MESOS_COMMAND_METHOD" >> '{}'
[ -n "$ANSWER" ] && cat "$ANSWER" > "$2"
exit 0"#,
            ran.display()
        ),
    );
    let params = |methods: &[&str]| -> String {
        methods
            .iter()
            .map(|m| format!(r#",{{"key":"{m}_command","value":"{}"}}"#, cmd.display()))
            .collect()
    };
    let path = s.path().join("modules.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[
            {{"name":"com_criteo_mesos_CommandIsolator","parameters":[{{"key":"module_name","value":"iso"}}{}]}},
            {{"name":"com_criteo_mesos_CommandHook","parameters":[{{"key":"module_name","value":"hooks"}}{}]}}]}}]}}"#,
            params(isolator),
            params(hook)
        ),
    )
    .unwrap();
    (path.display().to_string(), ran)
}

fn call(manifest: &str, module: &str, method: &str, input: &str, answer: Option<&Path>) -> Output {
    let answer = answer.map(|p| p.display().to_string()).unwrap_or_default();
    tool(
        &[
            "call", manifest, "--module", module, "--method", method, "--input", input,
        ],
        &[("ANSWER", &answer)],
    )
}

/// The captured input of `fixture` with the `container_config` prepare
/// received for the same capture.
fn with_config(s: &Scratch, fixture: &str) -> String {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path(fixture)).unwrap()).unwrap();
    let prepare: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_path("isolator_prepare/command-task.json")).unwrap(),
    )
    .unwrap();
    doc["container_config"] = prepare["container_config"].clone();
    let path = s.path().join(fixture.replace('/', "-"));
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn cleanup_and_watch_of_a_container_the_module_does_not_know_run_no_command() {
    let s = Scratch::new();
    let (m, ran) = manifest(&s, &["isolator_cleanup", "isolator_watch"], &[]);
    let ran_methods = || std::fs::read_to_string(&ran).unwrap_or_default();

    // The captures carry only what Mesos passes: no container_config, as
    // for a container this module never prepared.
    let out = call(
        &m,
        "iso",
        "isolator_cleanup",
        &fixture_path("isolator_cleanup/container.json"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the module does not know this container"),
        "{stderr}"
    );
    assert!(
        stderr.contains("isolator_cleanup: succeeded without running the command"),
        "{stderr}"
    );
    let out = call(
        &m,
        "iso",
        "isolator_watch",
        &fixture_path("isolator_watch/container.json"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("never completes"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(ran_methods(), "", "a command ran");

    // With the container_config the module would hold, both run.
    let out = call(
        &m,
        "iso",
        "isolator_cleanup",
        &with_config(&s, "isolator_cleanup/container.json"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = call(
        &m,
        "iso",
        "isolator_watch",
        &with_config(&s, "isolator_watch/container.json"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(ran_methods(), "isolator_cleanup\nisolator_watch\n");
}

#[test]
fn the_answer_is_printed_as_mesos_receives_it() {
    let s = Scratch::new();
    let (m, _) = manifest(
        &s,
        &["isolator_watch"],
        &[
            "hook_slave_run_task_label_decorator",
            "hook_slave_pre_launch_docker_task_executor_decorator",
        ],
    );
    let answer = |name: &str, value: &str| {
        let path = s.path().join(name);
        std::fs::write(&path, value).unwrap();
        path
    };
    let printed = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };

    let labels = answer(
        "labels",
        r#"{"labels":[{"key":"a","value":"b","extra":1},null],"more":2}"#,
    );
    let out = call(
        &m,
        "hooks",
        "hook_slave_run_task_label_decorator",
        &fixture_path("slave_run_task_label_decorator/command-task.json"),
        Some(&labels),
    );
    assert_eq!(
        printed(&out),
        json!({"labels": [{"key": "a", "value": "b"}]})
    );
    let stderr = text(&out.stderr);
    for part in [
        "labels[0].extra (not a field of mesos.Label)",
        "labels[1] (null",
        "more (not a field of mesos.Labels)",
    ] {
        assert!(
            stderr.contains(&format!("note: Mesos does not receive {part}")),
            "{part}: {stderr}"
        );
    }

    // The Docker hook's answer has camelCase fields: snake_case is ignored.
    let docker = answer(
        "docker",
        r#"{"executor_environment":{"variables":[{"name":"A","value":"1"}]},
            "taskEnvironment":{"variables":[{"name":"B","value":"2"}]}}"#,
    );
    let out = call(
        &m,
        "hooks",
        "hook_slave_pre_launch_docker_task_executor_decorator",
        &fixture_path("slave_pre_launch_docker_task_executor_decorator/docker-command-task.json"),
        Some(&docker),
    );
    assert_eq!(
        printed(&out),
        json!({"taskEnvironment": {"variables": [{"name": "B", "value": "2"}]}})
    );
    assert!(
        text(&out.stderr)
            .contains("executor_environment (not a field of mesos.DockerTaskExecutorPrepareInfo)"),
        "{}",
        text(&out.stderr)
    );

    // A reason that is not a TaskStatus.Reason leaves the reason unset.
    let limitation = answer(
        "limitation",
        r#"{"message":"over quota","reason":"REASON_BOGUS"}"#,
    );
    let out = call(
        &m,
        "iso",
        "isolator_watch",
        &with_config(&s, "isolator_watch/container.json"),
        Some(&limitation),
    );
    assert_eq!(printed(&out), json!({"message": "over quota"}));
    assert!(
        text(&out.stderr)
            .contains(r#"reason ("REASON_BOGUS" is not a value of mesos.TaskStatus.Reason)"#),
        "{}",
        text(&out.stderr)
    );
}
