//! One run of a service helper: its process (contained like a command),
//! a task writing requests to its standard input, one reading responses
//! from its standard output and one turning its standard error into log
//! lines.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use super::protocol::{self, Refusal, Response, INITIALIZE_ID};
use super::Shared;
use crate::module::{ENV_METHOD, ENV_MODULE};
use crate::runner::process::{Ending, Pipes};
use crate::runner::reaper::Reason;
use crate::runner::tree::Tree;
use crate::runner::{CAPTURE_LIMIT, KILL_MARGIN};

/// How long after its output closes a helper that is exiting has exited.
const EXIT_AFTER_EOF: Duration = Duration::from_millis(100);

/// Set in the helper's environment: it runs as a service.
pub const ENV_SERVICE: &str = "MESOS_COMMAND_SERVICE";

/// Answers owed to callers, by request id.
pub(super) type PendingMap = HashMap<u64, oneshot::Sender<Result<Vec<u8>, Refusal>>>;
pub(super) type Pending = Mutex<PendingMap>;

/// What callers use to reach a running helper.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) stdin: Arc<Stdin>,
    pub(super) pending: Arc<Pending>,
}

/// The helper's standard input. A request is written by the caller itself
/// when the pipe has room (no task woken for it); what does not fit waits
/// in `pending`, in order, for the flushing task.
#[derive(Debug)]
pub(super) struct Stdin {
    state: Mutex<StdinState>,
    /// Told when `pending` has bytes, or the input is to be closed.
    wake: Notify,
}

#[derive(Debug)]
struct StdinState {
    /// `None` once closed (EOF for the helper, or it went away).
    pipe: Option<Arc<pipe::Sender>>,
    pending: Vec<u8>,
}

