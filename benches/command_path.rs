//! Benchmarks of the command path (project issue 4): what a call of the
//! core costs against spawning the same command directly.
//!
//! Run `scripts/bench` (release build, a few minutes on 2 cores) or
//! `scripts/bench --smoke` (every target briefly, timings not judged, as CI
//! runs it; outcomes are still checked). `--only=1,3` picks targets. The
//! last lines are one summary per target:
//! `target <n> <name>: <measured> vs <target>: pass|fail`.
//!
//! The machine is shared and noisy, so each timing target compares two
//! things measured in the same run, interleaved (A B, B A, ...), by their
//! medians. Every figure printed is measured in the run that prints it, and
//! the load average is printed at both ends.
//!
//! The command is a tiny C program compiled here with `cc` into a temp
//! directory (`CC` overrides the compiler): it writes `{"timestamp":1}` to
//! its output file (a valid `ResourceStatistics` for `isolator_usage`),
//! writes nothing (a watch that reports no limitation) or sleeps one second.
//! The judged call is an `isolator_usage` of a prepared container, made
//! through `Module::spawn_call` as the shim makes it, with the module's
//! default configuration; the same call with `command_cgroup=none`, in the
//! cgroup v2 hierarchy (when the default is a v1 freezer hierarchy and a
//! writable v2 one is mounted too), and with its temp files on the scratch
//! file system, is measured beside it for information, with what each
//! containment costs per call over the process group only.
//!
//! Targets 7 to 9 (`command_path/service.rs`) measure service mode: a
//! call's CPU, the throughput against script mode, and 50 containers
//! watched by a Python watch as a script and as a helper.
//!
//! Target 10 (`command_path/scrape.rs`) issues 1000 `usage` calls at once,
//! as one scrape of an agent running 1000 containers does, and checks that
//! all are answered with no more commands at once than the module's limit.
//!
//! Targets 2 and 5 run in child processes of this binary (`--child-rss`,
//! `--child-watch`), so that a 4 GiB heap and a thousand watch loops are
//! measured in a process of their own.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[path = "command_path/big_agent.rs"]
mod big_agent;
#[path = "command_path/concurrency.rs"]
mod concurrency;
#[path = "command_path/cpu.rs"]
mod cpu;
#[path = "command_path/overhead.rs"]
mod overhead;
#[path = "command_path/scrape.rs"]
mod scrape;
#[path = "command_path/service.rs"]
mod service;
#[path = "command_path/throughput.rs"]
mod throughput;
#[path = "command_path/watches.rs"]
mod watches;

use mesos_command_modules::{Answer, Method, Module, ModuleKind, Outcome};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Options and entry point
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Options {
    /// Run every target briefly and do not judge timings.
    smoke: bool,
    /// Only these targets (all when empty).
    only: Vec<u32>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child-rss") => return big_agent::child_rss(&args[1..]),
        Some("--child-watch") => return watches::child_watch(&args[1..]),
        Some("--strace-probe") => return big_agent::strace_probe(&args[1..]),
        _ => {}
    }
    let mut options = Options {
        smoke: std::env::var_os("BENCH_SMOKE").is_some_and(|v| !v.is_empty() && v != "0"),
        only: Vec::new(),
    };
    for arg in &args {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            // `cargo bench` passes `--bench` to harness-less benches.
            "--bench" => {}
            other => match other.strip_prefix("--only=") {
                Some(list) => {
                    options.only = list
                        .split(',')
                        .map(|n| n.trim().parse().expect("--only=1,3,..."))
                        .collect()
                }
                None => {
                    eprintln!("usage: command_path [--smoke] [--only=N,M]");
                    std::process::exit(2);
                }
            },
        }
    }

    let bench = Bench::new(options);
    let failed = run(&bench);
    drop(bench);
    if failed {
        std::process::exit(1);
    }
}

