#!/usr/bin/python3
"""A service helper: answers isolator_usage, isolator_watch and
isolator_status for every container, in one long-lived process.

The module starts it when it loads and sends it one JSON-RPC 2.0 request
per line on its standard input; it answers one response per line on its
standard output (see "Service mode" in the top-level README):

  -> {"jsonrpc":"2.0","id":0,"method":"initialize","params":{"module":"disk-service",...}}
  <- {"jsonrpc":"2.0","id":0,"result":{}}
  -> {"jsonrpc":"2.0","id":1,"method":"isolator_usage","params":{"container_id":...,"container_config":...}}
  <- {"jsonrpc":"2.0","id":1,"result":{"disk_used_bytes":4096}}

`params` is the input document a script reads from its input file; `result`
is what a script writes to its output file (null: nothing). An error
response is a failed command. Whatever it prints on stderr reaches the
agent's log. It ends at the end of its standard input.

What it does, per container, from the ContainerConfig the module adds:
  usage   the bytes the sandbox uses, and the disk limit it was given;
  watch   a limitation once the sandbox uses more than its disk resource
          (REASON_CONTAINER_LIMITATION_DISK); nothing otherwise;
  status  nothing (an empty ContainerStatus): this helper owns no network.
Python's standard library only.
"""
import json
import os
import sys


def size_of(directory):
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def disk_limit_bytes(config):
    """The disk resource of the container's task or executor, in bytes."""
    for holder in ("task_info", "executor_info"):
        for resource in config.get(holder, {}).get("resources", []):
            if resource.get("name") == "disk":
                return int(resource.get("scalar", {}).get("value", 0) * 1024 * 1024)
    return None


def usage(params):
    config = params.get("container_config", {})
    directory = config.get("directory")
    statistics = {}
    if directory and os.path.isdir(directory):
        statistics["disk_used_bytes"] = size_of(directory)
    limit = disk_limit_bytes(config)
    if limit:
        statistics["disk_limit_bytes"] = limit
    return statistics or None


def watch(params):
    config = params.get("container_config", {})
    directory, limit = config.get("directory"), disk_limit_bytes(config)
    if not directory or not limit or not os.path.isdir(directory):
        return None
    used = size_of(directory)
    if used <= limit:
        return None
    return {
        "message": f"the sandbox uses {used} bytes, more than its {limit} bytes of disk",
        "reason": "REASON_CONTAINER_LIMITATION_DISK",
    }


def status(_params):
    return None


METHODS = {"isolator_usage": usage, "isolator_watch": watch, "isolator_status": status}


def answer(request):
    method, params = request.get("method"), request.get("params") or {}
    if method == "initialize":
        print(f"serving {', '.join(params.get('methods', []))} for "
              f"{params.get('module')}", file=sys.stderr, flush=True)
        return {"result": {}}
    handler = METHODS.get(method)
    if handler is None:
        return {"error": {"code": -32601, "message": f"{method} is not served here"}}
    try:
        return {"result": handler(params)}
    except Exception as e:  # One bad request must not end the helper.
        return {"error": {"code": -32000, "message": f"{type(e).__name__}: {e}"}}


for line in sys.stdin:
    if not line.strip():
        continue
    request = json.loads(line)
    response = {"jsonrpc": "2.0", "id": request.get("id")}
    response.update(answer(request))
    sys.stdout.write(json.dumps(response) + "\n")
    sys.stdout.flush()
