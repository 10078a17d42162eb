#!/usr/bin/python3
"""hook_slave_attributes_decorator: advertises the kernel release.

Runs on the AGENT once, at start, before it registers with the master.

Input ($1):
  {"slave_info": SlaveInfo}  (with the attributes from --attributes)
Output ($2): Attributes, a JSON ARRAY of Attribute (TEXT, SCALAR, RANGES or
SET). It REPLACES the agent's attributes, so write the existing ones too:
  [{"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
   {"name": "kernel", "type": "TEXT", "text": {"value": "6.1.0-13-amd64"}}]

Empty output: no change. Non-zero exit: a warning, no change.
"""
import json
import platform
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

attributes = [
    a for a in request["slave_info"].get("attributes", []) if a.get("name") != "kernel"
]
attributes.append({"name": "kernel", "type": "TEXT", "text": {"value": platform.release()}})
with open(output_path, "w", encoding="utf-8") as f:
    json.dump(attributes, f)
