//! The service transport: one long-lived helper per module answers the
//! calls of the methods in `service_methods` over its standard input and
//! output (see [`protocol`]), so that a call costs a message instead of a
//! process. The method contract (inputs, validation, merge, state,
//! metrics, logs) is the module's, whichever transport carried the call.
//!
//! The helper starts when the module loads, contained like a command (its
//! own process group and, where possible, its own cgroup, so that an agent
//! killed with SIGKILL has it killed at the next start by the cgroup sweep).
//! A helper that exits, closes its standard output, or leaves
//! `service_unanswered_limit` requests in a row unanswered past their
//! timeout is killed (its whole cgroup) and started again, after a pause
//! that doubles from 100 ms up to `service_restart_backoff_max` (and falls
//! back to 100 ms once a helper has served for a minute). Calls in flight
//! then fail with the cause; calls made while it is down wait for it within
//! their own timeout. When the module is destroyed the helper gets EOF on
//! its standard input, SIGTERM after `kill_grace_period`, then SIGKILL.

mod helper;
pub mod protocol;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch, Notify};

use crate::config::ServiceConfig;
use crate::error::{CallError, ErrorKind};
use crate::limit::Slots;
use crate::method::{Method, ModuleKind};
use crate::runner::Runner;
pub use helper::ENV_SERVICE;
use helper::{Down, Link};
use protocol::Refusal;

/// The first pause before a helper is started again.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How long a helper must have served for the pause to start again from
/// [`FIRST_BACKOFF`].
pub const STABLE_AFTER: Duration = Duration::from_secs(60);

