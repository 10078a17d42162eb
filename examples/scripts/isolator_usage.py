#!/usr/bin/python3
"""isolator_usage: reports the disk space the sandbox uses.

Runs on the AGENT whenever someone asks for a container's statistics
(/monitor/statistics, /containers, the resource estimator), often: keep it
cheap.

Input ($1):
  {"container_id": {"value": "<id>"},
   "container_config": ContainerConfig (added by the module)}
Output ($2): ResourceStatistics, e.g.
  {"disk_used_bytes": 1048576, "disk_limit_bytes": 10485760}
  "timestamp" is required by Mesos; the module adds the current time when
  the script leaves it out. Mesos overwrites the cpus/mem limits itself.

Usage never fails: on an empty output, a non-zero exit or a timeout the
module answers statistics holding only the timestamp (and logs why).
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
                pass
    return total


input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

config = request.get("container_config", {})
sandbox = config.get("directory", "")
statistics = {}
if os.path.isdir(sandbox):
    statistics["disk_used_bytes"] = size_of(sandbox)
disk_mb = sum(
    r["scalar"]["value"]
    for r in config.get("resources", [])
    if r.get("name") == "disk" and r.get("type") == "SCALAR"
)
if disk_mb > 0:
    statistics["disk_limit_bytes"] = int(disk_mb * 1024 * 1024)

with open(output_path, "w", encoding="utf-8") as f:
    json.dump(statistics, f)
