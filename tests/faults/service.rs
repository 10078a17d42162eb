//! Service mode: one helper per module answers calls over its standard
//! input and output. Each fault a helper can commit (crash, closed stdout,
//! silence, garbage, errors, a slow start, refusing to stop) has its
//! documented outcome, and nothing is left running.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_command_modules::runtime::runtime;
use mesos_command_modules::{Answer, ErrorKind, Method, Module, Outcome};
use serde_json::Value;

use crate::common::{alive, eventually, fixture};
use crate::harness::{cgroups, logged, start_helper, Scenario};

const USAGE: &str = "isolator_usage/container.json";

/// A helper script of the given mode (see `service_helper.py`).
fn helper(sc: &Scenario, mode: &str) -> PathBuf {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/faults/service_helper.py");
    sc.script(
        &format!("helper-{mode}"),
        &format!("exec python3 '{}' {mode}", source.display()),
    )
}

/// An isolator whose usage, watch and status go to a helper of `mode`.
fn service_isolator(sc: &Scenario, mode: &str, extra: &[(&str, &str)]) -> Arc<Module> {
    let helper = helper(sc, mode);
    let mut params: Vec<(&str, String)> = vec![
        ("service_command", helper.to_str().unwrap().to_string()),
        (
            "service_methods",
            "isolator_usage,isolator_watch,isolator_status".to_string(),
        ),
        ("isolator_usage_timeout", "2".to_string()),
        ("service_startup_timeout", "5".to_string()),
        ("kill_grace_period", "0.3".to_string()),
    ];
    for (k, v) in extra {
        params.retain(|(key, _)| key != k);
        params.push((k, v.to_string()));
    }
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sc.isolator(&params)
}

fn wait_up(module: &Module) {
    let service = module.service().expect("a service");
    assert!(
        runtime().block_on(service.wait_up(Duration::from_secs(10))),
        "the helper did not start"
    );
}

/// Stops the module's helper as the agent's exit does, and waits for it.
fn stop(module: &Module) {
    module.shutdown_and_wait();
    assert!(!module.service().unwrap().is_up());
}

fn usage(sc: &Scenario, module: &Module) -> Outcome {
    sc.call(module, Method::IsolatorUsage, &fixture(USAGE))
}

fn value(outcome: &Outcome) -> Value {
    match &outcome.answer {
        Answer::Value(json) => serde_json::from_str(json).unwrap(),
        other => panic!("expected a value, got {other:?}"),
    }
}

#[test]
fn calls_are_answered_by_the_helper_under_the_scripts_contract() {
    let sc = Scenario::start("service: usage, watch and status through a helper");
    let iso = service_isolator(&sc, "normal", &[]);
    wait_up(&iso);
    let answered = usage(&sc, &iso);
    assert_eq!(answered.failure, None);
    let statistics = value(&answered);
    assert_eq!(statistics["mem_rss_bytes"], 1);
    assert!(statistics["timestamp"].is_number(), "{statistics}");
    let status = sc.call(&iso, Method::IsolatorStatus, &fixture(USAGE));
    assert_eq!(status.answer, Answer::Value("{}".to_string()));
    assert_eq!(iso.metrics().stats(Method::IsolatorUsage).calls, 1);

    // A watch as the agent makes it: rounds until the helper reports.
    let limited = r#"{"container_id":{"value":"limited"}}"#;
    let prepared = sc.call(
        &iso,
        Method::IsolatorPrepare,
        r#"{"container_id":{"value":"limited"},"container_config":{"directory":"/tmp"}}"#,
    );
    assert_eq!(prepared.answer, Answer::None);
    let rx = sc.spawn(&iso, Method::IsolatorWatch, limited);
    let (outcome, _) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let limitation = value(&outcome.expect("a limitation"));
    assert_eq!(limitation["message"], "limited by the service");
    assert_eq!(
        sc.call(&iso, Method::IsolatorCleanup, limited).answer,
        Answer::None
    );
    // What the helper writes on stderr is in the log, labelled.
    assert_eq!(
        logged(
            log::Level::Info,
            "[faults service] stderr: ready for faults"
        )
        .len(),
        1
    );
    stop(&iso);
    assert_eq!(iso.service().unwrap().restarts(), 0);
    sc.finish();
}

