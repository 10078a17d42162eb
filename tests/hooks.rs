//! Hook methods end to end (without Mesos): real scripts, real inputs
//! captured from a Mesos 1.11 agent, and the answer the shim would return.

mod common;

use common::{answer, fixture, Scratch};
use mesos_command_modules::{Answer, ErrorKind, Method};
use serde_json::{json, Value};

/// A hook module whose only command is `cmd`, for the method `key`.
fn with_command(s: &Scratch, key: &str, cmd: &std::path::Path) -> mesos_command_modules::Module {
    s.hook(&[(&format!("{key}_command"), cmd.to_str().unwrap())])
}

fn value(answer: &Answer) -> Value {
    match answer {
        Answer::Value(json) => serde_json::from_str(json).unwrap(),
        other => panic!("expected a value, got {other:?}"),
    }
}

#[test]
fn a_label_decorator_answers_its_labels() {
    let s = Scratch::new();
    let cmd = s.script(
        "labels",
        r#"echo '{"labels":[{"key":"rack","value":"r1"}]}' > "$2""#,
    );
    let hook = with_command(&s, "hook_slave_run_task_label_decorator", &cmd);
    let out = answer(
        &hook,
        Method::HookSlaveRunTaskLabelDecorator,
        &fixture("slave_run_task_label_decorator/command-task.json"),
    );
    assert_eq!(
        value(&out.answer),
        json!({"labels": [{"key": "rack", "value": "r1"}]})
    );
    assert!(out.failure.is_none());
}

#[test]
fn the_command_receives_the_original_input_document() {
    let s = Scratch::new();
    let copy = s.path().join("seen.json");
    let cmd = s.script("copy", &format!("cp \"$1\" {}", copy.display()));
    let hook = with_command(&s, "hook_slave_run_task_label_decorator", &cmd);
    let doc = fixture("slave_run_task_label_decorator/command-task.json");
    answer(&hook, Method::HookSlaveRunTaskLabelDecorator, &doc);
    let seen: Value = serde_json::from_str(&std::fs::read_to_string(copy).unwrap()).unwrap();
    let sent: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(seen, sent);
    let keys: Vec<&String> = seen.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["executor_info", "framework_info", "slave_info", "task_info"]
    );
}

#[test]
fn merge_mode_adds_labels_to_the_frameworks() {
    let s = Scratch::new();
    let cmd = s.script(
        "labels",
        r#"echo '{"labels":[{"key":"rack","value":"r1"},{"key":"team","value":"ops"}]}' > "$2""#,
    );
    let hook = s.hook(&[
        (
            "hook_slave_run_task_label_decorator_command",
            cmd.to_str().unwrap(),
        ),
        ("hook_slave_run_task_label_decorator_merge", "true"),
    ]);
    let out = answer(
        &hook,
        Method::HookSlaveRunTaskLabelDecorator,
        &fixture("slave_run_task_label_decorator/command-task.json"),
    );
    assert_eq!(
        value(&out.answer),
        json!({"labels": [
            {"key": "EXECUTOR_ALLOWED_IP", "value": "10.0.0.1,192.168.1.0/24"},
            {"key": "rack", "value": "r1"},
            {"key": "team", "value": "ops"}
        ]})
    );
}

#[test]
fn empty_output_means_no_change() {
    let s = Scratch::new();
    let cmd = s.script("silent", "true");
    let hook = with_command(&s, "hook_slave_executor_environment_decorator", &cmd);
    let out = answer(
        &hook,
        Method::HookSlaveExecutorEnvironmentDecorator,
        &fixture("slave_executor_environment_decorator/command-task.json"),
    );
    assert_eq!(out.answer, Answer::None);
    assert!(out.failure.is_none());
}

#[test]
fn an_unconfigured_method_answers_none_without_running_anything() {
    let s = Scratch::new();
    let hook = s.hook(&[]);
    for (method, file) in [
        (
            Method::HookSlaveRunTaskLabelDecorator,
            "slave_run_task_label_decorator/command-task.json",
        ),
        (
            Method::HookSlaveRemoveExecutorHook,
            "slave_remove_executor_hook/command-task.json",
        ),
        (
            Method::HookMasterSlaveLostHook,
            "master_slave_lost_hook/agent-lost.json",
        ),
    ] {
        let out = answer(&hook, method, &fixture(file));
        assert_eq!(out.answer, Answer::None, "{method}");
    }
    assert_eq!(
        hook.metrics()
            .stats(Method::HookSlaveRunTaskLabelDecorator)
            .calls,
        0
    );
}

