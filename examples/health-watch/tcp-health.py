#!/usr/bin/python3
"""Kills a container whose TCP port stops answering.

A TCP health check as an isolator watch: a task names the address to check
in a label,

    HEALTH_TCP = "127.0.0.1:8080"     (or "8080" for 127.0.0.1, or "[::1]:8080")
    HEALTH_TCP_FAILURES = "3"         (optional; default MESOS_HEALTH_FAILURES)

and every isolator_watch_frequence seconds the watch connects to it. After
that many consecutive failed connections it reports a limitation: Mesos
destroys the container and the task fails with REASON_CONTAINER_LIMITATION
and the message below. A successful connection resets the count.

The count survives between rounds (each round is a new process) and agent
restarts in a per-container file under a directory of the script's own:
MESOS_HEALTH_STATE_DIR (default /run/mesos-command-modules/health for root).
isolator_cleanup (the same script) removes it.

The watch connects from the agent's network namespace: use an address the
agent can reach (the task's host port, or its container IP).

The first round runs as soon as the container is created, before the task
listens: choose failures x isolator_watch_frequence larger than the task's
start-up time.

Methods (MESOS_COMMAND_METHOD):
  isolator_watch    input {"container_id": ..., "container_config": ...}
                    output: empty (healthy, or not checked) or
                    {"message": "...", "reason": "REASON_CONTAINER_LIMITATION"}
  isolator_cleanup  removes the container's count file.

Configuration (the agent's environment):
  MESOS_HEALTH_STATE_DIR        where the counts live
  MESOS_HEALTH_FAILURES         default consecutive failures (3)
  MESOS_HEALTH_CONNECT_TIMEOUT  seconds per connection attempt (2); keep it
                                below isolator_watch_timeout
"""
import json
import os
import socket
import sys

LABEL = "HEALTH_TCP"
STATE_DIR = os.environ.get("MESOS_HEALTH_STATE_DIR") or (
    "/run/mesos-command-modules/health"
    if os.geteuid() == 0
    else os.path.expanduser("~/.cache/mesos-command-modules/health")
)
DEFAULT_FAILURES = int(os.environ.get("MESOS_HEALTH_FAILURES", "3"))
CONNECT_TIMEOUT = float(os.environ.get("MESOS_HEALTH_CONNECT_TIMEOUT", "2"))


def labels(config):
    """The labels of the container's task, or else of its executor."""
    for owner in ("task_info", "executor_info"):
        found = config.get(owner, {}).get("labels", {}).get("labels", [])
        if found:
            return {label.get("key"): label.get("value", "") for label in found}
    return {}


def address(text):
    """"host:port", "[v6]:port" or "port" -> (host, port)."""
    text = text.strip()
    if text.isdigit():
        return "127.0.0.1", int(text)
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f'{LABEL}: "{text}" is not host:port or a port number')
    return host.strip("[]"), int(port)


def count_file():
    return os.path.join(STATE_DIR, os.environ["MESOS_COMMAND_CONTAINER_ID"])


def read_count():
    try:
        with open(count_file(), encoding="utf-8") as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def write_count(n):
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    path = count_file()
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(n))
    os.replace(path + ".tmp", path)  # Never a half-written count.


def watch(request, output_path):
    config = request.get("container_config", {})
    if "parent" in request.get("container_id", {}):
        return 0  # Nested containers are checked through their task group's label.
    found = labels(config)
    if not found.get(LABEL):
        return 0
    host, port = address(found[LABEL])
    limit = int(found.get("HEALTH_TCP_FAILURES") or DEFAULT_FAILURES)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as e:
        failures = read_count() + 1
        reason = e.strerror or str(e)
        print(f"{host}:{port} did not answer ({reason}): {failures}/{limit}")
        write_count(failures)
        if failures < limit:
            return 0
        limitation = {
            "message": f"TCP health check of {host}:{port} failed {failures} consecutive "
            f"times (last: {reason})",
            "reason": "REASON_CONTAINER_LIMITATION",
        }
        with open(output_path, "w", encoding="utf-8") as f:
            json.dump(limitation, f)
        return 0
    if read_count():
        write_count(0)
    return 0


def main():
    input_path, output_path, error_path = sys.argv[1:4]
    method = os.environ.get("MESOS_COMMAND_METHOD")
    if method == "isolator_cleanup":
        try:
            os.remove(count_file())
        except FileNotFoundError:
            pass
        return 0
    with open(input_path, encoding="utf-8") as f:
        request = json.load(f)
    try:
        return watch(request, output_path)
    except ValueError as e:
        with open(error_path, "w", encoding="utf-8") as f:
            f.write(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
