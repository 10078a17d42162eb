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

use std::collections::HashMap;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

#[path = "command_path/scrape.rs"]
mod scrape;
#[path = "command_path/service.rs"]
mod service;

use mesos_command_modules::runtime::runtime;
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
        Some("--child-rss") => return child_rss(&args[1..]),
        Some("--child-watch") => return child_watch(&args[1..]),
        Some("--strace-probe") => return strace_probe(&args[1..]),
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
        (1, target_overhead),
        (2, target_big_agent),
        (3, target_throughput),
        (4, target_concurrency),
        (5, target_watches),
        (6, target_cpu),
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

/// The floor of the script protocol: what any module that follows it must
/// do per call, done the cheapest way and synchronously. A call directory
/// holding the input file (written), the output and error files (created
/// empty); the command spawned with the input as its standard input and
/// its stdout and stderr piped, waited for on this thread; the pipes and
/// the output file read; the files and the directory removed. No cgroup,
/// no deadline, no validation, no second thread: a lower bound for the
/// core's call, measured on the same file system.
struct ProtocolFloor {
    program: PathBuf,
    dir: PathBuf,
    calls: std::cell::Cell<u64>,
}

impl ProtocolFloor {
    fn new(dir: &Path, program: &Path) -> ProtocolFloor {
        let dir = dir.join("protocol-floor");
        std::fs::create_dir_all(&dir).expect("mkdir protocol floor");
        ProtocolFloor {
            program: program.to_path_buf(),
            dir,
            calls: std::cell::Cell::new(0),
        }
    }

