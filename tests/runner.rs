//! The command runner against real processes: the protocol scripts rely on,
//! exact error texts, timeouts and kills, and nothing left behind.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{alive, eventually, reaped, Scratch};
use mesos_command_modules::runner::{Invocation, Report, Runner};
use mesos_command_modules::runtime::runtime;
use mesos_command_modules::ErrorKind;

fn runner(scratch: &Scratch) -> Runner {
    Runner::new(&scratch.temp_dir(), Duration::from_millis(500), 1024 * 1024)
}

fn run_with(runner: &Runner, program: &Path, timeout: Duration, input: &str) -> Report {
    let display = program.display().to_string();
    runtime().block_on(runner.run(&Invocation {
        program,
        display: &display,
        timeout,
        queued: Duration::ZERO,
        input: input.as_bytes(),
        env: &[("MESOS_COMMAND_METHOD", "isolator_prepare")],
    }))
}

fn run(scratch: &Scratch, program: &Path, timeout: Duration) -> Report {
    run_with(&runner(scratch), program, timeout, "{\"in\":1}")
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn the_answer_comes_from_the_output_file_not_stdout() {
    let s = Scratch::new();
    let cmd = s.script("ok", "echo stdout-noise; echo '{\"a\":1}' > \"$2\"");
    let report = run(&s, &cmd, SECOND);
    assert_eq!(report.result.unwrap(), b"{\"a\":1}\n");
    assert_eq!(report.stdout.text().as_deref(), Some("stdout-noise"));
    // The files go when the caller is done with the call.
    assert_eq!(s.leftover_temp_files().len(), 3, "the call's three files");
    drop(report.cleanup);
    assert!(s.leftover_temp_files().is_empty());
}

#[test]
fn arguments_stdin_and_environment_follow_the_protocol() {
    let s = Scratch::new();
    let cmd = s.script(
        "proto",
        r#"[ $# -eq 3 ] || exit 9
[ -f "$1" ] && [ -f "$2" ] && [ -f "$3" ] || exit 8
stdin=$(cat)
file=$(cat "$1")
[ "$stdin" = "$file" ] || exit 7
printf '%s|%s' "$stdin" "$MESOS_COMMAND_METHOD" > "$2""#,
    );
    let report = run(&s, &cmd, SECOND);
    assert_eq!(
        String::from_utf8(report.result.unwrap()).unwrap(),
        "{\"in\":1}|isolator_prepare"
    );
}

#[test]
fn a_non_zero_exit_reports_the_code_and_the_cause() {
    let s = Scratch::new();
    let bare = s.script("bare", "exit 3");
    let e = run(&s, &bare, SECOND).result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ExitStatus);
    assert_eq!(
        e.message,
        format!("Command \"{}\" exited with return code 3.", bare.display())
    );

    let caused = s.script("caused", "echo 'disk full' > \"$3\"; exit 4");
    let e = run(&s, &caused, SECOND).result.unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "Command \"{}\" exited with return code 4. Cause: disk full",
            caused.display()
        )
    );
    assert!(s.leftover_temp_files().is_empty());
}

#[test]
fn death_by_signal_is_reported_as_such() {
    let s = Scratch::new();
    let cmd = s.script("suicide", "kill -9 $$");
    let e = run(&s, &cmd, SECOND).result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Signal);
    assert_eq!(
        e.message,
        format!("Command \"{}\" exited via signal 9.", cmd.display())
    );
}

#[test]
fn an_endless_loop_is_terminated_at_the_timeout() {
    let s = Scratch::new();
    let cmd = s.script("loop", "while true; do sleep 0.05; done");
    let started = Instant::now();
    let report = run(&s, &cmd, Duration::from_millis(300));
    let elapsed = started.elapsed();
    let e = report.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(
        e.message,
        format!(
            "Command \"{}\" took too long to execute: timed out after 0.3s and was killed",
            cmd.display()
        )
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(300 + 500 + 500),
        "{elapsed:?}"
    );
    assert!(reaped(report.pid.unwrap()));
    assert!(s.leftover_temp_files().is_empty());
}

