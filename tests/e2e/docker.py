"""The suite's own Docker daemon and image, for the Docker containerizer
scenarios.

The suite never uses a Docker daemon it did not start: it starts `dockerd`
with its own data root, exec root, pid file and socket under the work
directory, makes its one image offline (`docker import` of a root file
system holding a static busybox: nothing is pulled), and stops that daemon
by its pid at the end, after removing the containers the agent left in it.
Without root, `dockerd`, a docker CLI or a static busybox, `start` returns
the reason and the Docker scenarios are skipped with it.
"""

import io
import json
import os
import shutil
import signal
import struct
import subprocess
import tarfile
import time
from pathlib import Path

IMAGE = "mcm-e2e-busybox:latest"
# Applets the tasks' shell commands use (busybox picks the applet by name).
APPLETS = ("sh", "env", "cat", "echo", "sleep", "ls", "touch", "test", "true", "false", "[")
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
PT_INTERP = 3


def has_interpreter(path):
    """Whether the 64-bit little-endian ELF file at `path` names a program
    interpreter (a PT_INTERP program header): a dynamic executable, which
    would need the host's libraries inside the image."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:6] != b"\x7fELF\x02\x01":
            return True  # not an ELF file this check can read: not usable
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == PT_INTERP
               for i in range(phnum))


def static_busybox():
    """A statically linked busybox on this host, or None."""
    for path in BUSYBOX_CANDIDATES:
        try:
            if not has_interpreter(path):
                return path
        except (OSError, struct.error):
            continue
    return None


class DockerDaemon:
    def __init__(self, root, log_path):
        self.root = Path(root)
        self.log_path = log_path
        self.socket = self.root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.cli = None
        self.proc = None

    def start(self):
        """Starts the daemon and makes the image. Returns None when ready,
        or why the Docker scenarios cannot run."""
        if os.geteuid() != 0:
            return "not root: dockerd needs root"
        dockerd = shutil.which("dockerd")
        # Debian's docker.io puts the CLI that matches its daemon in /usr/bin;
        # a newer CLI elsewhere on PATH may not speak the daemon's API.
        cli = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else shutil.which("docker")
        if dockerd is None or cli is None:
            return "no dockerd or docker CLI (apt-get install docker.io)"
        busybox = static_busybox()
        if busybox is None:
            return "no static busybox to make the image from (apt-get install busybox-static)"
        self.cli = cli
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [dockerd,
                 f"--data-root={self.root / 'data'}",
                 f"--exec-root={self.root / 'exec'}",
                 f"--pidfile={self.root / 'docker.pid'}",
                 f"-H={self.host}",
                 # No bridge, no iptables rules: nothing of the host's
                 # network changes; tasks use the host network (Mesos's
                 # default for Docker tasks).
                 "--bridge=none", "--iptables=false", "--ip-masq=false",
                 "--storage-driver=overlay2"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"dockerd exited with status {self.proc.returncode} (see {self.log_path})"
            if self.docker("version", check=False).returncode == 0:
                break
            time.sleep(0.25)
        else:
            return f"dockerd did not answer on {self.socket} within 60s (see {self.log_path})"
        self.make_image(busybox)
        return None

    def make_image(self, busybox):
        """`docker import` of a root file system of busybox and its applets."""
        archive = self.root / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            for directory in ("bin", "tmp", "etc", "mnt", "mnt/mesos"):
                info = tarfile.TarInfo(directory)
                info.type = tarfile.DIRTYPE
                info.mode = 0o1777 if directory == "tmp" else 0o755
                tar.addfile(info)
            tar.add(busybox, arcname="bin/busybox")
            for applet in APPLETS:
                info = tarfile.TarInfo(f"bin/{applet}")
                info.type = tarfile.SYMTYPE
                info.linkname = "busybox"
                tar.addfile(info)
            passwd = b"root:x:0:0:root:/:/bin/sh\n"
            info = tarfile.TarInfo("etc/passwd")
            info.size = len(passwd)
            tar.addfile(info, io.BytesIO(passwd))
        self.docker("import", str(archive), IMAGE)

    def docker(self, *args, check=True, timeout=60):
        result = subprocess.run([self.cli, "-H", self.host, *args], capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.strip()}")
        return result

    def container(self, name):
        """`docker inspect` of container `name`, or None if there is none."""
        result = self.docker("inspect", "--type=container", name, check=False)
        if result.returncode != 0:
            return None
        found = json.loads(result.stdout or "[]")
        return found[0] if found else None

    def stop(self):
        """Removes every container of this daemon (all were started by the
        agent of this suite), then stops the daemon and waits for it; kills
        it and its process group if it does not exit."""
        if self.proc is None or self.proc.poll() is not None:
            self.remove_directories()
            return
        try:
            ids = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
            if ids:
                self.docker("rm", "--force", *ids, check=False, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)
        self.remove_directories()

    def remove_directories(self):
        """Unmounts what the daemon left mounted under its root (its
        network namespace handle, overlays after a kill), then removes it."""
        mounted = []
        try:
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    point = line.split()[4].replace("\\040", " ")
                    if point == str(self.root) or point.startswith(f"{self.root}/"):
                        mounted.append(point)
        except OSError:
            pass
        for point in sorted(mounted, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
