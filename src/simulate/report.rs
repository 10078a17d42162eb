//! What a simulation produced: one record per call, the per-method summary,
//! and their renderings (a readable trace line, JSON lines for tools, a
//! table).

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{CallError, ErrorKind};
use crate::method::{Method, OnFailure};
use crate::metrics::MethodStats;

/// The step of the agent's life a call belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// `Slave::initialize`: the resources and attributes decorators.
    AgentStart,
    /// Task launch: master and agent hooks, prepare, watch, isolate,
    /// post-fetch, the first status updates.
    Launch,
    /// Containers running: usage polled.
    Running,
    /// Agent restart: new module instances, recover, watches again.
    Restart,
    /// Task end: terminal status, update, cleanup, remove-executor.
    Teardown,
    /// The resource estimator and the QoS controller get the usage.
    Oversubscription,
    /// The master marks the agent lost.
    Master,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::AgentStart => "start",
            Phase::Launch => "launch",
            Phase::Running => "running",
            Phase::Restart => "restart",
            Phase::Teardown => "teardown",
            Phase::Oversubscription => "oversubscription",
            Phase::Master => "master",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one call answered.
#[derive(Clone, Debug, PartialEq)]
pub enum CallResult {
    /// A value of the method's type (JSON).
    Value(String),
    /// `None` (no change) or `Nothing`.
    Nothing,
    /// The call failed: Mesos receives an `Error` or a failed future.
    Failed(CallError),
    /// The command failed but the module answered anyway, as its contract
    /// says (usage's empty statistics, recover carrying on).
    Absorbed(CallError),
    /// A watch was registered: it runs until a limitation or cleanup.
    Watching,
    /// A watch reported a limitation: Mesos destroys the container.
    Limitation(String),
}

impl CallResult {
    /// The error, if the command failed (also when absorbed).
    pub fn error(&self) -> Option<&CallError> {
        match self {
            CallResult::Failed(e) | CallResult::Absorbed(e) => Some(e),
            _ => None,
        }
    }

    /// A short word for the outcome: `value`, `none`, `failed`, ...
    pub fn name(&self) -> &'static str {
        match self {
            CallResult::Value(_) => "value",
            CallResult::Nothing => "none",
            CallResult::Failed(_) => "failed",
            CallResult::Absorbed(_) => "absorbed",
            CallResult::Watching => "watching",
            CallResult::Limitation(_) => "limitation",
        }
    }
}

/// One call the simulated agent made.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRecord {
    /// Order in which calls ended (1-based).
    pub seq: u64,
    /// When the call started, from the start of the simulation.
    pub at: Duration,
    pub phase: Phase,
    /// The module's `module_name`.
    pub module: String,
    pub method: Method,
    /// The container's short name in the trace (`c3`, `c3.1` for nested).
    pub container: Option<String>,
    /// The container id as Mesos prints it (`parent.child` for nested).
    pub container_id: Option<String>,
    pub duration: Duration,
    pub result: CallResult,
    /// Whether the module has a command for the method (otherwise it
    /// answered its default without running anything).
    pub configured: bool,
}

impl CallRecord {
    /// Whether a failure of this call changes what the agent does: the
    /// launch fails, the container is destroyed, or its termination fails.
    pub fn must_succeed(&self) -> bool {
        matches!(
            self.method.contract().on_failure,
            OnFailure::LaunchFails | OnFailure::DestroysContainer | OnFailure::TerminationFails
        )
    }

    /// A call that must succeed and did not.
    pub fn failed_must_succeed(&self) -> bool {
        self.must_succeed() && matches!(self.result, CallResult::Failed(_))
    }

    /// The readable trace line: when the call ended, phase, module,
    /// method, container, duration, outcome.
    pub fn trace_line(&self) -> String {
        let outcome = match &self.result {
            CallResult::Value(v) => format!("ok {}", preview(v, 72)),
            CallResult::Nothing if !self.configured => "ok (no command: default answer)".into(),
            CallResult::Nothing => "ok".into(),
            CallResult::Failed(e) => format!("FAILED [{}] {}", e.kind, e.message),
            CallResult::Absorbed(e) => {
                format!("error absorbed by the contract [{}] {}", e.kind, e.message)
            }
            CallResult::Watching => "watching until a limitation or cleanup".into(),
            CallResult::Limitation(v) => {
                format!(
                    "LIMITATION (Mesos destroys the container) {}",
                    preview(v, 60)
                )
            }
        };
        format!(
            "{:>8.3}s {:<8} {:<16} {:<44} {:<6} {:>9} {}",
            (self.at + self.duration).as_secs_f64(),
            self.phase.name(),
            self.module,
            self.method.key(),
            self.container.as_deref().unwrap_or("-"),
            format!("{:.1}ms", millis(self.duration)),
            outcome
        )
    }