/// Runs the selected targets and prints their summaries; true if a judged
/// target failed.
fn run(bench: &Bench) -> bool {
    println!(
        "command_path: {} mode, {} cpus, load average {}, commands compiled with {}",
        if bench.options.smoke { "smoke" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        bench.fixtures.compiler
    );
    println!(
        "module temp files under {} ({}), state and baseline scratch under {} ({})",
        bench.temp.path.display(),
        filesystem(&bench.temp.path),
        bench.scratch.path().display(),
        filesystem(bench.scratch.path())
    );
    let mut summaries = Vec::new();
    type Target = fn(&Bench) -> Summary;
    let targets: [(u32, Target); 10] = [
        (1, overhead::target_overhead),
        (2, big_agent::target_big_agent),
        (3, throughput::target_throughput),
        (4, concurrency::target_concurrency),
        (5, watches::target_watches),
        (6, cpu::target_cpu),
        (7, service::target_service_cpu),
        (8, service::target_service_throughput),
        (9, service::target_python_watch),
        (10, scrape::target_scrape),
    ];
    for (n, target) in targets {
        if bench.options.only.is_empty() || bench.options.only.contains(&n) {
            println!("\n== target {n}");
            summaries.push(target(bench));
        }
    }
    println!("\nload average at the end: {}", load_average());
    println!();
    let mut failed = false;
    for s in &summaries {
        let verdict = match (bench.options.smoke, s.pass) {
            (true, _) => "not judged (smoke)",
            (false, true) => "pass",
            (false, false) => {
                failed = true;
                "fail"
            }
        };
        println!(
            "target {} {}: {} vs {}: {verdict}",
            s.n, s.name, s.measured, s.target
        );
    }
    failed
}

/// The 1, 5 and 15 minute load averages: how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// One target's result.
struct Summary {
    n: u32,
    name: &'static str,
    measured: String,
    target: String,
    pass: bool,
}

/// What every target shares: options, the compiled commands, a scratch
/// directory, and where modules keep their temp files.
struct Bench {
    options: Options,
    fixtures: Fixtures,
    scratch: tempfile::TempDir,
    temp: TempRoot,
}

/// The parent of the modules' `temp_directory`: a directory of its own in
/// `BENCH_TEMP_DIRECTORY` if set, else in `/dev/shm` if it is a tmpfs, else
/// the scratch directory.
///
/// A tmpfs, as recommended for deployment: the input files may carry
/// secrets, which then never reach a disk, and creating and removing three
/// files per call costs least there.
struct TempRoot {
    path: PathBuf,
    _owned: Option<tempfile::TempDir>,
}

impl Bench {
    fn new(options: Options) -> Bench {
        let scratch = tempfile::tempdir().expect("scratch directory");
        let fixtures = Fixtures::build(&scratch.path().join("bin"));
        let root = std::env::var_os("BENCH_TEMP_DIRECTORY")
            .map(PathBuf::from)
            .or_else(|| {
                let shm = PathBuf::from("/dev/shm");
                (filesystem(&shm) == "tmpfs").then_some(shm)
            });
        let temp = match root {
            Some(root) => {
                let owned = tempfile::Builder::new()
                    .prefix("command-path-bench")
                    .tempdir_in(&root)
                    .unwrap_or_else(|e| panic!("a directory in {}: {e}", root.display()));
                TempRoot {
                    path: owned.path().to_path_buf(),
                    _owned: Some(owned),
                }
            }
            None => TempRoot {
                path: scratch.path().to_path_buf(),
                _owned: None,
            },
        };
        Bench {
            options,
            fixtures,
            scratch,
            temp,
        }
    }

    /// A module directory: state under the scratch area, temp files under
    /// the temp root.
    fn module_dirs(&self, name: &str) -> ModuleDirs {
        let dirs = ModuleDirs {
            temp: self.temp.path.join(name),
            state: self.dir(name).join("state"),
        };
        std::fs::create_dir_all(&dirs.temp).expect("mkdir temp");
        dirs
    }

    /// The same, with the temp files on the scratch area's file system.
    fn module_dirs_on_scratch(&self, name: &str) -> ModuleDirs {
        let dir = self.dir(name);
        let dirs = ModuleDirs {
            temp: dir.join("tmp"),
            state: dir.join("state"),
        };
        std::fs::create_dir_all(&dirs.temp).expect("mkdir temp");
        dirs
    }

    /// `full` normally, `smoke` in smoke mode.
    fn pick<T>(&self, full: T, smoke: T) -> T {
        if self.options.smoke {
            smoke
        } else {
            full
        }
    }

    /// A fresh directory under the scratch area.
    fn dir(&self, name: &str) -> PathBuf {
        let dir = self.scratch.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }
}

// ---------------------------------------------------------------------------
// The commands: one C source compiled three ways
// ---------------------------------------------------------------------------

const COMMAND_C: &str = r#"
/* argv: command input output error. MODE 0 writes a ResourceStatistics to
 * the output file, MODE 1 writes nothing, MODE 2 sleeps one second. */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
#if MODE == 2
  struct timespec left = {1, 0};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  return 0;
#elif MODE == 1
  (void)argc;
  (void)argv;
  return 0;
#else
  static const char out[] = "{\"timestamp\":1}\n";
  int fd;
  if (argc < 3) return 2;
  fd = open(argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return 3;
  if (write(fd, out, sizeof out - 1) != (ssize_t)(sizeof out - 1)) return 4;
  return close(fd) == 0 ? 0 : 5;
#endif
}
"#;

struct Fixtures {
    compiler: String,
    /// Writes `{"timestamp":1}` to its output file.
    answer: PathBuf,
    /// Writes nothing.
    quiet: PathBuf,
    /// Sleeps one second.
    sleeper: PathBuf,
}

impl Fixtures {
    fn build(dir: &Path) -> Fixtures {
        std::fs::create_dir_all(dir).expect("mkdir bin");
        let source = dir.join("command.c");
        std::fs::write(&source, COMMAND_C).expect("write command.c");
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let compile = |name: &str, mode: u32| {
            let out = dir.join(name);
            let status = Command::new(&compiler)
                .args(["-O2", "-Wall", "-o"])
                .arg(&out)
                .arg(format!("-DMODE={mode}"))
                .arg(&source)
                .status()
                .unwrap_or_else(|e| panic!("cannot run {compiler} (set CC): {e}"));
            assert!(status.success(), "{compiler} failed on command.c");
            out
        };
        Fixtures {
            answer: compile("answer", 0),
            quiet: compile("quiet", 1),
            sleeper: compile("sleeper", 2),
            compiler,
        }
    }

    /// Passes the paths to a child process.
    fn to_args(&self) -> Vec<String> {
        [&self.answer, &self.quiet, &self.sleeper]
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    }

    fn from_args(args: &[String]) -> Fixtures {
        Fixtures {
            compiler: String::new(),
            answer: PathBuf::from(&args[0]),
            quiet: PathBuf::from(&args[1]),
            sleeper: PathBuf::from(&args[2]),
        }
    }
}

// ---------------------------------------------------------------------------
// Modules and calls, through the public API
// ---------------------------------------------------------------------------

/// Where a module keeps its temp files and its state.
#[derive(Clone, Debug)]
struct ModuleDirs {
    temp: PathBuf,
    state: PathBuf,
}

impl ModuleDirs {
    fn to_args(&self) -> [String; 2] {
        [
            self.temp.display().to_string(),
            self.state.display().to_string(),
        ]
    }

    fn from_args(args: &[String]) -> ModuleDirs {
        ModuleDirs {
            temp: PathBuf::from(&args[0]),
            state: PathBuf::from(&args[1]),
        }
    }
}

/// The type of the file system holding `path`, by name.
fn filesystem(path: &Path) -> String {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return "unknown".to_string();
    };
    // SAFETY: statfs fills the zeroed struct for a valid path string.
    let (ok, kind) = unsafe {
        let mut buf: libc::statfs = std::mem::zeroed();
        let ok = libc::statfs(c.as_ptr(), &mut buf) == 0;
        (ok, buf.f_type as u64)
    };
    match (ok, kind) {
        (false, _) => "unknown".to_string(),
        (_, 0x0102_1994) => "tmpfs".to_string(),
        (_, 0xEF53) => "ext4".to_string(),
        (_, 0x5846_5342) => "xfs".to_string(),
        (_, 0x9123_683E) => "btrfs".to_string(),
        (_, 0x794C_7630) => "overlayfs".to_string(),
        (_, other) => format!("fs 0x{other:x}"),
    }
}