#[test]
fn requests_in_flight_are_answered_in_any_order() {
    let sc = Scenario::start("service: 10 requests answered last first");
    let iso = service_isolator(&sc, "reverse", &[]);
    wait_up(&iso);
    let calls: Vec<_> = (0..10)
        .map(|_| sc.spawn(&iso, Method::IsolatorUsage, &fixture(USAGE)))
        .collect();
    for rx in calls {
        let (outcome, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let outcome = outcome.unwrap();
        assert_eq!(outcome.failure, None);
        assert_eq!(value(&outcome)["mem_rss_bytes"], 1);
    }
    stop(&iso);
    sc.finish();
}

#[test]
fn a_helper_that_crashes_is_restarted_and_the_call_in_flight_fails_clearly() {
    let sc = Scenario::start("service: a helper exits in the middle of a call");
    let iso = service_isolator(&sc, "crash-third", &[]);
    wait_up(&iso);
    for _ in 0..2 {
        assert_eq!(usage(&sc, &iso).failure, None);
    }
    // The third request kills it: usage's failure meaning is empty
    // statistics, with the cause in the failure.
    let crashed = usage(&sc, &iso);
    let e = crashed.failure.clone().expect("the call in flight fails");
    assert_eq!(e.kind, ErrorKind::ExitStatus);
    assert!(
        e.message
            .contains("stopped during the isolator_usage call: exited"),
        "{}",
        e.message
    );
    assert!(value(&crashed)["timestamp"].is_number());
    // A call made while it is down waits for the new one.
    let after = usage(&sc, &iso);
    assert_eq!(after.failure, None, "{:?}", after.failure);
    let service = iso.service().unwrap();
    assert_eq!(service.restarts(), 1);
    assert_eq!(
        logged(
            log::Level::Warn,
            "exited (exit status 3); it is started again in 0.1s"
        )
        .len(),
        1
    );
    stop(&iso);
    sc.finish();
}

#[test]
fn a_helper_that_closes_its_output_is_restarted() {
    let sc = Scenario::start("service: a helper closes its standard output");
    let iso = service_isolator(&sc, "close-stdout", &[]);
    wait_up(&iso);
    assert_eq!(usage(&sc, &iso).failure, None);
    let e = usage(&sc, &iso).failure.expect("the call in flight fails");
    assert!(
        e.message.contains("closed its standard output"),
        "{}",
        e.message
    );
    assert_eq!(usage(&sc, &iso).failure, None);
    assert_eq!(iso.service().unwrap().restarts(), 1);
    stop(&iso);
    sc.finish();
}

#[test]
fn a_helper_that_stops_answering_is_killed_after_n_timeouts_in_a_row() {
    let sc = Scenario::start("service: a silent helper");
    let iso = service_isolator(
        &sc,
        "silent",
        &[
            ("isolator_usage_timeout", "0.3"),
            ("service_unanswered_limit", "2"),
        ],
    );
    wait_up(&iso);
    let pid_of_first = sc.wait_for_pids(1)[0];
    for _ in 0..2 {
        let e = usage(&sc, &iso).failure.expect("no answer");
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(
            e.message
                .ends_with("took too long to answer isolator_usage: no answer within 0.3s"),
            "{}",
            e.message
        );
    }
    let service = iso.service().unwrap();
    assert!(
        eventually(Duration::from_secs(5), || service.restarts() == 1
            && service.is_up()),
        "the silent helper was not restarted"
    );
    assert!(!alive(pid_of_first), "the silent helper was not killed");
    assert_eq!(
        logged(log::Level::Warn, "left 2 requests in a row unanswered").len(),
        1
    );
    stop(&iso);
    sc.finish();
}

#[test]
fn a_call_made_when_the_silent_helper_is_given_up_waits_for_the_next() {
    let sc = Scenario::start("service: a call after the unanswered limit");
    let marker = sc.path().join("silent-once.marker");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/faults/service_helper.py");
    let helper = sc.script(
        "helper-silent-once",
        &format!(
            "exec python3 '{}' silent-once '{}'",
            source.display(),
            marker.display()
        ),
    );
    let helper = helper.to_str().unwrap();
    let iso = sc.isolator(&[
        ("service_command", helper),
        ("service_methods", "isolator_usage"),
        ("isolator_usage_timeout", "1"),
        ("service_unanswered_limit", "2"),
        ("kill_grace_period", "0.3"),
    ]);
    wait_up(&iso);
    for _ in 0..2 {
        let e = usage(&sc, &iso).failure.expect("no answer");
        assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
    }
    // Made at once: the silent helper is being killed. The call is not
    // sent to it (it would fail as the helper dies) but to the next one.
    let answered = usage(&sc, &iso);
    assert_eq!(answered.failure, None);
    assert_eq!(value(&answered)["mem_rss_bytes"], 1);
    assert_eq!(iso.service().unwrap().restarts(), 1);
    stop(&iso);
    sc.finish();
}

#[test]
fn an_answer_over_max_output_bytes_fails_its_call_at_once() {
    let sc = Scenario::start("service: an answer line over max_output_bytes");
    let iso = service_isolator(&sc, "long", &[("max_output_bytes", "1024")]);
    wait_up(&iso);
    let started = Instant::now();
    let e = usage(&sc, &iso).failure.expect("an answer over the limit");
    // Its id opens the line: the call fails now, not at its timeout.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.kind, ErrorKind::BadOutput);
    assert!(
        e.message.contains(
            "answered isolator_usage with a line of 5044 bytes or more, over max_output_bytes \
             (1024)"
        ),
        "{}",
        e.message
    );
    assert_eq!(iso.service().unwrap().bad_lines(), 1);
    assert_eq!(iso.service().unwrap().restarts(), 0);
    stop(&iso);
    sc.finish();
}

#[test]
fn a_module_destroyed_while_its_helper_starts_stops_it_at_once() {
    let sc = Scenario::start("service: destroyed during the start");
    let iso = service_isolator(&sc, "silent-start", &[("service_startup_timeout", "20")]);
    let pid = sc.wait_for_pids(1)[0];
    let started = Instant::now();
    stop(&iso);
    // It reads the end of its input and exits: no wait for its start-up
    // timeout, nor for a grace period.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!alive(pid), "the helper survived");
    assert_eq!(
        logged(
            log::Level::Info,
            "was stopped before it answered initialize: the module is being destroyed (exit \
             status 0)"
        )
        .len(),
        1
    );
    sc.finish();
}

#[test]
fn lines_that_are_not_responses_are_counted_and_harm_no_call() {
    let sc = Scenario::start("service: garbage, unknown ids and a 5 MiB line");
    let iso = service_isolator(&sc, "garbage", &[("max_output_bytes", "1MiB")]);
    wait_up(&iso);
    for _ in 0..3 {
        let answered = usage(&sc, &iso);
        assert_eq!(answered.failure, None);
        assert_eq!(value(&answered)["mem_rss_bytes"], 1);
    }
    let service = iso.service().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || service.bad_lines() == 9),
        "{} bad lines",
        service.bad_lines()
    );
    assert_eq!(logged(log::Level::Warn, "over max_output_bytes").len(), 3);
    assert_eq!(
        logged(log::Level::Warn, "which no call is waiting for").len(),
        3
    );
    assert_eq!(service.restarts(), 0);
    stop(&iso);
    sc.finish();
}

