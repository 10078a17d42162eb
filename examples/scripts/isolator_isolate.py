#!/usr/bin/python3
"""isolator_isolate: remembers the pid of every container's init process.

Runs on the AGENT once the container's init process exists, before the
task's command starts, on all isolators at once. It is where an isolator
puts the process into cgroups, namespaces, firewall rules (see ../acl/).
A non-zero exit FAILS THE LAUNCH.

Input ($1):
  {"container_id": {"value": "<id>"}, "pid": 1234,
   "container_config": ContainerConfig (added by the module, from prepare)}
Output: none (not read).

This example keeps one file per container under a directory of its own
($MESOS_COMMAND_EXAMPLES_STATE, default /run/mesos-command-modules/examples
for root), read by isolator_status.py and removed by isolator_cleanup.sh.
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


input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

directory = state_directory()
os.makedirs(directory, mode=0o700, exist_ok=True)
container = os.environ["MESOS_COMMAND_CONTAINER_ID"]
# Written then renamed: a reader never sees half a file.
path = os.path.join(directory, f"{container}.pid")
with open(path + ".tmp", "w", encoding="utf-8") as f:
    f.write(str(request["pid"]))
os.replace(path + ".tmp", path)
