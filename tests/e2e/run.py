#!/usr/bin/env python3
"""End-to-end suite: libmesos_command_modules.so in a real Mesos 1.11.0.

Starts a mesos-master and a mesos-agent on 127.0.0.1 that load the freshly
built module (a hook and an isolator, plus a hook on the master), launches
tasks with mesos-execute and checks, through the HTTP endpoints, the task
sandboxes and the calls recorded by the commands (tests/e2e/command.py),
that every Mesos call reaches its command and that every answer takes effect.

Finds Mesos through MESOS_BUILD_DIR (a build tree: src/mesos-master, ...) or
an installed mesos-master on PATH, and the module through
MESOS_COMMAND_MODULES_LIB or build/libmesos_command_modules.so. Without
either it prints one "e2e: skipped: ..." line and exits 0.

Usage: tests/e2e/run.py [-k SUBSTRING]... [--keep] [--list]
Exit status: 0 when every selected scenario passed (or the suite was
skipped), 1 otherwise. Everything it started is killed on every path.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

from docker import IMAGE as DOCKER_IMAGE, DockerDaemon  # tests/e2e/docker.py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

MESOS_VERSION = "1.11.0"
HOOK = "com_criteo_mesos_CommandHook"
ISOLATOR = "com_criteo_mesos_CommandIsolator"
AGENT_HOOK_NAME = "e2e_hook"
MASTER_HOOK_NAME = "e2e_master_hook"
ISOLATOR_NAME = "e2e_isolator"
SERVICE_ISOLATOR = "com_criteo_mesos_CommandIsolator2"
SERVICE_NAME = "e2e_service"
SERVICE_LIMITATION = "e2e: limitation reported by the service helper"

# Scenario knobs.
HOOK_TIMEOUT = 2  # seconds: the hanging hook command is killed after this
HANG_SECONDS = 60  # how long the hanging command would sleep
SLEEP_SECONDS = 3  # prepare's sleep in the concurrency scenario
STALL_SECONDS = 45  # prepare's sleep while the agent is killed (below its 60 s timeout)
CONCURRENT = 4  # tasks launched at once in the concurrency scenario
RUN_TIMEOUT = int(os.environ.get("E2E_TIMEOUT", "900"))  # the whole run

HOOK_METHODS = [
    "hook_slave_run_task_label_decorator",
    "hook_slave_executor_environment_decorator",
    "hook_slave_post_fetch_hook",
    "hook_slave_remove_executor_hook",
    "hook_slave_task_status_decorator",
    "hook_slave_attributes_decorator",
]
MASTER_HOOK_METHODS = [
    "hook_master_launch_task_label_decorator",
    "hook_master_slave_lost_hook",
]
ISOLATOR_METHODS = [
    "isolator_recover",
    "isolator_prepare",
    "isolator_isolate",
    "isolator_watch",
    "isolator_update",
    "isolator_usage",
    "isolator_status",
    "isolator_cleanup",
]
LIMITATION_MESSAGE = "e2e: limitation reported by the watch command"
ESTIMATOR = "com_criteo_mesos_CommandResourceEstimator"
ESTIMATOR_NAME = "e2e_estimator"
ESTIMATOR_METHOD = "resource_estimator_oversubscribable"
QOS_CONTROLLER = "com_criteo_mesos_CommandQoSController"
QOS_NAME = "e2e_qos"
QOS_METHOD = "qos_controller_corrections"
ESTIMATE_CPUS = 2  # what the estimator offers (command.py)
ESTIMATOR_TIMEOUT = 3  # seconds: the hanging estimator is killed after this
OVERSUBSCRIPTION_INTERVAL = 2  # seconds, both agent intervals
DOCKER_HOOK_METHOD = "hook_slave_pre_launch_docker_task_executor_decorator"
DOCKER_REMOVE_HOOK = "com_criteo_mesos_CommandHook2"
DOCKER_REMOVE_NAME = "e2e_docker_remove"
DOCKER_REMOVE_SCRIPT = REPO / "examples" / "docker-remove" / "docker-remove.py"
DOCKER_SANDBOX = "/mnt/mesos/sandbox"  # the agent's --sandbox_directory default


class Failure(Exception):
    """A check that did not hold."""


class Aborted(BaseException):
    """The run timed out or was interrupted (a BaseException, so that no
    `except OSError` of a probe swallows it)."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_for(what, probe, timeout, interval=0.25):
    """Calls `probe` until it returns a truthy value, for at most `timeout`
    seconds; returns that value or raises Failure naming `what`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except (OSError, ValueError, KeyError) as e:
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise Failure(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(interval)


def log(message):
    print(message, flush=True)


# --- Discovery -------------------------------------------------------------


def is_executable(path):
    return path is not None and os.path.isfile(path) and os.access(path, os.X_OK)


class Mesos:
    def __init__(self, master, agent, execute, launcher_dir):
        self.master = master
        self.agent = agent
        self.execute = execute
        self.launcher_dir = launcher_dir


def find_mesos():
    """Returns (Mesos, None) or (None, reason to skip)."""
    build = os.environ.get("MESOS_BUILD_DIR")
    if build:
        src = Path(build) / "src"
        paths = [src / n for n in ("mesos-master", "mesos-agent", "mesos-execute")]
        missing = [p.name for p in paths if not is_executable(p)]
        if missing:
            return None, (
                f"no Mesos build (MESOS_BUILD_DIR={build} has no built "
                f"src/{', src/'.join(missing)})"
            )
        return Mesos(*[str(p) for p in paths], str(src)), None
    master = shutil.which("mesos-master")
    if master is None:
        return None, (
            "no Mesos build (set MESOS_BUILD_DIR to a Mesos 1.11.0 build tree, "
            "or put an installed mesos-master on PATH)"
        )
    agent = shutil.which("mesos-agent")
    execute = shutil.which("mesos-execute")
    if agent is None or execute is None:
        return None, "no Mesos build (mesos-master is on PATH, mesos-agent or mesos-execute is not)"
    prefix = Path(os.path.realpath(master)).parent.parent
    launcher_dir = None
    for candidate in (prefix / "libexec" / "mesos", prefix / "lib" / "mesos"):
        if is_executable(candidate / "mesos-containerizer"):
            launcher_dir = str(candidate)
            break
    if launcher_dir is None:
        return None, f"no Mesos build (no mesos-containerizer under {prefix}/libexec/mesos)"
    return Mesos(master, agent, execute, launcher_dir), None


def find_module():
    lib = os.environ.get("MESOS_COMMAND_MODULES_LIB")
    if lib:
        if not os.path.isfile(lib):
            return None, f"no module library (MESOS_COMMAND_MODULES_LIB={lib} does not exist)"
        return os.path.abspath(lib), None
    default = REPO / "build" / "libmesos_command_modules.so"
    if default.is_file():
        return str(default), None
    return None, (
        "no module library (build it with CMake into build/, or set "
        "MESOS_COMMAND_MODULES_LIB to libmesos_command_modules.so)"
    )


def mesos_version(binary):
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30,
            env=child_environment(),
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"mesos (\S+)", out)
    return match.group(1) if match else None


# --- Processes ---------------------------------------------------------------


def child_environment(extra=None):
    """The environment of every Mesos process: no MESOS_* variable of ours
    (Mesos reads MESOS_<FLAG> variables as flags), loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESOS_", "LIBPROCESS_"))}
    env["LIBPROCESS_IP"] = "127.0.0.1"
    env.update(extra or {})
    return env


