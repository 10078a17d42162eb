//! Every method with an answer, fed empty, malformed and wrongly shaped
//! output: what the module answers Mesos is what the contract table says.

mod common;

use common::{answer, fixture, Scratch};
use mesos_command_modules::method::{OnEmpty, OnFailure, Output};
use mesos_command_modules::{Answer, ErrorKind, Method, Module, ModuleKind, StateMode};
use serde_json::Value;

/// A captured input for each method that answers something.
fn input_of(method: Method) -> Option<String> {
    let file = match method {
        Method::HookMasterLaunchTaskLabelDecorator => {
            "master_launch_task_label_decorator/command-task.json"
        }
        Method::HookMasterLaunchTaskResourceDecorator => {
            "master_launch_task_resource_decorator/command-task.json"
        }
        Method::HookSlaveRunTaskLabelDecorator => {
            "slave_run_task_label_decorator/command-task.json"
        }
        Method::HookSlaveExecutorEnvironmentDecorator => {
            "slave_executor_environment_decorator/command-task.json"
        }
        Method::HookSlaveTaskStatusDecorator => "slave_task_status_decorator/command-task.json",
        Method::HookSlaveResourcesDecorator => "slave_resources_decorator/agent-start.json",
        Method::HookSlaveAttributesDecorator => "slave_attributes_decorator/agent-start.json",
        Method::IsolatorPrepare => "isolator_prepare/command-task.json",
        Method::IsolatorWatch => "isolator_watch/container.json",
        Method::IsolatorUsage => "isolator_usage/container.json",
        Method::IsolatorStatus => "isolator_status/container.json",
        Method::ResourceEstimatorOversubscribable => {
            "resource_estimator_oversubscribable/command-task.json"
        }
        Method::QoSControllerCorrections => "qos_controller_corrections/command-task.json",
        Method::HookSlavePreLaunchDockerTaskExecutorDecorator => {
            return Some(
                r#"{"executor_info":{"executor_id":{"value":"e"}},"container_name":"mesos-x",
                "container_work_directory":"/w","mapped_sandbox_directory":"/mnt/mesos/sandbox"}"#
                    .to_string(),
            )
        }
        _ => return None,
    };
    Some(fixture(file))
}

/// A module of the method's kind whose command for `method` prints `output`,
/// with state bypassed as in `mesos-command-modules call`.
fn module_printing(s: &Scratch, method: Method, output: &str) -> Module {
    let out = s.path().join(format!("{method}.out"));
    std::fs::write(&out, output).unwrap();
    let cmd = s.script(
        &format!("{method}.sh"),
        &format!("cat {} > \"$2\"", out.display()),
    );
    let mut params = s.params(&[]);
    params.push((format!("{method}_command"), cmd.display().to_string()));
    Module::with_state(
        method.kind(),
        "com_criteo_mesos_CommandIsolator",
        &params,
        StateMode::Bypassed,
    )
    .unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// A wrongly shaped output for the method's type: an array where an object
/// is expected, an object where an array is.
fn wrong_shape(output: Output) -> &'static str {
    match output {
        Output::Resources | Output::Attributes | Output::Estimate | Output::Corrections => {
            r#"{"name":"cpus"}"#
        }
        _ => "[]",
    }
}

