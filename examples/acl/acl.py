#!/usr/bin/python3
"""A firewall per container: only the sources a task allows may reach it.

The ACL hook of criteo's go-mesos-executor, as a command isolator, so that
any executor gets it. A task lists the addresses allowed to connect to it in
a label:

    EXECUTOR_ALLOWED_IP = "10.0.0.1,192.168.1.0/24"

(task_info labels for a command task, the executor's labels otherwise).
At isolate, in the container's own network namespace, entered through its
init pid, the script installs a chain (default MESOS-ACL) jumped to first
from INPUT:

    -A MESOS-ACL -i lo -j ACCEPT                          loopback
    -A MESOS-ACL -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A MESOS-ACL -s 10.0.0.1/32 -j ACCEPT                  each allowed source
    -A MESOS-ACL -s 192.168.1.0/24 -j ACCEPT
    -A MESOS-ACL -s <gateway>/32 -j ACCEPT                 optional (health checks)
    -A MESOS-ACL -j DROP                                   everything else

and the same for IPv6 (with the IPv6 sources, if any): an ACL that left IPv6
open would not be one. The rules go in with one iptables-restore per family,
all or nothing.

One script, three methods (the module sets MESOS_COMMAND_METHOD):
  isolator_prepare  checks the label, so that a bad one fails the launch
                    before anything is created;
  isolator_isolate  installs the rules;
  (no cleanup)      the rules live in the container's network namespace and
                    die with it: there is nothing to remove.

It refuses to touch the agent's own network namespace: a container without
network isolation (no CNI network, no network/port_mapping) that asks for an
ACL fails to launch, instead of having its rules filter the whole host.

Configuration (the agent's environment, e.g. its systemd unit):
  MESOS_ACL_LABEL      label to read (default EXECUTOR_ALLOWED_IP)
  MESOS_ACL_CHAIN      chain name (default MESOS-ACL)
  MESOS_ACL_GATEWAY    a source always allowed, e.g. the bridge's address
                       for health checks; "auto" = the container's default
                       gateway; empty = none (default)
  MESOS_ACL_TIMEOUT    seconds for each iptables call (default 5)

Errors go to the error file ($3): the module puts them in the task's
TASK_FAILED message ("Failed to launch container: ...").
"""
import ipaddress
import json
import os
import subprocess
import sys

LABEL = os.environ.get("MESOS_ACL_LABEL", "EXECUTOR_ALLOWED_IP")
CHAIN = os.environ.get("MESOS_ACL_CHAIN", "MESOS-ACL")
GATEWAY = os.environ.get("MESOS_ACL_GATEWAY", "").strip()
TIMEOUT = float(os.environ.get("MESOS_ACL_TIMEOUT", "5"))


class Refused(Exception):
    """A reason to fail the call, for the error file."""


def label_value(config):
    """The ACL label of the container's task or, failing that, executor."""
    for owner in ("task_info", "executor_info"):
        labels = config.get(owner, {}).get("labels", {}).get("labels", [])
        for label in labels:
            if label.get("key") == LABEL:
                return label.get("value", "")
    return None


def parse_sources(text):
    """"10.0.0.1, 192.168.1.0/24" -> [IPv4Network, ...]; a bare address is /32."""
    sources = []
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            sources.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise Refused(
                f'{LABEL}: "{entry}" is not an IP address or a CIDR network '
                f'(expected a comma-separated list such as "10.0.0.1,192.168.1.0/24")'
            ) from None
    return sources


def namespace_of(pid):
    """/proc/<pid>/ns/net, refusing the namespace this script runs in."""
    path = f"/proc/{pid}/ns/net"
    try:
        target = os.stat(path)
    except OSError as e:
        raise Refused(f"cannot open the network namespace of pid {pid}: {e.strerror}") from None
    for own in ("/proc/self/ns/net", "/proc/1/ns/net"):
        try:
            mine = os.stat(own)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (target.st_dev, target.st_ino):
            raise Refused(
                f"refusing to install the {LABEL} rules: pid {pid} shares the agent's "
                f"network namespace (the container has no network isolation), and "
                f"the rules would filter the whole host"
            )
    return path


def run(namespace, argv, stdin=None):
    """Runs argv inside the network namespace."""
    try:
        return subprocess.run(
            ["nsenter", f"--net={namespace}", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise Refused("nsenter is not installed (util-linux)") from None
    except subprocess.TimeoutExpired:
        raise Refused(f"{' '.join(argv)} took more than {TIMEOUT:g}s") from None


def default_gateway(namespace, version):
    out = run(namespace, ["ip", f"-{version}", "route", "show", "default"])
    words = out.stdout.split()
    if out.returncode == 0 and "via" in words:
        return ipaddress.ip_network(words[words.index("via") + 1])
    return None


def ruleset(version, sources, gateway, jump_exists):
    """The iptables-restore input for one family."""
    lines = [
        "*filter",
        f":{CHAIN} - [0:0]",  # Creates the chain, or empties it.
        f"-A {CHAIN} -i lo -j ACCEPT",
        f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]
    for source in sources:
        if source.version == version:
            lines.append(f"-A {CHAIN} -s {source} -j ACCEPT")
    if gateway is not None and gateway.version == version:
        lines.append(f"-A {CHAIN} -s {gateway} -j ACCEPT")
    lines.append(f"-A {CHAIN} -j DROP")
    if not jump_exists:
        lines.append(f"-I INPUT 1 -j {CHAIN}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def install(namespace, sources):
    families = [(4, "iptables")]
    if os.path.exists("/proc/net/if_inet6"):
        families.append((6, "ip6tables"))
    for version, tool in families:
        if GATEWAY == "auto":
            gateway = default_gateway(namespace, version)
        elif GATEWAY:
            try:
                gateway = ipaddress.ip_network(GATEWAY, strict=False)
            except ValueError:
                raise Refused(f'MESOS_ACL_GATEWAY: "{GATEWAY}" is not an IP address') from None
        else:
            gateway = None
        check = run(namespace, [tool, "-w", "-C", "INPUT", "-j", CHAIN])
        rules = ruleset(version, sources, gateway, jump_exists=check.returncode == 0)
        out = run(namespace, [f"{tool}-restore", "-w", "--noflush"], stdin=rules)
        if out.returncode != 0:
            raise Refused(f"{tool}-restore failed: {out.stderr.strip()}")
        allowed = [str(s) for s in sources if s.version == version]
        if gateway is not None and gateway.version == version:
            allowed.append(f"{gateway} (gateway)")
        print(f"IPv{version}: only {', '.join(allowed) or 'loopback'} may connect")


def main():
    input_path, _output_path, error_path = sys.argv[1:4]
    with open(input_path, encoding="utf-8") as f:
        request = json.load(f)
    method = os.environ.get("MESOS_COMMAND_METHOD", "")
    config = request.get("container_config")
    if config is None:
        # A container the module does not know (started before it was
        # enabled): no labels to go by.
        print("no container_config: nothing to do")
        return 0
    if "parent" in request.get("container_id", {}):
        # A nested container shares its parent's network namespace, which
        # has the parent's ACL.
        return 0
    value = label_value(config)
    if not value or not value.strip():
        return 0
    try:
        sources = parse_sources(value)
        if method == "isolator_isolate":
            install(namespace_of(int(request["pid"])), sources)
    except Refused as e:
        with open(error_path, "w", encoding="utf-8") as f:
            f.write(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
