#!/usr/bin/env python3
"""The service helper of the real-agent suite's service-mode isolator.

Serves isolator_usage and isolator_watch over JSON-RPC lines (see "Service
mode" in the README); records its pid in control/service-pids beside its
own bin/ directory, so that run.py can kill it and see it come back:
  usage  {"threads": 77} for every container;
  watch  a limitation for tasks named e2e-svc-limit*, nothing otherwise.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMITATION = "e2e: limitation reported by the service helper"

with open(os.path.join(ROOT, "control", "service-pids"), "a") as f:
    f.write(f"{os.getpid()}\n")


def task_name(params):
    return params.get("container_config", {}).get("task_info", {}).get("name", "")


def result(method, params):
    if method == "initialize":
        return {}
    if method == "isolator_usage":
        return {"threads": 77}
    if method == "isolator_watch" and task_name(params).startswith("e2e-svc-limit"):
        return {"message": LIMITATION, "reason": "REASON_CONTAINER_LIMITATION"}
    return None


for line in sys.stdin:
    request = json.loads(line)
    response = {"jsonrpc": "2.0", "id": request["id"],
                "result": result(request["method"], request.get("params") or {})}
    sys.stdout.write(json.dumps(response) + "\n")
    sys.stdout.flush()
