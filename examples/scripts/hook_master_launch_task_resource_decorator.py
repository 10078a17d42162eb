#!/usr/bin/python3
"""hook_master_launch_task_resource_decorator: caps every task at 4 CPUs.

Runs in the MASTER, once per task it launches, BEFORE the task is validated
against the offer: asking for more than was offered makes the task fail
with TASK_ERROR, so a decorator should only lower or rearrange resources.

Input ($1):
  {"task_info": TaskInfo, "slave_resources": [Resource, ...]}
  (slave_resources: all the agent's resources, for reference)
Output ($2): Resources, a JSON ARRAY of Resource, e.g.
  [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}},
   {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024}}]
  ({"resources": [...]} is accepted too.)

The output REPLACES the task's resources: write all of them, keeping the
other members of each one (allocation_info, reservations). This example
always writes them, changed or not; an empty output would mean "no change".
A non-zero exit: the master logs a warning and keeps the resources.
"""
import json
import sys

MAXIMUM_CPUS = 4.0

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

resources = request["task_info"].get("resources", [])
for resource in resources:
    if resource.get("name") == "cpus" and resource.get("type") == "SCALAR":
        resource["scalar"]["value"] = min(resource["scalar"]["value"], MAXIMUM_CPUS)

with open(output_path, "w", encoding="utf-8") as f:
    json.dump(resources, f)
