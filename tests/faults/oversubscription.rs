//! The resource estimator's and the QoS controller's commands under every
//! fault that applies: a timeout, garbage, an oversized output, a crash,
//! and an agent whose usage never comes. Each call is started the way the
//! shim starts it (the usage given after the call began), is answered by
//! its bound, with the method's failure meaning: the estimate is withdrawn
//! (`[]`, never a failure, which would leave the last estimate offered),
//! the corrections fail. Nothing is left behind.

use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mesos_command_modules::{Answer, CallError, ErrorKind, Method, ModuleKind, Outcome};

use crate::common::fixture;
use crate::harness::Scenario;

const ESTIMATE: Method = Method::ResourceEstimatorOversubscribable;
const CORRECTIONS: Method = Method::QoSControllerCorrections;

/// Every fault, as a command body, and the error kind it must give.
const FAULTS: [(&str, &str, ErrorKind); 4] = [
    ("timeout", "sleep 30", ErrorKind::Timeout),
    (
        "garbage",
        "echo 'this is { not JSON' > \"$2\"",
        ErrorKind::BadOutput,
    ),
    (
        "oversized",
        "head -c 8192 /dev/zero | tr '\\0' ' ' > \"$2\"; echo '[]' >> \"$2\"",
        ErrorKind::BadOutput,
    ),
    ("crash", "kill -SEGV $$", ErrorKind::Signal),
];

fn kind_of(method: Method) -> ModuleKind {
    method.kind()
}

/// Starts `method` as the shim does, the usage given by `usage`; returns
/// the outcome and how long the call took.
fn start<U>(
    module: &std::sync::Arc<mesos_command_modules::Module>,
    method: Method,
    usage: U,
) -> (Option<Outcome>, Duration)
where
    U: Future<Output = Result<Vec<String>, CallError>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    module.spawn_call_awaiting(method, usage, move |outcome| {
        let _ = tx.send((outcome, started.elapsed()));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the call is answered")
}

/// The captured usage of a running command task, as the shim gives it.
fn captured_usage(method: Method) -> Vec<String> {
    let folder = method.key();
    crate::harness::arguments(method, &fixture(&format!("{folder}/command-task.json")))
}

fn check_meaning(name: &str, method: Method, outcome: &Outcome, kind: ErrorKind) {
    let failure = outcome
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("{name} {method}: no failure in {outcome:?}"));
    assert_eq!(failure.kind, kind, "{name} {method}: {failure}");
    match method {
        ESTIMATE => assert_eq!(
            outcome.answer,
            Answer::Value("[]".to_string()),
            "{name}: the estimate is withdrawn"
        ),
        _ => assert!(
            matches!(&outcome.answer, Answer::Error(e) if e.kind == kind),
            "{name} {method}: {:?}",
            outcome.answer
        ),
    }
}

#[test]
fn every_command_fault_gets_the_methods_failure_meaning_in_time_and_leaks_nothing() {
    let sc = Scenario::start("oversubscription-command-faults");
    for method in [ESTIMATE, CORRECTIONS] {
        for (name, body, kind) in FAULTS {
            let command = sc.script(&format!("{}-{name}", method.key()), body);
            let module = sc.module(
                kind_of(method),
                &[
                    (
                        &format!("{}_command", method.key()),
                        command.to_str().unwrap(),
                    ),
                    (&format!("{}_timeout", method.key()), "0.5"),
                    ("kill_grace_period", "0.3"),
                    ("max_output_bytes", "4096"),
                ],
            );
            let usage = captured_usage(method);
            let (outcome, took) = start(&module, method, async move { Ok(usage) });
            let outcome = outcome.expect("an outcome");
            let bound = Scenario::bound(&module, method);
            assert!(took <= bound, "{name} {method}: {took:?} > {bound:?}");
            check_meaning(name, method, &outcome, kind);
        }
    }
    sc.finish();
}

#[test]
fn a_usage_that_never_comes_is_a_timeout_and_runs_no_command() {
    let sc = Scenario::start("oversubscription-usage-never-comes");
    for method in [ESTIMATE, CORRECTIONS] {
        let command = sc.script(&format!("{}-never-run", method.key()), "echo '[]' > \"$2\"");
        let module = sc.module(
            kind_of(method),
            &[
                (
                    &format!("{}_command", method.key()),
                    command.to_str().unwrap(),
                ),
                (&format!("{}_timeout", method.key()), "0.4"),
            ],
        );
        let (outcome, took) = start(&module, method, std::future::pending());
        let outcome = outcome.expect("an outcome");
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_millis(1400),
            "{method}: answered after {took:?}"
        );
        check_meaning("no usage", method, &outcome, ErrorKind::Timeout);
        let failure = outcome.failure.unwrap();
        assert!(failure.message.contains("no command was run"), "{failure}");
        // A usage that fails in the agent: the same meaning, its cause.
        let failed = async {
            Err(CallError::new(
                ErrorKind::Internal,
                "the agent's usage failed",
            ))
        };
        let (outcome, _) = start(&module, method, failed);
        let outcome = outcome.expect("an outcome");
        check_meaning("failed usage", method, &outcome, ErrorKind::Internal);
    }
    assert!(
        sc.recorded_pids().is_empty(),
        "a command ran without its usage"
    );
    sc.finish();
}
