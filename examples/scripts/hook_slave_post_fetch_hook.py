#!/usr/bin/python3
"""hook_slave_post_fetch_hook: logs what the fetcher put in the sandbox.

Runs on the AGENT after the fetcher downloaded a container's URIs, just
before the container's command starts.

Input ($1):
  {"container_id": {"value": "<id>"} (nested: with "parent"),
   "directory": "<the container's sandbox>"}
Output: none (not read).

The container id is also in the environment: MESOS_COMMAND_CONTAINER_ID
("<parent>.<child>" for a nested container). What the script prints goes to
the agent log. A non-zero exit is only logged.
"""
import json
import os
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

directory = request["directory"]
container = os.environ.get("MESOS_COMMAND_CONTAINER_ID", "?")
try:
    entries = sorted(os.listdir(directory))
except OSError as e:
    entries = [f"(cannot list: {e.strerror})"]
print(f"container {container}: sandbox {directory} holds {', '.join(entries) or 'nothing'}")
