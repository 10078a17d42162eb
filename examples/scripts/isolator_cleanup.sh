#!/bin/sh
# isolator_cleanup: forgets a container (removes isolator_isolate.py's file).
#
# Runs on the AGENT when a container is destroyed, on each isolator in
# reverse order, nested containers before their parent. It may come for a
# container this isolator never prepared (a failed launch): succeed anyway.
#
# Input ($1): {"container_id": {"value": "<id>"},
#              "container_config": ContainerConfig (added by the module)}
# The container id is also in $MESOS_COMMAND_CONTAINER_ID ("parent.child"
# when nested), which is all this script needs.
# Output: none.
#
# A non-zero exit FAILS THE CONTAINER'S TERMINATION: Mesos keeps the
# container in its books for ever. Fail only if the host is left in a state
# that needs a human. The module forgets the container either way.
set -eu

if [ -n "${MESOS_COMMAND_EXAMPLES_STATE:-}" ]; then
  base=$MESOS_COMMAND_EXAMPLES_STATE
elif [ "$(id -u)" -eq 0 ]; then
  base=/run/mesos-command-modules/examples
else
  base=$HOME/.cache/mesos-command-modules/examples
fi
rm -f "$base/${MESOS_COMMAND_MODULE:-example}/$MESOS_COMMAND_CONTAINER_ID.pid"
