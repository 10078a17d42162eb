//! Target 3: throughput under concurrency. Calls per second of the core at
//! 64 calls in flight against the fastest of several bare spawners (threads
//! each spawning and waiting, reapers with `waitpid(-1)`, tasks on the
//! module's runtime waiting through a pidfd), interleaved in the same run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use mesos_command_modules::runtime::runtime;

use super::{interleave, median, throughput_of, BareSpawn, Bench, Summary, UsageCall, Variants};

pub(crate) fn target_throughput(bench: &Bench) -> Summary {
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
        race.rate(calls, workers, "spawner thread")
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
        race.rate(calls, threads, "reaper thread")
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

    /// In the timing thread: waits until every thread is ready, releases
    /// them, joins them; `calls` per second from the release to the last
    /// `finished`.
    fn rate(&self, calls: usize, threads: Vec<std::thread::JoinHandle<()>>, what: &str) -> f64 {
        self.0.ready.wait();
        let started = Instant::now();
        self.0.go.wait();
        for thread in threads {
            thread
                .join()
                .unwrap_or_else(|_| panic!("a {what} panicked"));
        }
        let last = self.0.last.lock().expect("race lock");
        calls as f64 / last.map_or(0.0, |l| (l - started).as_secs_f64())
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
