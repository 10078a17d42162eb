//! The C++ bridge: the only place where Rust and the Mesos shim meet.
//!
//! The shim (`shim/`) converts protobuf <-> JSON with Mesos's own code and
//! calls these entry points; everything else (configuration, the command,
//! what the answer means) is decided here, in Rust. Every `extern "Rust"`
//! function runs its body under `guard`: cxx aborts the process on a panic
//! that reaches C++, and that process is the Mesos agent.
//!
//! Threads: [`Module`] is `Sync`. Mesos calls hooks from its actors and
//! isolator methods from whichever libprocess thread runs the containerizer,
//! concurrently. `call_async` returns at once; the core later calls
//! `complete` from one of its own threads, exactly once per completion,
//! except for a watch that never reports a limitation, whose completion is
//! dropped (the C++ destructor then abandons its promise).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::error::{CallError, ErrorKind};
use crate::method::{Method, ModuleKind};
use crate::metrics::ModuleGauge;
use crate::module::{failure_value, Answer, Module as CoreModule, Outcome as CoreOutcome};
use crate::panic::panic_message;

#[cxx::bridge(namespace = "mesos_command_modules::bridge")]
pub mod bridge {
    /// How the shim must answer Mesos.
    #[derive(Debug)]
    #[repr(u8)]
    enum Disposition {
        /// Parse `json` as the method's return type and return it. For
        /// methods returning `Nothing`, return `Nothing`.
        Value = 0,
        /// Return `None` (hooks: "no change"; prepare: no launch info).
        None = 1,
        /// Return `Error(message)` for hooks, `Failure(message)` for futures.
        Error = 2,
    }

    /// The answer to one call.
    #[derive(Debug)]
    struct Outcome {
        disposition: Disposition,
        /// With `Value`: compact JSON of the method's return type (an array
        /// for `Resources` and `Attributes`), already validated.
        json: String,
        /// With `Error`: the message for Mesos and the log.
        message: String,
        /// Wall-clock time of the call, for the shim's latency timer.
        duration_ms: f64,
        /// With `Value`: JSON the shim answers instead of `json` if Mesos
        /// refuses `json` (a check of Mesos's own the core does not repeat,
        /// see `Output::checked_further_by_mesos`), for the methods whose
        /// failure meaning is a value (the estimator's empty estimate).
        /// Empty otherwise: the call then fails with Mesos's error.
        fallback: String,
    }