#[test]
fn a_command_trapping_sigterm_is_killed_after_the_grace_period() {
    let s = Scratch::new();
    let marker = s.path().join("got-term");
    let cmd = s.script(
        "trap",
        &format!(
            "trap 'touch {}' TERM\nwhile true; do sleep 0.05; done",
            marker.display()
        ),
    );
    let started = Instant::now();
    let report = run(&s, &cmd, Duration::from_millis(200));
    let elapsed = started.elapsed();
    assert_eq!(report.result.unwrap_err().kind, ErrorKind::Timeout);
    assert!(elapsed >= Duration::from_millis(200 + 500), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(200 + 500 + 700),
        "{elapsed:?}"
    );
    assert!(
        eventually(SECOND, || marker.exists()),
        "SIGTERM was not sent"
    );
    assert!(reaped(report.pid.unwrap()));
}

#[test]
fn grandchildren_in_the_group_die_with_the_command() {
    let s = Scratch::new();
    let pidfile = s.path().join("grandchild.pid");
    let cmd = s.script(
        "family",
        &format!(
            "sh -c 'trap \"\" TERM; while true; do sleep 0.05; done' &\necho $! > {}\nwait",
            pidfile.display()
        ),
    );
    let report = run(&s, &cmd, Duration::from_millis(200));
    assert_eq!(report.result.unwrap_err().kind, ErrorKind::Timeout);
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let survived = !eventually(SECOND, || !alive(grandchild));
    let status = std::fs::read_to_string(format!("/proc/{grandchild}/status")).unwrap_or_default();
    assert!(!survived, "grandchild {grandchild} survived: {status}");
}

#[test]
fn missing_and_non_executable_commands_fail_to_spawn() {
    let s = Scratch::new();
    let missing = s.path().join("missing");
    let e = run(&s, &missing, SECOND).result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Spawn);
    assert!(
        e.message.starts_with(&format!(
            "Command \"{}\" could not be started: No such file",
            missing.display()
        )),
        "{e}"
    );
    let plain = s.path().join("plain");
    std::fs::write(&plain, "#!/bin/sh\n").unwrap();
    let e = run(&s, &plain, SECOND).result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Spawn);
    assert!(e.message.contains("Permission denied"), "{e}");
    assert!(s.leftover_temp_files().is_empty());
}

#[test]
fn a_deleted_or_replaced_output_file_is_a_clear_error() {
    let s = Scratch::new();
    let removed = s.script("rm", "rm -f \"$2\"");
    let e = run(&s, &removed, SECOND).result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadOutput);
    assert!(
        e.message.contains("was removed while the command ran"),
        "{e}"
    );

    let linked = s.script("ln", "rm -f \"$2\"; ln -s /etc/passwd \"$2\"");
    let e = run(&s, &linked, SECOND).result.unwrap_err();
    assert!(e.message.contains("symbolic link"), "{e}");

    let fifo = s.script("fifo", "rm -f \"$2\"; mkfifo \"$2\"");
    let e = run(&s, &fifo, SECOND).result.unwrap_err();
    assert!(e.message.contains("FIFO"), "{e}");

    let moved = s.script("mv", "echo '{}' > \"$2.new\"; mv \"$2.new\" \"$2\"");
    assert_eq!(run(&s, &moved, SECOND).result.unwrap(), b"{}\n");
    assert!(s.leftover_temp_files().is_empty());
}

#[test]
fn output_beyond_the_cap_is_refused_and_streams_are_bounded() {
    let s = Scratch::new();
    let big = s.script(
        "big",
        "head -c 3000000 /dev/zero | tr '\\0' x > \"$2\"; head -c 300000 /dev/zero",
    );
    let report = run(&s, &big, Duration::from_secs(5));
    let e = report.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadOutput);
    assert!(e.message.contains("more than 1048576 bytes"), "{e}");
    assert!(report.stdout.truncated);
    assert_eq!(report.stdout.bytes.len(), 64 * 1024);
}

