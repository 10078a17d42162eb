#!/usr/bin/python3
"""hook_slave_remove_executor_hook: logs every executor the agent removes.

Runs on the AGENT when it removes an executor (all its tasks are terminal and
the executor has exited). See ../docker-remove/ for a real use: removing the
executor's Docker container at once.

Input ($1):
  {"framework_info": FrameworkInfo, "executor_info": ExecutorInfo}
Output: none (not read). A non-zero exit is only logged.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

executor = request["executor_info"]["executor_id"]["value"]
framework = request["framework_info"].get("name", "?")
print(f"executor {executor} of framework {framework} removed")
