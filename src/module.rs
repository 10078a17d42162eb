//! One configured module instance: runs a method's command and turns the
//! outcome into the answer Mesos needs.
//!
//! Used the same way by the shim (through [`crate::ffi`]), by the
//! command-line tool and by the tests, so what the tool shows is what the
//! agent does. Every isolator method is a future on the shared runtime:
//! calls for different containers run concurrently, and a slow prepare
//! never delays another container's usage.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::config::{Config, ConfigError};
use crate::error::{CallError, ErrorKind};
use crate::input::{container_id_string, Input};
use crate::interpret::{empty_statistics, interpret, Interpreted};
use crate::limit::Slots;
use crate::logging::{redact, CallLabel};
use crate::method::{Method, ModuleKind, OnEmpty, OnFailure};
use crate::metrics::Metrics;
use crate::panic::{panic_message, CatchUnwind};
use crate::runner::{Captured, Cleanup, Containment, Invocation, Report, Runner};
use crate::runtime::{self, runtime};
use crate::service::Service;
use crate::state::State;

/// Environment variables every command receives.
pub const ENV_MODULE: &str = "MESOS_COMMAND_MODULE";
pub const ENV_METHOD: &str = "MESOS_COMMAND_METHOD";
pub const ENV_CONTAINER_ID: &str = "MESOS_COMMAND_CONTAINER_ID";

/// What the shim returns to Mesos.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// JSON of the method's return type.
    Value(String),
    /// `None` (no change) or `Nothing`.
    None,
    /// `Error` for hooks, `Failure` for futures.
    Error(CallError),
}

/// The result of one call.
#[derive(Debug)]
pub struct Outcome {
    pub answer: Answer,
    pub duration: Duration,
    /// What went wrong, also when the contract absorbs it (usage answers
    /// empty statistics, recover carries on).
    pub failure: Option<CallError>,
}

impl Outcome {
    fn error(error: CallError, duration: Duration) -> Outcome {
        Outcome {
            answer: Answer::Error(error.clone()),
            duration,
            failure: Some(error),
        }
    }
}

/// Whether isolator state is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateMode {
    /// As in the agent: prepare checkpoints, later calls get the
    /// `container_config`, watch loops until cleanup.
    Checkpointed,
    /// As in `mesos-command-modules call`: the input document is passed as
    /// given, and a watch runs one round (a limitation, or `None`).
    Bypassed,
}

/// A configured Hook or Isolator.
#[derive(Debug)]
pub struct Module {
    config: Config,
    runner: Arc<Runner>,
    slots: Slots,
    /// The service helper, when `service_command` is configured.
    service: Option<Service>,
    state: Option<Arc<State>>,
    watches: Watches,
    metrics: Metrics,
}

impl Module {
    /// A module as the agent loads it.
    pub fn new(
        kind: ModuleKind,
        symbol: &str,
        parameters: &[(String, String)],
    ) -> Result<Module, ConfigError> {
        Module::with_state(kind, symbol, parameters, StateMode::Checkpointed)
    }

