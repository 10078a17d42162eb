//! What the oversubscription modules refuse before it reaches Mesos: an
//! estimate that Mesos's `Resources::validate` refuses or misbehaves on is
//! withdrawn (`[]`) with a message naming the entry and the field, and a QoS
//! correction naming an empty id is refused like one naming none.

mod common;

use common::{answer, fixture, Scratch};
use mesos_command_modules::metrics::{CALLS, ERRORS};
use mesos_command_modules::{Answer, ErrorKind, Method, Module, ModuleKind};

/// A module of `kind` whose command for `method` prints `output`.
fn printing(s: &Scratch, kind: ModuleKind, symbol: &str, method: Method, output: &str) -> Module {
    let out = s.path().join(format!("{method}.out"));
    std::fs::write(&out, output).unwrap();
    let cmd = s.script(
        &format!("{method}.sh"),
        &format!("cat {} > \"$2\"", out.display()),
    );
    let mut params = s.params(&[]);
    params.push((format!("{method}_command"), cmd.display().to_string()));
    Module::new(kind, symbol, &params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn estimator(s: &Scratch, output: &str) -> Module {
    printing(
        s,
        ModuleKind::ResourceEstimator,
        "com_criteo_mesos_CommandResourceEstimator",
        Method::ResourceEstimatorOversubscribable,
        output,
    )
}

#[test]
fn an_estimate_mesos_would_refuse_is_withdrawn_with_the_field_named() {
    let s = Scratch::new();
    let method = Method::ResourceEstimatorOversubscribable;
    let input = fixture("resource_estimator_oversubscribable/command-task.json");
    for (bad, named) in [
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-2}}]"#,
            r#"resource 0 ("cpus"): "scalar.value" is -2: an amount must not be negative"#,
        ),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":"-0.5"}}]"#,
            r#""scalar.value" is "-0.5""#,
        ),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":"Infinity"}}]"#,
            "an amount must be a finite number",
        ),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":0.0004}}]"#,
            "which Mesos rounds to 0",
        ),
        (
            r#"[{"name":"ports","type":"RANGES","scalar":{"value":2}}]"#,
            r#"resource 0 ("ports") has "type" RANGES but no "ranges""#,
        ),
        (
            r#"[{"name":"mem","type":"SCALAR","scalar":{"value":1}},
                {"name":"cpus","type":"SCALAR","scalar":{"value":1},"set":{"item":["a"]}}]"#,
            r#"resource 1 ("cpus") has "type" SCALAR and a "set""#,
        ),
        (
            r#"[{"name":"","type":"SCALAR","scalar":{"value":2}}]"#,
            r#"resource 0 has an empty "name""#,
        ),
        (
            r#"[{"name":"t","type":"TEXT","text":{"value":"x"}}]"#,
            r#"has "type" TEXT"#,
        ),
        (
            r#"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":9,"end":5}]}}]"#,
            r#""ranges.range[0]" begins after it ends (9 > 5)"#,
        ),
        (
            r#"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":5},{"begin":5,"end":9}]}}]"#,
            r#""ranges.range[0]" and "ranges.range[1]" overlap"#,
        ),
        (
            r#"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":-1,"end":5}]}}]"#,
            r#""ranges.range[0].begin" is -1"#,
        ),
        (
            r#"[{"name":"s","type":"SET","set":{"item":["a","b","a"]}}]"#,
            r#""set.item" holds "a" twice"#,
        ),
    ] {
        let m = estimator(&s, bad);
        let out = answer(&m, method, &input);
        assert_eq!(out.answer, Answer::Value("[]".into()), "{bad}");
        let failure = out.failure.unwrap_or_else(|| panic!("{bad} was accepted"));
        assert_eq!(failure.kind, ErrorKind::BadOutput, "{failure}");
        assert!(
            failure
                .message
                .contains("returned invalid output: the output is not a valid Resources: "),
            "{failure}"
        );
        assert!(failure.message.contains(named), "{bad}: {failure}");
        // Counted as a failed call, as every invalid output is.
        assert_eq!(m.metrics().value(method, CALLS), 1);
        assert_eq!(m.metrics().value(method, ERRORS), 1);
    }
}

#[test]
fn an_estimate_mesos_accepts_is_passed_on() {
    let s = Scratch::new();
    let method = Method::ResourceEstimatorOversubscribable;
    let input = fixture("resource_estimator_oversubscribable/command-task.json");
    let good = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":0}},
        {"name":"mem","type":"SCALAR","scalar":{"value":"12.5"}},
        {"name":"disk","type":"SCALAR","scalar":{"value":0.0005}},
        {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":5},{"begin":6,"end":9}]}},
        {"name":"s","type":"SET","set":{"item":["a","b"]}}]"#;
    let out = answer(&estimator(&s, good), method, &input);
    assert!(out.failure.is_none(), "{:?}", out.failure);
    let Answer::Value(v) = out.answer else {
        panic!("no estimate")
    };
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(5), "{v}");
}

#[test]
fn a_resources_decorator_answer_mesos_would_refuse_fails_the_hook() {
    let s = Scratch::new();
    let method = Method::HookSlaveResourcesDecorator;
    let m = printing(
        &s,
        ModuleKind::Hook,
        "com_criteo_mesos_CommandHook",
        method,
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-8}}]"#,
    );
    let out = answer(
        &m,
        method,
        &fixture("slave_resources_decorator/agent-start.json"),
    );
    let Answer::Error(e) = &out.answer else {
        panic!("accepted: {:?}", out.answer)
    };
    assert!(e.message.contains("must not be negative"), "{e}");
}

#[test]
fn corrections_naming_an_empty_id_are_refused() {
    let s = Scratch::new();
    let method = Method::QoSControllerCorrections;
    let input = fixture("qos_controller_corrections/command-task.json");
    for (bad, named) in [
        (
            r#"[{"type":"KILL","kill":{"framework_id":{"value":""},"executor_id":{"value":"e"}}}]"#,
            "\"kill.framework_id.value\"",
        ),
        (
            r#"[{"type":"KILL","kill":{"framework_id":{"value":"f"},"executor_id":{"value":""}}}]"#,
            "\"kill.executor_id.value\"",
        ),
        (
            r#"[{"type":"KILL","kill":{"framework_id":{"value":"f"},"executor_id":{"value":"e"},
                "container_id":{"value":""}}}]"#,
            "\"kill.container_id.value\"",
        ),
        (
            r#"[{"type":"KILL","kill":{"framework_id":{"value":"f"},"executor_id":{"value":"e"},
                "container_id":{"value":"c","parent":{"value":""}}}}]"#,
            "\"kill.container_id.parent.value\"",
        ),
    ] {
        let m = printing(
            &s,
            ModuleKind::QoSController,
            "com_criteo_mesos_CommandQoSController",
            method,
            bad,
        );
        let out = answer(&m, method, &input);
        let Answer::Error(e) = &out.answer else {
            panic!("{bad} was accepted: {:?}", out.answer)
        };
        assert!(
            e.message
                .contains(&format!("correction 0 names an empty {named}")),
            "{bad}: {e}"
        );
    }
}
