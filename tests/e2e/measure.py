#!/usr/bin/env python3
"""What `usage` costs the whole agent: 20 running containers, then 50
sequential /containers requests (each asks every isolator for the usage and
the status of every container), timed and with the CPU they cost the agent
(and, apart, its children: executors, commands, helpers), in agents one
after the other:

  alone      the agent with no module;
  idle       the command isolator loaded with no command at all: what Mesos
             itself spends calling any module isolator (usage and status of
             every container, each through the isolator's actor);
  script     the command isolator with a one-line sh usage script;
  service    the command isolator whose usage a Python helper serves;
  service-c  the same served by a C helper that does next to nothing: the
             floor of service mode, what the agent pays for an answer that
             comes asynchronously (needs cc).

Prints one line per mode and the ratios to the agent alone and to idle.
--rounds N measures every mode N times, interleaved, and keeps the medians.
--libprocess-workers N sets the agent's LIBPROCESS_NUM_WORKER_THREADS: on a
machine with fewer than 8 cores libprocess's default (8 workers) makes every
asynchronous answer cost more, as its process cleanup spins while a
preempted worker holds a reference. Needs what run.py needs (a Mesos 1.11.0
build, the built module); without them it says so in one line and exits 0.
/monitor/statistics is rate-limited by Mesos (2 requests a second), so
/containers is what measures this.

Usage: tests/e2e/measure.py [--containers N] [--requests N] [--rounds N]
                            [--modes alone,...] [--libprocess-workers N]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the suite's cluster, processes and lookups)

TICKS = os.sysconf("SC_CLK_TCK")
MODES = ("alone", "idle", "script", "service", "service-c")

USAGE_SCRIPT = "#!/bin/sh\necho '{\"processes\":1}' > \"$2\"\n"
USAGE_HELPER = """import json, sys
for line in sys.stdin:
    r = json.loads(line)
    result = {} if r["method"] == "initialize" else {"processes": 1}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": r["id"], "result": result}) + "\\n")
    sys.stdout.flush()
"""
# The floor of the service mode: a helper whose own work is next to nothing,
# so that what is left is what the agent pays for an asynchronous answer.
USAGE_HELPER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  static char line[1 << 20];
  while (fgets(line, sizeof line, stdin)) {
    char *id = strstr(line, "\"id\":");
    if (!id) continue;
    int initialize = strstr(line, "\"method\":\"initialize\"") != NULL;
    printf("{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":%s}\n",
           strtoull(id + 5, NULL, 10), initialize ? "{}" : "{\"processes\":1}");
    fflush(stdout);
  }
  return 0;
}
"""


def compiler():
    return shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


class Measured(run.Cluster):
    """A cluster whose agent loads only what `mode` needs."""

    def __init__(self, root, mesos, library, mode, workers=None):
        self.mode = mode
        self.workers = workers
        super().__init__(root, mesos, library)

    def agent_environment(self):
        env = super().agent_environment()
        if self.workers:
            env["LIBPROCESS_NUM_WORKER_THREADS"] = str(self.workers)
        return env

    def write_modules(self):
        super().write_modules()
        bin_dir = self.root / "bin"
        script, helper = bin_dir / "usage.sh", bin_dir / "usage-helper.py"
        script.write_text(USAGE_SCRIPT)
        helper.write_text(f"#!{sys.executable}\n{USAGE_HELPER}")
        for path in (script, helper):
            path.chmod(0o755)
        params = [{"key": "module_name", "value": "measured"},
                  {"key": "temp_directory", "value": str(self.root / "tmp")},
                  {"key": "state_directory", "value": str(self.root / "state")}]
        if self.mode == "script":
            params.append({"key": "isolator_usage_command", "value": str(script)})
        elif self.mode == "service":
            params += [{"key": "service_command", "value": str(helper)},
                       {"key": "service_methods", "value": "isolator_usage"}]
        elif self.mode == "service-c":
            source, compiled = bin_dir / "usage-helper.c", bin_dir / "usage-helper"
            source.write_text(USAGE_HELPER_C)
            subprocess.run([compiler(), "-O2", "-o", str(compiled), str(source)], check=True)
            params += [{"key": "service_command", "value": str(compiled)},
                       {"key": "service_methods", "value": "isolator_usage"}]
        modules = {"libraries": [{"file": self.library, "modules": [
            {"name": run.ISOLATOR, "parameters": params}]}]}
        (self.root / "measured-modules.json").write_text(json.dumps(modules))

    def agent_module_flags(self):
        if self.mode == "alone":
            return ["--isolation=filesystem/posix"]
        return [f"--modules=file://{self.root / 'measured-modules.json'}",
                f"--isolation=filesystem/posix,{run.ISOLATOR}"]


