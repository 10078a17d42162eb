//! The one runtime that runs every command of every module instance.
//!
//! Two worker threads drive all commands in flight and all watch loops
//! through one reactor (child exits arrive as pidfd readiness), and at most
//! two more threads take the rare blocking work (fsync of checkpoints). The
//! thread count therefore stays constant whatever the number of containers
//! or commands, which matters inside an agent that runs thousands of them.
//! A call starts on the thread that makes it ([`start`]) and only its
//! completion runs on a worker.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};

/// Worker threads driving commands and timers.
pub const WORKER_THREADS: usize = 2;
/// Threads for blocking file work.
pub const BLOCKING_THREADS: usize = 2;

/// The process-wide runtime, started on first use.
///
/// # Panics
/// If the operating system refuses to create its threads; callers on the
/// bridge run under a panic guard that turns this into an error.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .max_blocking_threads(BLOCKING_THREADS)
            .thread_name("mesos-cmd-mod")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the command runtime: {e}"));
        runtime.spawn(heartbeat());
        runtime
    })
}

/// How far ahead the timer driver always has a wake-up planned.
pub const HEARTBEAT: Duration = Duration::from_millis(100);

/// Keeps a timer due within [`HEARTBEAT`] while commands run.
///
/// Every call arms a timer (see `runner::PIPES_UNWATCHED`). When the timer
/// driver sleeps with nothing planned, or planned later than that timer,
/// arming it from a caller's thread must wake a worker just to shorten that
/// sleep: a wake-up and two context switches per call, for nothing. With a
/// wake-up always planned within HEARTBEAT, timers of at least that length
/// never wake the driver. The price, ten wake-ups a second of one worker
/// (about 1.5 ms of CPU a second in all on the bench's VM), is paid only
/// while commands run: at the first tick with none running the heartbeat
/// stops, until the next command starts.
async fn heartbeat() {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if RUNNING.load(Ordering::SeqCst) == 0 {
            // A start between the check and here leaves a permit: no
            // start is missed.
            STARTED.notified().await;
            ticks.reset();
        }
    }
}

/// Commands running (see [`Running`]).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// Told when commands start running after none did.
static STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Held while a command runs, so that the heartbeat beats.
#[derive(Debug)]
pub(crate) struct Running(());

impl Running {
    pub(crate) fn new() -> Running {
        if RUNNING.fetch_add(1, Ordering::SeqCst) == 0 {
            STARTED.notify_one();
        }
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many commands are running now.
pub(crate) fn commands_running() -> usize {
    RUNNING.load(Ordering::Relaxed)
}

/// Starts `future` on the calling thread and hands it to the runtime only
/// once it has to wait.
///
/// A call's first stretch (its files, the spawn, registering the child's
/// pidfd) needs no worker: running it where the call is made saves the
/// wake-up of a worker, a context switch and a pass through the run queue
/// per call. The future is polled once here, within the runtime's context;
/// if it is not finished, it becomes a runtime task the first time anything
/// it waits for wakes it, and from then on is an ordinary task. A panic in
/// that first poll reaches the caller: wrap the future (`CatchUnwind`) to
/// turn it into an answer.
pub fn start<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let _context = runtime().enter();
    let mut future: Parked = Box::pin(future);
    let handoff = Arc::new(Handoff {
        state: Mutex::new(Stage::FirstPoll { woken: false }),
    });
    let waker = Waker::from(Arc::clone(&handoff));
    if future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_ready()
    {
        return;
    }
    let mut state = handoff.lock();
    if matches!(*state, Stage::FirstPoll { woken: true }) {
        // Woken while it was being polled: it has something to do already.
        *state = Stage::Handed;
        drop(state);
        runtime().spawn(future);
    } else {
        PARKED.fetch_add(1, Ordering::Relaxed);
        *state = Stage::Parked(future);
    }
}

/// Futures started by [`start`] still waiting for their first wake.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// Work alive on the runtime: its tasks, the futures started by [`start`]
/// not yet handed to it, less the heartbeat. Zero when no call and no watch
/// is in progress (the fault suite's leak check).
pub fn work_in_progress() -> usize {
    let tasks = runtime().metrics().num_alive_tasks();
    (tasks + PARKED.load(Ordering::Relaxed)).saturating_sub(1)
}

type Parked = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where a future started by [`start`] is until the runtime owns it.
struct Handoff {
    state: Mutex<Stage>,
}

enum Stage {
    /// The calling thread is polling it; `woken` records a wake meanwhile.
    FirstPoll { woken: bool },
    /// Waiting for its first wake.
    Parked(Parked),
    /// A runtime task; wakes addressed to this waker are stale.
    Handed,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, Stage> {
        // The lock guards a plain state change; a poisoned one is still
        // consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        // Dropped unwoken (what it waited for was dropped first).
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if matches!(state, Stage::Parked(_)) {
            PARKED.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Wake for Handoff {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, Stage::Handed) {
            Stage::FirstPoll { .. } => *state = Stage::FirstPoll { woken: true },
            Stage::Parked(future) => {
                PARKED.fetch_sub(1, Ordering::Relaxed);
                drop(state);
                // From a worker (the usual case: a readiness or a timer),
                // this lands in that worker's own queue, no other thread
                // woken.
                runtime().spawn(future);
            }
            Stage::Handed => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_future_that_needs_no_wait_runs_on_the_calling_thread() {
        let (tx, rx) = mpsc::channel();
        start(async move {
            let _ = tx.send(std::thread::current().id());
        });
        assert_eq!(rx.try_recv(), Ok(std::thread::current().id()));
    }

    #[test]
    fn a_waiting_future_completes_on_the_runtime() {
        let (tx, rx) = mpsc::channel();
        start(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tx.send(std::thread::current().id());
        });
        let finished_on = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_ne!(finished_on, std::thread::current().id());
    }

    #[test]
    fn a_wake_during_the_first_poll_is_not_lost() {
        let (tx, rx) = mpsc::channel();
        let mut polled = false;
        start(std::future::poll_fn(move |cx| {
            if polled {
                let _ = tx.send(());
                return std::task::Poll::Ready(());
            }
            polled = true;
            // Woken before the first poll has returned.
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }));
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
    }
}
