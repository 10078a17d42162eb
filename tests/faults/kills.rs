//! Timeouts and kills: after the timeout and the grace period no process a
//! command started survives, however it tried: trapping SIGTERM, through
//! grandchildren, or by leaving the process group and the session
//! (`setsid`, double fork). Also: the leftovers of a command that succeeded,
//! a cancelled call, and the process-group fallback's documented limit.

use std::path::Path;
use std::time::{Duration, Instant};

use mesos_command_modules::{Answer, CallError, ErrorKind, Method, Outcome};

use crate::common::{alive, eventually, fixture};
use crate::harness::{cgroups, group_and_session, logged, Scenario, ESCAPING_LOOP};

pub const LABELS: Method = Method::HookSlaveRunTaskLabelDecorator;
pub const LABELS_COMMAND: &str = "hook_slave_run_task_label_decorator_command";
pub const LABELS_TIMEOUT: &str = "hook_slave_run_task_label_decorator_timeout";
pub const LABELS_DOC: &str = "slave_run_task_label_decorator/command-task.json";
/// The container of `isolator_prepare/long-task.json` and
/// `isolator_watch/container.json`.
pub const LONG_TASK_ID: &str =
    r#"{"container_id":{"value":"5d863b27-579a-4a18-84fd-568d0f4eeffc"}}"#;

