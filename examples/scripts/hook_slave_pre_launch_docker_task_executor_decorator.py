#!/usr/bin/python3
"""hook_slave_pre_launch_docker_task_executor_decorator: Docker environment.

Runs on the AGENT, only for the DOCKER containerizer, before it starts a
Docker executor or task. It is the only hook that can fail a launch: a
non-zero exit (or invalid output) fails it with TASK_FAILED.

Input ($1):
  {"task_info": TaskInfo (absent for custom executors),
   "executor_info": ExecutorInfo,
   "container_name": "mesos-<container id>",
   "container_work_directory": "/var/lib/mesos/slaves/.../runs/<id>",
   "mapped_sandbox_directory": "/mnt/mesos/sandbox",
   "env": {"NAME": "value", ...} (may be absent)}
Output ($2): DockerTaskExecutorPrepareInfo. The member names are camelCase,
exactly as below ("executor_environment" would be ignored):
  {"executorEnvironment": {"variables": [{"name": "A", "value": "1"}]},
   "taskEnvironment": {"variables": [{"name": "B", "value": "2"}]}}

Empty output: nothing added.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

name = request["container_name"]
answer = {
    "executorEnvironment": {"variables": [{"name": "DOCKER_CONTAINER_NAME", "value": name}]},
    "taskEnvironment": {
        "variables": [
            {"name": "DOCKER_CONTAINER_NAME", "value": name},
            {"name": "SANDBOX", "value": request["mapped_sandbox_directory"]},
        ]
    },
}
with open(output_path, "w", encoding="utf-8") as f:
    json.dump(answer, f)
