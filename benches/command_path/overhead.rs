//! Target 1: overhead per call. The judged call, an `isolator_usage` of a
//! prepared container made through `Module::spawn_call` as the shim makes
//! it, against spawning and waiting for the same command and argv directly,
//! interleaved, by their medians: what a call of the core costs over the
//! spawn itself.

use super::{
    container_config, filesystem, interleave, median, percentile, settle, timed, BareSpawn, Bench,
    Summary, UsageCall, Variants,
};

pub(crate) fn target_overhead(bench: &Bench) -> Summary {
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
    // A call is timed to its answer. What the module does after it
    // (removing the call's files, releasing its cgroup) is let finish
    // before the next sample, untimed: on a host whose scheduler runs the
    // caller on another CPU it would otherwise fall into the next sample,
    // the baseline's half of the time.
    let answered = |call: &UsageCall| {
        let answer = timed(|| call.run());
        settle();
        answer
    };
    let core_run = || answered(&core);
    let variant_runs: Vec<_> = variants.iter().map(|(_, v)| move || answered(v)).collect();
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
        "core call to its answer (files, spawn, wait, read, validate)",
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
