#!/usr/bin/python3
"""hook_slave_task_status_decorator: stamps status updates with a label.

Runs on the AGENT for every status update it handles.

Input ($1):
  {"framework_id": {"value": "..."}, "status": TaskStatus}
Output ($2): TaskStatus, of which Mesos uses ONLY "labels" and
"container_status":
  {"labels": {"labels": [{"key": "seen-by", "value": "example-hooks"}]}}
The module fills in the required "task_id" and "state" from the input, so
the script need not repeat them.

"labels" REPLACES the status's labels (there is no merge mode for this
hook): this example keeps the existing ones and adds its own.

Empty output: no change. Non-zero exit: a warning, no change.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

status = request["status"]
labels = [
    label
    for label in status.get("labels", {}).get("labels", [])
    if label.get("key") != "seen-by"
]
labels.append({"key": "seen-by", "value": "example-hooks"})
with open(output_path, "w", encoding="utf-8") as f:
    json.dump({"labels": {"labels": labels}}, f)
