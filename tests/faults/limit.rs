//! The concurrency limit: a flood of `usage` calls (one scrape of an agent
//! running many containers) never runs more than `max_concurrent_commands`
//! commands at once, every call is answered, a launch is never starved by
//! the flood, and the wait for a slot counts toward a call's timeout.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mesos_command_modules::{Answer, ErrorKind, Method};

use crate::common::fixture;
use crate::harness::{children, Scenario};

const USAGE_DOC: &str = "isolator_usage/container.json";

/// Counts our live children every millisecond until stopped; the most seen.
fn sample_children(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut most = 0;
        while !stop.load(Ordering::Relaxed) {
            let live = children()
                .iter()
                .filter(|(_, state, _)| state != "Z")
                .count();
            most = most.max(live);
            std::thread::sleep(Duration::from_millis(1));
        }
        most
    })
}

#[test]
fn a_flood_of_usage_calls_runs_at_most_the_limit_and_never_starves_a_launch() {
    let sc = Scenario::start("40 usage calls at once, limit 4");
    let usage = sc.script("usage", "sleep 0.2\necho '{\"mem_rss_bytes\":1}' > \"$2\"");
    let prepare = sc.script("prepare", "exit 0");
    let iso = sc.isolator(&[
        ("isolator_usage_command", usage.to_str().unwrap()),
        ("isolator_prepare_command", prepare.to_str().unwrap()),
        ("max_concurrent_commands", "4"),
    ]);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_children(Arc::clone(&stop));
    let document = fixture(USAGE_DOC);
    let calls: Vec<_> = (0..40)
        .map(|_| sc.spawn(&iso, Method::IsolatorUsage, &document))
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(iso.slots().running(), 3, "observations leave one slot free");
    assert_eq!(iso.slots().queued(), 37);

    // A launch in the middle of the flood takes the reserved slot at once:
    // it does not wait for the 37 queued observations (about 2.4 s).
    let launched = sc.call(
        &iso,
        Method::IsolatorPrepare,
        &fixture("isolator_prepare/long-task.json"),
    );
    assert_eq!(launched.answer, Answer::None);
    assert!(
        launched.duration < Duration::from_millis(500),
        "the launch waited {:?}",
        launched.duration
    );

    let answered = AtomicUsize::new(0);
    for rx in calls {
        let (outcome, _) = rx.recv_timeout(Duration::from_secs(20)).expect("answered");
        let outcome = outcome.expect("an outcome");
        assert!(outcome.failure.is_none(), "{:?}", outcome.failure);
        answered.fetch_add(1, Ordering::Relaxed);
    }
    stop.store(true, Ordering::Relaxed);
    let most = sampler.join().unwrap();
    assert_eq!(answered.load(Ordering::Relaxed), 40);
    assert!(iso.slots().peak() <= 4, "peak {}", iso.slots().peak());
    assert!(most <= 4, "{most} commands ran at once");
    assert_eq!((iso.slots().queued(), iso.slots().running()), (0, 0));
    sc.finish();
}

#[test]
fn the_wait_for_a_slot_counts_toward_the_timeout() {
    let sc = Scenario::start("queued calls time out by their own timeout");
    // SIGTERM ignored: a timed-out run holds its slot for the grace period.
    let usage = sc.script("slow-usage", "trap '' TERM\nsleep 0.8");
    let iso = sc.isolator(&[
        ("isolator_usage_command", usage.to_str().unwrap()),
        ("isolator_usage_timeout", "1"),
        ("kill_grace_period", "0.3"),
        ("max_concurrent_commands", "1"),
    ]);
    let document = fixture(USAGE_DOC);
    let first = sc.spawn(&iso, Method::IsolatorUsage, &document);
    std::thread::sleep(Duration::from_millis(50));
    // Waits about 0.75 s, then has 0.25 s left for its 0.8 s command.
    let second = sc.spawn(&iso, Method::IsolatorUsage, &document);
    std::thread::sleep(Duration::from_millis(50));
    // Waits for both (until about 1.35 s): its whole timeout passes in the
    // queue.
    let third = sc.spawn(&iso, Method::IsolatorUsage, &document);

    let failure = |rx: std::sync::mpsc::Receiver<_>| {
        let (outcome, took): (Option<mesos_command_modules::Outcome>, Duration) =
            rx.recv_timeout(Duration::from_secs(5)).expect("answered");
        (outcome.expect("an outcome").failure, took)
    };
    let (first, _) = failure(first);
    assert!(first.is_none(), "{first:?}");
    let (second, took) = failure(second);
    let second = second.expect("the second call times out");
    assert_eq!(second.kind, ErrorKind::Timeout);
    assert!(
        second.message.contains("timed out after 1s (of which 0.")
            && second.message.contains("waiting for a command slot)"),
        "{}",
        second.message
    );
    assert!(took < Duration::from_millis(1000 + 300 + 500), "{took:?}");
    let (third, took) = failure(third);
    let third = third.expect("the third call times out in the queue");
    assert_eq!(third.kind, ErrorKind::Timeout);
    assert!(
        third.message.ends_with(
            "did not start within its timeout of 1s: all 1 command slots of the module \
             (max_concurrent_commands) stayed in use"
        ),
        "{}",
        third.message
    );
    assert!(took < Duration::from_millis(1000 + 500), "{took:?}");
    assert_eq!(iso.metrics().stats(Method::IsolatorUsage).timeouts, 2);
    sc.finish();
}
