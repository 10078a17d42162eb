//! The module's process (the agent) killed with SIGKILL while commands run:
//! their processes, their temp files (inputs may hold secrets) and their
//! cgroups outlive it. The next module instance, as the restarted agent
//! loads it, kills and removes all of it; the checkpoints are recovered.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mesos_command_modules::{Answer, Method, Module, ModuleKind, StateMode};
use serde_json::{json, Value};

use crate::common::{alive, eventually, fixture};
use crate::harness::{cgroups, logged, start_helper, Scenario};

const CONTAINERS: [&str; 3] = ["crash-1", "crash-2", "crash-3"];

fn prepare_document(id: &str) -> String {
    let mut doc: Value = serde_json::from_str(&fixture("isolator_prepare/long-task.json")).unwrap();
    doc["container_id"]["value"] = id.into();
    doc.to_string()
}

/// Helper process: an isolator whose prepare command never ends, three
/// prepares in flight; it waits to be killed.
pub fn calls_forever() {
    let var = |name: &str| std::env::var(name).unwrap();
    let params: Vec<(String, String)> = [
        ("module_name", "faults".to_string()),
        ("temp_directory", var("MCM_TEMP")),
        ("state_directory", var("MCM_STATE")),
        ("isolator_prepare_command", var("MCM_SCRIPT")),
        ("isolator_prepare_timeout", "600".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let params = crate::harness::with_suite_cgroup(params);
    let module = Arc::new(
        Module::with_state(
            ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator",
            &params,
            StateMode::Checkpointed,
        )
        .unwrap(),
    );
    for id in CONTAINERS {
        let document = prepare_document(id);
        module.spawn_call(
            Method::IsolatorPrepare,
            crate::harness::arguments(Method::IsolatorPrepare, &document),
            |_| {},
        );
    }
    loop {
        std::thread::park();
    }
}

fn private_directories(temp: &PathBuf) -> Vec<PathBuf> {
    std::fs::read_dir(temp)
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn what_a_killed_agent_left_running_is_killed_at_the_next_start() {
    let sc = Scenario::start("agent killed in the middle of calls");
    let script = sc.script(
        "endless",
        r#"( setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 1000' & )
sleep 1000 &
echo $! >> "$PIDS"
wait"#,
    );
    let temp = sc.scratch.temp_dir();
    let state = sc.scratch.state_dir();
    let mut helper = start_helper(
        "calls",
        &[
            ("MCM_TEMP", &temp),
            ("MCM_STATE", &state),
            ("MCM_SCRIPT", &script),
        ],
    );
    let pids = sc.wait_for_pids(3 * CONTAINERS.len());
    // The helper's calls are running: their files hold the inputs.
    let left = private_directories(&temp);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(std::fs::read_dir(&left[0]).unwrap().count(), 3);
    helper.kill().unwrap();
    helper.wait().unwrap();
    assert!(
        pids.iter().all(|&p| alive(p)),
        "the commands outlive the agent"
    );

    // The agent starts again and loads the module.
    let iso = sc.isolator(&[]);
    assert!(
        private_directories(&temp).is_empty(),
        "the dead agent's inputs are still on disk"
    );
    assert_eq!(
        logged(
            log::Level::Info,
            "removed the temp directories of processes that died"
        )
        .len(),
        1
    );
    if cgroups() {
        assert!(
            eventually(Duration::from_secs(1), || pids.iter().all(|&p| !alive(p))),
            "{:?} survived",
            pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
        );
        let killed = logged(
            log::Level::Warn,
            "left running by commands of a process that died",
        );
        assert_eq!(killed.len(), 1, "{:?}", crate::harness::logs());
        assert!(
            killed[0].starts_with(&format!("killed {} process(es) left running", pids.len())),
            "{}",
            killed[0]
        );
    } else {
        for &pid in &pids {
            // SAFETY: plain syscall on pids our scripts recorded.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    // Nothing lost: the checkpoints written before the commands ran are
    // recovered; one container survived the restart, one is an orphan.
    let out = sc.call(
        &iso,
        Method::IsolatorRecover,
        &json!({
            "states": [{"container_id": {"value": "crash-1"}, "pid": 1, "directory": "/d"}],
            "orphans": [{"value": "crash-2"}],
        })
        .to_string(),
    );
    assert_eq!(out.answer, Answer::None);
    assert_eq!(
        iso.state().unwrap().ids(),
        vec!["crash-1".to_string(), "crash-2".to_string()]
    );
    for id in ["crash-1", "crash-2"] {
        let out = sc.call(
            &iso,
            Method::IsolatorCleanup,
            &json!({"container_id": {"value": id}}).to_string(),
        );
        assert_eq!(out.answer, Answer::None);
    }
    sc.finish();
}