#[test]
fn error_responses_and_invalid_results_fail_like_a_command() {
    let sc = Scenario::start("service: error responses and invalid results");
    let iso = service_isolator(&sc, "error", &[]);
    wait_up(&iso);
    let e = usage(&sc, &iso).failure.expect("an error response fails");
    assert_eq!(e.kind, ErrorKind::ExitStatus);
    assert!(
        e.message
            .ends_with("answered isolator_usage with an error: the helper refuses"),
        "{}",
        e.message
    );
    let status = sc.call(&iso, Method::IsolatorStatus, &fixture(USAGE));
    assert!(
        matches!(status.answer, Answer::Error(_)),
        "{:?}",
        status.answer
    );
    stop(&iso);

    let invalid = service_isolator(&sc, "invalid", &[]);
    wait_up(&invalid);
    let e = usage(&sc, &invalid)
        .failure
        .expect("an invalid result fails");
    assert_eq!(e.kind, ErrorKind::BadOutput);
    assert!(
        e.message.starts_with("Service \"") && e.message.contains("\" returned invalid output: "),
        "{}",
        e.message
    );
    stop(&invalid);
    sc.finish();
}

#[test]
fn a_helper_that_does_not_start_is_retried_with_growing_pauses() {
    let sc = Scenario::start("service: initialize never answered");
    let iso = service_isolator(
        &sc,
        "silent-start",
        &[
            ("service_startup_timeout", "0.2"),
            ("service_restart_backoff_max", "0.4"),
            ("isolator_usage_timeout", "1"),
        ],
    );
    let started = Instant::now();
    let e = usage(&sc, &iso).failure.expect("no helper, no answer");
    assert_eq!(e.kind, ErrorKind::Spawn);
    assert!(
        e.message.contains(
            "is down (it did not answer initialize within service_startup_timeout (0.2s)"
        ) && e
            .message
            .ends_with("did not come back within the isolator_usage call's timeout of 1s"),
        "{}",
        e.message
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    let service = iso.service().unwrap();
    // Starts at 0, 0.3, 0.8, 1.5, 2.1 s...: pauses of 0.1, 0.2, then 0.4 s
    // between attempts of 0.2 s.
    std::thread::sleep(Duration::from_millis(1500));
    let restarts = service.restarts();
    assert!(
        (2..=6).contains(&restarts),
        "{restarts} restarts in about 2.5 s"
    );
    assert!(!logged(log::Level::Warn, "next start in 0.4s").is_empty());
    stop(&iso);
    sc.finish();
}

#[test]
fn a_helper_that_ignores_eof_and_sigterm_is_killed_at_shutdown() {
    let sc = Scenario::start("service: a stubborn helper at shutdown");
    let iso = service_isolator(&sc, "stubborn", &[]);
    wait_up(&iso);
    assert_eq!(usage(&sc, &iso).failure, None);
    let pid = sc.wait_for_pids(1)[0];
    let started = Instant::now();
    stop(&iso);
    // EOF, 0.3 s, SIGTERM (ignored), 0.3 s, SIGKILL.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    assert!(!alive(pid), "the stubborn helper survived");
    assert_eq!(
        logged(log::Level::Info, "stopped (killed by signal 9)").len(),
        1
    );
    sc.finish();
}

#[test]
fn a_method_served_by_the_helper_cannot_have_its_own_command() {
    let sc = Scenario::start("service: configuration errors");
    let helper = helper(&sc, "normal");
    let helper = helper.to_str().unwrap();
    let err = |params: &[(&str, &str)]| {
        let mut all = vec![("module_name", "m")];
        all.extend_from_slice(params);
        let owned: Vec<(String, String)> = all
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Module::with_state(
            mesos_command_modules::ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator",
            &owned,
            mesos_command_modules::StateMode::Bypassed,
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        err(&[
            ("service_command", helper),
            ("service_methods", "isolator_usage"),
            ("isolator_usage_command", helper),
        ]),
        "isolator_usage_command: isolator_usage is also in service_methods: a method is served \
         either by its own command or by the service helper, not both"
    );
    assert!(err(&[("service_command", helper)]).starts_with("service_methods: is mandatory"));
    assert!(
        err(&[("service_methods", "all")]).starts_with("service_methods: needs service_command")
    );
    let unknown = err(&[
        ("service_command", helper),
        ("service_methods", "isolator_usage,hook_x"),
    ]);
    assert!(
        unknown.starts_with("service_methods: \"hook_x\" is not a method of"),
        "{unknown}"
    );
    sc.finish();
}

/// In a helper process (an agent): a module whose service helper
/// (`MCM_SERVICE`) ignores the end of its input and SIGTERM, until killed.
pub fn serve_forever() {
    let var = |name: &str| std::env::var(name).unwrap();
    let params: Vec<(String, String)> = [
        ("module_name", "faults".to_string()),
        ("temp_directory", var("MCM_TEMP")),
        ("state_directory", var("MCM_STATE")),
        ("service_command", var("MCM_SERVICE")),
        ("service_methods", "isolator_usage".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let params = crate::harness::with_suite_cgroup(params);
    let module = Module::with_state(
        mesos_command_modules::ModuleKind::Isolator,
        "com_criteo_mesos_CommandIsolator",
        &params,
        mesos_command_modules::StateMode::Checkpointed,
    )
    .unwrap();
    if runtime().block_on(module.service().unwrap().wait_up(Duration::from_secs(10))) {
        std::fs::write(var("MCM_UP"), "up").unwrap();
    }
    loop {
        std::thread::park();
    }
}

#[test]
fn a_killed_agents_helper_is_killed_when_the_next_agent_loads_the_module() {
    let sc = Scenario::start("service: the helper of an agent killed with SIGKILL");
    let stubborn = helper(&sc, "stubborn");
    let temp = sc.scratch.temp_dir();
    let state = sc.scratch.state_dir();
    let up = sc.path().join("up");
    let mut agent = start_helper(
        "service",
        &[
            ("MCM_TEMP", &temp),
            ("MCM_STATE", &state),
            ("MCM_SERVICE", &stubborn),
            ("MCM_UP", &up),
        ],
    );
    let pid = sc.wait_for_pids(1)[0];
    // Killed once its helper serves (before, the helper could die of
    // writing to its dead agent).
    assert!(eventually(Duration::from_secs(10), || up.exists()));
    agent.kill().unwrap();
    agent.wait().unwrap();
    // It ignores the end of its input: it outlives its agent...
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(pid), "the stubborn helper died with its agent");
    // ...until the next agent loads the module.
    let iso = service_isolator(&sc, "normal", &[]);
    wait_up(&iso);
    if cgroups() {
        assert!(
            eventually(Duration::from_secs(2), || !alive(pid)),
            "the old helper {pid} survived the next agent's start"
        );
    } else {
        // Without a cgroup it escapes: what the README says is lost.
        // SAFETY: plain syscall on the helper the scenario started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    stop(&iso);
    sc.finish();
}
