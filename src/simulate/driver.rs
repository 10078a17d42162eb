//! The simulated agent: calls the modules in the order and with the
//! concurrency a Mesos 1.11.0 agent uses (`shared/MESOS-CONTRACT.md`
//! sections 1-2).
//!
//! * Hooks run one at a time, under one lock shared by every hook module
//!   (the `HookManager` mutex), chained in manifest order: a decorator sees
//!   the previous one's result.
//! * For one container, `prepare` runs on each isolator in turn, then every
//!   `watch` is registered, then `isolate` runs on all isolators at once,
//!   then the post-fetch hook. `cleanup` runs in reverse isolator order, one
//!   after the other, nested containers before their parent.
//! * Different containers proceed concurrently (at most `parallel` at a
//!   time), and `usage` is polled on every running container.
//! * A watch that reports a limitation gets its container destroyed, as the
//!   containerizer does: at the container's next step (a usage round or its
//!   teardown), with a TASK_FAILED carrying the limitation's reason.
//! * An agent restart drops every module instance, creates new ones, and
//!   calls `recover` with the containers still running; their watches are
//!   registered again.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{Mutex as AsyncMutex, Semaphore};
use tokio::task::JoinHandle;

use super::plan::{ContainerPlan, Plan};
use super::report::{CallRecord, CallResult, Event, ModuleRow, Phase, Progress, SummaryRow};
use super::Observer;
use crate::error::{CallError, ErrorKind};
use crate::input::Input;
use crate::method::{Method, ModuleKind};
use crate::module::{Answer, Module, Outcome, StateMode};

/// One command module of the manifest, with the parameters it is created
/// with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSpec {
    /// The module (symbol) name, e.g. `com_criteo_mesos_CommandIsolator2`.
    pub symbol: String,
    pub kind: ModuleKind,
    pub parameters: Vec<(String, String)>,
}

/// What the driver needs of the options.
#[derive(Clone, Debug)]
pub(super) struct DriverOptions {
    pub parallel: usize,
    pub usage_rounds: usize,
    pub restart: bool,
    pub net_namespaces: bool,
}

/// What the driver hands back besides the records.
#[derive(Debug, Default)]
pub(super) struct Driven {
    pub summary: Vec<SummaryRow>,
    pub launched: usize,
    pub launch_failures: usize,
    pub limited: usize,
    /// Containers destroyed by a QoS correction.
    pub preempted: usize,
    pub restarts: usize,
    /// Modules with a service helper, and how many times their helpers
    /// were started again, summed over agent restarts.
    pub services: usize,
    pub helper_restarts: u64,
    /// Each module's own counters, summed over agent restarts.
    pub modules: Vec<ModuleRow>,
    /// Directories where the isolators keep state, and temp directories.
    pub state_directories: Vec<PathBuf>,
}

/// Collects records and forwards events to the observer.
pub(super) struct Recorder {
    start: Instant,
    seq: AtomicU64,
    records: Mutex<Vec<CallRecord>>,
    problems: Mutex<Vec<String>>,
    progress: Mutex<Progress>,
    observer: Observer,
}

