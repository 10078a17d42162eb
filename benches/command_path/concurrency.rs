//! Target 4: nothing serialized. 20 prepares running a 1 s command, started
//! together, must all complete within 1.5 s: no call waits for another.

use std::sync::mpsc;
use std::time::Instant;

use mesos_command_modules::Method;

use super::{
    call, container_config, container_id, expect_none, isolator, median, path_param, percentile,
    Bench, Summary,
};

pub(crate) fn target_concurrency(bench: &Bench) -> Summary {
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