    /// One JSON object for `--json`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "type": "call",
            "seq": self.seq,
            "start_s": self.at.as_secs_f64(),
            "phase": self.phase.name(),
            "module": self.module,
            "method": self.method.key(),
            "container": self.container,
            "container_id": self.container_id,
            "duration_ms": millis(self.duration),
            "outcome": self.result.name(),
            "configured": self.configured,
            "must_succeed": self.must_succeed(),
        });
        match &self.result {
            CallResult::Value(text) | CallResult::Limitation(text) => {
                v["value"] = serde_json::from_str(text).unwrap_or(Value::String(text.clone()));
            }
            CallResult::Failed(e) | CallResult::Absorbed(e) => {
                v["error_kind"] = json!(e.kind.name());
                v["error"] = json!(e.message);
            }
            CallResult::Nothing | CallResult::Watching => {}
        }
        v
    }
}

/// The first `max` characters of a JSON text, on one line.
fn preview(text: &str, max: usize) -> String {
    let flat: String = text.chars().filter(|c| *c != '\n').collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// Milliseconds, to the microsecond (no binary noise in the JSON).
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// The metrics of one module's method, summed over the module instances of
/// the run (a restart creates new ones): what the agent's
/// `/metrics/snapshot` shows as `command_modules/<module>/<method>/...`.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    pub module: String,
    pub method: Method,
    /// Command runs (every watch round counts).
    pub calls: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub total: Duration,
    pub max: Duration,
}

impl SummaryRow {
    pub fn new(module: &str, method: Method) -> SummaryRow {
        SummaryRow {
            module: module.to_string(),
            method,
            calls: 0,
            errors: 0,
            timeouts: 0,
            total: Duration::ZERO,
            max: Duration::ZERO,
        }
    }

    /// Adds one module instance's metrics.
    pub fn add(&mut self, stats: &MethodStats) {
        self.calls += stats.calls;
        self.errors += stats.errors;
        self.timeouts += stats.timeouts;
        self.total += stats.total;
        self.max = self.max.max(stats.max);
    }

    pub fn mean(&self) -> Duration {
        if self.calls == 0 {
            Duration::ZERO
        } else {
            self.total / u32::try_from(self.calls).unwrap_or(u32::MAX)
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "summary",
            "module": self.module,
            "method": self.method.key(),
            "calls": self.calls,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "mean_ms": millis(self.mean()),
            "max_ms": millis(self.max),
        })
    }
}

/// One module's own counters, summed over the module instances of the run:
/// what `/metrics/snapshot` shows as `command_modules/<module>/...` beside
/// the per-method ones, as far as a simulation can know them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleRow {
    pub module: String,
    /// The most commands of the module that ran at once (the highest
    /// `commands_running` was).
    pub commands_running_peak: usize,
    /// `commands_outlived`: commands handed to the background reaper, whose
    /// call ended (a timeout that SIGKILL did not end in time, or a call
    /// cancelled, such as a watch round stopped by cleanup) before they were
    /// reaped.
    pub commands_outlived: u64,
    /// `commands_unreaped` once the modules stopped: of those, the ones not
    /// reaped yet.
    pub commands_unreaped: u64,
    /// With a service helper: `service_restarts` and `service_bad_lines`.
    pub service: Option<(u64, u64)>,
}

impl ModuleRow {
    pub fn new(module: &str) -> ModuleRow {
        ModuleRow {
            module: module.to_string(),
            ..ModuleRow::default()
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "module",
            "module": self.module,
            "commands_running_peak": self.commands_running_peak,
            "commands_outlived": self.commands_outlived,
            "commands_unreaped": self.commands_unreaped,
            "service_restarts": self.service.map(|(restarts, _)| restarts),
            "service_bad_lines": self.service.map(|(_, bad)| bad),
        })
    }
}

/// The width of a table's module column: its longest name, or its title.
fn module_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names
        .map(str::len)
        .chain(["module".len()])
        .max()
        .unwrap_or(6)
}

/// The module counters as an aligned table (`-` where a module has no
/// service helper).
pub fn module_table(rows: &[ModuleRow]) -> String {
    let module_width = module_width(rows.iter().map(|r| r.module.as_str()));
    let mut out = format!(
        "{:<mw$}  {:>21} {:>17} {:>17} {:>16} {:>17}\n",
        "module",
        "peak commands_running",
        "commands_outlived",
        "commands_unreaped",
        "service_restarts",
        "service_bad_lines",
        mw = module_width
    );
    for r in rows {
        let (restarts, bad) = match r.service {
            Some((restarts, bad)) => (restarts.to_string(), bad.to_string()),
            None => ("-".to_string(), "-".to_string()),
        };
        out.push_str(&format!(
            "{:<mw$}  {:>21} {:>17} {:>17} {:>16} {:>17}\n",
            r.module,
            r.commands_running_peak,
            r.commands_outlived,
            r.commands_unreaped,
            restarts,
            bad,
            mw = module_width
        ));
    }
    out
}