    extern "Rust" {
        /// One configured module instance.
        type Module;

        /// Parses and validates `parameters` (flattened: key, value, key,
        /// value, ...) for a module of `kind` (0 = Hook, 1 = Isolator)
        /// registered under `symbol`. The error names the key at fault.
        fn create_module(
            kind: u8,
            symbol: &str,
            parameters: &CxxVector<CxxString>,
        ) -> Result<Box<Module>>;

        /// `Isolator::supportsNesting()`, from `supports_nesting`.
        fn supports_nesting(self: &Module) -> bool;
        /// `Isolator::supportsStandalone()`, from `supports_standalone`.
        fn supports_standalone(self: &Module) -> bool;
        /// The configured `module_name`.
        fn module_name(self: &Module) -> &str;
        /// The methods (as `u8`) that have a command, for metrics.
        fn configured_methods(self: &Module) -> Vec<u8>;
        /// The metric key stem of a method, e.g. `isolator_prepare`.
        fn method_key(method: u8) -> &'static str;

        /// Runs a blocking (synchronous hook) call. `arguments` holds one
        /// JSON text per argument of the C++ signature, in order; an empty
        /// string stands for an absent `Option`.
        fn call_blocking(self: &Module, method: u8, arguments: &CxxVector<CxxString>) -> Outcome;

        /// Starts an asynchronous call and returns at once; `completion`
        /// receives the outcome on a core thread (see the module docs).
        fn call_async(
            self: &Module,
            method: u8,
            arguments: &CxxVector<CxxString>,
            completion: UniquePtr<Completion>,
        );

        /// Starts an asynchronous call whose arguments the agent has yet to
        /// give (the oversubscription methods fetch the agent's
        /// `ResourceUsage` first). Its timeout runs from now: the returned
        /// handle takes the arguments, or the reason there are none, and
        /// whatever comes after the timeout is ignored. Dropping the handle
        /// without either fails the call.
        fn begin_call(
            self: &Module,
            method: u8,
            completion: UniquePtr<Completion>,
        ) -> Box<PendingCall>;

        /// A call started with `begin_call`, waiting for its arguments.
        type PendingCall;

        /// Gives the call its arguments (as for `call_async`). Once only.
        fn supply(self: &mut PendingCall, arguments: &CxxVector<CxxString>);

        /// The agent could not give them: the method's failure meaning
        /// applies, with `message` as the cause. Once only.
        fn fail(self: &mut PendingCall, message: &str);

        /// Answers an asynchronous call that failed in the shim before it
        /// reached the core (an exception while converting its arguments)
        /// with the method's own failure meaning: `completion` is completed,
        /// or dropped for a watch (a failed watch would destroy a healthy
        /// container).
        fn fail_async(self: &Module, method: u8, message: &str, completion: UniquePtr<Completion>);

        /// Stops the module before the shim destroys it: its watch loops
        /// end, its running commands are killed as at a timeout, and no
        /// completion is completed or destroyed from then on (the host may
        /// be finalizing libprocess). Idempotent.
        fn shutdown(self: &Module);

        /// Counters for libprocess metrics: `counter` 0 = calls, 1 = errors,
        /// 2 = timeouts.
        fn metric_value(self: &Module, method: u8, counter: u8) -> u64;

        /// The gauges this module has (`metrics::ModuleGauge` numbers),
        /// for the shim to register.
        fn module_gauges(self: &Module) -> Vec<u8>;
        /// A gauge's name, e.g. `commands_running`.
        fn module_gauge_name(gauge: u8) -> &'static str;
        /// A gauge's value now.
        fn module_gauge(self: &Module, gauge: u8) -> u64;
    }

    unsafe extern "C++" {
        include!("mesos-command-modules/shim/bridge.h");

        /// The shim's pending `process::Promise` for one asynchronous call.
        #[allow(missing_debug_implementations)]
        type Completion;

        /// Completes the promise. Never throws; safe from any thread.
        fn complete(completion: UniquePtr<Completion>, outcome: Outcome);

        /// Writes one log record to the host's log (glog inside Mesos, the
        /// standard error elsewhere). `level`: 0 info, 1 warning, 2 error.
        fn host_log(level: i32, message: &str);
    }
}

// SAFETY: a `Completion` only owns a libprocess `Promise`, whose operations
// are thread-safe (MESOS-CONTRACT.md section 7); the shim documents this.
unsafe impl Send for bridge::Completion {}

/// The module instance handed to C++.
#[derive(Debug)]
pub struct Module {
    core: Arc<CoreModule>,
    gate: Arc<Gate>,
}

/// Whether completions may still reach the shim. A completion is
/// delivered (or destroyed) under the read lock; [`Module::shutdown`] takes
/// the write lock, so that once it returns no completion is running in the
/// shim and none will: the rest are forgotten, since destroying one
/// dispatches to libprocess, which may be finalized by then.
#[derive(Debug, Default)]
struct Gate {
    closed: RwLock<bool>,
}

impl Gate {
    /// Runs `deliver` unless the gate is closed; returns whether it ran.
    fn pass(&self, deliver: impl FnOnce()) -> bool {
        let closed = self.closed.read().unwrap_or_else(|p| p.into_inner());
        if *closed {
            return false;
        }
        deliver();
        true
    }

    fn close(&self) {
        *self.closed.write().unwrap_or_else(|p| p.into_inner()) = true;
    }
}

/// The shim's completion of one call, passed through the module's gate.
struct Delivery {
    completion: Option<cxx::UniquePtr<bridge::Completion>>,
    gate: Arc<Gate>,
}

impl Delivery {
    fn complete(mut self, outcome: bridge::Outcome) {
        self.release(Some(outcome));
    }

