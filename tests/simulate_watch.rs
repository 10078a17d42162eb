//! The simulator and watches: a launched container's first round runs
//! before the container is torn down (whether a command or a service
//! helper serves it), failed rounds are failed commands, and the start
//! phase and the module counters name every module.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::Scratch;
use mesos_command_modules::simulate::{
    self, CallResult, Event, ModuleSpec, Options, Phase, Report,
};
use mesos_command_modules::{Method, ModuleKind};
use serde_json::Value;

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run the tool")
}

fn isolator(name: &str, parameters: &[(&str, &str)]) -> ModuleSpec {
    let mut all = vec![("module_name".to_string(), name.to_string())];
    all.extend(
        parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    ModuleSpec {
        symbol: "com_criteo_mesos_CommandIsolator".into(),
        kind: ModuleKind::Isolator,
        parameters: all,
    }
}

fn run(specs: Vec<ModuleSpec>, containers: usize) -> (Report, Vec<Event>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let options = Options {
        containers,
        seed: 5,
        ..Options::default()
    };
    let report = simulate::simulate(
        specs,
        &options,
        Arc::new(move |e: &Event| sink.lock().unwrap().push(e.clone())),
    )
    .expect("the simulation runs");
    let events = events.lock().unwrap().clone();
    (report, events)
}

/// The ids of the containers whose watch was registered at launch.
fn watched(report: &Report) -> BTreeSet<String> {
    report
        .records
        .iter()
        .filter(|r| r.method == Method::IsolatorWatch && r.result == CallResult::Watching)
        .filter_map(|r| r.container_id.clone())
        .collect()
}

#[test]
fn a_watch_only_isolator_runs_every_launched_containers_first_round() {
    let s = Scratch::new();
    let log = s.path().join("rounds");
    // Longer than everything else the simulated agent does with no other
    // command: without waiting for it, the container is gone first.
    let watch = s.script(
        "watch",
        &format!(
            "sleep 0.1; echo \"$MESOS_COMMAND_CONTAINER_ID\" >> '{}'",
            log.display()
        ),
    );
    let spec = isolator(
        "watch-only",
        &[("isolator_watch_command", watch.to_str().unwrap())],
    );
    let (report, _) = run(vec![spec], 3);
    assert!(report.success(true), "{}", report.result_line());
    let expected = watched(&report);
    assert!(expected.len() >= 3, "{expected:?}");
    let ran: BTreeSet<String> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ran, expected, "containers whose first round ran");
    // One round each (the frequency is 30 s), counted as the agent would.
    assert_eq!(report.watch_rounds(), expected.len());
    assert!(
        report
            .result_line()
            .contains(&format!("calls and {} watch round(s)", expected.len())),
        "{}",
        report.result_line()
    );
}

#[test]
fn a_watch_served_by_a_helper_runs_every_launched_containers_first_round() {
    let helper = checkout().join("examples/service/service.py");
    let spec = isolator(
        "watch-service",
        &[
            ("service_command", helper.to_str().unwrap()),
            ("service_methods", "isolator_watch"),
        ],
    );
    let (report, _) = run(vec![spec], 2);
    assert!(report.success(true), "{}", report.result_line());
    let expected = watched(&report);
    assert!(expected.len() >= 2, "{expected:?}");
    assert_eq!(
        report.watch_rounds(),
        expected.len(),
        "{:?}",
        report.summary
    );
    let module = &report.modules[0];
    assert_eq!(module.module, "watch-service");
    assert_eq!(module.service, Some((0, 0)));
}

#[test]
fn failed_watch_rounds_are_failed_commands() {
    let s = Scratch::new();
    let watch = s.script("watch", "echo 'no disk' > \"$3\"; exit 3");
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[{{"name":"com_criteo_mesos_CommandIsolator",
            "parameters":[{{"key":"module_name","value":"w"}},
                          {{"key":"isolator_watch_command","value":"{}"}}]}}]}}]}}"#,
            watch.display()
        ),
    )
    .unwrap();
    let (specs, _) = simulate::modules_from_manifest(&manifest).unwrap();
    let (report, _) = run(specs, 1);
    let rounds = report.watch_rounds();
    assert!(rounds >= 1, "{:?}", report.summary);
    assert_eq!(report.failed_watch_rounds(), rounds);
    assert_eq!(report.errors(), rounds);
    // Mesos carries on (the watch goes on): only --strict fails.
    assert!(report.success(false));
    assert!(!report.success(true));

    let m = manifest.to_str().unwrap();
    let out = tool(&["simulate", m, "--quiet", "--containers", "1", "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{rounds} failed command(s) ({rounds} of them watch rounds)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("FAILED (--strict): {rounds} command(s) failed")),
        "{stdout}"
    );
    let out = tool(&["simulate", m, "--json", "--containers", "1", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let result: Value = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["type"] == "result")
        .expect("a result line");
    assert_eq!(result["errors"], rounds);
    assert_eq!(result["failed_watch_rounds"], rounds);
    assert_eq!(result["success"], false);
}

#[test]
fn the_start_phase_and_the_module_counters_name_every_module() {
    let s = Scratch::new();
    let ok = s.script("ok", "true");
    let ok = ok.to_str().unwrap();
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[
            {{"name":"com_criteo_mesos_CommandIsolator","parameters":[{{"key":"module_name","value":"i"}},
                {{"key":"isolator_usage_command","value":"{ok}"}}]}},
            {{"name":"com_criteo_mesos_CommandResourceEstimator","parameters":[{{"key":"module_name","value":"e"}},
                {{"key":"resource_estimator_oversubscribable_command","value":"{ok}"}}]}},
            {{"name":"com_criteo_mesos_CommandQoSController","parameters":[{{"key":"module_name","value":"q"}},
                {{"key":"qos_controller_corrections_command","value":"{ok}"}}]}}]}}]}}"#
        ),
    )
    .unwrap();
    let (specs, _) = simulate::modules_from_manifest(&manifest).unwrap();
    let (report, events) = run(specs, 1);
    assert!(report.success(true), "{}", report.result_line());
    let start = events
        .iter()
        .find_map(|e| match e {
            Event::Phase(Phase::AgentStart, text) => Some(text.clone()),
            _ => None,
        })
        .expect("a start phase");
    assert_eq!(
        start,
        "agent starts: 0 hook module(s), 1 isolator module(s), 1 resource estimator(s), \
         1 QoS controller(s)"
    );
    let names: Vec<&str> = report.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(names, ["i", "e", "q"]);
    for m in &report.modules {
        assert!(m.commands_running_peak >= 1, "{m:?}");
        assert_eq!((m.commands_outlived, m.commands_unreaped), (0, 0), "{m:?}");
        assert_eq!(m.service, None);
    }

    let out = tool(&["simulate", manifest.to_str().unwrap(), "--containers", "1"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("module counters ("), "{stdout}");
    let out = tool(&[
        "simulate",
        manifest.to_str().unwrap(),
        "--containers",
        "1",
        "--json",
    ]);
    let rows: Vec<Value> = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "module")
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        for field in [
            "commands_running_peak",
            "commands_outlived",
            "commands_unreaped",
        ] {
            assert!(row[field].is_u64(), "{field} in {row}");
        }
        assert!(row["service_restarts"].is_null(), "{row}");
    }
}
