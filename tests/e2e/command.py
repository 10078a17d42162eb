#!/usr/bin/env python3
"""The command behind every Hook and Isolator method in the e2e suite.

run.py copies this file once per method into <root>/bin/<method key> (so the
agent's log names the method of a failing command) and writes the settings
it reads from <root>/bin/command.json. The module runs it as
`<command> <input> <output> <error>` with MESOS_COMMAND_METHOD,
MESOS_COMMAND_MODULE and, for isolator calls, MESOS_COMMAND_CONTAINER_ID in
its environment.

Every call is recorded as <root>/records/<method>/<ns>-<pid>.json: the input
document, the task it is about, when it started and ended. run.py reads the
records to check what Mesos passed.

What the command answers depends on the method and on the task's name (the
scenarios choose names that trigger a behaviour):
  *hang*     the agent label decorator sleeps past its timeout
  *garbage*  the agent label decorator prints something that is not JSON
  *sleepy*   prepare sleeps `sleep_seconds` first
  *stalled*  prepare sleeps `stall_seconds` first (the agent is killed
             meanwhile)
  *limit*    watch reports a limitation once the task has started
  *denied*   the Docker pre-launch hook fails (exit 1, DOCKER_DENIED in the
             error file)

The resource estimator and the QoS controller are about the agent, not a
task: files in <root>/control choose what they answer.
  estimator-mode   "offer" (the default: 2 cpus, not marked revocable),
                   "garbage" (not JSON) or "hang" (sleeps past its timeout)
  qos-kill         a task name: a KILL for that task's executor, while the
                   usage lists it
  qos-mode         "garbage", or "nameless" (a KILL naming no executor)
"""

import json
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTROL = os.path.join(ROOT, "control")
LIMITATION_MESSAGE = "e2e: limitation reported by the watch command"
DOCKER_DENIED = "e2e: the Docker pre-launch command denies this task"


class Denied(Exception):
    """The command fails: exit status 1, the message in the error file."""


ESTIMATE_CPUS = 2


def control(name):
    """The stripped text of <root>/control/<name>, or None."""
    try:
        with open(os.path.join(CONTROL, name)) as f:
            return f.read().strip()
    except OSError:
        return None


def settings():
    with open(os.path.join(ROOT, "bin", "command.json")) as f:
        return json.load(f)


def dig(doc, *path):
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def task_name(doc):
    """The task (or, for command tasks, its executor) a call is about."""
    for path in (
        ("task_info", "name"),
        ("container_config", "task_info", "name"),
        ("container_config", "executor_info", "executor_id", "value"),
        ("executor_info", "executor_id", "value"),
        ("status", "task_id", "value"),
    ):
        value = dig(doc, *path)
        if isinstance(value, str):
            return value
    directory = doc.get("directory") if isinstance(doc, dict) else None
    if isinstance(directory, str):
        match = re.search(r"/executors/([^/]+)/runs/", directory)
        if match:
            return match.group(1)
    return ""


class Recorder:
    def __init__(self, method, doc):
        self.directory = os.path.join(ROOT, "records", method)
        os.makedirs(self.directory, exist_ok=True)
        self.path = os.path.join(
            self.directory, "%d-%d.json" % (time.time_ns(), os.getpid())
        )
        self.record = {
            "method": method,
            "task": task_name(doc),
            "container_id": os.environ.get("MESOS_COMMAND_CONTAINER_ID"),
            "module": os.environ.get("MESOS_COMMAND_MODULE"),
            "pid": os.getpid(),
            "start": time.time(),
            "end": None,
            "input": doc,
        }
        self.write()

    def write(self):
        temp = os.path.join(self.directory, ".tmp-%d" % os.getpid())
        with open(temp, "w") as f:
            json.dump(self.record, f)
        os.rename(temp, self.path)

    def finish(self, answer):
        self.record["end"] = time.time()
        self.record["answer"] = answer
        self.write()


def with_label(existing, key, value):
    labels = [l for l in (existing or []) if l.get("key") != key]
    labels.append({"key": key, "value": value})
    return {"labels": labels}


