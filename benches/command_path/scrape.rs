//! Target 10: one scrape of an agent running 1000 containers. Mesos asks
//! `usage` of every container at once for each `/monitor/statistics` or
//! `/containers` request; the module must answer them all while never
//! running more than `max_concurrent_commands` commands at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mesos_command_modules::Method;

use super::{container_id, expect_statistics, isolator, path_param, percentile, Bench, Summary};

/// Counts our live children (not zombies) every half millisecond until
/// stopped, from the kernel's list of each thread's children; returns the
/// most seen at once.
fn sample_children(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut most = 0;
        while !stop.load(Ordering::Relaxed) {
            let mut live = 0;
            for task in std::fs::read_dir("/proc/self/task").into_iter().flatten() {
                let Ok(task) = task else { continue };
                let children =
                    std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
                live += children
                    .split_whitespace()
                    .filter(|pid| {
                        std::fs::read_to_string(format!("/proc/{pid}/stat"))
                            .ok()
                            .and_then(|s| {
                                s.rsplit_once(')')
                                    .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
                            })
                            .unwrap_or(false)
                    })
                    .count();
            }
            most = most.max(live);
            std::thread::sleep(Duration::from_micros(500));
        }
        most
    })
}

pub(crate) fn target_scrape(bench: &Bench) -> Summary {
    let containers = bench.pick(1000, 200);
    let module = isolator(
        &bench.module_dirs("scrape"),
        &[path_param("isolator_usage_command", &bench.fixtures.answer)],
    );
    let limit = module.config().max_concurrent_commands;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_children(Arc::clone(&stop));
    let (tx, rx) = mpsc::channel();
    let answered = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    // From one thread, as the agent's actor makes them.
    for i in 0..containers {
        let (tx, answered) = (tx.clone(), Arc::clone(&answered));
        module.spawn_call(
            Method::IsolatorUsage,
            vec![container_id(&format!("scraped-{i}"))],
            move |outcome| {
                answered.fetch_add(1, Ordering::Relaxed);
                let _ = tx.send((outcome, started.elapsed()));
            },
        );
    }
    let issued = started.elapsed();
    let mut latencies = Vec::with_capacity(containers);
    let mut failures = 0;
    for _ in 0..containers {
        let Ok((outcome, at)) = rx.recv_timeout(Duration::from_secs(120)) else {
            break;
        };
        if outcome.as_ref().is_some_and(|o| o.failure.is_some()) {
            failures += 1;
        }
        expect_statistics(outcome);
        latencies.push(at.as_secs_f64() * 1000.0);
    }
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let sampled = sampler.join().unwrap_or(usize::MAX);
    let peak = module.slots().peak();
    let all = latencies.len() == containers && failures == 0;
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!(
        "{containers} usage calls issued at once (in {:.1} ms), max_concurrent_commands {limit}: \
         {} answered, {failures} failed, all in {:.3} s ({:.0} calls/s)",
        issued.as_secs_f64() * 1000.0,
        latencies.len(),
        total.as_secs_f64(),
        latencies.len() as f64 / total.as_secs_f64()
    );
    println!(
        "latency from the scrape's start: p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        percentile(&latencies, 1.0)
    );
    println!(
        "peak commands at once: {peak} counted by the module, {sampled} live children sampled \
         every 0.5 ms (limit {limit})"
    );
    Summary {
        n: 10,
        name: "one scrape of 1000 containers",
        measured: format!(
            "{} of {containers} answered, peak {peak} commands (sampled {sampled}), p50 \
             {p50:.1} ms, p99 {p99:.1} ms",
            latencies.len()
        ),
        target: format!("all answered, peak <= {limit}"),
        pass: all && peak <= limit && sampled <= limit,
    }
}
