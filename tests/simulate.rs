//! The offline simulator: the README's demonstration, the order and
//! concurrency of the calls, restart and recover, limitations, failures,
//! reproducibility and the machine-readable output.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::Scratch;
use mesos_command_modules::simulate::{
    self, CallRecord, CallResult, Event, ModuleSpec, Options, Report,
};
use mesos_command_modules::{Method, ModuleKind};
use serde_json::Value;

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tool(s: &Scratch, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "error")
        .env(
            "MESOS_COMMAND_EXAMPLES_STATE",
            s.path().join("example-state"),
        )
        .output()
        .expect("run the tool")
}

/// One line per command run: `start|end module method container nanos`.
#[derive(Clone, Debug)]
struct Run {
    module: String,
    method: String,
    container: String,
    start: u128,
    end: u128,
}

/// A script for every method: logs its start and end, keeps a copy of its
/// input, sleeps `delay` seconds (per method, `default` otherwise) and
/// answers like the examples would.
fn recorder(s: &Scratch, name: &str, delays: &[(&str, &str)]) -> PathBuf {
    let dir = s.path().display().to_string();
    std::fs::create_dir_all(s.path().join("inputs")).unwrap();
    let cases: String = delays
        .iter()
        .map(|(method, delay)| format!("  {method}) sleep {delay} ;;\n"))
        .collect();
    s.script(
        name,
        &format!(
            r#"c=${{MESOS_COMMAND_CONTAINER_ID:--}}
echo "start $MESOS_COMMAND_MODULE $MESOS_COMMAND_METHOD $c $(date +%s%N)" >> {dir}/log
cp "$1" "{dir}/inputs/$MESOS_COMMAND_MODULE.$MESOS_COMMAND_METHOD.$c.$(date +%s%N).json"
case "$MESOS_COMMAND_METHOD" in
{cases}esac
case "$MESOS_COMMAND_METHOD" in
  hook_slave_run_task_label_decorator|hook_master_launch_task_label_decorator)
    echo "{{\"labels\":[{{\"key\":\"from-$MESOS_COMMAND_MODULE\",\"value\":\"1\"}}]}}" > "$2" ;;
  isolator_usage) echo '{{"processes":1}}' > "$2" ;;
esac
echo "end $MESOS_COMMAND_MODULE $MESOS_COMMAND_METHOD $c $(date +%s%N)" >> {dir}/log"#
        ),
    )
}

fn runs(s: &Scratch) -> Vec<Run> {
    let log = std::fs::read_to_string(s.path().join("log")).unwrap_or_default();
    let mut open: BTreeMap<(String, String, String), Vec<u128>> = BTreeMap::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let key = (f[1].to_string(), f[2].to_string(), f[3].to_string());
        let t: u128 = f[4].parse().unwrap();
        match f[0] {
            "start" => open.entry(key).or_default().push(t),
            _ => {
                let start = open.get_mut(&key).and_then(Vec::pop).expect("a start");
                out.push(Run {
                    module: key.0,
                    method: key.1,
                    container: key.2,
                    start,
                    end: t,
                });
            }
        }
    }
    out.sort_by_key(|r| r.start);
    out
}

/// The inputs a module's method received, oldest first.
fn inputs(s: &Scratch, module: &str, method: &str) -> Vec<Value> {
    let mut found: Vec<(u128, Value)> = std::fs::read_dir(s.path().join("inputs"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&format!("{module}.{method}."))?;
            let stamp: u128 = rest
                .trim_end_matches(".json")
                .rsplit('.')
                .next()?
                .parse()
                .ok()?;
            let value = serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok()?;
            Some((stamp, value))
        })
        .collect();
    found.sort_by_key(|(t, _)| *t);
    found.into_iter().map(|(_, v)| v).collect()
}

fn spec(kind: ModuleKind, symbol: &str, name: &str, script: &Path) -> ModuleSpec {
    let mut parameters = vec![("module_name".to_string(), name.to_string())];
    for method in Method::of_kind(kind) {
        parameters.push((
            format!("{}_command", method.key()),
            script.display().to_string(),
        ));
    }
    if kind == ModuleKind::Isolator {
        parameters.push(("isolator_watch_frequence".into(), "0.2".into()));
    }
    ModuleSpec {
        symbol: symbol.to_string(),
        kind,
        parameters,
    }
}

