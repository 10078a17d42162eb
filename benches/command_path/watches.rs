//! Target 5: scale of watched containers. A thousand containers watched
//! every second, in a child process of this binary (`--child-watch`) so that
//! the thousand watch loops are measured in a process of their own: its
//! threads, its memory growth and its CPU per watch run.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mesos_command_modules::runtime::runtime;
use mesos_command_modules::Method;

use super::{
    container_config, container_id, expect_none, isolator, mib, path_param, rss_kib, self_cpu_us,
    Bench, Fixtures, ModuleDirs, Summary,
};

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

/// `--child-watch <containers> <seconds> <temp dir> <state dir>
/// <fixtures...>`: prepares and watches the containers for the given time,
/// then prints one line of `key=value` results.
pub(crate) fn child_watch(args: &[String]) {
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

pub(crate) fn target_watches(bench: &Bench) -> Summary {
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
