#!/usr/bin/python3
"""Refuses to launch privileged containers.

The privilege hook of criteo's go-mesos-executor, as a command module, for
both containerizers:

  isolator_prepare (Mesos containerizer): fails the launch when the
      container asks for a denied Linux capability (linux_info
      effective_capabilities, bounding_capabilities or the deprecated
      capability_info);
  hook_slave_pre_launch_docker_task_executor_decorator (Docker
      containerizer, whose containers never reach an isolator): fails the
      launch of a container with docker.privileged = true, or with the
      docker parameters "privileged" or "cap-add".

Both are among the few calls whose failure fails a launch: the task ends in
TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED, its message carrying the
reason written to the error file ($3). Output: none ("no change").

Input ($1):
  isolator_prepare: {"container_id": ..., "container_config": ContainerConfig}
  Docker hook:      {"task_info": ..., "executor_info": ..., "container_name": ...,
                     ...}

Configuration (the agent's environment):
  MESOS_DENY_CAPABILITIES  comma-separated capability names (Mesos spelling,
      e.g. SYS_ADMIN); default: SYS_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_PTRACE,
      SYS_BOOT, NET_ADMIN, DAC_READ_SEARCH, MAC_ADMIN, MAC_OVERRIDE
"""
import json
import os
import sys

DENIED = {
    c.strip().upper()
    for c in os.environ.get(
        "MESOS_DENY_CAPABILITIES",
        "SYS_ADMIN,SYS_MODULE,SYS_RAWIO,SYS_PTRACE,SYS_BOOT,NET_ADMIN,"
        "DAC_READ_SEARCH,MAC_ADMIN,MAC_OVERRIDE",
    ).split(",")
    if c.strip()
}


def containers(request):
    """(where, ContainerInfo) of everything the call may launch."""
    config = request.get("container_config", request)
    found = []
    if "container_info" in config:
        found.append(("container_info", config["container_info"]))
    for owner in ("task_info", "executor_info"):
        info = config.get(owner) or {}
        # The agent often copies one ContainerInfo to several places.
        if "container" in info and all(info["container"] != c for _, c in found):
            found.append((f"{owner}.container", info["container"]))
    return found


def problems(where, container):
    """Why this ContainerInfo is privileged, if it is."""
    out = []
    docker = container.get("docker", {})
    if docker.get("privileged") is True:
        out.append(f"{where}.docker.privileged is true")
    for parameter in docker.get("parameters", []):
        key = parameter.get("key", "").lstrip("-")
        value = str(parameter.get("value", "")).lower()
        if key == "privileged" and value not in ("false", "0"):
            out.append(f'{where}.docker.parameters asks for "--privileged"')
        if key == "cap-add":
            out.append(f'{where}.docker.parameters adds capability "{parameter.get("value")}"')
    linux = container.get("linux_info", {})
    for field in ("effective_capabilities", "bounding_capabilities", "capability_info"):
        asked = linux.get(field, {}).get("capabilities", [])
        denied = sorted({str(c) for c in asked} & DENIED)
        if denied:
            out.append(f"{where}.linux_info.{field} asks for {', '.join(denied)}")
    return out


def main():
    input_path, _output_path, error_path = sys.argv[1:4]
    with open(input_path, encoding="utf-8") as f:
        request = json.load(f)
    found = [p for where, container in containers(request) for p in problems(where, container)]
    if found:
        with open(error_path, "w", encoding="utf-8") as f:
            f.write(f"privileged containers are not allowed on this agent: {'; '.join(found)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
