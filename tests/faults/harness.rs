//! What every fault scenario shares: one scenario at a time, captured log
//! records, scripts that record their pids, timed calls, and the invariants
//! checked after each scenario.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};
use std::time::{Duration, Instant};

use mesos_command_modules::input::Input;
use mesos_command_modules::runner::cgroup::Hierarchy;
use mesos_command_modules::runner::{CgroupSetting, Containment, Runner};
use mesos_command_modules::runtime::{self, runtime};
use mesos_command_modules::{Method, Module, ModuleKind, Outcome, StateMode};

use crate::common::{alive, eventually, Scratch};

/// What a call may take beyond its timeout and kill grace period: spawning,
/// temp files, killing and reaping, on a loaded 2-core machine.
pub const MARGIN: Duration = Duration::from_millis(500);

static SERIAL: Mutex<()> = Mutex::new(());

/// One log record, as the agent would print it.
#[derive(Clone, Debug)]
pub struct Record {
    pub level: log::Level,
    pub text: String,
}

static RECORDS: Mutex<Vec<Record>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            lock(&RECORDS).push(Record {
                level: record.level(),
                text: record.args().to_string(),
            });
        }
    }

    fn flush(&self) {}
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every record logged since the scenario started.
pub fn logs() -> Vec<Record> {
    lock(&RECORDS).clone()
}

/// Forgets the records logged so far.
pub fn clear_logs() {
    lock(&RECORDS).clear();
}

/// The records at `level` containing `needle`.
pub fn logged(level: log::Level, needle: &str) -> Vec<String> {
    logs()
        .into_iter()
        .filter(|r| r.level == level && r.text.contains(needle))
        .map(|r| r.text)
        .collect()
}

/// Prints one line, once per reason, that libtest does not capture: a
/// scenario (or part of one) this machine cannot run.
pub fn skip(reason: &str) {
    static SHOWN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut shown = lock(&SHOWN);
    if shown
        .get_or_insert_with(HashSet::new)
        .insert(reason.to_string())
    {
        let _ = writeln!(std::io::stderr(), "SKIPPED (fault suite): {reason}");
    }
}

/// Prints a figure worth reading in the test output (not captured).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "NOTE (fault suite): {text}");
}

/// The environment variable naming a `command_cgroup` for every module of
/// the suite whose scenario does not set one, e.g.
/// `MCM_FAULT_CGROUP=/sys/fs/cgroup/unified/mcm-faults` to run the whole
/// suite in the cgroup v2 hierarchy (`auto` picks v1 where both exist).
/// A command that forks 200 processes out of its process group (each
/// `setsid`), writing their pids to `$PIDS`, then waits: only a kill of its
/// whole cgroup reaches them all.
pub const ESCAPING_LOOP: &str = r#"i=0
while [ $i -lt 200 ]; do
  setsid sleep 1000 &
  echo $! >> "$PIDS"
  i=$((i+1))
done
wait"#;

pub const CGROUP_ENV: &str = "MCM_FAULT_CGROUP";

/// The suite's `command_cgroup`: [`CGROUP_ENV`], else `auto`.
pub fn suite_cgroup() -> CgroupSetting {
    static SETTING: OnceLock<CgroupSetting> = OnceLock::new();
    SETTING
        .get_or_init(|| match std::env::var(CGROUP_ENV) {
            Ok(value) => {
                let setting = CgroupSetting::parse(&value)
                    .unwrap_or_else(|e| panic!("{CGROUP_ENV}: command_cgroup: {e}"));
                note(&format!("every module runs with command_cgroup={value}"));
                setting
            }
            Err(_) => CgroupSetting::Auto,
        })
        .clone()
}

/// `params` with the suite's `command_cgroup` added, unless it is `auto` or
/// `params` sets one.
pub fn with_suite_cgroup(mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    let setting = suite_cgroup();
    if setting != CgroupSetting::Auto && !params.iter().any(|(k, _)| k == "command_cgroup") {
        params.push(("command_cgroup".to_string(), setting.describe()));
    }
    params
}

/// The hierarchy the suite's commands are contained in, if any.
pub fn suite_hierarchy() -> Option<Hierarchy> {
    if !cgroups() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let runner = Runner::configured(dir.path(), Duration::from_secs(1), 1 << 20, &suite_cgroup());
    runner.containment().hierarchy()
}

