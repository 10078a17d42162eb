#!/usr/bin/python3
"""isolator_status: reports the pid isolator_isolate.py recorded.

Runs on the AGENT for every status update an executor sends (the result
goes into the update's container_status) and for /containers.

Input ($1):
  {"container_id": {"value": "<id>"},
   "container_config": ContainerConfig (added by the module)}
Output ($2): ContainerStatus, e.g.
  {"executor_pid": 1234}
  or {"network_infos": [{"ip_addresses": [{"ip_address": "10.0.0.2"}]}]}.
  Returning network_infos replaces the IP address the agent would report
  itself: only do it if you own the container's network.

Empty output: nothing to add. A non-zero exit is logged and ignored.
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
container = os.environ["MESOS_COMMAND_CONTAINER_ID"]
try:
    with open(os.path.join(state_directory(), f"{container}.pid"), encoding="utf-8") as f:
        pid = int(f.read())
except (OSError, ValueError):
    sys.exit(0)  # Not isolated by this isolator (yet): nothing to report.

with open(output_path, "w", encoding="utf-8") as f:
    json.dump({"executor_pid": pid}, f)