fn run_simulation(specs: Vec<ModuleSpec>, options: &Options) -> (Report, Vec<Event>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let report = simulate::simulate(
        specs,
        options,
        Arc::new(move |e: &Event| sink.lock().unwrap().push(e.clone())),
    )
    .expect("the simulation runs");
    let events = events.lock().unwrap().clone();
    (report, events)
}

fn calls(report: &Report, method: Method) -> Vec<&CallRecord> {
    report
        .records
        .iter()
        .filter(|r| r.method == method)
        .collect()
}

#[test]
fn the_readme_demonstration_runs_every_example_and_succeeds() {
    let s = Scratch::new();
    let manifest = checkout().join("examples/modules.json");
    let out = tool(&s, &["simulate", manifest.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for phase in [
        "== start:",
        "== launch:",
        "== running:",
        "== teardown:",
        "== master:",
    ] {
        assert!(stdout.contains(phase), "{phase} missing:\n{stdout}");
    }
    assert!(
        stdout.contains("command(s) configured in /usr/share/mesos-command-modules/examples"),
        "{stdout}"
    );
    // One summary row per method the agent calls (the Docker hook is the
    // Docker containerizer's; the oversubscription modules are not in this
    // manifest).
    let summary = stdout.split("summary:").nth(1).expect("a summary");
    for method in Method::ALL {
        let expected = method != Method::HookSlavePreLaunchDockerTaskExecutorDecorator
            && method != Method::IsolatorRecover
            && matches!(method.kind(), ModuleKind::Hook | ModuleKind::Isolator);
        assert_eq!(
            summary.contains(&format!(" {} ", method.key())),
            expected,
            "{method} in:\n{summary}"
        );
    }
    assert!(
        stdout.contains("OK: every call that must succeed succeeded"),
        "{stdout}"
    );
    // The trace: time, phase, module, method, container, duration, outcome.
    let prepare = stdout
        .lines()
        .find(|l| l.contains(" isolator_prepare "))
        .unwrap();
    let fields: Vec<&str> = prepare.split_whitespace().collect();
    assert!(fields[0].ends_with('s'), "{prepare}");
    assert_eq!(fields[1], "launch");
    assert_eq!(fields[2], "example-isolator");
    assert!(fields[4].starts_with('c'), "{prepare}");
    assert!(fields[5].ends_with("ms"), "{prepare}");
    assert!(
        fields[6..]
            .join(" ")
            .starts_with("ok {\"environment\":{\"variables\":"),
        "{prepare}"
    );
}

#[test]
fn calls_follow_the_agents_order_and_concurrency() {
    let s = Scratch::new();
    let script = recorder(
        &s,
        "record",
        &[
            ("isolator_prepare", "0.4"),
            ("isolator_isolate", "0.2"),
            ("hook_slave_run_task_label_decorator", "0.05"),
            ("hook_slave_task_status_decorator", "0.05"),
        ],
    );
    let mut specs = vec![
        spec(
            ModuleKind::Hook,
            "com_criteo_mesos_CommandHook",
            "h1",
            &script,
        ),
        spec(
            ModuleKind::Hook,
            "com_criteo_mesos_CommandHook2",
            "h2",
            &script,
        ),
        spec(
            ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator",
            "i1",
            &script,
        ),
        spec(
            ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator2",
            "i2",
            &script,
        ),
    ];
    // h2 adds its label to those h1 left (merge mode); h1 replaces them.
    specs[1].parameters.push((
        "hook_slave_run_task_label_decorator_merge".into(),
        "true".into(),
    ));
    let options = Options {
        containers: 6,
        seed: 42,
        parallel: 6,
        usage_rounds: 1,
        ..Options::default()
    };
    let (report, _) = run_simulation(specs, &options);
    assert!(
        report.success(true),
        "{:#?}",
        report.must_succeed_failures()
    );
    assert_eq!(report.launched, 6);
    let runs = runs(&s);

    // Hooks: never two at once, across both hook modules.
    let hooks: Vec<&Run> = runs
        .iter()
        .filter(|r| r.method.starts_with("hook_"))
        .collect();
    assert!(hooks.len() > 40, "{}", hooks.len());
    for pair in hooks.windows(2) {
        assert!(
            pair[1].start >= pair[0].end,
            "hooks overlap: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
    // Chained: h2 sees the label h1 added, and prepare sees both.
    let seen = inputs(&s, "h2", "hook_slave_run_task_label_decorator");
    let keys: Vec<&str> = seen[0]["task_info"]["labels"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"from-h1"), "{keys:?}");

    let by_container = |container: &str| -> Vec<&Run> {
        runs.iter()
            .filter(|r| r.container == container && r.method.starts_with("isolator_"))
            .collect()
    };
    let containers: BTreeSet<&str> = runs
        .iter()
        .filter(|r| r.method == "isolator_prepare")
        .map(|r| r.container.as_str())
        .collect();
    assert!(containers.len() >= 6, "{containers:?}");
    for container in &containers {
        let mine = by_container(container);
        let first = |module: &str, method: &str| {
            mine.iter()
                .find(|r| r.module == module && r.method == method)
                .unwrap_or_else(|| panic!("{module} {method} {container}"))
        };
        // prepare: i1 then i2, one after the other.
        assert!(first("i2", "isolator_prepare").start >= first("i1", "isolator_prepare").end);
        // watch registered (its first round) before isolate ends, after
        // prepare; isolate after both prepares.
        for module in ["i1", "i2"] {
            let watch = first(module, "isolator_watch");
            assert!(watch.start >= first("i2", "isolator_prepare").end);
            assert!(first(module, "isolator_isolate").start >= first("i2", "isolator_prepare").end);
        }
        // isolate: both isolators at once.
        let (a, b) = (
            first("i1", "isolator_isolate"),
            first("i2", "isolator_isolate"),
        );
        assert!(
            a.start < b.end && b.start < a.end,
            "isolate ran one after the other for {container}"
        );
        // cleanup: reverse order, one after the other, last of all.
        let (c1, c2) = (
            first("i1", "isolator_cleanup"),
            first("i2", "isolator_cleanup"),
        );
        assert!(c1.start >= c2.end, "cleanup order for {container}");
        assert!(mine
            .iter()
            .filter(|r| r.method != "isolator_cleanup" && r.method != "isolator_watch")
            .all(|r| r.end <= c2.start));
    }
    // Nested containers are cleaned up before their parent.
    for nested in containers.iter().filter(|c| c.contains('.')) {
        let parent = nested.split('.').next().unwrap();
        let end_nested = by_container(nested)
            .iter()
            .filter(|r| r.method == "isolator_cleanup")
            .map(|r| r.end)
            .max()
            .unwrap();
        let start_parent = by_container(parent)
            .iter()
            .filter(|r| r.method == "isolator_cleanup")
            .map(|r| r.start)
            .min()
            .unwrap();
        assert!(end_nested <= start_parent, "{nested}");
    }
    // Different containers run at the same time: some prepares overlap.
    let prepares: Vec<&Run> = runs
        .iter()
        .filter(|r| r.method == "isolator_prepare" && r.module == "i1")
        .collect();
    assert!(
        prepares.windows(2).any(|p| p[1].start < p[0].end),
        "containers were launched one at a time"
    );
    // Every top-level container: update, then remove-executor after its
    // cleanup.
    assert_eq!(calls(&report, Method::IsolatorUpdate).len(), 12);
    assert_eq!(
        calls(&report, Method::HookSlaveRemoveExecutorHook).len(),
        12
    );
    // What the isolators received carries the container_config they were
    // prepared with, including the decorated labels.
    let usage = inputs(&s, "i1", "isolator_usage");
    assert_eq!(usage.len(), 6);
    let prepared = inputs(&s, "i1", "isolator_prepare");
    for u in &usage {
        let config = &u["container_config"];
        assert!(prepared.iter().any(|p| p["container_config"] == *config));
        if let Some(task) = config.get("task_info") {
            let labels = task["labels"].to_string();
            assert_eq!(
                labels,
                r#"{"labels":[{"key":"from-h1","value":"1"},{"key":"from-h2","value":"1"}]}"#
            );
        }
    }
}

#[test]
fn a_restart_drops_the_modules_and_recovers_the_running_containers() {
    let s = Scratch::new();
    let script = recorder(&s, "record", &[]);
    let specs = vec![
        spec(
            ModuleKind::Hook,
            "com_criteo_mesos_CommandHook",
            "h",
            &script,
        ),
        spec(
            ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator",
            "i",
            &script,
        ),
    ];
    let work = s.path().join("work");
    let options = Options {
        containers: 4,
        seed: 7,
        restart: true,
        usage_rounds: 2,
        work_dir: Some(work.clone()),
        ..Options::default()
    };
    let (report, events) = run_simulation(specs, &options);
    assert!(
        report.success(true),
        "{:#?}",
        report.must_succeed_failures()
    );
    assert_eq!(report.restarts, 1);
    assert_eq!(report.work_dir.as_deref(), Some(work.as_path()));

    let recover = inputs(&s, "i", "isolator_recover");
    assert_eq!(recover.len(), 1);
    let states = recover[0]["states"].as_array().unwrap();
    let prepared = inputs(&s, "i", "isolator_prepare");
    // Every container prepared (top-level and nested) is still running.
    assert_eq!(states.len(), prepared.len());
    for state in states {
        assert!(state["pid"].as_u64().unwrap() > 1, "{state}");
        assert!(state["directory"]
            .as_str()
            .unwrap()
            .starts_with(work.to_str().unwrap()));
        let id = &state["container_id"];
        assert!(prepared.iter().any(|p| p["container_id"] == *id), "{id}");
    }
    assert_eq!(recover[0]["orphans"], serde_json::json!([]));

    // The agent-start hooks ran twice; the watches were registered again.
    assert_eq!(calls(&report, Method::HookSlaveResourcesDecorator).len(), 2);
    let watches = calls(&report, Method::IsolatorWatch);
    assert_eq!(watches.len(), 2 * prepared.len());
    // After the restart the new instance still passes the container_config
    // it recovered from the state files.
    let usage = inputs(&s, "i", "isolator_usage");
    let last = usage.last().unwrap();
    assert!(prepared
        .iter()
        .any(|p| p["container_config"] == last["container_config"]));
    // Everything was cleaned: no state left, and the summary adds both
    // instances' runs.
    assert!(report.leftovers.is_empty(), "{:?}", report.leftovers);
    let state_dir = work.join("state/i");
    assert_eq!(std::fs::read_dir(&state_dir).unwrap().count(), 0);
    let usage_row = report
        .summary
        .iter()
        .find(|r| r.method == Method::IsolatorUsage)
        .unwrap();
    assert_eq!(usage_row.calls, 8);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Phase(simulate::Phase::Restart, _))));
}

