#!/usr/bin/python3
"""isolator_watch: a disk quota, enforced by looking at the sandbox's size.

Runs on the AGENT for every container, first when the container starts and
then every isolator_watch_frequence seconds, until it reports a limitation
or the container is cleaned up. See ../health-watch/ for a TCP health check.

Input ($1):
  {"container_id": {"value": "<id>"},
   "container_config": ContainerConfig (added by the module)}
Output ($2): ContainerLimitation, when the container must be killed:
  {"message": "Disk usage 12 MB exceeds the 10 MB quota",
   "reason": "REASON_CONTAINER_LIMITATION_DISK",
   "resources": [{"name": "disk", "type": "SCALAR", "scalar": {"value": 12}}]}
  Mesos destroys the container and the task fails with that message and
  reason. Even "{}" kills the container.

Empty output: all is well, watch again later. A non-zero exit is logged and
watching goes on.
"""
import json
import os
import sys


def size_of(directory):
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # Removed meanwhile.
    return total


input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

config = request.get("container_config", {})
quota_mb = sum(
    r["scalar"]["value"]
    for r in config.get("resources", [])
    if r.get("name") == "disk" and r.get("type") == "SCALAR"
)
sandbox = config.get("directory", "")
if quota_mb > 0 and os.path.isdir(sandbox):
    used_mb = size_of(sandbox) / (1024 * 1024)
    if used_mb > quota_mb:
        limitation = {
            "message": f"Disk usage {used_mb:.1f} MB exceeds the {quota_mb:g} MB quota",
            "reason": "REASON_CONTAINER_LIMITATION_DISK",
            "resources": [{"name": "disk", "type": "SCALAR", "scalar": {"value": used_mb}}],
        }
        with open(output_path, "w", encoding="utf-8") as f:
            json.dump(limitation, f)