def tree_cpu_seconds(root_pid):
    """CPU of `root_pid` itself, and of its children: reaped ones and every
    live descendant."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        times[pid] = (utime + stime, cutime + cstime)
    own, children = times.get(root_pid, (0, 0))
    stack = [p for p, parent in parents.items() if parent == root_pid]
    while stack:
        pid = stack.pop()
        children += sum(times.get(pid, (0, 0)))
        stack.extend(p for p, parent in parents.items() if parent == pid)
    return own / TICKS, children / TICKS


def agent_pid(cluster):
    """The mesos-agent process (the wrapper script execs or forks it)."""
    wrapper = cluster.agent.pid
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")[0]
            except OSError:
                continue
            if cmd.endswith(b"mesos-agent") and int(entry) != wrapper:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == wrapper:
                        return int(entry)
    return wrapper


def measure(mesos, library, mode, containers, requests, workers):
    root = tempfile.mkdtemp(prefix=f"mcm-measure-{mode}-")
    cluster = Measured(root, mesos, library, mode, workers)
    try:
        cluster.start_master()
        cluster.start_agent()
        for i in range(containers):
            cluster.launch(f"m-{i}", "sleep 600")
        for i in range(containers):
            cluster.wait_task(f"m-{i}", ["TASK_RUNNING"], 120)
        url = f"http://127.0.0.1:{cluster.agent_port}/containers"
        agent = agent_pid(cluster)

        def get():
            with urllib.request.urlopen(url, timeout=30) as r:
                body = json.loads(r.read())
            run.check(len(body) >= containers, f"/containers lists {len(body)} containers")
        for _ in range(5):
            get()
        latencies = []
        own_before, children_before = tree_cpu_seconds(agent)
        for _ in range(requests):
            started = time.monotonic()
            get()
            latencies.append(time.monotonic() - started)
        own_after, children_after = tree_cpu_seconds(agent)
        own = (own_after - own_before) / requests * 1000
        children = (children_after - children_before) / requests * 1000
        return statistics.median(latencies) * 1000, own, children
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--libprocess-workers", type=int, metavar="N",
                        help="the agent's LIBPROCESS_NUM_WORKER_THREADS (default: libprocess's "
                             "own, max(8, cores))")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every mode this many times, interleaved, and keep "
                             "the medians (the machine's noise moves single runs)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated, among {','.join(MODES)}")
    args = parser.parse_args()
    mesos, reason = run.find_mesos()
    if mesos is None:
        print(f"measure: skipped: {reason}")
        return 0
    library, reason = run.find_module()
    if library is None:
        print(f"measure: skipped: {reason}")
        return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"--modes: unknown mode(s) {','.join(unknown)}; known: {','.join(MODES)}")
    workers = args.libprocess_workers or f"libprocess's default, max(8, {os.cpu_count()} cores)"
    print(f"agent's libprocess worker threads: {workers}", flush=True)
    if "service-c" in modes and compiler() is None:
        print("service-c: skipped: no C compiler (cc, gcc or clang) to build its helper")
        modes.remove("service-c")
    runs = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:
            runs[mode].append(measure(mesos, library, mode, args.containers, args.requests,
                                      args.libprocess_workers))
    results = {}
    for mode in modes:
        p50, own, children = (statistics.median(r[i] for r in runs[mode]) for i in range(3))
        cpu = statistics.median(r[1] + r[2] for r in runs[mode])
        results[mode] = (p50, cpu)
        print(f"{mode:9} {args.containers} containers, {args.requests} sequential /containers"
              f"{'' if args.rounds == 1 else f', median of {args.rounds} rounds'}: "
              f"p50 {p50:.1f} ms, {cpu:.1f} ms of CPU per request "
              f"(agent {own:.1f} ms, its children {children:.1f} ms)", flush=True)
    for base in ("alone", "idle"):
        for mode in modes:
            if mode == base or base not in results:
                continue
            p50, cpu = results[mode]
            print(f"{mode:9} / {base}: {p50 / results[base][0]:.2f}x the p50 latency, "
                  f"{cpu / results[base][1]:.2f}x the CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
