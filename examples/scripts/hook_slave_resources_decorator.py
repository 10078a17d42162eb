#!/usr/bin/python3
"""hook_slave_resources_decorator: advertises an extra custom resource.

Runs on the AGENT once, at start (also after a restart), before it
registers with the master.

Input ($1):
  {"slave_info": SlaveInfo}  (with the resources from --resources)
Output ($2): Resources, a JSON ARRAY of Resource. It REPLACES the agent's
resources, so this example writes the existing ones plus its own:
  [..., {"name": "example_slots", "type": "SCALAR", "scalar": {"value": 4}}]

Changing the resources of an agent that has checkpointed ones makes it fail
recovery ("Incompatible agent info"): decide them once per host.
Empty output: no change. Non-zero exit: a warning, no change.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

resources = [
    r for r in request["slave_info"].get("resources", []) if r.get("name") != "example_slots"
]
resources.append({"name": "example_slots", "type": "SCALAR", "scalar": {"value": 4}})
with open(output_path, "w", encoding="utf-8") as f:
    json.dump(resources, f)
