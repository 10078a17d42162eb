//! One child process: spawned without `fork()` (see [`super::spawn`]),
//! waited for without a thread, killed as a whole process group, and always
//! reaped.
//!
//! The exit is observed through a pidfd registered with the runtime's
//! reactor, so thousands of commands in flight cost no thread. Only our own
//! pid is ever waited for (never `waitpid(-1)`: the agent's reaper shares the
//! process). On kernels without `pidfd_open` (before 5.3) the exit is polled.
//!
//! Observing the exit and reaping are separate steps: the exited command
//! stays a zombie until [`Process::reap`], so its pid, which is also its
//! process group's id, cannot be given to another process while we still
//! signal the group (a signal to a reaped group id could reach an unrelated
//! process that got the recycled id).

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions, WaitOptions};
use tokio::io::unix::AsyncFd;

use super::cgroup::CallCgroup;
use super::spawn::{Launch, Spawned};

/// A spawned command, leader of its own process group.
#[derive(Debug)]
pub struct Process {
    pid: libc::pid_t,
    pidfd: Option<AsyncFd<OwnedFd>>,
    /// The process has exited (it may still be unreaped).
    exited_seen: bool,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
    /// Read by the child until `execve`: kept as long as the process.
    launch: Launch,
}

/// The pipes of a spawned command.
#[derive(Debug)]
pub struct Pipes {
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

impl Process {
    /// Spawns `program` with `args`, `stdin` as its standard input, piped
    /// stdout and stderr, and `env` added to the inherited environment,
    /// inside `cgroup` when one is given. Whether it could be executed, and
    /// placed in `cgroup`, is known once it has exited
    /// ([`Process::launch`]).
    ///
    /// Must be called from within the runtime (the pidfd is registered with
    /// its reactor).
    pub fn spawn(
        program: &Path,
        args: &[&Path],
        stdin: &File,
        env: &[(&str, &str)],
        cgroup: Option<&CallCgroup>,
    ) -> io::Result<(Process, Pipes)> {
        let spawned = super::spawn::spawn(
            program,
            args,
            stdin,
            env,
            cgroup.map_or(super::spawn::Placement::Stay, CallCgroup::placement),
        )?;
        Ok(Process::spawned(spawned))
    }

    fn spawned(spawned: Spawned) -> (Process, Pipes) {
        let pid = spawned.pid;
        let (stdout, stderr) = (spawned.stdout, spawned.stderr);
        let pidfd = match spawned.pidfd {
            Some(fd) => register(fd),
            None => open_pidfd(pid),
        };
        let process = Process {
            pid,
            pidfd,
            exited_seen: false,
            status: None,
            launch: spawned.launch,
        };
        (process, Pipes { stdout, stderr })
    }

