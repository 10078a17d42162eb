//! Every example under `examples/`, run through the tool as an operator runs
//! it: `check` the manifest, then `call` every configured method with every
//! input a real Mesos passed (`tests/fixtures/<method>/`). A call succeeds
//! only if the module accepted the command's output as the method's Mesos
//! type, so an example can never go stale. Then the behaviour each use-case
//! example promises.

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Scratch;
use mesos_command_modules::manifest;
use mesos_command_modules::method::{Method, ModuleKind, Output as OutputType};
use serde_json::{json, Value};

/// Where the manifests say the examples are installed.
const INSTALLED: &str = "/usr/share/mesos-command-modules/examples";

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// `examples/modules.json` and every `examples/<use case>/modules.json`.
fn manifests() -> Vec<PathBuf> {
    let examples = checkout().join("examples");
    let mut found = vec![examples.join("modules.json")];
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&examples)
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("modules.json").is_file())
        .collect();
    dirs.sort();
    found.extend(dirs.into_iter().map(|d| d.join("modules.json")));
    found
}

/// A copy of `manifest` whose commands point into the checkout, as CI and
/// developers run them.
fn localized(s: &Scratch, manifest: &Path) -> PathBuf {
    let text = std::fs::read_to_string(manifest).unwrap();
    assert!(
        text.contains(INSTALLED),
        "{} does not use the installed layout {INSTALLED}",
        manifest.display()
    );
    let local = text.replace(
        INSTALLED,
        &checkout().join("examples").display().to_string(),
    );
    let name = manifest
        .strip_prefix(checkout().join("examples"))
        .unwrap()
        .display()
        .to_string()
        .replace('/', "-");
    let path = s.path().join(name);
    std::fs::write(&path, local).unwrap();
    path
}

/// Runs the tool with the examples' state directories inside `s`.
fn tool(s: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"));
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env(
            "MESOS_COMMAND_EXAMPLES_STATE",
            s.path().join("example-state"),
        )
        .env("MESOS_HEALTH_STATE_DIR", s.path().join("health-state"))
        .env("MESOS_WORK_DIR", s.path().join("no-agent-work-dir"));
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run the tool")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn call(s: &Scratch, manifest: &Path, module: &str, method: &str, input: &Path) -> Output {
    // The oversubscription estimator keeps its samples there, not in the
    // machine's temp directory.
    let state = s.path().join("oversubscription-state");
    let state = state.display().to_string();
    call_with(
        s,
        manifest,
        module,
        method,
        input,
        &[("OVERSUBSCRIPTION_STATE_DIR", &state)],
    )
}

fn call_with(
    s: &Scratch,
    manifest: &Path,
    module: &str,
    method: &str,
    input: &Path,
    env: &[(&str, &str)],
) -> Output {
    tool(
        s,
        &[
            "call",
            &manifest.display().to_string(),
            "--module",
            module,
            "--method",
            method,
            "--input",
            &input.display().to_string(),
        ],
        env,
    )
}

fn fixture_value(path: &str) -> Value {
    serde_json::from_str(&common::fixture(path)).unwrap()
}