/// A module's service helper, kept running by a task on the runtime.
#[derive(Debug)]
pub struct Service {
    shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    module: String,
    kind: ModuleKind,
    config: ServiceConfig,
    runner: Arc<Runner>,
    max_output_bytes: u64,
    link: Mutex<Option<Arc<Link>>>,
    /// Bumped at every start and stop of the helper.
    generation: watch::Sender<u64>,
    /// Why the helper is down, while it is.
    cause: Mutex<String>,
    restarts: AtomicU64,
    bad_lines: AtomicU64,
    /// Requests left unanswered past their timeout, in a row.
    unanswered: AtomicUsize,
    restart_now: Notify,
    closing: watch::Sender<bool>,
    stopped: watch::Sender<bool>,
    next_id: AtomicU64,
    in_flight: Slots,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Service {
    /// Starts keeping the helper of `config` running. Returns at once.
    pub fn start(
        module: &str,
        kind: ModuleKind,
        config: ServiceConfig,
        runner: Arc<Runner>,
        max_output_bytes: u64,
    ) -> Service {
        let shared = Arc::new(Shared {
            module: module.to_string(),
            kind,
            in_flight: Slots::new(config.max_in_flight),
            config,
            runner,
            max_output_bytes,
            link: Mutex::new(None),
            generation: watch::Sender::new(0),
            cause: Mutex::new("it is starting".to_string()),
            restarts: AtomicU64::new(0),
            bad_lines: AtomicU64::new(0),
            unanswered: AtomicUsize::new(0),
            restart_now: Notify::new(),
            closing: watch::Sender::new(false),
            stopped: watch::Sender::new(false),
            next_id: AtomicU64::new(protocol::INITIALIZE_ID + 1),
        });
        crate::runtime::runtime().spawn(supervise(Arc::clone(&shared)));
        Service { shared }
    }

    /// Whether the helper is up (it answered `initialize` and has not
    /// stopped since).
    pub fn is_up(&self) -> bool {
        lock(&self.shared.link).is_some()
    }

    /// How many times the helper was started again.
    pub fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// Lines of the helper's standard output that were not a response to a
    /// pending request.
    pub fn bad_lines(&self) -> u64 {
        self.shared.bad_lines.load(Ordering::Relaxed)
    }

    /// Waits until the helper is up, at most `limit`; whether it is.
    pub async fn wait_up(&self, limit: Duration) -> bool {
        let mut changes = self.shared.generation.subscribe();
        let up = async {
            while !self.is_up() {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(limit, up).await;
        self.is_up()
    }

    /// Stops the helper (EOF, SIGTERM, SIGKILL) and does not start it
    /// again. Returns at once.
    pub fn shutdown(&self) {
        self.shared.closing.send_replace(true);
    }

    /// Waits, at most `limit`, until the helper is stopped after
    /// [`Service::shutdown`]; whether it is.
    pub async fn stopped(&self, limit: Duration) -> bool {
        let mut stopped = self.shared.stopped.subscribe();
        let waited = tokio::time::timeout(limit, stopped.wait_for(|&s| s)).await;
        waited.is_ok()
    }

    /// Sends `method`'s request with `params` (the input document) and
    /// returns the result as a script's output would be, within `timeout`
    /// from `since` (which includes the wait while the helper is down, and
    /// any wait of the call before it reached the service).
    pub async fn call(
        &self,
        method: Method,
        params: &str,
        timeout: Duration,
        since: std::time::Instant,
    ) -> Result<Vec<u8>, CallError> {
        // The heartbeat keeps the timer driver from being woken just to
        // arm this request's timeout (see `runtime::heartbeat`).
        let _running = crate::runtime::Running::new();
        let shared = &self.shared;
        let display = &shared.config.configured;
        let deadline = tokio::time::Instant::from_std(since) + timeout;
        // Formatted only for a failure: a float's formatting is a
        // measurable share of a served call's own CPU.
        let within = || seconds(timeout);
        let Ok(_slot) =
            tokio::time::timeout_at(deadline, shared.in_flight.acquire(method.observes())).await
        else {
            return Err(CallError::new(
                ErrorKind::Timeout,
                format!(
                    "Service \"{display}\" was not sent {method} within its timeout of {}: \
                     {} (service_max_in_flight) stayed in use",
                    within(),
                    shared.in_flight.which(method.observes(), "request slots")
                ),
            ));
        };
        let mut changes = shared.generation.subscribe();
        let down = || {
            CallError::new(
                ErrorKind::Spawn,
                format!(
                    "Service \"{display}\" is down ({}) and did not come back within the {method} \
                     call's timeout of {}",
                    lock(&shared.cause),
                    within()
                ),
            )
        };
        loop {
            let link = lock(&shared.link).clone();
            let Some(link) = link else {
                if tokio::time::timeout_at(deadline, changes.changed())
                    .await
                    .is_err()
                {
                    return Err(down());
                }
                continue;
            };
            let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
            let (tx, rx) = oneshot::channel();
            helper_pending(&link).insert(id, tx);
            if link
                .stdin
                .send(protocol::request(id, method.key(), params).as_bytes())
                .is_err()
            {
                // It stopped meanwhile: wait for the next one.
                helper_pending(&link).remove(&id);
                if tokio::time::timeout_at(deadline, changes.changed())
                    .await
                    .is_err()
                {
                    return Err(down());
                }
                continue;
            }
            return match tokio::time::timeout_at(deadline, rx).await {
                Ok(Ok(answer)) => {
                    shared.unanswered.store(0, Ordering::Relaxed);
                    answer.map_err(|refusal| match refusal {
                        Refusal::Error(message) => CallError::new(
                            ErrorKind::ExitStatus,
                            format!(
                                "Service \"{display}\" answered {method} with an error: {message}"
                            ),
                        ),
                        Refusal::TooLong { length, max } => CallError::new(
                            ErrorKind::BadOutput,
                            format!(
                                "Service \"{display}\" answered {method} with a line of {length} \
                                 bytes or more, over max_output_bytes ({max})"
                            ),
                        ),
                    })
                }
                Ok(Err(_stopped)) => Err(CallError::new(
                    ErrorKind::ExitStatus,
                    format!(
                        "Service \"{display}\" stopped during the {method} call: {}",
                        lock(&shared.cause)
                    ),
                )),
                Err(_elapsed) => {
                    helper_pending(&link).remove(&id);
                    let row = shared.unanswered.fetch_add(1, Ordering::Relaxed) + 1;
                    if row >= shared.config.unanswered_limit {
                        // No call is sent to it from now on: the calls
                        // after this one wait for the next helper instead
                        // of failing when this one is killed.
                        shared.detach(
                            &link,
                            format!(
                                "it left {row} requests in a row unanswered past their timeout"
                            ),
                        );
                        shared.restart_now.notify_one();
                    }
                    Err(CallError::new(
                        ErrorKind::Timeout,
                        format!(
                            "Service \"{display}\" took too long to answer {method}: no answer \
                             within {}",
                            within()
                        ),
                    ))
                }
            };
        }
    }
}

fn helper_pending(link: &Link) -> std::sync::MutexGuard<'_, helper::PendingMap> {
    lock(&link.pending)
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

impl Shared {
    fn set_up(&self, link: Arc<Link>) {
        *lock(&self.link) = Some(link);
        self.unanswered.store(0, Ordering::Relaxed);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Sends no more calls to the helper of `link`, which is about to be
    /// killed for `cause`; calls wait for the next one.
    fn detach(&self, link: &Arc<Link>, cause: String) {
        let mut current = lock(&self.link);
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, link)) {
            *lock(&self.cause) = cause;
            *current = None;
            drop(current);
            self.generation.send_modify(|g| *g += 1);
        }
    }

    /// Marks the helper down with `cause`; the calls waiting for the
    /// answers of `helper` (its link, even once detached) fail with it.
    fn set_down(&self, cause: String, helper: Option<&Link>) {
        *lock(&self.cause) = cause;
        if let Some(link) = lock(&self.link).take() {
            lock(&link.pending).clear();
        }
        if let Some(link) = helper {
            lock(&link.pending).clear();
        }
        self.generation.send_modify(|g| *g += 1);
    }
}

/// Keeps the helper running until the module is destroyed.
async fn supervise(shared: Arc<Shared>) {
    let label = format!("[{} service]", shared.module);
    let display = shared.config.configured.clone();
    let mut backoff = FIRST_BACKOFF;
    let mut closing = shared.closing.subscribe();
    loop {
        if *closing.borrow() {
            break;
        }
        let started = Instant::now();
        match helper::start(&shared).await {
            Ok((mut helper, link)) => {
                shared.set_up(Arc::clone(&link));
                log::info!("{label} \"{display}\" (pid {}) is up", helper.pid());
                let down = helper.until_down(&shared).await;
                let cause = match down {
                    Down::Exited => "exited".to_string(),
                    Down::StdoutClosed => "closed its standard output".to_string(),
                    Down::Unanswered(n) => {
                        format!("left {n} requests in a row unanswered past their timeout")
                    }
                    Down::Closing => "the module is being destroyed".to_string(),
                };
                if matches!(down, Down::Closing) {
                    shared.set_down(cause, Some(&link));
                    let ended = helper.stop(shared.runner.kill_grace()).await;
                    log::info!("{label} \"{display}\" stopped{}", ended.said(false));
                    break;
                }
                // How a helper that exited ended is its own; one killed
                // here was killed by SIGKILL, which the line says once.
                let exited = matches!(down, Down::Exited);
                let ended = helper.kill().await.said(!exited);
                shared.set_down(format!("{cause}{ended}"), Some(&link));
                if started.elapsed() >= STABLE_AFTER {
                    backoff = FIRST_BACKOFF;
                }
                let killed = if exited { "" } else { "; it was killed" };
                log::warn!(
                    "{label} \"{display}\" {cause}{ended}{killed}; it is started again in {}",
                    seconds(backoff)
                );
            }
            Err(cause) if *closing.borrow() => {
                log::info!("{label} \"{display}\" {cause}");
                break;
            }
            Err(cause) => {
                shared.set_down(format!("it {cause}"), None);
                log::warn!(
                    "{label} \"{display}\" {cause}; next start in {}",
                    seconds(backoff)
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = closing.wait_for(|&closed| closed) => break,
        }
        shared.restarts.fetch_add(1, Ordering::Relaxed);
        backoff = (backoff * 2).min(shared.config.restart_backoff_max.max(FIRST_BACKOFF));
    }
    shared.set_down("the module is being destroyed".to_string(), None);
    shared.stopped.send_replace(true);
}