    /// What the child reported before `execve`: read it once the process
    /// has exited.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// The process (and process group) id.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Waits for the process to exit, without reaping it (see the module
    /// documentation). Cancel-safe: dropping the future leaves the process
    /// to [`Drop`].
    pub async fn exited(&mut self) -> io::Result<()> {
        loop {
            if self.exited_seen || self.status.is_some() {
                return Ok(());
            }
            match &self.pidfd {
                // A pidfd becomes readable when its process has exited
                // (also if that was before it was registered), and for
                // nothing else. The status is read later (`reap`):
                // the readiness comes while the exiting process still holds
                // the kernel's task list lock, which `waitid` would spin on.
                Some(fd) => {
                    fd.readable().await?.retain_ready();
                    self.exited_seen = true;
                    return Ok(());
                }
                None => {
                    if self.peek(WaitIdOptions::NOHANG)?.is_some() {
                        self.exited_seen = true;
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    }

    /// Whether the process has exited (it may still be unreaped), asked
    /// without waiting.
    pub fn has_exited(&mut self) -> bool {
        if self.exited_seen || self.status.is_some() {
            return true;
        }
        self.exited_seen = matches!(self.peek(WaitIdOptions::NOHANG), Ok(Some(_)));
        self.exited_seen
    }

    /// The exit status, if the process has exited, leaving it unreaped;
    /// `flags` may add WNOHANG to return at once.
    fn peek(&self, flags: WaitIdOptions) -> io::Result<Option<ExitStatus>> {
        let Some(pid) = Pid::from_raw(self.pid) else {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        };
        // WNOWAIT leaves the child unreaped.
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | flags;
        let Some(status) = rustix::process::waitid(WaitId::Pid(pid), options)? else {
            return Ok(None);
        };
        // Encoded as waitpid does, so that ExitStatus decodes it.
        Ok(Some(ExitStatus::from_raw(
            match (status.exit_status(), status.terminating_signal()) {
                (Some(code), _) => (code & 0xff) << 8,
                (None, Some(signal)) if status.dumped() => (signal & 0x7f) | 0x80,
                (None, Some(signal)) => signal & 0x7f,
                (None, None) => 0,
            },
        )))
    }

    /// Reaps the process once it has exited ([`Process::exited`]), and
    /// returns its status. Blocks until then if it has not.
    pub fn reap(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = wait_for(self.pid)?;
        self.status = Some(status);
        Ok(status)
    }

    /// Whether the process was reaped.
    pub fn is_reaped(&self) -> bool {
        self.status.is_some()
    }

    /// Sends `signal` to every process of the command's group. Does nothing
    /// once the command is reaped: its pid, the group's id, may then belong
    /// to another process.
    pub fn signal_group(&self, signal: libc::c_int) {
        if self.status.is_some() {
            return;
        }
        // The group id is our unreaped child's pid, which cannot be reused
        // while the child is unreaped.
        if let (Some(group), Some(signal)) =
            (Pid::from_raw(self.pid), Signal::from_named_raw(signal))
        {
            // The child makes itself its group's leader before `execve`;
            // one that has not run that far yet is made so here, for the
            // signal to reach it (refused once it has called `execve`,
            // when it is set already). Here rather than after every spawn:
            // most commands are never signalled.
            let _ = rustix::process::setpgid(Some(group), Some(group));
            let _ = rustix::process::kill_process_group(group, signal);
        }
    }
}

impl Drop for Process {
    /// A process is handed to the reaper (`reaper.rs`) by its [`Tree`]
    /// rather than dropped unreaped; should one be dropped all the same, it
    /// is killed with its group and reaped if it has died, never waited
    /// for: a drop must not block the thread it runs on.
    ///
    /// [`Tree`]: super::tree::Tree
    fn drop(&mut self) {
        if self.status.is_none() {
            self.signal_group(libc::SIGKILL);
            // Only our own pid: `None` would wait for any child.
            if let Some(pid) = Pid::from_raw(self.pid) {
                let _ = rustix::process::waitpid(Some(pid), WaitOptions::NOHANG);
            }
        }
    }
}

/// Reaps our child `pid`, blocking until it has exited.
fn wait_for(pid: libc::pid_t) -> io::Result<ExitStatus> {
    // Only our own pid is waited for (never -1: see the module
    // documentation).
    let Some(child) = Pid::from_raw(pid) else {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    };
    loop {
        match rustix::process::waitpid(Some(child), WaitOptions::empty()) {
            Ok(Some((_, status))) => return Ok(ExitStatus::from_raw(status.as_raw())),
            Ok(None) => return Err(io::Error::from(io::ErrorKind::WouldBlock)),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn open_pidfd(pid: libc::pid_t) -> Option<AsyncFd<OwnedFd>> {
    let owned = rustix::process::pidfd_open(Pid::from_raw(pid)?, PidfdFlags::empty()).ok()?;
    register(owned)
}

/// A pidfd registered with the runtime's reactor.
fn register(pidfd: OwnedFd) -> Option<AsyncFd<OwnedFd>> {
    // SAFETY: `pidfd` is an open descriptor that the AsyncFd owns, and so
    // keeps open and unchanged, for its whole lifetime.
    unsafe { AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) }.ok()
}

/// How a finished command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Code(i32),
    Signal(i32),
}

impl From<ExitStatus> for Ending {
    fn from(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Code(code),
            (None, Some(signal)) => Ending::Signal(signal),
            (None, None) => Ending::Code(-1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A child held before it leads its own group (writing itself into a
    /// cgroup here, a full pipe nobody reads) still dies with its group:
    /// whoever signals the group first makes it the leader.
    #[test]
    fn a_child_that_has_not_made_its_group_yet_is_killed_with_it() {
        let (read, write) = rustix::pipe::pipe().unwrap();
        rustix::fs::fcntl_setfl(&write, rustix::fs::OFlags::NONBLOCK).unwrap();
        while rustix::io::write(&write, &[b'x'; 4096]).is_ok() {}
        rustix::fs::fcntl_setfl(&write, rustix::fs::OFlags::empty()).unwrap();
        let stdin = File::open("/dev/null").unwrap();
        let (c, script) = (Path::new("-c"), Path::new("exit 7"));
        let spawned = super::super::spawn::spawn(
            Path::new("/bin/sh"),
            &[c, script],
            &stdin,
            &[],
            super::super::spawn::Placement::Write(write.as_raw_fd()),
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut process, _pipes) = Process::spawned(spawned);
            process.signal_group(libc::SIGKILL);
            // Were it not killed, emptying the pipe would let it go on to
            // exit 7.
            drop(write);
            let mut read = File::from(read);
            let _ = std::io::Read::read_to_end(&mut read, &mut Vec::new());
            process.exited().await.unwrap();
            assert_eq!(process.reap().unwrap().signal(), Some(libc::SIGKILL));
        });
    }
}
