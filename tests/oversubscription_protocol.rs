//! The resource estimator's and the QoS controller's contract, as the
//! README states it, checked where an operator meets it: the library's
//! answer, its metrics, `mesos-command-modules call` and `simulate`.
//!
//! Each test pins a case where the module and the README once disagreed:
//! an estimate whose conversion aborts the agent (a `reservation` on the
//! `*` role), reservations and disk or sharing fields that Mesos's
//! `Resources::validate` refuses (passed by `call`, withdrawn by the agent
//! with Mesos's terse reason), list entries refused without saying which
//! entry, an object or `null` answer refused without saying what is
//! accepted, a module without a command answering at once (a hot loop of
//! usage collections in an agent at the default
//! `--qos_correction_interval_min` of 0), a usage that never came counted as
//! a command run, and a simulated correction naming another framework
//! preempting a container the agent would have left alone.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{answer, call, fixture, Scratch};
use mesos_command_modules::metrics::{CALLS, ERRORS, TIMEOUTS};
use mesos_command_modules::simulate::{self, Event, ModuleSpec, Options, Report};
use mesos_command_modules::{Answer, CallError, ErrorKind, Method, Module, ModuleKind};

const ESTIMATE: Method = Method::ResourceEstimatorOversubscribable;
const CORRECTIONS: Method = Method::QoSControllerCorrections;
const ESTIMATOR_SYMBOL: &str = "com_criteo_mesos_CommandResourceEstimator";
const QOS_SYMBOL: &str = "com_criteo_mesos_CommandQoSController";

fn symbol(method: Method) -> &'static str {
    match method {
        ESTIMATE => ESTIMATOR_SYMBOL,
        _ => QOS_SYMBOL,
    }
}