impl Stdin {
    /// Queues `line`, writing what it can at once; an error if the input
    /// is closed.
    pub(super) fn send(&self, line: &[u8]) -> Result<(), ()> {
        let mut state = lock(&self.state);
        let Some(pipe) = state.pipe.clone() else {
            return Err(());
        };
        if state.pending.is_empty() {
            match pipe.try_write(line) {
                Ok(n) if n == line.len() => return Ok(()),
                Ok(n) => state.pending.extend_from_slice(&line[n..]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    state.pending.extend_from_slice(line)
                }
                Err(_) => {
                    state.pipe = None;
                    return Err(());
                }
            }
        } else {
            state.pending.extend_from_slice(line);
        }
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    /// Closes the input: the helper reads its end.
    fn close(&self) {
        lock(&self.state).pipe = None;
        self.wake.notify_one();
    }
}

/// A running helper.
pub(super) struct Helper {
    tree: Tree,
    pid: i32,
    /// Its standard input, closed at a graceful stop (EOF).
    stdin: Arc<Stdin>,
    /// Told when the helper's standard output has reached its end.
    stdout_closed: oneshot::Receiver<()>,
    tasks: Vec<JoinHandle<()>>,
}

/// Why a helper stopped serving.
pub(super) enum Down {
    /// Its process exited (or was killed from outside).
    Exited,
    /// It closed its standard output.
    StdoutClosed,
    /// It left requests unanswered past their timeout.
    Unanswered(usize),
    /// The module is being destroyed.
    Closing,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the helper and has it answer `initialize`; the error says why it
/// could not be started.
pub(super) async fn start(shared: &Arc<Shared>) -> Result<(Helper, Arc<Link>), String> {
    let (stdin_read, stdin_write) = stdin_pipe().map_err(|e| format!("no pipe: {e}"))?;
    let config = &shared.config;
    let env = [
        (ENV_MODULE, shared.module.as_str()),
        (ENV_METHOD, "service"),
        (ENV_SERVICE, "1"),
    ];
    let spawned = shared
        .runner
        .spawn_helper(&config.path, &config.configured, &stdin_read, &env);
    // The helper has its own copy: ours would keep the pipe open after the
    // helper's death.
    drop(stdin_read);
    let (tree, pipes) = spawned.map_err(|e| format!("could not be started: {e}"))?;
    let pid = tree.pid();
    let Pipes { stdout, stderr } = pipes;
    let pending: Arc<Pending> = Arc::default();
    let stdin = Arc::new(Stdin {
        state: Mutex::new(StdinState {
            pipe: pipe::Sender::from_owned_fd(stdin_write).ok().map(Arc::new),
            pending: Vec::new(),
        }),
        wake: Notify::new(),
    });
    let (closed, stdout_closed) = oneshot::channel();
    let label = format!("[{} service]", shared.module);
    let mut tasks = vec![tokio::spawn(flush(Arc::clone(&stdin)))];
    if let Ok(stdout) = pipe::Receiver::from_owned_fd_unchecked(stdout) {
        let (pending, shared) = (Arc::clone(&pending), Arc::clone(shared));
        tasks.push(tokio::spawn(async move {
            read_responses(stdout, &pending, &shared).await;
            let _ = closed.send(());
        }));
    }
    if let Ok(stderr) = pipe::Receiver::from_owned_fd_unchecked(stderr) {
        tasks.push(tokio::spawn(log_stderr(stderr, label)));
    }
    let mut helper = Helper {
        tree,
        pid,
        stdin: Arc::clone(&stdin),
        stdout_closed,
        tasks,
    };
    let link = Arc::new(Link { stdin, pending });

    let (tx, rx) = oneshot::channel();
    lock(&link.pending).insert(INITIALIZE_ID, tx);
    let line = protocol::initialize(&shared.module, shared.kind, &config.methods);
    let _ = link.stdin.send(line.as_bytes());
    let mut closing = shared.closing.subscribe();
    let answered = tokio::select! {
        answer = tokio::time::timeout(config.startup_timeout, rx) => match answer {
            Ok(Ok(Ok(_))) => Ok(()),
            Ok(Ok(Err(refusal))) => Err(Unstarted::Refused(match refusal {
                Refusal::Error(message) => format!("answered initialize with an error: {message}"),
                Refusal::TooLong { length, max } => format!(
                    "answered initialize with a line of {length} bytes or more, over \
                     max_output_bytes ({max})"
                ),
            })),
            Ok(Err(_)) => Err(Unstarted::Refused("stopped before it answered initialize".to_string())),
            Err(_) => Err(Unstarted::Refused(format!(
                "did not answer initialize within service_startup_timeout ({}s)",
                config.startup_timeout.as_secs_f64()
            ))),
        },
        _ = helper.tree.exited() => Err(Unstarted::Exited),
        _ = closing.wait_for(|&closed| closed) => Err(Unstarted::Closing),
    };
    match answered {
        Ok(()) => Ok((helper, link)),
        Err(Unstarted::Exited) => {
            let ended = helper.kill().await.said(false);
            Err(format!("exited before it answered initialize{ended}"))
        }
        // Destroyed while it starts: stopped as a helper that serves is.
        Err(Unstarted::Closing) => {
            let ended = helper.stop(shared.runner.kill_grace()).await.said(false);
            Err(format!(
                "was stopped before it answered initialize: the module is being destroyed{ended}"
            ))
        }
        Err(Unstarted::Refused(cause)) => {
            let ended = helper.kill().await.said(true);
            Err(format!("{cause}{ended}; it was killed"))
        }
    }
}

/// Why a helper did not start serving.
enum Unstarted {
    /// Its answer to `initialize`, or none in time: the cause.
    Refused(String),
    Exited,
    Closing,
}

/// How a helper's process ended, once it was stopped.
pub(super) enum Ended {
    Status(Ending),
    /// Reaped, but its status could not be read.
    Unknown,
    /// It did not die in time: the reaper has it.
    NotYet,
}

impl Ended {
    /// For the log, after a cause: how it ended, in parentheses, unless
    /// it is the SIGKILL the module sent (`killed`).
    pub(super) fn said(&self, killed: bool) -> String {
        match self {
            Ended::Status(Ending::Signal(libc::SIGKILL)) if killed => String::new(),
            Ended::Status(Ending::Code(code)) => format!(" (exit status {code})"),
            Ended::Status(Ending::Signal(signal)) => format!(" (killed by signal {signal})"),
            Ended::Unknown => String::new(),
            Ended::NotYet => " (it has not died yet; it will be reaped when it does)".to_string(),
        }
    }
}

impl Helper {
    pub(super) fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits until the helper stops serving, for whatever reason.
    pub(super) async fn until_down(&mut self, shared: &Shared) -> Down {
        let mut closing = shared.closing.subscribe();
        let down = loop {
            tokio::select! {
                _ = self.tree.exited() => break Down::Exited,
                _ = &mut self.stdout_closed => break Down::StdoutClosed,
                _ = shared.restart_now.notified() => {
                    // A permit left from the helper before this one (the
                    // count restarts at each start) is not this one's fault.
                    let row = shared.unanswered.load(Ordering::Relaxed);
                    if row >= shared.config.unanswered_limit {
                        break Down::Unanswered(row);
                    }
                }
                _ = closing.wait_for(|&closed| closed) => break Down::Closing,
            }
        };
        if matches!(down, Down::StdoutClosed) {
            // A helper that exits closes its output too: say which.
            let exited = tokio::time::timeout(EXIT_AFTER_EOF, self.tree.exited()).await;
            if exited.is_ok() {
                return Down::Exited;
            }
        }
        down
    }

