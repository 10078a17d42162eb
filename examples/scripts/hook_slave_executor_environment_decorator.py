#!/usr/bin/python3
"""hook_slave_executor_environment_decorator: tells each executor who it is.

Runs on the AGENT before it launches an executor.

Input ($1):
  {"executor_info": ExecutorInfo}
Output ($2): Environment
  {"variables": [{"name": "EXECUTOR_FRAMEWORK_ID", "value": "..."}]}
  ("type": "VALUE" is the default; "type": "SECRET" with "secret" exists but
  the agent only uses each variable's "value".)

Configured with hook_slave_executor_environment_decorator_merge = "true":
only the variables added or changed are written. Without merge mode the
output replaces the executor's whole environment.

The variables have the LOWEST priority when the Mesos containerizer builds
the environment: a variable the framework set itself, or one an isolator's
prepare returned, wins.

Empty output: no change. Non-zero exit: a warning, no change.
"""
import json
import sys

input_path, output_path, error_path = sys.argv[1:4]
with open(input_path, encoding="utf-8") as f:
    request = json.load(f)

executor = request["executor_info"]
variables = [
    {"name": "EXECUTOR_FRAMEWORK_ID", "value": executor["framework_id"]["value"]},
    {"name": "EXECUTOR_DECORATED_BY", "value": "example-hooks"},
]
with open(output_path, "w", encoding="utf-8") as f:
    json.dump({"variables": variables}, f)
