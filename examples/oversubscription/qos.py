#!/usr/bin/python3
"""Kills every revocable executor while the host's load is too high.

A QoS controller (com_criteo_mesos_CommandQoSController, method
qos_controller_corrections) with the policy of Mesos's own
org_apache_mesos_LoadQoSController (src/slave/qos_controllers/load.cpp): when
the 5 minute load average exceeds LOAD_THRESHOLD_5MIN, or the 15 minute one
exceeds LOAD_THRESHOLD_15MIN (strictly greater; the 1 minute load is ignored,
too noisy), every executor with any revocable allocated resource is killed.
The agent asks again --qos_correction_interval_min after each answer.

Input:  {"usage": <mesos.ResourceUsage>}
Output: [{"type": "KILL", "kill": {"framework_id": {...}, "executor_id": {...},
                                   "container_id": {...}}}, ...]
        or [] (no corrections). Mesos's controller sends no container_id; this
        one does, so that the agent never kills a new executor that reused the
        executor id of one seen in this usage.

Configuration (the agent's environment):
  LOAD_THRESHOLD_5MIN, LOAD_THRESHOLD_15MIN
      as the load_threshold_5min and load_threshold_15min parameters of Mesos's
      controller: an unset one is not checked. Mesos's controller refuses to
      load with neither; this example then takes a 5 minute threshold of
      twice the host's CPU count, so that it runs out of the box
  QOS_LOAD_AVERAGE="FIVE,FIFTEEN"
      for tests: use these load averages (e.g. "7.5,3") instead of the host's
If the host's load cannot be read, no corrections (as Mesos), and a message.
"""
import json
import math
import os
import sys


def threshold(name):
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{name}={text} is not a number")
    return value


def load_average():
    """(5 minute, 15 minute) load averages."""
    override = os.environ.get("QOS_LOAD_AVERAGE", "").strip()
    if override:
        five, fifteen = (float(x) for x in override.split(","))
        return five, fifteen
    return os.getloadavg()[1:]


def revocable_executors(usage):
    """A KILL correction for each executor with revocable allocated resources."""
    kills = []
    for executor in usage.get("executors", []):
        if not any("revocable" in r for r in executor.get("allocated", [])):
            continue
        info = executor["executor_info"]
        if "framework_id" not in info:
            # The agent would ignore the correction ("framework id not specified").
            print(f"executor {info['executor_id']['value']} has no framework_id: not killed")
            continue
        kill = {"framework_id": info["framework_id"], "executor_id": info["executor_id"]}
        if "container_id" in executor:
            kill["container_id"] = executor["container_id"]
        kills.append({"type": "KILL", "kill": kill})
    return kills


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
        limits = {"5": threshold("LOAD_THRESHOLD_5MIN"), "15": threshold("LOAD_THRESHOLD_15MIN")}
    except ValueError as e:
        return fail(f"bad configuration: {e}", error_path)
    if limits["5"] is None and limits["15"] is None:
        limits["5"] = 2.0 * (os.cpu_count() or 1)
    try:
        with open(input_path, encoding="utf-8") as f:
            document = json.load(f)
        if not isinstance(document, dict) or not isinstance(document.get("usage"), dict):
            raise ValueError('expected {"usage": {...}}')
        # Read even when the load is fine, so that a bad input shows at once.
        kills = revocable_executors(document["usage"])
    except KeyError as e:
        return fail(f"malformed input: missing member {e}", error_path)
    except (OSError, ValueError, TypeError, AttributeError) as e:
        return fail(f"malformed input: {e}", error_path)
    try:
        load = dict(zip(("5", "15"), load_average()))
    except ValueError:
        message = f'QOS_LOAD_AVERAGE="{os.environ["QOS_LOAD_AVERAGE"]}" is not "FIVE,FIFTEEN"'
        return fail(message, error_path)
    except OSError as e:
        print(f"Failed to fetch system load: {e}", file=sys.stderr)
        load = {}  # As Mesos: no corrections.
    overloaded = False
    for minutes, limit in limits.items():
        if limit is not None and minutes in load and load[minutes] > limit:
            print(  # Mesos's own log line.
                f"System {minutes} minutes load average {load[minutes]} exceeds threshold {limit}"
            )
            overloaded = True
    with open(output_path, "w", encoding="utf-8") as f:
        json.dump(kills if overloaded else [], f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
