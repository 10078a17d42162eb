//! Containment in the cgroup v2 hierarchy (`command_cgroup` naming a
//! directory of it; `auto` picks v1 where both exist, as here): a command is
//! created inside its cgroup by `clone3` (`CLONE_INTO_CGROUP`), killed as a
//! whole with `cgroup.kill` (or, as on kernels without it, by freezing the
//! cgroup and signalling each member), and its cgroup is reused or removed
//! after. Skipped, in one line, where no cgroup v2 hierarchy is writable.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use mesos_command_modules::runner::cgroup::{unified_mounts, Hierarchy, IGNORE_CGROUP_KILL};
use mesos_command_modules::runner::{CgroupSetting, Runner};
use mesos_command_modules::{Answer, ErrorKind, ModuleKind};

use crate::common::{alive, eventually, fixture};
use crate::harness::{logged, skip, Scenario, ESCAPING_LOOP};
use crate::kills::{error, LABELS, LABELS_COMMAND, LABELS_DOC, LABELS_TIMEOUT};

/// The suite's v2 root, `<cgroup2 mount>/mcm-faults-v2`, or `None` after
/// one line saying why these scenarios cannot run here.
fn v2_root() -> Option<PathBuf> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let Some(mount) = unified_mounts(&mountinfo).into_iter().next() else {
            skip("no cgroup v2 hierarchy is mounted: the cgroup v2 scenarios are skipped");
            return None;
        };
        let root = mount.point.join("mcm-faults-v2");
        let setting = match CgroupSetting::parse(root.to_str()?) {
            Ok(s) => s,
            Err(e) => {
                skip(&format!("the cgroup v2 scenarios are skipped: {e}"));
                return None;
            }
        };
        let dir = tempfile::tempdir().ok()?;
        let runner = Runner::configured(dir.path(), Duration::from_secs(1), 1 << 20, &setting);
        if runner.containment().hierarchy() != Some(Hierarchy::V2) {
            skip(&format!(
                "the cgroup v2 scenarios are skipped: {}",
                runner.containment().describe()
            ));
            return None;
        }
        Some(root)
    })
    .clone()
}

/// A labels hook running `command` contained under the v2 root.
fn v2_hook(
    sc: &Scenario,
    root: &std::path::Path,
    command: &std::path::Path,
    timeout: &str,
) -> std::sync::Arc<mesos_command_modules::Module> {
    sc.hook(&[
        (LABELS_COMMAND, command.to_str().unwrap()),
        (LABELS_TIMEOUT, timeout),
        ("kill_grace_period", "0.3"),
        ("command_cgroup", root.to_str().unwrap()),
    ])
}

/// Kills by freezing (as without `cgroup.kill`) until dropped.
struct FreezeToKill;

impl FreezeToKill {
    fn new() -> FreezeToKill {
        IGNORE_CGROUP_KILL.store(true, Ordering::Relaxed);
        FreezeToKill
    }
}

impl Drop for FreezeToKill {
    fn drop(&mut self) {
        IGNORE_CGROUP_KILL.store(false, Ordering::Relaxed);
    }
}

/// How the cgroup is killed in a scenario.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// `cgroup.kill`.
    KillFile,
    /// Frozen, then every member signalled.
    Freeze,
}

impl Kill {
    fn set(self) -> Option<FreezeToKill> {
        match self {
            Kill::KillFile => None,
            Kill::Freeze => Some(FreezeToKill::new()),
        }
    }
}

#[test]
fn on_v2_a_command_runs_in_its_own_cgroup_from_its_first_instruction() {
    let sc = Scenario::start("cgroup v2: the command is created in its cgroup");
    let Some(root) = v2_root() else {
        return;
    };
    let record = sc.path().join("cgroups-seen");
    let cmd = sc.script(
        "where",
        &format!(
            "grep '^0::' /proc/self/cgroup >> '{}'\necho '{{\"labels\":[]}}' > \"$2\"",
            record.display()
        ),
    );
    let hook = v2_hook(&sc, &root, &cmd, "5");
    let containment = hook.runner().containment();
    assert_eq!(containment.hierarchy(), Some(Hierarchy::V2));
    assert!(
        containment
            .describe()
            .contains("created inside it by clone3 (CLONE_INTO_CGROUP), killed with cgroup.kill"),
        "{}",
        containment.describe()
    );
    let instance = containment.instance_directory().unwrap().to_path_buf();
    for _ in 0..3 {
        let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
        assert_eq!(
            out.answer,
            Answer::Value(r#"{"labels":[]}"#.to_string()),
            "{:?}",
            crate::harness::logs()
        );
    }
    let lines = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 3);
    // The same cgroup each time (reused), under the runner's directory.
    let name = instance.file_name().unwrap().to_str().unwrap();
    assert!(
        lines[0].contains(&format!("/mcm-faults-v2/{name}/")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| l == &lines[0]), "{lines:?}");
    let ours = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(!ours.contains(name), "{ours}");
    drop(hook);
    sc.finish();
    assert!(!instance.exists(), "{} left", instance.display());
}

