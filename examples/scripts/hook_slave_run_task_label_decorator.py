#!/usr/bin/python3
"""hook_slave_run_task_label_decorator: labels every task with the agent's host.

Runs on the AGENT, once per task (each task of a task group), before the
task is launched. The agent blocks while it runs: keep it fast.

Input ($1):
  {"task_info": TaskInfo, "executor_info": ExecutorInfo,
   "framework_info": FrameworkInfo, "slave_info": SlaveInfo}
Output ($2): Labels
  {"labels": [{"key": "agent", "value": "agent-1.example.com"}]}

Configured with hook_slave_run_task_label_decorator_merge = "true": only the
labels added or changed are written; a label with the key of an existing one
replaces it. Without merge mode the output replaces all the task's labels.

Empty output: no change. Non-zero exit: the agent logs a warning and keeps
the labels. The result is what the task, its container (the isolators'
container_config.task_info) and its status updates carry.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

hostname = request["slave_info"]["hostname"]
with open(output_path, "w", encoding="utf-8") as f:
    json.dump({"labels": [{"key": "agent", "value": hostname}]}, f)