    /// Kills the helper's whole tree at once (it crashed or stopped
    /// answering) and reaps it; returns how it ended, for the log.
    pub(super) async fn kill(self) -> Ended {
        self.tree.signal(libc::SIGKILL);
        self.end(KILL_MARGIN).await
    }

    /// Stops the helper as a module being destroyed does: EOF on its
    /// standard input, SIGTERM after the grace period, SIGKILL after
    /// another.
    pub(super) async fn stop(mut self, grace: Duration) -> Ended {
        self.stdin.close();
        if tokio::time::timeout(grace, self.tree.exited())
            .await
            .is_err()
        {
            self.tree.signal(libc::SIGTERM);
            if tokio::time::timeout(grace, self.tree.gone()).await.is_err() {
                self.tree.signal(libc::SIGKILL);
            }
        }
        self.end(KILL_MARGIN).await
    }

    /// Waits (at most `within`) for the helper to die, reaps it and kills
    /// what it left; one that does not die goes to the reaper.
    async fn end(mut self, within: Duration) -> Ended {
        for task in &self.tasks {
            task.abort();
        }
        if tokio::time::timeout(within, self.tree.exited())
            .await
            .is_err()
        {
            self.tree.abandon(Reason::Unkillable);
            return Ended::NotYet;
        }
        let ended = match self.tree.finish(within).await {
            Ok(finished) => Ended::Status(Ending::from(finished.status)),
            Err(_) => Ended::Unknown,
        };
        self.tree.close();
        ended
    }
}

/// The helper's standard input: the read end (blocking, for the child)
/// and the write end (non-blocking, for the runtime). Both close on exec.
fn stdin_pipe() -> std::io::Result<(File, OwnedFd)> {
    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors that we own from here on.
    let (read, write) = unsafe { (File::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
    // SAFETY: sets a flag on our own descriptor.
    if unsafe { libc::fcntl(ends[1], libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((read, write))
}

/// Writes what callers could not write at once, in order, as the pipe
/// takes it, until the input is closed.
async fn flush(stdin: Arc<Stdin>) {
    loop {
        stdin.wake.notified().await;
        loop {
            let pipe = {
                let mut state = lock(&stdin.state);
                let Some(pipe) = state.pipe.clone() else {
                    return;
                };
                if state.pending.is_empty() {
                    break;
                }
                match pipe.try_write(&state.pending) {
                    Ok(n) => {
                        state.pending.drain(..n);
                        continue;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => pipe,
                    Err(_) => {
                        state.pipe = None;
                        return;
                    }
                }
            };
            if pipe.writable().await.is_err() {
                lock(&stdin.state).pipe = None;
                return;
            }
        }
    }
}

/// Delivers each response line to the call waiting for it; what is not a
/// response to a pending request is logged and counted. A line over
/// `max_output_bytes` fails the call it answers, when its start names one,
/// as a script's output over the limit does.
async fn read_responses(stdout: pipe::Receiver, pending: &Pending, shared: &Shared) {
    let max = usize::try_from(shared.max_output_bytes).unwrap_or(usize::MAX);
    let mut lines = Lines::new(stdout, max);
    while let Some(line) = lines.next().await {
        let problem = match line {
            Err(Skipped { length, start }) => {
                let too_long = format!(
                    "a line of {length} bytes or more, over max_output_bytes ({max}); it was \
                     skipped"
                );
                // Counted and logged as well: the call's error says what
                // it got, this line that the helper wrote it.
                let caller = protocol::id_in_start(&start).and_then(|id| lock(pending).remove(&id));
                if let Some(caller) = caller {
                    let _ = caller.send(Err(Refusal::TooLong { length, max }));
                }
                too_long
            }
            Ok(line) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(line) => match protocol::response(&line) {
                Ok(Response { id, outcome }) => match lock(pending).remove(&id) {
                    Some(caller) => {
                        let _ = caller.send(outcome.map_err(Refusal::Error));
                        continue;
                    }
                    None => format!("a response to id {id}, which no call is waiting for"),
                },
                Err(e) => format!(
                    "a line that is not a JSON-RPC response ({e}): {}",
                    shown(&line)
                ),
            },
        };
        shared.bad_lines.fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "[{} service] \"{}\" wrote {problem}",
            shared.module,
            shared.config.configured
        );
    }
}

/// At most 200 characters of a line, for the log.
fn shown(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.into_owned(),
    }
}

/// Logs each line of the helper's standard error.
async fn log_stderr(stderr: pipe::Receiver, label: String) {
    let mut lines = Lines::new(stderr, CAPTURE_LIMIT);
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end();
                if !text.is_empty() {
                    log::info!("{label} stderr: {text}");
                }
            }
            Err(Skipped { length, .. }) => {
                log::info!("{label} stderr: a line of {length} bytes or more [skipped]")
            }
        }
    }
}

/// A line longer than the limit, skipped: its length (so far) and its
/// first bytes, which may say which request it answers.
struct Skipped {
    length: usize,
    start: Vec<u8>,
}

/// How much of a skipped line is kept to find its id in.
const SKIPPED_START: usize = 4096;

/// The lines of a pipe, each at most `max` bytes: a longer one is skipped
/// whole and reported by its length (so far) and its start.
struct Lines {
    pipe: pipe::Receiver,
    chunk: Box<[u8]>,
    buffer: Vec<u8>,
    max: usize,
    /// An over-long line being skipped: its bytes so far and its start.
    skipped: Option<Skipped>,
    ended: bool,
}

impl Lines {
    fn new(pipe: pipe::Receiver, max: usize) -> Lines {
        Lines {
            pipe,
            chunk: vec![0u8; 64 * 1024].into_boxed_slice(),
            buffer: Vec::new(),
            max,
            skipped: None,
            ended: false,
        }
    }

    /// Skips `bytes` of the current line.
    fn skip(&mut self, bytes: &[u8]) {
        let skipped = self.skipped.get_or_insert_with(|| Skipped {
            length: 0,
            start: bytes[..bytes.len().min(SKIPPED_START)].to_vec(),
        });
        skipped.length += bytes.len();
    }

    async fn next(&mut self) -> Option<Result<Vec<u8>, Skipped>> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop();
                if self.skipped.is_some() || line.len() > self.max {
                    self.skip(&line);
                    return self.skipped.take().map(Err);
                }
                return Some(Ok(line));
            }
            if self.buffer.len() > self.max {
                let buffer = std::mem::take(&mut self.buffer);
                self.skip(&buffer);
            }
            if self.ended {
                if self.skipped.is_some() {
                    let buffer = std::mem::take(&mut self.buffer);
                    self.skip(&buffer);
                    return self.skipped.take().map(Err);
                }
                if self.buffer.is_empty() {
                    return None;
                }
                return Some(Ok(std::mem::take(&mut self.buffer)));
            }
            match self.pipe.read(&mut self.chunk).await {
                Ok(0) | Err(_) => self.ended = true,
                Ok(n) => self.buffer.extend_from_slice(&self.chunk[..n]),
            }
        }
    }
}
