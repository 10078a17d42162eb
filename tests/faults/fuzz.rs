//! The bridge's entry points fuzzed through the code paths the shim uses
//! (`ffi::testing` runs the same bodies on byte slices): arbitrary module
//! kinds and parameters, method indices, arguments (bytes, JSON, real Mesos
//! inputs, hostile container ids), blocking and asynchronous calls; and
//! output interpretation for every method. No panic may escape, none may
//! even be caught (a caught panic is a bug turned into an error), and the
//! process must not abort.

use std::sync::mpsc;
use std::time::Duration;

use mesos_command_modules::config::known_keys;
use mesos_command_modules::ffi::bridge::{Disposition, Outcome};
use mesos_command_modules::ffi::testing;
use mesos_command_modules::input::Input;
use mesos_command_modules::interpret::interpret;
use mesos_command_modules::{Method, ModuleKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::harness::Scenario;

/// What a caught panic or a panicking task looks like once converted.
fn assert_no_panic(outcome: &Outcome, context: &str) {
    assert!(
        !outcome.message.starts_with("internal error in")
            && !outcome.message.contains("call failed:"),
        "{context}: a panic: {}",
        outcome.message
    );
    assert!(
        matches!(
            outcome.disposition,
            Disposition::Value | Disposition::None | Disposition::Error
        ),
        "{context}"
    );
    if outcome.disposition == Disposition::Value {
        assert!(
            serde_json::from_str::<Value>(&outcome.json).is_ok(),
            "{context}: {}",
            outcome.json
        );
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("SECRET"),
            Just("VALUE"),
            Just("Infinity"),
            Just(".."),
            Just("/"),
            Just("a\u{0}b")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("container_id".to_string()),
                    Just("value".to_string()),
                    Just("parent".to_string()),
                    Just("labels".to_string()),
                    Just("type".to_string()),
                    ".{0,6}".prop_map(|s: String| s),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every member of every fixture: real inputs from Mesos.
fn fixture_members() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut members = Vec::new();
    for method in std::fs::read_dir(dir).unwrap().flatten() {
        if !method.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(method.path()).unwrap().flatten() {
            let name = format!(
                "{}/{}",
                method.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            if !name.ends_with(".json") {
                continue;
            }
            // `invalid-utf8/` holds bytes that are not UTF-8: read as the
            // module reads its arguments.
            let bytes = std::fs::read(file.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) {
                members.extend(map.values().map(Value::to_string));
            }
        }
    }
    members
}

fn container_id() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("c1".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just(String::new()),
        Just("a/b".to_string()),
        Just("x\u{0}y".to_string()),
        Just("é".repeat(200)),
        Just(".tmp-c1-1".to_string()),
        "[a-z0-9-]{1,8}",
    ];
    (part.clone(), prop::option::of(part), 0usize..80).prop_map(|(value, parent, depth)| {
        let mut id = json!({"value": value});
        if let Some(parent) = parent {
            id["parent"] = json!({"value": parent});
        }
        // Deep parent chains.
        for _ in 0..depth % 70 {
            id = json!({"value": "p", "parent": id});
        }
        id.to_string()
    })
}

fn argument(members: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..48),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::sample::select(members).prop_map(String::into_bytes),
        container_id().prop_map(String::into_bytes),
        Just(b"{\"a\":".repeat(300)),
    ]
}

/// Answers each method with a valid output, or garbage, or a failure,
/// depending on the input.
const ANSWERS: &str = r#"case "$MESOS_COMMAND_METHOD" in
  *label_decorator) echo '{"labels":[{"key":"k","value":"v"}]}' > "$2" ;;
  *resource_decorator|*resources_decorator) echo '[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]' > "$2" ;;
  *attributes_decorator) echo '[{"name":"rack","type":"TEXT","text":{"value":"r1"}}]' > "$2" ;;
  *environment_decorator) echo '{"variables":[{"name":"A","value":"1"}]}' > "$2" ;;
  *executor_decorator) echo '{"executorEnvironment":{"variables":[]}}' > "$2" ;;
  *status_decorator) echo '{"labels":{"labels":[]}}' > "$2" ;;
  isolator_prepare) echo '{"environment":{"variables":[]}}' > "$2" ;;
  isolator_usage) echo '{"processes":1}' > "$2" ;;
  isolator_status) echo '{"executor_pid":1}' > "$2" ;;
esac
case "$(head -c 300 "$1")" in
  *0*1*) echo 'x{' > "$2" ;;
  *2*3*) exit 7 ;;