def answer(method, doc, name, config):
    """The output document (a JSON value), None for an empty output, or a
    string to write verbatim."""
    if method == "hook_master_launch_task_label_decorator":
        existing = dig(doc, "task_info", "labels", "labels")
        return with_label(existing, "e2e_master_label", "from-master-hook")

    if method == "hook_slave_run_task_label_decorator":
        if "hang" in name:
            time.sleep(config["hang_seconds"])
            return None
        if "garbage" in name:
            return "this is { not JSON"
        existing = dig(doc, "task_info", "labels", "labels")
        return with_label(existing, "e2e_agent_label", "from-agent-hook")

    if method == "hook_slave_executor_environment_decorator":
        existing = dig(doc, "executor_info", "command", "environment", "variables")
        variables = [v for v in (existing or []) if v.get("name") != "E2E_HOOK_ENV"]
        variables.append({"name": "E2E_HOOK_ENV", "value": "from-environment-decorator"})
        return {"variables": variables}

    if method == "hook_slave_pre_launch_docker_task_executor_decorator":
        if "denied" in name:
            raise Denied(DOCKER_DENIED)
        return {
            "executorEnvironment": {
                "variables": [{"name": "E2E_DOCKER_EXECUTOR_ENV", "value": "from-docker-hook"}]
            },
            "taskEnvironment": {
                "variables": [{"name": "E2E_DOCKER_TASK_ENV", "value": "from-docker-hook"}]
            },
        }

    if method == "hook_slave_task_status_decorator":
        status = doc.get("status", {})
        return {
            "task_id": status.get("task_id"),
            "state": status.get("state"),
            "labels": {
                "labels": [{"key": "e2e_status_label", "value": "from-status-decorator"}]
            },
        }

    if method == "hook_slave_attributes_decorator":
        existing = dig(doc, "slave_info", "attributes") or []
        return existing + [
            {
                "name": "e2e_attribute",
                "type": "TEXT",
                "text": {"value": "from-attributes-decorator"},
            }
        ]

    if method == "isolator_prepare":
        if "sleepy" in name:
            time.sleep(config["sleep_seconds"])
        if "stalled" in name:
            time.sleep(config["stall_seconds"])
        return {
            "environment": {
                "variables": [{"name": "E2E_PREPARE_ENV", "value": "from-isolator-prepare"}]
            }
        }

    if method == "isolator_watch":
        if "limit" in name and os.path.exists(os.path.join(CONTROL, "started-" + name)):
            return {
                "message": LIMITATION_MESSAGE,
                "reason": "REASON_CONTAINER_LIMITATION",
            }
        return None

    if method == "isolator_usage":
        return {
            "timestamp": time.time(),
            "cpus_user_time_secs": 123.25,
            "cpus_system_time_secs": 4.5,
            "mem_rss_bytes": 4242424,
            "processes": 7,
            "threads": 11,
        }

    if method == "isolator_status":
        return {
            "network_infos": [
                {"name": "e2e-net", "ip_addresses": [{"ip_address": "127.0.0.42"}]}
            ]
        }

    if method == "resource_estimator_oversubscribable":
        mode = control("estimator-mode") or "offer"
        if mode == "hang":
            time.sleep(config["hang_seconds"])
            return None
        if mode == "garbage":
            return "this is { not JSON"
        return [{"name": "cpus", "type": "SCALAR", "scalar": {"value": ESTIMATE_CPUS}}]

    if method == "qos_controller_corrections":
        mode = control("qos-mode")
        if mode == "garbage":
            return "this is { not JSON"
        if mode == "nameless":
            return [{"type": "KILL", "kill": {}}]
        victim = control("qos-kill")
        corrections = []
        for executor in dig(doc, "usage", "executors") or []:
            tasks = [t.get("name") for t in executor.get("tasks", [])]
            if victim and victim in tasks:
                info = executor["executor_info"]
                corrections.append({"type": "KILL", "kill": {
                    "framework_id": info["framework_id"],
                    "executor_id": info["executor_id"],
                    "container_id": executor["container_id"],
                }})
        return corrections

    # Post-fetch, remove-executor, slave-lost, recover, isolate, update,
    # cleanup: the record is the evidence; nothing to answer.
    return None


def main():
    method = os.environ.get("MESOS_COMMAND_METHOD", os.path.basename(sys.argv[0]))
    input_path, output_path = sys.argv[1], sys.argv[2]
    with open(input_path) as f:
        doc = json.load(f)
    config = settings()
    recorder = Recorder(method, doc)
    try:
        result = answer(method, doc, recorder.record["task"], config)
    except Denied as e:
        with open(sys.argv[3], "w") as f:
            f.write(str(e))
        recorder.finish({"denied": str(e)})
        sys.exit(1)
    with open(output_path, "w") as f:
        if isinstance(result, str):
            f.write(result)
        elif result is not None:
            json.dump(result, f)
    recorder.finish(result)


if __name__ == "__main__":
    main()