class Processes:
    """Every process the suite started, each in its own process group, and
    the directory under which anything they started has its working
    directory (executors and tasks live in their own sessions)."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.started = []

    def start(self, args, log_path, cwd=None, env=None):
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd or self.root,
                env=child_environment(env),
                start_new_session=True,
            )
        self.started.append(proc)
        return proc

    @staticmethod
    def kill(proc, sig=signal.SIGKILL):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass

    def descendants_left(self):
        """Pids of processes whose working directory is under the root:
        executors, tasks and commands that outlived the agent."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd == self.root or cwd.startswith(self.root + "/"):
                pids.append(int(entry))
        return pids

    def kill_all(self):
        for proc in reversed(self.started):
            self.kill(proc)
        for _ in range(10):
            pids = self.descendants_left()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)


def tail(path, lines=25):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"    ({e})"
    return "\n".join("    " + l for l in text.splitlines()[-lines:])


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(port, path, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return json.loads(r.read().decode())


def walk(value):
    """Every dict inside a JSON value."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


# --- The cluster -------------------------------------------------------------


class Cluster:
    def __init__(self, root, mesos, library, docker=None):
        self.root = Path(root)
        self.mesos = mesos
        self.library = library
        # The suite's DockerDaemon when the Docker scenarios can run: the
        # agent then runs the Docker containerizer beside the Mesos one.
        self.docker = docker
        self.procs = Processes(root)
        for d in ("bin", "records", "control", "logs", "execute", "tmp", "state",
                  "master", "agent/work", "agent/runtime", "agent/fetch"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self.master_port = free_port()
        self.agent_port = free_port()
        self.master = None
        self.agent = None
        self.agent_starts = 0
        self.executes = {}
        self.install_commands()
        self.write_modules()

    # Commands and modules.json

    def install_commands(self):
        source = (HERE / "command.py").read_text()
        shebang = f"#!{sys.executable}\n"
        body = source.split("\n", 1)[1] if source.startswith("#!") else source
        for method in (HOOK_METHODS + MASTER_HOOK_METHODS + ISOLATOR_METHODS
                       + [ESTIMATOR_METHOD, QOS_METHOD, DOCKER_HOOK_METHOD]):
            path = self.root / "bin" / method
            path.write_text(shebang + body)
            path.chmod(0o755)
        service = (HERE / "service.py").read_text()
        service_body = service.split("\n", 1)[1] if service.startswith("#!") else service
        (self.root / "bin" / "service.py").write_text(shebang + service_body)
        (self.root / "bin" / "service.py").chmod(0o755)
        (self.root / "bin" / "command.json").write_text(json.dumps({
            "sleep_seconds": SLEEP_SECONDS,
            "stall_seconds": STALL_SECONDS,
            "hang_seconds": HANG_SECONDS,
        }))

    def parameters(self, name, methods, extra):
        params = [{"key": "module_name", "value": name},
                  {"key": "temp_directory", "value": str(self.root / "tmp")}]
        if os.environ.get("E2E_COMMAND_CGROUP"):
            # e.g. a directory of the cgroup v2 hierarchy, to run every
            # command of the suite under that containment.
            params.append({"key": "command_cgroup", "value": os.environ["E2E_COMMAND_CGROUP"]})
        for method in methods:
            params.append({"key": f"{method}_command", "value": str(self.root / "bin" / method)})
        for key, value in extra.items():
            params.append({"key": key, "value": str(value)})
        return params

    def agent_hook_methods(self):
        return HOOK_METHODS + ([DOCKER_HOOK_METHOD] if self.docker else [])

    def write_modules(self):
        agent = {"libraries": [{"file": self.library, "modules": [
            {"name": HOOK, "parameters": self.parameters(AGENT_HOOK_NAME, self.agent_hook_methods(), {
                "hook_slave_run_task_label_decorator_timeout": HOOK_TIMEOUT,
                "kill_grace_period": 1,
            })},
            {"name": ISOLATOR, "parameters": self.parameters(ISOLATOR_NAME, ISOLATOR_METHODS, {
                "isolator_watch_frequence": 1,
                "state_directory": self.root / "state",
                "isolator_prepare_timeout": 60,
            })},
            {"name": SERVICE_ISOLATOR, "parameters": self.parameters(SERVICE_NAME, [], {
                "service_command": self.root / "bin" / "service.py",
                "service_methods": "isolator_usage,isolator_watch",
                "isolator_watch_frequence": 1,
                "isolator_usage_timeout": 5,
                "state_directory": self.root / "state-service",
            })},
            {"name": ESTIMATOR, "parameters": self.parameters(ESTIMATOR_NAME, [ESTIMATOR_METHOD], {
                f"{ESTIMATOR_METHOD}_timeout": ESTIMATOR_TIMEOUT,
                "kill_grace_period": 1,
            })},
            {"name": QOS_CONTROLLER, "parameters": self.parameters(QOS_NAME, [QOS_METHOD], {})},
        ]}]}
        if self.docker:
            # The docker-remove example as its README installs it.
            agent["libraries"][0]["modules"].append(
                {"name": DOCKER_REMOVE_HOOK, "parameters": self.parameters(DOCKER_REMOVE_NAME, [], {
                    "hook_slave_remove_executor_hook_command": DOCKER_REMOVE_SCRIPT,
                    "hook_slave_remove_executor_hook_timeout": 12,
                })})
        master = {"libraries": [{"file": self.library, "modules": [
            {"name": HOOK, "parameters": self.parameters(MASTER_HOOK_NAME, MASTER_HOOK_METHODS, {})},
        ]}]}
        (self.root / "agent-modules.json").write_text(json.dumps(agent, indent=2))
        (self.root / "master-modules.json").write_text(json.dumps(master, indent=2))

    # Master and agent

    def start_master(self):
        args = [
            self.mesos.master,
            "--ip=127.0.0.1",
            f"--port={self.master_port}",
            "--registry=in_memory",
            f"--work_dir={self.root / 'master'}",
            "--allocation_interval=100ms",
            "--no-hostname_lookup",
            f"--modules=file://{self.root / 'master-modules.json'}",
            f"--hooks={HOOK}",
        ]
        self.master = self.procs.start(args, self.root / "logs" / "master.log")
        wait_for("the master to answer /health", self.master_health, 60)

    def master_health(self):
        self.check_alive(self.master, "master")
        with urllib.request.urlopen(
                f"http://127.0.0.1:{self.master_port}/health", timeout=5) as r:
            return r.status == 200

    def agent_log_path(self, start=None):
        return self.root / "logs" / f"agent-{start or self.agent_starts}.log"

    def start_agent(self):
        self.agent_starts += 1
        args = [
            self.mesos.agent,
            f"--master=127.0.0.1:{self.master_port}",
            "--ip=127.0.0.1",
            f"--port={self.agent_port}",
            "--hostname=127.0.0.1",
            f"--work_dir={self.root / 'agent' / 'work'}",
            f"--runtime_dir={self.root / 'agent' / 'runtime'}",
            f"--fetcher_cache_dir={self.root / 'agent' / 'fetch'}",
            *self.agent_module_flags(),
            "--launcher=posix",
            "--no-systemd_enable_support",
            f"--launcher_dir={self.mesos.launcher_dir}",
            "--resources=cpus:4;mem:4096;disk:4096;ports:[31000-32000]",
            "--recover=reconnect",
            "--registration_backoff_factor=100ms",
            "--executor_registration_timeout=2mins",
            "--executor_shutdown_grace_period=5secs",
        ]
        if os.geteuid() != 0:
            args.append("--no-switch_user")
        if self.docker:
            args += ["--containerizers=docker,mesos",
                     f"--docker={self.docker.cli}",
                     f"--docker_socket={self.docker.socket}",
                     # Long enough that only the docker-remove hook can
                     # have removed a container the scenario finds gone.
                     "--docker_remove_delay=1hrs"]
        self.agent = self.procs.start(args, self.agent_log_path(), env=self.agent_environment())
        wait_for("the agent to register with the master", self.agent_registered, 90)

    def agent_environment(self):
        """What the agent's environment adds (measure.py adds more)."""
        if not self.docker:
            return {}
        # What docker-remove.py reads (the agent reads MESOS_WORK_DIR too:
        # it is the same as --work_dir).
        return {"MESOS_WORK_DIR": str(self.root / "agent" / "work"),
                "MESOS_DOCKER": self.docker.cli,
                "DOCKER_HOST": self.docker.host}

    def agent_module_flags(self):
        """The agent's flags that load the modules (measure.py loads
        others)."""
        hooks = HOOK + (f",{DOCKER_REMOVE_HOOK}" if self.docker else "")
        return [f"--modules=file://{self.root / 'agent-modules.json'}",
                f"--hooks={hooks}",
                f"--isolation=filesystem/posix,{ISOLATOR},{SERVICE_ISOLATOR}",
                f"--resource_estimator={ESTIMATOR}",
                f"--qos_controller={QOS_CONTROLLER}",
                f"--oversubscribed_resources_interval={OVERSUBSCRIPTION_INTERVAL}secs",
                f"--qos_correction_interval_min={OVERSUBSCRIPTION_INTERVAL}secs"]

    def agent_registered(self):
        self.check_alive(self.agent, "agent")
        return self.master_sees_agent()

    def master_sees_agent(self):
        """Whether the master has the agent as an active agent."""
        state = http_json(self.master_port, "/state")
        return any(s.get("active") and s.get("pid", "").endswith(f"@127.0.0.1:{self.agent_port}")
                   for s in state.get("slaves", []))

    def check_alive(self, proc, what):
        if proc is None or proc.poll() is not None:
            code = None if proc is None else proc.returncode
            path = self.agent_log_path() if what == "agent" else self.root / "logs" / "master.log"
            raise Failure(f"the {what} is not running (exit status {code}); the end of "
                          f"{path}:\n{tail(path)}")

    def kill_agent(self):
        Processes.kill(self.agent, signal.SIGKILL)

    def agent_log(self, start=None):
        try:
            return self.agent_log_path(start).read_text(errors="replace")
        except OSError:
            return ""

    # Tasks

    def launch(self, name, command, checkpoint=False, docker=False):
        """Launches task `name` with mesos-execute; with `docker`, in the
        suite's image by the Docker containerizer."""
        # `command` may be bytes: a framework may send any bytes.
        option = (b"--command=" + command if isinstance(command, bytes)
                  else f"--command={command}")
        args = [
            self.mesos.execute,
            f"--master=127.0.0.1:{self.master_port}",
            f"--name={name}",
            option,
            "--resources=cpus:0.1;mem:32",
        ]
        if checkpoint:
            args.append("--checkpoint")
        if docker:
            args += ["--containerizer=docker", f"--docker_image={DOCKER_IMAGE}"]
        self.executes[name] = self.procs.start(args, self.root / "execute" / f"{name}.log")

    def execute_output(self, name):
        try:
            return (self.root / "execute" / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def waiting_command(self, name, output="env"):
        """A shell command that prints `output`, says it started, then waits
        (at most two minutes) for run.py to release it."""
        started = self.root / "control" / f"started-{name}"
        release = self.root / "control" / f"release-{name}"
        return (f"{output}; touch {started}; i=0; "
                f"while [ ! -e {release} ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done")

    @staticmethod
    def docker_waiting_command(output="env"):
        """waiting_command for a task in a Docker container, which sees
        only its sandbox (mounted at DOCKER_SANDBOX): the files are there."""
        return (f"{output}; touch {DOCKER_SANDBOX}/e2e-started; i=0; "
                f"while [ ! -e {DOCKER_SANDBOX}/e2e-release ] && [ $i -lt 600 ]; do "
                f"sleep 0.2; i=$((i+1)); done")

    def release(self, name):
        (self.root / "control" / f"release-{name}").touch()
        try:
            directory = self.sandbox(name)
        except (OSError, ValueError):  # the agent is gone: nothing to release
            return
        if directory is not None and (directory / "e2e-started").exists():
            (directory / "e2e-release").touch()

    def release_all(self):
        for name in self.executes:
            try:
                self.release(name)
            except OSError:
                pass

    def master_task(self, name):
        state = http_json(self.master_port, "/state")
        for obj in walk(state):
            if obj.get("id") == name and "statuses" in obj and "framework_id" in obj:
                return obj
        return None

    def wait_task(self, name, states, timeout):
        """The master's view of task `name` once it is in one of `states`."""
        def probe():
            self.check_alive(self.agent, "agent")
            task = self.master_task(name)
            return task if task and task.get("state") in states else None
        try:
            return wait_for(f"task {name} to reach {'/'.join(states)}", probe, timeout)
        except Failure as e:
            task = None
            try:
                task = self.master_task(name)
            except (OSError, ValueError):
                pass
            seen = task.get("state") if task else "unknown to the master"
            raise Failure(f"{e}; the task is {seen}") from None

    def agent_task(self, name):
        state = http_json(self.agent_port, "/state")
        for obj in walk(state):
            if obj.get("id") == name and "framework_id" in obj and "state" in obj \
                    and "executor_id" in obj:
                return obj
        return None

    def sandbox(self, name):
        """The sandbox of the executor of command task `name`."""
        state = http_json(self.agent_port, "/state")
        for obj in walk(state):
            if obj.get("id") == name and "directory" in obj:
                return Path(obj["directory"])
        prepared = self.records("isolator_prepare", task=name)
        if prepared:
            return Path(prepared[-1]["input"]["container_config"]["directory"])
        return None

    def stdout(self, name):
        directory = self.sandbox(name)
        if directory is None:
            return ""
        try:
            return (directory / "stdout").read_text(errors="replace")
        except OSError:
            return ""

    # Records of the commands

    def records(self, method, task=None, container_id=None, finished=True):
        directory = self.root / "records" / method
        out = []
        if not directory.is_dir():
            return out
        for path in sorted(directory.glob("*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if task is not None and record.get("task") != task:
                continue
            if container_id is not None and record.get("container_id") != container_id:
                continue
            if finished and record.get("end") is None:
                continue
            out.append(record)
        return out

    def wait_record(self, method, timeout=30, **match):
        return wait_for(f"a {method} call for {match}",
                        lambda: self.records(method, **match), timeout)[-1]

    def stop(self):
        self.release_all()
        self.procs.kill_all()
        if self.docker:
            self.docker.stop()


# --- Scenarios -------------------------------------------------------------

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append((fn.__name__.replace("scenario_", "").replace("_", "-"), fn))
    return fn


def fails_with(c, name, message):
    """Task `name` ends TASK_FAILED, and its TASK_FAILED update carries
    `message` (from a watch's limitation)."""
    task = c.wait_task(name, ["TASK_FAILED", "TASK_FINISHED", "TASK_KILLED", "TASK_LOST",
                              "TASK_ERROR", "TASK_GONE"], 120)
    check(task["state"] == "TASK_FAILED",
          f"the limited task {name} ended {task['state']}, expected TASK_FAILED")
    # /state shows no status message; mesos-execute prints every update's.
    output = wait_for("mesos-execute to print the TASK_FAILED update",
                      lambda: "TASK_FAILED" in c.execute_output(name) and c.execute_output(name),
                      30)
    failed = output[output.index("TASK_FAILED"):]
    check(message in failed,
          f"the TASK_FAILED update does not carry the limitation's message:\n{failed}")


def container_of(c, name):
    """The container id of command task `name`, from its prepare call."""
    return c.wait_record("isolator_prepare", task=name)["container_id"]


def labels_of(obj):
    """The labels of a task or status in /state, as a dict."""
    labels = obj.get("labels", [])
    if isinstance(labels, dict):
        labels = labels.get("labels", [])
    return {l.get("key"): l.get("value") for l in labels}


@scenario
def scenario_hooks(c):
    """Label and environment decorators, post-fetch, remove-executor, the
    task status and attributes decorators, and the master's label
    decorator."""
    name = "e2e-hooks"
    c.launch(name, "env; echo e2e-done")
    task = c.wait_task(name, ["TASK_FINISHED"], 120)

    agent_task = wait_for(f"the agent to know task {name}", lambda: c.agent_task(name), 30)
    labels = labels_of(agent_task)
    check(labels.get("e2e_agent_label") == "from-agent-hook",
          f"the agent label decorator's label is not on the launched task: {labels}")
    check(labels.get("e2e_master_label") == "from-master-hook",
          f"the master label decorator's label is not on the launched task: {labels}")

    out = wait_for(f"{name}'s stdout", lambda: "e2e-done" in c.stdout(name) and c.stdout(name), 30)
    check("E2E_HOOK_ENV=from-environment-decorator" in out,
          "the environment decorator's variable is not in the task's environment")

    fetched = c.wait_record("hook_slave_post_fetch_hook", task=name)
    check(fetched["input"].get("directory") == str(c.sandbox(name)),
          f"post_fetch got directory {fetched['input'].get('directory')}, the sandbox is "
          f"{c.sandbox(name)}")
    check(isinstance(fetched["input"].get("container_id"), dict),
          "post_fetch got no container_id")

    removed = c.wait_record("hook_slave_remove_executor_hook", task=name, timeout=60)
    check(removed["input"].get("framework_info", {}).get("name"),
          "remove_executor got no framework_info")

    status_labels = [labels_of(s) for s in task.get("statuses", [])]
    check(any(l.get("e2e_status_label") == "from-status-decorator" for l in status_labels),
          f"the status decorator's label is on none of the task's statuses: {status_labels}")

    state = http_json(c.master_port, "/state")
    attributes = [s.get("attributes", {}) for s in state.get("slaves", [])]
    check(any(a.get("e2e_attribute") == "from-attributes-decorator" for a in attributes),
          f"the attributes decorator's attribute is not on the agent: {attributes}")


@scenario
def scenario_isolator_lifecycle(c):
    """prepare's ContainerLaunchInfo, isolate's pid, usage, status and the
    ContainerConfig given to cleanup."""
    name = "e2e-lifecycle"
    c.launch(name, c.waiting_command(name))
    task = c.wait_task(name, ["TASK_RUNNING"], 120)
    container = container_of(c, name)

    prepared = c.records("isolator_prepare", task=name)[-1]
    config = prepared["input"].get("container_config", {})
    check(config.get("task_info", {}).get("name") == name,
          "prepare's container_config has no task_info for the task")
    out = wait_for(f"{name}'s environment in its stdout",
                   lambda: "MESOS_SANDBOX" in c.stdout(name) and c.stdout(name), 30)
    check("E2E_PREPARE_ENV=from-isolator-prepare" in out,
          "the variable of prepare's ContainerLaunchInfo is not in the task's environment")

    isolated = c.wait_record("isolator_isolate", container_id=container)
    pid = isolated["input"].get("pid")
    check(isinstance(pid, int) and pid > 1, f"isolate got pid {pid!r}")
    check(isolated["input"].get("container_config", {}).get("task_info", {}).get("name") == name,
          "isolate got no container_config")

    def container_view():
        for entry in http_json(c.agent_port, "/containers"):
            if entry.get("container_id") == container:
                return entry
        return None
    view = wait_for(f"container {container} in the agent's /containers", container_view, 30)
    executor_pid = view.get("status", {}).get("executor_pid")
    check(executor_pid == pid,
          f"isolate got pid {pid}, the agent's /containers says executor_pid {executor_pid}")

    def statistics():
        for entry in http_json(c.agent_port, "/monitor/statistics"):
            if entry.get("executor_id") == name:
                return entry.get("statistics")
        return None
    stats = wait_for(f"{name} in /monitor/statistics", statistics, 30)
    check(stats.get("cpus_user_time_secs") == 123.25 and stats.get("mem_rss_bytes") == 4242424
          and stats.get("processes") == 7,
          f"the usage command's figures are not in /monitor/statistics: {stats}")
    check(c.records("isolator_usage", container_id=container),
          "no usage call was recorded for the container")

    def network_status():
        for status in (c.master_task(name) or {}).get("statuses", []):
            for info in status.get("container_status", {}).get("network_infos", []):
                for address in info.get("ip_addresses", []):
                    if address.get("ip_address") == "127.0.0.42":
                        return status
        return None
    wait_for("the status command's network info in the task's statuses", network_status, 30)

    cleaned_before = c.records("isolator_cleanup", container_id=container)
    check(not cleaned_before, "cleanup ran while the task was still running")
    c.release(name)
    c.wait_task(name, ["TASK_FINISHED"], 60)
    cleaned = c.wait_record("isolator_cleanup", container_id=container, timeout=60)
    cleanup_config = cleaned["input"].get("container_config", {})
    check(cleanup_config.get("task_info", {}).get("name") == name
          and cleanup_config.get("directory") == config.get("directory"),
          f"cleanup did not receive the container's ContainerConfig: {cleaned['input']}")

    # The watch loop of a cleaned-up container stops (watch runs every 1 s).
    time.sleep(3)
    late = [r for r in c.records("isolator_watch", container_id=container, finished=False)
            if r["start"] > cleaned["end"] + 1.5]
    check(not late, f"watch still ran {len(late)} times for {container} after its cleanup")


@scenario
def scenario_watch_limitation(c):
    """A watch that reports a limitation ends the task with TASK_FAILED and
    the command's message."""
    name = "e2e-limit"
    c.launch(name, c.waiting_command(name, output="echo limited"))
    fails_with(c, name, LIMITATION_MESSAGE)
    container = container_of(c, name)
    c.wait_record("isolator_cleanup", container_id=container, timeout=60)


@scenario
def scenario_faulty_hooks(c):
    """A hook command that hangs and one that prints garbage leave the agent
    running, the task launched, and the failure in the agent's log."""
    for name, expected in (("e2e-hang", "took too long to execute"),
                           ("e2e-garbage", "returned invalid output")):
        started = time.monotonic()
        c.launch(name, "echo faulty")
        task = c.wait_task(name, ["TASK_FINISHED", "TASK_FAILED"], 120)
        check(task["state"] == "TASK_FINISHED",
              f"{name} ended {task['state']} instead of TASK_FINISHED")
        agent_task = wait_for(f"the agent to know {name}", lambda: c.agent_task(name), 30)
        check("e2e_agent_label" not in labels_of(agent_task),
              f"{name} carries a label although its decorator failed")
        command = str(c.root / "bin" / "hook_slave_run_task_label_decorator")
        lines = wait_for(
            f"the agent's log to report the {name} failure",
            lambda: [l for l in c.agent_log().splitlines()
                     if expected in l and command in l], 30)
        check(c.agent.poll() is None, f"the agent died after {name}")
        log(f"    {name}: {time.monotonic() - started:.1f}s, agent log: {lines[0].strip()}")
    with urllib.request.urlopen(f"http://127.0.0.1:{c.agent_port}/health", timeout=5) as r:
        check(r.status == 200, "the agent's /health does not answer 200")


@scenario
def scenario_concurrent_prepare(c):
    """N concurrent launches whose prepare command sleeps S seconds all
    finish in about S seconds, not N x S."""
    names = [f"e2e-sleepy-{i}" for i in range(CONCURRENT)]
    started = time.monotonic()
    for name in names:
        c.launch(name, "echo sleepy")
    for name in names:
        task = c.wait_task(name, ["TASK_FINISHED", "TASK_FAILED"], 60 + CONCURRENT * SLEEP_SECONDS)
        check(task["state"] == "TASK_FINISHED", f"{name} ended {task['state']}")
    elapsed = time.monotonic() - started
    calls = [c.records("isolator_prepare", task=n)[-1] for n in names]
    first_start = min(r["start"] for r in calls)
    last_end = max(r["end"] for r in calls)
    window = last_end - first_start
    overlap = min(r["end"] for r in calls) - max(r["start"] for r in calls)
    log(f"    prepare calls spanned {window:.1f}s (serial would be "
        f"{CONCURRENT * SLEEP_SECONDS}s), all {CONCURRENT} overlapped for {overlap:.1f}s; "
        f"launch to last TASK_FINISHED {elapsed:.1f}s")
    check(window < SLEEP_SECONDS * CONCURRENT * 0.6,
          f"the {CONCURRENT} prepare calls took {window:.1f}s from the first start to the last "
          f"end: they ran one after the other")
    check(overlap > 0, "the prepare calls did not all run at the same time")


@scenario
def scenario_metrics(c):
    """The module's metrics are in /metrics/snapshot."""
    snapshot = http_json(c.agent_port, "/metrics/snapshot")

    def value(module, method, counter):
        key = f"command_modules/{module}/{method}/{counter}"
        check(key in snapshot, f"{key} is not in the agent's /metrics/snapshot; the module's "
              f"keys are {sorted(k for k in snapshot if k.startswith('command_modules/'))}")
        return snapshot[key]

    prepares = len(c.records("isolator_prepare"))
    check(prepares > 0, "no prepare was recorded")
    check(value(ISOLATOR_NAME, "isolator_prepare", "calls") >= prepares,
          f"isolator_prepare/calls is below the {prepares} recorded calls")
    for method in ISOLATOR_METHODS:
        if method != "isolator_recover":
            value(ISOLATOR_NAME, method, "errors")
    check(value(AGENT_HOOK_NAME, "hook_slave_run_task_label_decorator", "timeouts") >= 1,
          "the hanging label decorator was not counted as a timeout")
    check(value(AGENT_HOOK_NAME, "hook_slave_run_task_label_decorator", "errors") >= 1,
          "the failing label decorator calls were not counted as errors")
    check(any(k.startswith(f"command_modules/{ISOLATOR_NAME}/isolator_prepare/duration_ms")
              for k in snapshot), "no isolator_prepare duration timer in /metrics/snapshot")

    for gauge in ("commands_running", "calls_queued", "commands_unreaped",
                  "commands_outlived"):
        key = f"command_modules/{ISOLATOR_NAME}/{gauge}"
        check(key in snapshot, f"{key} is not in the agent's /metrics/snapshot")
    check(snapshot[f"command_modules/{ISOLATOR_NAME}/commands_unreaped"] == 0,
          "a command of the isolator outlived its call")

    master = http_json(c.master_port, "/metrics/snapshot")
    key = f"command_modules/{MASTER_HOOK_NAME}/hook_master_launch_task_label_decorator/calls"
    check(master.get(key, 0) >= 1, f"{key} is missing or zero in the master's /metrics/snapshot")


@scenario
def scenario_non_utf8_task(c):
    """A task whose command holds bytes that are not UTF-8 (Mesos passes them
    on, and runs it) runs to TASK_FINISHED with the module loaded: the bytes
    reach the commands as U+FFFD, with a warning in the agent's log."""
    name = "e2e-bytes"
    c.launch(name, b"echo bytes \xff\xfe")
    task = c.wait_task(name, ["TASK_FINISHED", "TASK_FAILED", "TASK_ERROR", "TASK_LOST"], 120)
    check(task["state"] == "TASK_FINISHED",
          f"the task with bytes that are not UTF-8 ended {task['state']}:\n"
          f"{c.execute_output(name)}")
    prepared = c.wait_record("isolator_prepare", task=name, timeout=30)
    command = json.dumps(prepared["input"]["container_config"])
    check("\\ufffd\\ufffd" in command,
          f"prepare's input does not carry U+FFFD where the bytes were: {command[:400]}")
    wait_for("the agent's log to say the bytes were replaced",
             lambda: "holds bytes that are not valid UTF-8" in c.agent_log(), 30)
    check(c.agent.poll() is None, "the agent died")


def service_pids(c):
    try:
        text = (c.root / "control" / "service-pids").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def task_statistics(c, name):
    for entry in http_json(c.agent_port, "/monitor/statistics"):
        if entry.get("executor_id") == name:
            return entry.get("statistics")
    return None


@scenario
def scenario_service_usage(c):
    """A service-mode isolator's usage, answered by its helper, reaches
    /monitor/statistics (merged with the other isolator's figures)."""
    name = "e2e-svc-usage"
    c.launch(name, c.waiting_command(name))
    c.wait_task(name, ["TASK_RUNNING"], 120)
    stats = wait_for(f"{name}'s statistics with the helper's figure",
                     lambda: (s := task_statistics(c, name)) and s.get("threads") == 77 and s, 30)
    check(stats.get("mem_rss_bytes") == 4242424,
          f"the script isolator's usage is not merged beside the helper's: {stats}")
    snapshot = http_json(c.agent_port, "/metrics/snapshot")
    check(snapshot.get(f"command_modules/{SERVICE_NAME}/service_up") == 1,
          "service_up is not 1 in /metrics/snapshot")
    check(snapshot.get(f"command_modules/{SERVICE_NAME}/isolator_usage/calls", 0) >= 1,
          "the helper's usage calls are not counted")
    c.release(name)
    c.wait_task(name, ["TASK_FINISHED"], 60)


@scenario
def scenario_service_watch_limitation(c):
    """A limitation answered by the helper's watch destroys the container:
    the task fails with the helper's message."""
    name = "e2e-svc-limit"
    c.launch(name, c.waiting_command(name))
    fails_with(c, name, SERVICE_LIMITATION)


@scenario
def scenario_service_helper_killed(c):
    """The helper killed with SIGKILL while a task runs comes back (a new
    process, counted in service_restarts), and usage is answered again."""
    name = "e2e-svc-kill"
    c.launch(name, c.waiting_command(name))
    c.wait_task(name, ["TASK_RUNNING"], 120)
    pids = service_pids(c)
    check(pids and pid_alive(pids[-1]), f"no live helper recorded: {pids}")
    os.kill(pids[-1], signal.SIGKILL)
    new = wait_for("a new helper", lambda: [p for p in service_pids(c)[len(pids):]
                                             if pid_alive(p)], 30)
    wait_for("service_restarts to count the restart",
             lambda: http_json(c.agent_port, "/metrics/snapshot")
             .get(f"command_modules/{SERVICE_NAME}/service_restarts", 0) >= 1, 30)
    wait_for(f"{name}'s statistics from the new helper",
             lambda: (s := task_statistics(c, name)) and s.get("threads") == 77, 30)
    check(c.agent.poll() is None, "the agent died")
    log(f"    helper {pids[-1]} killed, {new[0]} serves now")
    c.release(name)
    c.wait_task(name, ["TASK_FINISHED"], 60)
    wait_for("the agent's log to report the restart",
             lambda: "exited (killed by signal 9); it is started again" in c.agent_log(), 30)


@scenario
def scenario_agent_recovery(c):
    """An agent killed with SIGKILL between prepare and cleanup recovers
    (same work_dir and runtime_dir, --recover=reconnect), and cleanup still
    receives the ContainerConfig."""
    name = "e2e-recover"
    c.launch(name, c.waiting_command(name), checkpoint=True)
    c.wait_task(name, ["TASK_RUNNING"], 120)
    container = container_of(c, name)
    config = c.records("isolator_prepare", task=name)[-1]["input"]["container_config"]
    recovers_before = len(c.records("isolator_recover"))

    helpers_before = [p for p in service_pids(c) if pid_alive(p)]
    c.kill_agent()
    check(not c.records("isolator_cleanup", container_id=container),
          "cleanup ran before the agent was killed")
    wait_for("the killed agent's service helper to exit (end of its input)",
             lambda: not any(pid_alive(p) for p in helpers_before), 30)
    wait_for("the master to see the agent go", lambda: not c.master_sees_agent(), 60)
    c.start_agent()
    recovered = wait_for("the restarted agent's recover call",
                         lambda: c.records("isolator_recover")[recovers_before:], 60)[-1]
    states = recovered["input"].get("states", [])
    ids = [s.get("container_id", {}).get("value") for s in states]
    check(container in ids, f"recover's states do not hold {container}: {ids}")
    wait_for(f"the agent to know {name} again", lambda: c.agent_task(name), 60)
    restarted = recovered["end"]
    wait_for(f"watch to run again for the recovered {container}",
             lambda: [r for r in c.records("isolator_watch", container_id=container)
                      if r["start"] > restarted], 30)

    c.release(name)
    c.wait_task(name, ["TASK_FINISHED"], 120)
    cleaned = c.wait_record("isolator_cleanup", container_id=container, timeout=60)
    cleanup_config = cleaned["input"].get("container_config", {})
    check(cleanup_config.get("directory") == config.get("directory")
          and cleanup_config.get("task_info", {}).get("name") == name,
          f"cleanup after recovery did not receive the ContainerConfig: {cleaned['input']}")
    check(c.agent.poll() is None, "the restarted agent died")
    check([p for p in service_pids(c) if pid_alive(p)],
          "the restarted agent runs no service helper")


@scenario
def scenario_agent_killed_mid_call(c):
    """An agent killed with SIGKILL while a prepare command runs: the
    restarted agent's module kills that command at load (the sweep of the
    dead agent's cgroups), the agent recovers and the half-launched task
    ends; the restarted agent keeps running tasks."""
    name = "e2e-stalled-kill"
    c.launch(name, "echo stalled", checkpoint=True)
    running = wait_for("the stalled prepare command to start",
                       lambda: c.records("isolator_prepare", task=name, finished=False), 60)[-1]
    pid = running["pid"]
    check(pid_alive(pid), f"the prepare command (pid {pid}) is not running")
    c.kill_agent()
    wait_for("the master to see the agent go", lambda: not c.master_sees_agent(), 60)
    check(pid_alive(pid), "the prepare command died with the agent: nothing left to sweep")
    started = time.monotonic()
    c.start_agent()
    wait_for(f"the restarted agent's module to kill the old prepare command (pid {pid})",
             lambda: not pid_alive(pid), 20)
    log(f"    the old agent's prepare command was gone {time.monotonic() - started:.1f}s after "
        f"the restart (it would have slept {STALL_SECONDS}s)")
    check(not c.records("isolator_prepare", task=name),
          "the old agent's prepare command ran to its end")
    task = c.wait_task(name, ["TASK_FAILED", "TASK_LOST", "TASK_GONE", "TASK_KILLED",
                              "TASK_DROPPED", "TASK_ERROR", "TASK_FINISHED"], 120)
    log(f"    the half-launched task ended {task['state']}")
    after = "e2e-after-kill"
    c.launch(after, "echo after")
    ended = c.wait_task(after, ["TASK_FINISHED", "TASK_FAILED"], 120)
    check(ended["state"] == "TASK_FINISHED",
          f"a task launched after the restart ended {ended['state']}")
    check(c.agent.poll() is None, "the restarted agent died")


def revocable_cpus(c):
    """The revocable cpus the master has for the agent."""
    return http_json(c.master_port, "/metrics/snapshot").get("master/cpus_revocable_total")


def set_control(c, name, text):
    path = c.root / "control" / name
    if text is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(text)


@scenario
def scenario_oversubscription_estimate(c):
    """The estimator's command offers 2 cpus (not marked revocable: the
    module marks them); the master offers them as revocable. Garbage and a
    hanging command withdraw the estimate, never leave it offered, and the
    agent stays up; a good answer offers it again."""
    set_control(c, "estimator-mode", None)
    wait_for(f"the master to count {ESTIMATE_CPUS} revocable cpus",
             lambda: revocable_cpus(c) == ESTIMATE_CPUS, 60)
    record = c.wait_record(ESTIMATOR_METHOD)
    usage = record["input"].get("usage")
    check(isinstance(usage, dict) and isinstance(usage.get("total"), list),
          f"the estimator's input has no usage with the agent's total: {record['input']}")
    check(record["module"] == ESTIMATOR_NAME, f"MESOS_COMMAND_MODULE was {record['module']}")
    for mode, cause in (("garbage", "returned invalid output"),
                        ("hang", "took too long to execute")):
        start = len(c.agent_log())
        set_control(c, "estimator-mode", mode)
        wait_for(f"a {mode} estimate to withdraw the revocable cpus",
                 lambda: revocable_cpus(c) == 0, 60)
        wait_for(f"the agent's log to say why ({cause})",
                 lambda: cause in c.agent_log()[start:], 30)
        check(c.agent.poll() is None, f"the agent died on a {mode} estimate")
        set_control(c, "estimator-mode", None)
        wait_for("a good estimate to offer the cpus again",
                 lambda: revocable_cpus(c) == ESTIMATE_CPUS, 60)
    snapshot = http_json(c.agent_port, "/metrics/snapshot")
    key = f"command_modules/{ESTIMATOR_NAME}/{ESTIMATOR_METHOD}/timeouts"
    check(snapshot.get(key, 0) >= 1, f"{key} did not count the hanging estimator: {snapshot.get(key)}")


@scenario
def scenario_qos_correction(c):
    """A correction naming nothing is refused, and garbage is logged, with
    the agent up; then the QoS command's KILL for a running task's executor
    ends the task with the preemption reason (mesos-execute cannot take
    revocable resources, so the task runs on regular ones: the agent kills
    whatever executor a correction names)."""
    for mode, message in (("nameless", 'names no "kill.framework_id"'),
                          ("garbage", "returned invalid output")):
        start = len(c.agent_log())
        set_control(c, "qos-mode", mode)
        wait_for(f"the agent's log to report the {mode} corrections",
                 lambda: ("Failed to get corrections from QoS Controller" in c.agent_log()[start:]
                          and message in c.agent_log()[start:]), 30)
        check(c.agent.poll() is None, f"the agent died on {mode} corrections")
    set_control(c, "qos-mode", None)

    name = "e2e-qos-victim"
    c.launch(name, c.waiting_command(name))
    c.wait_task(name, ["TASK_RUNNING"], 120)
    preempted_before = http_json(c.agent_port, "/metrics/snapshot").get("slave/executors_preempted", 0)
    set_control(c, "qos-kill", name)
    try:
        task = c.wait_task(name, ["TASK_LOST", "TASK_GONE", "TASK_FAILED", "TASK_FINISHED",
                                  "TASK_KILLED"], 60)
    finally:
        set_control(c, "qos-kill", None)
    check(task["state"] in ("TASK_LOST", "TASK_GONE"),
          f"the preempted task ended {task['state']}, expected TASK_LOST")
    output = wait_for("mesos-execute to print the preemption",
                      lambda: "REASON_CONTAINER_PREEMPTED" in c.execute_output(name)
                      and c.execute_output(name), 30)
    check("preempted by QoS correction" in output,
          f"the update does not carry the QoS message:\n{output}")
    preempted = http_json(c.agent_port, "/metrics/snapshot").get("slave/executors_preempted", 0)
    check(preempted == preempted_before + 1,
          f"slave/executors_preempted went from {preempted_before} to {preempted}")


def docker_scenario(fn):
    """A scenario that needs the suite's Docker daemon: skipped, with the
    reason, when there is none."""
    fn.needs_docker = True
    return scenario(fn)


def docker_container_of(c, name):
    """The agent's container id for Docker task `name` (from /containers,
    which names the executor)."""
    def probe():
        for entry in http_json(c.agent_port, "/containers"):
            if entry.get("executor_id") == name:
                return entry
        return None
    return wait_for(f"{name}'s container in the agent's /containers", probe, 60)


def docker_executor_pid(sandbox):
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                program = f.read().split(b"\0")[0]
            if program.endswith(b"mesos-docker-executor") \
                    and os.readlink(f"/proc/{entry}/cwd") == str(sandbox):
                return int(entry)
        except (OSError, ValueError):
            continue
    return None


def process_environment(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(entry.decode(errors="replace").split("=", 1)
                        for entry in f.read().split(b"\0") if b"=" in entry)
    except OSError:
        return {}


@docker_scenario
def scenario_docker_pre_launch(c):
    """A task launched by the Docker containerizer: the pre-launch hook's
    command gets the container's name, work and mapped sandbox directories
    with the task and executor; its taskEnvironment is inside the Docker
    container, its executorEnvironment in the executor's; the label, status
    and environment decorators and post-fetch work as with the Mesos
    containerizer; the Docker containerizer calls no isolator method."""
    name = "e2e-docker-env"
    c.launch(name, c.docker_waiting_command(), docker=True)
    c.wait_task(name, ["TASK_RUNNING"], 120)
    entry = docker_container_of(c, name)
    container = entry["container_id"]
    sandbox = c.sandbox(name)

    record = c.wait_record(DOCKER_HOOK_METHOD, task=name)
    given = record["input"]
    check(given.get("container_name") == f"mesos-{container}",
          f"container_name is {given.get('container_name')!r}, the container is mesos-{container}")
    check(given.get("container_work_directory") == str(sandbox),
          f"container_work_directory is {given.get('container_work_directory')!r}, the sandbox "
          f"is {sandbox}")
    check(given.get("mapped_sandbox_directory") == DOCKER_SANDBOX,
          f"mapped_sandbox_directory is {given.get('mapped_sandbox_directory')!r}")
    check(given.get("task_info", {}).get("name") == name, "the hook got no task_info")
    check(given.get("executor_info", {}).get("executor_id", {}).get("value") == name,
          f"the hook got no executor_info for {name}")
    check(record["container_id"] is None,
          "a hook command was given MESOS_COMMAND_CONTAINER_ID")

    out = wait_for(f"{name}'s stdout", lambda: "MESOS_SANDBOX" in c.stdout(name)
                   and c.stdout(name), 30)
    check("E2E_DOCKER_TASK_ENV=from-docker-hook" in out,
          f"the hook's taskEnvironment is not in the task's environment:\n{out}")
    inspected = c.docker.container(f"mesos-{container}")
    check(inspected is not None and inspected["State"]["Running"],
          f"no running Docker container mesos-{container}")
    check("E2E_DOCKER_TASK_ENV=from-docker-hook" in inspected["Config"]["Env"],
          f"the Docker container's environment lacks the taskEnvironment: "
          f"{inspected['Config']['Env']}")

    # The Docker containerizer's /containers has no executor_pid: the
    # executor is the mesos-docker-executor working in the sandbox.
    executor_pid = docker_executor_pid(sandbox)
    environment = process_environment(executor_pid) if executor_pid else {}
    check(environment.get("E2E_DOCKER_EXECUTOR_ENV") == "from-docker-hook",
          f"the hook's executorEnvironment is not in the executor's (pid {executor_pid}) "
          f"environment")
    check(environment.get("E2E_HOOK_ENV") == "from-environment-decorator",
          "the environment decorator's variable is not in the Docker executor's environment")

    agent_task = wait_for(f"the agent to know task {name}", lambda: c.agent_task(name), 30)
    check(labels_of(agent_task).get("e2e_agent_label") == "from-agent-hook",
          f"the agent label decorator's label is not on the Docker task: {labels_of(agent_task)}")
    c.wait_record("hook_slave_post_fetch_hook", task=name)

    c.release(name)
    task = c.wait_task(name, ["TASK_FINISHED"], 60)
    status_labels = [labels_of(s) for s in task.get("statuses", [])]
    check(any(l.get("e2e_status_label") == "from-status-decorator" for l in status_labels),
          f"the status decorator's label is on none of the Docker task's statuses: "
          f"{status_labels}")
    removed = c.wait_record("hook_slave_remove_executor_hook", task=name, timeout=60)
    check(removed["input"].get("executor_info", {}).get("container", {}).get("type") == "DOCKER",
          "remove_executor's executor_info is not a Docker one")
    for method in ISOLATOR_METHODS:
        check(not c.records(method, container_id=container, finished=False),
              f"{method} was called for the Docker container {container}")


@docker_scenario
def scenario_docker_pre_launch_failure(c):
    """A failing pre-launch command fails the Docker launch: TASK_FAILED,
    REASON_CONTAINER_LAUNCH_FAILED, the command's error in the update."""
    name = "e2e-docker-denied"
    c.launch(name, "echo never", docker=True)
    task = c.wait_task(name, ["TASK_FAILED", "TASK_FINISHED", "TASK_ERROR", "TASK_LOST"], 120)
    check(task["state"] == "TASK_FAILED", f"the denied Docker task ended {task['state']}")
    output = wait_for("mesos-execute to print the TASK_FAILED update",
                      lambda: "TASK_FAILED" in c.execute_output(name) and c.execute_output(name),
                      30)
    failed = output[output.index("TASK_FAILED"):]
    check("REASON_CONTAINER_LAUNCH_FAILED" in failed,
          f"the update does not carry REASON_CONTAINER_LAUNCH_FAILED:\n{failed}")
    command = c.root / "bin" / DOCKER_HOOK_METHOD
    expected = (f"Failed to launch container: Collect failed: Command \"{command}\" exited with "
                f"return code 1. Cause: e2e: the Docker pre-launch command denies this task")
    check(expected in failed, f"the update does not carry {expected!r}:\n{failed}")
    check(c.agent.poll() is None, "the agent died")


@docker_scenario
def scenario_docker_remove(c):
    """examples/docker-remove: when the agent removes a Docker executor, the
    hook removes its stopped container at once (the agent itself would keep
    it for --docker_remove_delay, an hour here)."""
    name = "e2e-docker-remove"
    c.launch(name, c.docker_waiting_command(), docker=True)
    c.wait_task(name, ["TASK_RUNNING"], 120)
    container = docker_container_of(c, name)["container_id"]
    check(c.docker.container(f"mesos-{container}") is not None,
          f"no Docker container mesos-{container} while the task runs")
    c.release(name)
    c.wait_task(name, ["TASK_FINISHED"], 60)
    wait_for(f"the docker-remove hook to remove mesos-{container}",
             lambda: c.docker.container(f"mesos-{container}") is None, 60)
    said = f"stdout: removed Docker container mesos-{container}"
    wait_for("the agent's log to carry the hook's report",
             lambda: [l for l in c.agent_log().splitlines()
                      if said in l and DOCKER_REMOVE_NAME in l], 10)


# --- Main --------------------------------------------------------------------


def start_docker(root):
    """The suite's own Docker daemon, or (None, why the Docker scenarios
    are skipped). Its data root is beside the work directory, not in it:
    the final sweep of processes working under the work directory must not
    kill the containers' shims before the daemon removes the containers."""
    daemon = DockerDaemon(tempfile.mkdtemp(prefix="mcm-e2e-docker-"),
                          Path(root) / "logs" / "dockerd.log")
    (Path(root) / "logs").mkdir(parents=True, exist_ok=True)
    reason = daemon.start()
    if reason is not None:
        daemon.stop()
        return None, f"no Docker ({reason})"
    log(f"e2e: Docker daemon {daemon.proc.pid} on {daemon.socket}, image {DOCKER_IMAGE}")
    return daemon, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", action="append", default=[], metavar="SUBSTRING",
                        help="run only scenarios whose name contains SUBSTRING")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (logs, records) even on success")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    args = parser.parse_args()

    if args.list:
        for name, fn in SCENARIOS:
            print(f"{name}: {' '.join((fn.__doc__ or '').split())}")
        return 0

    mesos, reason = find_mesos()
    if mesos is None:
        print(f"e2e: skipped: {reason}")
        return 0
    library, reason = find_module()
    if library is None:
        print(f"e2e: skipped: {reason}")
        return 0
    version = mesos_version(mesos.master)
    if version != MESOS_VERSION:
        print(f"e2e: skipped: the Mesos found ({mesos.master}) is {version or 'of unknown version'}, "
              f"the module needs {MESOS_VERSION}")
        return 0

    selected = [(n, f) for n, f in SCENARIOS if not args.k or any(k in n for k in args.k)]
    root = tempfile.mkdtemp(prefix="mcm-e2e-")
    cluster = None
    results = []
    skipped = []

    def on_signal(signum, _frame):
        raise Aborted(f"interrupted by signal {signum}")

    def on_alarm(_signum, _frame):
        raise Aborted(f"the whole run took more than {RUN_TIMEOUT}s (E2E_TIMEOUT)")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(RUN_TIMEOUT)
    log(f"e2e: Mesos {version} from {mesos.master}, module {library}, work directory {root}")
    docker, docker_skip = None, None
    try:
        if any(getattr(f, "needs_docker", False) for _, f in selected):
            docker, docker_skip = start_docker(root)
        cluster = Cluster(root, mesos, library, docker)
        cluster.start_master()
        cluster.start_agent()
        for name, fn in selected:
            started = time.monotonic()
            if getattr(fn, "needs_docker", False) and docker is None:
                skipped.append(name)
                log(f"skipped {name}: {docker_skip}")
                continue
            try:
                fn(cluster)
                results.append((name, None))
                log(f"ok      {name} ({time.monotonic() - started:.1f}s)")
            except Failure as e:
                results.append((name, str(e)))
                log(f"FAILED  {name} ({time.monotonic() - started:.1f}s): {e}")
    except (Failure, Aborted, KeyboardInterrupt) as e:
        log(f"e2e: stopped: {e}")
        done = {n for n, _ in results}
        for name, _ in selected:
            if name not in done:
                results.append((name, "not run"))
                log(f"FAILED  {name}: not run")
    except Exception:  # a bug of the suite: report it as a failure, clean up
        traceback.print_exc()
        done = {n for n, _ in results}
        results.extend((n, "not run: the suite crashed") for n, _ in selected if n not in done)
    finally:
        signal.alarm(0)
        if cluster is not None:
            cluster.stop()
        else:
            Processes(root).kill_all()
            if docker is not None:
                docker.stop()

    failed = [n for n, e in results if e]
    if failed or args.keep:
        log(f"e2e: logs and records kept in {root} (logs/, records/)")
    else:
        shutil.rmtree(root, ignore_errors=True)
    print(f"e2e: {len(results) - len(failed)} passed, {len(failed)} failed"
          + (f", {len(skipped)} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