    /// Completes the shim's completion with `outcome`, or destroys it when
    /// there is none, if the gate is open; forgets it otherwise.
    fn release(&mut self, outcome: Option<bridge::Outcome>) {
        let Some(completion) = self.completion.take() else {
            return;
        };
        let mut completion = Some(completion);
        let passed = self.gate.pass(|| {
            if let (Some(completion), Some(outcome)) = (completion.take(), outcome) {
                bridge::complete(completion, outcome);
            }
        });
        if !passed {
            std::mem::forget(completion);
        }
    }
}

impl Drop for Delivery {
    /// Destroyed undelivered (a watch that never reports): the shim's
    /// destructor abandons the promise, unless the module is shut down.
    fn drop(&mut self) {
        self.release(None);
    }
}

/// Runs `body`, turning a panic into an internal error.
fn guard<T>(what: &str, body: impl FnOnce() -> Result<T, CallError>) -> Result<T, CallError> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => Err(CallError::new(
            ErrorKind::Internal,
            format!("internal error in {what}: {}", panic_message(&*panic)),
        )),
    }
}

/// The C++ strings as Rust strings. Bytes that are not UTF-8 are replaced
/// with U+FFFD, never refused: stout's JSON writer passes on whatever bytes
/// a framework put in a label or a command, and Mesos runs such a task. The
/// positions of the strings that held such bytes are returned, to be
/// logged.
fn lossy_strings<'a>(values: impl Iterator<Item = &'a [u8]>) -> (Vec<String>, Vec<usize>) {
    let mut replaced = Vec::new();
    let strings = values
        .enumerate()
        .map(|(i, bytes)| match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => {
                replaced.push(i);
                String::from_utf8_lossy(bytes).into_owned()
            }
        })
        .collect();
    (strings, replaced)
}

/// A call's arguments (see [`lossy_strings`]); each one that held bytes
/// that are not UTF-8 is logged with its name.
fn arguments_of<'a>(
    module: &str,
    method: Method,
    values: impl Iterator<Item = &'a [u8]>,
) -> Vec<String> {
    let (arguments, replaced) = lossy_strings(values);
    for i in replaced {
        let name = method.contract().inputs.get(i).copied().unwrap_or("?");
        log::warn!(
            "[{module} {method}] the argument {name} holds bytes that are not valid UTF-8; \
             they were replaced with U+FFFD in the command's input"
        );
    }
    arguments
}

fn method_of(index: u8) -> Result<Method, CallError> {
    Method::from_index(index)
        .ok_or_else(|| CallError::new(ErrorKind::Internal, format!("unknown method {index}")))
}

fn to_ffi(method: Method, outcome: CoreOutcome) -> bridge::Outcome {
    let duration_ms = outcome.duration.as_secs_f64() * 1000.0;
    let (disposition, json, message, fallback) = match outcome.answer {
        Answer::Value(json) => {
            // Only where Mesos checks more than the core: never on usage's
            // path, the hottest.
            let fallback = if method.contract().output.checked_further_by_mesos() {
                failure_value(method).unwrap_or_default()
            } else {
                String::new()
            };
            (bridge::Disposition::Value, json, String::new(), fallback)
        }
        Answer::None => (
            bridge::Disposition::None,
            String::new(),
            String::new(),
            String::new(),
        ),
        Answer::Error(e) => (
            bridge::Disposition::Error,
            String::new(),
            e.message,
            String::new(),
        ),
    };
    bridge::Outcome {
        disposition,
        json,
        message,
        duration_ms,
        fallback,
    }
}

fn error_outcome(error: CallError) -> bridge::Outcome {
    bridge::Outcome {
        disposition: bridge::Disposition::Error,
        json: String::new(),
        message: error.message,
        duration_ms: 0.0,
        fallback: String::new(),
    }
}

fn create_module(
    kind: u8,
    symbol: &str,
    parameters: &cxx::CxxVector<cxx::CxxString>,
) -> Result<Box<Module>, CallError> {
    create_module_with(kind, symbol, parameters.iter().map(|s| s.as_bytes()))
}

