//! The fault-injection suite: each scenario induces one fault against real
//! processes and files, asserts the outcome (exact error, pids gone, files
//! gone), then checks the invariants every scenario must leave intact (see
//! [`harness::Scenario::finish`]).
//!
//! Scenarios run one at a time (they measure process-wide descriptors and
//! memory, and count our children), serialized by the harness whatever
//! `--test-threads` says. One behaviour per file:
//!
//! * `cgroup_v2`: containment in the cgroup v2 hierarchy: placement by
//!   `clone3`, `cgroup.kill` and the freezing fallback, configuration errors;
//! * `kills`: timeouts, SIGTERM traps, grandchildren, daemons, leftovers,
//!   cancelled calls, and the process-group fallback;
//! * `outputs`: hostile output and error files and streams;
//! * `temp_files`: temp files removed, temp directory full or read-only;
//! * `state`: unwritable state, SIGKILL during a checkpoint, corrupt files,
//!   orphans;
//! * `crash`: the module's process killed in the middle of calls;
//! * `limit`: `max_concurrent_commands`, a flood of usage calls, queueing;
//! * `load`: 10 000 calls, 64 in flight, one in ten faulty;
//! * `fuzz`: the bridge entry points, configuration and output
//!   interpretation under proptest;
//! * `security`: file modes, what is logged, insecure commands;
//! * `service`: service mode, every fault of a helper;
//! * `stuck`: commands that cannot die (frozen, uninterruptible sleep);
//! * `oversubscription`: the estimator's and the QoS controller's commands
//!   timing out, printing garbage or too much, crashing, and an agent whose
//!   usage never comes.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod cgroup_v2;
mod crash;
mod fuzz;
mod kills;
mod limit;
mod load;
mod outputs;
mod oversubscription;
mod security;
mod service;
mod state;
mod stuck;
mod temp_files;