#[test]
fn a_failed_launch_is_destroyed_reported_and_fails_the_run() {
    let s = Scratch::new();
    // Refuse command tasks (their container_config has a task_info).
    let prepare = s.script(
        "prepare",
        r#"if grep -q '"task_info"' "$1"; then echo "no command tasks here" > "$3"; exit 3; fi"#,
    );
    let recorder = recorder(&s, "record", &[]);
    let mut isolator = spec(
        ModuleKind::Isolator,
        "com_criteo_mesos_CommandIsolator",
        "i",
        &recorder,
    );
    for (k, v) in &mut isolator.parameters {
        if k == "isolator_prepare_command" {
            *v = prepare.display().to_string();
        }
    }
    let hooks = spec(
        ModuleKind::Hook,
        "com_criteo_mesos_CommandHook",
        "h",
        &recorder,
    );
    let options = Options {
        containers: 6,
        seed: 7,
        ..Options::default()
    };
    let (report, _) = run_simulation(vec![hooks, isolator], &options);
    let failed = report.must_succeed_failures();
    assert!(!failed.is_empty());
    assert!(!report.success(false));
    assert_eq!(report.launch_failures, failed.len());
    assert_eq!(report.launched + report.launch_failures, 6);
    for f in &failed {
        assert_eq!(f.method, Method::IsolatorPrepare);
        let CallResult::Failed(e) = &f.result else {
            panic!("{f:?}")
        };
        assert!(
            e.message
                .ends_with("exited with return code 3. Cause: no command tasks here"),
            "{e}"
        );
        let id = f.container_id.as_deref().unwrap();
        // Destroyed: cleanup ran, the agent said TASK_FAILED, the executor
        // was removed; never isolated or polled.
        let mine = |m: Method| {
            report
                .records
                .iter()
                .filter(|r| r.method == m && r.container_id.as_deref() == Some(id))
                .count()
        };
        assert_eq!(mine(Method::IsolatorCleanup), 1);
        assert_eq!(mine(Method::HookSlaveRemoveExecutorHook), 1);
        assert_eq!(mine(Method::IsolatorIsolate), 0);
        assert_eq!(mine(Method::IsolatorUsage), 0);
    }
    let statuses = inputs(&s, "h", "hook_slave_task_status_decorator");
    let failed_status = statuses
        .iter()
        .find(|v| v["status"]["state"] == "TASK_FAILED")
        .expect("a TASK_FAILED update");
    assert_eq!(
        failed_status["status"]["reason"],
        "REASON_CONTAINER_LAUNCH_FAILED"
    );
    assert!(failed_status["status"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to launch container: "));

    // The command-line tool exits 1 and names the failed calls.
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[{{"name":"com_criteo_mesos_CommandIsolator",
            "parameters":[{{"key":"module_name","value":"i"}},
                          {{"key":"isolator_prepare_command","value":"{}"}}]}}]}}]}}"#,
            prepare.display()
        ),
    )
    .unwrap();
    let out = tool(
        &s,
        &[
            "simulate",
            manifest.to_str().unwrap(),
            "--containers",
            "6",
            "--seed",
            "7",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("MUST SUCCEED: i isolator_prepare c"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAILED: ") && stdout.contains("call(s) that must succeed failed"),
        "{stdout}"
    );
}

#[test]
fn hook_failures_fail_the_run_only_when_strict() {
    let s = Scratch::new();
    let fail = s.script("fail", "echo nope > \"$3\"; exit 1");
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[{{"name":"com_criteo_mesos_CommandHook",
            "parameters":[{{"key":"module_name","value":"h"}},
                          {{"key":"hook_slave_run_task_label_decorator_command","value":"{}"}}]}}]}}]}}"#,
            fail.display()
        ),
    )
    .unwrap();
    let m = manifest.to_str().unwrap();
    let out = tool(&s, &["simulate", m, "--quiet"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("failed commands by kind: exit_status: 3"));
    let out = tool(&s, &["simulate", m, "--quiet", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("FAILED (--strict): 3 command(s) failed"));
}

#[test]
fn a_limitation_destroys_its_container_with_the_reason() {
    let s = Scratch::new();
    let recorder = recorder(&s, "record", &[]);
    let watch = s.script(
        "watch",
        r#"echo '{"message":"too much memory","reason":"REASON_CONTAINER_LIMITATION_MEMORY"}' > "$2""#,
    );
    let mut isolator = spec(
        ModuleKind::Isolator,
        "com_criteo_mesos_CommandIsolator",
        "i",
        &recorder,
    );
    for (k, v) in &mut isolator.parameters {
        if k == "isolator_watch_command" {
            *v = watch.display().to_string();
        }
    }
    let hooks = spec(
        ModuleKind::Hook,
        "com_criteo_mesos_CommandHook",
        "h",
        &recorder,
    );
    let options = Options {
        containers: 3,
        seed: 3,
        usage_rounds: 2,
        ..Options::default()
    };
    let (report, _) = run_simulation(vec![hooks, isolator], &options);
    assert!(
        report.success(false),
        "{:#?}",
        report.must_succeed_failures()
    );
    assert_eq!(report.limited, 3);
    let limitations: Vec<&CallRecord> = report
        .records
        .iter()
        .filter(|r| matches!(r.result, CallResult::Limitation(_)))
        .collect();
    assert!(limitations.len() >= 3);
    // Destroyed, not finished: no update, and the agent's TASK_FAILED
    // carries the watch's reason and message.
    assert!(calls(&report, Method::IsolatorUpdate).is_empty());
    assert_eq!(calls(&report, Method::HookSlaveRemoveExecutorHook).len(), 3);
    let statuses = inputs(&s, "h", "hook_slave_task_status_decorator");
    let failed: Vec<&Value> = statuses
        .iter()
        .filter(|v| v["status"]["state"] == "TASK_FAILED")
        .collect();
    assert_eq!(failed.len(), 3);
    for f in failed {
        assert_eq!(f["status"]["reason"], "REASON_CONTAINER_LIMITATION_MEMORY");
        assert_eq!(f["status"]["message"], "too much memory");
        assert_eq!(f["status"]["source"], "SOURCE_SLAVE");
    }
}

#[test]
fn an_isolator_without_nesting_never_sees_nested_containers() {
    let s = Scratch::new();
    let recorder = recorder(&s, "record", &[]);
    let mut flat = spec(
        ModuleKind::Isolator,
        "com_criteo_mesos_CommandIsolator",
        "flat",
        &recorder,
    );
    flat.parameters
        .push(("supports_nesting".into(), "false".into()));
    let nesting = spec(
        ModuleKind::Isolator,
        "com_criteo_mesos_CommandIsolator2",
        "nesting",
        &recorder,
    );
    // Seed 2: a long task and two task groups.
    let options = Options {
        containers: 3,
        seed: 2,
        restart: true,
        ..Options::default()
    };
    let (report, _) = run_simulation(vec![flat, nesting], &options);
    assert!(report.success(true));
    let nested = |module: &str| {
        report
            .records
            .iter()
            .filter(|r| {
                r.module == module && r.container_id.as_deref().is_some_and(|c| c.contains('.'))
            })
            .count()
    };
    assert_eq!(nested("flat"), 0);
    assert!(nested("nesting") >= 8, "{}", nested("nesting"));
    let recovered = inputs(&s, "flat", "isolator_recover");
    assert_eq!(recovered[0]["states"].as_array().unwrap().len(), 3);
    let recovered = inputs(&s, "nesting", "isolator_recover");
    assert_eq!(recovered[0]["states"].as_array().unwrap().len(), 5);
}

#[test]
fn the_same_seed_gives_the_same_containers() {
    let s = Scratch::new();
    // An isolator without commands: only the inputs matter here.
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        r#"{"libraries":[{"file":"/x.so","modules":[{"name":"com_criteo_mesos_CommandIsolator",
            "parameters":[{"key":"module_name","value":"i"}]}]}]}"#,
    )
    .unwrap();
    let m = manifest.to_str().unwrap();
    let ids = |seed: &str| -> Vec<String> {
        let out = tool(
            &s,
            &[
                "simulate",
                m,
                "--json",
                "--containers",
                "4",
                "--seed",
                seed,
                "--usage-rounds",
                "0",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["type"] == "note" && v["text"].as_str().unwrap().starts_with('c'))
            .map(|v| v["text"].as_str().unwrap().to_string())
            .collect()
    };
    let first = ids("11");
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(first, ids("11"));
    assert_ne!(first, ids("12"));
}