/// Prepares the container of `isolator_prepare/long-task.json` and starts
/// its watch the way the shim does.
pub fn watch_long_task(
    sc: &Scenario,
    iso: &std::sync::Arc<mesos_command_modules::Module>,
) -> std::sync::mpsc::Receiver<(Option<Outcome>, Duration)> {
    let prepared = sc.call(
        iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    assert_eq!(prepared.answer, Answer::None);
    sc.spawn(
        iso,
        Method::IsolatorWatch,
        &fixture("isolator_watch/container.json"),
    )
}

pub fn error(outcome: &Outcome) -> &CallError {
    match &outcome.answer {
        Answer::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn timed_out(command: &Path, timeout: &str) -> String {
    format!(
        "Command \"{}\" took too long to execute: timed out after {timeout}s and was killed",
        command.display()
    )
}

fn labels_hook(
    sc: &Scenario,
    command: &Path,
    timeout: &str,
    grace: &str,
) -> std::sync::Arc<mesos_command_modules::Module> {
    sc.hook(&[
        (LABELS_COMMAND, command.to_str().unwrap()),
        (LABELS_TIMEOUT, timeout),
        ("kill_grace_period", grace),
    ])
}

#[test]
fn a_command_sleeping_past_its_timeout_is_killed() {
    let sc = Scenario::start("sleep past the timeout");
    let cmd = sc.script("sleepy", "sleep 30 &\necho $! >> \"$PIDS\"\nwait");
    let hook = labels_hook(&sc, &cmd, "0.3", "0.5");
    let started = Instant::now();
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let took = started.elapsed();
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(e.message, timed_out(&cmd, "0.3"));
    assert!(took >= Duration::from_millis(300), "{took:?}");
    // SIGTERM was enough: the grace period was not waited out.
    assert!(took < Duration::from_millis(300 + 500), "{took:?}");
    assert_eq!(sc.recorded_pids().len(), 2);
    assert_eq!(hook.metrics().stats(LABELS).timeouts, 1);
    sc.finish();
}

#[test]
fn a_command_trapping_sigterm_is_killed_after_the_grace_period() {
    let sc = Scenario::start("SIGTERM trapped");
    let marker = sc.path().join("got-term");
    let cmd = sc.script(
        "trap",
        &format!(
            "trap 'echo term >> {}' TERM\nwhile :; do sleep 0.05; done",
            marker.display()
        ),
    );
    let hook = labels_hook(&sc, &cmd, "0.3", "0.4");
    let started = Instant::now();
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let took = started.elapsed();
    assert_eq!(error(&out).message, timed_out(&cmd, "0.3"));
    assert!(took >= Duration::from_millis(300 + 400), "{took:?}");
    assert!(marker.exists(), "SIGTERM was not delivered");
    sc.finish();
}

#[test]
fn grandchildren_trapping_sigterm_die_too() {
    let sc = Scenario::start("grandchildren trapping SIGTERM");
    let cmd = sc.script(
        "family",
        r#"for i in 1 2 3; do
  sh -c 'trap "" TERM; echo $$ >> "$PIDS"; while :; do sleep 0.05; done' &
done
wait"#,
    );
    let hook = labels_hook(&sc, &cmd, "0.4", "0.4");
    let started = Instant::now();
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let took = started.elapsed();
    assert_eq!(error(&out).message, timed_out(&cmd, "0.4"));
    assert_eq!(sc.recorded_pids().len(), 4);
    if cgroups() {
        // They had the whole grace period to end: the wait was for all of
        // them, not only for the command.
        assert!(took >= Duration::from_millis(400 + 400), "{took:?}");
    }
    sc.finish();
}

/// A grandchild that leaves the process group and the session and whose
/// parent exits (a daemon), ignoring SIGTERM and SIGHUP; plus a plain
/// background child.
const DAEMONIZING: &str = r#"( setsid sh -c 'trap "" TERM HUP; echo $$ >> "$PIDS"; exec sleep 1000' & )
sleep 1000 &
echo $! >> "$PIDS"
while [ $(wc -l < "$PIDS") -lt 3 ]; do sleep 0.01; done
"#;

/// Waits for the daemon of [`DAEMONIZING`] and checks that it escaped the
/// command's group and session: only a cgroup can reach it.
fn escaped_daemon(sc: &Scenario) -> (i32, i32) {
    let pids = sc.wait_for_pids(3);
    let command = pids[0];
    let (_, command_session) = group_and_session(command).expect("the command runs");
    let daemon = pids[1..]
        .iter()
        .copied()
        .find(|&p| group_and_session(p).is_some_and(|(_, s)| s != command_session))
        .expect("a process in another session");
    let (group, session) = group_and_session(daemon).unwrap();
    assert_ne!(group, command, "the daemon left the command's group");
    assert_eq!(session, daemon, "the daemon leads its own session");
    (command, daemon)
}

#[test]
fn a_daemonized_grandchild_does_not_survive_the_timeout() {
    let sc = Scenario::start("daemonized grandchild (setsid, double fork)");
    if !cgroups() {
        // The fallback's behaviour is the next scenario's subject.
        return;
    }
    let cmd = sc.script("daemon", &format!("{DAEMONIZING}sleep 1000"));
    let hook = labels_hook(&sc, &cmd, "0.5", "0.3");
    let rx = sc.spawn(&hook, LABELS, &fixture(LABELS_DOC));
    let (_, daemon) = escaped_daemon(&sc);
    let (outcome, took) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(error(&outcome.unwrap()).message, timed_out(&cmd, "0.5"));
    assert!(took <= Scenario::bound(&hook, LABELS), "{took:?}");
    // Gone when the call returned, not eventually.
    assert!(!alive(daemon), "the daemon {daemon} survived");
    sc.finish();
}

#[test]
fn without_a_cgroup_the_process_group_is_killed_and_a_daemon_may_survive() {
    let sc = Scenario::start("process-group fallback");
    let cmd = sc.script("daemon", &format!("{DAEMONIZING}sleep 1000"));
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        (LABELS_TIMEOUT, "0.5"),
        ("kill_grace_period", "0.3"),
        ("command_cgroup", "none"),
    ]);
    let warning = logged(log::Level::Warn, "command_cgroup is \"none\"");
    assert_eq!(
        warning,
        vec![
            "[faults] command_cgroup is \"none\": commands are killed by process group only: a \
             descendant that leaves the group (setsid, a daemon) is not killed at the timeout \
             and may survive"
                .to_string()
        ]
    );
    let rx = sc.spawn(&hook, LABELS, &fixture(LABELS_DOC));
    let (command, daemon) = escaped_daemon(&sc);
    let (outcome, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(error(&outcome.unwrap()).message, timed_out(&cmd, "0.5"));
    // The command and its background child were in the group: dead.
    let in_group: Vec<i32> = sc
        .recorded_pids()
        .into_iter()
        .filter(|&p| p != daemon)
        .collect();
    assert!(in_group.contains(&command));
    assert!(in_group.iter().all(|&p| !alive(p)), "{in_group:?}");
    // The documented limit: the daemon escaped.
    assert!(alive(daemon), "the fallback cannot reach a daemon");
    // SAFETY: plain syscall on a pid we checked is the daemon.
    unsafe { libc::kill(daemon, libc::SIGKILL) };
    assert!(eventually(Duration::from_secs(2), || !alive(daemon)));
    sc.finish();
}

#[test]
fn what_a_successful_command_leaves_running_is_killed() {
    let sc = Scenario::start("leftovers of a successful command");
    let cmd = sc.script(
        "leaves",
        r#"( setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 1000' & )
while [ $(wc -l < "$PIDS") -lt 2 ]; do sleep 0.01; done
echo '{"labels":[{"key":"k","value":"v"}]}' > "$2""#,
    );
    let hook = labels_hook(&sc, &cmd, "5", "0.3");
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(
        out.answer,
        Answer::Value(r#"{"labels":[{"key":"k","value":"v"}]}"#.to_string())
    );
    let daemon = sc.recorded_pids()[1];
    if cgroups() {
        assert!(!alive(daemon), "the leftover {daemon} survived the call");
        let warning = logged(log::Level::Warn, "left 1 process(es) running");
        assert_eq!(warning.len(), 1, "{:?}", crate::harness::logs());
        assert!(warning[0].starts_with("[faults hook_slave_run_task_label_decorator]"));
    } else {
        // SAFETY: plain syscall on the daemon's pid.
        unsafe { libc::kill(daemon, libc::SIGKILL) };
    }
    sc.finish();
}

/// The same in a cgroup that an earlier call used a moment before: on v1
/// a descriptor of `cgroup.procs` kept open would still say "empty" there
/// (the kernel's list of its pids, made at an earlier opening, is kept
/// for a second), and the leftover would survive.
#[test]
fn what_a_successful_command_leaves_running_in_a_reused_cgroup_is_killed() {
    let sc = Scenario::start("leftovers of a successful command, cgroup reused");
    if !cgroups() {
        return;
    }
    // Only the daemon records its pid.
    let cmd = sc.unrecorded_script(
        "leaves",
        r#"if grep -q leave-one "$1"; then
  ( setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 1000' & )
  while [ "$(wc -l < "$PIDS" 2>/dev/null || echo 0)" -lt 1 ]; do sleep 0.01; done
fi
echo '{"labels":[]}' > "$2""#,
    );
    let hook = labels_hook(&sc, &cmd, "5", "0.3");
    let mut doc: serde_json::Value = serde_json::from_str(&fixture(LABELS_DOC)).unwrap();
    for _ in 0..3 {
        let out = sc.call(&hook, LABELS, &doc.to_string());
        assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    }
    doc["task_info"]["name"] = "leave-one".into();
    let out = sc.call(&hook, LABELS, &doc.to_string());
    assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    let daemon = sc.recorded_pids()[0];
    assert!(!alive(daemon), "the leftover {daemon} survived the call");
    assert_eq!(
        logged(log::Level::Warn, "left 1 process(es) running").len(),
        1
    );
    sc.finish();
}

#[test]
fn a_cancelled_call_kills_its_whole_tree() {
    let sc = Scenario::start("cancelled call (watch stopped by cleanup)");
    let cmd = sc.script("watch", &format!("{DAEMONIZING}sleep 1000"));
    let iso = sc.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_watch_timeout", "30"),
        // The first round comes within one period; the command then runs
        // until cleanup.
        ("isolator_watch_frequence", "0.2"),
    ]);
    let rx = watch_long_task(&sc, &iso);
    let (_, daemon) = escaped_daemon(&sc);
    // Cleanup stops the watch in the middle of its command.
    let cleaned = sc.call(&iso, Method::IsolatorCleanup, LONG_TASK_ID);
    assert_eq!(cleaned.answer, Answer::None);
    let (outcome, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(outcome.is_none(), "a stopped watch completes nothing");
    let in_group: Vec<i32> = sc
        .recorded_pids()
        .into_iter()
        .filter(|&p| p != daemon)
        .collect();
    // Killed when the call was dropped, reaped in the background.
    let dead = |pids: &[i32]| pids.iter().all(|&p| !alive(p));
    assert!(
        eventually(Duration::from_secs(2), || dead(&in_group)),
        "{in_group:?}"
    );
    if cgroups() {
        assert!(
            eventually(Duration::from_secs(2), || !alive(daemon)),
            "the daemon {daemon} survived"
        );
    } else {
        assert!(alive(daemon));
        // SAFETY: plain syscall on the daemon's pid.
        unsafe { libc::kill(daemon, libc::SIGKILL) };
        assert!(eventually(Duration::from_secs(2), || !alive(daemon)));
    }
    sc.finish();
}

#[test]
fn processes_escaping_in_a_loop_are_all_killed() {
    let sc = Scenario::start("escaping processes forked in a loop");
    if !cgroups() {
        return;
    }
    let cmd = sc.script("bomb", ESCAPING_LOOP);
    let hook = labels_hook(&sc, &cmd, "0.5", "0.2");
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(error(&out).kind, ErrorKind::Timeout);
    let pids = sc.recorded_pids();
    assert!(pids.len() > 10, "only {} processes started", pids.len());
    let survivors: Vec<i32> = pids.into_iter().filter(|&p| alive(p)).collect();
    assert!(survivors.is_empty(), "{survivors:?}");
    sc.finish();
}

#[test]
fn where_no_cgroup_can_be_created_calls_still_run_and_the_log_says_what_is_lost() {
    let sc = Scenario::start("cgroups cannot be created");
    if !cgroups() {
        return;
    }
    // The freezer hierarchy, mounted again read-only: configured, valid,
    // and unusable, as on a host whose /sys/fs/cgroup is read-only.
    let Some(view) = sc.mount("cgroup", "freezer", "ro,freezer") else {
        crate::harness::skip("cannot mount a read-only view of the freezer hierarchy");
        return;
    };
    let root = view.join("mcm");
    let cmd = sc.script("answer", r#"echo '{"labels":[]}' > "$2""#);
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        ("command_cgroup", root.to_str().unwrap()),
    ]);
    let warnings = logged(log::Level::Warn, "cannot create a cgroup for a command");
    assert_eq!(warnings.len(), 1, "{:?}", crate::harness::logs());
    assert!(
        warnings[0].starts_with(&format!(
            "cannot create a cgroup for a command under {}/",
            root.display()
        )),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].ends_with(
            ": Read-only file system (os error 30); until this works, commands are killed by \
             process group only: a descendant that leaves the group (setsid, a daemon) is not \
             killed at the timeout and may survive"
        ),
        "{}",
        warnings[0]
    );
    // Calls work, in the fallback, and the warning is not repeated.
    for _ in 0..3 {
        let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
        assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    }
    assert_eq!(
        logged(log::Level::Warn, "cannot create a cgroup for a command").len(),
        1
    );
    drop(hook);
    sc.finish();
}