#[test]
fn empty_malformed_and_wrong_outputs_follow_the_contract() {
    let s = Scratch::new();
    let mut checked = 0;
    for method in Method::ALL {
        let Some(doc) = input_of(method) else {
            assert_eq!(
                method.contract().output,
                Output::Nothing,
                "{method} has no input"
            );
            continue;
        };
        let contract = method.contract();

        let out = answer(&module_printing(&s, method, "  \n"), method, &doc);
        match contract.on_empty {
            OnEmpty::NoChange | OnEmpty::KeepWatching => {
                assert_eq!(out.answer, Answer::None, "{method}")
            }
            OnEmpty::EmptyStatistics => {
                let Answer::Value(v) = &out.answer else {
                    panic!("{method}")
                };
                let v: Value = serde_json::from_str(v).unwrap();
                assert_eq!(
                    v.as_object().unwrap().keys().collect::<Vec<_>>(),
                    ["timestamp"]
                );
            }
            OnEmpty::EmptyStatus => assert_eq!(out.answer, Answer::Value("{}".into()), "{method}"),
            OnEmpty::EmptyList => assert_eq!(out.answer, Answer::Value("[]".into()), "{method}"),
            OnEmpty::Ignored => unreachable!("{method} answers something"),
        }
        assert!(out.failure.is_none(), "{method}: {:?}", out.failure);

        for bad in ["{\"a\":", "null", wrong_shape(contract.output)] {
            let out = answer(&module_printing(&s, method, bad), method, &doc);
            let failure = out
                .failure
                .unwrap_or_else(|| panic!("{method} accepted {bad}"));
            assert_eq!(failure.kind, ErrorKind::BadOutput, "{method}: {failure}");
            assert!(
                failure
                    .message
                    .contains(&format!("not a valid {}", contract.output.type_name())),
                "{method}: {failure}"
            );
            match contract.on_failure {
                OnFailure::EmptyStatistics => assert!(matches!(out.answer, Answer::Value(_))),
                OnFailure::WithdrawsEstimate => {
                    assert_eq!(out.answer, Answer::Value("[]".into()), "{method}")
                }
                OnFailure::KeepWatching => assert_eq!(out.answer, Answer::None),
                _ => assert_eq!(out.answer, Answer::Error(failure), "{method}"),
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 14);
}

#[test]
fn a_valid_limitation_is_the_watch_answer() {
    let s = Scratch::new();
    let m = module_printing(&s, Method::IsolatorWatch, r#"{"message":"over quota"}"#);
    let out = answer(
        &m,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container.json"),
    );
    assert_eq!(
        out.answer,
        Answer::Value(r#"{"message":"over quota"}"#.into())
    );
}

#[test]
fn calls_of_the_other_kind_are_refused() {
    let s = Scratch::new();
    let hook = Module::new(
        ModuleKind::Hook,
        "com_criteo_mesos_CommandHook",
        &s.params(&[]),
    )
    .unwrap();
    let out = answer(
        &hook,
        Method::IsolatorUsage,
        &fixture("isolator_usage/container.json"),
    );
    assert!(matches!(out.answer, Answer::Error(ref e) if e.kind == ErrorKind::Internal));
}

#[test]
fn an_estimate_is_made_revocable_and_may_be_wrapped() {
    let s = Scratch::new();
    let method = Method::ResourceEstimatorOversubscribable;
    let input = fixture("resource_estimator_oversubscribable/command-task.json");
    let m = module_printing(
        &s,
        method,
        r#"{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}},
            {"name":"mem","type":"SCALAR","scalar":{"value":64},"revocable":{}}]}"#,
    );
    let Answer::Value(v) = answer(&m, method, &input).answer else {
        panic!("no estimate")
    };
    let v: Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    for resource in v.as_array().unwrap() {
        assert_eq!(resource["revocable"], serde_json::json!({}), "{v}");
    }
}

#[test]
fn corrections_must_name_the_executor_they_kill() {
    let s = Scratch::new();
    let method = Method::QoSControllerCorrections;
    let input = fixture("qos_controller_corrections/command-task.json");
    let kill =
        r#"[{"type":"KILL","kill":{"framework_id":{"value":"f"},"executor_id":{"value":"e"}}}]"#;
    let out = answer(&module_printing(&s, method, kill), method, &input);
    assert!(
        matches!(out.answer, Answer::Value(ref v) if v.contains("\"executor_id\"")),
        "{:?}",
        out.answer
    );
    for (bad, named) in [
        (r#"[{"type":"KILL"}]"#, "without \"kill\""),
        (
            r#"[{"type":"KILL","kill":{"executor_id":{"value":"e"}}}]"#,
            "kill.framework_id",
        ),
        (
            r#"{"corrections":[{"type":"KILL","kill":{"framework_id":{"value":"f"}}}]}"#,
            "kill.executor_id",
        ),
        (r#"[{"type":"FREEZE","kill":{}}]"#, "FREEZE"),
    ] {
        let out = answer(&module_printing(&s, method, bad), method, &input);
        let Answer::Error(e) = &out.answer else {
            panic!("{bad} was accepted: {:?}", out.answer)
        };
        assert!(e.message.contains(named), "{bad}: {e}");
        assert!(
            e.message.contains("correction 0") || named == "FREEZE",
            "{e}"
        );
    }
}
