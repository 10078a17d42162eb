//! Runs one command the way scripts written for the original module expect.
//!
//! The protocol: `argv = [command, input, output, error]`, standard input is
//! the input file, exit 0 means the output file holds the answer, any other
//! exit means failure with the error file as the cause. The command runs
//! directly (never through a shell), in its own process group, with a
//! deadline: SIGTERM to the group at the timeout, SIGKILL after the grace
//! period. Everything the command controls is bounded: the bytes read from
//! its files and pipes, and the time spent draining pipes that an escaped
//! grandchild may keep open.

mod process;
pub mod tempfiles;

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

use crate::error::{CallError, ErrorKind};
use process::{Ending, Process};
use tempfiles::{read_command_file, PrivateDir};

/// How much of stdout and stderr is kept for the log.
pub const CAPTURE_LIMIT: usize = 64 * 1024;
/// How much of the error file goes into the error message.
pub const CAUSE_LIMIT: u64 = 64 * 1024;
/// How long pipes are drained once the command has exited: a grandchild that
/// inherited them may keep them open for ever.
pub const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(200);

/// Process-wide settings of the runner.
#[derive(Debug)]
pub struct Runner {
    files: PrivateDir,
    kill_grace: Duration,
    max_output_bytes: u64,
}

/// One command to run.
#[derive(Debug)]
pub struct Invocation<'a> {
    /// The executable, resolved at load time.
    pub program: &'a Path,
    /// The command as configured, for messages.
    pub display: &'a str,
    pub timeout: Duration,
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
}

impl Runner {
    /// A runner keeping its temp files in a private directory under
    /// `temp_directory`.
    pub fn new(temp_directory: &Path, kill_grace: Duration, max_output_bytes: u64) -> Runner {
        Runner {
            files: PrivateDir::new(temp_directory),
            kill_grace,
            max_output_bytes,
        }
    }

    /// Runs one command to completion. Must be polled within the runtime.
    /// Cancel-safe: dropping the future kills the command's group, reaps it
    /// and removes its files.
    pub async fn run(&self, invocation: &Invocation<'_>) -> Report {
        let started = Instant::now();
        let mut stdout = Captured::default();
        let mut stderr = Captured::default();
        let mut pid = None;
        let result = self
            .run_inner(invocation, &mut stdout, &mut stderr, &mut pid)
            .await;
        Report {
            result,
            stdout,
            stderr,
            elapsed: started.elapsed(),
            pid,
        }
    }

    async fn run_inner(
        &self,
        invocation: &Invocation<'_>,
        stdout: &mut Captured,
        stderr: &mut Captured,
        pid: &mut Option<i32>,
    ) -> Result<Vec<u8>, CallError> {
        let display = invocation.display;
        let files = self.files.create(invocation.input)?;
        let stdin = files.open_input()?;
        let (mut process, pipes) = Process::spawn(
            invocation.program,
            &[&files.input, &files.output, &files.error],
            stdin,
            invocation.env,
        )
        .map_err(|e| {
            CallError::new(
                ErrorKind::Spawn,
                format!("Command \"{display}\" could not be started: {e}"),
            )
        })?;
        *pid = Some(process.pid());

        let mut readers = Readers([
            Some(tokio::spawn(capture(OwnedFd::from(pipes.stdout)))),
            Some(tokio::spawn(capture(OwnedFd::from(pipes.stderr)))),
        ]);
        let waited = self
            .wait_with_deadline(&mut process, invocation.timeout)
            .await;

        // The command is gone; its pipes may still be held by a grandchild.
        let drain_deadline = tokio::time::Instant::now() + DRAIN_AFTER_EXIT;
        for (slot, captured) in readers.0.iter_mut().zip([&mut *stdout, &mut *stderr]) {
            if let Some(reader) = slot.as_mut() {
                if let Ok(Ok(c)) = tokio::time::timeout_at(drain_deadline, reader).await {
                    *captured = c;
                    *slot = None;
                }
            }
        }
        drop(readers);

        let ending = waited.map_err(|e| match e {
            Waited::TimedOut => CallError::new(
                ErrorKind::Timeout,
                format!(
                    "Command \"{display}\" took too long to execute: timed out after {} and was \
                     killed",
                    seconds(invocation.timeout)
                ),
            ),
            Waited::Io(e) => CallError::new(
                ErrorKind::Internal,
                format!("waiting for command \"{display}\" failed: {e}"),
            ),
        })?;

        match ending {
            Ending::Code(0) => {
                let content = read_command_file(&files.output, "output", self.max_output_bytes)
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
        }
    }

    /// Waits for the exit; past `timeout`, SIGTERM to the group, then after
    /// the grace period SIGKILL to whatever is left of the group.
    async fn wait_with_deadline(
        &self,
        process: &mut Process,
        timeout: Duration,
    ) -> Result<Ending, Waited> {
        match tokio::time::timeout(timeout, process.wait()).await {
            Ok(status) => return status.map(Ending::from).map_err(Waited::Io),
            Err(_elapsed) => process.signal_group(libc::SIGTERM),
        }
        let _ = tokio::time::timeout(self.kill_grace, process.wait()).await;
        // Also reaches members of the group that outlived its leader.
        process.signal_group(libc::SIGKILL);
        process.wait().await.map_err(Waited::Io)?;
        Err(Waited::TimedOut)
    }
}

/// The tasks draining stdout and stderr, aborted when dropped: on every
/// path, including a cancelled call, none outlives the call, even if an
/// escaped grandchild keeps the pipes open for ever.
struct Readers([Option<tokio::task::JoinHandle<Captured>>; 2]);

impl Drop for Readers {
    fn drop(&mut self) {
        for reader in self.0.iter().flatten() {
            reader.abort();
        }
    }
}

enum Waited {
    TimedOut,
    Io(std::io::Error),
}

/// Reads a pipe to its end, keeping the first [`CAPTURE_LIMIT`] bytes and
/// discarding the rest, so that a chatty command never blocks on a full pipe.
async fn capture(fd: OwnedFd) -> Captured {
    let mut captured = Captured::default();
    let Ok(mut receiver) = pipe::Receiver::from_owned_fd(fd) else {
        return captured;
    };
    let mut buffer = [0u8; 8192];
    loop {
        match receiver.read(&mut buffer).await {
            Ok(0) | Err(_) => return captured,
            Ok(n) => {
                let room = CAPTURE_LIMIT - captured.bytes.len();
                captured.bytes.extend_from_slice(&buffer[..n.min(room)]);
                captured.truncated |= n > room;
            }
        }
    }
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
