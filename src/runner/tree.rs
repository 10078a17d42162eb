//! A command and everything it started: its process group and, when
//! available, its cgroup. Whatever way a call ends (exit, timeout, a
//! cancelled or panicking call), nothing the command started outlives it.

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use super::cgroup::CallCgroup;
use super::process::Process;

/// How long, at the end of a call, killed processes get to disappear before
/// the call returns anyway (a process in uninterruptible sleep cannot die
/// until its I/O ends; its cgroup is then removed later).
pub const LEFTOVER_WAIT: Duration = Duration::from_secs(1);

/// A running command and its descendants.
#[derive(Debug)]
pub struct Tree {
    process: Process,
    cgroup: Option<CallCgroup>,
    /// Whether the cgroup was found empty when the command had exited.
    emptied: bool,
    finished: bool,
}

/// How a tree ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// Processes of the cgroup still running when the command had exited,
    /// killed then.
    pub leftovers: usize,
}

impl Tree {
    pub fn new(process: Process, cgroup: Option<CallCgroup>) -> Tree {
        Tree {
            process,
            cgroup,
            emptied: true,
            finished: false,
        }
    }

    pub fn pid(&self) -> i32 {
        self.process.pid()
    }

    /// Sends `signal` to the command's group and to every process in its
    /// cgroup (one round: see [`Tree::finish`] for the rest).
    pub fn signal(&self, signal: libc::c_int) {
        self.process.signal_group(signal);
        if let Some(cgroup) = &self.cgroup {
            cgroup.signal_all(signal);
        }
    }

    /// Waits until the command has exited (not reaped) and, with a cgroup,
    /// every process in it is gone.
    pub async fn exited(&mut self) -> io::Result<()> {
        self.process.exited().await
    }

    /// Like [`Tree::exited`], and with a cgroup also until the cgroup is
    /// empty.
    pub async fn gone(&mut self) -> io::Result<()> {
        self.process.exited().await?;
        if let Some(cgroup) = &self.cgroup {
            empty(cgroup).await;
        }
        Ok(())
    }

    /// Once the command has exited: why it could not be executed, if it
    /// could not.
    pub fn launch_failure(&self) -> Option<io::Error> {
        self.process.launch().failure()
    }

    /// Once the command has exited: if it could not join its cgroup, the
    /// cgroup (which then holds nothing of it) is given up, so that the
    /// rest of the call relies on the process group, and the error and the
    /// cgroup's path are returned.
    pub fn settle_placement(&mut self) -> Option<(io::Error, std::path::PathBuf)> {
        let error = self.process.launch().placement_failure()?;
        let cgroup = self.cgroup.take()?;
        let path = cgroup.path().to_path_buf();
        cgroup.remove();
        Some((error, path))
    }

    /// Whether the command runs in its own cgroup.
    pub fn contained(&self) -> bool {
        self.cgroup.is_some()
    }

    /// Ends the command's part of the call once it has exited: kills what
    /// it left running, waits (bounded) for it to go, and reaps the command
    /// (nothing signals its group after this). The cgroup stays in use until
    /// [`Tree::close`], which can wait until the caller has its answer.
    pub async fn finish(&mut self) -> io::Result<Finished> {
        let mut leftovers = 0;
        // The command itself, exited, is no longer a member.
        let group_may_remain = match &self.cgroup {
            Some(cgroup) if cgroup.is_empty() => false,
            Some(cgroup) => {
                leftovers = cgroup.kill_all();
                let _ = tokio::time::timeout(LEFTOVER_WAIT, killed(cgroup)).await;
                self.emptied = false;
                true
            }
            None => true,
        };
        // An empty cgroup holds none of the command's descendants, nor
        // then any member of its group (leaving a cgroup takes another
        // cgroup's `tasks` file, which the command was never given). Else
        // the group too: it is unreaped, so its group id is still ours.
        if group_may_remain {
            self.process.signal_group(libc::SIGKILL);
        }
        Ok(Finished {
            status: self.process.reap()?,
            leftovers,
        })
    }

    /// Reaps the command (if `finish` did not) and releases its cgroup
    /// (see [`CallCgroup::release`]).
    pub fn close(mut self) {
        let _ = self.process.reap();
        if let Some(cgroup) = self.cgroup.take() {
            cgroup.release(self.emptied);
        }
        self.finished = true;
    }
}

async fn empty(cgroup: &CallCgroup) {
    let mut delay = Duration::from_millis(1);
    while !cgroup.is_empty() {
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(20));
    }
}

/// SIGKILL rounds until the cgroup is empty: a round reaches the children
/// forked before the previous one took effect.
async fn killed(cgroup: &CallCgroup) {
    let mut delay = Duration::from_millis(1);
    while !cgroup.is_empty() {
        tokio::time::sleep(delay).await;
        cgroup.kill_all();
        delay = (delay * 2).min(Duration::from_millis(20));
    }
}

impl Drop for Tree {
    /// A call cancelled or panicking: everything is killed and reaped here,
    /// blocking briefly (SIGKILL takes effect at once but for processes in
    /// uninterruptible sleep).
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.signal(libc::SIGKILL);
        let _ = self.process.reap();
        // The cgroup's own drop waits, bounded, and removes it.
    }
}
