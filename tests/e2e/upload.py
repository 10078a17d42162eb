#!/usr/bin/env python3
"""scripts/build_and_upload_module.sh run for real, against this machine.

Starts an SSH server on 127.0.0.1 (Debian's openssh-server, with its own
host key, configuration, port and a key pair made for the run), a
mesos-master and a mesos-agent as the real-agent suite does (run.py), then
runs the upload script with `root@127.0.0.1`: it builds the module with
`docker build` on MESOS_IMAGE (and RUST_IMAGE), copies the library over
SSH into the run's modules directory, and runs the restart command given
in MESOS_AGENT_RESTART_COMMAND, which asks this test to restart its agent
on the uploaded library. Then the restarted agent must have mapped the
uploaded file, and the suite's `hooks` and `isolator-lifecycle` scenarios
must pass on it. Before the build, the script must fail in one line on an
unreachable host (a closed port).

Needs root, sshd and ssh-keygen (openssh-server), ssh and scp, a Docker
daemon that holds MESOS_IMAGE and RUST_IMAGE (DOCKER_HOST names it;
scripts/make-mesos-image and scripts/make-rust-image make them), and what
run.py needs (MESOS_BUILD_DIR, a built module for the first agent). Without
one of these it prints one "upload: skipped: ..." line and exits 0.

Usage: MESOS_IMAGE=... RUST_IMAGE=... DOCKER_HOST=... MESOS_BUILD_DIR=...
       MESOS_COMMAND_MODULES_LIB=... tests/e2e/upload.py [--keep]
Environment: DOCKER_BUILD_ARGS (passed on; default "--network=host", for a
daemon whose default network cannot reach crates.io).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the suite's cluster, processes and scenarios)

SCRIPT = run.REPO / "scripts" / "build_and_upload_module.sh"
LIBRARY = "libmesos_command_modules.so"
BUILD_TIMEOUT = 3600  # seconds: a cold build fetches and compiles every crate


class SshServer:
    """sshd on a free loopback port, for root with a key made here."""

    def __init__(self, root):
        self.root = Path(root)
        self.port = run.free_port()
        self.proc = None

    def start(self, procs):
        self.root.mkdir(parents=True, exist_ok=True)
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"upload-{key}",
                            "-f", str(self.root / key)], check=True)
        (self.root / "authorized_keys").write_text((self.root / "client_key.pub").read_text())
        (self.root / "authorized_keys").chmod(0o600)
        config = self.root / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.root / 'host_key'}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            f"PidFile {self.root / 'sshd.pid'}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            # The key and its directory are in a temporary directory.
            "StrictModes no",
            "Subsystem sftp internal-sftp",
        ]) + "\n")
        # sshd's privilege separation directory, as the Debian unit makes it.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        self.proc = procs.start([sshd, "-D", "-e", "-f", str(config)],
                                self.root / "sshd.log")
        run.wait_for("sshd to listen", self.listening, 30)

    def listening(self):
        if self.proc.poll() is not None:
            raise run.Failure(f"sshd exited: {run.tail(self.root / 'sshd.log')}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def options(self, port=None):
        return " ".join([
            f"-o Port={port or self.port}",
            f"-i {self.root / 'client_key'}",
            "-o IdentitiesOnly=yes",
            f"-o UserKnownHostsFile={self.root / 'known_hosts'}",
            "-o StrictHostKeyChecking=accept-new",
        ])


def missing_requirements():
    if os.geteuid() != 0:
        return "not root (sshd and the agent need it)"
    for tool in ("ssh", "scp", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"no {tool} (apt-get install openssh-client openssh-server)"
    if shutil.which("sshd") is None and not os.access("/usr/sbin/sshd", os.X_OK):
        return "no sshd (apt-get install openssh-server)"
    if not os.environ.get("MESOS_IMAGE"):
        return "MESOS_IMAGE is not set (scripts/make-mesos-image makes one)"
    docker = shutil.which("docker")
    if docker is None:
        return "no docker CLI"
    probe = subprocess.run([docker, "image", "inspect", os.environ["MESOS_IMAGE"]],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return (f"the Docker daemon ({os.environ.get('DOCKER_HOST', 'the default')}) has no "
                f"image {os.environ['MESOS_IMAGE']}: {probe.stderr.strip()}")
    return None


def restart_command(root):
    """The command the script runs over SSH to restart the agent: it asks
    this test (a request file), then waits for its answer."""
    path = root / "bin" / "restart-agent"
    path.write_text(f"""#!/bin/sh
