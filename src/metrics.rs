//! Per-method counters and latency of one module instance.
//!
//! Counted in Rust, where the outcome is known; the shim exposes them as
//! libprocess metrics (`/metrics/snapshot`) and the command-line tool prints
//! them in its summaries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::ErrorKind;
use crate::method::Method;

/// Counter ids exposed over the bridge.
pub const CALLS: u8 = 0;
pub const ERRORS: u8 = 1;
pub const TIMEOUTS: u8 = 2;

/// The gauges of a module as a whole (beside its per-method counters),
/// numbered for the bridge: the shim registers each one a module has as
/// `command_modules/<module_name>/<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ModuleGauge {
    /// Commands running now.
    CommandsRunning = 0,
    /// Calls waiting for a command slot now.
    CallsQueued = 1,
    /// Commands that outlived their call, not reaped yet.
    CommandsUnreaped = 2,
    /// Commands that outlived their call since the module was created.
    CommandsOutlived = 3,
    /// 1 while the service helper is up.
    ServiceUp = 4,
    /// Times the service helper was started again.
    ServiceRestarts = 5,
    /// Lines of the helper's output that were not a pending response.
    ServiceBadLines = 6,
}

impl ModuleGauge {
    pub const ALL: [ModuleGauge; 7] = [
        ModuleGauge::CommandsRunning,
        ModuleGauge::CallsQueued,
        ModuleGauge::CommandsUnreaped,
        ModuleGauge::CommandsOutlived,
        ModuleGauge::ServiceUp,
        ModuleGauge::ServiceRestarts,
        ModuleGauge::ServiceBadLines,
    ];

    /// The metric's last path component.
    pub fn name(self) -> &'static str {
        match self {
            ModuleGauge::CommandsRunning => "commands_running",
            ModuleGauge::CallsQueued => "calls_queued",
            ModuleGauge::CommandsUnreaped => "commands_unreaped",
            ModuleGauge::CommandsOutlived => "commands_outlived",
            ModuleGauge::ServiceUp => "service_up",
            ModuleGauge::ServiceRestarts => "service_restarts",
            ModuleGauge::ServiceBadLines => "service_bad_lines",
        }
    }

    /// Whether a module has this gauge: the service's only with a helper.
    pub fn applies(self, has_service: bool) -> bool {
        has_service
            || !matches!(
                self,
                ModuleGauge::ServiceUp
                    | ModuleGauge::ServiceRestarts
                    | ModuleGauge::ServiceBadLines
            )
    }

    /// Converts a number received over the bridge.
    pub fn from_index(index: u8) -> Option<ModuleGauge> {
        ModuleGauge::ALL.get(usize::from(index)).copied()
    }
}

#[derive(Debug, Default)]
struct MethodMetrics {
    calls: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    total_micros: AtomicU64,
    max_micros: AtomicU64,
}

/// A point-in-time copy of one method's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MethodStats {
    pub calls: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub total: Duration,
    pub max: Duration,
}

/// The metrics of one module instance. Lock-free; shared by all threads.
#[derive(Debug, Default)]
pub struct Metrics {
    methods: [MethodMetrics; Method::ALL.len()],
}

impl Metrics {
    /// Records one command run of `method`.
    pub fn record(&self, method: Method, elapsed: Duration, failure: Option<ErrorKind>) {
        let m = &self.methods[method as usize];
        m.calls.fetch_add(1, Ordering::Relaxed);
        if let Some(kind) = failure {
            m.errors.fetch_add(1, Ordering::Relaxed);
            if kind == ErrorKind::Timeout {
                m.timeouts.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        m.total_micros.fetch_add(micros, Ordering::Relaxed);
        m.max_micros.fetch_max(micros, Ordering::Relaxed);
    }

    /// Records an error of `method` that ran no command (an error of the
    /// module itself): counted in its errors, not in its calls.
    pub fn record_error(&self, method: Method, kind: ErrorKind) {
        let m = &self.methods[method as usize];
        m.errors.fetch_add(1, Ordering::Relaxed);
        if kind == ErrorKind::Timeout {
            m.timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One counter ([`CALLS`], [`ERRORS`] or [`TIMEOUTS`]); 0 for others.
    pub fn value(&self, method: Method, counter: u8) -> u64 {
        let m = &self.methods[method as usize];
        match counter {
            CALLS => m.calls.load(Ordering::Relaxed),
            ERRORS => m.errors.load(Ordering::Relaxed),
            TIMEOUTS => m.timeouts.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    pub fn stats(&self, method: Method) -> MethodStats {
        let m = &self.methods[method as usize];
        MethodStats {
            calls: m.calls.load(Ordering::Relaxed),
            errors: m.errors.load(Ordering::Relaxed),
            timeouts: m.timeouts.load(Ordering::Relaxed),
            total: Duration::from_micros(m.total_micros.load(Ordering::Relaxed)),
            max: Duration::from_micros(m.max_micros.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_errors_and_timeouts() {
        let m = Metrics::default();
        let p = Method::IsolatorPrepare;
        m.record(p, Duration::from_millis(2), None);
        m.record(p, Duration::from_millis(5), Some(ErrorKind::Timeout));
        m.record(p, Duration::from_millis(1), Some(ErrorKind::ExitStatus));
        assert_eq!(m.value(p, CALLS), 3);
        assert_eq!(m.value(p, ERRORS), 2);
        assert_eq!(m.value(p, TIMEOUTS), 1);
        assert_eq!(m.value(p, 9), 0);
        let s = m.stats(p);
        assert_eq!(s.total, Duration::from_millis(8));
        assert_eq!(s.max, Duration::from_millis(5));
        assert_eq!(m.value(Method::IsolatorUsage, CALLS), 0);
    }

    #[test]
    fn module_gauges_are_numbered_in_order_and_service_ones_need_a_helper() {
        for (i, g) in ModuleGauge::ALL.into_iter().enumerate() {
            assert_eq!(g as usize, i);
            assert_eq!(ModuleGauge::from_index(i as u8), Some(g));
        }
        assert_eq!(ModuleGauge::from_index(7), None);
        let without: Vec<&str> = ModuleGauge::ALL
            .into_iter()
            .filter(|g| g.applies(false))
            .map(ModuleGauge::name)
            .collect();
        assert_eq!(
            without,
            [
                "commands_running",
                "calls_queued",
                "commands_unreaped",
                "commands_outlived"
            ]
        );
        assert!(ModuleGauge::ALL.into_iter().all(|g| g.applies(true)));
    }
}