fn write_input(s: &Scratch, name: &str, doc: &Value) -> PathBuf {
    let path = s.path().join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// Every captured input of `method` (the fixture folder is the method key
/// without `hook_`).
fn inputs(method: Method) -> Vec<PathBuf> {
    let dir = checkout()
        .join("tests/fixtures")
        .join(method.key().trim_start_matches("hook_"));
    let mut found: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    found.sort();
    assert!(!found.is_empty(), "no captured input for {method}");
    found
}

#[test]
fn every_example_manifest_passes_check() {
    let s = Scratch::new();
    let found = manifests();
    assert!(found.len() >= 5, "{found:?}");
    for manifest in found {
        let local = localized(&s, &manifest);
        let out = tool(&s, &["check", &local.display().to_string()], &[]);
        assert!(
            out.status.success(),
            "{}:\n{}{}",
            manifest.display(),
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            !text(&out.stdout).contains("warning:"),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn every_example_answers_every_captured_input_with_a_valid_value() {
    let s = Scratch::new();
    let mut values: BTreeMap<(String, Method), usize> = BTreeMap::new();
    let mut calls = 0;
    for manifest in manifests() {
        let local = localized(&s, &manifest);
        for module in manifest::load(&local).unwrap() {
            // Methods with a command of their own, and those the service
            // helper serves.
            let mut methods: Vec<Method> = module
                .parameters
                .iter()
                .filter(|(k, _)| k.ends_with("_command") && k != "service_command")
                .map(|(k, _)| Method::from_key(k.trim_end_matches("_command")).unwrap())
                .collect();
            for (_, list) in module
                .parameters
                .iter()
                .filter(|(k, _)| k == "service_methods")
            {
                methods.extend(list.split(',').map(|m| Method::from_key(m.trim()).unwrap()));
            }
            for method in methods {
                for input in inputs(method) {
                    let out = call(&s, &local, &module.name, method.key(), &input);
                    calls += 1;
                    assert!(
                        out.status.success(),
                        "{} {} {method} with {}:\n{}",
                        manifest.display(),
                        module.name,
                        input.display(),
                        text(&out.stderr)
                    );
                    let stdout = text(&out.stdout);
                    if !stdout.trim().is_empty() {
                        let value: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
                            panic!("{method}: the answer is not JSON ({e}): {stdout}")
                        });
                        match method.contract().output {
                            OutputType::Resources
                            | OutputType::Attributes
                            | OutputType::Estimate
                            | OutputType::Corrections => {
                                assert!(value.is_array(), "{method}: {value}")
                            }
                            _ => assert!(value.is_object(), "{method}: {value}"),
                        }
                        *values
                            .entry((manifest.display().to_string(), method))
                            .or_default() += 1;
                    }
                }
            }
        }
    }
    assert!(calls > 60, "only {calls} calls");
    // The per-method examples answer a value wherever the method has one
    // (all but the watch, whose limitation needs a full disk: see below);
    // the oversubscription example answers both of its methods.
    let example = |name: &str| checkout().join(name).display().to_string();
    for method in Method::ALL {
        let manifest = match method.kind() {
            ModuleKind::Hook | ModuleKind::Isolator => example("examples/modules.json"),
            _ => example("examples/oversubscription/modules.json"),
        };
        let returns_value = method.contract().output != OutputType::Nothing;
        if returns_value && method != Method::IsolatorWatch {
            assert!(
                values.contains_key(&(manifest.clone(), method)),
                "{manifest}: {method} never answered a value"
            );
        }
    }
}

#[test]
fn the_main_example_configures_every_method_with_its_own_script() {
    let path = checkout().join("examples/modules.json");
    let modules = manifest::load(&path).unwrap();
    assert_eq!(modules.len(), 2);
    let mut configured = Vec::new();
    for module in &modules {
        for (key, value) in &module.parameters {
            if let Some(stem) = key.strip_suffix("_command") {
                let method = Method::from_key(stem).unwrap();
                assert_eq!(Some(method.kind()), module.kind, "{key}");
                let script = value.replace(INSTALLED, "examples");
                let file_name = Path::new(&script).file_stem().unwrap().to_string_lossy();
                assert_eq!(file_name, method.key(), "{key} runs {value}");
                assert!(checkout().join(&script).is_file(), "{script}");
                configured.push(method);
            }
            if let Some(stem) = key.strip_suffix("_merge") {
                let method = Method::from_key(stem).unwrap();
                assert!(method.contract().merge.is_some(), "{key}");
                assert_eq!(value, "true", "{key}");
            }
        }
    }
    configured.sort();
    let hooks_and_isolators: Vec<Method> = Method::ALL
        .into_iter()
        .filter(|m| matches!(m.kind(), ModuleKind::Hook | ModuleKind::Isolator))
        .collect();
    assert_eq!(configured, hooks_and_isolators);
    // The three decorators that have a merge mode show it.
    let merged = modules[0]
        .parameters
        .iter()
        .filter(|(k, v)| k.ends_with("_merge") && v == "true")
        .count();
    assert_eq!(merged, 3);
}

#[test]
fn merge_mode_keeps_the_tasks_labels() {
    let s = Scratch::new();
    let local = localized(&s, &checkout().join("examples/modules.json"));
    let input = checkout().join("tests/fixtures/slave_run_task_label_decorator/command-task.json");
    let out = call(
        &s,
        &local,
        "example-hooks",
        "hook_slave_run_task_label_decorator",
        &input,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let labels: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let keys: Vec<&str> = labels["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    // The captured task's own labels, then the one the script adds.
    assert_eq!(keys, ["EXECUTOR_ALLOWED_IP", "team", "agent"]);
}

#[test]
fn the_example_watch_reports_a_full_disk() {
    let s = Scratch::new();
    let local = localized(&s, &checkout().join("examples/modules.json"));
    let sandbox = s.path().join("sandbox");
    std::fs::create_dir_all(&sandbox).unwrap();
    std::fs::write(sandbox.join("big"), vec![0u8; 2 * 1024 * 1024]).unwrap();
    let doc = |disk_mb: f64| {
        json!({
            "container_id": {"value": "disk-test"},
            "container_config": {
                "command_info": {"value": "sleep 1"},
                "directory": sandbox.display().to_string(),
                "resources": [{"name": "disk", "type": "SCALAR", "scalar": {"value": disk_mb}}]
            }
        })
    };
    let full = write_input(&s, "full.json", &doc(1.0));
    let out = call(&s, &local, "example-isolator", "isolator_watch", &full);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let limitation: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(limitation["reason"], "REASON_CONTAINER_LIMITATION_DISK");
    assert_eq!(
        limitation["message"],
        "Disk usage 2.0 MB exceeds the 1 MB quota"
    );

    let roomy = write_input(&s, "roomy.json", &doc(10.0));
    let out = call(&s, &local, "example-isolator", "isolator_watch", &roomy);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));

    let out = call(&s, &local, "example-isolator", "isolator_usage", &roomy);
    let stats: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(stats["disk_used_bytes"], 2 * 1024 * 1024);
    assert_eq!(stats["disk_limit_bytes"], 10 * 1024 * 1024);
    assert!(stats["timestamp"].as_f64().unwrap() > 1.6e9);
}

#[test]
fn the_example_isolator_keeps_its_own_state_from_isolate_to_cleanup() {
    let s = Scratch::new();
    let local = localized(&s, &checkout().join("examples/modules.json"));
    let isolate = checkout().join("tests/fixtures/isolator_isolate/container.json");
    let status = checkout().join("tests/fixtures/isolator_status/container-2.json");
    // Cleanup runs its command only for a container the module knows: in
    // the agent, one it prepared, whose container_config it then passes.
    let mut known = fixture_value("isolator_cleanup/container.json");
    known["container_config"] =
        fixture_value("isolator_prepare/command-task.json")["container_config"].clone();
    let cleanup = write_input(&s, "cleanup.json", &known);
    let pid_file = s
        .path()
        .join("example-state/example-isolator/8a96d8d3-e1eb-42bf-b37c-9104f9a7b9fc.pid");

    let out = call(&s, &local, "example-isolator", "isolator_isolate", &isolate);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), "17171");
    let out = call(&s, &local, "example-isolator", "isolator_status", &status);
    assert_eq!(text(&out.stdout).trim(), r#"{"executor_pid":17171}"#);
    let out = call(&s, &local, "example-isolator", "isolator_cleanup", &cleanup);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!pid_file.exists());
    // Without the file, status has nothing to add: an empty ContainerStatus.
    let out = call(&s, &local, "example-isolator", "isolator_status", &status);
    assert_eq!(text(&out.stdout).trim(), "{}");
}