/// A grandchild that leaves the process group and the session and whose
/// parent exits, ignoring SIGTERM and SIGHUP, and a plain background child.
fn daemonized_grandchild(kill: Kill) {
    let sc = Scenario::start("cgroup v2: daemonized grandchild (setsid, double fork)");
    let Some(root) = v2_root() else {
        return;
    };
    let _kill = kill.set();
    let cmd = sc.script(
        "daemon",
        r#"( setsid sh -c 'trap "" TERM HUP; echo $$ >> "$PIDS"; exec sleep 1000' & )
sleep 1000 &
echo $! >> "$PIDS"
while [ $(wc -l < "$PIDS") -lt 3 ]; do sleep 0.01; done
sleep 1000"#,
    );
    let hook = v2_hook(&sc, &root, &cmd, "0.5");
    let rx = sc.spawn(&hook, LABELS, &fixture(LABELS_DOC));
    let pids = sc.wait_for_pids(3);
    let (outcome, took) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(error(&outcome.unwrap()).kind, ErrorKind::Timeout);
    assert!(took <= Scenario::bound(&hook, LABELS), "{took:?}");
    // Gone when the call returned, not eventually.
    let survivors: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(survivors.is_empty(), "{kill:?}: survivors {survivors:?}");
    crate::harness::note(&format!(
        "cgroup v2 ({kill:?}): daemonized grandchild answered in {took:?}, 0 of {} processes \
         left",
        pids.len()
    ));
    sc.finish();
}

#[test]
fn on_v2_a_daemonized_grandchild_does_not_survive_the_timeout() {
    daemonized_grandchild(Kill::KillFile);
}

#[test]
fn on_v2_without_cgroup_kill_a_daemonized_grandchild_does_not_survive_the_timeout() {
    daemonized_grandchild(Kill::Freeze);
}

/// 200 processes leaving the session as fast as the command can fork them.
fn escaping_in_a_loop(kill: Kill) {
    let sc = Scenario::start("cgroup v2: escaping processes forked in a loop");
    let Some(root) = v2_root() else {
        return;
    };
    let _kill = kill.set();
    let cmd = sc.script("bomb", ESCAPING_LOOP);
    let hook = v2_hook(&sc, &root, &cmd, "0.5");
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(error(&out).kind, ErrorKind::Timeout);
    let pids = sc.recorded_pids();
    assert!(pids.len() > 10, "only {} processes started", pids.len());
    let survivors: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(survivors.is_empty(), "{kill:?}: survivors {survivors:?}");
    crate::harness::note(&format!(
        "cgroup v2 ({kill:?}): fork loop, 0 of {} processes left",
        pids.len()
    ));
    sc.finish();
}

#[test]
fn on_v2_processes_escaping_in_a_loop_are_all_killed() {
    escaping_in_a_loop(Kill::KillFile);
}

#[test]
fn on_v2_without_cgroup_kill_processes_escaping_in_a_loop_are_all_killed() {
    escaping_in_a_loop(Kill::Freeze);
}

#[test]
fn on_v2_what_a_successful_command_leaves_running_is_killed() {
    let sc = Scenario::start("cgroup v2: leftovers of a successful command");
    let Some(root) = v2_root() else {
        return;
    };
    let cmd = sc.script(
        "leaves",
        r#"( setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 1000' & )
while [ $(wc -l < "$PIDS") -lt 2 ]; do sleep 0.01; done
echo '{"labels":[]}' > "$2""#,
    );
    let hook = v2_hook(&sc, &root, &cmd, "5");
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    assert_eq!(out.answer, Answer::Value(r#"{"labels":[]}"#.to_string()));
    let daemon = sc.recorded_pids()[1];
    assert!(!alive(daemon), "the leftover {daemon} survived the call");
    assert_eq!(
        logged(log::Level::Warn, "left 1 process(es) running").len(),
        1,
        "{:?}",
        crate::harness::logs()
    );
    sc.finish();
}

/// A command (root, as the agent) may freeze its own v2 cgroup: a frozen
/// v2 member still dies of SIGKILL, so the call answers its timeout with
/// the command dead, and the frozen cgroup is not given to the next call.
#[test]
fn on_v2_a_command_that_freezes_its_cgroup_is_killed_and_its_cgroup_not_reused() {
    let sc = Scenario::start("cgroup v2: a command freezing its own cgroup");
    let Some(root) = v2_root() else {
        return;
    };
    let mount = root.parent().unwrap().to_path_buf();
    let cmd = sc.script(
        "freeze",
        &format!(
            r#"sleep 1000 &
echo $! >> "$PIDS"
dir='{}'$(sed -n 's/^0:://p' /proc/self/cgroup)
echo 1 > "$dir/cgroup.freeze"
sleep 1000"#,
            mount.display()
        ),
    );
    let hook = v2_hook(&sc, &root, &cmd, "0.5");
    let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
    let e = error(&out);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(
        !e.message.contains("has not died yet"),
        "{} {:?}",
        e.message,
        crate::harness::logs()
    );
    let pids = sc.recorded_pids();
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|&p| !alive(p)), "{pids:?}");
    // Its cgroup was killed, not left: a timed-out command is reaped in
    // the background at once.
    let outlived = hook.runner().outlived();
    assert!(eventually(Duration::from_secs(2), || outlived.pending() == 0));
    // Its cgroup is gone, not kept: the next call runs in a fresh one.
    let containment = hook.runner().containment();
    assert!(
        eventually(Duration::from_secs(2), || containment
            .idle_cgroups()
            .is_empty()),
        "{:?}",
        containment.idle_cgroups()
    );
    sc.finish();
}

