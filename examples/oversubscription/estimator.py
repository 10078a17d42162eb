#!/usr/bin/python3
"""Offers part of the CPU and memory that tasks were given but do not use.

A resource estimator (com_criteo_mesos_CommandResourceEstimator, method
resource_estimator_oversubscribable). Every --oversubscribed_resources_interval
the agent passes its current usage,

    {"usage": <mesos.ResourceUsage>}

and the script writes the revocable resources the agent may offer now:

    [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.35}, "revocable": {}}, ...]

or [] (nothing to offer). Each answer replaces the previous one.

Policy, from the non-revocable resources allocated to each executor:
  unused cpus = allocated cpus - (user + system cpu seconds) / seconds, between
                this call's statistics and the previous call's (kept in a state
                file); an executor with no previous sample yet counts as using
                all its cpus
  unused mem  = allocated mem - mem_total_bytes (the cgroup's charge, page
                cache included), or mem_rss_bytes when the isolator gives no
                total (posix/mem)
  An executor without statistics counts as using everything.
  offer = FRACTION x unused - the revocable resources already allocated (the
          agent adds those to the answer itself, Slave::_forwardOversubscribed),
          rounded down (cpus to 0.01, mem to 1 MiB); zero entries are left out.

Configuration (the agent's environment):
  OVERSUBSCRIPTION_FRACTION   part of the unused resources to offer, 0 to 1 (0.5)
  OVERSUBSCRIPTION_RESOURCES  which to offer: "cpus,mem" (default), "cpus", "mem"
  OVERSUBSCRIPTION_STATE_DIR  where the previous cpu samples are kept, in
                              <MESOS_COMMAND_MODULE>.json (default: a private
                              directory mesos-command-modules-oversubscription
                              under $TMPDIR or /tmp)
"""
import json
import math
import os
import stat
import sys
import tempfile

MIB = 1024 * 1024
STATE_DIR = os.environ.get("OVERSUBSCRIPTION_STATE_DIR") or os.path.join(
    tempfile.gettempdir(), "mesos-command-modules-oversubscription"
)
STATE_FILE = os.path.join(
    STATE_DIR, os.environ.get("MESOS_COMMAND_MODULE", "estimator") + ".json"
)


def number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: {value!r} is not a number")
    return float(value)


def scalars(resources, revocable):
    """cpus and mem of a Resource array, counting only revocable or only non-revocable ones."""
    found = {"cpus": 0.0, "mem": 0.0}
    for r in resources:
        if r["name"] in found and r["type"] == "SCALAR" and ("revocable" in r) == revocable:
            found[r["name"]] += number(r["scalar"]["value"], r["name"])
    return found


def container(container_id):
    """"parent.child" for a nested id, as MESOS_COMMAND_CONTAINER_ID."""
    parent = container_id.get("parent")
    return (container(parent) + "." if parent else "") + container_id["value"]


def read_samples():
    """{container: [timestamp, cpu seconds]} of the previous call; {} if none or unreadable."""
    try:
        with open(STATE_FILE, encoding="utf-8") as f:
            samples = json.load(f)
        return {
            k: v for k, v in samples.items()
            if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)
        }
    except (OSError, ValueError, AttributeError):
        return {}  # First call, or a damaged file: no rates this time.