esac"#;

fn flatten(params: &[(String, String)]) -> Vec<Vec<u8>> {
    params
        .iter()
        .flat_map(|(k, v)| [k.clone().into_bytes(), v.clone().into_bytes()])
        .collect()
}

fn slices(args: &[Vec<u8>]) -> Vec<&[u8]> {
    args.iter().map(Vec::as_slice).collect()
}

#[test]
fn the_bridge_entry_points_never_panic() {
    let sc = Scenario::start("fuzz: bridge entry points");
    let script = sc.script("answers", ANSWERS);
    let script = script.to_str().unwrap();
    let mut modules = Vec::new();
    for (kind, symbol) in [
        (ModuleKind::Hook, "com_criteo_mesos_CommandHook"),
        (ModuleKind::Isolator, "com_criteo_mesos_CommandIsolator"),
    ] {
        let mut params: Vec<(String, String)> = vec![
            ("module_name".into(), "fuzz".into()),
            (
                "temp_directory".into(),
                sc.scratch.temp_dir().display().to_string(),
            ),
            ("kill_grace_period".into(), "0.1".into()),
        ];
        if kind == ModuleKind::Isolator {
            params.push((
                "state_directory".into(),
                sc.scratch.state_dir().display().to_string(),
            ));
            params.push(("isolator_watch_frequence".into(), "3600".into()));
        }
        for method in Method::of_kind(kind) {
            params.push((format!("{}_command", method.key()), script.to_string()));
            params.push((format!("{}_timeout", method.key()), "2".into()));
        }
        let flat = flatten(&params);
        let module = testing::create_module(kind as u8, symbol, &slices(&flat))
            .unwrap_or_else(|e| panic!("{e}"));
        modules.push(module);
    }
    let members = fixture_members();
    // Mostly a method of the module's kind with the right number of
    // arguments, so that most calls reach a command; now and then anything.
    let strategy = prop_oneof![19 => 0u8..19, 1 => any::<u8>()].prop_flat_map(move |method| {
        let (which, count) = match Method::from_index(method) {
            Some(m) => (
                usize::from(m.kind() == ModuleKind::Isolator),
                m.contract().inputs.len(),
            ),
            None => (0, 2),
        };
        (
            prop_oneof![9 => Just(which), 1 => 0usize..2],
            Just(method),
            prop_oneof![9 => Just(count), 1 => 0usize..8].prop_flat_map({
                let members = members.clone();
                move |n| prop::collection::vec(argument(members.clone()), n..=n)
            }),
            any::<bool>(),
        )
    });
    let mut runner = TestRunner::new(Config {
        cases: 600,
        failure_persistence: None,
        ..Config::default()
    });
    let calls = std::sync::atomic::AtomicUsize::new(0);
    // The container ids the isolator may have prepared, to clean up.
    let prepared = std::sync::Mutex::new(Vec::<Vec<u8>>::new());
    let watches = std::sync::Mutex::new(Vec::new());
    runner
        .run(&strategy, |(which, method, args, asynchronous)| {
            let module = &modules[which];
            if which == 1 && method == Method::IsolatorPrepare as u8 && !args.is_empty() {
                prepared.lock().unwrap().push(args[0].clone());
            }
            let args = slices(&args);
            let context = format!("module {which}, method {method}, {} arguments", args.len());
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // A watch ends only with a limitation or its container's
            // cleanup (the shim always makes it asynchronously): it is
            // checked once every prepared container has been cleaned up.
            if method == Method::IsolatorWatch as u8 {
                let (tx, rx) = mpsc::channel();
                module.call_async_bytes(method, &args, move |outcome| {
                    let _ = tx.send(outcome);
                });
                watches.lock().unwrap().push((rx, context));
            } else if asynchronous {
                let (tx, rx) = mpsc::channel();
                module.call_async_bytes(method, &args, move |outcome| {
                    let _ = tx.send(outcome);
                });
                match rx.recv_timeout(Duration::from_secs(10)) {
                    Ok(outcome) => assert_no_panic(&outcome, &context),
                    Err(e) => panic!("{context}: {e}"),
                }
            } else {
                assert_no_panic(&module.call_blocking_bytes(method, &args), &context);
            }
            let _ = module.metric(method, method / 3);
            Ok(())
        })
        .unwrap();
    // Stop what the fuzz prepared (and so any watch loop it started),
    // with the ids as they were given (a stringified id cannot be parsed
    // back: a part may hold dots).
    let isolator = &modules[1];
    for id in prepared.into_inner().unwrap() {
        let out = isolator.call_blocking_bytes(Method::IsolatorCleanup as u8, &[&id]);
        assert_no_panic(&out, "cleanup");
    }
    assert_eq!(
        isolator.core().state().unwrap().ids(),
        Vec::<String>::new(),
        "cleanup of every prepared container"
    );
    // Every watch has ended now: with an outcome (a limitation, an error),
    // or dropped without completing (stopped by cleanup, or a container
    // that was never prepared).
    for (rx, context) in watches.into_inner().unwrap() {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(outcome) => assert_no_panic(&outcome, &context),
            Err(mpsc::RecvTimeoutError::Disconnected) => {}
            Err(e) => panic!("{context}: the watch outlived its container's cleanup: {e}"),
        }
    }
    crate::harness::note(&format!(
        "fuzz: {} bridge calls ({} ran a command), no panic",
        calls.into_inner(),
        modules
            .iter()
            .map(|m| {
                Method::ALL
                    .iter()
                    .map(|&method| m.core().metrics().stats(method).calls)
                    .sum::<u64>()
            })
            .sum::<u64>()
    ));
    drop(modules);
    sc.finish();
}