/// An isolator configured as the tests do: its own temp and state
/// directories, the given parameters on top.
fn isolator(dirs: &ModuleDirs, extra: &[(&str, String)]) -> Arc<Module> {
    let mut parameters = vec![
        ("module_name".to_string(), "bench".to_string()),
        (
            "temp_directory".to_string(),
            dirs.temp.display().to_string(),
        ),
        (
            "state_directory".to_string(),
            dirs.state.display().to_string(),
        ),
    ];
    parameters.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Arc::new(
        Module::new(
            ModuleKind::Isolator,
            "com_criteo_mesos_CommandIsolator",
            &parameters,
        )
        .expect("isolator configuration"),
    )
}

fn path_param(key: &'static str, path: &Path) -> (&'static str, String) {
    (key, path.display().to_string())
}

/// The `container_config` the agent passed to prepare for a command task.
fn container_config() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/isolator_prepare/command-task.json");
    let text = std::fs::read_to_string(&path).expect("prepare fixture");
    let document: Value = serde_json::from_str(&text).expect("fixture JSON");
    document["container_config"].to_string()
}

fn container_id(name: &str) -> String {
    serde_json::json!({ "value": name }).to_string()
}

/// Makes a call the way the shim makes isolator calls (`spawn_call`, the
/// completion runs on a runtime thread) and waits for its outcome.
fn call(module: &Arc<Module>, method: Method, arguments: Vec<String>) -> Option<Outcome> {
    let (tx, rx) = mpsc::sync_channel(1);
    module.spawn_call(method, arguments, move |outcome| {
        let _ = tx.send(outcome);
    });
    rx.recv().expect("the call completes")
}

