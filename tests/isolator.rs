//! Isolator methods end to end (without Mesos): lifecycle, state that
//! survives a restart, watch loops, the usage rule, and concurrency.

mod common;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{answer, call, eventually, fixture, Scratch};
use mesos_command_modules::{Answer, ErrorKind, Method, Module, Outcome};
use serde_json::{json, Value};

const CONTAINER: &str = "8a96d8d3-e1eb-42bf-b37c-9104f9a7b9fc";

/// One script for every method: records its input per method and answers
/// something recognisable.
fn recorder(s: &Scratch) -> std::path::PathBuf {
    let dir = s.path().display().to_string();
    s.script(
        "recorder",
        &format!(
            r#"cp "$1" "{dir}/$MESOS_COMMAND_METHOD.json"
echo "$MESOS_COMMAND_METHOD $MESOS_COMMAND_CONTAINER_ID" >> "{dir}/calls"
case "$MESOS_COMMAND_METHOD" in
  isolator_prepare) echo '{{"environment":{{"variables":[{{"name":"FROM_PREPARE","value":"1"}}]}}}}' > "$2" ;;
  isolator_usage) echo '{{"mem_rss_bytes":1024,"cpus_user_time_secs":1.5}}' > "$2" ;;
  isolator_status) echo '{{"executor_pid":42}}' > "$2" ;;
esac"#
        ),
    )
}

fn all_methods(cmd: &str) -> Vec<(String, String)> {
    [
        "isolator_recover",
        "isolator_prepare",
        "isolator_isolate",
        "isolator_update",
        "isolator_usage",
        "isolator_status",
        "isolator_cleanup",
    ]
    .iter()
    .map(|m| (format!("{m}_command"), cmd.to_string()))
    .collect()
}

fn isolator_with(s: &Scratch, params: &[(String, String)]) -> Module {
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    s.isolator(&borrowed)
}

