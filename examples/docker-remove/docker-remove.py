#!/usr/bin/python3
"""Removes a Docker executor's containers as soon as the agent removes it.

The remove-container hook of criteo's go-mesos-executor, as a command hook.
The Docker containerizer keeps a stopped container for --docker_remove_delay
(6 hours by default) so that its logs can be read; on busy agents thousands
pile up. This hook removes them when the agent removes the executor.

Method: hook_slave_remove_executor_hook.
Input ($1): {"framework_info": FrameworkInfo, "executor_info": ExecutorInfo}
Output: none.

The input has no container id. The agent records the executor's latest
container (a "run") in its work directory, as a symlink to a directory named
after the container id:
  <work_dir>/slaves/<agent id>/frameworks/<framework id>/executors/
      <executor id>/runs/latest -> .../runs/<container id>
(and the same under <work_dir>/meta/ for checkpointing frameworks), where
<work_dir>/meta/slaves/latest points at the current agent id. The Docker containerizer of Mesos 1.4 and later names the containers
  mesos-<container id>            the task's or custom executor's container
  mesos-<container id>.executor   the command executor's own container, when
                                  the agent itself runs in Docker
so both names are removed (a missing one is fine).

Only executors the Docker containerizer ran (executor_info.container.type
DOCKER) are looked at. No docker CLI, no work directory entry, no such
container: nothing to do, the hook succeeds. Anything else (the Docker
daemon down...) exits 1: the agent logs a warning, nothing else happens.

The agent waits for this hook (it holds the Slave actor and the hook lock),
so each docker call gets at most MESOS_DOCKER_REMOVE_TIMEOUT seconds
(default 5); keep hook_slave_remove_executor_hook_timeout above twice that.

Configuration (the agent's environment):
  MESOS_WORK_DIR                the agent's --work_dir (default /var/lib/mesos;
                                it is already set if the agent is configured
                                through MESOS_* variables)
  MESOS_DOCKER                  the docker CLI (default: docker, from PATH)
  MESOS_DOCKER_REMOVE_TIMEOUT   seconds per docker call (default 5)
"""
import json
import os
import shutil
import subprocess
import sys

WORK_DIR = os.environ.get("MESOS_WORK_DIR") or "/var/lib/mesos"
DOCKER = os.environ.get("MESOS_DOCKER", "docker")
TIMEOUT = float(os.environ.get("MESOS_DOCKER_REMOVE_TIMEOUT", "5"))


def container_id(framework_id, executor_id):
    """The id of the executor's latest container, from the agent's work dir."""
    run = os.path.join("frameworks", framework_id, "executors", executor_id, "runs", "latest")
    meta_agent = os.path.join(WORK_DIR, "meta", "slaves", "latest")
    candidates = [os.path.join(meta_agent, run)]
    try:
        agent_id = os.path.basename(os.readlink(meta_agent))
        candidates.append(os.path.join(WORK_DIR, "slaves", agent_id, run))
    except OSError:
        pass
    for latest in candidates:
        try:
            return os.path.basename(os.readlink(latest).rstrip("/"))
        except OSError:
            continue
    return None


def main():
    input_path, _output_path, error_path = sys.argv[1:4]
    with open(input_path, encoding="utf-8") as f:
        request = json.load(f)
    executor = request["executor_info"]
    executor_id = executor["executor_id"]["value"]
    if executor.get("container", {}).get("type") != "DOCKER":
        return 0  # Not a Docker containerizer executor.
    framework_id = (executor.get("framework_id") or request["framework_info"].get("id", {})).get(
        "value", ""
    )
    if shutil.which(DOCKER) is None:
        print(f"{DOCKER} is not installed: no container to remove for executor {executor_id}")
        return 0
    container = container_id(framework_id, executor_id)
    if container is None:
        print(f"executor {executor_id}: no latest run under {WORK_DIR}: nothing to remove")
        return 0

    problems = []
    for name in (f"mesos-{container}", f"mesos-{container}.executor"):
        try:
            out = subprocess.run(
                [DOCKER, "rm", "--force", name],
                capture_output=True, text=True, timeout=TIMEOUT, check=False,
            )
        except subprocess.TimeoutExpired:
            problems.append(f"docker rm --force {name} took more than {TIMEOUT:g}s")
            continue
        if out.returncode == 0:
            print(f"removed Docker container {name} (executor {executor_id})")
        elif "no such container" not in out.stderr.lower():
            problems.append(f"docker rm --force {name}: {out.stderr.strip()}")
    if problems:
        with open(error_path, "w", encoding="utf-8") as f:
            f.write("; ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
