//! Target 2: independent of the agent's size. The core call from a process
//! holding a 4 GiB heap against the same from a small one, each a child
//! process of this binary (`--child-rss`) so that the heap is measured in a
//! process of its own; for information, what a `fork()`-based spawn costs at
//! that size against posix_spawn, and whether the core's spawn shares the
//! memory (`CLONE_VM`), checked under `strace -f` (`--strace-probe`).

use std::collections::HashMap;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::{
    median, mib, percentile, rss_kib, timed, BareSpawn, Bench, Fixtures, ModuleDirs, Summary,
    UsageCall,
};

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
pub(crate) fn child_rss(args: &[String]) {
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

pub(crate) fn target_big_agent(bench: &Bench) -> Summary {
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
pub(crate) fn strace_probe(args: &[String]) {
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