/// Prepares `id` (no prepare command: only the checkpoint), so that later
/// calls carry its `container_config` as in the agent.
fn prepare(module: &Arc<Module>, id: &str, config: &str) {
    let outcome = call(
        module,
        Method::IsolatorPrepare,
        vec![container_id(id), config.to_string()],
    );
    expect_none(outcome, "prepare");
}

fn expect_none(outcome: Option<Outcome>, what: &str) {
    match outcome {
        Some(Outcome {
            answer: Answer::None,
            failure: None,
            ..
        }) => {}
        other => panic!("{what}: expected no change, got {other:?}"),
    }
}

/// Checks that a usage call returned the command's statistics.
fn expect_statistics(outcome: Option<Outcome>) {
    match outcome {
        Some(Outcome {
            answer: Answer::Value(json),
            failure: None,
            ..
        }) => {
            let value: Value = serde_json::from_str(&json).expect("answer JSON");
            assert_eq!(value["timestamp"].as_f64(), Some(1.0), "{json}");
        }
        other => panic!("usage: expected the command's statistics, got {other:?}"),
    }
}

/// A usage call set up as in the agent: a prepared container, the trivial
/// command answering `{"timestamp":1}`.
struct UsageCall {
    module: Arc<Module>,
    id: String,
}

impl UsageCall {
    fn new(dirs: &ModuleDirs, answer: &Path) -> UsageCall {
        UsageCall::with(dirs, answer, &[])
    }