    pub fn with_state(
        kind: ModuleKind,
        symbol: &str,
        parameters: &[(String, String)],
        mode: StateMode,
    ) -> Result<Module, ConfigError> {
        let config = Config::parse(kind, symbol, parameters)?;
        for warning in &config.warnings {
            log::warn!("[{}] {warning}", config.module_name);
        }
        let state = (mode == StateMode::Checkpointed && kind == ModuleKind::Isolator)
            .then(|| Arc::new(State::new(config.state_directory.clone())));
        let runner = Arc::new(Runner::configured(
            &config.temp_directory,
            config.kill_grace,
            config.max_output_bytes,
            &config.command_cgroup,
        ));
        // A module with no command configured never runs one: nothing to say
        // about how commands would run.
        let runs_commands = config.runs_commands() || config.service.is_some();
        match runner.containment() {
            Containment::Cgroups(_) => {
                log::info!(
                    "[{}] {}",
                    config.module_name,
                    runner.containment().describe()
                )
            }
            Containment::ProcessGroup(_) if runs_commands => {
                log::warn!(
                    "[{}] {}",
                    config.module_name,
                    runner.containment().describe()
                )
            }
            Containment::ProcessGroup(_) => {}
        }
        if let Some(losses) = crate::runner::kernel::features()
            .losses()
            .filter(|_| runs_commands)
        {
            log::warn!("[{}] {losses}", config.module_name);
        }
        if config.runs_commands()
            && crate::runner::tempfiles::memory_backed(&config.temp_directory) == Some(false)
        {
            log::info!(
                "[{}] temp_directory {} is not on a tmpfs: each call creates and removes its \
                 three files on that file system, which costs more CPU per call than on a tmpfs \
                 and may wait for the disk, and the inputs (which may carry secrets) reach the \
                 disk; a directory on a tmpfs (e.g. under /run) avoids both",
                config.module_name,
                config.temp_directory.display()
            );
        }
        let service = config.service.clone().map(|service| {
            Service::start(
                &config.module_name,
                kind,
                service,
                Arc::clone(&runner),
                config.max_output_bytes,
            )
        });
        Ok(Module {
            runner,
            slots: Slots::new(config.max_concurrent_commands),
            service,
            config,
            state,
            watches: Watches::default(),
            metrics: Metrics::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The command runner (containment, temp directory), for diagnostics.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// The service helper, when one is configured.
    pub fn service(&self) -> Option<&Service> {
        self.service.as_ref()
    }

    /// The command slots (`max_concurrent_commands`): how many commands run
    /// and how many calls wait for one.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// The isolator state, when kept.
    pub fn state(&self) -> Option<&State> {
        self.state.as_deref()
    }

    /// Stops the module (the shim destroys it next): watch loops end, the
    /// commands running are ended as at their timeout, and no command
    /// starts from now on. Returns at once; the commands' ends, and their
    /// reaping, follow on the runtime.
    pub fn shutdown(&self) {
        self.runner.close();
        self.watches.stop_all();
        if let Some(service) = &self.service {
            service.shutdown();
        }
    }

    /// [`Module::shutdown`], then waits until the service helper, if any,
    /// is stopped (at most twice the grace period, plus a margin).
    pub async fn stop(&self) {
        self.shutdown();
        if let Some(service) = &self.service {
            let limit = self.config.kill_grace * 2 + Duration::from_secs(1);
            service.stopped(limit).await;
        }
    }

    /// [`Module::stop`] from outside the runtime: for the command-line
    /// tool, which exits next.
    pub fn shutdown_and_wait(&self) {
        runtime().block_on(self.stop());
    }

    /// How many watch loops are running.
    pub fn active_watches(&self) -> usize {
        self.watches.len()
    }

    /// Runs a call on the calling thread until it ends (synchronous hooks).
    /// Must not be called from within the runtime.
    pub fn call_blocking(&self, method: Method, arguments: Vec<String>) -> Outcome {
        let started = Instant::now();
        let input = match Input::from_arguments(method, arguments) {
            Ok(input) => input,
            Err(e) => return self.failed_internally(method, e, started.elapsed()),
        };
        let call = CatchUnwind(Box::pin(self.call(method, input)));
        match runtime().block_on(call) {
            Ok(Some(outcome)) => outcome,
            Ok(None) => Outcome {
                answer: Answer::None,
                duration: started.elapsed(),
                failure: None,
            },
            Err(panic) => {
                self.failed_internally(method, panicked(method, &*panic), started.elapsed())
            }
        }
    }

    /// Starts a call on the runtime and returns at once. `done` runs exactly
    /// once on a runtime thread: with the outcome, or with `None` for a watch
    /// that ends without a limitation (stopped by cleanup, or an unknown
    /// container, whose watch must never complete) and for an
    /// oversubscription method without a command. An internal error (bad
    /// arguments, a panic) gets the method's own failure meaning (see
    /// [`Module::internal_failure`]).
    pub fn spawn_call<F>(self: &Arc<Self>, method: Method, arguments: Vec<String>, done: F)
    where
        F: FnOnce(Option<Outcome>) + Send + 'static,
    {
        let started = Instant::now();
        let input = match Input::from_arguments(method, arguments) {
            Ok(input) => input,
            Err(e) => return done(self.internal_failure(method, e, started.elapsed())),
        };
        // One task per call, `done` included: a second task awaiting the
        // first would cost a wake-up and a context switch per call. It
        // starts on this thread (see `runtime::start`).
        runtime::start(Arc::clone(self).finish_spawned(method, input, started, done));
    }

    /// The task of a spawned call, from its input to `done`.
    async fn finish_spawned<F>(
        self: Arc<Self>,
        method: Method,
        input: Input,
        started: Instant,
        done: F,
    ) where
        F: FnOnce(Option<Outcome>) + Send + 'static,
    {
        let mut cleanup = Cleanup::default();
        let call = self.call_into(method, input, started, &mut cleanup);
        match CatchUnwind(Box::pin(call)).await {
            // The command's cgroup is released and its files removed after
            // the answer is delivered, not before.
            Ok(outcome) => {
                done(outcome);
                if !cleanup.is_empty() && runtime::commands_running() == 0 {
                    // Where the scheduler runs the thread `done` woke on
                    // this CPU (a VM packing its threads on few vCPUs), that
                    // thread would wait for the release below before it
                    // could take the answer: it goes first. Not while other
                    // commands run: the CPU has other work to switch to
                    // then, and the yield only added a system call and a
                    // context switch to each call (about 20 µs of the
                    // module's CPU per call at 64 in flight).
                    std::thread::yield_now();
                }
                drop(cleanup);
            }
            Err(panic) => {
                done(self.internal_failure(method, panicked(method, &*panic), started.elapsed()))
            }
        }
    }

    /// Starts a call whose arguments the agent has yet to give: the
    /// oversubscription methods first fetch the agent's `ResourceUsage`.
    /// The call's timeout runs from now, so an agent that never gives them
    /// still gets the method's failure meaning in time, and the wait is
    /// not given to the command again. `done` runs exactly once, as for
    /// [`Module::spawn_call`]. A method without a command gets `None` at
    /// once, without waiting: the call never completes (see
    /// [`Method::answers_without_command`]).
    pub fn spawn_call_awaiting<A, F>(self: &Arc<Self>, method: Method, arguments: A, done: F)
    where
        A: std::future::Future<Output = Result<Vec<String>, CallError>> + Send + 'static,
        F: FnOnce(Option<Outcome>) + Send + 'static,
    {
        let started = Instant::now();
        let Some(timeout) = self.config.command(method).map(|c| c.timeout) else {
            if !method.answers_without_command() {
                return done(None);
            }
            return done(Some(self.answer(
                method,
                None,
                None,
                started.elapsed(),
                false,
            )));
        };
        let module = Arc::clone(self);
        runtime::start(async move {
            let arguments = match tokio::time::timeout(timeout, arguments).await {
                Ok(Ok(arguments)) => arguments,
                Ok(Err(e)) => return done(module.internal_failure(method, e, started.elapsed())),
                Err(_) => {
                    let e = CallError::new(
                        ErrorKind::Timeout,
                        format!(
                            "the agent did not give the call's arguments within its timeout of \
                             {}s ({}_timeout); no command was run",
                            timeout.as_secs_f64(),
                            method.key()
                        ),
                    );
                    // No command ran: an error and a timeout, not a call
                    // (`calls` counts commands run), as for the module's
                    // other errors.
                    module.metrics.record_error(method, e.kind);
                    let outcome =
                        module.answer(method, None, Some(Err(e)), started.elapsed(), true);
                    return done(Some(outcome));
                }
            };
            match Input::from_arguments(method, arguments) {
                Ok(input) => module.finish_spawned(method, input, started, done).await,
                Err(e) => done(module.internal_failure(method, e, started.elapsed())),
            }
        });
    }

    /// What an error of the module itself (not of a command: arguments it
    /// cannot read, a panic, an exception in the shim) answers: the
    /// method's documented failure meaning, as for a failed command. So
    /// `recover` carries on (Mesos would exit at every restart), `usage`
    /// answers empty statistics, and `watch` never completes (a failed
    /// watch destroys a healthy container): `None`. Logged, and counted in
    /// the method's errors (not in its calls: no command ran).
    pub fn internal_failure(
        &self,
        method: Method,
        error: CallError,
        duration: Duration,
    ) -> Option<Outcome> {
        self.metrics.record_error(method, error.kind);
        let outcome = self.failed_internally(method, error, duration);
        (method.contract().on_failure != OnFailure::KeepWatching).then_some(outcome)
    }

    fn failed_internally(&self, method: Method, error: CallError, duration: Duration) -> Outcome {
        let meaning = match method.contract().on_failure {
            OnFailure::Logged => "; the call succeeds all the same",
            OnFailure::KeepWatching => "; the container is not destroyed, its watch ends",
            OnFailure::EmptyStatistics => "; empty statistics are answered",
            OnFailure::WithdrawsEstimate => "; an empty estimate is answered",
            _ => "",
        };
        log::error!(
            "{} internal error: {error}{meaning}",
            self.label(method, None)
        );
        self.answer(method, None, Some(Err(error)), duration, false)
    }

    /// Runs one call. `None` only for a watch that ends without a
    /// limitation, and for an oversubscription method without a command
    /// (see [`Method::answers_without_command`]).
    pub async fn call(&self, method: Method, input: Input) -> Option<Outcome> {
        let mut cleanup = Cleanup::default();
        self.call_into(method, input, Instant::now(), &mut cleanup)
            .await
    }

    /// [`Module::call`], leaving in `cleanup` what the caller may release
    /// once it has delivered the answer. The call's timeout runs from
    /// `started`.
    async fn call_into(
        &self,
        method: Method,
        mut input: Input,
        started: Instant,
        cleanup: &mut Cleanup,
    ) -> Option<Outcome> {
        let contract = method.contract();
        if contract.kind != self.config.kind {
            let e = CallError::new(
                ErrorKind::Internal,
                format!(
                    "{method} called on {} module",
                    crate::config::with_article(self.config.kind)
                ),
            );
            return Some(Outcome::error(e, started.elapsed()));
        }
        if !method.answers_without_command() && self.config.command(method).is_none() {
            return None;
        }
        let container = match method {
            Method::IsolatorRecover => None,
            _ if contract.kind == ModuleKind::Isolator || input.contains("container_id") => {
                match input.container_id() {
                    Ok(id) => Some(id),
                    Err(e) => return self.internal_failure(method, e, started.elapsed()),
                }
            }
            _ => None,
        };
        let container = container.as_deref();

        match (method, &self.state, container) {
            (Method::IsolatorWatch, Some(state), Some(id)) => {
                return self.watch(state, input, id).await;
            }
            (Method::IsolatorRecover, Some(state), _) => self.recover_state(state, &input).await,
            (Method::IsolatorPrepare, Some(state), Some(id)) => {
                if let Err(e) = self.checkpoint(state, &input, id).await {
                    self.metrics.record(method, started.elapsed(), Some(e.kind));
                    log::error!("{} {e}", self.label(method, container));
                    return Some(Outcome::error(e, started.elapsed()));
                }
            }
            (Method::IsolatorCleanup, Some(state), Some(id)) if state.get(id).is_none() => {
                self.forget(state, id).await;
                return Some(Outcome {
                    answer: Answer::None,
                    duration: started.elapsed(),
                    failure: None,
                });
            }
            _ => {}
        }
        if contract.adds_container_config {
            if let (Some(state), Some(id)) = (&self.state, container) {
                if let Some(config) = state.get(id) {
                    input.insert("container_config", config.to_string());
                }
            }
        }

        let (result, leftover) = self.run(method, &input, container, started).await;
        *cleanup = leftover;
        if let (Method::IsolatorCleanup, Some(state), Some(id)) = (method, &self.state, container) {
            self.forget(state, id).await;
        }
        Some(self.answer(method, container, result, started.elapsed(), true))
    }

    /// Maps a command's result to the answer, following the contract; a
    /// failure is logged as a warning when `log_failure`.
    fn answer(
        &self,
        method: Method,
        container: Option<&str>,
        result: Option<Result<Interpreted, CallError>>,
        duration: Duration,
        log_failure: bool,
    ) -> Outcome {
        let contract = method.contract();
        let empty = || match contract.on_empty {
            OnEmpty::EmptyStatistics => Answer::Value(empty_statistics().to_string()),
            OnEmpty::EmptyStatus => Answer::Value("{}".to_string()),
            OnEmpty::EmptyList => Answer::Value("[]".to_string()),
            OnEmpty::NoChange | OnEmpty::Ignored | OnEmpty::KeepWatching => Answer::None,
        };
        let (answer, failure) = match result {
            None | Some(Ok(Interpreted::Empty)) => (empty(), None),
            Some(Ok(Interpreted::Ignored)) => (Answer::None, None),
            Some(Ok(Interpreted::Value(value))) => (Answer::Value(value.to_string()), None),
            Some(Err(e)) => {
                let answer = match failure_value(method) {
                    Some(value) => Answer::Value(value),
                    None => match contract.on_failure {
                        OnFailure::Logged | OnFailure::KeepWatching => Answer::None,
                        _ => Answer::Error(e.clone()),
                    },
                };
                if log_failure {
                    log::warn!("{} {e}", self.label(method, container));
                }
                (answer, Some(e))
            }
        };
        Outcome {
            answer,
            duration,
            failure,
        }
    }

    fn label<'a>(&'a self, method: Method, subject: Option<&'a str>) -> CallLabel<'a> {
        CallLabel {
            module: &self.config.module_name,
            method,
            subject,
        }
    }

    /// Runs `method`'s command, if one is configured, and interprets its
    /// output. Records metrics and logs what the command printed. The
    /// timeout runs from `since`: time already spent on the call (waiting
    /// for its arguments) is not given to the command again.
    async fn run(
        &self,
        method: Method,
        input: &Input,
        container: Option<&str>,
        since: Instant,
    ) -> (Option<Result<Interpreted, CallError>>, Cleanup) {
        let Some(command) = self.config.command(method) else {
            return (None, Cleanup::default());
        };
        let label = self.label(method, container);
        let document = input.document();
        if self.config.debug {
            let mut shown: Value = serde_json::from_str(&document).unwrap_or(Value::Null);
            redact(&mut shown);
            log::info!(
                "{label} running \"{}\" (timeout {}s) with input {shown}",
                command.configured,
                command.timeout.as_secs_f64()
            );
        }
        let mut env = vec![
            (ENV_MODULE, self.config.module_name.as_str()),
            (ENV_METHOD, method.key()),
        ];
        if let Some(id) = container {
            env.push((ENV_CONTAINER_ID, id));
        }
        let served = self.service.as_ref().filter(|_| command.via_service);
        // A helper's failures read like a command's, naming what failed.
        let noun = if served.is_some() {
            "Service"
        } else {
            "Command"
        };
        let report = match served {
            Some(service) => {
                let started = Instant::now();
                let result = service
                    .call(method, &document, command.timeout, since)
                    .await;
                Report {
                    result,
                    stdout: Captured::default(),
                    stderr: Captured::default(),
                    elapsed: started.elapsed(),
                    pid: None,
                    leftovers: 0,
                    contained: false,
                    cleanup: Cleanup::default(),
                }
            }
            None => match self
                .run_command(method, command, &document, &env, since)
                .await
            {
                Ok(report) => report,
                Err(e) => return (Some(Err(e)), Cleanup::default()),
            },
        };
        self.log_streams(&label, &report);
        if report.leftovers > 0 {
            log::warn!(
                "{label} \"{}\" left {} process(es) running when it exited; they were killed \
                 (a command's processes live as long as its call)",
                command.configured,
                report.leftovers
            );
        }
        let result = report.result.and_then(|output| {
            interpret(method.contract(), input, &output, command.merge).map_err(|e| {
                e.context(format!(
                    "{noun} \"{}\" returned invalid output",
                    command.configured
                ))
            })
        });
        self.metrics.record(
            method,
            report.elapsed,
            result.as_ref().err().map(|e| e.kind),
        );
        if self.config.debug {
            log::info!(
                "{label} \"{}\" took {:.3}s: {}",
                command.configured,
                report.elapsed.as_secs_f64(),
                match &result {
                    Ok(Interpreted::Value(v)) => {
                        let mut shown = v.clone();
                        redact(&mut shown);
                        format!("answered {shown}")
                    }
                    Ok(Interpreted::Empty) => "answered nothing".to_string(),
                    Ok(Interpreted::Ignored) => "succeeded".to_string(),
                    Err(e) => format!("failed: {e}"),
                }
            );
        }
        (Some(result), report.cleanup)
    }

    /// Runs `command` as a process of its own, once a command slot is free
    /// (the wait, from `queued_at`, counts toward its timeout).
    async fn run_command(
        &self,
        method: Method,
        command: &crate::config::CommandConfig,
        document: &str,
        env: &[(&str, &str)],
        queued_at: Instant,
    ) -> Result<Report, CallError> {
        let left = command.timeout.saturating_sub(queued_at.elapsed());
        let acquired = tokio::time::timeout(left, self.slots.acquire(method.observes())).await;
        if self.runner.is_closed() {
            return Err(CallError::new(
                ErrorKind::Internal,
                format!(
                    "Command \"{}\" was not started: the module is being destroyed",
                    command.configured
                ),
            ));
        }
        let Ok(_slot) = acquired else {
            let e = CallError::new(
                ErrorKind::Timeout,
                format!(
                    "Command \"{}\" did not start within its timeout of {}s: {} \
                     (max_concurrent_commands) stayed in use",
                    command.configured,
                    command.timeout.as_secs_f64(),
                    self.slots
                        .which(method.observes(), "command slots of the module")
                ),
            );
            self.metrics
                .record(method, queued_at.elapsed(), Some(e.kind));
            return Err(e);
        };
        Ok(self
            .runner
            .run(&Invocation {
                program: &command.path,
                display: &command.configured,
                timeout: command.timeout,
                queued: queued_at.elapsed(),
                input: document.as_bytes(),
                env,
            })
            .await)
    }

    fn log_streams(&self, label: &CallLabel<'_>, report: &Report) {
        let failed = report.result.is_err();
        for (name, captured) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
            if let Some(text) = captured.text() {
                if failed {
                    log::warn!("{label} {name}: {text}");
                } else {
                    log::info!("{label} {name}: {text}");
                }
            }
        }
    }

    async fn checkpoint(
        &self,
        state: &Arc<State>,
        input: &Input,
        id: &str,
    ) -> Result<(), CallError> {
        let config = input.get("container_config").ok_or_else(|| {
            CallError::new(ErrorKind::BadInput, "prepare received no container_config")
        })?;
        let (state, id, config) = (Arc::clone(state), id.to_string(), config.to_string());
        tokio::task::spawn_blocking(move || state.prepare(&id, &config))
            .await
            .unwrap_or_else(|e| {
                Err(CallError::new(
                    ErrorKind::Internal,
                    format!("checkpoint task failed: {e}"),
                ))
            })
    }

    /// Stops the container's watch and removes its state, whatever else
    /// happened: a failed cleanup leaves the container to Mesos, but state
    /// kept for it would only grow.
    async fn forget(&self, state: &Arc<State>, id: &str) {
        self.watches.stop(id);
        let (state, id) = (Arc::clone(state), id.to_string());
        let removed = tokio::task::spawn_blocking(move || state.remove(&id)).await;
        if let Ok(Err(e)) = removed {
            log::error!("[{} isolator_cleanup] {e}", self.config.module_name);
        }
    }

    /// Restores the containers Mesos recovered from their checkpoints and
    /// removes the other files, logging what it restored, what it could not
    /// restore or remove, and why. Never fails (Mesos exits when recover
    /// fails). When `states` or `orphans` cannot be read, the module cannot
    /// tell which containers run: it restores what it can and removes
    /// nothing, since removing a running container's checkpoint would lose
    /// its state for good.
    async fn recover_state(&self, state: &Arc<State>, input: &Input) {
        let module = self.config.module_name.clone();
        let (live, live_problem) = recovered_ids(input, "states", true);
        let (orphans, orphans_problem) = recovered_ids(input, "orphans", false);
        let mut certain = true;
        for (member, problem) in [("states", live_problem), ("orphans", orphans_problem)] {
            if let Some(problem) = problem {
                certain = false;
                log::error!(
                    "[{module} isolator_recover] the {member} argument cannot be read, so no \
                     state file is removed: {problem}"
                );
            }
        }
        let state = Arc::clone(state);
        let report = tokio::task::spawn_blocking(move || {
            if certain {
                state.recover(&live, &orphans)
            } else {
                state.restore(&live, &orphans)
            }
        })
        .await;
        let Ok(report) = report else {
            log::error!("[{module} isolator_recover] the recovery task failed");
            return;
        };
        self.watches.mark_recovered(&report.restored);
        log::info!(
            "[{module} isolator_recover] restored {} container(s) from {}",
            report.restored.len(),
            self.config.state_directory.display()
        );
        for (id, reason) in &report.skipped {
            log::error!(
                "[{module} isolator_recover {id}] state skipped, the container is treated as \
                 unknown: {reason}"
            );
        }
        for (id, reason) in &report.orphans_skipped {
            log::error!(
                "[{module} isolator_recover {id}] state of the orphan skipped, its cleanup will \
                 not run the command: {reason}"
            );
        }
        if let Some(e) = &report.unlisted {
            log::error!(
                "[{module} isolator_recover] cannot list the state directory {}: {e}; the state \
                 files of containers Mesos no longer runs are not removed",
                self.config.state_directory.display()
            );
        }
        if !report.removed.is_empty() {
            log::info!(
                "[{module} isolator_recover] removed state files of containers Mesos no longer \
                 runs: {}",
                report.removed.join(", ")
            );
        }
        for (path, e) in &report.not_removed {
            log::warn!("[{module} isolator_recover] cannot remove {path}: {e}");
        }
        for path in &report.foreign {
            log::warn!(
                "[{module} isolator_recover] left {path} in place: a directory, which the module \
                 never writes (is state_directory shared with something else?); remove it by \
                 hand if nothing needs it"
            );
        }
    }

    /// Runs the watch command every `isolator_watch_frequence` seconds until
    /// it reports a limitation (the outcome) or cleanup stops it (`None`).
    /// A container this isolator does not know gets a watch that never
    /// completes: a completed or failed watch destroys the container.
    async fn watch(&self, state: &Arc<State>, input: Input, id: &str) -> Option<Outcome> {
        self.config.command(Method::IsolatorWatch)?;
        if state.get(id).is_none() {
            log::info!(
                "{} unknown container: its watch will never report a limitation",
                self.label(Method::IsolatorWatch, Some(id))
            );
            return None;
        }
        let (generation, mut stop) = self.watches.register(id);
        // A launched container's watch runs at once, as the original's did.
        // After an agent restart every recovered container's watch starts in
        // the same instant: those first rounds are spread over one period,
        // so that a thousand commands do not delay every other call.
        let frequency = self.config.watch_frequency;
        let delay = if self.watches.take_recovered(id) {
            frequency.mul_f64(jitter_fraction(id))
        } else {
            Duration::ZERO
        };
        let first = tokio::time::Instant::now() + delay;
        let mut interval = tokio::time::interval_at(first, frequency);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let outcome = loop {
            tokio::select! {
                biased;
                _ = &mut stop => break None,
                _ = interval.tick() => {}
            }
            let Some(config) = state.get(id).filter(|_| !self.runner.is_closed()) else {
                break None;
            };
            let started = Instant::now();
            let mut round = input.clone();
            round.insert("container_config", config.to_string());
            // A round that panics is one failed round, not a failed watch.
            let run = CatchUnwind(Box::pin(self.run(
                Method::IsolatorWatch,
                &round,
                Some(id),
                Instant::now(),
            )));
            let result = tokio::select! {
                biased;
                _ = &mut stop => break None,
                ran = run => match ran {
                    Ok((result, _cleanup)) => result,
                    Err(panic) => {
                        let e = panicked(Method::IsolatorWatch, &*panic);
                        self.metrics.record(Method::IsolatorWatch, started.elapsed(), Some(e.kind));
                        Some(Err(e))
                    }
                },
            };
            match result {
                Some(Ok(Interpreted::Value(limitation))) => {
                    log::warn!(
                        "{} limitation reported: {limitation}",
                        self.label(Method::IsolatorWatch, Some(id))
                    );
                    break Some(Outcome {
                        answer: Answer::Value(limitation.to_string()),
                        duration: started.elapsed(),
                        failure: None,
                    });
                }
                Some(Err(e)) => log::warn!(
                    "{} {e}; watching goes on",
                    self.label(Method::IsolatorWatch, Some(id))
                ),
                _ => {}
            }
        };
        self.watches.unregister(id, generation);
        outcome
    }
}

/// The value a method answers when it fails, for the methods whose
/// failure meaning is a value (usage's empty statistics, the estimator's
/// empty estimate), `None` for the others.
pub fn failure_value(method: Method) -> Option<String> {
    match method.contract().on_failure {
        OnFailure::EmptyStatistics => Some(empty_statistics().to_string()),
        OnFailure::WithdrawsEstimate => Some("[]".to_string()),
        _ => None,
    }
}

/// The internal error of a call that panicked.
fn panicked(method: Method, panic: &(dyn std::any::Any + Send)) -> CallError {
    CallError::new(
        ErrorKind::Internal,
        format!("the {method} call failed: {}", panic_message(panic)),
    )
}

impl Drop for Module {
    /// A module dropped stops its service helper (in the background).
    fn drop(&mut self) {
        if let Some(service) = &self.service {
            service.shutdown();
        }
    }
}

/// A fraction in [0, 1) that differs between containers and between calls.
fn jitter_fraction(id: &str) -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(id.as_bytes());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The running watch loops, by container: cleanup stops them.
#[derive(Debug, Default)]
struct Watches {
    next: AtomicU64,
    running: Mutex<HashMap<String, (u64, oneshot::Sender<()>)>>,
    /// Containers restored by recover whose watch has not started yet.
    recovered: Mutex<HashSet<String>>,
}

impl Watches {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, oneshot::Sender<()>)>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a loop; one registered earlier for the same container
    /// stops.
    fn register(&self, id: &str) -> (u64, oneshot::Receiver<()>) {
        let generation = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        self.lock().insert(id.to_string(), (generation, sender));
        (generation, receiver)
    }

    fn unregister(&self, id: &str, generation: u64) {
        let mut running = self.lock();
        if running.get(id).is_some_and(|(g, _)| *g == generation) {
            running.remove(id);
        }
    }

    /// Stops the container's loop (dropping the sender wakes it).
    fn stop(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Stops every loop.
    fn stop_all(&self) {
        self.lock().clear();
    }

    /// Remembers containers restored by recover, whose watches come next.
    fn mark_recovered(&self, ids: &[String]) {
        let mut recovered = self.recovered.lock().unwrap_or_else(|p| p.into_inner());
        recovered.extend(ids.iter().cloned());
    }

    /// Whether the container was restored by recover (asked once).
    fn take_recovered(&self, id: &str) -> bool {
        let mut recovered = self.recovered.lock().unwrap_or_else(|p| p.into_inner());
        recovered.remove(id)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The container ids of recover's `member` (`states`, whose entries hold
/// a `container_id`, when `nested`; `orphans`, a list of ids, otherwise),
/// as they name state files; with what made the member unreadable, if
/// anything did (the ids then are those that could be read).
fn recovered_ids(input: &Input, member: &str, nested: bool) -> (Vec<String>, Option<String>) {
    let Some(text) = input.get(member) else {
        return (Vec::new(), Some("it is missing".to_string()));
    };
    let items = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        Ok(_) => return (Vec::new(), Some("it is not a list".to_string())),
        Err(e) => return (Vec::new(), Some(format!("it is not JSON: {e}"))),
    };
    let mut ids = Vec::with_capacity(items.len());
    let mut problem = None;
    for (index, item) in items.iter().enumerate() {
        let id = match (nested, item.get("container_id")) {
            (false, _) => container_id_string(item),
            (true, Some(id)) => container_id_string(id),
            (true, None) => Err(CallError::new(
                ErrorKind::BadInput,
                "it has no container_id",
            )),
        };
        match id {
            Ok(id) => ids.push(id),
            Err(e) => {
                problem.get_or_insert_with(|| format!("entry {index}: {}", e.message));
            }
        }
    }
    (ids, problem)
}