#[test]
fn malformed_and_wrongly_shaped_outputs_are_errors_naming_the_problem() {
    let s = Scratch::new();
    for (body, expected) in [
        ("echo '{\"labels\": [' > \"$2\"", "Malformed JSON"),
        ("echo '[1,2]' > \"$2\"", "Expecting a JSON object"),
        (
            "echo '{\"labels\":[{\"key\":5}]}' > \"$2\"",
            "Not expecting a JSON number for field 'key'",
        ),
        (
            "echo '{\"labels\":[{\"value\":\"v\"}]}' > \"$2\"",
            "Missing required fields: labels[0].key",
        ),
    ] {
        let cmd = s.script("bad", body);
        let hook = with_command(&s, "hook_slave_run_task_label_decorator", &cmd);
        let out = answer(
            &hook,
            Method::HookSlaveRunTaskLabelDecorator,
            &fixture("slave_run_task_label_decorator/command-task.json"),
        );
        let Answer::Error(e) = &out.answer else {
            panic!("{body}: {:?}", out.answer)
        };
        assert_eq!(e.kind, ErrorKind::BadOutput);
        assert!(
            e.message.starts_with(&format!(
                "Command \"{}\" returned invalid output: the output is not a valid Labels: ",
                cmd.display()
            )),
            "{e}"
        );
        assert!(e.message.contains(expected), "{e}");
    }
}

#[test]
fn a_failing_hook_is_an_error_with_the_cause() {
    let s = Scratch::new();
    let cmd = s.script("fail", "echo nope > \"$3\"; exit 2");
    let hook = with_command(&s, "hook_slave_remove_executor_hook", &cmd);
    let out = answer(
        &hook,
        Method::HookSlaveRemoveExecutorHook,
        &fixture("slave_remove_executor_hook/command-task.json"),
    );
    assert_eq!(
        out.answer,
        Answer::Error(mesos_command_modules::CallError::new(
            ErrorKind::ExitStatus,
            format!(
                "Command \"{}\" exited with return code 2. Cause: nope",
                cmd.display()
            )
        ))
    );
    let stats = hook.metrics().stats(Method::HookSlaveRemoveExecutorHook);
    assert_eq!((stats.calls, stats.errors), (1, 1));
}

#[test]
fn the_task_status_decorator_needs_only_labels() {
    let s = Scratch::new();
    let cmd = s.script(
        "status",
        r#"echo '{"labels":{"labels":[{"key":"checked","value":"yes"}]}}' > "$2""#,
    );
    let hook = with_command(&s, "hook_slave_task_status_decorator", &cmd);
    let out = answer(
        &hook,
        Method::HookSlaveTaskStatusDecorator,
        &fixture("slave_task_status_decorator/command-task.json"),
    );
    let v = value(&out.answer);
    assert_eq!(v["task_id"]["value"], "demo-task");
    assert_eq!(v["state"], "TASK_RUNNING");
    assert_eq!(v["labels"]["labels"][0]["key"], "checked");
}

#[test]
fn resource_and_attribute_decorators_answer_arrays() {
    let s = Scratch::new();
    let res = s.script(
        "res",
        r#"echo '[{"name":"gpus","type":"SCALAR","scalar":{"value":1}}]' > "$2""#,
    );
    let attrs = s.script(
        "attrs",
        r#"echo '{"attributes":[{"name":"rack","type":"TEXT","text":{"value":"r9"}}]}' > "$2""#,
    );
    let hook = s.hook(&[
        (
            "hook_slave_resources_decorator_command",
            res.to_str().unwrap(),
        ),
        (
            "hook_slave_attributes_decorator_command",
            attrs.to_str().unwrap(),
        ),
    ]);
    let doc = fixture("slave_resources_decorator/agent-start.json");
    let r = answer(&hook, Method::HookSlaveResourcesDecorator, &doc);
    assert_eq!(value(&r.answer)[0]["name"], "gpus");
    let a = answer(&hook, Method::HookSlaveAttributesDecorator, &doc);
    assert_eq!(value(&a.answer)[0]["text"]["value"], "r9");
}

#[test]
fn a_hook_that_hangs_is_cut_at_its_timeout() {
    let s = Scratch::new();
    let cmd = s.script("hang", "sleep 30");
    let hook = s.hook(&[
        ("hook_slave_post_fetch_hook_command", cmd.to_str().unwrap()),
        ("hook_slave_post_fetch_hook_timeout", "0.3"),
        ("kill_grace_period", "0.2"),
    ]);
    let started = std::time::Instant::now();
    let out = answer(
        &hook,
        Method::HookSlavePostFetchHook,
        &fixture("slave_post_fetch_hook/command-task.json"),
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let Answer::Error(e) = out.answer else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(
        hook.metrics()
            .stats(Method::HookSlavePostFetchHook)
            .timeouts,
        1
    );
}

#[test]
fn commands_know_where_they_are_from_the_environment() {
    let s = Scratch::new();
    let cmd = s.script(
        "env",
        r#"printf '{"variables":[{"name":"WHERE","value":"%s/%s/%s"}]}' "$MESOS_COMMAND_MODULE" "$MESOS_COMMAND_METHOD" "${MESOS_COMMAND_CONTAINER_ID:-none}" > "$2""#,
    );
    let hook = with_command(&s, "hook_slave_executor_environment_decorator", &cmd);
    let out = answer(
        &hook,
        Method::HookSlaveExecutorEnvironmentDecorator,
        &fixture("slave_executor_environment_decorator/command-task.json"),
    );
    assert_eq!(
        value(&out.answer)["variables"][0]["value"],
        "test/hook_slave_executor_environment_decorator/none"
    );
}