/// `simulate --json --restart` of `manifest`, which must succeed: its lines.
fn json_lines_with_a_restart(s: &Scratch, manifest: &Path) -> Vec<Value> {
    let out = tool(
        s,
        &[
            "simulate",
            manifest.to_str().unwrap(),
            "--json",
            "--restart",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_lines_describe_every_call_and_the_result() {
    let s = Scratch::new();
    let manifest = checkout().join("examples/modules.json");
    let lines = json_lines_with_a_restart(&s, &manifest);
    let kinds: BTreeSet<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["call", "module", "note", "phase", "result", "summary"]
            .into_iter()
            .collect()
    );
    let calls: Vec<&Value> = lines.iter().filter(|l| l["type"] == "call").collect();
    for c in &calls {
        for field in [
            "seq",
            "start_s",
            "phase",
            "module",
            "method",
            "duration_ms",
            "outcome",
        ] {
            assert!(!c[field].is_null(), "{field} missing in {c}");
        }
    }
    let seqs: Vec<u64> = calls.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=calls.len() as u64).collect::<Vec<_>>());
    let result = lines.last().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["success"], true);
    assert_eq!(result["calls"], calls.len());
    assert_eq!(result["restarts"], 1);
    let recover = calls
        .iter()
        .find(|c| c["method"] == "isolator_recover")
        .unwrap();
    assert_eq!(recover["phase"], "restart");
}