    fn run(&self) {
        use std::io::Read;
        use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
        let n = self.calls.get();
        self.calls.set(n + 1);
        let call = self.dir.join(format!("{n:08}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&call)
            .expect("call directory");
        let [input, output, error] = ["input", "output", "error"].map(|f| call.join(f));
        let create = |path: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .expect("call file")
        };
        let stdin = create(&input);
        stdin
            .write_all_at(br#"{"container_id":{"value":"bench-usage"}}"#, 0)
            .expect("input");
        create(&output);
        create(&error);
        let mut child = Command::new(&self.program)
            .args([&input, &output, &error])
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let status = child.wait().expect("wait");
        assert!(status.success(), "the floor's command failed: {status}");
        let mut captured = Vec::new();
        if let Some(mut stdout) = child.stdout.take() {
            stdout.read_to_end(&mut captured).expect("stdout");
        }
        if let Some(mut stderr) = child.stderr.take() {
            stderr.read_to_end(&mut captured).expect("stderr");
        }
        let answer = std::fs::read(&output).expect("output");
        assert!(!answer.is_empty(), "the floor's command wrote no output");
        for file in [&input, &output, &error] {
            std::fs::remove_file(file).expect("remove call file");
        }
        std::fs::remove_dir(&call).expect("remove call directory");
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

/// The threads of this process: (all, those of the module's runtime).
fn threads() -> (usize, usize) {
    let mut all = 0;
    let mut module = 0;
    for entry in std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .flatten()
    {
        all += 1;
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == "mesos-cmd-mod" {
            module += 1;
        }
    }
    (all, module)
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------
// Target 1: overhead per call
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

fn target_overhead(bench: &Bench) -> Summary {
    let dirs = bench.module_dirs("overhead");
    let core = UsageCall::new(&dirs, &bench.fixtures.answer);
    let bare = BareSpawn::new(&dirs.temp, &bench.fixtures.answer);
    let variants = Variants::new(bench, "overhead", &core);
    let rounds = bench.pick(1500, 40);
    for _ in 0..bench.pick(100, 5) {
        core.run();
        bare.run();
        for (_, v) in variants.iter() {
            v.run();
        }
    }
    let bare_run = || timed(|| bare.run());
    let core_run = || timed(|| core.run());
    let variant_runs: Vec<_> = variants
        .iter()
        .map(|(_, v)| move || timed(|| v.run()))
        .collect();
    let mut runs: Vec<&dyn Fn() -> f64> = vec![&bare_run, &core_run];
    runs.extend(variant_runs.iter().map(|r| r as &dyn Fn() -> f64));
    let samples = interleave(rounds, &runs);
    let (a, b) = (&samples[0], &samples[1]);
    let ratio = median(b) / median(a);
    let paired: Vec<f64> = b.iter().zip(a).map(|(b, a)| b / a).collect();
    println!(
        "{rounds} interleaved rounds, isolator_usage of a prepared container (input {} bytes), \
         temp files on {}",
        container_config().len() + 40,
        filesystem(&dirs.temp)
    );
    let show = |what: &str, v: &[f64]| {
        println!(
            "  {what:<58} median {:>5.0} us, p10 {:>5.0}, p90 {:>5.0}",
            median(v),
            percentile(v, 0.1),
            percentile(v, 0.9)
        )
    };
    show(
        "core call (spawn_call: files, spawn, wait, read, validate)",
        b,
    );
    show("bare spawn + wait of the same command and argv", a);
    println!(
        "  ratio of medians {ratio:.3}, median of paired ratios {:.3}, overhead {:.0} us",
        median(&paired),
        median(b) - median(a)
    );
    for ((what, _), v) in variants.iter().zip(&samples[2..]) {
        show(&format!("{what} (information)"), v);
        println!(
            "    ratio of medians {:.3}, overhead {:.0} us",
            median(v) / median(a),
            median(v) - median(a)
        );
    }
    let medians: Vec<f64> = samples[2..].iter().map(|v| median(v)).collect();
    if let Some(line) = variants.costs_line(median(b), &medians, "us of latency") {
        println!("{line}");
    }
    Summary {
        n: 1,
        name: "overhead per call",
        measured: format!(
            "{ratio:.3} (core {:.0} us / bare spawn {:.0} us)",
            median(b),
            median(a)
        ),
        target: "<= 1.15".to_string(),
        pass: ratio <= 1.15,
    }
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

// ---------------------------------------------------------------------------
// Target 2: independent of the agent's size
// ---------------------------------------------------------------------------

/// A child process of this binary holding `rss_mib` of touched memory,
/// driven line by line over its standard input and output.
struct RssChild {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    rss_kib: u64,
}

impl RssChild {
    fn start(bench: &Bench, rss_mib: u64, name: &str) -> RssChild {
        let mut child = Command::new(std::env::current_exe().expect("current exe"))
            .arg("--child-rss")
            .arg(rss_mib.to_string())
            .args(bench.module_dirs(name).to_args())
            .args(bench.fixtures.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the child");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        let mut me = RssChild {
            child,
            input,
            output,
            rss_kib: 0,
        };
        let ready = me.line();
        me.rss_kib = ready
            .strip_prefix("ready ")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("child: {ready}"));
        me
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.output.read_line(&mut line).expect("read from child");
        assert!(!line.is_empty(), "the child exited");
        line.trim_end().to_string()
    }

    /// Sends a request, returns the samples: one group of numbers per
    /// operation, `a/b/...`.
    fn ask(&mut self, request: &str) -> Vec<Vec<f64>> {
        writeln!(self.input, "{request}").expect("write to child");
        self.input.flush().expect("flush");
        let line = self.line();
        line.split_whitespace()
            .map(|group| {
                group
                    .split('/')
                    .map(|v| v.parse().expect("number"))
                    .collect()
            })
            .collect()
    }

    fn quit(mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.input.flush();
        let _ = self.child.wait();
    }
}

/// `--child-rss <MiB> <temp dir> <state dir> <fixtures...>`: touches `MiB`
/// of memory, then serves `core N`, `spawn N` and `fork N` requests.
fn child_rss(args: &[String]) {
    let rss_mib: usize = args[0].parse().expect("MiB");
    let dirs = ModuleDirs::from_args(&args[1..3]);
    let fixtures = Fixtures::from_args(&args[3..]);
    let _heap = touch_memory(rss_mib << 20);
    let core = UsageCall::new(&dirs, &fixtures.answer);
    let bare = BareSpawn::new(&dirs.temp, &fixtures.answer);
    // Arguments for the fork path, built before forking.
    let program = CString::new(fixtures.answer.as_os_str().as_bytes()).expect("path");
    let argv_owned: Vec<CString> = std::iter::once(program.clone())
        .chain(
            bare.args
                .iter()
                .map(|p| CString::new(p.as_os_str().as_bytes()).expect("path")),
        )
        .collect();
    let mut argv: Vec<*const libc::c_char> = argv_owned.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());

    let stdout = std::io::stdout();
    println!("ready {}", rss_kib());
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("request");
        let mut words = line.split_whitespace();
        let what = words.next().unwrap_or("quit");
        let n: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut samples = Vec::with_capacity(n);
        match what {
            "core" => {
                for _ in 0..n {
                    samples.push(format!("{:.1}", timed(|| core.run())));
                }
            }
            "spawn" => {
                for _ in 0..n {
                    let (started, cpu) = (Instant::now(), thread_cpu_us());
                    let mut child = bare.command().spawn().expect("spawn");
                    let (spawned, cpu) = (started.elapsed(), thread_cpu_us() - cpu);
                    assert!(child.wait().expect("wait").success());
                    let ended = started.elapsed();
                    samples.push(format!(
                        "{:.1}/{:.1}/{cpu:.1}",
                        spawned.as_secs_f64() * 1e6,
                        ended.as_secs_f64() * 1e6
                    ));
                }
            }
            "fork" => {
                for _ in 0..n {
                    let started = Instant::now();
                    let (forked, cpu, ended) = fork_exec_wait(&program, &argv, started);
                    samples.push(format!(
                        "{:.1}/{:.1}/{cpu:.1}",
                        forked.as_secs_f64() * 1e6,
                        ended.as_secs_f64() * 1e6
                    ));
                }
            }
            _ => return,
        }
        let mut out = stdout.lock();
        writeln!(out, "{}", samples.join(" ")).expect("reply");
        out.flush().expect("flush");
    }
}

/// What the original module did: `fork()`, then `execv` in the child.
/// Returns the time until `fork` returned in the parent, the CPU time the
/// calling thread spent in `fork`, and the time until the child was reaped.
fn fork_exec_wait(
    program: &CString,
    argv: &[*const libc::c_char],
    started: Instant,
) -> (Duration, f64, Duration) {
    let cpu = thread_cpu_us();
    // SAFETY: the child only calls the async-signal-safe execv and _exit on
    // memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above; argv is NULL-terminated.
        unsafe {
            libc::execv(program.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
    }
    assert!(pid > 0, "fork failed");
    let (forked, cpu) = (started.elapsed(), thread_cpu_us() - cpu);
    let mut status = 0;
    // SAFETY: waits for our own child only.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    (forked, cpu, started.elapsed())
}

/// CPU time of the calling thread, in microseconds.
fn thread_cpu_us() -> f64 {
    // SAFETY: clock_gettime fills the zeroed timespec it is given.
    let t = unsafe {
        let mut t: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t);
        t
    };
    t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 / 1e3
}

/// Maps `bytes` of private anonymous memory, without transparent huge pages
/// (an agent's heap is made of small pages), and writes to every page so
/// that it is resident.
fn touch_memory(bytes: usize) -> Option<(*mut libc::c_void, usize)> {
    if bytes == 0 {
        return None;
    }
    // SAFETY: a fresh anonymous private mapping; only its own pages are
    // written, and it is never unmapped (the process exits holding it).
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert!(p != libc::MAP_FAILED, "cannot map {bytes} bytes");
        libc::madvise(p, bytes, libc::MADV_NOHUGEPAGE);
        let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
        let base = p.cast::<u8>();
        for offset in (0..bytes).step_by(page) {
            std::ptr::write_volatile(base.add(offset), 1);
        }
        Some((p, bytes))
    }
}

fn target_big_agent(bench: &Bench) -> Summary {
    let big_mib = bench.pick(4096, 256);
    let started = Instant::now();
    let mut small = RssChild::start(bench, 0, "rss-small");
    let mut big = RssChild::start(bench, big_mib, "rss-big");
    println!(
        "children ready in {:.1} s: small VmRSS {:.0} MiB, big VmRSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        mib(small.rss_kib as i64),
        mib(big.rss_kib as i64)
    );
    assert!(
        big.rss_kib >= big_mib << 10,
        "the big child is not resident"
    );

    let (rounds, per_round) = bench.pick((60, 20), (3, 5));
    small.ask("core 20");
    big.ask("core 20");
    let (mut s, mut b) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let request = format!("core {per_round}");
        let (first, second) = if round % 2 == 0 {
            (&mut small, &mut big)
        } else {
            (&mut big, &mut small)
        };
        let one = first.ask(&request);
        let two = second.ask(&request);
        let (from_small, from_big) = if round % 2 == 0 {
            (one, two)
        } else {
            (two, one)
        };
        s.extend(from_small.into_iter().map(|g| g[0]));
        b.extend(from_big.into_iter().map(|g| g[0]));
    }
    let ratio = median(&b) / median(&s);
    println!(
        "core call, {} interleaved calls each: from {:.0} MiB median {:.0} us (p90 {:.0}), from \
         the small process median {:.0} us (p90 {:.0}): ratio {ratio:.3}",
        s.len(),
        mib(big.rss_kib as i64),
        median(&b),
        percentile(&b, 0.9),
        median(&s),
        percentile(&s, 0.9)
    );

    // What a fork()-based spawn costs at this size, against posix_spawn in
    // the same process.
    let fork_rounds = bench.pick(10, 2);
    let (mut fork_big, mut spawn_big, mut fork_small, mut spawn_small) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..fork_rounds {
        spawn_big.extend(big.ask("spawn 20"));
        fork_big.extend(big.ask("fork 1"));
        spawn_small.extend(small.ask("spawn 20"));
        fork_small.extend(small.ask("fork 1"));
    }
    let column = |v: &[Vec<f64>], i: usize| v.iter().map(|g| g[i]).collect::<Vec<f64>>();
    // Per spawn: [time until the call returned, until reaped, CPU of the
    // calling thread in the call].
    let (fb, sb) = (column(&fork_big, 0), column(&spawn_big, 0));
    let (fbc, sbc) = (column(&fork_big, 1), column(&spawn_big, 1));
    let (fbu, sbu) = (column(&fork_big, 2), column(&spawn_big, 2));
    println!(
        "at {:.0} MiB, median of {} forks and {} posix_spawns:",
        mib(big.rss_kib as i64),
        fb.len(),
        sb.len()
    );
    println!(
        "  fork() returns in {:.1} ms ({:.1} ms of CPU), fork + exec + wait {:.1} ms",
        median(&fb) / 1e3,
        median(&fbu) / 1e3,
        median(&fbc) / 1e3
    );
    println!(
        "  posix_spawn returns in {:.0} us ({:.0} us of CPU), spawn + wait {:.0} us",
        median(&sb),
        median(&sbu),
        median(&sbc)
    );
    println!(
        "  fork/posix_spawn: {:.0}x the time to return, {:.0}x the CPU, {:.0}x the whole run",
        median(&fb) / median(&sb),
        median(&fbu) / median(&sbu),
        median(&fbc) / median(&sbc)
    );
    println!(
        "in the small process: fork() returns in {:.0} us ({:.0} us of CPU), posix_spawn in {:.0} \
         us ({:.0} us of CPU)",
        median(&column(&fork_small, 0)),
        median(&column(&fork_small, 2)),
        median(&column(&spawn_small, 0)),
        median(&column(&spawn_small, 2))
    );
    let big_gib = mib(big.rss_kib as i64) / 1024.0;
    small.quit();
    big.quit();

    let spawn = check_spawn_syscall(bench);
    println!("the core's spawn under strace -f: {}", spawn.detail);

    Summary {
        n: 2,
        name: "independent of the agent's size",
        measured: format!(
            "{ratio:.3} (core call at {:.1} GiB {:.0} us / small {:.0} us; fork() at {:.1} GiB \
             {:.1} ms, {:.0}x the CPU of posix_spawn; spawn: {})",
            big_gib,
            median(&b),
            median(&s),
            big_gib,
            median(&fb) / 1e3,
            median(&fbu) / median(&sbu),
            match spawn.shares_memory {
                Some(true) => format!("{} CLONE_VM", spawn.call),
                Some(false) => format!("{} without CLONE_VM", spawn.call),
                None => "not checked".to_string(),
            }
        ),
        target: "<= 1.2, spawn without fork".to_string(),
        pass: ratio <= 1.2 && spawn.shares_memory != Some(false),
    }
}

/// `--strace-probe <temp dir> <state dir> <fixtures...>`: one core call,
/// for strace.
fn strace_probe(args: &[String]) {
    let dirs = ModuleDirs::from_args(&args[..2]);
    let fixtures = Fixtures::from_args(&args[2..]);
    UsageCall::new(&dirs, &fixtures.answer).run();
}

/// What `strace -f` showed of the spawn.
struct SpawnCheck {
    /// Whether the command's process was created by a clone with
    /// `CLONE_VM` (sharing the memory: no page table copied, whatever the
    /// size); `None` when it could not be checked.
    shares_memory: Option<bool>,
    /// The system call that created it (`clone3`, `clone`, `fork`, ...).
    call: String,
    /// The system call and its flags, or why it was not checked.
    detail: String,
}

/// Runs one core call under `strace -f` and reports the system call that
/// created the command's process, with its flags.
fn check_spawn_syscall(bench: &Bench) -> SpawnCheck {
    let unchecked = |detail: String| SpawnCheck {
        shares_memory: None,
        call: String::new(),
        detail,
    };
    let log = bench.scratch.path().join("strace.log");
    let ran = Command::new("strace")
        .args(["-f", "-qq", "-e", "signal=none", "-e"])
        .arg("trace=clone,clone3,fork,vfork,execve")
        .arg("-o")
        .arg(&log)
        .arg(std::env::current_exe().expect("current exe"))
        .arg("--strace-probe")
        .args(bench.module_dirs("strace").to_args())
        .args(bench.fixtures.to_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match ran {
        Err(e) => return unchecked(format!("not checked: strace cannot run ({e})")),
        Ok(out) if !out.status.success() => {
            return unchecked(format!(
                "not checked: strace failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(&log).expect("strace log");
    let calls = strace_calls(&text);
    let exec = format!("execve(\"{}\"", bench.fixtures.answer.display());
    let Some((pid, _)) = calls.iter().find(|(_, call)| call.starts_with(&exec)) else {
        return unchecked("not checked: the command's execve is not in the strace log".into());
    };
    let creator = calls.iter().find(|(_, call)| {
        ["clone(", "clone3(", "fork(", "vfork("]
            .iter()
            .any(|s| call.starts_with(s))
            && call.rsplit("= ").next().map(str::trim) == Some(pid.as_str())
    });
    match creator {
        Some((_, call)) => {
            let name = &call[..call.find('(').unwrap_or(0)];
            let flags = call
                .split("flags=")
                .nth(1)
                .map(|f| f.split([',', '}', ' ']).next().unwrap_or(""))
                .unwrap_or("");
            let shares_memory = flags.split('|').any(|f| f == "CLONE_VM");
            SpawnCheck {
                shares_memory: Some(shares_memory),
                call: name.to_string(),
                detail: format!(
                    "{name}(flags={flags}): {}",
                    if shares_memory {
                        "CLONE_VM, no page table copy"
                    } else {
                        "NOT a CLONE_VM spawn: the memory is copied"
                    }
                ),
            }
        }
        None => unchecked(format!("not checked: no clone/fork returned pid {pid}")),
    }
}

/// The complete calls of an `strace -f` log as (pid, call text), with
/// `<unfinished ...>` and `<... resumed>` halves joined.
fn strace_calls(text: &str) -> Vec<(String, String)> {
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut calls = Vec::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            pending.insert(pid.to_string(), head.trim_end().to_string());
        } else if rest.starts_with("<...") {
            let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
            let head = pending.remove(pid).unwrap_or_default();
            calls.push((pid.to_string(), format!("{head}{tail}")));
        } else {
            calls.push((pid.to_string(), rest.to_string()));
        }
    }
    calls
}

// ---------------------------------------------------------------------------
// Target 3: throughput under concurrency
// ---------------------------------------------------------------------------

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

fn target_throughput(bench: &Bench) -> Summary {
    let dirs = bench.module_dirs("throughput");
    let core = UsageCall::new(&dirs, &bench.fixtures.answer);
    let bare = Arc::new(BareSpawn::new(&dirs.temp, &bench.fixtures.answer));
    let (calls, in_flight, rounds) = bench.pick((2000, 64, 5), (200, 64, 1));

    // For information: the same with each command contained otherwise
    // (process group only, cgroup v2), when the default gives it a cgroup.
    let variants = Variants::new(bench, "throughput", &core);

    let core_run_of = |core: &UsageCall| throughput_of(core, calls, in_flight);
    let core_run = || core_run_of(&core);
    let variant_runs: Vec<_> = variants
        .containments
        .iter()
        .map(|(_, c)| move || core_run_of(c))
        .collect();
    // Bare spawner 1: `in_flight` threads, each spawning and waiting.
    let threads_run = || {
        let next = Arc::new(AtomicUsize::new(0));
        let race = Race::new(in_flight);
        let workers: Vec<_> = (0..in_flight)
            .map(|_| {
                let (next, race, bare) = (next.clone(), race.clone(), bare.clone());
                std::thread::spawn(move || {
                    race.ready();
                    while next.fetch_add(1, Ordering::Relaxed) < calls {
                        bare.run();
                    }
                    race.finished();
                })
            })
            .collect();
        let started = race.start();
        for w in workers {
            w.join().expect("spawner thread");
        }
        calls as f64 / race.elapsed(started)
    };
    // Bare spawner 2: `k` threads keeping `in_flight` children running in
    // all, each reaping whichever child ends first with waitpid(-1) (fine
    // here: this process has no other children while it runs).
    let reapers_run = |k: usize| {
        let issued = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let race = Race::new(k);
        let threads: Vec<_> = (0..k)
            .map(|_| {
                let (issued, done, running, race, bare) = (
                    issued.clone(),
                    done.clone(),
                    running.clone(),
                    race.clone(),
                    bare.clone(),
                );
                std::thread::spawn(move || {
                    race.ready();
                    while done.load(Ordering::Relaxed) < calls {
                        if running.fetch_add(1, Ordering::Relaxed) < in_flight
                            && issued.fetch_add(1, Ordering::Relaxed) < calls
                        {
                            // Dropping the `Child` neither waits nor kills.
                            drop(bare.command().spawn().expect("spawn"));
                            continue;
                        }
                        running.fetch_sub(1, Ordering::Relaxed);
                        let mut status = 0;
                        // SAFETY: reaps one of this process's children.
                        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
                        if pid > 0 {
                            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
                            running.fetch_sub(1, Ordering::Relaxed);
                            done.fetch_add(1, Ordering::Relaxed);
                        } else {
                            // ECHILD: another thread is about to spawn.
                            std::thread::yield_now();
                        }
                    }
                    race.finished();
                })
            })
            .collect();
        let started = race.start();
        for t in threads {
            t.join().expect("reaper thread");
        }
        calls as f64 / race.elapsed(started)
    };
    // Bare spawner 3: `in_flight` tasks on the module's runtime, each
    // spawning and awaiting the exit through a pidfd (what the core does,
    // without files, pipes or JSON).
    let async_run = || {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        runtime().block_on(async {
            let tasks: Vec<_> = (0..in_flight)
                .map(|_| {
                    let (next, bare) = (next.clone(), bare.clone());
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < calls {
                            let mut child = bare.command().spawn().expect("spawn");
                            exited(&child).await;
                            assert!(child.wait().expect("reap").success());
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("spawner task");
            }
        });
        calls as f64 / started.elapsed().as_secs_f64()
    };
    let reaper_run = || reapers_run(1);
    let workers = mesos_command_modules::runtime::WORKER_THREADS;
    let reapers2_run = || reapers_run(workers);

    let mut runs: Vec<&dyn Fn() -> f64> = vec![
        &core_run,
        &threads_run,
        &reaper_run,
        &reapers2_run,
        &async_run,
    ];
    runs.extend(variant_runs.iter().map(|r| r as &dyn Fn() -> f64));
    let samples = interleave(rounds + 1, &runs);
    // The first round warms up.
    let (c, t, r, r2, a) = (
        &samples[0][1..],
        &samples[1][1..],
        &samples[2][1..],
        &samples[3][1..],
        &samples[4][1..],
    );
    let (baseline, name) = [
        (median(t), format!("{in_flight} threads")),
        (median(r), "1 reaper".to_string()),
        (median(r2), format!("{workers} reapers")),
        (median(a), format!("{in_flight} tasks")),
    ]
    .into_iter()
    .max_by(|a, b| a.0.total_cmp(&b.0))
    .expect("baselines");
    let ratio = median(c) / baseline;
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("{calls} calls at {in_flight} in flight, {rounds} interleaved rounds (calls/s)");
    println!(
        "  core, spawn_call with completions on the runtime:      median {:>5.0}  [{}]",
        median(c),
        list(c)
    );
    println!(
        "  bare, {in_flight} threads each spawning + waiting:          median {:>5.0}  [{}]",
        median(t),
        list(t)
    );
    println!(
        "  bare, one thread spawning, reaping with waitpid(-1):    median {:>5.0}  [{}]",
        median(r),
        list(r)
    );
    println!(
        "  bare, {workers} threads spawning, reaping with waitpid(-1):     median {:>5.0}  [{}]",
        median(r2),
        list(r2)
    );
    println!(
        "  bare, {in_flight} tasks on the runtime, pidfd wait:             median {:>5.0}  [{}]",
        median(a),
        list(a)
    );
    for ((what, _), p) in variants.containments.iter().zip(&samples[5..]) {
        let p = &p[1..];
        println!(
            "  {what} (information): median {:>5.0}  [{}], ratio {:.3}",
            median(p),
            list(p),
            median(p) / baseline
        );
    }
    // CPU time per call at this throughput, over the process group only:
    // 1e6 / rate is the machine's time per call on the 2 CPUs' shared clock.
    let per_call: Vec<f64> = samples[5..].iter().map(|p| 1e6 / median(&p[1..])).collect();
    if let Some(line) = variants.costs_line(1e6 / median(c), &per_call, "us of wall time per call")
    {
        println!("{line}");
    }
    println!("  baseline: the fastest bare spawner ({name}); ratio {ratio:.3}");
    Summary {
        n: 3,
        name: "throughput at 64 in flight",
        measured: format!(
            "{ratio:.3} (core {:.0} calls/s / bare {name} {baseline:.0} calls/s)",
            median(c)
        ),
        target: ">= 0.9".to_string(),
        pass: ratio >= 0.9,
    }
}

/// Times work spread over `n` threads without counting their creation, nor
/// the time the timing thread itself waits for a CPU: the clock starts
/// before the threads are released and stops when the last one finishes.
#[derive(Clone)]
struct Race(Arc<RaceInner>);

struct RaceInner {
    ready: Barrier,
    go: Barrier,
    last: std::sync::Mutex<Option<Instant>>,
}

impl Race {
    fn new(n: usize) -> Race {
        Race(Arc::new(RaceInner {
            ready: Barrier::new(n + 1),
            go: Barrier::new(n + 1),
            last: std::sync::Mutex::new(None),
        }))
    }

    /// In each thread, before its work.
    fn ready(&self) {
        self.0.ready.wait();
        self.0.go.wait();
    }

    /// In each thread, after its work.
    fn finished(&self) {
        let now = Instant::now();
        let mut last = self.0.last.lock().expect("race lock");
        *last = Some(last.map_or(now, |l| l.max(now)));
    }

    /// In the timing thread: waits until every thread is ready, then
    /// releases them; returns the start time.
    fn start(&self) -> Instant {
        self.0.ready.wait();
        let started = Instant::now();
        self.0.go.wait();
        started
    }

    /// Seconds from `started` to the last `finished`, once all are joined.
    fn elapsed(&self, started: Instant) -> f64 {
        let last = self.0.last.lock().expect("race lock");
        last.map_or(0.0, |l| (l - started).as_secs_f64())
    }
}

/// Waits for `child` to exit through a pidfd registered with the runtime.
async fn exited(child: &std::process::Child) {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags, returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
    assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh descriptor that we own.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: the AsyncFd owns the open descriptor for its whole life.
    let pidfd = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE)
    }
    .expect("register the pidfd");
    // A pidfd becomes readable once the process has exited.
    let _ = pidfd.readable().await.expect("pidfd readiness");
}

// ---------------------------------------------------------------------------
// Target 4: nothing serialized
// ---------------------------------------------------------------------------

fn target_concurrency(bench: &Bench) -> Summary {
    let module = isolator(
        &bench.module_dirs("concurrency"),
        &[path_param(
            "isolator_prepare_command",
            &bench.fixtures.sleeper,
        )],
    );
    let config = container_config();
    let (calls, rounds) = (20, bench.pick(3, 1));
    let mut totals = Vec::new();
    for round in 0..rounds {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        for i in 0..calls {
            let tx = tx.clone();
            module.spawn_call(
                Method::IsolatorPrepare,
                vec![container_id(&format!("sleep-{round}-{i}")), config.clone()],
                move |outcome| {
                    let _ = tx.send((outcome, started.elapsed()));
                },
            );
        }
        let mut done = Vec::new();
        for _ in 0..calls {
            let (outcome, at) = rx.recv().expect("completion");
            expect_none(outcome, "prepare");
            done.push(at.as_secs_f64());
        }
        let last = percentile(&done, 1.0);
        println!(
            "round {}: {calls} prepares running a 1 s command, started together: first completed \
             at {:.3} s, last at {last:.3} s",
            round + 1,
            percentile(&done, 0.0),
        );
        totals.push(last);
        for i in 0..calls {
            expect_none(
                call(
                    &module,
                    Method::IsolatorCleanup,
                    vec![container_id(&format!("sleep-{round}-{i}"))],
                ),
                "cleanup",
            );
        }
    }
    let measured = median(&totals);
    Summary {
        n: 4,
        name: "20 concurrent 1 s prepares",
        measured: format!("{measured:.3} s (median of {rounds} rounds)"),
        target: "<= 1.5 s".to_string(),
        pass: measured <= 1.5,
    }
}

// ---------------------------------------------------------------------------
// Target 5: scale of watched containers
// ---------------------------------------------------------------------------

/// `--child-watch <containers> <seconds> <temp dir> <state dir>
/// <fixtures...>`: prepares and watches the containers for the given time,
/// then prints one line of `key=value` results.
fn child_watch(args: &[String]) {
    let containers: usize = args[0].parse().expect("containers");
    let seconds: f64 = args[1].parse().expect("seconds");
    let dirs = ModuleDirs::from_args(&args[2..4]);
    let fixtures = Fixtures::from_args(&args[4..]);
    let module = isolator(
        &dirs,
        &[
            path_param("isolator_watch_command", &fixtures.quiet),
            ("isolator_watch_frequence", "1".to_string()),
        ],
    );
    runtime();
    let config = container_config();
    let ids: Vec<String> = (0..containers)
        .map(|i| container_id(&format!("watched-{i:04}")))
        .collect();
    let mut max_threads = (0, 0);
    let mut sample = || {
        let (all, module) = threads();
        max_threads = (max_threads.0.max(all), max_threads.1.max(module));
    };
    sample();
    let rss_before = rss_kib();

    // Prepare every container, 64 at a time (each is a checkpoint).
    let (tx, rx) = mpsc::channel();
    for (i, id) in ids.iter().enumerate() {
        if i >= 64 {
            expect_none(rx.recv().expect("prepared"), "prepare");
        }
        let tx = tx.clone();
        module.spawn_call(
            Method::IsolatorPrepare,
            vec![id.clone(), config.clone()],
            move |outcome| {
                let _ = tx.send(outcome);
            },
        );
    }
    for _ in 0..containers.min(64) {
        expect_none(rx.recv().expect("prepared"), "prepare");
    }
    sample();
    let rss_prepared = rss_kib();

    // Watch them all: each watch stays pending until cleanup.
    let (watch_tx, watch_rx) = mpsc::channel();
    let cpu_start = self_cpu_us();
    let runs_start = module.metrics().stats(Method::IsolatorWatch).calls;
    let started = Instant::now();
    for id in &ids {
        let tx = watch_tx.clone();
        module.spawn_call(Method::IsolatorWatch, vec![id.clone()], move |outcome| {
            let _ = tx.send(outcome);
        });
    }
    // VmRSS every tenth of the window: growth that levels off is the
    // working set of the calls in flight, growth that does not is a leak.
    let mut rss_trace = Vec::new();
    while started.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(Duration::from_millis(100));
        sample();
        let tenth = (started.elapsed().as_secs_f64() * 10.0 / seconds) as usize;
        if tenth > rss_trace.len() {
            rss_trace.push(rss_kib());
        }
    }
    let window = started.elapsed().as_secs_f64();
    let cpu = self_cpu_us() - cpu_start;
    let stats = module.metrics().stats(Method::IsolatorWatch);
    let runs = stats.calls - runs_start;
    let rss_after = rss_kib();
    let active = module.active_watches();

    // Clean every container up at once (one after the other would queue
    // each cleanup behind the watch runs in flight).
    let cleanup_started = Instant::now();
    let (done_tx, done_rx) = mpsc::channel();
    for id in &ids {
        let tx = done_tx.clone();
        module.spawn_call(Method::IsolatorCleanup, vec![id.clone()], move |outcome| {
            let _ = tx.send(outcome);
        });
    }
    for _ in 0..containers {
        expect_none(done_rx.recv().expect("cleaned up"), "cleanup");
    }
    let cleanup = cleanup_started.elapsed().as_secs_f64();
    for _ in 0..containers {
        let outcome = watch_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the watch ends at cleanup");
        assert!(outcome.is_none(), "a watch reported {outcome:?}");
    }
    assert_eq!(module.active_watches(), 0);
    sample();
    println!(
        "result containers={containers} window={window:.2} runs={runs} errors={} \
         active={active} cpu_us={cpu:.0} threads={} module_threads={} rss_before={rss_before} \
         rss_prepared={rss_prepared} rss_after={rss_after} mean_run_us={:.0} max_run_us={} \
         rss_trace={} cleanup_s={cleanup:.2}",
        stats.errors,
        max_threads.0,
        max_threads.1,
        stats.total.as_micros() as f64 / stats.calls.max(1) as f64,
        stats.max.as_micros(),
        rss_trace
            .iter()
            .map(|k| format!("{:.1}", mib(*k as i64)))
            .collect::<Vec<_>>()
            .join(",")
    );
}

fn target_watches(bench: &Bench) -> Summary {
    let (containers, seconds) = bench.pick((1000, 30.0), (50, 3.0));
    let out = Command::new(std::env::current_exe().expect("current exe"))
        .arg("--child-watch")
        .arg(containers.to_string())
        .arg(seconds.to_string())
        .args(bench.module_dirs("watch").to_args())
        .args(bench.fixtures.to_args())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the watch child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the watch child failed: {text}");
    let result: HashMap<&str, f64> = text
        .lines()
        .find_map(|l| l.strip_prefix("result "))
        .expect("a result line")
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
        .collect();
    let rss_trace = text
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("rss_trace="))
        .unwrap_or("")
        .replace(',', " ");
    let get = |k: &str| result[k];
    let threads = get("threads") as i64 - 1;
    let grown = mib(get("rss_after") as i64 - get("rss_before") as i64);
    let grown_watching = mib(get("rss_after") as i64 - get("rss_prepared") as i64);
    let runs = get("runs");
    let per_run = get("cpu_us") / runs.max(1.0);
    // The first run of each loop is immediate, then one per second.
    let expected = containers as f64 * (get("window").floor() + 1.0);
    println!(
        "{containers} containers watched every 1 s for {:.1} s: {runs} watch runs ({:.0}/s, {:.0}% \
         of the {expected:.0} due), {} failed, mean run {} us, slowest {:.0} ms",
        get("window"),
        runs / get("window"),
        100.0 * runs / expected,
        get("errors"),
        get("mean_run_us"),
        get("max_run_us") / 1e3
    );
    println!(
        "threads: {} in the process at most, {} of them the module's runtime (\"mesos-cmd-mod\"), \
         plus the bench's main thread",
        get("threads"),
        get("module_threads")
    );
    println!(
        "VmRSS: {:.1} MiB before, {:.1} MiB with {containers} containers prepared, {:.1} MiB after \
         watching: +{grown:.1} MiB in all, +{grown_watching:.1} MiB while watching",
        mib(get("rss_before") as i64),
        mib(get("rss_prepared") as i64),
        mib(get("rss_after") as i64)
    );
    println!("VmRSS every tenth of the window (MiB): {rss_trace}");
    println!(
        "the {containers} cleanups (all at once, each stopping its watch) took {:.2} s",
        get("cleanup_s")
    );
    println!(
        "own CPU while watching: {:.2} s, {per_run:.1} us per watch run",
        get("cpu_us") / 1e6
    );
    assert_eq!(get("active") as usize, containers, "watches ended early");
    Summary {
        n: 5,
        name: "watched containers",
        measured: format!(
            "{threads} threads, +{grown:.1} MiB, {per_run:.0} us CPU/run ({containers} containers, \
             {runs} runs in {:.0} s)",
            get("window")
        ),
        target: "<= 8 threads, <= 50 MiB, <= 100 us".to_string(),
        pass: threads <= 8 && grown <= 50.0 && per_run <= 100.0,
    }
}

// ---------------------------------------------------------------------------
// Target 6: module CPU per call
// ---------------------------------------------------------------------------

fn target_cpu(bench: &Bench) -> Summary {
    let dirs = bench.module_dirs("cpu");
    let core = UsageCall::new(&dirs, &bench.fixtures.answer);
    let bare = BareSpawn::new(&dirs.temp, &bench.fixtures.answer);
    let floor = ProtocolFloor::new(&dirs.temp, &bench.fixtures.answer);
    let variants = Variants::new(bench, "cpu", &core);
    let (blocks, per_block) = bench.pick((40, 50), (2, 10));
    for _ in 0..20 {
        core.run();
    }
    // Own CPU per call over a block of calls (and, for information, the
    // context switches of the whole process per call in the same block).
    let switches = std::cell::RefCell::new(vec![Vec::new(); 3 + variants.iter().count()]);
    let block = |f: &dyn Fn(), which: usize| {
        let (before, switched) = (self_cpu_us(), context_switches());
        for _ in 0..per_block {
            f();
        }
        let per_call = (context_switches() - switched) as f64 / per_block as f64;
        switches.borrow_mut()[which].push(per_call);
        (self_cpu_us() - before) / per_block as f64
    };
    let core_run = || block(&|| core.run(), 0);
    let bare_run = || block(&|| bare.run(), 1);
    let floor_run = || block(&|| floor.run(), 2);
    let variant_runs: Vec<_> = variants
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let block = &block;
            move || block(&|| v.run(), 3 + i)
        })
        .collect();
    let mut runs: Vec<&dyn Fn() -> f64> = vec![&core_run, &bare_run, &floor_run];
    runs.extend(variant_runs.iter().map(|r| r as &dyn Fn() -> f64));
    let samples = interleave(blocks, &runs);
    let (c, b, f) = (&samples[0], &samples[1], &samples[2]);
    let per_call = median(c);
    let switches = switches.into_inner();
    println!(
        "own CPU (RUSAGE_SELF: user + sys, all threads, children excluded) and context switches \
         of this process, per call, {blocks} interleaved blocks of {per_block} calls, temp files \
         on {}",
        filesystem(&dirs.temp)
    );
    let show = |what: &str, v: &[f64], sw: &[f64]| {
        println!(
            "  {what:<54} median {:>5.1} us (p10 {:>5.1}, p90 {:>5.1}), {:.1} switches",
            median(v),
            percentile(v, 0.1),
            percentile(v, 0.9),
            median(sw)
        )
    };
    show("core call", c, &switches[0]);
    show("bare spawn + wait", b, &switches[1]);
    show(
        "protocol floor: files + spawn + wait, synchronous",
        f,
        &switches[2],
    );
    for (i, ((what, _), v)) in variants.iter().zip(&samples[3..]).enumerate() {
        show(&format!("{what} (information)"), v, &switches[3 + i]);
    }
    let medians: Vec<f64> = samples[3..].iter().map(|v| median(v)).collect();
    if let Some(line) = variants.costs_line(per_call, &medians, "us of CPU") {
        println!("{line}");
    }
    println!(
        "  the protocol floor is the least any module following the script protocol pays per \
         call here (see ProtocolFloor); the core's call is {:.2}x it",
        per_call / median(f)
    );
    Summary {
        n: 6,
        name: "module CPU per call",
        measured: format!(
            "{per_call:.0} us (bare spawn + wait {:.0} us, protocol floor {:.0} us)",
            median(b),
            median(f)
        ),
        target: "<= 100 us".to_string(),
        pass: per_call <= 100.0,
    }
}
