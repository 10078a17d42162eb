//! Runs one command the way scripts written for the original module expect.
//!
//! The protocol: `argv = [command, input, output, error]`, standard input is
//! the input file, exit 0 means the output file holds the answer, any other
//! exit means failure with the error file as the cause. The command runs
//! directly (never through a shell), in its own process group and, where
//! the host allows, its own cgroup (see [`cgroup`]), with a deadline:
//! SIGTERM to the group and the cgroup at the timeout, SIGKILL to both after
//! the grace period.
//!
//! A command's processes live as long as its call: when the command exits,
//! whatever it left running (a background job, a daemon) is killed before
//! the answer is read, so that the answer is final and nothing leaks. A
//! command that must start something long-lived hands it to the init system
//! (e.g. `systemd-run`).
//!
//! Everything the command controls is bounded: the bytes read from its
//! files and pipes, and the time spent draining pipes that an escaped
//! grandchild may keep open.

pub mod cgroup;
pub mod kernel;
pub mod owner;
pub(crate) mod process;
pub mod reaper;
mod spawn;
pub mod tempfiles;
pub(crate) mod tree;

use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::unix::pipe;

use crate::error::{CallError, ErrorKind};
pub use cgroup::{CgroupSetting, Containment};
use process::{Ending, Pipes, Process};
use reaper::{Outlived, Reason};
use tempfiles::{read_command_file, CallFiles, PrivateDir};
use tree::{Finished, Tree};

/// How much of stdout and stderr is kept for the log.
pub const CAPTURE_LIMIT: usize = 64 * 1024;
/// How much of the error file goes into the error message.
pub const CAUSE_LIMIT: u64 = 64 * 1024;
/// How long pipes are drained once the command has exited: a grandchild that
/// inherited them may keep them open for ever.
pub const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(200);
/// How long a command runs before its pipes are watched (read as it
/// writes); before that they are read once it has exited. Matches the
/// runtime's heartbeat, so that arming this wait wakes no worker while
/// commands run.
pub const PIPES_UNWATCHED: Duration = crate::runtime::HEARTBEAT;
/// How much later than its timeout plus the kill grace period a call
/// answers, at the most, whatever the command does.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(500);
/// The part of [`ANSWER_MARGIN`] a run waits for SIGKILL to take effect,
/// for leftovers to be killed and for pipes to be drained; the rest is for
/// the answer itself. A command still alive then (uninterruptible sleep, a
/// frozen cgroup) is left to the reaper (see [`reaper`]) and the run
/// answers a timeout.
pub const KILL_MARGIN: Duration = Duration::from_millis(300);

/// Process-wide settings of the runner.
#[derive(Debug)]
pub struct Runner {
    files: PrivateDir,
    containment: Containment,
    kill_grace: Duration,
    max_output_bytes: u64,
    outlived: Arc<Outlived>,
    /// Set by [`Runner::close`]: running commands are ended as at their
    /// timeout.
    closing: tokio::sync::watch::Sender<bool>,
}

/// One command to run.
#[derive(Debug)]
pub struct Invocation<'a> {
    /// The executable, resolved at load time.
    pub program: &'a Path,
    /// The command as configured, for messages.
    pub display: &'a str,
    /// The command's timeout, as configured.
    pub timeout: Duration,
    /// How long the call already waited for a command slot, which counts
    /// toward the timeout.
    pub queued: Duration,
    /// The input document.
    pub input: &'a [u8],
    /// Variables added to the inherited environment.
    pub env: &'a [(&'a str, &'a str)],
}

/// Up to [`CAPTURE_LIMIT`] bytes of a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub bytes: Vec<u8>,
    /// More was written than was kept.
    pub truncated: bool,
}

impl Captured {
    /// The text for a log line, or `None` if nothing was written.
    pub fn text(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.bytes);
        let text = text.trim_end();
        if text.is_empty() {
            None
        } else if self.truncated {
            Some(format!("{text} [truncated]"))
        } else {
            Some(text.to_string())
        }
    }
}