/// Whether commands run in their own cgroups on this machine (root, a
/// writable cgroup v1 freezer hierarchy, or the one [`CGROUP_ENV`] names).
/// When not, says so once.
pub fn cgroups() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let available = *AVAILABLE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let runner =
            Runner::configured(dir.path(), Duration::from_secs(1), 1 << 20, &suite_cgroup());
        match runner.containment() {
            Containment::Cgroups(_) => true,
            Containment::ProcessGroup(reason) => {
                skip(&format!(
                    "per-command cgroups are not available ({reason}); the scenarios that need \
                     them check the process-group fallback only"
                ));
                false
            }
        }
    });
    available
}

/// Whether we are root (chown, mount).
pub fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The descriptors open in this process.
pub fn descriptors() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .flatten()
                // One closed by another thread since the directory was
                // read (a module of the previous scenario being dropped)
                // has no target any more: not open.
                .filter_map(|e| {
                    let target = std::fs::read_link(e.path()).ok()?;
                    Some(format!(
                        "{} -> {}",
                        e.file_name().to_string_lossy(),
                        target.display()
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    fds.sort();
    fds
}

/// Whether a line of [`descriptors`] is a file of a cgroup file system.
fn in_cgroup_fs(fd: &str) -> bool {
    static MOUNTS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    let mounts = MOUNTS.get_or_init(|| {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        mesos_command_modules::runner::cgroup::cgroup_mounts(&mountinfo)
            .into_iter()
            .map(|m| m.point)
            .collect()
    });
    fd.split_once(" -> ")
        .is_some_and(|(_, target)| mounts.iter().any(|m| Path::new(target).starts_with(m)))
}

/// Our children, zombies included: `(pid, state, command)`.
pub fn children() -> Vec<(i32, String, String)> {
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or("");
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let ppid: i32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == me {
            out.push((pid, state.to_string(), comm.to_string()));
        }
    }
    out
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
pub fn memory_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current `VmRSS`.
pub fn reset_peak_memory() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
}

/// Fields 5 and 6 of `/proc/<pid>/stat`: process group and session.
pub fn group_and_session(pid: i32) -> Option<(i32, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

/// One scenario: holds the suite's lock, a scratch area, and the baseline
/// the invariants are checked against.
pub struct Scenario {
    pub name: &'static str,
    pub scratch: Scratch,
    pub pids_file: PathBuf,
    descriptors: Vec<String>,
    modules: Mutex<Vec<Arc<Module>>>,
    /// File systems mounted for the scenario, unmounted at its end.
    mounts: Mutex<Vec<PathBuf>>,
    _serial: MutexGuard<'static, ()>,
}

/// Set when a scenario fails: the next one first kills what it left.
static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Scenario {
    pub fn start(name: &'static str) -> Scenario {
        let serial = lock(&SERIAL);
        static LOGGER: Once = Once::new();
        LOGGER.call_once(|| {
            log::set_boxed_logger(Box::new(Capture)).expect("the suite's logger comes first");
            log::set_max_level(log::LevelFilter::Info);
        });
        warm_up();
        lock(&RECORDS).clear();
        // A scenario that failed may have left processes (its failure is
        // reported); the next one starts clean.
        if FAILED.swap(false, std::sync::atomic::Ordering::SeqCst) {
            reap_strays();
        }
        let scratch = Scratch::new();
        let pids_file = scratch.path().join("pids");
        Scenario {
            name,
            scratch,
            pids_file,
            descriptors: descriptors(),
            modules: Mutex::new(Vec::new()),
            mounts: Mutex::new(Vec::new()),
            _serial: serial,
        }
    }

    pub fn path(&self) -> &Path {
        self.scratch.path()
    }

    /// Mounts a tmpfs with `options` (e.g. `size=64k`, `ro`) at `name` in
    /// the scratch area until the scenario ends, or `None` (after one skip
    /// line) where mounting is not permitted.
    pub fn tmpfs(&self, name: &str, options: &str) -> Option<PathBuf> {
        self.mount("tmpfs", name, options).or_else(|| {
            skip(
                "mounting a tmpfs is not permitted here: the full and read-only temp and state \
                 directory scenarios are skipped",
            );
            None
        })
    }

    /// Mounts a file system of type `fstype` (`tmpfs`, `cgroup`) at `name`
    /// in the scratch area until the scenario ends, or `None` where that is
    /// not permitted.
    pub fn mount(&self, fstype: &str, name: &str, options: &str) -> Option<PathBuf> {
        let path = self.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", fstype, "-o", options, fstype])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => {
                lock(&self.mounts).push(path.clone());
                Some(path)
            }
            _ => None,
        }
    }

    fn unmount_all(&self) {
        for path in lock(&self.mounts).drain(..).rev() {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&path)
                .status();
        }
    }

    /// A script whose every run appends its pid to the scenario's pid file;
    /// `$PIDS` names that file in `body`.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        self.scratch.script(
            name,
            &format!(
                "export PIDS='{}'\necho $$ >> \"$PIDS\"\n{body}",
                self.pids_file.display()
            ),
        )
    }

    /// A script that does not record its pid (for thousands of runs, whose
    /// pids the system recycles); its processes carry the scenario's `PIDS`
    /// variable all the same, which [`Scenario::finish`] looks for.
    pub fn unrecorded_script(&self, name: &str, body: &str) -> PathBuf {
        self.scratch.script(
            name,
            &format!("export PIDS='{}'\n{body}", self.pids_file.display()),
        )
    }

    /// Processes whose environment holds this scenario's `PIDS` variable:
    /// everything its scripts started, however far it went (a daemon keeps
    /// its environment).
    pub fn marked_processes(&self) -> Vec<i32> {
        let marker = format!("PIDS={}", self.pids_file.display());
        let me = std::process::id() as i32;
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if pid == me || !alive(pid) {
                continue;
            }
            if let Ok(environ) = std::fs::read(entry.path().join("environ")) {
                if environ
                    .split(|&b| b == 0)
                    .any(|var| var == marker.as_bytes())
                {
                    found.push(pid);
                }
            }
        }
        found
    }

    /// The pids the scripts recorded.
    pub fn recorded_pids(&self) -> Vec<i32> {
        std::fs::read_to_string(&self.pids_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Waits until the scripts recorded at least `n` pids.
    pub fn wait_for_pids(&self, n: usize) -> Vec<i32> {
        assert!(
            eventually(Duration::from_secs(5), || self.recorded_pids().len() >= n),
            "{}: only {:?} recorded",
            self.name,
            self.recorded_pids()
        );
        self.recorded_pids()
    }

    fn build(&self, kind: ModuleKind, extra: &[(&str, &str)]) -> Result<Arc<Module>, String> {
        let mut params = vec![("module_name".to_string(), "faults".to_string())];
        if !extra.iter().any(|(k, _)| *k == "temp_directory") {
            params.push((
                "temp_directory".to_string(),
                self.scratch.temp_dir().display().to_string(),
            ));
        }
        if kind == ModuleKind::Isolator && !extra.iter().any(|(k, _)| *k == "state_directory") {
            params.push((
                "state_directory".to_string(),
                self.scratch.state_dir().display().to_string(),
            ));
        }
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let params = with_suite_cgroup(params);
        let symbol = mesos_command_modules::manifest::first_symbol(kind);
        let module = Arc::new(
            Module::with_state(kind, symbol, &params, StateMode::Checkpointed)
                .map_err(|e| e.to_string())?,
        );
        lock(&self.modules).push(Arc::clone(&module));
        Ok(module)
    }

    /// A module of `kind` with the scenario's directories and `extra`, or
    /// the configuration error.
    pub fn try_module(&self, kind: ModuleKind, extra: &[(&str, &str)]) -> Result<(), String> {
        self.build(kind, extra).map(|m| self.retire(m))
    }

    /// A hook module with the scenario's temp directory and `extra`.
    pub fn hook(&self, extra: &[(&str, &str)]) -> Arc<Module> {
        self.build(ModuleKind::Hook, extra)
            .unwrap_or_else(|e| panic!("{}: hook config: {e}", self.name))
    }

    /// An isolator module with the scenario's temp and state directories.
    pub fn isolator(&self, extra: &[(&str, &str)]) -> Arc<Module> {
        self.build(ModuleKind::Isolator, extra)
            .unwrap_or_else(|e| panic!("{}: isolator config: {e}", self.name))
    }

    /// A module of `kind` with the scenario's temp directory and `extra`.
    pub fn module(&self, kind: ModuleKind, extra: &[(&str, &str)]) -> Arc<Module> {
        self.build(kind, extra)
            .unwrap_or_else(|e| panic!("{}: {kind} config: {e}", self.name))
    }

    /// Drops a module the scenario no longer checks (an agent that
    /// "restarted").
    pub fn retire(&self, module: Arc<Module>) {
        lock(&self.modules).retain(|m| !Arc::ptr_eq(m, &module));
    }

    /// The longest a call of `method` may take.
    pub fn bound(module: &Module, method: Method) -> Duration {
        let config = module.config();
        let timeout = config.command(method).map_or(Duration::ZERO, |c| c.timeout);
        timeout + config.kill_grace + MARGIN
    }

    /// Calls `method` with a whole input document, and checks it returned
    /// in time.
    pub fn call(&self, module: &Module, method: Method, document: &str) -> Outcome {
        let input = Input::from_document(document).expect("input document");
        let started = Instant::now();
        let outcome = runtime()
            .block_on(module.call(method, input))
            .expect("an outcome");
        let took = started.elapsed();
        let bound = Scenario::bound(module, method);
        assert!(
            took <= bound,
            "{}: {method} took {took:?}, more than {bound:?}",
            self.name
        );
        outcome
    }

    /// Starts `method` the way the shim does; the receiver gets the outcome
    /// and how long the call took.
    pub fn spawn(
        &self,
        module: &Arc<Module>,
        method: Method,
        document: &str,
    ) -> mpsc::Receiver<(Option<Outcome>, Duration)> {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        module.spawn_call(method, arguments(method, document), move |outcome| {
            let _ = tx.send((outcome, started.elapsed()));
        });
        rx
    }

    /// Checks the invariants, then ends the scenario:
    ///
    /// * the state directory holds exactly the live containers' files;
    /// * no call's cgroup is left but empty ones kept for reuse;
    /// * no task is left on the runtime;
    /// * no call's temp files are left;
    /// * every pid the scripts recorded is gone, and
    ///   no process carries the scenario's marker in its environment;
    /// * we have no child left, not even a zombie;
    /// * the descriptor count is back to what it was.
    pub fn finish(self) {
        let name = self.name;
        let modules: Vec<Arc<Module>> = std::mem::take(&mut *lock(&self.modules));
        // Cgroups kept for reuse keep their files open (see `cgroup.rs`):
        // not leaks, as long as the module lives.
        let mut kept: Vec<PathBuf> = Vec::new();
        for module in &modules {
            if let Some(state) = module.state() {
                let mut files: Vec<String> = std::fs::read_dir(state.directory())
                    .map(|entries| {
                        entries
                            .flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                files.sort();
                assert_eq!(
                    files,
                    state.ids(),
                    "{name}: the state directory differs from the live containers"
                );
            }
            let containment = module.runner().containment();
            if let Some(dir) = containment.instance_directory() {
                // Empty cgroups kept for reuse are not leaks; any other is.
                // A call started like the shim's releases its cgroup just
                // after delivering its answer: given a moment.
                let in_use = || {
                    let idle = containment.idle_cgroups();
                    let mut calls: Vec<PathBuf> = std::fs::read_dir(dir)
                        .map(|entries| {
                            entries
                                .flatten()
                                .map(|e| e.path())
                                .filter(|p| p.is_dir() && !idle.contains(p))
                                .collect()
                        })
                        .unwrap_or_default();
                    calls.extend(
                        idle.iter()
                            .filter(|p| {
                                !std::fs::read_to_string(p.join("cgroup.procs"))
                                    .unwrap_or_default()
                                    .trim()
                                    .is_empty()
                            })
                            .cloned(),
                    );
                    calls
                };
                assert!(
                    eventually(Duration::from_secs(2), || in_use().is_empty()),
                    "{name}: call cgroups left in use: {:?}",
                    in_use()
                );
                kept.extend(containment.idle_cgroups());
            }
        }
        drop(modules);
        // No task left on the runtime: calls, watch loops.
        let tasks = runtime::work_in_progress;
        assert!(
            eventually(Duration::from_secs(2), || tasks() == 0),
            "{name}: {} runtime task(s) left",
            tasks()
        );
        let left = self.scratch.leftover_temp_files();
        assert!(left.is_empty(), "{name}: temp files left: {left:?}");

        let pids = self.recorded_pids();
        let survivors = || {
            pids.iter()
                .copied()
                .filter(|&p| alive(p))
                .collect::<Vec<_>>()
        };
        assert!(
            eventually(Duration::from_secs(1), || survivors().is_empty()),
            "{name}: processes survived: {:?}",
            survivors()
        );
        assert!(
            eventually(Duration::from_secs(1), || self
                .marked_processes()
                .is_empty()),
            "{name}: processes started by the scenario's scripts survived: {:?}",
            self.marked_processes()
        );
        assert!(
            eventually(Duration::from_secs(1), || children().is_empty()),
            "{name}: children left (zombies are not reaped): {:?}",
            children()
        );
        // Files of cgroups are compared apart: the baseline may hold those
        // of the previous scenario's modules, dropped just after it ended.
        let before: Vec<&String> = self
            .descriptors
            .iter()
            .filter(|fd| !in_cgroup_fs(fd))
            .collect();
        let after = || {
            let mut fds = descriptors();
            fds.retain(|fd| !in_cgroup_fs(fd));
            fds
        };
        assert!(
            eventually(Duration::from_secs(2), || after().len() == before.len()),
            "{name}: descriptors before: {before:?}\nafter: {:?}",
            after()
        );
        let cgroup_files_not_kept = || {
            let mut fds = descriptors();
            fds.retain(|fd| {
                in_cgroup_fs(fd)
                    && !kept.iter().any(|cgroup| {
                        fd.split_once(" -> ")
                            .is_some_and(|(_, target)| Path::new(target).starts_with(cgroup))
                    })
            });
            fds
        };
        assert!(
            eventually(Duration::from_secs(2), || cgroup_files_not_kept()
                .is_empty()),
            "{name}: files of cgroups neither in use nor kept for reuse are open: {:?}",
            cgroup_files_not_kept()
        );
        self.unmount_all();
    }
}

impl Drop for Scenario {
    /// A failing scenario kills what it recorded, so that the next one
    /// does not inherit its processes.
    fn drop(&mut self) {
        self.unmount_all();
        if std::thread::panicking() {
            FAILED.store(true, std::sync::atomic::Ordering::SeqCst);
            for pid in self.recorded_pids() {
                if alive(pid) {
                    // SAFETY: plain syscall on a pid our scripts recorded.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            lock(&self.modules).clear();
            reap_strays();
        }
    }
}

/// Kills and reaps every child of ours.
fn reap_strays() {
    for (pid, _, _) in children() {
        // SAFETY: plain syscalls on our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

/// The shim's arguments for `method` from a whole input document.
pub fn arguments(method: Method, document: &str) -> Vec<String> {
    let input: serde_json::Value = serde_json::from_str(document).expect("input document");
    method
        .contract()
        .inputs
        .iter()
        .map(|name| {
            input
                .get(*name)
                .map(serde_json::Value::to_string)
                .unwrap_or_default()
        })
        .collect()
}

/// Creates what the process keeps for its life before any baseline is
/// taken: the runtime (its epoll and event descriptors, its threads) and
/// the lazily computed owner tag.
fn warm_up() {
    static WARM: Once = Once::new();
    WARM.call_once(|| {
        let scratch = Scratch::new();
        let script = scratch.script("warm", "true");
        let module = Module::with_state(
            ModuleKind::Hook,
            "com_criteo_mesos_CommandHook",
            &scratch.params(&[(
                "hook_slave_remove_executor_hook_command",
                script.to_str().unwrap(),
            )]),
            StateMode::Checkpointed,
        )
        .unwrap();
        let outcome = crate::common::answer(
            &module,
            Method::HookSlaveRemoveExecutorHook,
            r#"{"framework_info":{"user":"u","name":"n"},"executor_info":{"executor_id":{"value":"e"}}}"#,
        );
        assert!(outcome.failure.is_none(), "{:?}", outcome.failure);
    });
}

/// The environment variable that turns this test binary into a helper
/// process (see [`helper_process`]).
pub const HELPER_ENV: &str = "MCM_FAULT_HELPER";

/// Starts this test binary again as a helper process running `mode` (see
/// [`helper_process`]), with `env`.
pub fn start_helper(mode: &str, env: &[(&str, &Path)]) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut command = std::process::Command::new(exe);
    command
        .args([
            "harness::helper_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env(HELPER_ENV, mode)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("start the helper process")
}

/// Not a scenario: the entry point of helper processes, a no-op unless
/// [`HELPER_ENV`] is set. Helpers are killed with SIGKILL by the scenario
/// that started them.
#[test]
fn helper_process() {
    match std::env::var(HELPER_ENV).as_deref() {
        Ok("checkpoint") => crate::state::checkpoint_forever(),
        Ok("calls") => crate::crash::calls_forever(),
        Ok("service") => crate::service::serve_forever(),
        _ => {}
    }
}