fn seen(s: &Scratch, method: &str) -> Value {
    let text = std::fs::read_to_string(s.path().join(format!("{method}.json")))
        .unwrap_or_else(|e| panic!("{method} did not run: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Lines a watch script appended to its counter file (0 before the first).
fn lines_in(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn value(outcome: &Outcome) -> Value {
    match &outcome.answer {
        Answer::Value(json) => serde_json::from_str(json).unwrap(),
        other => panic!("expected a value, got {other:?}"),
    }
}

#[test]
fn full_lifecycle_passes_the_container_config_along_and_cleans_up() {
    let s = Scratch::new();
    let cmd = recorder(&s);
    let iso = isolator_with(&s, &all_methods(cmd.to_str().unwrap()));
    let prepare_doc = fixture("isolator_prepare/command-task.json");
    let config: Value =
        serde_json::from_str::<Value>(&prepare_doc).unwrap()["container_config"].clone();

    let prepared = answer(&iso, Method::IsolatorPrepare, &prepare_doc);
    assert_eq!(
        value(&prepared)["environment"]["variables"][0]["name"],
        "FROM_PREPARE"
    );
    let state_file = s.state_dir().join("test").join(CONTAINER);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(on_disk, config);

    let isolated = answer(
        &iso,
        Method::IsolatorIsolate,
        &fixture("isolator_isolate/container.json"),
    );
    assert_eq!(isolated.answer, Answer::None);
    let isolate_input = seen(&s, "isolator_isolate");
    assert_eq!(isolate_input["pid"], 17171);
    assert_eq!(isolate_input["container_config"], config);

    let usage = answer(
        &iso,
        Method::IsolatorUsage,
        &fixture("isolator_usage/container.json"),
    );
    let stats = value(&usage);
    assert_eq!(stats["mem_rss_bytes"], 1024);
    assert!(stats["timestamp"].as_f64().unwrap() > 1.6e9);
    assert_eq!(seen(&s, "isolator_usage")["container_config"], config);

    let status = answer(
        &iso,
        Method::IsolatorStatus,
        &fixture("isolator_status/container-2.json"),
    );
    assert_eq!(value(&status), json!({"executor_pid": 42}));

    let cleaned = answer(
        &iso,
        Method::IsolatorCleanup,
        &fixture("isolator_cleanup/container.json"),
    );
    assert_eq!(cleaned.answer, Answer::None);
    assert_eq!(seen(&s, "isolator_cleanup")["container_config"], config);
    assert!(!state_file.exists());
    assert!(iso.state().unwrap().get(CONTAINER).is_none());
    assert!(s.leftover_temp_files().is_empty());

    let calls = std::fs::read_to_string(s.path().join("calls")).unwrap();
    let expected: Vec<String> = [
        "isolator_prepare",
        "isolator_isolate",
        "isolator_usage",
        "isolator_status",
        "isolator_cleanup",
    ]
    .iter()
    .map(|m| format!("{m} {CONTAINER}"))
    .collect();
    assert_eq!(calls.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn a_failed_prepare_fails_and_cleanup_still_removes_the_state() {
    let s = Scratch::new();
    let fail = s.script("fail", "echo 'quota exceeded' > \"$3\"; exit 1");
    let iso = s.isolator(&[
        ("isolator_prepare_command", fail.to_str().unwrap()),
        ("isolator_cleanup_command", fail.to_str().unwrap()),
    ]);
    let out = answer(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/command-task.json"),
    );
    let Answer::Error(e) = &out.answer else {
        panic!("{:?}", out.answer)
    };
    assert!(
        e.message
            .ends_with("exited with return code 1. Cause: quota exceeded"),
        "{e}"
    );

    let out = answer(
        &iso,
        Method::IsolatorCleanup,
        &fixture("isolator_cleanup/container.json"),
    );
    assert!(matches!(out.answer, Answer::Error(_)));
    assert!(!s.state_dir().join("test").join(CONTAINER).exists());
    assert!(iso.state().unwrap().ids().is_empty());
}

#[test]
fn prepare_fails_loudly_when_the_state_cannot_be_written() {
    let s = Scratch::new();
    let blocker = s.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let cmd = recorder(&s);
    let iso = s.isolator(&[
        ("isolator_prepare_command", cmd.to_str().unwrap()),
        ("state_directory", blocker.to_str().unwrap()),
    ]);
    let out = answer(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/command-task.json"),
    );
    let Answer::Error(e) = &out.answer else {
        panic!("{:?}", out.answer)
    };
    assert_eq!(e.kind, ErrorKind::State);
    assert!(e.message.contains("cannot checkpoint"), "{e}");
    assert!(!s.path().join("calls").exists(), "the command ran anyway");
}

#[test]
fn prepare_twice_for_one_container_fails() {
    let s = Scratch::new();
    let iso = s.isolator(&[]);
    let doc = fixture("isolator_prepare/command-task.json");
    assert_eq!(
        answer(&iso, Method::IsolatorPrepare, &doc).answer,
        Answer::None
    );
    let again = answer(&iso, Method::IsolatorPrepare, &doc);
    assert!(matches!(again.answer, Answer::Error(ref e) if e.message.contains("already")));
}

#[test]
fn cleanup_of_an_unknown_container_succeeds_without_the_command() {
    let s = Scratch::new();
    let cmd = recorder(&s);
    let iso = s.isolator(&[("isolator_cleanup_command", cmd.to_str().unwrap())]);
    let out = answer(
        &iso,
        Method::IsolatorCleanup,
        &fixture("isolator_cleanup/nested-container.json"),
    );
    assert_eq!(out.answer, Answer::None);
    assert!(!s.path().join("calls").exists());
}

#[test]
fn usage_never_fails() {
    let s = Scratch::new();
    let slow = s.script("slow", "sleep 10");
    let garbage = s.script("garbage", "echo 'not json' > \"$2\"");
    for cmd in [&slow, &garbage] {
        let iso = s.isolator(&[
            ("isolator_usage_command", cmd.to_str().unwrap()),
            ("isolator_usage_timeout", "0.2"),
            ("kill_grace_period", "0.1"),
        ]);
        let out = answer(
            &iso,
            Method::IsolatorUsage,
            &fixture("isolator_usage/container.json"),
        );
        let stats = value(&out);
        assert_eq!(stats.as_object().unwrap().len(), 1, "{stats}");
        assert!(stats["timestamp"].as_f64().unwrap() > 1.6e9);
        assert!(out.failure.is_some());
    }
    // Without a command, the same empty statistics.
    let iso = s.isolator(&[]);
    let out = answer(
        &iso,
        Method::IsolatorUsage,
        &fixture("isolator_usage/container.json"),
    );
    assert!(value(&out)["timestamp"].is_number());
}

#[test]
fn prepare_output_that_would_abort_the_agent_is_refused() {
    let s = Scratch::new();
    let cmd = s.script(
        "bad",
        r#"echo '{"command":{"value":"/bin/evil","shell":true}}' > "$2""#,
    );
    let iso = s.isolator(&[("isolator_prepare_command", cmd.to_str().unwrap())]);
    let out = answer(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/command-task.json"),
    );
    let Answer::Error(e) = &out.answer else {
        panic!("{:?}", out.answer)
    };
    assert_eq!(e.kind, ErrorKind::BadOutput);
    assert!(e.message.contains("may only carry \"arguments\""), "{e}");
}

#[test]
fn recover_restores_state_and_removes_orphans() {
    let s = Scratch::new();
    let cmd = recorder(&s);
    let long_task = "5d863b27-579a-4a18-84fd-568d0f4eeffc";
    let first = s.isolator(&[]);
    answer(
        &first,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    answer(
        &first,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/command-task.json"),
    );
    drop(first);

    // The agent restarts; only the long task survived.
    let second = isolator_with(&s, &all_methods(cmd.to_str().unwrap()));
    let out = answer(
        &second,
        Method::IsolatorRecover,
        &fixture("isolator_recover/restarted-agent-task.json"),
    );
    assert_eq!(out.answer, Answer::None);
    assert_eq!(second.state().unwrap().ids(), vec![long_task.to_string()]);
    let dir = s.state_dir().join("test");
    assert!(dir.join(long_task).exists());
    assert!(!dir.join(CONTAINER).exists());
    assert!(seen(&s, "isolator_recover")["states"].is_array());

    let out = answer(
        &second,
        Method::IsolatorCleanup,
        &fixture("isolator_cleanup/container.json"),
    );
    assert_eq!(out.answer, Answer::None);
    answer(
        &second,
        Method::IsolatorUsage,
        &fixture("isolator_update/container.json"),
    );
    assert_eq!(
        seen(&s, "isolator_usage")["container_config"]["executor_info"]["executor_id"]["value"],
        "long-task"
    );
}

#[test]
fn a_corrupt_state_file_is_skipped_and_recover_still_succeeds() {
    let s = Scratch::new();
    let dir = s.state_dir().join("test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("5d863b27-579a-4a18-84fd-568d0f4eeffc"),
        "{\"command_in",
    )
    .unwrap();
    let iso = s.isolator(&[]);
    let out = answer(
        &iso,
        Method::IsolatorRecover,
        &fixture("isolator_recover/restarted-agent-task.json"),
    );
    assert_eq!(out.answer, Answer::None);
    assert!(iso.state().unwrap().ids().is_empty());
}

fn spawn(module: &Arc<Module>, method: Method, document: &str) -> mpsc::Receiver<Option<Outcome>> {
    let (tx, rx) = mpsc::channel();
    let input: Value = serde_json::from_str(document).unwrap();
    let args = method
        .contract()
        .inputs
        .iter()
        .map(|name| input.get(*name).map(Value::to_string).unwrap_or_default())
        .collect();
    module.spawn_call(method, args, move |outcome| {
        let _ = tx.send(outcome);
    });
    rx
}

#[test]
fn watch_loops_until_a_limitation_is_reported() {
    let s = Scratch::new();
    let counter = s.path().join("rounds");
    let cmd = s.script(
        "watch",
        &format!(
            r#"echo x >> {0}
if [ $(wc -l < {0}) -ge 3 ]; then
  echo '{{"message":"too much memory","reason":"REASON_CONTAINER_LIMITATION_MEMORY"}}' > "$2"
fi"#,
            counter.display()
        ),
    );
    let iso = Arc::new(s.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_watch_frequence", "0.1"),
    ]));
    answer(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    let rx = spawn(
        &iso,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container.json"),
    );
    let outcome = rx.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(value(&outcome)["message"], "too much memory");
    assert_eq!(lines_in(&counter), 3);
    assert_eq!(iso.active_watches(), 0);
}

#[test]
fn cleanup_stops_the_watch_and_failures_keep_it_going() {
    let s = Scratch::new();
    let counter = s.path().join("rounds");
    let cmd = s.script("watch", &format!("echo x >> {}; exit 1", counter.display()));
    let iso = Arc::new(s.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_watch_frequence", "0.05"),
    ]));
    answer(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    let rx = spawn(
        &iso,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container.json"),
    );
    let rounds = || lines_in(&counter);
    // Three rounds ended (a round's line is written when it starts; its
    // error is counted when it ends, which cleanup may cut short).
    assert!(eventually(Duration::from_secs(3), || {
        iso.metrics().stats(Method::IsolatorWatch).errors >= 3
    }));
    assert!(rounds() >= 3);
    assert_eq!(iso.active_watches(), 1);
    answer(
        &iso,
        Method::IsolatorCleanup,
        &fixture("isolator_update/container.json"),
    );
    assert!(rx.recv_timeout(Duration::from_secs(2)).unwrap().is_none());
    let after = rounds();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        rounds() <= after + 1,
        "the watch kept running after cleanup"
    );
    assert_eq!(iso.active_watches(), 0);
    assert!(iso.metrics().stats(Method::IsolatorWatch).errors >= 3);
}

#[test]
fn the_watch_of_an_unknown_container_never_completes() {
    let s = Scratch::new();
    let cmd = s.script("watch", "echo '{}' > \"$2\"");
    let iso = Arc::new(s.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_watch_frequence", "0.05"),
    ]));
    let rx = spawn(
        &iso,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container.json"),
    );
    // `None`: the completion is dropped, so the Mesos future stays pending.
    assert!(rx.recv_timeout(Duration::from_secs(2)).unwrap().is_none());
    assert_eq!(iso.metrics().stats(Method::IsolatorWatch).calls, 0);
}

#[test]
fn slow_prepares_do_not_serialize_calls() {
    let s = Scratch::new();
    let cmd = s.script("slow", "sleep 1");
    let usage = s.script("usage", "echo '{\"processes\":1}' > \"$2\"");
    let iso = Arc::new(s.isolator(&[
        ("isolator_prepare_command", cmd.to_str().unwrap()),
        ("isolator_usage_command", usage.to_str().unwrap()),
    ]));
    let template: Value =
        serde_json::from_str(&fixture("isolator_prepare/command-task.json")).unwrap();
    let started = Instant::now();
    let receivers: Vec<_> = (0..20)
        .map(|i| {
            let mut doc = template.clone();
            doc["container_id"] = json!({"value": format!("c{i}")});
            spawn(&iso, Method::IsolatorPrepare, &doc.to_string())
        })
        .collect();
    // A usage call while every prepare sleeps answers at once.
    let usage_started = Instant::now();
    let out = call(
        &iso,
        Method::IsolatorUsage,
        r#"{"container_id":{"value":"c3"}}"#,
    )
    .unwrap();
    assert_eq!(value(&out)["processes"], 1);
    assert!(usage_started.elapsed() < Duration::from_millis(800));
    for rx in receivers {
        let outcome = rx.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(outcome.answer, Answer::None);
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert_eq!(iso.state().unwrap().ids().len(), 20);
}

#[test]
fn a_launched_containers_watch_runs_at_once_and_then_every_period() {
    let s = Scratch::new();
    let counter = s.path().join("rounds");
    let cmd = s.script("watch", &format!("echo x >> {}", counter.display()));
    let iso = Arc::new(s.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_watch_frequence", "30"),
    ]));
    answer(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    let _rx = spawn(
        &iso,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container.json"),
    );
    let rounds = || lines_in(&counter);
    assert!(eventually(Duration::from_secs(3), || rounds() == 1));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rounds(), 1, "the second round came before the period");
    answer(
        &iso,
        Method::IsolatorCleanup,
        &fixture("isolator_update/container.json"),
    );
    assert!(eventually(Duration::from_secs(2), || iso.active_watches() == 0));
}

/// An error of the module itself never fails a watch (Mesos destroys the
/// container on a failed watch) nor a recover (Mesos exits): a watch whose
/// container id cannot be read never completes, a recover whose arguments
/// are not what Mesos passes succeeds; both are logged and counted.
#[test]
fn internal_errors_never_fail_a_watch_or_a_recover() {
    let s = Scratch::new();
    let cmd = s.script("cmd", "echo '{}' > \"$2\"");
    let iso = Arc::new(s.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_recover_command", cmd.to_str().unwrap()),
    ]));
    let (tx, rx) = mpsc::channel();
    iso.spawn_call(
        Method::IsolatorWatch,
        vec![r#"{"no_value":1}"#.to_string()],
        move |outcome| {
            let _ = tx.send(outcome);
        },
    );
    assert!(
        rx.recv_timeout(Duration::from_secs(2)).unwrap().is_none(),
        "a watch that cannot be run is abandoned, never failed"
    );
    assert_eq!(iso.metrics().stats(Method::IsolatorWatch).errors, 1);

    let (tx, rx) = mpsc::channel();
    // One argument where Mesos passes two.
    iso.spawn_call(
        Method::IsolatorRecover,
        vec!["[]".to_string()],
        move |outcome| {
            let _ = tx.send(outcome);
        },
    );
    let recovered = rx.recv_timeout(Duration::from_secs(2)).unwrap().unwrap();
    assert_eq!(recovered.answer, Answer::None, "recover still succeeds");
    let failure = recovered.failure.expect("the error is kept");
    assert_eq!(failure.kind, ErrorKind::Internal);
    assert!(failure.message.contains("takes 2 arguments"), "{failure}");
}