/// A module for `method` whose command prints `output`.
fn printing(s: &Scratch, method: Method, output: &str) -> Module {
    let out = s.path().join(format!("{method}.out"));
    std::fs::write(&out, output).unwrap();
    let cmd = s.script(
        &format!("{method}.sh"),
        &format!("cat '{}' > \"$2\"", out.display()),
    );
    let params = s.params(&[(&format!("{method}_command"), cmd.to_str().unwrap())]);
    Module::new(method.kind(), symbol(method), &params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// The failure of a call of `method` whose command prints `output`, with
/// its failure meaning checked: the estimate withdrawn, the corrections
/// failed.
fn refused(s: &Scratch, method: Method, output: &str) -> CallError {
    let input = fixture(&format!("{}/command-task.json", method.key()));
    let out = answer(&printing(s, method, output), method, &input);
    let failure = out
        .failure
        .clone()
        .unwrap_or_else(|| panic!("{output} was accepted: {:?}", out.answer));
    assert_eq!(failure.kind, ErrorKind::BadOutput, "{failure}");
    match method {
        ESTIMATE => assert_eq!(out.answer, Answer::Value("[]".into()), "{output}"),
        _ => assert!(matches!(out.answer, Answer::Error(_)), "{output}"),
    }
    failure
}

fn accepted(s: &Scratch, method: Method, output: &str) -> serde_json::Value {
    let input = fixture(&format!("{}/command-task.json", method.key()));
    let out = answer(&printing(s, method, output), method, &input);
    assert!(out.failure.is_none(), "{output}: {:?}", out.failure);
    let Answer::Value(v) = out.answer else {
        panic!("{output}: no value")
    };
    serde_json::from_str(&v).unwrap()
}

const CPU: &str = r#""name":"cpus","type":"SCALAR","scalar":{"value":1}"#;
const DISK: &str = r#""name":"disk","type":"SCALAR","scalar":{"value":1}"#;

#[test]
fn a_reservation_on_the_star_role_is_refused_before_it_aborts_the_agent() {
    // `Resources::fromJSON` gives an entry without a role the role `*`,
    // then `upgradeResource` CHECK-fails on a `*` entry carrying a
    // `reservation` (`resources_utils.cpp`, `convertResourceFormat`): the
    // shim's parse of such an answer would abort the agent (or, for the
    // master's resource decorator, the master).
    let s = Scratch::new();
    for bad in [
        format!(r#"[{{{CPU},"reservation":{{}}}}]"#),
        format!(r#"[{{{CPU},"role":"*","reservation":{{"principal":"p"}}}}]"#),
        format!(r#"[{{{CPU},"role":"*","reservations":[],"reservation":{{}}}}]"#),
    ] {
        let e = refused(&s, ESTIMATE, &bad);
        assert!(
            e.message
                .contains(r#"resource 0 ("cpus") has a "reservation" on the role "*""#),
            "{bad}: {e}"
        );
    }
    // The same parse serves the resources decorators.
    let method = Method::HookSlaveResourcesDecorator;
    let cmd = s.script(
        "decorate",
        &format!(r#"echo '[{{{CPU},"reservation":{{}}}}]' > "$2""#),
    );
    let hook = Module::new(
        ModuleKind::Hook,
        "com_criteo_mesos_CommandHook",
        &s.params(&[(&format!("{method}_command"), cmd.to_str().unwrap())]),
    )
    .unwrap();
    let out = answer(
        &hook,
        method,
        &fixture("slave_resources_decorator/agent-start.json"),
    );
    let Answer::Error(e) = &out.answer else {
        panic!("accepted: {:?}", out.answer)
    };
    assert!(e.message.contains(r#"on the role "*""#), "{e}");
}

#[test]
fn reservations_disks_and_sharing_mesos_refuses_are_refused_naming_the_field() {
    let s = Scratch::new();
    for (bad, named) in [
        (
            format!(r#"[{{{CPU},"role":"/ops"}}]"#),
            r#"resource 0 ("cpus"): "role" is "/ops": Role '/ops' cannot start with a slash"#,
        ),
        (
            format!(r#"[{{{CPU},"role":"ops/"}}]"#),
            "cannot end with a slash",
        ),
        (
            format!(r#"[{{{CPU},"role":"a//b"}}]"#),
            "cannot contain two adjacent slashes",
        ),
        (
            format!(r#"[{{{CPU},"role":""}}]"#),
            "cannot be the empty string",
        ),
        (
            format!(r#"[{{{CPU},"role":"a/../b"}}]"#),
            "cannot include '..' as a component",
        ),
        (
            format!(r#"[{{{CPU},"role":"a/*"}}]"#),
            "cannot include '*' as a component",
        ),
        (format!(r#"[{{{CPU},"role":"-a"}}]"#), "starts with a dash"),
        (
            format!(r#"[{{{CPU},"role":"a b"}}]"#),
            "contains backspace or whitespace",
        ),
        (
            format!(r#"[{{{CPU},"reservations":[{{"type":"STATIC","role":"*"}}]}}]"#),
            r#""reservations[0].role" is "*" (Mesos: "Invalid reservation: role \"*\" cannot be reserved")"#,
        ),
        (
            format!(r#"[{{{CPU},"reservations":[{{"role":"a"}}]}}]"#),
            r#""reservations[0]" has no "type""#,
        ),
        (
            format!(r#"[{{{CPU},"reservations":[{{"type":"DYNAMIC"}}]}}]"#),
            r#""reservations[0]" has no "role""#,
        ),
        (
            format!(r#"[{{{CPU},"reservations":[{{"type":"UNKNOWN","role":"a"}}]}}]"#),
            r#""reservations[0].type" is UNKNOWN"#,
        ),
        (
            format!(
                r#"[{{{CPU},"reservations":[{{"type":"STATIC","role":"a"}},{{"type":"STATIC","role":"a/b"}}]}}]"#
            ),
            r#""reservations[1]" is STATIC: a refined reservation cannot be"#,
        ),
        (
            format!(
                r#"[{{{CPU},"reservations":[{{"type":"DYNAMIC","role":"a"}},{{"type":"DYNAMIC","role":"ab"}}]}}]"#
            ),
            r#""reservations[1].role" "ab" is not a refinement of "a""#,
        ),
        (
            format!(r#"[{{{CPU},"disk":{{}}}}]"#),
            r#"resource 0 ("cpus") has a "disk" (Mesos: "DiskInfo should not be set for cpus resource")"#,
        ),
        (
            format!(
                r#"[{{{DISK},"disk":{{"source":{{"type":"BLOCK","path":{{"root":"/x"}}}}}}}}]"#
            ),
            r#""disk.source.path" is set on a BLOCK source"#,
        ),
        (
            format!(r#"[{{{DISK},"disk":{{"source":{{"type":"RAW","mount":{{"root":"/x"}}}}}}}}]"#),
            r#""disk.source.mount" is set on a RAW source"#,
        ),
        (
            format!(r#"[{{{DISK},"disk":{{"source":{{"type":"UNKNOWN"}}}}}}]"#),
            r#""disk.source.type" is UNKNOWN"#,
        ),
        (
            format!(r#"[{{{CPU},"shared":{{}}}}]"#),
            r#"resource 0 ("cpus") has "shared" (Mesos: "Resource cpus cannot be shared")"#,
        ),
        (
            format!(r#"[{{{DISK},"shared":{{}}}}]"#),
            r#"has "shared" but no "disk.persistence" (Mesos: "Only persistent volumes can be shared")"#,
        ),
    ] {
        let e = refused(&s, ESTIMATE, &bad);
        assert!(
            e.message.starts_with("Command \"/",)
                && e.message
                    .contains("returned invalid output: the output is not a valid Resources: "),
            "{e}"
        );
        assert!(e.message.contains(named), "{bad}: {e}");
    }
}

#[test]
fn reservations_mesos_accepts_are_passed_on_revocable() {
    let s = Scratch::new();
    let good = format!(
        r#"[{{{CPU},"role":"ops"}},
            {{"name":"mem","type":"SCALAR","scalar":{{"value":64}},"role":"ops","reservation":{{"principal":"p"}}}},
            {{"name":"gpus","type":"SCALAR","scalar":{{"value":1}},
              "reservations":[{{"type":"STATIC","role":"a"}},{{"type":"DYNAMIC","role":"a/b"}}]}},
            {{{DISK},"disk":{{"persistence":{{"id":"v"}},"volume":{{"mode":"RW","container_path":"v"}}}},"shared":{{}}}},
            {{"name":"disk","type":"SCALAR","scalar":{{"value":2}},"disk":{{"source":{{"type":"BLOCK"}}}}}},
            {{"name":"ports","type":"RANGES","ranges":{{"range":[{{"begin":1,"end":2}}]}},"role":"*"}}]"#
    );
    let v = accepted(&s, ESTIMATE, &good);
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 6, "{v}");
    assert!(entries
        .iter()
        .all(|e| e["revocable"] == serde_json::json!({})));
}

#[test]
fn an_entry_stout_refuses_is_named_by_its_index() {
    let s = Scratch::new();
    let kill =
        r#"{"type":"KILL","kill":{"framework_id":{"value":"f"},"executor_id":{"value":"e"}}}"#;
    for (bad, named) in [
        (
            format!(r#"[{kill},{{"kill":{{"framework_id":{{"value":"f"}}}}}}]"#),
            "QoSCorrection list: correction 1: Missing required fields: type",
        ),
        (format!("[{kill},3]"), "correction 1: Expecting a JSON object"),
        (
            format!(
                r#"[{kill},{{"type":"KILL","kill":{{"framework_id":{{"value":"f"}},"executor_id":{{"value":"e"}},"container_id":{{"value":3}}}}}}]"#
            ),
            "correction 1: Not expecting a JSON number for field 'value'",
        ),
        (
            r#"[{"type":"RESIZE","kill":{"framework_id":{"value":"f"},"executor_id":{"value":"e"}}}]"#
                .to_string(),
            r#"correction 0 has "type" "RESIZE": KILL is the only correction type (Mesos: "Failed to find enum for 'RESIZE'")"#,
        ),
    ] {
        let e = refused(&s, CORRECTIONS, &bad);
        assert!(e.message.contains(named), "{bad}: {e}");
    }
    for (bad, named) in [
        (
            format!(r#"[{{{CPU}}},{{"name":"mem","type":"SCALR","scalar":{{"value":1}}}}]"#),
            r#"Resources: resource 1 ("mem"): Failed to find enum for 'SCALR'"#,
        ),
        (
            format!(r#"[{{{CPU}}},{{"type":"SCALAR","scalar":{{"value":1}}}}]"#),
            "Resources: resource 1: Missing required fields: name",
        ),
    ] {
        let e = refused(&s, ESTIMATE, &bad);
        assert!(e.message.contains(named), "{bad}: {e}");
    }
}

#[test]
fn an_object_or_null_answer_is_refused_saying_what_is_accepted() {
    let s = Scratch::new();
    for (method, bad, named) in [
        (
            ESTIMATE,
            "{}",
            r#"Expecting a JSON array: write the list as [...], or as {"resources":[...]} with no other member"#,
        ),
        (
            CORRECTIONS,
            r#"{"corrections":[],"x":1}"#,
            r#"Expecting a JSON array: write the list as [...], or as {"corrections":[...]} with no other member"#,
        ),
        (
            ESTIMATE,
            "null",
            "Expecting a JSON array: write [] or leave the output empty for an empty list",
        ),
        (
            CORRECTIONS,
            "null",
            "Expecting a JSON array: write [] or leave the output empty for an empty list",
        ),
    ] {
        let e = refused(&s, method, bad);
        assert!(e.message.contains(named), "{method} {bad}: {e}");
    }
}

#[test]
fn without_a_command_neither_module_answers_as_mesos_noop_ones() {
    // Mesos's noop estimator and QoS controller return futures that never
    // complete. An answer at once would, at the agent's default
    // `--qos_correction_interval_min` of 0, have the agent collect its
    // usage (every isolator's `usage`) and ask again, in a loop.
    let s = Scratch::new();
    for method in [ESTIMATE, CORRECTIONS] {
        let module = Arc::new(Module::new(method.kind(), symbol(method), &s.params(&[])).unwrap());
        let input = fixture(&format!("{}/idle-agent.json", method.key()));
        assert!(call(&module, method, &input).is_none(), "{method}");
        let (tx, rx) = mpsc::channel();
        module.spawn_call_awaiting(method, async { Ok(Vec::new()) }, move |outcome| {
            let _ = tx.send(outcome);
        });
        let outcome = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("done runs once");
        assert!(outcome.is_none(), "{method}: {outcome:?}");
        assert_eq!(module.metrics().value(method, CALLS), 0);
    }
}

#[test]
fn a_usage_that_never_comes_counts_as_an_error_not_as_a_command_run() {
    let s = Scratch::new();
    for method in [ESTIMATE, CORRECTIONS] {
        let cmd = s.script(&format!("{method}-never"), "echo '[]' > \"$2\"");
        let module = Arc::new(
            Module::new(
                method.kind(),
                symbol(method),
                &s.params(&[
                    (&format!("{method}_command"), cmd.to_str().unwrap()),
                    (&format!("{method}_timeout"), "0.2"),
                ]),
            )
            .unwrap(),
        );
        let (tx, rx) = mpsc::channel();
        module.spawn_call_awaiting(method, std::future::pending(), move |outcome| {
            let _ = tx.send(outcome);
        });
        let outcome = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("answered")
            .expect("an outcome");
        assert_eq!(outcome.failure.map(|f| f.kind), Some(ErrorKind::Timeout));
        let m = module.metrics();
        assert_eq!(
            (
                m.value(method, CALLS),
                m.value(method, ERRORS),
                m.value(method, TIMEOUTS)
            ),
            (0, 1, 1),
            "{method}: calls count commands run"
        );
    }
}

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run the tool")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn call_says_a_module_without_a_command_never_answers() {
    let s = Scratch::new();
    let manifest = s.path().join("modules.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"libraries":[{{"file":"/x.so","modules":[
            {{"name":"{ESTIMATOR_SYMBOL}","parameters":[{{"key":"module_name","value":"e"}},
              {{"key":"temp_directory","value":"{tmp}"}}]}},
            {{"name":"{QOS_SYMBOL}","parameters":[{{"key":"module_name","value":"q"}},
              {{"key":"temp_directory","value":"{tmp}"}}]}}]}}]}}"#,
            tmp = s.temp_dir().display()
        ),
    )
    .unwrap();
    // `check` warns: a module whose one method never answers is a noop one.
    let out = tool(&["check", manifest.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for (method, kind) in [
        (ESTIMATE, "ResourceEstimator"),
        (CORRECTIONS, "QoSController"),
    ] {
        assert!(
            stdout.contains(&format!(
                "warning: {method}_command is not configured: this {kind} never answers, as \
                 Mesos's own noop one"
            )),
            "{stdout}"
        );
    }
    for (module, method) in [("e", ESTIMATE), ("q", CORRECTIONS)] {
        let input = fixture_path(&format!("{}/idle-agent.json", method.key()));
        let out = tool(&[
            "call",
            manifest.to_str().unwrap(),
            "--module",
            module,
            "--method",
            method.key(),
            "--input",
            input.to_str().unwrap(),
        ]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(text(&out.stdout), "", "{method}: nothing is answered");
        assert!(
            stderr.contains(&format!(
                "{method}: no answer: without a command the module never answers"
            )),
            "{stderr}"
        );
    }
}

fn spec(kind: ModuleKind, symbol: &str, name: &str, script: &Path) -> ModuleSpec {
    let mut parameters = vec![("module_name".to_string(), name.to_string())];
    for method in Method::of_kind(kind) {
        parameters.push((
            format!("{}_command", method.key()),
            script.display().to_string(),
        ));
    }
    ModuleSpec {
        symbol: symbol.to_string(),
        kind,
        parameters,
    }
}

fn run_simulation(specs: Vec<ModuleSpec>) -> (Report, Vec<String>) {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&notes);
    let options = Options {
        containers: 2,
        seed: 5,
        ..Options::default()
    };
    let report = simulate::simulate(
        specs,
        &options,
        Arc::new(move |e: &Event| {
            if let Event::Note(n) = e {
                sink.lock().unwrap().push(n.clone());
            }
        }),
    )
    .expect("the simulation runs");
    let notes = notes.lock().unwrap().clone();
    (report, notes)
}

/// A QoS controller killing the first executor of its usage, with the
/// framework id, executor id and container id `python` expressions give.
fn qos_killing(s: &Scratch, name: &str, framework: &str, container: &str) -> PathBuf {
    s.script(
        name,
        &format!(
            "python3 -c 'import json,sys\n\
             e = json.load(open(sys.argv[1]))[\"usage\"][\"executors\"][0]\n\
             kill = {{\"framework_id\": {framework},\n\
                     \"executor_id\": e[\"executor_info\"][\"executor_id\"],\n\
                     \"container_id\": {container}}}\n\
             json.dump([{{\"type\": \"KILL\", \"kill\": kill}}], open(sys.argv[2], \"w\"))' \"$1\" \"$2\""
        ),
    )
}

#[test]
fn simulate_preempts_only_what_the_agent_would_kill_and_says_why_not() {
    let s = Scratch::new();
    for (name, framework, container, preempted, note) in [
        (
            "right",
            "e[\"executor_info\"][\"framework_id\"]",
            "e[\"container_id\"]",
            1,
            None,
        ),
        (
            "other-framework",
            "{\"value\": \"another-framework\"}",
            "e[\"container_id\"]",
            0,
            Some("QoS correction 0 names no running executor (framework \"another-framework\""),
        ),
        (
            "other-container",
            "e[\"executor_info\"][\"framework_id\"]",
            "{\"value\": \"another-container\"}",
            0,
            Some("container \"another-container\""),
        ),
    ] {
        let qos = qos_killing(&s, name, framework, container);
        let (report, notes) = run_simulation(vec![spec(
            ModuleKind::QoSController,
            QOS_SYMBOL,
            "qos",
            &qos,
        )]);
        assert!(report.success(true), "{name}: {:#?}", report.records);
        assert_eq!(report.preempted, preempted, "{name}: {notes:#?}");
        if let Some(note) = note {
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains(note) && n.contains("the agent ignores it")),
                "{name}: {notes:#?}"
            );
        }
    }
}