/// The body of [`create_module`], for any source of parameters.
fn create_module_with<'a>(
    kind: u8,
    symbol: &str,
    parameters: impl Iterator<Item = &'a [u8]>,
) -> Result<Box<Module>, CallError> {
    guard("create_module", || {
        crate::logging::install_host_logger();
        let Some(kind) = ModuleKind::from_index(kind) else {
            return Err(CallError::new(
                ErrorKind::Internal,
                format!("unknown module kind {kind}"),
            ));
        };
        let (flat, replaced) = lossy_strings(parameters);
        for i in replaced {
            log::warn!(
                "{symbol}: parameter {} of the module holds bytes that are not valid UTF-8; they \
                 were replaced with U+FFFD",
                flat.get(i & !1).map_or("?", String::as_str)
            );
        }
        if flat.len() % 2 != 0 {
            return Err(CallError::new(
                ErrorKind::Internal,
                "parameters must be flattened key/value pairs",
            ));
        }
        let pairs: Vec<(String, String)> = flat
            .chunks(2)
            .map(|kv| (kv[0].clone(), kv[1].clone()))
            .collect();
        let core = CoreModule::new(kind, symbol, &pairs)
            // Every key at fault, so one restart of the agent shows them all.
            .map_err(|e| CallError::new(ErrorKind::Configuration, format!("{e:#}")))?;
        Ok(Box::new(Module {
            core: Arc::new(core),
            gate: Arc::default(),
        }))
    })
}

fn module_gauge_name(gauge: u8) -> &'static str {
    ModuleGauge::from_index(gauge).map_or("unknown", ModuleGauge::name)
}

fn method_key(method: u8) -> &'static str {
    Method::from_index(method).map_or("unknown", Method::key)
}

impl Module {
    fn supports_nesting(&self) -> bool {
        self.core.config().supports_nesting
    }

    fn supports_standalone(&self) -> bool {
        self.core.config().supports_standalone
    }

    fn module_name(&self) -> &str {
        &self.core.config().module_name
    }

    fn configured_methods(&self) -> Vec<u8> {
        self.core
            .config()
            .configured_methods()
            .map(|m| m as u8)
            .collect()
    }

    fn metric_value(&self, method: u8, counter: u8) -> u64 {
        match Method::from_index(method) {
            Some(m) => self.core.metrics().value(m, counter),
            None => 0,
        }
    }

    fn module_gauges(&self) -> Vec<u8> {
        let has_service = self.core.service().is_some();
        ModuleGauge::ALL
            .into_iter()
            .filter(|g| g.applies(has_service))
            .map(|g| g as u8)
            .collect()
    }

    fn module_gauge(&self, gauge: u8) -> u64 {
        let slots = self.core.slots();
        let outlived = self.core.runner().outlived();
        let service = self.core.service();
        match ModuleGauge::from_index(gauge) {
            Some(ModuleGauge::CommandsRunning) => slots.running() as u64,
            Some(ModuleGauge::CallsQueued) => slots.queued() as u64,
            Some(ModuleGauge::CommandsUnreaped) => outlived.pending(),
            Some(ModuleGauge::CommandsOutlived) => outlived.adopted(),
            Some(ModuleGauge::ServiceUp) => service.map_or(0, |s| u64::from(s.is_up())),
            Some(ModuleGauge::ServiceRestarts) => service.map_or(0, |s| s.restarts()),
            Some(ModuleGauge::ServiceBadLines) => service.map_or(0, |s| s.bad_lines()),
            None => 0,
        }
    }

    fn call_blocking(
        &self,
        method: u8,
        arguments: &cxx::CxxVector<cxx::CxxString>,
    ) -> bridge::Outcome {
        self.call_blocking_with(method, arguments.iter().map(|s| s.as_bytes()))
    }