def write_samples(samples):
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    # The default directory is under a shared /tmp: use it only if it is ours.
    st = os.lstat(STATE_DIR)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise OSError(f"{STATE_DIR} is not a directory of ours that only we can write")
    fd, temp = tempfile.mkstemp(dir=STATE_DIR, prefix=".samples.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(samples, f)
    os.replace(temp, STATE_FILE)  # Never a half-written file.


def estimate(usage, fraction, names, previous):
    """(the offer as a Resource array, the samples to keep for the next call)."""
    unused = {"cpus": 0.0, "mem": 0.0}
    revocable = {"cpus": 0.0, "mem": 0.0}
    samples = {}
    for executor in usage.get("executors", []):
        allocated = executor.get("allocated", [])
        own = scalars(allocated, revocable=False)
        for name, value in scalars(allocated, revocable=True).items():
            revocable[name] += value
        stats = executor.get("statistics")
        if stats is None:
            continue  # The containerizer could not tell: count it as fully used.
        key = container(executor["container_id"])
        now = number(stats["timestamp"], "timestamp")
        if "cpus_user_time_secs" in stats and "cpus_system_time_secs" in stats:
            cpu = number(stats["cpus_user_time_secs"], "cpus_user_time_secs") + number(
                stats["cpus_system_time_secs"], "cpus_system_time_secs"
            )
            samples[key] = [now, cpu]
            before = previous.get(key)
            # A rate needs an older sample; counters going back mean a reset: wait for the next one.
            if before and now > before[0] and cpu >= before[1]:
                used = (cpu - before[1]) / (now - before[0])
                unused["cpus"] += max(0.0, own["cpus"] - used)
        mem = stats.get("mem_total_bytes", stats.get("mem_rss_bytes"))
        if mem is not None:
            unused["mem"] += max(0.0, own["mem"] - number(mem, "mem") / MIB)
    offer = []
    for name, scale in (("cpus", 100), ("mem", 1)):  # cpus to 0.01, mem to 1 MiB.
        if name not in names:
            continue
        value = math.floor((fraction * unused[name] - revocable[name]) * scale + 1e-6) / scale
        if value > 0:
            value = int(value) if scale == 1 else value
            offer.append(
                {"name": name, "type": "SCALAR", "scalar": {"value": value}, "revocable": {}}
            )
    print(
        f"unused cpus {unused['cpus']:.2f} mem {unused['mem']:.0f} MiB, x {fraction}, "
        f"minus allocated revocable cpus {revocable['cpus']:.2f} mem {revocable['mem']:.0f} MiB: "
        f"offering {json.dumps({r['name']: r['scalar']['value'] for r in offer})}"
    )
    return offer, samples


def settings():
    """(OVERSUBSCRIPTION_FRACTION, the set of OVERSUBSCRIPTION_RESOURCES)."""
    text = os.environ.get("OVERSUBSCRIPTION_FRACTION", "0.5")
    try:
        fraction = float(text)
    except ValueError:
        fraction = math.nan
    if not 0 <= fraction <= 1:
        raise ValueError(f"OVERSUBSCRIPTION_FRACTION={text} is not a number from 0 to 1")
    text = os.environ.get("OVERSUBSCRIPTION_RESOURCES", "cpus,mem")
    names = {name.strip() for name in text.split(",")}
    if not names <= {"cpus", "mem"}:
        raise ValueError(f'OVERSUBSCRIPTION_RESOURCES={text}: "cpus", "mem" or "cpus,mem"')
    return fraction, names


def fail(message, error_path):
    print(message, file=sys.stderr)
    if error_path:  # The module appends it to its error message.
        with open(error_path, "w", encoding="utf-8") as f:
            f.write(message)
    return 1


def main():
    if len(sys.argv) < 3:
        return fail(f"usage: {sys.argv[0]} INPUT OUTPUT [ERROR]", None)
    input_path, output_path = sys.argv[1:3]
    error_path = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        fraction, names = settings()
    except ValueError as e:
        return fail(f"bad configuration: {e}", error_path)
    try:
        with open(input_path, encoding="utf-8") as f:
            document = json.load(f)
        if not isinstance(document, dict) or not isinstance(document.get("usage"), dict):
            raise ValueError('expected {"usage": {...}}')
        offer, samples = estimate(document["usage"], fraction, names, read_samples())
    except KeyError as e:
        return fail(f"malformed input: missing member {e}", error_path)
    except (OSError, ValueError, TypeError, AttributeError) as e:
        return fail(f"malformed input: {e}", error_path)
    try:
        write_samples(samples)
    except OSError as e:
        # The estimate stands; the next one will offer no cpus again.
        print(f"cannot keep the cpu samples in {STATE_FILE}: {e}", file=sys.stderr)
    with open(output_path, "w", encoding="utf-8") as f:
        json.dump(offer, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
