#!/usr/bin/python3
"""isolator_recover: after an agent restart, forgets containers that are gone.

Runs once when the agent restarts, before any other isolator call. The
module has already restored its own state (the container_config of every
container still running); this script only has to fix up the script's own
state: here, the pid files written by isolator_isolate.py.

Input ($1):
  {"states": [ContainerState, ...], "orphans": [ContainerID, ...]}
  ContainerState: {"container_id": ..., "pid": 1234, "directory": "...",
                   "executor_info": ... (top-level) or "container_info": ...}
  Orphans are containers the agent no longer knows: Mesos destroys them next
  (cleanup is called for each).
Output: none.

A non-zero exit is logged and the agent carries on (in Mesos a failed
recover would stop the agent; this module never fails it).
"""
import json
import os
import sys


def state_directory():
    base = os.environ.get("MESOS_COMMAND_EXAMPLES_STATE") or (
        "/run/mesos-command-modules/examples"
        if os.geteuid() == 0
        else os.path.expanduser("~/.cache/mesos-command-modules/examples")
    )
    return os.path.join(base, os.environ.get("MESOS_COMMAND_MODULE", "example"))


def container_id(cid):
    """Mesos's text form of a ContainerID: "parent.child" when nested."""
    return (container_id(cid["parent"]) + "." if "parent" in cid else "") + cid["value"]


input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

running = {container_id(s["container_id"]) for s in request.get("states", [])}
print(f"{len(running)} container(s) still running, {len(request.get('orphans', []))} orphan(s)")

directory = state_directory()
if os.path.isdir(directory):
    for name in os.listdir(directory):
        if name.endswith(".pid") and name[: -len(".pid")] not in running:
            os.remove(os.path.join(directory, name))
            print(f"forgot {name[:-len('.pid')]}")
