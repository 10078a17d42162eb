#!/usr/bin/env python3
"""What `usage` costs the whole agent: 20 running containers, then 50
sequential /containers requests (each asks every isolator for the usage and
the status of every container), timed and with the CPU they cost the agent
and everything it runs, in four agents one after the other:

  alone    the agent with no module;
  idle     the command isolator loaded with no command at all: what Mesos
           itself spends calling any module isolator (usage and status of
           every container, each through the isolator's actor), the floor
           of the two below;
  script   the command isolator with a one-line sh usage script;
  service  the command isolator whose usage a Python helper serves.

Prints one line per mode and the ratios to the agent alone and to idle. Needs what
run.py needs (a Mesos 1.11.0 build, the built module); without them it says
so in one line and exits 0. /monitor/statistics is rate-limited by Mesos
(2 requests a second), so /containers is what measures this.

Usage: tests/e2e/measure.py [--containers N] [--requests N]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the suite's cluster, processes and lookups)

TICKS = os.sysconf("SC_CLK_TCK")

USAGE_SCRIPT = "#!/bin/sh\necho '{\"processes\":1}' > \"$2\"\n"
USAGE_HELPER = """import json, sys
for line in sys.stdin:
    r = json.loads(line)
    result = {} if r["method"] == "initialize" else {"processes": 1}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": r["id"], "result": result}) + "\\n")
    sys.stdout.flush()
"""


class Measured(run.Cluster):
    """A cluster whose agent loads only what `mode` needs."""

    def __init__(self, root, mesos, library, mode):
        self.mode = mode
        super().__init__(root, mesos, library)

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
        modules = {"libraries": [{"file": self.library, "modules": [
            {"name": run.ISOLATOR, "parameters": params}]}]}
        (self.root / "measured-modules.json").write_text(json.dumps(modules))

    def agent_module_flags(self):
        if self.mode == "alone":
            return ["--isolation=filesystem/posix"]
        return [f"--modules=file://{self.root / 'measured-modules.json'}",
                f"--isolation=filesystem/posix,{run.ISOLATOR}"]


def tree_cpu_seconds(root_pid):
    """CPU of `root_pid` (with its reaped children) and of every live
    descendant."""
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
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        own, reaped = times.get(pid, (0, 0))
        total += own + reaped
        stack.extend(p for p, parent in parents.items() if parent == pid)
    return total / TICKS


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


def measure(mesos, library, mode, containers, requests):
    root = tempfile.mkdtemp(prefix=f"mcm-measure-{mode}-")
    cluster = Measured(root, mesos, library, mode)
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
        latencies, cpu = [], []
        for _ in range(requests):
            before, started = tree_cpu_seconds(agent), time.monotonic()
            get()
            latencies.append(time.monotonic() - started)
            cpu.append(tree_cpu_seconds(agent) - before)
        return statistics.median(latencies) * 1000, statistics.mean(cpu) * 1000
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    mesos, reason = run.find_mesos()
    if mesos is None:
        print(f"measure: skipped: {reason}")
        return 0
    library, reason = run.find_module()
    if library is None:
        print(f"measure: skipped: {reason}")
        return 0
    results = {}
    for mode in ("alone", "idle", "script", "service"):
        p50, cpu = measure(mesos, library, mode, args.containers, args.requests)
        results[mode] = (p50, cpu)
        print(f"{mode:8} {args.containers} containers, {args.requests} sequential /containers: "
              f"p50 {p50:.1f} ms, {cpu:.1f} ms of CPU (agent and children) per request",
              flush=True)
    for base in ("alone", "idle"):
        for mode in ("idle", "script", "service"):
            if mode == base:
                continue
            p50, cpu = results[mode]
            print(f"{mode:8} / {base}: {p50 / results[base][0]:.2f}x the p50 latency, "
                  f"{cpu / results[base][1]:.2f}x the CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