/// The summary as an aligned table.
pub fn summary_table(rows: &[SummaryRow]) -> String {
    let module_width = module_width(rows.iter().map(|r| r.module.as_str()));
    let mut out = format!(
        "{:<mw$}  {:<44} {:>6} {:>6} {:>8} {:>9} {:>9}\n",
        "module",
        "method",
        "calls",
        "errors",
        "timeouts",
        "mean ms",
        "max ms",
        mw = module_width
    );
    for r in rows {
        out.push_str(&format!(
            "{:<mw$}  {:<44} {:>6} {:>6} {:>8} {:>9.1} {:>9.1}\n",
            r.module,
            r.method.key(),
            r.calls,
            r.errors,
            r.timeouts,
            millis(r.mean()),
            millis(r.max),
            mw = module_width
        ));
    }
    out
}

/// How far a run has got, for a progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub containers: usize,
    pub launched: usize,
    pub torn_down: usize,
    pub calls: u64,
    pub failures: u64,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} containers launched, {}/{} torn down, {} calls, {} failed",
            self.launched,
            self.containers,
            self.torn_down,
            self.containers,
            self.calls,
            self.failures
        )
    }
}

/// Something the simulation reports while it runs.
#[derive(Clone, Debug)]
pub enum Event {
    /// A new step of the agent's life, with what happens in it.
    Phase(Phase, String),
    /// A call ended (or a watch was registered).
    Call(CallRecord),
    /// Something worth telling that is not a call.
    Note(String),
    /// Counters, sent as containers and rounds complete.
    Progress(Progress),
}

/// Counts failures by kind, for the final line.
pub fn failures_by_kind(records: &[CallRecord]) -> Vec<(ErrorKind, usize)> {
    ErrorKind::ALL
        .iter()
        .map(|k| {
            (
                *k,
                records
                    .iter()
                    .filter(|r| r.result.error().is_some_and(|e| e.kind == *k))
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(method: Method, result: CallResult) -> CallRecord {
        CallRecord {
            seq: 1,
            at: Duration::from_millis(1500),
            phase: Phase::Launch,
            module: "iso".into(),
            method,
            container: Some("c1".into()),
            container_id: Some("abc".into()),
            duration: Duration::from_micros(2500),
            result,
            configured: true,
        }
    }

    #[test]
    fn only_failures_mesos_acts_on_must_succeed() {
        let e = CallError::new(ErrorKind::ExitStatus, "boom");
        assert!(
            record(Method::IsolatorPrepare, CallResult::Failed(e.clone())).failed_must_succeed()
        );
        assert!(
            record(Method::IsolatorCleanup, CallResult::Failed(e.clone())).failed_must_succeed()
        );
        assert!(
            record(Method::IsolatorUpdate, CallResult::Failed(e.clone())).failed_must_succeed()
        );
        assert!(
            !record(Method::IsolatorUsage, CallResult::Absorbed(e.clone())).failed_must_succeed()
        );
        assert!(!record(
            Method::HookSlaveRunTaskLabelDecorator,
            CallResult::Failed(e)
        )
        .failed_must_succeed());
        assert!(!record(Method::IsolatorPrepare, CallResult::Nothing).failed_must_succeed());
    }

    #[test]
    fn trace_lines_and_json_carry_the_call() {
        let r = record(
            Method::IsolatorPrepare,
            CallResult::Failed(CallError::new(ErrorKind::Timeout, "took too long")),
        );
        let line = r.trace_line();
        assert!(line.contains("isolator_prepare"), "{line}");
        assert!(line.contains("c1"), "{line}");
        assert!(line.contains("2.5ms"), "{line}");
        assert!(line.contains("FAILED [timeout] took too long"), "{line}");
        let j = r.to_json();
        assert_eq!(j["outcome"], "failed");
        assert_eq!(j["error_kind"], "timeout");
        assert_eq!(j["must_succeed"], true);
        assert_eq!(j["duration_ms"], 2.5);

        let v = record(
            Method::IsolatorUsage,
            CallResult::Value(r#"{"timestamp":1.5}"#.into()),
        );
        assert_eq!(v.to_json()["value"]["timestamp"], 1.5);
    }

    #[test]
    fn summary_rows_add_up_instances() {
        let mut row = SummaryRow::new("iso", Method::IsolatorUsage);
        row.add(&MethodStats {
            calls: 2,
            errors: 1,
            timeouts: 1,
            total: Duration::from_millis(30),
            max: Duration::from_millis(20),
        });
        row.add(&MethodStats {
            calls: 1,
            errors: 0,
            timeouts: 0,
            total: Duration::from_millis(15),
            max: Duration::from_millis(15),
        });
        assert_eq!(row.calls, 3);
        assert_eq!(row.mean(), Duration::from_millis(15));
        assert_eq!(row.max, Duration::from_millis(20));
        let table = summary_table(&[row]);
        assert!(
            table.lines().nth(1).unwrap().contains("isolator_usage"),
            "{table}"
        );
        assert!(table.contains("15.0"), "{table}");
    }
}