/// Values fitting the key's kind most of the time, so that many fuzzed
/// configurations load and get used.
fn value_for(key: &str) -> BoxedStrategy<String> {
    let numbers = prop_oneof![
        6 => Just("1e-300".to_string()),
        2 => Just("0.0004".to_string()),
        2 => Just("0.001".to_string()),
        1 => Just("-0".to_string()),
        1 => Just("NaN".to_string()),
        1 => Just("1e300".to_string()),
        1 => Just("31536001".to_string()),
        3 => Just("0.05".to_string()),
        3 => "[1-9][0-9]{0,2}(\\.[0-9]{1,4})?",
    ];
    let anything = ".{0,12}";
    if key.ends_with("_timeout") || key.ends_with("_frequence") || key.ends_with("grace_period") {
        prop_oneof![4 => numbers, 1 => anything].boxed()
    } else if key == "max_output_bytes" {
        prop_oneof![
            Just("99999999999999999999GiB".to_string()),
            Just("1GiB".to_string()),
            Just("1025".to_string()),
            Just("1023".to_string()),
            Just("2KiB".to_string()),
            anything.prop_map(|s: String| s),
        ]
        .boxed()
    } else if key == "command_cgroup" {
        prop_oneof![
            Just("none".to_string()),
            Just("auto".to_string()),
            Just("/sys/fs/cgroup/freezer/mesos/x".to_string()),
            Just("/sys/fs/cgroup/freezer".to_string()),
            Just("/sys/fs/cgroup/freezer/../x".to_string()),
            // Valid where the v2 hierarchy is writable: the suite's own root.
            Just("/sys/fs/cgroup/unified/mcm-faults-fuzz".to_string()),
            Just("relative".to_string()),
        ]
        .boxed()
    } else if key.ends_with("_command") {
        prop_oneof![
            Just("/bin/true".to_string()),
            Just("true".to_string()),
            Just(String::new()),
            Just("/nonexistent".to_string()),
            Just("/tmp".to_string()),
        ]
        .boxed()
    } else {
        prop_oneof![
            Just("true".to_string()),
            Just("false".to_string()),
            Just("maybe".to_string()),
            anything.prop_map(|s: String| s),
        ]
        .boxed()
    }
}

/// Up to 5 distinct parameters of a module of `kind` besides the fixed
/// ones, now and then an unknown key or one of the other kind.
fn parameters(kind: ModuleKind) -> impl Strategy<Value = Vec<(String, String)>> {
    let fixed = [
        "module_name",
        "temp_directory",
        "state_directory",
        "isolator_watch_command",
    ];
    let own: Vec<String> = known_keys(kind)
        .into_iter()
        .filter(|k| !fixed.contains(&k.as_str()))
        .collect();
    let all: Vec<String> = known_keys(ModuleKind::Isolator)
        .into_iter()
        .chain(known_keys(ModuleKind::Hook))
        .collect();
    let key = prop_oneof![
        30 => prop::sample::select(own),
        1 => prop::sample::select(all),
        1 => "[a-z_]{0,10}",
    ];
    prop::collection::btree_set(key, 0..5).prop_flat_map(|keys| {
        keys.into_iter()
            .map(|k| value_for(&k).prop_map(move |v| (k.clone(), v)))
            .collect::<Vec<_>>()
    })
}