    fn call_blocking_with<'a>(
        &self,
        method: u8,
        arguments: impl Iterator<Item = &'a [u8]>,
    ) -> bridge::Outcome {
        let result = guard("call_blocking", || {
            let method = method_of(method)?;
            let arguments = arguments_of(self.module_name(), method, arguments);
            Ok((method, self.core.call_blocking(method, arguments)))
        });
        match result {
            Ok((method, outcome)) => to_ffi(method, outcome),
            Err(e) => error_outcome(e),
        }
    }

    fn call_async(
        &self,
        method: u8,
        arguments: &cxx::CxxVector<cxx::CxxString>,
        completion: cxx::UniquePtr<bridge::Completion>,
    ) {
        let delivery = self.delivery(completion);
        self.call_async_with(
            method,
            arguments.iter().map(|s| s.as_bytes()),
            move |outcome| delivery.complete(outcome),
        );
    }

    fn delivery(&self, completion: cxx::UniquePtr<bridge::Completion>) -> Delivery {
        Delivery {
            completion: Some(completion),
            gate: Arc::clone(&self.gate),
        }
    }

    /// The body of [`Module::call_async`]: `complete` runs at most once,
    /// with the method's failure meaning if starting the call fails or
    /// panics, and not at all for a watch that never reports (see the
    /// module documentation).
    fn call_async_with<'a>(
        &self,
        method: u8,
        arguments: impl Iterator<Item = &'a [u8]>,
        complete: impl FnOnce(bridge::Outcome) + Send + 'static,
    ) {
        self.start_async(method, complete, |core, method, done| {
            let arguments = arguments_of(&core.config().module_name, method, arguments);
            core.spawn_call(method, arguments, done);
        });
    }

    fn begin_call(
        &self,
        method: u8,
        completion: cxx::UniquePtr<bridge::Completion>,
    ) -> Box<PendingCall> {
        let delivery = self.delivery(completion);
        self.begin_call_with(method, move |outcome| delivery.complete(outcome))
    }

    /// The body of [`Module::begin_call`].
    fn begin_call_with(
        &self,
        method: u8,
        complete: impl FnOnce(bridge::Outcome) + Send + 'static,
    ) -> Box<PendingCall> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        // An unknown method completes at once below and drops `receiver`:
        // whatever is given then goes nowhere.
        let pending = PendingCall {
            sender: Some(sender),
            module: self.module_name().to_string(),
            method: Method::from_index(method),
        };
        self.start_async(method, complete, |core, method, done| {
            let arguments = async move {
                receiver.await.unwrap_or_else(|_| {
                    Err(CallError::new(
                        ErrorKind::Internal,
                        "the shim dropped the call before giving its arguments",
                    ))
                })
            };
            core.spawn_call_awaiting(method, arguments, done);
        });
        Box::new(pending)
    }

    /// Starts an asynchronous call with `start`, which hands the core's
    /// outcome to `done`: `complete` runs at most once, with the method's
    /// failure meaning if starting fails or panics.
    fn start_async(
        &self,
        method: u8,
        complete: impl FnOnce(bridge::Outcome) + Send + 'static,
        start: impl FnOnce(&Arc<CoreModule>, Method, Done),
    ) {
        // Shared with the started call, so that whoever is first (the call,
        // or this function when starting fails) completes, and only once.
        let slot = Arc::new(Mutex::new(Some(complete)));
        let take = |slot: &Mutex<Option<_>>| slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        let for_call = Arc::clone(&slot);
        let mut known = None;
        let started = guard("call_async", || {
            let method = method_of(method)?;
            known = Some(method);
            let done: Done = Box::new(move |outcome| {
                if let (Some(outcome), Some(complete)) = (outcome, take(&for_call)) {
                    complete(to_ffi(method, outcome));
                }
            });
            start(&self.core, method, done);
            Ok(())
        });
        if let Err(e) = started {
            let outcome = match known {
                Some(method) => self
                    .core
                    .internal_failure(method, e, Duration::ZERO)
                    .map(|o| to_ffi(method, o)),
                None => Some(error_outcome(e)),
            };
            if let (Some(outcome), Some(complete)) = (outcome, take(&slot)) {
                complete(outcome);
            }
        }
    }

    fn fail_async(
        &self,
        method: u8,
        message: &str,
        completion: cxx::UniquePtr<bridge::Completion>,
    ) {
        let delivery = self.delivery(completion);
        let outcome = guard("fail_async", || {
            let method = method_of(method)?;
            let e = CallError::new(ErrorKind::Internal, message);
            Ok(self
                .core
                .internal_failure(method, e, Duration::ZERO)
                .map(|o| (method, o)))
        });
        match outcome {
            Ok(Some((method, outcome))) => delivery.complete(to_ffi(method, outcome)),
            Ok(None) => drop(delivery),
            Err(e) => delivery.complete(error_outcome(e)),
        }
    }

    fn shutdown(&self) {
        // Completions first: none may run in the shim from here on.
        self.gate.close();
        let _ = guard("shutdown", || {
            self.core.shutdown();
            Ok(())
        });
    }
}