/// Everything a run produced.
#[derive(Debug)]
pub struct Report {
    /// The output file's content, or why there is none.
    pub result: Result<Vec<u8>, CallError>,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
    /// The process id, when the command started.
    pub pid: Option<i32>,
    /// Processes the command left running when it exited (found in its
    /// cgroup), killed then.
    pub leftovers: usize,
    /// Whether the command ran in its own cgroup (else: its process group
    /// only).
    pub contained: bool,
    /// The command's cgroup and its files.
    pub cleanup: Cleanup,
}

/// What a run still holds once its result is known: the command's cgroup
/// and its files (and the command, if the run ended early). Dropping it
/// releases the cgroup and removes the files; a caller that drops it only
/// after delivering the answer takes that work off the wait for it.
#[derive(Debug, Default)]
pub struct Cleanup {
    tree: Option<Tree>,
    files: Option<CallFiles>,
}

impl Cleanup {
    /// Whether there is nothing to release.
    pub fn is_empty(&self) -> bool {
        self.tree.is_none() && self.files.is_none()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(tree) = self.tree.take() {
            tree.close();
        }
        drop(self.files.take());
    }
}

impl Runner {
    /// A runner keeping its temp files in a private directory under
    /// `temp_directory`, with the default `command_cgroup` (`auto`).
    pub fn new(temp_directory: &Path, kill_grace: Duration, max_output_bytes: u64) -> Runner {
        Runner::configured(
            temp_directory,
            kill_grace,
            max_output_bytes,
            &CgroupSetting::Auto,
        )
    }

