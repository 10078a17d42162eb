//! The one runtime that runs every command of every module instance.
//!
//! Two worker threads drive all commands in flight and all watch loops
//! through one reactor (child exits arrive as pidfd readiness), and at most
//! two more threads take the rare blocking work (fsync of checkpoints). The
//! thread count therefore stays constant whatever the number of containers
//! or commands, which matters inside an agent that runs thousands of them.

use std::sync::OnceLock;

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
        Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .max_blocking_threads(BLOCKING_THREADS)
            .thread_name("mesos-cmd-mod")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the command runtime: {e}"))
    })
}