#[test]
fn long_runs_print_a_progress_line_on_stderr() {
    let s = Scratch::new();
    let slow = s.script("slow", "sleep 0.5");
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[{{"name":"com_criteo_mesos_CommandIsolator",
            "parameters":[{{"key":"module_name","value":"slow"}},
                          {{"key":"isolator_prepare_command","value":"{}"}}]}}]}}]}}"#,
            slow.display()
        ),
    )
    .unwrap();
    let out = tool(
        &s,
        &[
            "simulate",
            manifest.to_str().unwrap(),
            "--quiet",
            "--containers",
            "6",
            "--parallel",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("simulate: ") && stderr.contains("containers launched"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        !stdout.lines().any(|l| l.contains("ms ok")),
        "--quiet printed calls: {stdout}"
    );
}

#[test]
fn commands_are_run_from_their_configured_paths_with_no_relocate() {
    let s = Scratch::new();
    let manifest = checkout().join("examples/modules.json");
    let out = tool(
        &s,
        &["simulate", manifest.to_str().unwrap(), "--no-relocate"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: com_criteo_mesos_CommandHook: hook_master_launch_task_label_decorator_command: \
         \"/usr/share/mesos-command-modules/examples/scripts/hook_master_launch_task_label_decorator.py\" \
         cannot be used: No such file or directory (os error 2)"
    );
}

#[test]
fn the_service_example_runs_through_its_helper_across_an_agent_restart() {
    let s = Scratch::new();
    let manifest = checkout().join("examples/service/modules.json");
    let lines = json_lines_with_a_restart(&s, &manifest);
    let result = lines.iter().find(|l| l["type"] == "result").unwrap();
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["restarts"], 1);
    assert_eq!(result["helper_restarts"], 0);
    let served: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["type"] == "call" && l["configured"] == true)
        .filter(|l| l["outcome"] != "error")
        .filter_map(|l| l["method"].as_str())
        .collect();
    for method in ["isolator_usage", "isolator_watch", "isolator_status"] {
        assert!(served.contains(method), "{method} not served: {served:?}");
    }
}