    /// A runner with an explicit `command_cgroup` setting. Removes what
    /// dead processes left in the temp directory and the cgroup root.
    pub fn configured(
        temp_directory: &Path,
        kill_grace: Duration,
        max_output_bytes: u64,
        cgroup: &CgroupSetting,
    ) -> Runner {
        Runner {
            files: PrivateDir::new(temp_directory),
            containment: Containment::new(cgroup),
            kill_grace,
            max_output_bytes,
            outlived: Arc::default(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Ends every command running now as if its timeout had passed
    /// (SIGTERM, the grace period, SIGKILL), and every later one at once:
    /// for a module being destroyed.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Starts a long-lived helper (see `service/`): `program` alone on its
    /// command line, `stdin` as its standard input, piped stdout and
    /// stderr, contained like a command (own process group and, where
    /// possible, own cgroup). Must be called within the runtime.
    pub(crate) fn spawn_helper(
        &self,
        program: &Path,
        display: &str,
        stdin: &std::fs::File,
        env: &[(&str, &str)],
    ) -> std::io::Result<(Tree, Pipes)> {
        self.spawn_tree(program, &[], stdin, env, display)
    }

    /// Spawns `program` with `args` in a fresh call cgroup (where
    /// containment allows), as the tree that owns it until it is reaped.
    fn spawn_tree(
        &self,
        program: &Path,
        args: &[&Path],
        stdin: &std::fs::File,
        env: &[(&str, &str)],
        display: &str,
    ) -> std::io::Result<(Tree, Pipes)> {
        let cgroup = self.containment.call_cgroup();
        let (process, pipes) = Process::spawn(program, args, stdin, env, cgroup.as_ref())?;
        Ok((Tree::new(process, cgroup, display, &self.outlived), pipes))
    }

    /// The grace period between SIGTERM and SIGKILL.
    pub fn kill_grace(&self) -> Duration {
        self.kill_grace
    }

    /// Whether [`Runner::close`] was called.
    pub fn is_closed(&self) -> bool {
        *self.closing.borrow()
    }

    /// The commands that outlived their call (see [`reaper`]).
    pub fn outlived(&self) -> &Outlived {
        &self.outlived
    }

    /// How commands are contained, to log at load time.
    pub fn containment(&self) -> &Containment {
        &self.containment
    }

    /// The private directory holding the calls' files, once created.
    pub fn temp_directory(&self) -> Option<std::path::PathBuf> {
        self.files.current()
    }

    /// Runs one command to completion. Must be polled within the runtime.
    /// Cancel-safe: dropping the future kills the command's group and
    /// cgroup, reaps it and removes its files.
    pub async fn run(&self, invocation: &Invocation<'_>) -> Report {
        let _running = crate::runtime::Running::new();
        let started = Instant::now();
        let mut report = Report {
            result: Ok(Vec::new()),
            stdout: Captured::default(),
            stderr: Captured::default(),
            elapsed: Duration::ZERO,
            pid: None,
            leftovers: 0,
            contained: false,
            cleanup: Cleanup::default(),
        };
        report.result = self.run_inner(invocation, &mut report).await;
        report.elapsed = started.elapsed();
        report
    }

    async fn run_inner(
        &self,
        invocation: &Invocation<'_>,
        report: &mut Report,
    ) -> Result<Vec<u8>, CallError> {
        let display = invocation.display;
        let timeout = invocation.timeout.saturating_sub(invocation.queued);
        // Whatever the command does, the run returns by then.
        let bound = tokio::time::Instant::now() + timeout + self.kill_grace + KILL_MARGIN;
        let mut files = self.files.create(invocation.input)?;
        let (mut tree, pipes) = self
            .spawn_tree(
                invocation.program,
                &[&files.input, &files.output, &files.error],
                files.stdin(),
                invocation.env,
                display,
            )
            .map_err(|e| could_not_start(display, &e))?;
        report.pid = Some(tree.pid());
        report.contained = tree.contained();

        // Most commands exit long before they could fill a pipe, so the
        // pipes are not watched at first: a watched pipe wakes the runtime
        // when the command closes it on exit, next to the pidfd's own
        // wake-up, and its read then contends with the exiting command. They
        // are read once the command has exited, or watched from
        // PIPES_UNWATCHED on, so that a chatty command never blocks long.
        let first = timeout.min(PIPES_UNWATCHED);
        let (waited, finished, open) = match tokio::time::timeout(first, tree.exited()).await {
            Ok(exited) => {
                // The pipes first: what a leftover still holds open is
                // drained below, once `finish` has killed it.
                let open = [
                    !read_available(&pipes.stdout, &mut report.stdout),
                    !read_available(&pipes.stderr, &mut report.stderr),
                ];
                let finished = end(&mut tree, display, &mut report.contained, bound).await;
                (exited.map_err(Waited::Io), Some(finished), open)
            }
            Err(_still_running) => {
                let rest = timeout.saturating_sub(first);
                self.watch_pipes(&mut tree, display, rest, bound, &pipes, report)
                    .await
            }
        };
        // The command is gone; its pipes may still be held by a process
        // that escaped (without a cgroup): what they give within
        // DRAIN_AFTER_EXIT, and within the bound, is kept.
        if open.iter().any(|&o| o) {
            let (stdout, stderr) = (&mut report.stdout, &mut report.stderr);
            let drain = async {
                if open[0] {
                    capture(&pipes.stdout, stdout).await;
                }
                if open[1] {
                    capture(&pipes.stderr, stderr).await;
                }
            };
            let until = bound.min(tokio::time::Instant::now() + DRAIN_AFTER_EXIT);
            let _ = tokio::time::timeout_at(until, drain).await;
        }

        let Some(finished) = finished else {
            // Killed, and not dead by the bound: the reaper waits for it.
            tree.abandon(Reason::Unkillable);
            return Err(timed_out(invocation, true));
        };
        let finished = finished.map_err(Waited::Io);
        if let (Ok(()), Ok(f)) = (&waited, &finished) {
            // Only a command that exited by itself left something behind.
            report.leftovers = f.leftovers;
        }
        if let Some(e) = tree.launch_failure() {
            return Err(could_not_start(display, &e));
        }
        let ending = waited.and(finished).map_err(|e| match e {
            Waited::TimedOut => timed_out(invocation, false),
            Waited::Io(e) => CallError::new(
                ErrorKind::Internal,
                format!("waiting for command \"{display}\" failed: {e}"),
            ),
        })?;

        // Nothing the command started is left: its files may serve a later
        // call.
        files.set_reusable(tree.nothing_left());
        let result = match Ending::from(ending.status) {
            Ending::Code(0) => {
                let content = files
                    .read_output(self.max_output_bytes)
                    .map_err(|e| e.context(format!("Command \"{display}\"")))?;
                if content.truncated {
                    return Err(CallError::new(
                        ErrorKind::BadOutput,
                        format!(
                            "Command \"{display}\" wrote more than {} bytes to its output file \
                             (max_output_bytes)",
                            self.max_output_bytes
                        ),
                    ));
                }
                Ok(content.bytes)
            }
            Ending::Code(code) => Err(CallError::new(
                ErrorKind::ExitStatus,
                format!(
                    "Command \"{display}\" exited with return code {code}.{}",
                    cause(&files.error)
                ),
            )),
            Ending::Signal(signal) => Err(CallError::new(
                ErrorKind::Signal,
                format!(
                    "Command \"{display}\" exited via signal {signal}.{}",
                    cause(&files.error)
                ),
            )),
        };
        report.cleanup = Cleanup {
            tree: Some(tree),
            files: Some(files),
        };
        result
    }

    /// Waits for a command that did not exit within PIPES_UNWATCHED, reading
    /// its pipes meanwhile; returns how the wait and the finish went (no
    /// finish for a command still alive at `bound`) and which pipes are
    /// still open.
    async fn watch_pipes(
        &self,
        tree: &mut Tree,
        display: &str,
        timeout: Duration,
        bound: tokio::time::Instant,
        pipes: &Pipes,
        report: &mut Report,
    ) -> (
        Result<(), Waited>,
        Option<std::io::Result<Finished>>,
        [bool; 2],
    ) {
        let (stdout, stderr) = (&mut report.stdout, &mut report.stderr);
        let stdout_reader = capture(&pipes.stdout, stdout);
        let stderr_reader = capture(&pipes.stderr, stderr);
        let contained = &mut report.contained;
        let ending = async {
            let waited = self.wait_with_deadline(tree, timeout, bound).await;
            let finished = match waited {
                Some(_) => Some(end(tree, display, contained, bound).await),
                None => None,
            };
            (waited.unwrap_or(Err(Waited::TimedOut)), finished)
        };
        tokio::pin!(stdout_reader, stderr_reader, ending);
        let (mut stdout_read, mut stderr_read) = (false, false);
        let (waited, finished) = loop {
            tokio::select! {
                biased;
                ended = &mut ending => break ended,
                () = &mut stdout_reader, if !stdout_read => stdout_read = true,
                () = &mut stderr_reader, if !stderr_read => stderr_read = true,
            }
        };
        (waited, finished, [!stdout_read, !stderr_read])
    }

    /// Waits for the command to exit; past `timeout`, SIGTERM to its group
    /// and cgroup, and after the grace period (or as soon as all of them are
    /// gone) SIGKILL to whatever is left. `None` if the command is still
    /// alive at `bound`.
    async fn wait_with_deadline(
        &self,
        tree: &mut Tree,
        timeout: Duration,
        bound: tokio::time::Instant,
    ) -> Option<Result<(), Waited>> {
        let mut closing = self.closing.subscribe();
        tokio::select! {
            waited = tokio::time::timeout(timeout, tree.exited()) => {
                if let Ok(exited) = waited {
                    return Some(exited.map_err(Waited::Io));
                }
            }
            _ = closing.wait_for(|&closed| closed) => {}
        }
        tree.signal(libc::SIGTERM);
        let _ = tokio::time::timeout(self.kill_grace, tree.gone()).await;
        tree.signal(libc::SIGKILL);
        match tokio::time::timeout_at(bound, tree.exited()).await {
            Ok(Ok(())) => Some(Err(Waited::TimedOut)),
            Ok(Err(e)) => Some(Err(Waited::Io(e))),
            Err(_still_alive) => None,
        }
    }
}

fn timed_out(invocation: &Invocation<'_>, still_alive: bool) -> CallError {
    // Said when it took a real part of the timeout; a shorter wait is
    // scheduling noise (a slot freed while the call looked for one).
    let queued = if invocation.queued >= (invocation.timeout / 10).max(Duration::from_millis(10)) {
        format!(
            " (of which {} waiting for a command slot)",
            seconds(invocation.queued)
        )
    } else {
        String::new()
    };
    let after = if still_alive {
        "; it has not died yet (uninterruptible sleep or a frozen cgroup) and will be reaped \
         when it does"
    } else {
        ""
    };
    CallError::new(
        ErrorKind::Timeout,
        format!(
            "Command \"{}\" took too long to execute: timed out after {}{queued} and was killed\
             {after}",
            invocation.display,
            seconds(invocation.timeout)
        ),
    )
}

fn could_not_start(display: &str, e: &std::io::Error) -> CallError {
    CallError::new(
        ErrorKind::Spawn,
        format!("Command \"{display}\" could not be started: {e}"),
    )
}

/// Ends the command's part of a call once it has exited: a command that
/// could not join its cgroup ran contained by its process group only,
/// which is said (with what that loses) and recorded in `contained`; then
/// nothing the command started outlives the call (what will not die by
/// `bound` is left to the reaper).
async fn end(
    tree: &mut Tree,
    display: &str,
    contained: &mut bool,
    bound: tokio::time::Instant,
) -> std::io::Result<Finished> {
    if let Some((e, path)) = tree.settle_placement() {
        log::warn!(
            "command \"{display}\" could not be placed in {} ({e}); for this call, {}",
            path.display(),
            cgroup::FALLBACK_CONSEQUENCE
        );
        *contained = false;
    }
    let within = bound.saturating_duration_since(tokio::time::Instant::now());
    tree.finish(within).await
}

enum Waited {
    TimedOut,
    Io(std::io::Error),
}

/// Reads a pipe to its end into `captured` (see [`keep`]), so that a
/// chatty command never blocks on a full pipe. What was read stays in
/// `captured` if the future is dropped before the end.
async fn capture(fd: &OwnedFd, captured: &mut Captured) {
    // The pipe is ours and non-blocking (see `spawn::pipe`); a duplicate,
    // so that the call keeps the original.
    let Ok(receiver) = fd
        .try_clone()
        .and_then(pipe::Receiver::from_owned_fd_unchecked)
    else {
        return;
    };
    let mut buffer = [0u8; 8192];
    loop {
        match receiver.readable().await {
            Ok(()) => match receiver.try_read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => keep(captured, &buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            },
            Err(_) => return,
        }
    }
}

/// Reads what a non-blocking pipe holds now into `captured`; true if it
/// reached the end (every writer gone).
fn read_available(fd: &OwnedFd, captured: &mut Captured) -> bool {
    let mut buffer = [0u8; 8192];
    loop {
        match rustix::io::read(fd, &mut buffer) {
            Ok(0) => return true,
            Ok(n) => keep(captured, &buffer[..n]),
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
}

/// Keeps the first [`CAPTURE_LIMIT`] bytes and counts the rest as
/// truncated.
fn keep(captured: &mut Captured, bytes: &[u8]) {
    let room = CAPTURE_LIMIT - captured.bytes.len();
    captured
        .bytes
        .extend_from_slice(&bytes[..bytes.len().min(room)]);
    captured.truncated |= bytes.len() > room;
}

fn cause(error_file: &Path) -> String {
    match read_command_file(error_file, "error", CAUSE_LIMIT) {
        Ok(content) => {
            let text = String::from_utf8_lossy(&content.bytes);
            let text = text.trim_end();
            match (text.is_empty(), content.truncated) {
                (true, _) => String::new(),
                (false, false) => format!(" Cause: {text}"),
                (false, true) => format!(" Cause: {text} [truncated]"),
            }
        }
        Err(e) => format!(" (its error file could not be read: {e})"),
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}