#[test]
fn v2_directories_the_module_cannot_use_are_configuration_errors() {
    let sc = Scenario::start("cgroup v2: configuration errors");
    let Some(root) = v2_root() else {
        return;
    };
    let mount = root.parent().unwrap().to_path_buf();
    let err = |path: &str| {
        sc.try_module(ModuleKind::Hook, &[("command_cgroup", path)])
            .unwrap_err()
    };
    assert_eq!(
        err(mount.to_str().unwrap()),
        format!(
            "command_cgroup: \"{m}\" is the root of the cgroup v2 hierarchy; name a directory \
             in it, e.g. {m}/mesos_command_modules",
            m = mount.display()
        )
    );
    let e = err("/tmp/mcm-not-a-cgroup");
    assert!(
        e.starts_with(
            "command_cgroup: \"/tmp/mcm-not-a-cgroup\" is in no mounted cgroup hierarchy the \
             module can use"
        ),
        "{e}"
    );
    assert!(
        e.contains("(cgroup v2)"),
        "the mounted ones are listed: {e}"
    );
    // The v2 hierarchy mounted again, read-only: no cgroup can be made
    // there, which is said at load, naming the key.
    match sc.mount("cgroup2", "v2-ro", "ro") {
        Some(view) => {
            let path = view.join("mcm");
            let e = err(path.to_str().unwrap());
            assert_eq!(
                e,
                format!(
                    "command_cgroup: \"{p}\" is in the cgroup v2 hierarchy mounted at {v}, but \
                     this process cannot create cgroups in {v} (Read-only file system (os error \
                     30)); the directory must be delegated to the agent (under systemd: \
                     Delegate=yes, see the README's \"cgroup v2\")",
                    p = path.display(),
                    v = view.display()
                )
            );
        }
        None => skip("cannot mount a read-only view of the cgroup v2 hierarchy"),
    }
    sc.finish();
}

/// After `cgroup.kill`, Linux 6.18 kills every child `clone3` creates in
/// that cgroup: a cgroup killed as a whole, by us (leftovers) or by its
/// command itself, is never given to a later call.
#[test]
fn on_v2_a_killed_cgroup_is_never_reused() {
    let sc = Scenario::start("cgroup v2: killed cgroups are not reused");
    let Some(root) = v2_root() else {
        return;
    };
    let mount = root.parent().unwrap().to_path_buf();
    let switch = sc.path().join("mode");
    let cmd = sc.script(
        "modes",
        &format!(
            r#"case $(cat '{switch}') in
suicide) echo 1 > '{mount}'$(sed -n 's/^0:://p' /proc/self/cgroup)/cgroup.kill; sleep 5 ;;
leave) ( setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 1000' & )
  while [ $(wc -l < "$PIDS") -lt 2 ]; do sleep 0.01; done ;;
esac
echo '{{"labels":[]}}' > "$2""#,
            switch = switch.display(),
            mount = mount.display()
        ),
    );
    let hook = v2_hook(&sc, &root, &cmd, "5");
    let ok = Answer::Value(r#"{"labels":[]}"#.to_string());
    for mode in ["suicide", "leave"] {
        std::fs::write(&switch, mode).unwrap();
        let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
        match mode {
            "suicide" => assert_eq!(error(&out).kind, ErrorKind::Signal, "{out:?}"),
            _ => assert_eq!(out.answer, ok),
        }
        std::fs::write(&switch, "plain").unwrap();
        for _ in 0..3 {
            let out = sc.call(&hook, LABELS, &fixture(LABELS_DOC));
            assert_eq!(out.answer, ok, "after {mode}: {:?}", crate::harness::logs());
        }
    }
    sc.finish();
}
