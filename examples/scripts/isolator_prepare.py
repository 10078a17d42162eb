#!/usr/bin/python3
"""isolator_prepare: adds environment variables to every container.

Runs on the AGENT before a container is created, once per container, on each
isolator in turn. A non-zero exit (or invalid output) FAILS THE LAUNCH: the
task gets TASK_FAILED, "Failed to launch container: <the module's message,
with the text of $3>".

Input ($1):
  {"container_id": {"value": "<id>"} (nested: with "parent"),
   "container_config": ContainerConfig}
  container_config holds executor_info, task_info (command tasks only),
  command_info, container_info, resources, directory (the sandbox), user...
  The module keeps it: every later call for this container receives it too.
Output ($2): ContainerLaunchInfo, e.g.
  {"environment": {"variables": [{"name": "A", "value": "1"}]},
   "pre_exec_commands": [{"value": "/usr/bin/true"}],
   "mounts": [{"source": "/etc/ssl/certs", "target": "/etc/ssl/certs"}]}

Never return "rootfs" or "user" (Mesos fails the launch). For a command task
(container_config has task_info) "command" may carry only "arguments": the
module refuses "command.value", "shell", "uris", "environment" or "user",
which would abort the agent.

Empty output: nothing to add.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

config = request["container_config"]
variables = [
    {"name": "CONTAINER_PREPARED_BY", "value": "example-isolator"},
    {"name": "CONTAINER_SANDBOX", "value": config["directory"]},
]
with open(output_path, "w", encoding="utf-8") as f:
    json.dump({"environment": {"variables": variables}}, f)