#[test]
fn deny_privileged_fails_the_launch_of_privileged_containers() {
    let s = Scratch::new();
    let local = localized(
        &s,
        &checkout().join("examples/deny-privileged/modules.json"),
    );

    let mut prepare = fixture_value("isolator_prepare/command-task.json");
    prepare["container_config"]["container_info"] = json!({
        "type": "MESOS",
        "linux_info": {"effective_capabilities": {"capabilities": ["CHOWN", "SYS_ADMIN"]}}
    });
    let input = write_input(&s, "caps.json", &prepare);
    let out = call(&s, &local, "deny-privileged", "isolator_prepare", &input);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "exited with return code 1. Cause: privileged containers are not allowed on this \
             agent: container_info.linux_info.effective_capabilities asks for SYS_ADMIN"
        ),
        "{stderr}"
    );

    // Allowed capabilities pass.
    prepare["container_config"]["container_info"]["linux_info"]["effective_capabilities"] =
        json!({"capabilities": ["CHOWN", "NET_BIND_SERVICE"]});
    let input = write_input(&s, "fine.json", &prepare);
    let out = call(&s, &local, "deny-privileged", "isolator_prepare", &input);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The Docker containerizer's hook, on its captured input.
    let mut docker =
        fixture_value("slave_pre_launch_docker_task_executor_decorator/docker-command-task.json");
    docker["task_info"]["container"] = json!({
        "type": "DOCKER",
        "docker": {"image": "busybox", "privileged": true,
                   "parameters": [{"key": "cap-add", "value": "NET_ADMIN"}]}
    });
    let input = write_input(&s, "docker.json", &docker);
    let out = call(
        &s,
        &local,
        "deny-privileged-docker",
        "hook_slave_pre_launch_docker_task_executor_decorator",
        &input,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "privileged containers are not allowed on this agent: \
             task_info.container.docker.privileged is true; task_info.container.docker.parameters \
             adds capability \"NET_ADMIN\""
        ),
        "{stderr}"
    );
}