#[test]
fn a_grandchild_holding_the_pipes_does_not_hold_the_call() {
    let s = Scratch::new();
    let cmd = s.script("daemon", "(sleep 5 &) ; echo '{}' > \"$2\"");
    let started = Instant::now();
    let report = run(&s, &cmd, Duration::from_secs(3));
    assert_eq!(report.result.unwrap(), b"{}\n");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_command_is_reaped() {
    let s = Scratch::new();
    let cmd = s.script("ok", "true");
    let report = run(&s, &cmd, SECOND);
    let pid = report.pid.unwrap();
    // Reaped as soon as its end is settled (nothing signals its group
    // after that); its files go when the caller is done with the call.
    assert!(reaped(pid), "pid {pid} is still there (zombie?)");
    assert!(!s.leftover_temp_files().is_empty(), "files gone too early");
    drop(report.cleanup);
    assert!(s.leftover_temp_files().is_empty());
}

#[test]
fn the_agents_inheritable_descriptors_are_not_passed_on() {
    let s = Scratch::new();
    // A file only this test opens: the shell's own descriptors (dash keeps
    // its script on 10 and up) may take the same number, so the check
    // is on what the number points to, not on the number being open.
    let marker = s.path().join("leaky-marker");
    let leaky = std::fs::File::create(&marker).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&leaky);
    // What glog's fopen() does in the agent: a descriptor without FD_CLOEXEC.
    // SAFETY: clears the flag on our own open descriptor.
    unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    let cmd = s.script(
        "fds",
        &format!(
            "[ \"$(readlink /proc/$$/fd/{fd})\" = '{}' ] && exit 1\n[ -e /proc/$$/fd/0 ] && [ -e /proc/$$/fd/1 ] && [ -e /proc/$$/fd/2 ] || exit 2\ntrap - PIPE; echo ok > \"$2\"",
            marker.display()
        ),
    );
    let report = run(&s, &cmd, SECOND);
    assert_eq!(report.result.unwrap(), b"ok\n");
    drop(leaky);
}

#[test]
fn the_command_starts_with_clean_signals_in_its_own_group() {
    let s = Scratch::new();
    // What libprocess does in the agent (and Rust in this test): SIGPIPE
    // ignored; and a signal blocked in the spawning thread.
    // SAFETY: plain calls on valid, initialized arguments.
    let previous = unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let mut blocked: libc::sigset_t = std::mem::zeroed();
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut blocked);
        libc::sigaddset(&mut blocked, libc::SIGUSR2);
        libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, &mut previous);
        previous
    };
    let cmd = s.script(
        "signals",
        // Read by the command's own process (exec): a shell waiting for a
        // child blocks every signal meanwhile, which /proc shows.
        r#"pgid=$(awk '{print $5}' /proc/$$/stat)
[ "$pgid" = "$$" ] && echo leader > "$2"
exec grep -E '^(SigBlk|SigIgn)' /proc/self/status >> "$2""#,
    );
    let report = runtime().block_on(async {
        // The spawn happens on this thread, whose mask blocks SIGUSR2.
        runner(&s)
            .run(&Invocation {
                program: &cmd,
                display: "signals",
                timeout: SECOND,
                queued: Duration::ZERO,
                input: b"{}",
                env: &[],
            })
            .await
    });
    // SAFETY: restores this thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut()) };
    assert_eq!(
        String::from_utf8(report.result.unwrap()).unwrap(),
        "leader\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
}

#[test]
fn call_cgroups_are_reused_and_removed_with_the_runner() {
    let s = Scratch::new();
    let runner = runner(&s);
    let Some(instance) = runner
        .containment()
        .instance_directory()
        .map(Path::to_path_buf)
    else {
        println!(
            "skipped: commands are not contained by cgroups here ({})",
            runner.containment().describe()
        );
        return;
    };
    // The freezer line on v1, the `0::` line on v2: where the command runs.
    let cmd = s.script("where", r#"grep -E 'freezer|^0::' /proc/$$/cgroup > "$2""#);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let report = run_with(&runner, &cmd, SECOND, "{}");
        assert!(report.contained);
        seen.push(String::from_utf8(report.result.unwrap()).unwrap());
    }
    // One after the other, the calls use the same cgroup, under the
    // runner's directory, never ours.
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
    let name = instance.file_name().unwrap().to_str().unwrap();
    assert!(seen[0].contains(&format!("/{name}/")), "{}", seen[0]);
    let ours = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(!ours.contains(name), "{ours}");
    assert_eq!(runner.containment().idle_cgroups().len(), 1);
    drop(runner);
    assert!(!instance.exists(), "{} left", instance.display());
}
