#!/bin/sh
# isolator_update: logs a container's new resources.
#
# Runs on the AGENT when a top-level container's resources change (a task
# added to or removed from its executor).
#
# Input ($1, also on stdin):
#   {"container_id": {"value": "<id>"},
#    "resource_requests": [Resource, ...],
#    "resource_limits": {"cpus": {"value": 2.0}, "mem": {"value": "Infinity"}},
#    "container_config": ContainerConfig (added by the module)}
#   A limit of "Infinity" means unlimited.
# Output: none (not read).
#
# A non-zero exit makes Mesos DESTROY the container (its tasks end with
# REASON_CONTAINER_UPDATE_FAILED): fail only when the container really cannot
# keep running.
set -eu

echo "container $MESOS_COMMAND_CONTAINER_ID updated: $(head -c 300 "$1")"
