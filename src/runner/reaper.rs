//! Commands that outlive their call: killed, waited for and reaped in the
//! background, so that no call waits for them.
//!
//! SIGKILL ends a process at once, but for one that cannot run to receive
//! it: a process in uninterruptible sleep (a stuck NFS or FUSE mount, a
//! dying disk) or in a frozen cgroup dies only when its I/O ends or its
//! cgroup is thawed, which may be never. A call whose command does not die
//! within its bound answers anyway (see [`super::ANSWER_MARGIN`]) and hands
//! the command and its cgroup here; so does a call that is cancelled (a
//! watch stopped by cleanup, a module destroyed). A task on the runtime then
//! repeats SIGKILL to the command's group and cgroup, with growing pauses,
//! until everything is gone, reaps the command and removes its cgroup.
//! Waiting costs no thread: the exit arrives as pidfd readiness.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cgroup::CallCgroup;
use super::process::Process;

/// The longest pause between two SIGKILL rounds to an adopted command.
pub const MAX_KILL_INTERVAL: Duration = Duration::from_secs(1);

/// Counts of one runner's commands that outlived their call.
#[derive(Debug, Default)]
pub struct Outlived {
    /// Commands handed to the reaper since the runner was created.
    adopted: AtomicU64,
    /// Of which not reaped yet.
    pending: AtomicU64,
}

impl Outlived {
    /// Commands that outlived their call, since the runner was created.
    pub fn adopted(&self) -> u64 {
        self.adopted.load(Ordering::Relaxed)
    }

    /// Commands that outlived their call and are still alive (or not yet
    /// reaped).
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }
}

/// Why a command is handed over, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// It did not die within the call's bound after SIGKILL: said once, as
    /// a warning.
    Unkillable,
    /// Its call was cancelled or panicked: routine, not logged unless it
    /// then proves hard to kill.
    Cancelled,
}

/// Hands `process` (killed already or not) and its cgroup to a background
/// task that kills, waits for and reaps them. Never blocks.
pub fn adopt(
    process: Process,
    cgroup: Option<CallCgroup>,
    display: String,
    reason: Reason,
    outlived: Arc<Outlived>,
) {
    outlived.adopted.fetch_add(1, Ordering::Relaxed);
    outlived.pending.fetch_add(1, Ordering::Relaxed);
    if reason == Reason::Unkillable {
        log::warn!(
            "command \"{display}\" (pid {}) did not die after SIGKILL (a process in \
             uninterruptible sleep or in a frozen cgroup cannot die until it runs again): its \
             call has answered; it is killed again until it dies, then reaped",
            process.pid()
        );
    }
    crate::runtime::runtime().spawn(reap(process, cgroup, display, reason, outlived));
}

async fn reap(
    mut process: Process,
    cgroup: Option<CallCgroup>,
    display: String,
    reason: Reason,
    outlived: Arc<Outlived>,
) {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    let mut said = reason == Reason::Unkillable;
    loop {
        process.signal_group(libc::SIGKILL);
        if let Some(cgroup) = &cgroup {
            cgroup.kill_all();
        }
        let waited = tokio::time::timeout(pause, process.exited()).await;
        // A pidfd that fails is read through waitid instead.
        let exited = matches!(waited, Ok(Ok(()))) || process.has_exited();
        if exited && cgroup.as_ref().is_none_or(CallCgroup::is_empty) {
            break;
        }
        if waited.is_ok() {
            // Not a full pause yet: the command is gone but members of its
            // cgroup are not, or its pidfd failed.
            tokio::time::sleep(pause).await;
        }
        if !said && started.elapsed() >= MAX_KILL_INTERVAL {
            said = true;
            log::warn!(
                "command \"{display}\" (pid {}), whose call was cancelled, did not die within \
                 {}s of SIGKILL; it is killed again until it dies, then reaped",
                process.pid(),
                MAX_KILL_INTERVAL.as_secs_f64()
            );
        }
        pause = (pause * 2).min(MAX_KILL_INTERVAL);
    }
    // Unreaped, the command's pid is still its group's id: one last round
    // for members of the group outside the cgroup.
    process.signal_group(libc::SIGKILL);
    let _ = process.reap();
    if let Some(cgroup) = cgroup {
        cgroup.remove();
    }
    outlived.pending.fetch_sub(1, Ordering::Relaxed);
    if said {
        log::info!(
            "command \"{display}\" (pid {}) died and was reaped {:.3}s after its call ended",
            process.pid(),
            started.elapsed().as_secs_f64()
        );
    }
}