/// What a started call does with the core's outcome.
type Done = Box<dyn FnOnce(Option<CoreOutcome>) + Send>;

/// See `bridge::begin_call`.
#[derive(Debug)]
pub struct PendingCall {
    /// `None` once the arguments (or their absence) were given.
    sender: Option<tokio::sync::oneshot::Sender<Result<Vec<String>, CallError>>>,
    module: String,
    method: Option<Method>,
}

impl PendingCall {
    fn supply(&mut self, arguments: &cxx::CxxVector<cxx::CxxString>) {
        self.supply_with(arguments.iter().map(|s| s.as_bytes()));
    }

    fn supply_with<'a>(&mut self, arguments: impl Iterator<Item = &'a [u8]>) {
        let (Some(sender), Some(method)) = (self.sender.take(), self.method) else {
            return;
        };
        let _ = guard("supply", || {
            // A call that timed out has dropped its receiver already.
            let _ = sender.send(Ok(arguments_of(&self.module, method, arguments)));
            Ok(())
        });
    }

    fn fail(&mut self, message: &str) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Err(CallError::new(ErrorKind::Internal, message)));
        }
    }
}

impl Drop for Module {
    /// A module the shim destroys without a shutdown is shut down here.
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The entry points' bodies without cxx types, exactly as the bridge runs
/// them once it has the C++ strings' bytes: for tests and fuzzing, which
/// cannot build `CxxVector`s. The shim never calls these.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// [`bridge`]'s `create_module`, parameters flattened as key, value, ...
    pub fn create_module(
        kind: u8,
        symbol: &str,
        parameters: &[&[u8]],
    ) -> Result<Box<Module>, CallError> {
        create_module_with(kind, symbol, parameters.iter().copied())
    }

    impl Module {
        /// [`bridge`]'s `call_blocking`.
        pub fn call_blocking_bytes(&self, method: u8, arguments: &[&[u8]]) -> bridge::Outcome {
            self.call_blocking_with(method, arguments.iter().copied())
        }

        /// [`bridge`]'s `call_async`, `complete` standing for the shim's
        /// completion.
        pub fn call_async_bytes(
            &self,
            method: u8,
            arguments: &[&[u8]],
            complete: impl FnOnce(bridge::Outcome) + Send + 'static,
        ) {
            self.call_async_with(method, arguments.iter().copied(), complete);
        }

        /// [`bridge`]'s `begin_call`, `complete` standing for the shim's
        /// completion.
        pub fn begin_call_bytes(
            &self,
            method: u8,
            complete: impl FnOnce(bridge::Outcome) + Send + 'static,
        ) -> Box<PendingCall> {
            self.begin_call_with(method, complete)
        }

        /// [`bridge`]'s `shutdown`.
        pub fn shut_down(&self) {
            self.shutdown();
        }

        /// [`bridge`]'s `module_gauge`.
        pub fn gauge(&self, gauge: u8) -> u64 {
            self.module_gauge(gauge)
        }

        /// [`bridge`]'s `metric_value`.
        pub fn metric(&self, method: u8, counter: u8) -> u64 {
            self.metric_value(method, counter)
        }
    }

    impl PendingCall {
        /// [`bridge`]'s `supply`.
        pub fn supply_bytes(&mut self, arguments: &[&[u8]]) {
            self.supply_with(arguments.iter().copied());
        }

        /// [`bridge`]'s `fail`.
        pub fn fail_with(&mut self, message: &str) {
            self.fail(message);
        }
    }

    impl Module {
        /// The core module behind the handle.
        pub fn core(&self) -> &CoreModule {
            &self.core
        }
    }
}
