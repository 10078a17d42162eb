#!/usr/bin/python3
"""hook_master_launch_task_label_decorator: labels every task with its framework.

Runs in the MASTER (load the hook module in the master's --modules and
--hooks), once per task it launches, before the task is sent to the agent.

Input ($1, also on stdin):
  {"task_info": TaskInfo, "framework_info": FrameworkInfo, "slave_info": SlaveInfo}
Output ($2): Labels
  {"labels": [{"key": "framework", "value": "marathon"}]}

This example is configured with
  hook_master_launch_task_label_decorator_merge = "true"
so it writes only the labels it adds or changes, and the module keeps the
task's other labels. Without merge mode the output REPLACES all of the task's
labels (and "{}" erases them).

Empty output: no change. Non-zero exit (reason in $3): the master logs a
warning and keeps the labels. The labels reach the agent only: the master's
own copy of the task keeps the original ones.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

framework = request["framework_info"].get("name", "unknown")
with open(output_path, "w", encoding="utf-8") as f:
    json.dump({"labels": [{"key": "framework", "value": framework}]}, f)
