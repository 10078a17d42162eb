//! Targets 7 to 9: service mode, where one helper per module answers the
//! calls over its standard input and output instead of a process per call.
//!
//! The trivial helper is a C program compiled here: it answers every
//! request with `{"timestamp":1}`, as the trivial command does. Target 9
//! uses the same Python watch logic twice: once as a script, once as a
//! helper.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_command_modules::{Method, Module};

use super::{
    container_config, container_id, context_switches, interleave, isolator, median, path_param,
    prepare, self_cpu_us, throughput_of, Bench, ModuleDirs, Summary, UsageCall,
};

const HELPER_C: &str = r#"
/* A service helper answering every request with {"timestamp":1}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  static char line[1 << 22];
  while (fgets(line, sizeof line, stdin)) {
    char *id = strstr(line, "\"id\":");
    if (!id) continue;
    printf("{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":{\"timestamp\":1}}\n",
           strtoull(id + 5, NULL, 10));
    fflush(stdout);
  }
  return 0;
}
"#;

/// The trivial helper, compiled into `dir`.
fn trivial_helper(bench: &Bench, dir: &Path) -> PathBuf {
    let source = dir.join("helper.c");
    std::fs::write(&source, HELPER_C).expect("write helper.c");
    let out = dir.join("helper");
    let status = Command::new(&bench.fixtures.compiler)
        .args(["-O2", "-Wall", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "helper.c does not compile");
    out
}

/// A usage call served by `helper`, on a prepared container, the helper up.
fn service_usage(dirs: &ModuleDirs, helper: &Path, extra: &[(&'static str, String)]) -> UsageCall {
    let mut parameters = vec![
        path_param("service_command", helper),
        ("service_methods", "isolator_usage".to_string()),
    ];
    parameters.extend_from_slice(extra);
    let module = isolator(dirs, &parameters);
    let up = mesos_command_modules::runtime::runtime().block_on(
        module
            .service()
            .expect("a service")
            .wait_up(Duration::from_secs(10)),
    );
    assert!(up, "the helper did not start");
    prepare(&module, "bench-usage", &container_config());
    UsageCall {
        module,
        id: container_id("bench-usage"),
    }
}

/// `helper` with its standard input and output piped to us, outside the
/// module.
fn start_helper(
    helper: &Path,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    std::process::ChildStdout,
) {
    let mut child = Command::new(helper)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the helper");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    (child, stdin, stdout)
}

/// The least a message to the helper costs: a request written and its
/// response read on the calling thread, blocking, with nothing else (no
/// runtime, no timeout, no validation).
struct MessageFloor {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    request: Vec<u8>,
    line: String,
}

impl MessageFloor {
    fn new(helper: &Path) -> MessageFloor {
        let (child, stdin, stdout) = start_helper(helper);
        let stdout = BufReader::new(stdout);
        let document = format!(
            r#"{{"container_config":{},"container_id":{}}}"#,
            container_config(),
            container_id("bench-usage")
        );
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":"isolator_usage","params":{document}}}"#);
        MessageFloor {
            child,
            stdin,
            stdout,
            request: format!("{request}\n").into_bytes(),
            line: String::new(),
        }
    }

    fn run(&mut self) {
        self.stdin
            .write_all(&self.request)
            .expect("write a request");
        self.line.clear();
        self.stdout
            .read_line(&mut self.line)
            .expect("read a response");
        assert!(self.line.contains(r#""result""#), "{}", self.line);
    }
}

impl Drop for MessageFloor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The least an asynchronous message to the helper costs here: the request
/// written by the calling thread, the response read by a task on the
/// module's runtime when the pipe wakes it, and the caller woken through a
/// channel: the two thread wake-ups of any call that does not hold its
/// caller's thread, and nothing else (no input, no validation, no timer).
struct AsyncFloor {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    answers: std::sync::mpsc::Receiver<()>,
    request: Vec<u8>,
}

impl AsyncFloor {
    fn new(helper: &Path, request: &[u8]) -> AsyncFloor {
        use std::os::fd::OwnedFd;
        use tokio::io::AsyncBufReadExt;
        let (child, stdin, stdout) = start_helper(helper);
        let stdout = OwnedFd::from(stdout);
        let (tx, answers) = std::sync::mpsc::channel();
        let runtime = mesos_command_modules::runtime::runtime();
        runtime.spawn(async move {
            let Ok(pipe) = tokio::net::unix::pipe::Receiver::from_owned_fd(stdout) else {
                return;
            };
            let mut lines = tokio::io::BufReader::new(pipe).lines();
            while let Ok(Some(_)) = lines.next_line().await {
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        AsyncFloor {
            child,
            stdin,
            answers,
            request: request.to_vec(),
        }
    }

    fn run(&mut self) {
        self.stdin
            .write_all(&self.request)
            .expect("write a request");
        self.answers.recv().expect("an answer");
    }
}

impl Drop for AsyncFloor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Target 7: the module's CPU per sequential call in service mode.
pub(crate) fn target_service_cpu(bench: &Bench) -> Summary {
    let dirs = bench.module_dirs("service-cpu");
    let helper = trivial_helper(bench, &bench.dir("service-helper-7"));
    let service = service_usage(&dirs, &helper, &[]);
    let script = UsageCall::new(
        &bench.module_dirs("service-cpu-script"),
        &bench.fixtures.answer,
    );
    let floor = std::cell::RefCell::new(MessageFloor::new(&helper));
    let request = floor.borrow().request.clone();
    let async_floor = std::cell::RefCell::new(AsyncFloor::new(&helper, &request));
    let (blocks, per_block) = bench.pick((30, 100), (2, 10));
    for _ in 0..50 {
        service.run();
    }
    let switches: std::cell::RefCell<[Vec<f64>; 4]> = Default::default();
    let block = |which: usize, f: &dyn Fn()| {
        let (before, switched) = (self_cpu_us(), context_switches());
        for _ in 0..per_block {
            f();
        }
        let cpu = (self_cpu_us() - before) / per_block as f64;
        switches.borrow_mut()[which]
            .push((context_switches() - switched) as f64 / per_block as f64);
        cpu
    };
    let service_run = || block(0, &|| service.run());
    let script_run = || block(1, &|| script.run());
    let floor_run = || block(2, &|| floor.borrow_mut().run());
    let async_run = || block(3, &|| async_floor.borrow_mut().run());
    let samples = interleave(blocks, &[&service_run, &script_run, &floor_run, &async_run]);
    let (per_call, per_script, per_message, per_async) = (
        median(&samples[0]),
        median(&samples[1]),
        median(&samples[2]),
        median(&samples[3]),
    );
    service.module.shutdown_and_wait();
    println!(
        "module CPU per sequential usage call: service mode {per_call:.1} us, script mode \
         {per_script:.1} us ({:.1}x less); a blocking round trip on the calling thread alone \
         {per_message:.1} us; the same answered through a runtime task and a channel (the \
         asynchronous floor: two thread wake-ups) {per_async:.1} us; {blocks} blocks of \
         {per_block} calls, medians",
        per_script / per_call
    );
    let switched = switches.borrow().clone().map(|v| median(&v));
    println!(
        "  context switches per call (information): service mode {:.1}, script mode {:.1}, \
         blocking round trip {:.1}, asynchronous floor {:.1}",
        switched[0], switched[1], switched[2], switched[3]
    );
    Summary {
        n: 7,
        name: "module CPU per call, service mode",
        measured: format!(
            "{per_call:.1} us (script mode {per_script:.1} us, blocking round trip \
             {per_message:.1} us, asynchronous floor {per_async:.1} us)"
        ),
        target: "<= 30 us".to_string(),
        pass: per_call <= 30.0,
    }
}

/// Target 8: throughput at 64 calls in flight, service against script.
pub(crate) fn target_service_throughput(bench: &Bench) -> Summary {
    let helper = trivial_helper(bench, &bench.dir("service-helper-8"));
    let service = service_usage(&bench.module_dirs("service-throughput"), &helper, &[]);
    let script = UsageCall::new(
        &bench.module_dirs("service-throughput-script"),
        &bench.fixtures.answer,
    );
    let (in_flight, rounds) = bench.pick((64, 5), (64, 1));
    let (service_calls, script_calls) = bench.pick((20_000, 2000), (1000, 200));
    throughput_of(&service, 500.min(service_calls), in_flight);
    let service_run = || throughput_of(&service, service_calls, in_flight);
    let script_run = || throughput_of(&script, script_calls, in_flight);
    let samples = interleave(rounds, &[&service_run, &script_run]);
    let (served, scripted) = (median(&samples[0]), median(&samples[1]));
    service.module.shutdown_and_wait();
    let ratio = served / scripted;
    println!(
        "throughput at {in_flight} in flight: service mode {served:.0} calls/s, script mode \
         {scripted:.0} calls/s: {ratio:.1}x ({rounds} rounds, medians)"
    );
    Summary {
        n: 8,
        name: "throughput, service vs script mode",
        measured: format!("{ratio:.1}x ({served:.0} / {scripted:.0} calls/s)"),
        target: ">= 10x".to_string(),
        pass: ratio >= 10.0,
    }
}

/// The watch logic of target 9, shared by the script and the helper: the
/// bytes under the sandbox against the task's disk, nothing to report.
const WATCH_LOGIC: &str = r#"
import json, os, sys

def watch(params):
    config = params.get("container_config", {})
    directory = config.get("directory") or "/nonexistent"
    used = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                used += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    limit = 0
    for resource in config.get("task_info", {}).get("resources", []):
        if resource.get("name") == "disk":
            limit = resource["scalar"]["value"] * 1024 * 1024
    if limit and used > limit:
        return {"message": "over its disk", "reason": "REASON_CONTAINER_LIMITATION_DISK"}
    return None
"#;

const WATCH_SCRIPT_MAIN: &str = r#"
with open(sys.argv[1]) as f:
    result = watch(json.load(f))
if result is not None:
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)
"#;

const WATCH_HELPER_MAIN: &str = r#"
for line in sys.stdin:
    request = json.loads(line)
    result = {} if request["method"] == "initialize" else watch(request["params"])
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}) + "\n")
    sys.stdout.flush()
"#;

/// CPU of this process and of its reaped children, in microseconds.
fn cpu_with_children_us() -> f64 {
    let of = |who| {
        // SAFETY: getrusage fills the zeroed struct it is given.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(who, &mut usage);
            usage
        };
        let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
        us(usage.ru_utime) + us(usage.ru_stime)
    };
    of(libc::RUSAGE_SELF) + of(libc::RUSAGE_CHILDREN)
}

/// Watches `containers` containers every second for `seconds` with
/// `parameters`; returns the CPU spent (module and its commands or helper)
/// and the share of the expected rounds that ran.
fn watch_run(
    bench: &Bench,
    name: &str,
    parameters: &[(&'static str, String)],
    containers: usize,
    seconds: u64,
) -> (f64, f64) {
    let mut parameters = parameters.to_vec();
    parameters.push(("isolator_watch_frequence", "1".to_string()));
    let module: Arc<Module> = isolator(&bench.module_dirs(name), &parameters);
    if let Some(service) = module.service() {
        let up = mesos_command_modules::runtime::runtime()
            .block_on(service.wait_up(Duration::from_secs(30)));
        assert!(up, "the Python helper did not start");
    }
    let config = container_config();
    let ids: Vec<String> = (0..containers).map(|i| format!("{name}-{i}")).collect();
    for id in &ids {
        prepare(&module, id, &config);
    }
    let before = cpu_with_children_us();
    let started = Instant::now();
    for id in &ids {
        module.spawn_call(Method::IsolatorWatch, vec![container_id(id)], |_| {});
    }
    std::thread::sleep(Duration::from_secs(seconds));
    let rounds = module.metrics().stats(Method::IsolatorWatch).calls;
    for id in &ids {
        super::call(&module, Method::IsolatorCleanup, vec![container_id(id)]);
    }
    module.shutdown_and_wait();
    drop(module);
    let cpu = cpu_with_children_us() - before;
    // A round starts at once, then one a second.
    let expected = containers as f64 * (started.elapsed().as_secs_f64().floor());
    (cpu, rounds as f64 / expected)
}

/// Target 9: 50 containers watched every second by a Python watch, as a
/// script and as a helper.
pub(crate) fn target_python_watch(bench: &Bench) -> Summary {
    let dir = bench.dir("python-watch");
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or("python3");
    let write = |name: &str, main: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!{python}\n{WATCH_LOGIC}{main}")).expect("write");
        let mut permissions = std::fs::metadata(&path).expect("stat").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions).expect("chmod");
        path
    };
    let script = write("watch.py", WATCH_SCRIPT_MAIN);
    let helper = write("watch-helper.py", WATCH_HELPER_MAIN);
    let (containers, seconds) = bench.pick((50, 20), (10, 3));
    let (script_cpu, script_kept) = watch_run(
        bench,
        "python-watch-script",
        &[
            path_param("isolator_watch_command", &script),
            ("isolator_watch_timeout", "10".to_string()),
        ],
        containers,
        seconds,
    );
    let (service_cpu, service_kept) = watch_run(
        bench,
        "python-watch-service",
        &[
            path_param("service_command", &helper),
            ("service_methods", "isolator_watch".to_string()),
            ("isolator_watch_timeout", "10".to_string()),
        ],
        containers,
        seconds,
    );
    let ratio = script_cpu / service_cpu;
    println!(
        "{containers} containers watched every 1 s for {seconds} s by a Python watch: script \
         mode {:.2} s of CPU ({:.1}% of its rounds ran), service mode {:.3} s ({:.1}%): {ratio:.0}x \
         less CPU",
        script_cpu / 1e6,
        script_kept * 100.0,
        service_cpu / 1e6,
        service_kept * 100.0
    );
    Summary {
        n: 9,
        name: "50 containers, Python watch every second",
        measured: format!(
            "service mode uses 1/{ratio:.0} of script mode's CPU ({:.3} s vs {:.2} s); rounds \
             kept {:.0}% / {:.0}%",
            service_cpu / 1e6,
            script_cpu / 1e6,
            service_kept * 100.0,
            script_kept * 100.0
        ),
        target: "<= 1/50, every round on time".to_string(),
        pass: ratio >= 50.0 && service_kept >= 0.95 && script_kept >= 0.95,
    }
}