    /// The same with more parameters (e.g. `command_cgroup`).
    fn with(dirs: &ModuleDirs, answer: &Path, extra: &[(&'static str, String)]) -> UsageCall {
        let mut parameters = vec![path_param("isolator_usage_command", answer)];
        parameters.extend_from_slice(extra);
        let module = isolator(dirs, &parameters);
        prepare(&module, "bench-usage", &container_config());
        UsageCall {
            module,
            id: container_id("bench-usage"),
        }
    }

    fn run(&self) {
        expect_statistics(call(
            &self.module,
            Method::IsolatorUsage,
            vec![self.id.clone()],
        ));
    }
}

/// The baseline: the same command spawned and waited for directly, same
/// argv (three existing files, on the same file system as the core's temp
/// files), nothing else.
struct BareSpawn {
    program: PathBuf,
    args: [PathBuf; 3],
}

impl BareSpawn {
    fn new(dir: &Path, program: &Path) -> BareSpawn {
        let args = ["input", "output", "error"].map(|name| {
            let path = dir.join(format!("bare.{name}"));
            std::fs::write(&path, "{}").expect("bare files");
            path
        });
        BareSpawn {
            program: program.to_path_buf(),
            args,
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command
    }

    fn run(&self) {
        let status = self.command().spawn().expect("spawn").wait().expect("wait");
        assert!(status.success(), "the bare command failed: {status}");
    }
}

// ---------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------

fn timed(f: impl FnOnce()) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_secs_f64() * 1e6
}

/// Waits until the module's runtime has nothing left to do (a call's
/// release after its answer), for at most a second.
fn settle() {
    let until = Instant::now() + Duration::from_secs(1);
    while mesos_command_modules::runtime::work_in_progress() > 0 && Instant::now() < until {
        std::thread::yield_now();
    }
}

/// Median of microsecond samples.
fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    assert!(!samples.is_empty(), "no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = p * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// User + system CPU time of this process (all threads, children
/// excluded), in microseconds.
fn self_cpu_us() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Voluntary and involuntary context switches of this process so far.
fn context_switches() -> i64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    usage.ru_nvcsw + usage.ru_nivcsw
}

/// VmRSS of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs each of `runs` once per round, in forward order on even rounds and
/// backward on odd ones (A B C, C B A, ...), and returns each one's samples.
fn interleave(rounds: usize, runs: &[&dyn Fn() -> f64]) -> Vec<Vec<f64>> {
    let k = runs.len();
    let mut samples = vec![Vec::with_capacity(rounds); k];
    for round in 0..rounds {
        for j in 0..k {
            let i = if round % 2 == 0 { j } else { k - 1 - j };
            samples[i].push(runs[i]());
        }
    }
    samples
}

/// Calls per second of `core`'s usage call: `in_flight` calls started with
/// spawn_call, a new one as each completes, `calls` in all; timed from the
/// completions' own clocks.
fn throughput_of(core: &UsageCall, calls: usize, in_flight: usize) -> f64 {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let start_one = || {
        let tx = tx.clone();
        core.module.spawn_call(
            Method::IsolatorUsage,
            vec![core.id.clone()],
            // The time the call completed, not the time this thread got
            // to read it.
            move |outcome| {
                let _ = tx.send((outcome, Instant::now()));
            },
        );
    };
    let mut issued = 0;
    while issued < in_flight.min(calls) {
        start_one();
        issued += 1;
    }
    let mut last = started;
    for _ in 0..calls {
        let (outcome, at) = rx.recv().expect("completion");
        expect_statistics(outcome);
        last = last.max(at);
        if issued < calls {
            start_one();
            issued += 1;
        }
    }
    calls as f64 / (last - started).as_secs_f64()
}

// ---------------------------------------------------------------------------
// Variants of the judged call, for information (targets 1, 3 and 6)
// ---------------------------------------------------------------------------

/// The same usage call configured otherwise, measured for information
/// beside the judged one.
struct Variants {
    /// Other containments: `command_cgroup=none` (process group only) when
    /// the default places each command in a cgroup of its own, and a
    /// directory of the cgroup v2 hierarchy when the default uses a v1
    /// freezer hierarchy and a writable v2 one is mounted too.
    containments: Vec<(String, UsageCall)>,
    /// Temp files on the scratch area's file system, when it differs from
    /// the judged one's.
    on_scratch: Option<(String, UsageCall)>,
    /// The judged call's containment, for the per-call costs.
    judged: String,
}

/// The directory of the cgroup v2 hierarchy the bench's v2 variant uses.
const BENCH_V2_CGROUP: &str = "mesos_command_modules_bench";

impl Variants {
    fn new(bench: &Bench, name: &str, judged: &UsageCall) -> Variants {
        use mesos_command_modules::runner::cgroup::{unified_mounts, Hierarchy};
        let answer = &bench.fixtures.answer;
        let containment = judged.module.runner().containment();
        println!("judged configuration: {}", containment.describe());
        let mut containments = Vec::new();
        if containment.hierarchy().is_some() {
            containments.push((
                "core call, command_cgroup=none (process group only)".to_string(),
                UsageCall::with(
                    &bench.module_dirs(&format!("{name}-pgroup")),
                    answer,
                    &[("command_cgroup", "none".to_string())],
                ),
            ));
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        if let (Some(Hierarchy::V1Freezer), Some(v2)) = (
            containment.hierarchy(),
            unified_mounts(&mountinfo).into_iter().next(),
        ) {
            let path = v2.point.join(BENCH_V2_CGROUP);
            let call = UsageCall::with(
                &bench.module_dirs(&format!("{name}-v2")),
                answer,
                &[("command_cgroup", path.display().to_string())],
            );
            if call.module.runner().containment().hierarchy() == Some(Hierarchy::V2) {
                containments.push((
                    format!("core call, command_cgroup={}", path.display()),
                    call,
                ));
            } else {
                println!(
                    "no cgroup v2 variant: {}",
                    call.module.runner().containment().describe()
                );
            }
        }
        let scratch_fs = filesystem(bench.scratch.path());
        let on_scratch = (scratch_fs != filesystem(&bench.temp.path)).then(|| {
            (
                format!("core call, temp files on {scratch_fs}"),
                UsageCall::new(
                    &bench.module_dirs_on_scratch(&format!("{name}-scratch")),
                    answer,
                ),
            )
        });
        let judged = match containment.hierarchy() {
            Some(Hierarchy::V1Freezer) => "cgroup v1 freezer (judged)",
            Some(Hierarchy::V2) => "cgroup v2 (judged)",
            None => "process group only (judged)",
        };
        Variants {
            containments,
            on_scratch,
            judged: judged.to_string(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(String, UsageCall)> {
        self.containments.iter().chain(self.on_scratch.iter())
    }

    /// One information line: what each containment costs per call over the
    /// process group only, from the medians of the same run (`judged` the
    /// judged call's, `of_variants` each of [`Variants::iter`]'s, in its
    /// order), in `unit`.
    fn costs_line(&self, judged: f64, of_variants: &[f64], unit: &str) -> Option<String> {
        let none = self
            .containments
            .iter()
            .zip(of_variants)
            .find(|((what, _), _)| what.contains("command_cgroup=none"))
            .map(|(_, &v)| v)?;
        let mut parts = vec![format!("{} {:+.1} {unit}", self.judged, judged - none)];
        for ((what, _), &v) in self.containments.iter().zip(of_variants) {
            if let Some(path) = what.strip_prefix("core call, command_cgroup=/") {
                parts.push(format!("cgroup v2 (/{path}) {:+.1} {unit}", v - none));
            }
        }
        Some(format!(
            "  per-call cost of each containment over the process group only (information): {}",
            parts.join(", ")
        ))
    }
}