impl Recorder {
    pub fn new(observer: Observer, containers: usize) -> Recorder {
        Recorder {
            start: Instant::now(),
            seq: AtomicU64::new(0),
            records: Mutex::new(Vec::new()),
            problems: Mutex::new(Vec::new()),
            progress: Mutex::new(Progress {
                containers,
                ..Progress::default()
            }),
            observer,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn record(&self, mut record: CallRecord) {
        let failed = matches!(record.result, CallResult::Failed(_));
        self.update(|p| {
            p.calls += 1;
            p.failures += u64::from(failed);
        });
        // Numbered and reported under one lock, so that the trace and the
        // JSON lines come out in sequence order whatever the concurrency.
        let mut records = lock(&self.records);
        record.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        (self.observer)(&Event::Call(record.clone()));
        records.push(record);
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        let now = {
            let mut p = lock(&self.progress);
            change(&mut p);
            *p
        };
        (self.observer)(&Event::Progress(now));
    }

    pub fn phase(&self, phase: Phase, text: impl Into<String>) {
        (self.observer)(&Event::Phase(phase, text.into()));
    }

    pub fn note(&self, text: impl Into<String>) {
        (self.observer)(&Event::Note(text.into()));
    }

    /// Something of the simulator's own went wrong (not a module's call):
    /// the run cannot be trusted.
    pub fn problem(&self, text: impl Into<String>) {
        let text = text.into();
        (self.observer)(&Event::Note(format!("PROBLEM: {text}")));
        lock(&self.problems).push(text);
    }

    pub fn take_records(&self) -> Vec<CallRecord> {
        std::mem::take(&mut *lock(&self.records))
    }

    pub fn take_problems(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.problems))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A loaded module instance.
#[derive(Clone)]
struct Instance {
    module: Arc<Module>,
    name: String,
}

/// The module instances of one agent process.
struct Agent {
    hooks: Vec<Instance>,
    isolators: Vec<Instance>,
    /// The resource estimator and the QoS controller, when the manifest
    /// has them (the agent loads at most one of each).
    estimator: Option<Instance>,
    qos_controller: Option<Instance>,
}

impl Agent {
    /// Creates every module as the agent does at start. A module that does
    /// not load stops the agent (here: the simulation).
    fn load(specs: &[ModuleSpec]) -> Result<Agent, String> {
        let mut agent = Agent {
            hooks: Vec::new(),
            isolators: Vec::new(),
            estimator: None,
            qos_controller: None,
        };
        for spec in specs {
            let module = Module::with_state(
                spec.kind,
                &spec.symbol,
                &spec.parameters,
                StateMode::Checkpointed,
            )
            .map_err(|e| format!("{}: {e}", spec.symbol))?;
            let instance = Instance {
                name: module.config().module_name.clone(),
                module: Arc::new(module),
            };
            match spec.kind {
                ModuleKind::Hook => agent.hooks.push(instance),
                ModuleKind::Isolator => agent.isolators.push(instance),
                ModuleKind::ResourceEstimator => agent.estimator = Some(instance),
                ModuleKind::QoSController => agent.qos_controller = Some(instance),
            }
        }
        Ok(agent)
    }

    /// Stops every module, as an agent exiting does, and waits for their
    /// service helpers to be gone.
    async fn stop(&self) {
        for instance in self.instances() {
            instance.module.stop().await;
        }
    }

    /// Adds every instance's service helper restarts to `driven`.
    fn add_helper_restarts(&self, driven: &mut Driven) {
        for instance in self.instances() {
            if let Some(service) = instance.module.service() {
                driven.services += 1;
                driven.helper_restarts += service.restarts();
            }
        }
    }

    /// Adds every instance's metrics to `rows`.
    fn add_metrics(&self, rows: &mut Vec<SummaryRow>) {
        for instance in self.instances() {
            let kind = instance.module.config().kind;
            for method in Method::of_kind(kind) {
                let stats = instance.module.metrics().stats(method);
                // An error of the module itself counts in errors, not calls.
                if stats.calls == 0 && stats.errors == 0 {
                    continue;
                }
                match rows
                    .iter_mut()
                    .find(|r| r.module == instance.name && r.method == method)
                {
                    Some(row) => row.add(&stats),
                    None => {
                        let mut row = SummaryRow::new(&instance.name, method);
                        row.add(&stats);
                        rows.push(row);
                    }
                }
            }
        }
    }

    /// Adds every instance's own counters to `rows`: the gauges and
    /// counters `/metrics/snapshot` shows per module that the simulator can
    /// know. Called once the instances have stopped: a command still being
    /// reaped then is given up to a second to be.
    async fn add_module_counters(&self, rows: &mut Vec<ModuleRow>) {
        for instance in self.instances() {
            let module = &instance.module;
            let outlived = module.runner().outlived();
            let settled = tokio::time::Instant::now() + Duration::from_secs(1);
            while outlived.pending() > 0 && tokio::time::Instant::now() < settled {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let row = match rows.iter_mut().find(|r| r.module == instance.name) {
                Some(row) => row,
                None => {
                    rows.push(ModuleRow::new(&instance.name));
                    let last = rows.len() - 1;
                    &mut rows[last]
                }
            };
            row.commands_running_peak = row.commands_running_peak.max(module.slots().peak());
            row.commands_outlived += outlived.adopted();
            row.commands_unreaped += outlived.pending();
            if let Some(service) = module.service() {
                let (restarts, bad_lines) = row.service.unwrap_or((0, 0));
                row.service = Some((
                    restarts + service.restarts(),
                    bad_lines + service.bad_lines(),
                ));
            }
        }
    }

    /// Every instance, in manifest order by kind.
    fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.hooks
            .iter()
            .chain(&self.isolators)
            .chain(&self.estimator)
            .chain(&self.qos_controller)
    }

    fn isolators_for(&self, nested: bool) -> Vec<Instance> {
        self.isolators
            .iter()
            .filter(|i| !nested || i.module.config().supports_nesting)
            .cloned()
            .collect()
    }
}

/// The container's init process stand-in: a `cat` reading a pipe from the
/// simulator, so that it ends with the simulator even if the simulator is
/// killed. In its own network namespace with `--net-namespaces`.
struct Placeholder {
    child: Child,
}

impl Placeholder {
    fn spawn(net_namespace: bool) -> Result<Placeholder, String> {
        let mut command = if net_namespace {
            let mut c = Command::new("unshare");
            c.args(["--net", "cat"]);
            c
        } else {
            Command::new("cat")
        };
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the container's stand-in process ({}): {e}",
                    if net_namespace {
                        "unshare --net cat"
                    } else {
                        "cat"
                    }
                )
            })?;
        Ok(Placeholder { child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Checks, before a run, that stand-in processes can be started (and, with
/// network namespaces, that `unshare --net` works for this user).
pub(super) fn probe_placeholder(net_namespace: bool) -> Result<(), String> {
    if net_namespace {
        let out = Command::new("unshare")
            .args(["--net", "true"])
            .output()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "unshare --net fails: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let probe = Placeholder::spawn(net_namespace)?;
    drop(probe);
    Ok(())
}

impl Drop for Placeholder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a container is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LiveState {
    Planned,
    Running,
    LaunchFailed,
    Gone,
}

/// A container and what the simulated agent holds for it.
struct Live {
    plan: ContainerPlan,
    state: LiveState,
    init: Option<Placeholder>,
    nested_init: Option<Placeholder>,
    watches: Vec<JoinHandle<()>>,
    /// Set by a watch that reported a limitation (its message), or by a
    /// QoS correction (then `preempted`).
    limitation: Arc<Mutex<Option<(String, Value)>>>,
    preempted: bool,
}

/// Who a call is about, for the trace.
#[derive(Clone, Debug)]
struct Subject {
    alias: String,
    id: String,
}

/// Shared by every task of the simulation.
struct Ctx {
    recorder: Arc<Recorder>,
    /// The `HookManager` mutex.
    hook_lock: AsyncMutex<()>,
    options: DriverOptions,
}

/// Runs the whole simulation.
pub(super) async fn drive(
    specs: &[ModuleSpec],
    plan: Plan,
    options: DriverOptions,
    recorder: Arc<Recorder>,
) -> Result<Driven, String> {
    let ctx = Arc::new(Ctx {
        recorder,
        hook_lock: AsyncMutex::new(()),
        options,
    });
    let mut driven = Driven::default();
    let mut agent = Arc::new(Agent::load(specs)?);
    driven.state_directories = agent
        .isolators
        .iter()
        .map(|i| i.module.config().state_directory.clone())
        .collect();

    ctx.recorder.phase(
        Phase::AgentStart,
        format!(
            "agent starts: {} hook module(s), {} isolator module(s), {} resource estimator(s), \
             {} QoS controller(s)",
            agent.hooks.len(),
            agent.isolators.len(),
            usize::from(agent.estimator.is_some()),
            usize::from(agent.qos_controller.is_some())
        ),
    );
    agent_start(&ctx, &agent, &plan.agent_slave_info).await;

    let mut lives: Vec<Live> = plan
        .containers
        .into_iter()
        .map(|plan| Live {
            plan,
            state: LiveState::Planned,
            init: None,
            nested_init: None,
            watches: Vec::new(),
            limitation: Arc::new(Mutex::new(None)),
            preempted: false,
        })
        .collect();

    ctx.recorder.phase(
        Phase::Launch,
        format!(
            "launching {} container(s), at most {} at a time",
            lives.len(),
            ctx.options.parallel
        ),
    );
    lives = for_each(&ctx, &agent, lives, launch).await?;
    first_watch_rounds(&ctx, &agent, &lives).await;
    driven.launched = lives
        .iter()
        .filter(|l| l.state == LiveState::Running)
        .count();
    driven.launch_failures = lives
        .iter()
        .filter(|l| l.state == LiveState::LaunchFailed)
        .count();

    let (before, after) = if ctx.options.restart {
        let first = ctx.options.usage_rounds.div_ceil(2);
        (first, ctx.options.usage_rounds - first)
    } else {
        (ctx.options.usage_rounds, 0)
    };
    lives = usage_rounds(&ctx, &agent, lives, before, 0).await?;

    if ctx.options.restart {
        let running = lives
            .iter()
            .filter(|l| l.state == LiveState::Running)
            .count();
        ctx.recorder.phase(
            Phase::Restart,
            format!(
                "agent restart: the module instances are dropped and created again; recover \
                 gets the {running} running container(s)"
            ),
        );
        for live in &mut lives {
            for handle in live.watches.drain(..) {
                handle.abort();
                let _ = handle.await;
            }
        }
        agent.add_metrics(&mut driven.summary);
        agent.add_helper_restarts(&mut driven);
        agent.stop().await;
        agent.add_module_counters(&mut driven.modules).await;
        drop(agent);
        agent = Arc::new(Agent::load(specs)?);
        driven.restarts += 1;
        agent_start(&ctx, &agent, &plan.agent_slave_info).await;
        recover(&ctx, &agent, &mut lives).await;
        lives = usage_rounds(&ctx, &agent, lives, after, before).await?;
    }
    oversubscription(&ctx, &agent, &mut lives, &plan.agent_slave_info).await;

    ctx.recorder.phase(
        Phase::Teardown,
        "tasks finish: terminal status, update, cleanup (reverse isolator order), remove executor",
    );
    lives = for_each(&ctx, &agent, lives, teardown).await?;
    driven.limited = lives
        .iter()
        .filter(|l| !l.preempted && lock(&l.limitation).is_some())
        .count();
    driven.preempted = lives.iter().filter(|l| l.preempted).count();

    ctx.recorder
        .phase(Phase::Master, "the master marks the agent lost");
    let lost = json!({"slave_info": plan.lost_slave_info});
    chain_hooks(
        &ctx,
        &agent,
        Phase::Master,
        Method::HookMasterSlaveLostHook,
        lost,
        None,
    )
    .await;

    for live in &mut lives {
        for handle in live.watches.drain(..) {
            handle.abort();
            let _ = handle.await;
        }
    }
    agent.add_metrics(&mut driven.summary);
    agent.add_helper_restarts(&mut driven);
    agent.stop().await;
    agent.add_module_counters(&mut driven.modules).await;
    // Modules in manifest order, methods in contract order.
    let order: Vec<String> = agent.instances().map(|i| i.name.clone()).collect();
    driven.summary.sort_by_key(|r| {
        (
            order
                .iter()
                .position(|n| *n == r.module)
                .unwrap_or(usize::MAX),
            r.method as usize,
        )
    });
    Ok(driven)
}

/// `Slave::initialize`: the resources then the attributes decorators.
async fn agent_start(ctx: &Arc<Ctx>, agent: &Arc<Agent>, slave_info: &Value) {
    let doc = json!({"slave_info": slave_info});
    let doc = chain_hooks(
        ctx,
        agent,
        Phase::AgentStart,
        Method::HookSlaveResourcesDecorator,
        doc,
        None,
    )
    .await;
    chain_hooks(
        ctx,
        agent,
        Phase::AgentStart,
        Method::HookSlaveAttributesDecorator,
        doc,
        None,
    )
    .await;
}

/// Runs `step` on every container, at most `parallel` at a time, and gives
/// the containers back in order.
async fn for_each<F, Fut>(
    ctx: &Arc<Ctx>,
    agent: &Arc<Agent>,
    lives: Vec<Live>,
    step: F,
) -> Result<Vec<Live>, String>
where
    F: Fn(Arc<Ctx>, Arc<Agent>, Live) -> Fut,
    Fut: Future<Output = Live> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(ctx.options.parallel.max(1)));
    let handles: Vec<_> = lives
        .into_iter()
        .map(|live| {
            let work = step(Arc::clone(ctx), Arc::clone(agent), live);
            let slots = Arc::clone(&slots);
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await;
                work.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(
            handle
                .await
                .map_err(|e| format!("a simulated container's task failed: {e}"))?,
        );
    }
    Ok(out)
}

/// Calls one method of one module and records it.
async fn invoke(
    ctx: &Ctx,
    phase: Phase,
    instance: &Instance,
    method: Method,
    doc: &Value,
    subject: Option<&Subject>,
) -> CallResult {
    let called = ctx.recorder.elapsed();
    let configured = instance.module.config().command(method).is_some();
    let outcome = match Input::from_document(&doc.to_string()) {
        Ok(input) => {
            let _hooks = match method.kind() {
                ModuleKind::Hook => Some(ctx.hook_lock.lock().await),
                _ => None,
            };
            instance.module.call(method, input).await
        }
        Err(e) => Some(Outcome {
            answer: Answer::Error(e.clone()),
            duration: Duration::ZERO,
            failure: Some(e),
        }),
    };
    let ended = ctx.recorder.elapsed();
    let (result, duration) = match outcome {
        Some(o) => (classify(o.answer, o.failure), o.duration),
        None => (CallResult::Nothing, ended.saturating_sub(called)),
    };
    ctx.recorder.record(CallRecord {
        seq: 0,
        // The call itself, not the wait for the hook lock.
        at: ended.saturating_sub(duration),
        phase,
        module: instance.name.clone(),
        method,
        container: subject.map(|s| s.alias.clone()),
        container_id: subject.map(|s| s.id.clone()),
        duration,
        result: result.clone(),
        configured,
    });
    result
}

fn classify(answer: Answer, failure: Option<CallError>) -> CallResult {
    match (answer, failure) {
        (Answer::Error(e), _) => CallResult::Failed(e),
        (_, Some(e)) => CallResult::Absorbed(e),
        (Answer::Value(v), None) => CallResult::Value(v),
        (Answer::None, None) => CallResult::Nothing,
    }
}

/// Calls a hook method on every hook module in turn, each seeing the
/// document as the previous one left it; `apply` folds a result in.
async fn chain_hooks(
    ctx: &Ctx,
    agent: &Agent,
    phase: Phase,
    method: Method,
    mut doc: Value,
    subject: Option<&Subject>,
) -> Value {
    for hook in &agent.hooks {
        if let CallResult::Value(text) = invoke(ctx, phase, hook, method, &doc, subject).await {
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                fold_hook_result(method, &mut doc, value);
            }
        }
    }
    doc
}

/// Puts a decorator's result where Mesos puts it before the next hook.
fn fold_hook_result(method: Method, doc: &mut Value, value: Value) {
    match method {
        Method::HookMasterLaunchTaskResourceDecorator => doc["task_info"]["resources"] = value,
        Method::HookMasterLaunchTaskLabelDecorator | Method::HookSlaveRunTaskLabelDecorator => {
            doc["task_info"]["labels"] = value
        }
        Method::HookSlaveExecutorEnvironmentDecorator => {
            if doc["executor_info"].get("command").is_none() {
                doc["executor_info"]["command"] = json!({});
            }
            doc["executor_info"]["command"]["environment"] = value;
        }
        // Only `labels` and `container_status` are taken from the result.
        Method::HookSlaveTaskStatusDecorator => {
            for field in ["labels", "container_status"] {
                if let Some(v) = value.get(field) {
                    doc["status"][field] = v.clone();
                }
            }
        }
        Method::HookSlaveResourcesDecorator => doc["slave_info"]["resources"] = value,
        Method::HookSlaveAttributesDecorator => doc["slave_info"]["attributes"] = value,
        _ => {}
    }
}

/// Calls an isolator method on several isolators at once and waits for all.
async fn on_isolators(
    ctx: &Arc<Ctx>,
    isolators: Vec<Instance>,
    phase: Phase,
    method: Method,
    doc: Value,
    subject: &Subject,
) -> Vec<CallResult> {
    let doc = Arc::new(doc);
    let handles: Vec<_> = isolators
        .into_iter()
        .map(|instance| {
            let (ctx, doc, subject) = (Arc::clone(ctx), Arc::clone(&doc), subject.clone());
            tokio::spawn(async move {
                invoke(&ctx, phase, &instance, method, &doc, Some(&subject)).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.unwrap_or_else(|e| {
            CallResult::Failed(CallError::new(
                ErrorKind::Internal,
                format!("the {method} task failed: {e}"),
            ))
        }));
    }
    results
}

fn first_failure(results: &[CallResult]) -> Option<CallError> {
    results.iter().find_map(|r| match r {
        CallResult::Failed(e) => Some(e.clone()),
        _ => None,
    })
}

/// A launched container's first watch round runs at once (the module
/// starts it when the watch is registered, before isolate): the simulated
/// containers, which live milliseconds where a task lives seconds or more,
/// are kept running until it has. So this waits, after the launches, until
/// every isolator with a watch command has counted at least one round (its
/// metrics' `calls`, failed rounds included) per running container it
/// watches, or until the longest a round can take (the watch's timeout, the
/// grace period and half a second, then a second more) has passed.
/// Recovered containers are not waited for: after an agent restart their
/// first rounds are spread over one `isolator_watch_frequence`, as in the
/// agent.
async fn first_watch_rounds(ctx: &Arc<Ctx>, agent: &Arc<Agent>, lives: &[Live]) {
    let running: Vec<&Live> = lives
        .iter()
        .filter(|l| l.state == LiveState::Running)
        .collect();
    let mut waits: Vec<(Instance, u64, Duration)> = Vec::new();
    let (top, nesting) = (agent.isolators_for(false), agent.isolators_for(true));
    for (nested, isolators) in [(false, &top), (true, &nesting)] {
        for instance in isolators {
            let config = instance.module.config();
            let Some(watch) = config.command(Method::IsolatorWatch) else {
                continue;
            };
            let containers = running
                .iter()
                .filter(|l| !nested || l.plan.nested.is_some())
                .count() as u64;
            let bound = watch.timeout + config.kill_grace + Duration::from_millis(1500);
            match waits.iter_mut().find(|(i, _, _)| i.name == instance.name) {
                Some((_, expected, _)) => *expected += containers,
                None => waits.push((instance.clone(), containers, bound)),
            }
        }
    }
    let started = tokio::time::Instant::now();
    let mut waited_for = 0;
    for (instance, expected, bound) in &waits {
        let rounds = || instance.module.metrics().stats(Method::IsolatorWatch).calls;
        if rounds() >= *expected {
            continue;
        }
        waited_for += expected - rounds();
        let deadline = started + *bound;
        while rounds() < *expected && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if rounds() < *expected {
            ctx.recorder.note(format!(
                "{}: {} of {} first watch round(s) had not ended {:.1}s after the launches",
                instance.name,
                expected - rounds(),
                expected,
                bound.as_secs_f64()
            ));
        }
    }
    if waited_for > 0 {
        ctx.recorder.note(format!(
            "the containers ran {:.3}s more, until the first watch round(s) had run (a \
             launched container's first round runs at once)",
            started.elapsed().as_secs_f64()
        ));
    }
}

/// Registers the container's watch on every isolator.
fn register_watches(
    ctx: &Arc<Ctx>,
    isolators: &[Instance],
    phase: Phase,
    id: &Value,
    subject: &Subject,
    limitation: &Arc<Mutex<Option<(String, Value)>>>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for instance in isolators {
        if instance
            .module
            .config()
            .command(Method::IsolatorWatch)
            .is_none()
        {
            // The module answers a future that never completes.
            continue;
        }
        let input = match Input::from_document(&json!({"container_id": id}).to_string()) {
            Ok(input) => input,
            Err(_) => continue,
        };
        let at = ctx.recorder.elapsed();
        let record = |result: CallResult, duration: Duration, at: Duration| CallRecord {
            seq: 0,
            at,
            phase,
            module: instance.name.clone(),
            method: Method::IsolatorWatch,
            container: Some(subject.alias.clone()),
            container_id: Some(subject.id.clone()),
            duration,
            result,
            configured: true,
        };
        ctx.recorder
            .record(record(CallResult::Watching, Duration::ZERO, at));
        let (ctx, instance_c, limitation) =
            (Arc::clone(ctx), instance.clone(), Arc::clone(limitation));
        let template = record(CallResult::Watching, Duration::ZERO, at);
        handles.push(tokio::spawn(async move {
            let outcome = instance_c.module.call(Method::IsolatorWatch, input).await;
            let Some(outcome) = outcome else { return };
            let (result, reported) = match outcome.answer {
                Answer::Value(text) => {
                    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    (CallResult::Limitation(text), value)
                }
                Answer::Error(e) => (CallResult::Failed(e), Value::Null),
                Answer::None => return,
            };
            let message = reported
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the watch ended")
                .to_string();
            lock(&limitation).get_or_insert((message, reported));
            ctx.recorder.record(CallRecord {
                at: ctx.recorder.elapsed().saturating_sub(outcome.duration),
                duration: outcome.duration,
                result,
                ..template
            });
        }));
    }
    handles
}

fn subject(alias: &str, id: &str) -> Subject {
    Subject {
        alias: alias.to_string(),
        id: id.to_string(),
    }
}

/// Launches one container: hooks, prepare, watch, isolate, post-fetch, and
/// the first status updates; a nested container for a task group.
async fn launch(ctx: Arc<Ctx>, agent: Arc<Agent>, mut live: Live) -> Live {
    let top = subject(&live.plan.alias, &live.plan.id_text);
    let p = &mut live.plan;
    if let Err(e) = std::fs::create_dir_all(&p.sandbox) {
        ctx.recorder.problem(format!(
            "{}: cannot create the sandbox {}: {e}",
            p.alias,
            p.sandbox.display()
        ));
    }

    // The master: resources then labels, each chained over every hook.
    let doc = json!({"task_info": p.master_task_info, "slave_resources": p.slave_resources});
    let doc = chain_hooks(
        &ctx,
        &agent,
        Phase::Launch,
        Method::HookMasterLaunchTaskResourceDecorator,
        doc,
        Some(&top),
    )
    .await;
    p.master_task_info = doc["task_info"].clone();
    let doc = json!({"task_info": p.master_task_info, "framework_info": p.master_framework_info,
                     "slave_info": p.master_slave_info});
    let doc = chain_hooks(
        &ctx,
        &agent,
        Phase::Launch,
        Method::HookMasterLaunchTaskLabelDecorator,
        doc,
        Some(&top),
    )
    .await;
    // The labels the master decorated travel in the RunTaskMessage.
    if let Some(labels) = doc["task_info"].get("labels") {
        p.task_info["labels"] = labels.clone();
    }

    // The agent: task labels, then the executor's environment.
    let doc = json!({"task_info": p.task_info, "executor_info": p.executor_info,
                     "framework_info": p.framework_info, "slave_info": p.slave_info});
    let doc = chain_hooks(
        &ctx,
        &agent,
        Phase::Launch,
        Method::HookSlaveRunTaskLabelDecorator,
        doc,
        Some(&top),
    )
    .await;
    p.task_info = doc["task_info"].clone();
    if let (Some(labels), Some(task)) = (p.task_info.get("labels"), p.config.get_mut("task_info")) {
        task["labels"] = labels.clone();
    }
    let doc = json!({"executor_info": p.environment_executor_info});
    chain_hooks(
        &ctx,
        &agent,
        Phase::Launch,
        Method::HookSlaveExecutorEnvironmentDecorator,
        doc,
        Some(&top),
    )
    .await;

    let (id, config, sandbox) = (p.id.clone(), p.config.clone(), p.sandbox.clone());
    if let Err(e) =
        start_container(&ctx, &agent, &mut live, &id, &config, &sandbox, &top, false).await
    {
        return fail_launch(&ctx, &agent, live, e).await;
    }
    if let Some(nested) = live.plan.nested.clone() {
        let sub = subject(&nested.alias, &nested.id_text);
        if let Err(e) = std::fs::create_dir_all(&nested.sandbox) {
            ctx.recorder.problem(format!(
                "{}: cannot create the sandbox {}: {e}",
                nested.alias,
                nested.sandbox.display()
            ));
        }
        if let Err(e) = start_container(
            &ctx,
            &agent,
            &mut live,
            &nested.id,
            &nested.config,
            &nested.sandbox,
            &sub,
            true,
        )
        .await
        {
            return fail_launch(&ctx, &agent, live, e).await;
        }
    }

    let statuses = live.plan.statuses.clone();
    for update in statuses.iter().take(statuses.len().saturating_sub(1)) {
        status_update(&ctx, &agent, &live, update.clone(), true, Phase::Launch).await;
    }
    live.state = LiveState::Running;
    ctx.recorder.update(|p| p.launched += 1);
    live
}

/// prepare (each isolator in turn), the init process, watch, isolate (all
/// isolators at once), post-fetch.
#[allow(clippy::too_many_arguments)]
async fn start_container(
    ctx: &Arc<Ctx>,
    agent: &Arc<Agent>,
    live: &mut Live,
    id: &Value,
    config: &Value,
    sandbox: &std::path::Path,
    who: &Subject,
    nested: bool,
) -> Result<(), CallError> {
    let isolators = agent.isolators_for(nested);
    let doc = json!({"container_id": id, "container_config": config});
    for instance in &isolators {
        if let CallResult::Failed(e) = invoke(
            ctx,
            Phase::Launch,
            instance,
            Method::IsolatorPrepare,
            &doc,
            Some(who),
        )
        .await
        {
            return Err(e);
        }
    }
    let init = Placeholder::spawn(ctx.options.net_namespaces).map_err(|e| {
        ctx.recorder.problem(format!("{}: {e}", who.alias));
        CallError::new(ErrorKind::Spawn, e)
    })?;
    let pid = init.pid();
    if nested {
        live.nested_init = Some(init);
    } else {
        live.init = Some(init);
    }
    let watches = register_watches(ctx, &isolators, Phase::Launch, id, who, &live.limitation);
    live.watches.extend(watches);
    let results = on_isolators(
        ctx,
        isolators,
        Phase::Launch,
        Method::IsolatorIsolate,
        json!({"container_id": id, "pid": pid}),
        who,
    )
    .await;
    if let Some(e) = first_failure(&results) {
        return Err(e);
    }
    let doc = json!({"container_id": id, "directory": sandbox.display().to_string()});
    chain_hooks(
        ctx,
        agent,
        Phase::Launch,
        Method::HookSlavePostFetchHook,
        doc,
        Some(who),
    )
    .await;
    Ok(())
}

/// A failed launch: the agent sends TASK_FAILED and destroys the container.
async fn fail_launch(ctx: &Arc<Ctx>, agent: &Arc<Agent>, mut live: Live, e: CallError) -> Live {
    let message = format!("Failed to launch container: {}", e.message);
    destroy(ctx, agent, &mut live, Phase::Launch).await;
    let update = agent_update(
        &live.plan,
        "TASK_FAILED",
        "REASON_CONTAINER_LAUNCH_FAILED",
        &message,
    );
    status_update(ctx, agent, &live, update, false, Phase::Launch).await;
    remove_executor(ctx, agent, &live, Phase::Launch).await;
    live.state = LiveState::LaunchFailed;
    ctx.recorder.update(|p| p.torn_down += 1);
    live
}

/// A status update the agent generates itself (source SOURCE_SLAVE).
fn agent_update(plan: &ContainerPlan, state: &str, reason: &str, message: &str) -> Value {
    let mut update = plan.statuses.last().cloned().unwrap_or_else(|| json!({}));
    if let Some(status) = update.get_mut("status").and_then(Value::as_object_mut) {
        status.insert("state".into(), json!(state));
        status.insert("source".into(), json!("SOURCE_SLAVE"));
        status.insert("reason".into(), json!(reason));
        status.insert("message".into(), json!(message));
        status.remove("container_status");
    }
    update
}

/// A status update: the decorator hooks, then (for an executor's update)
/// the isolators' status, as `Slave::statusUpdate` does.
async fn status_update(
    ctx: &Arc<Ctx>,
    agent: &Arc<Agent>,
    live: &Live,
    mut update: Value,
    from_executor: bool,
    phase: Phase,
) {
    let top = subject(&live.plan.alias, &live.plan.id_text);
    update["status"]["timestamp"] = json!(unix_now());
    chain_hooks(
        ctx,
        agent,
        phase,
        Method::HookSlaveTaskStatusDecorator,
        update,
        Some(&top),
    )
    .await;
    if from_executor {
        on_isolators(
            ctx,
            agent.isolators_for(false),
            phase,
            Method::IsolatorStatus,
            json!({"container_id": live.plan.id}),
            &top,
        )
        .await;
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `rounds` rounds of usage on every running container; a container whose
/// watch reported a limitation is destroyed first.
async fn usage_rounds(
    ctx: &Arc<Ctx>,
    agent: &Arc<Agent>,
    mut lives: Vec<Live>,
    rounds: usize,
    done: usize,
) -> Result<Vec<Live>, String> {
    for round in 0..rounds {
        ctx.recorder.phase(
            Phase::Running,
            format!(
                "usage round {} (as /monitor/statistics polls)",
                done + round + 1
            ),
        );
        lives = for_each(ctx, agent, lives, |ctx, agent, mut live| async move {
            if live.state != LiveState::Running {
                return live;
            }
            if lock(&live.limitation).is_some() {
                return destroy_limited(&ctx, &agent, live).await;
            }
            let top = subject(&live.plan.alias, &live.plan.id_text);
            on_isolators(
                &ctx,
                agent.isolators_for(false),
                Phase::Running,
                Method::IsolatorUsage,
                json!({"container_id": live.plan.id}),
                &top,
            )
            .await;
            live.state = LiveState::Running;
            live
        })
        .await?;
    }
    Ok(lives)
}

/// `Slave::forwardOversubscribed` and `Slave::qosCorrections`, once the
/// containers run: the estimator and the QoS controller get the agent's
/// `ResourceUsage`. A KILL correction naming a running container's executor
/// preempts it as the agent does: destroyed at its next step, with a
/// TASK_LOST (TASK_GONE for a partition-aware framework) carrying
/// REASON_CONTAINER_PREEMPTED.
async fn oversubscription(ctx: &Arc<Ctx>, agent: &Arc<Agent>, lives: &mut [Live], slave: &Value) {
    if agent.estimator.is_none() && agent.qos_controller.is_none() {
        return;
    }
    let running: Vec<&mut Live> = lives
        .iter_mut()
        .filter(|l| l.state == LiveState::Running && lock(&l.limitation).is_none())
        .collect();
    ctx.recorder.phase(
        Phase::Oversubscription,
        format!(
            "the estimator and the QoS controller get the usage of {} running \
             container(s)",
            running.len()
        ),
    );
    let executors: Vec<Value> = running.iter().map(|l| usage_of(&l.plan)).collect();
    let total = slave.get("resources").cloned().unwrap_or_else(|| json!([]));
    let doc = json!({"usage": {"executors": executors, "total": total}});
    if let Some(estimator) = &agent.estimator {
        let method = Method::ResourceEstimatorOversubscribable;
        invoke(ctx, Phase::Oversubscription, estimator, method, &doc, None).await;
    }
    let Some(qos) = &agent.qos_controller else {
        return;
    };
    let method = Method::QoSControllerCorrections;
    let CallResult::Value(text) =
        invoke(ctx, Phase::Oversubscription, qos, method, &doc, None).await
    else {
        return;
    };
    let corrections: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
    for (i, correction) in corrections.iter().enumerate() {
        if running.iter().any(|l| kills(correction, &l.plan)) {
            continue;
        }
        ctx.recorder.note(format!(
            "QoS correction {i} names no running executor ({}): the agent ignores it \
             (\"Ignoring QoS correction KILL ...: {}\")",
            named_ids(&correction["kill"]),
            why_ignored(&correction["kill"], &running)
        ));
    }
    for live in running {
        let named = corrections.iter().any(|c| kills(c, &live.plan));
        if named {
            let aware = live.plan.framework_info["capabilities"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "PARTITION_AWARE"));
            let state = if aware { "TASK_GONE" } else { "TASK_LOST" };
            *lock(&live.limitation) = Some((
                "Container preempted by QoS correction".to_string(),
                json!({"reason": "REASON_CONTAINER_PREEMPTED", "state": state}),
            ));
            live.preempted = true;
            ctx.recorder.note(format!(
                "{}: a QoS correction kills its executor",
                live.plan.alias
            ));
        }
    }
}

/// Whether `correction` kills `plan`'s executor, as
/// `Slave::_qosCorrections` decides: the framework and the executor it
/// names are the executor's, and so is the container if it names one.
/// Anything else the agent logs and ignores, so the simulation must not
/// preempt on it.
fn kills(correction: &Value, plan: &ContainerPlan) -> bool {
    let kill = &correction["kill"];
    let framework = plan
        .executor_info
        .get("framework_id")
        .or_else(|| plan.framework_info.get("id"));
    let container = kill.get("container_id").filter(|v| !v.is_null());
    present_id(kill.get("framework_id")).is_some()
        && same_id(kill.get("framework_id"), framework)
        && present_id(kill.get("executor_id")).is_some()
        && same_id(
            kill.get("executor_id"),
            plan.executor_info.get("executor_id"),
        )
        && container.is_none_or(|id| same_id(Some(id), Some(&plan.id)))
}

/// An id message that is set (stout leaves `null` unset).
fn present_id(id: Option<&Value>) -> Option<&Value> {
    id.filter(|v| !v.is_null())
}

/// Whether two `FrameworkID`/`ExecutorID`/`ContainerID` messages are equal
/// as protobuf compares them: the same `value`, and for container ids the
/// same `parent`s (members stout does not know are not compared).
fn same_id(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (present_id(a), present_id(b)) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.get("value") == b.get("value") && same_id(a.get("parent"), b.get("parent"))
        }
        _ => false,
    }
}

/// The ids a KILL names, for a note: `framework "f", executor "e",
/// container "c"`.
fn named_ids(kill: &Value) -> String {
    ["framework", "executor", "container"]
        .into_iter()
        .filter_map(|what| {
            let id = present_id(kill.get(format!("{what}_id").as_str()))?;
            Some(format!(
                "{what} {}",
                id.get("value").unwrap_or(&Value::Null)
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why the agent ignores a KILL that names no running executor, in its own
/// words, by the first of its checks that fails.
fn why_ignored(kill: &Value, running: &[&mut Live]) -> &'static str {
    let framework_of = |l: &Live| {
        l.plan
            .executor_info
            .get("framework_id")
            .or_else(|| l.plan.framework_info.get("id"))
            .cloned()
    };
    let of_framework: Vec<&Live> = running
        .iter()
        .map(|l| &**l)
        .filter(|l| same_id(kill.get("framework_id"), framework_of(l).as_ref()))
        .collect();
    if of_framework.is_empty() {
        return "framework cannot be found";
    }
    if !of_framework.iter().any(|l| {
        same_id(
            kill.get("executor_id"),
            l.plan.executor_info.get("executor_id"),
        )
    }) {
        return "executor cannot be found";
    }
    "container cannot be found"
}

/// One executor of the agent's `ResourceUsage`: what it was given, and
/// statistics holding its limits, as the containerizer reports them.
fn usage_of(plan: &ContainerPlan) -> Value {
    let resources = |v: &Value| v["resources"].as_array().cloned().unwrap_or_default();
    let mut allocated = resources(&plan.executor_info);
    allocated.extend(resources(&plan.task_info));
    let scalar = |name: &str| -> f64 {
        allocated
            .iter()
            .filter(|r| r["name"] == name)
            .filter_map(|r| r["scalar"]["value"].as_f64())
            .sum()
    };
    let statistics = json!({
        "timestamp": unix_now(),
        "cpus_limit": scalar("cpus"),
        "mem_limit_bytes": (scalar("mem") * 1024.0 * 1024.0) as u64,
    });
    let task = &plan.task_info;
    let mut executor = json!({
        "executor_info": plan.executor_info,
        "allocated": allocated,
        "statistics": statistics,
        "container_id": plan.id,
    });
    if task.is_object() {
        executor["tasks"] = json!([{
            "name": task["name"],
            "id": task["task_id"],
            "resources": task["resources"],
            "labels": task.get("labels").cloned().unwrap_or_else(|| json!({})),
        }]);
    }
    executor
}

/// After an agent restart: recover on every isolator at once, then the
/// watches of every recovered container.
async fn recover(ctx: &Arc<Ctx>, agent: &Arc<Agent>, lives: &mut [Live]) {
    let running: Vec<&mut Live> = lives
        .iter_mut()
        .filter(|l| l.state == LiveState::Running)
        .collect();
    let mut handles = Vec::new();
    for instance in &agent.isolators {
        let nesting = instance.module.config().supports_nesting;
        let mut states = Vec::new();
        for live in running.iter() {
            let p = &live.plan;
            states.push(json!({
                "container_id": p.id,
                "directory": p.sandbox.display().to_string(),
                "executor_info": p.config.get("executor_info"),
                "pid": live.init.as_ref().map(Placeholder::pid),
            }));
            if let (true, Some(n)) = (nesting, &p.nested) {
                let mut state = json!({
                    "container_id": n.id,
                    "directory": n.sandbox.display().to_string(),
                    "pid": live.nested_init.as_ref().map(Placeholder::pid),
                });
                if let Some(info) = n.config.get("container_info") {
                    state["container_info"] = info.clone();
                }
                states.push(state);
            }
        }
        let doc = json!({"states": states, "orphans": []});
        let (ctx, instance) = (Arc::clone(ctx), instance.clone());
        handles.push(tokio::spawn(async move {
            invoke(
                &ctx,
                Phase::Restart,
                &instance,
                Method::IsolatorRecover,
                &doc,
                None,
            )
            .await;
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    for live in running {
        let top = subject(&live.plan.alias, &live.plan.id_text);
        let id = live.plan.id.clone();
        let watches = register_watches(
            ctx,
            &agent.isolators_for(false),
            Phase::Restart,
            &id,
            &top,
            &live.limitation,
        );
        live.watches.extend(watches);
        if let Some(n) = live.plan.nested.clone() {
            let sub = subject(&n.alias, &n.id_text);
            let watches = register_watches(
                ctx,
                &agent.isolators_for(true),
                Phase::Restart,
                &n.id,
                &sub,
                &live.limitation,
            );
            live.watches.extend(watches);
        }
    }
}

/// The end of a task: terminal status, update, then the executor exits and
/// the container is destroyed.
async fn teardown(ctx: Arc<Ctx>, agent: Arc<Agent>, mut live: Live) -> Live {
    if live.state != LiveState::Running {
        return live;
    }
    if lock(&live.limitation).is_some() {
        return destroy_limited(&ctx, &agent, live).await;
    }
    if let Some(last) = live.plan.statuses.last().cloned() {
        status_update(&ctx, &agent, &live, last, true, Phase::Teardown).await;
    }
    let resources = live
        .plan
        .config
        .get("executor_info")
        .and_then(|e| e.get("resources"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    let top = subject(&live.plan.alias, &live.plan.id_text);
    on_isolators(
        &ctx,
        agent.isolators_for(false),
        Phase::Teardown,
        Method::IsolatorUpdate,
        json!({"container_id": live.plan.id, "resource_requests": resources,
               "resource_limits": {}}),
        &top,
    )
    .await;
    destroy(&ctx, &agent, &mut live, Phase::Teardown).await;
    remove_executor(&ctx, &agent, &live, Phase::Teardown).await;
    live.state = LiveState::Gone;
    ctx.recorder.update(|p| p.torn_down += 1);
    live
}

/// A container whose watch reported a limitation: the agent destroys it and
/// sends TASK_FAILED with the limitation's reason and message.
async fn destroy_limited(ctx: &Arc<Ctx>, agent: &Arc<Agent>, mut live: Live) -> Live {
    let (message, limitation) = lock(&live.limitation)
        .clone()
        .unwrap_or_else(|| (String::new(), Value::Null));
    ctx.recorder.note(format!(
        "{}: destroyed after a limitation: {message}",
        live.plan.alias
    ));
    let text = |key: &str, default: &'static str| {
        limitation
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let (state, reason) = (
        text("state", "TASK_FAILED"),
        text("reason", "REASON_CONTAINER_LIMITATION"),
    );
    destroy(ctx, agent, &mut live, Phase::Running).await;
    let update = agent_update(&live.plan, &state, &reason, &message);
    status_update(ctx, agent, &live, update, false, Phase::Running).await;
    remove_executor(ctx, agent, &live, Phase::Running).await;
    live.state = LiveState::Gone;
    ctx.recorder.update(|p| p.torn_down += 1);
    live
}

/// The containerizer's destroy: the processes are killed, then cleanup runs
/// on each isolator in reverse order, nested container first.
async fn destroy(ctx: &Arc<Ctx>, agent: &Arc<Agent>, live: &mut Live, phase: Phase) {
    live.nested_init = None;
    live.init = None;
    let top = subject(&live.plan.alias, &live.plan.id_text);
    let mut order: Vec<(Value, Subject, bool)> = Vec::new();
    if let Some(n) = &live.plan.nested {
        order.push((n.id.clone(), subject(&n.alias, &n.id_text), true));
    }
    order.push((live.plan.id.clone(), top.clone(), false));
    for (id, who, nested) in order {
        let doc = json!({"container_id": id});
        for instance in agent.isolators_for(nested).iter().rev() {
            invoke(
                ctx,
                phase,
                instance,
                Method::IsolatorCleanup,
                &doc,
                Some(&who),
            )
            .await;
        }
    }
    for handle in live.watches.drain(..) {
        handle.abort();
        let _ = handle.await;
    }
}

/// `Slave::removeExecutor`, once the executor's tasks are terminal.
async fn remove_executor(ctx: &Arc<Ctx>, agent: &Arc<Agent>, live: &Live, phase: Phase) {
    let top = subject(&live.plan.alias, &live.plan.id_text);
    let doc = json!({"framework_info": live.plan.framework_info,
                     "executor_info": live.plan.config.get("executor_info")
                         .unwrap_or(&live.plan.executor_info)});
    chain_hooks(
        ctx,
        agent,
        phase,
        Method::HookSlaveRemoveExecutorHook,
        doc,
        Some(&top),
    )
    .await;
}
