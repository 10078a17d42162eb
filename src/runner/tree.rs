//! A command and everything it started: its process group and, when
//! available, its cgroup. Whatever way a call ends (exit, timeout, a
//! cancelled or panicking call), nothing the command started outlives it.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use super::cgroup::CallCgroup;
use super::process::Process;
use super::reaper::{self, Outlived, Reason};

/// How long, at the end of a call, killed leftovers get to disappear
/// before the call returns anyway, at most (a process in uninterruptible
/// sleep cannot die until its I/O ends; it is then left to the reaper).
pub const LEFTOVER_WAIT: Duration = Duration::from_secs(1);

/// A running command and its descendants.
#[derive(Debug)]
pub struct Tree {
    /// Taken only by [`Tree::abandon`] (and so by a drop).
    process: Option<Process>,
    cgroup: Option<CallCgroup>,
    /// Whether the cgroup was found empty when the command had exited.
    emptied: bool,
    finished: bool,
    /// The command as configured, for the reaper's messages.
    display: String,
    outlived: Arc<Outlived>,
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
    pub fn new(
        process: Process,
        cgroup: Option<CallCgroup>,
        display: &str,
        outlived: &Arc<Outlived>,
    ) -> Tree {
        Tree {
            process: Some(process),
            cgroup,
            emptied: true,
            finished: false,
            display: display.to_string(),
            outlived: Arc::clone(outlived),
        }
    }

    fn process(&self) -> &Process {
        // Only `abandon` takes it, and it consumes the tree.
        self.process
            .as_ref()
            .expect("a tree's process is taken only by abandon")
    }

    fn process_mut(&mut self) -> &mut Process {
        self.process
            .as_mut()
            .expect("a tree's process is taken only by abandon")
    }

    pub fn pid(&self) -> i32 {
        self.process().pid()
    }

    /// Sends `signal` to the command's group and to every process in its
    /// cgroup (one round: see [`Tree::finish`] for the rest); SIGKILL
    /// kills the cgroup the way its hierarchy allows (`cgroup.kill` on v2).
    pub fn signal(&self, signal: libc::c_int) {
        self.process().signal_group(signal);
        if let Some(cgroup) = &self.cgroup {
            if signal == libc::SIGKILL {
                cgroup.kill_all();
            } else {
                cgroup.signal_all(signal);
            }
        }
    }

    /// Waits until the command has exited (not reaped).
    pub async fn exited(&mut self) -> io::Result<()> {
        self.process_mut().exited().await
    }

    /// Like [`Tree::exited`], and with a cgroup also until the cgroup is
    /// empty.
    pub async fn gone(&mut self) -> io::Result<()> {
        self.process_mut().exited().await?;
        if let Some(cgroup) = &self.cgroup {
            empty(cgroup).await;
        }
        Ok(())
    }

    /// Once the command has exited: why it could not be executed, if it
    /// could not.
    pub fn launch_failure(&self) -> Option<io::Error> {
        self.process().launch().failure()
    }

    /// Once the command has exited: if it could not join its cgroup, the
    /// cgroup (which then holds nothing of it) is given up, so that the
    /// rest of the call relies on the process group, and the error and the
    /// cgroup's path are returned.
    pub fn settle_placement(&mut self) -> Option<(io::Error, std::path::PathBuf)> {
        let error = self.process().launch().placement_failure()?;
        let cgroup = self.cgroup.take()?;
        let path = cgroup.path().to_path_buf();
        cgroup.remove();
        Some((error, path))
    }

    /// Whether nothing the command started can be running: it was reaped
    /// and its cgroup found empty (with a process group only, a process
    /// that left the group could still be).
    pub fn nothing_left(&self) -> bool {
        self.cgroup.is_some()
            && self.emptied
            && self.process.as_ref().is_some_and(Process::is_reaped)
    }

    /// Whether the command runs in its own cgroup.
    pub fn contained(&self) -> bool {
        self.cgroup.is_some()
    }

    /// Ends the command's part of the call once it has exited: kills what
    /// it left running, waits for it to go (at most `within`, and at most
    /// [`LEFTOVER_WAIT`]), and reaps the command (nothing signals its group
    /// after this). Leftovers that outlive the wait are killed again by
    /// [`Tree::close`]'s release, and their cgroup removed later. The cgroup
    /// stays in use until [`Tree::close`], which can wait until the caller
    /// has its answer.
    pub async fn finish(&mut self, within: Duration) -> io::Result<Finished> {
        let mut leftovers = 0;
        // The command itself, exited, is no longer a member.
        let group_may_remain = match &self.cgroup {
            Some(cgroup) if cgroup.is_empty() => false,
            Some(cgroup) => {
                leftovers = cgroup.kill_all();
                let wait = within.min(LEFTOVER_WAIT);
                let _ = tokio::time::timeout(wait, killed(cgroup)).await;
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
            self.process().signal_group(libc::SIGKILL);
        }
        Ok(Finished {
            status: self.process_mut().reap()?,
            leftovers,
        })
    }

    /// Reaps the command (if `finish` did not) and releases its cgroup
    /// (see [`CallCgroup::release`]); a cgroup whose members would not die
    /// goes to the reaper with them.
    pub fn close(mut self) {
        if !self.emptied && self.cgroup.as_ref().is_some_and(|c| !c.is_empty()) {
            self.abandon(Reason::Cancelled);
            return;
        }
        let status = self.process_mut().reap();
        if let Some(cgroup) = self.cgroup.take() {
            // A command killed by SIGKILL, by us or by itself writing its
            // cgroup's `cgroup.kill`, leaves a cgroup that a v2 kernel may
            // kill the next command in (see `cgroup.rs`).
            if status.is_ok_and(|s| s.signal() == Some(libc::SIGKILL)) {
                cgroup.spoil();
            }
            cgroup.release(self.emptied);
        }
        self.finished = true;
    }

    /// Hands the command and its cgroup to the reaper, which kills them
    /// until they are gone and then reaps and removes them; never blocks.
    pub fn abandon(mut self, reason: Reason) {
        self.take_to_reaper(reason);
    }

    fn take_to_reaper(&mut self, reason: Reason) {
        self.finished = true;
        if let Some(process) = self.process.take() {
            reaper::adopt(
                process,
                self.cgroup.take(),
                std::mem::take(&mut self.display),
                reason,
                Arc::clone(&self.outlived),
            );
        }
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
    /// A call cancelled or panicking: everything is killed at once and
    /// handed to the reaper, which waits for it without holding this
    /// thread.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.signal(libc::SIGKILL);
        self.take_to_reaper(Reason::Cancelled);
    }
}