/// A `docker` that records its arguments and knows only `mesos-<id>`.
fn fake_docker(s: &Scratch, known: &str) -> PathBuf {
    let bin = s.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = s.path().join("docker.log");
    let script = s.script(
        "docker",
        &format!(
            r#"echo "$*" >> {log}
if [ "$3" = "{known}" ]; then echo "$3"; exit 0; fi
echo "Error response from daemon: No such container: $3" >&2
exit 1"#,
            log = log.display()
        ),
    );
    std::fs::rename(&script, bin.join("docker")).unwrap();
    bin
}

/// An agent work directory whose latest run of `executor` is `container`.
fn agent_work_dir(s: &Scratch, framework: &str, executor: &str, container: &str) -> PathBuf {
    let work = s.path().join("agent");
    let agent = work.join("slaves/AGENT-S0");
    let runs = agent.join(format!("frameworks/{framework}/executors/{executor}/runs"));
    std::fs::create_dir_all(runs.join(container)).unwrap();
    std::os::unix::fs::symlink(runs.join(container), runs.join("latest")).unwrap();
    std::fs::create_dir_all(work.join("meta/slaves/AGENT-S0")).unwrap();
    std::os::unix::fs::symlink(
        work.join("meta/slaves/AGENT-S0"),
        work.join("meta/slaves/latest"),
    )
    .unwrap();
    work
}

