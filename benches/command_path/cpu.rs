//! Target 6: module CPU per call. The own CPU (user + sys, all threads,
//! children excluded) of this process per core call, against a bare spawn
//! and wait of the same command and against the floor of the script
//! protocol: the least any module following it pays per call.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{
    context_switches, filesystem, interleave, median, percentile, self_cpu_us, BareSpawn, Bench,
    Summary, UsageCall, Variants,
};

/// The floor of the script protocol: what any module that follows it must
/// do per call, done the cheapest way and synchronously. One call
/// directory, made once, whose files serve every call: the input file
/// opened (emptied) and written, the command spawned with it as its
/// standard input and its stdout and stderr piped, waited for on this
/// thread; the pipes and the output file read, and the output emptied for
/// the next call. No cgroup, no deadline, no validation, no second thread,
/// no check of what the command left: a lower bound for the core's call,
/// measured on the same file system.
struct ProtocolFloor {
    program: PathBuf,
    files: [PathBuf; 3],
}

impl ProtocolFloor {
    fn new(dir: &Path, program: &Path) -> ProtocolFloor {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let call = dir.join("protocol-floor");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&call)
            .expect("mkdir protocol floor");
        let files = ["input", "output", "error"].map(|f| call.join(f));
        for file in &files {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(file)
                .expect("call file");
        }
        ProtocolFloor {
            program: program.to_path_buf(),
            files,
        }
    }

    fn run(&self) {
        use std::io::Read;
        use std::os::unix::fs::FileExt;
        let [input, output, error] = &self.files;
        let stdin = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .truncate(true)
            .open(input)
            .expect("input file");
        stdin
            .write_all_at(br#"{"container_id":{"value":"bench-usage"}}"#, 0)
            .expect("input");
        let mut child = Command::new(&self.program)
            .args([input, output, error])
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
        let mut answer = Vec::new();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(output)
            .expect("output file");
        file.read_to_end(&mut answer).expect("output");
        assert!(!answer.is_empty(), "the floor's command wrote no output");
        file.set_len(0).expect("empty the output");
    }
}

pub(crate) fn target_cpu(bench: &Bench) -> Summary {
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
