//! Commands that cannot die: a process in a frozen cgroup (as one in
//! uninterruptible sleep) does not end at SIGKILL. Its call answers within
//! its bound all the same, nothing waits for it on a runtime thread, and it
//! is reaped, its cgroup removed, once it can die.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_command_modules::runner::cgroup::{freezer_mounts, Hierarchy};
use mesos_command_modules::{Answer, ErrorKind, Method};

use crate::common::{eventually, fixture};
use crate::harness::{cgroups, logged, suite_hierarchy, Scenario};
use crate::kills::{
    error, watch_long_task, LABELS, LABELS_COMMAND, LABELS_DOC, LABELS_TIMEOUT, LONG_TASK_ID,
};

/// A script that writes its freezer cgroup's directory to `record`, then
/// freezes that cgroup, itself included.
fn freezing_script(sc: &Scenario, record: &Path) -> Option<PathBuf> {
    if !cgroups() {
        return None;
    }
    if suite_hierarchy() != Some(Hierarchy::V1Freezer) {
        // A frozen v2 cgroup's members die of SIGKILL: nothing is stuck
        // (see `cgroup_v2.rs` for a command that freezes its v2 cgroup).
        crate::harness::skip(
            "the frozen-command scenarios need a cgroup v1 freezer command_cgroup",
        );
        return None;
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mount = freezer_mounts(&mountinfo).into_iter().next()?;
    Some(sc.script(
        "freeze-myself",
        &format!(
            r#"cgroup=$(sed -n 's/^[0-9]*:[a-z_,]*freezer[a-z_,]*://p' /proc/self/cgroup)
dir='{}'$cgroup
echo "$dir" > '{}'
echo FROZEN > "$dir/freezer.state"
sleep 1000"#,
            mount.point.display(),
            record.display()
        ),
    ))
}

/// Thaws the cgroup the script recorded, once it is frozen.
fn thaw(record: &Path) {
    let dir = std::fs::read_to_string(record).expect("the script recorded its cgroup");
    let state = Path::new(dir.trim()).join("freezer.state");
    std::fs::write(&state, "THAWED").expect("thaw");
}

/// Thaws the recorded cgroup when dropped, so that a failing scenario does
/// not leave a frozen process for the next one (or hang its clean-up).
struct ThawOnDrop(PathBuf);

impl Drop for ThawOnDrop {
    fn drop(&mut self) {
        if let Ok(dir) = std::fs::read_to_string(&self.0) {
            let _ = std::fs::write(Path::new(dir.trim()).join("freezer.state"), "THAWED");
        }
    }
}

fn frozen(record: &Path) -> bool {
    std::fs::read_to_string(record)
        .ok()
        .and_then(|dir| std::fs::read_to_string(Path::new(dir.trim()).join("freezer.state")).ok())
        .is_some_and(|state| state.trim() == "FROZEN")
}

#[test]
fn a_frozen_command_does_not_hold_its_call_past_the_bound() {
    let sc = Scenario::start("a command frozen in its cgroup");
    let record = sc.path().join("cgroup");
    let Some(cmd) = freezing_script(&sc, &record) else {
        return;
    };
    let _thaw = ThawOnDrop(record.clone());
    let hook = sc.hook(&[
        (LABELS_COMMAND, cmd.to_str().unwrap()),
        (LABELS_TIMEOUT, "0.5"),
        ("kill_grace_period", "0.3"),
    ]);
    // `call` asserts the bound: timeout + grace + margin.
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(e.message.contains("has not died yet"), "{}", e.message);
    assert!(frozen(&record), "the command did not freeze itself");
    let outlived = hook.runner().outlived();
    assert_eq!((outlived.adopted(), outlived.pending()), (1, 1));
    assert_eq!(
        logged(log::Level::Warn, "did not die after SIGKILL").len(),
        1
    );

    // Once it can die, it is reaped and its cgroup goes.
    thaw(&record);
    assert!(
        eventually(Duration::from_secs(5), || outlived.pending() == 0),
        "the thawed command was not reaped"
    );
    assert_eq!(logged(log::Level::Info, "died and was reaped").len(), 1);
    sc.finish();
}

#[test]
fn stopping_a_watch_whose_command_is_frozen_does_not_wait_for_it() {
    let sc = Scenario::start("watch stopped while its command is frozen");
    let record = sc.path().join("cgroup");
    let Some(cmd) = freezing_script(&sc, &record) else {
        return;
    };
    let _thaw = ThawOnDrop(record.clone());
    let iso = sc.isolator(&[
        ("isolator_watch_command", cmd.to_str().unwrap()),
        ("isolator_watch_timeout", "30"),
        ("isolator_watch_frequence", "0.2"),
    ]);
    let rx = watch_long_task(&sc, &iso);
    assert!(eventually(Duration::from_secs(5), || frozen(&record)));
    // Cleanup stops the watch: dropping its frozen command must not hold a
    // runtime thread, so that the cleanup and other calls go on.
    let cleaned = sc.call(&iso, Method::IsolatorCleanup, LONG_TASK_ID);
    assert_eq!(cleaned.answer, Answer::None);
    let (outcome, _) = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(outcome.is_none(), "a stopped watch completes nothing");
    let outlived = iso.runner().outlived();
    assert_eq!(outlived.pending(), 1);
    // The runtime still answers while the frozen command waits.
    for _ in 0..4 {
        let again = sc.call(&iso, Method::IsolatorCleanup, LONG_TASK_ID);
        assert_eq!(again.answer, Answer::None);
    }

    thaw(&record);
    assert!(
        eventually(Duration::from_secs(5), || outlived.pending() == 0),
        "the thawed command was not reaped"
    );
    sc.finish();
}