touch {root}/control/restart-request
i=0
while [ ! -e {root}/control/restart-done ] && [ $i -lt 900 ]; do sleep 0.2; i=$((i+1)); done
[ -e {root}/control/restart-done ] && exit "$(cat {root}/control/restart-done)"
echo "the test did not restart the agent within 180s" >&2
exit 1
""")
    path.chmod(0o755)
    return str(path)


def serve_restart(c, uploaded, stop):
    """Waits for the restart request, then restarts the agent on the
    uploaded library (SIGTERM, as systemd stops it) and answers 0, or 1
    with the reason in the agent's log."""
    request = c.root / "control" / "restart-request"
    while not stop.is_set():
        if request.exists():
            status = "0"
            try:
                c.library = str(uploaded)
                c.write_modules()
                run.Processes.kill(c.agent, signal.SIGTERM)
                run.wait_for("the master to see the agent go",
                             lambda: not c.master_sees_agent(), 60)
                c.start_agent()
            except Exception as e:  # reported to the script, then to the test
                run.log(f"    restart failed: {e}")
                status = "1"
            (c.root / "control" / "restart-done").write_text(status)
            return
        time.sleep(0.2)


def upload(c, ssh, port=None, timeout=BUILD_TIMEOUT):
    env = run.child_environment({
        "MESOS_IMAGE": os.environ["MESOS_IMAGE"],
        "SSH_OPTIONS": ssh.options(port),
        "MESOS_MODULES_DIR": str(c.root / "modules"),
        "MESOS_AGENT_RESTART_COMMAND": restart_command(c.root),
        "DOCKER_BUILD_ARGS": os.environ.get("DOCKER_BUILD_ARGS", "--network=host"),
    })
    for key in ("RUST_IMAGE", "DOCKER_HOST"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    with open(c.root / "logs" / "upload.log", "ab") as out:
        started = time.monotonic()
        result = subprocess.run(["sh", str(SCRIPT), "root@127.0.0.1"], env=env,
                                stdout=out, stderr=subprocess.PIPE, timeout=timeout)
    stderr = result.stderr.decode(errors="replace")
    with open(c.root / "logs" / "upload.log", "a") as out:
        out.write(stderr)
    return result.returncode, stderr, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    mesos, reason = run.find_mesos()
    library, reason2 = run.find_module()
    reason = reason or reason2 or missing_requirements()
    if reason:
        print(f"upload: skipped: {reason}")
        return 0

    root = Path(tempfile.mkdtemp(prefix="mcm-upload-"))
    c = run.Cluster(root, mesos, library)
    ssh = SshServer(root / "ssh")
    stop = threading.Event()
    failed = None
    try:
        ssh.start(c.procs)
        c.start_master()
        c.start_agent()
        run.log(f"upload: sshd on 127.0.0.1:{ssh.port}, agent {c.agent.pid}, work directory {root}")

        status, stderr, took = upload(c, ssh, port=run.free_port(), timeout=120)
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        run.check(status != 0 and "cannot reach root@127.0.0.1 over ssh" in last
                  and len(stderr.strip().splitlines()) == 1,
                  f"an unreachable host gave status {status} and stderr {stderr!r}")
        run.log(f"ok      unreachable host ({took:.1f}s): {last}")

        waiter = threading.Thread(target=serve_restart,
                                  args=(c, root / "modules" / LIBRARY, stop), daemon=True)
        waiter.start()
        status, stderr, took = upload(c, ssh)
        run.check(status == 0, f"the upload script failed ({status}): {stderr.strip()[-2000:]}"
                  f"\n(see {root / 'logs' / 'upload.log'})")
        run.log(f"ok      build, upload and restart ({took:.0f}s)")
        waiter.join(timeout=10)
        uploaded = str(root / "modules" / LIBRARY)
        maps = Path(f"/proc/{c.agent.pid}/maps").read_text()
        run.check(uploaded in maps, f"the restarted agent has not mapped {uploaded}")
        for name, fn in run.SCENARIOS:
            if name in ("hooks", "isolator-lifecycle"):
                started = time.monotonic()
                fn(c)
                run.log(f"ok      {name} on the uploaded module ({time.monotonic() - started:.1f}s)")
    except (run.Failure, subprocess.TimeoutExpired, OSError) as e:
        failed = str(e)
        run.log(f"FAILED  upload: {e}")
    finally:
        stop.set()
        c.stop()
    if failed or args.keep:
        run.log(f"upload: logs kept in {root} (logs/, ssh/)")
    else:
        shutil.rmtree(root, ignore_errors=True)
    print(f"upload: {'failed' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