#[test]
fn the_oversubscription_step_preempts_what_the_qos_controller_kills() {
    let s = Scratch::new();
    let recorder = recorder(&s, "record", &[]);
    // Kills the first executor of the usage it receives.
    let qos = s.script(
        "qos",
        &format!(
            "cp \"$1\" {dir}/qos-input.json\n\
             python3 -c 'import json,sys\n\
             e = json.load(open(sys.argv[1]))[\"usage\"][\"executors\"][0]\n\
             kill = {{\"framework_id\": e[\"executor_info\"][\"framework_id\"],\n\
                     \"executor_id\": e[\"executor_info\"][\"executor_id\"],\n\
                     \"container_id\": e[\"container_id\"]}}\n\
             json.dump([{{\"type\": \"KILL\", \"kill\": kill}}], open(sys.argv[2], \"w\"))' \"$1\" \"$2\"",
            dir = s.path().display()
        ),
    );
    let estimator = s.script(
        "estimate",
        r#"echo '[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]' > "$2""#,
    );
    let hooks = spec(
        ModuleKind::Hook,
        "com_criteo_mesos_CommandHook",
        "h",
        &recorder,
    );
    let estimator = spec(
        ModuleKind::ResourceEstimator,
        "com_criteo_mesos_CommandResourceEstimator",
        "estimator",
        &estimator,
    );
    let qos = spec(
        ModuleKind::QoSController,
        "com_criteo_mesos_CommandQoSController",
        "qos",
        &qos,
    );
    let options = Options {
        containers: 3,
        seed: 3,
        ..Options::default()
    };
    let (report, _) = run_simulation(vec![hooks, estimator, qos], &options);
    assert!(report.success(true), "{:#?}", report.records);
    let estimates = calls(&report, Method::ResourceEstimatorOversubscribable);
    assert_eq!(estimates.len(), 1);
    assert!(
        matches!(&estimates[0].result, CallResult::Value(v) if v.contains("\"revocable\":{}")),
        "{:?}",
        estimates[0].result
    );
    let usage: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path().join("qos-input.json")).unwrap())
            .unwrap();
    let executors = usage["usage"]["executors"].as_array().unwrap();
    assert_eq!(executors.len(), 3, "{usage}");
    for e in executors {
        assert!(
            e["allocated"].as_array().is_some_and(|a| !a.is_empty()),
            "{e}"
        );
        assert!(e["statistics"]["timestamp"].is_number(), "{e}");
    }
    assert!(usage["usage"]["total"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));

    assert_eq!((report.preempted, report.limited), (1, 0));
    let statuses = inputs(&s, "h", "hook_slave_task_status_decorator");
    let preempted: Vec<&Value> = statuses
        .iter()
        .filter(|v| v["status"]["reason"] == "REASON_CONTAINER_PREEMPTED")
        .collect();
    assert_eq!(preempted.len(), 1, "{statuses:#?}");
    let state = &preempted[0]["status"]["state"];
    assert!(state == "TASK_LOST" || state == "TASK_GONE", "{state}");
    assert_eq!(
        preempted[0]["status"]["message"],
        "Container preempted by QoS correction"
    );
    assert!(report
        .result_line()
        .contains("1 preempted by a QoS correction"));
}