#[test]
fn docker_remove_removes_the_executors_containers_by_their_mesos_names() {
    let s = Scratch::new();
    let local = localized(&s, &checkout().join("examples/docker-remove/modules.json"));
    let container = "0f4e8b6a-3c1d-4e2f-9a7b-5c6d7e8f9a0b";
    let input =
        checkout().join("tests/fixtures/slave_remove_executor_hook/docker-command-task.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let framework = doc["executor_info"]["framework_id"]["value"]
        .as_str()
        .unwrap();
    let executor = doc["executor_info"]["executor_id"]["value"]
        .as_str()
        .unwrap();
    let bin = fake_docker(&s, &format!("mesos-{container}"));
    let work = agent_work_dir(&s, framework, executor, container);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("PATH", path.as_str()),
        ("MESOS_WORK_DIR", work.to_str().unwrap()),
    ];

    let out = call_with(
        &s,
        &local,
        "docker-remove",
        "hook_slave_remove_executor_hook",
        &input,
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(s.path().join("docker.log")).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            format!("rm --force mesos-{container}"),
            format!("rm --force mesos-{container}.executor"),
        ]
    );

    // An executor of the Mesos containerizer: docker is not even called.
    std::fs::remove_file(s.path().join("docker.log")).unwrap();
    let plain = checkout().join("tests/fixtures/slave_remove_executor_hook/command-task.json");
    let out = call_with(
        &s,
        &local,
        "docker-remove",
        "hook_slave_remove_executor_hook",
        &plain,
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!s.path().join("docker.log").exists());

    // No docker on the machine: nothing to do, the hook succeeds.
    let out = call_with(
        &s,
        &local,
        "docker-remove",
        "hook_slave_remove_executor_hook",
        &input,
        &[
            ("MESOS_DOCKER", "/nonexistent/docker"),
            ("MESOS_WORK_DIR", work.to_str().unwrap()),
            ("RUST_LOG", "info"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("/nonexistent/docker is not installed"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_tcp_health_watch_reports_a_limitation_after_n_consecutive_failures() {
    let s = Scratch::new();
    let local = localized(&s, &checkout().join("examples/health-watch/modules.json"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let doc = json!({
        "container_id": {"value": "health-test"},
        "container_config": {
            "command_info": {"value": "serve"},
            "directory": "/tmp",
            "task_info": {"labels": {"labels": [
                {"key": "HEALTH_TCP", "value": format!("127.0.0.1:{port}")},
                {"key": "HEALTH_TCP_FAILURES", "value": "2"}]}}
        }
    });
    let input = write_input(&s, "health.json", &doc);
    let count_file = s.path().join("health-state/health-test");
    let count = || std::fs::read_to_string(&count_file).unwrap_or_default();
    let watch = || {
        let out = call(&s, &local, "tcp-health", "isolator_watch", &input);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };

    assert_eq!(watch(), "", "a listening port is healthy");
    drop(listener);
    assert_eq!(watch(), "", "one failure of two");
    assert_eq!(count(), "1");
    // A success in between starts the count again.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    assert_eq!(watch(), "");
    assert_eq!(count(), "0");
    drop(listener);
    assert_eq!(watch(), "");
    let limitation: Value = serde_json::from_str(&watch()).unwrap();
    assert_eq!(limitation["reason"], "REASON_CONTAINER_LIMITATION");
    let message = limitation["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "TCP health check of 127.0.0.1:{port} failed 2 consecutive times (last: "
        )),
        "{message}"
    );

    let out = call(&s, &local, "tcp-health", "isolator_cleanup", &input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!count_file.exists());
}

#[test]
fn the_oversubscription_example_offers_unused_capacity_and_kills_revocable_executors_under_load() {
    let s = Scratch::new();
    let manifest = localized(
        &s,
        &checkout().join("examples/oversubscription/modules.json"),
    );
    let usage = checkout().join("examples/oversubscription/usage.json");
    let state = s.path().join("oversubscription-state");
    let state = state.display().to_string();
    let estimate = call_with(
        &s,
        &manifest,
        "com_criteo_mesos_CommandResourceEstimator",
        "resource_estimator_oversubscribable",
        &usage,
        &[("OVERSUBSCRIPTION_STATE_DIR", &state)],
    );
    assert!(estimate.status.success(), "{}", text(&estimate.stderr));
    let offered: Value = serde_json::from_str(&text(&estimate.stdout)).unwrap();
    let offered = offered.as_array().expect("an array of resources");
    assert!(!offered.is_empty(), "nothing offered from the sample usage");
    for resource in offered {
        assert_eq!(resource["revocable"], json!({}), "{resource}");
    }

    let qos = |load: &str| {
        let out = call_with(
            &s,
            &manifest,
            "com_criteo_mesos_CommandQoSController",
            "qos_controller_corrections",
            &usage,
            &[("LOAD_THRESHOLD_5MIN", "6"), ("QOS_LOAD_AVERAGE", load)],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_str::<Value>(&text(&out.stdout)).unwrap()
    };
    assert_eq!(qos("1,1"), json!([]));
    let kills = qos("7.5,3");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(&usage).unwrap()).unwrap();
    let revocable: Vec<&Value> = sample["usage"]["executors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["allocated"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.get("revocable").is_some())
        })
        .collect();
    assert_eq!(
        kills.as_array().map(Vec::len),
        Some(revocable.len()),
        "{kills}"
    );
    assert_eq!(
        kills[0]["kill"]["executor_id"],
        revocable[0]["executor_info"]["executor_id"]
    );
}