#[test]
fn configuration_never_panics() {
    let sc = Scenario::start("fuzz: module configuration");
    let watch = sc.script("watch", "true");
    let temp = sc.scratch.temp_dir().display().to_string();
    let state = sc.scratch.state_dir().display().to_string();
    let strategy =
        prop_oneof![8 => Just(1u8), 1 => Just(0u8), 1 => any::<u8>()].prop_flat_map(|kind| {
            let of = if kind == 0 {
                ModuleKind::Hook
            } else {
                ModuleKind::Isolator
            };
            (
                Just(kind),
                parameters(of),
                prop_oneof![19 => Just(false), 1 => Just(true)],
            )
        });
    let mut runner = TestRunner::new(Config {
        cases: 500,
        failure_persistence: None,
        ..Config::default()
    });
    let loaded = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(kind, fuzzed, odd)| {
            let mut params = vec![
                ("module_name".to_string(), "fuzz".to_string()),
                ("temp_directory".to_string(), temp.clone()),
                ("state_directory".to_string(), state.clone()),
                (
                    "isolator_watch_command".to_string(),
                    watch.display().to_string(),
                ),
            ];
            params.extend(fuzzed);
            let mut flat = flatten(&params);
            if odd {
                flat.push(b"dangling".to_vec());
            }
            match testing::create_module(kind, "fuzzed", &slices(&flat)) {
                Err(e) => prop_assert!(!e.message.starts_with("internal error in"), "{}", e),
                Ok(module) if kind == ModuleKind::Isolator as u8 => {
                    loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // A watch: its interval comes from the configuration.
                    let id = br#"{"value":"fz"}"#;
                    let prepare = module.call_blocking_bytes(
                        Method::IsolatorPrepare as u8,
                        &[id, br#"{"command_info":{"value":"x"},"directory":"/d"}"#],
                    );
                    assert_no_panic(&prepare, "prepare");
                    let (tx, rx) = mpsc::channel();
                    module.call_async_bytes(Method::IsolatorWatch as u8, &[id], move |o| {
                        let _ = tx.send(o);
                    });
                    // Let the watch start its loop before cleanup stops it.
                    if prepare.disposition != Disposition::Error {
                        crate::common::eventually(Duration::from_secs(2), || {
                            module.core().active_watches() == 1
                        });
                    }
                    let cleanup = module.call_blocking_bytes(Method::IsolatorCleanup as u8, &[id]);
                    assert_no_panic(&cleanup, "cleanup");
                    if let Ok(outcome) = rx.recv_timeout(Duration::from_secs(5)) {
                        assert_no_panic(&outcome, "watch");
                    }
                }
                Ok(_) => {}
            }
            Ok(())
        })
        .unwrap();
    crate::harness::note(&format!(
        "fuzz: 500 configurations, {} isolators loaded and watched, no panic",
        loaded.into_inner()
    ));
    // The case that panicked before durations were bounded below.
    let e = testing::create_module(
        1,
        "fuzzed",
        &[b"module_name", b"m", b"isolator_watch_frequence", b"1e-300"],
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "isolator_watch_frequence: \"1e-300\" is less than a millisecond (0.001 seconds)"
    );
    sc.finish();
}

#[test]
fn interpreting_any_output_never_panics() {
    let sc = Scenario::start("fuzz: output interpretation");
    let members = fixture_members();
    let output = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::sample::select(members.clone()).prop_map(String::into_bytes),
        (json_value(), 0usize..400).prop_map(|(v, depth)| {
            format!("{}{v}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }),
    ];
    let input = prop::collection::btree_map(
        prop_oneof![
            Just("status".to_string()),
            Just("task_info".to_string()),
            Just("executor_info".to_string()),
            Just("container_config".to_string()),
            Just("container_id".to_string()),
        ],
        prop_oneof![
            json_value().prop_map(|v| v.to_string()),
            prop::sample::select(members),
        ],
        0..4,
    );
    let strategy = (0usize..Method::ALL.len(), output, input, any::<bool>());
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(m, output, members, merge)| {
            let method = Method::ALL[m];
            let document = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let input = Input::from_document(&document).unwrap_or_default();
            let _ = interpret(method.contract(), &input, &output, merge);
            Ok(())
        })
        .unwrap();
    sc.finish();
}
