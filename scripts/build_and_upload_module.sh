#!/bin/sh
# Builds libmesos_command_modules.so through Docker (see Dockerfile), copies
# it to an agent host, installs it there and restarts the agent.
#
# Usage: scripts/build_and_upload_module.sh user@host
# Environment:
#   MESOS_IMAGE          an image holding a built Mesos 1.11.0 (required)
#   MESOS_MODULES_DIR    where the library goes on the host
#                        (default: /usr/lib/mesos/modules)
#   MESOS_AGENT_SERVICE  the systemd unit to restart (default: mesos-agent if
#                        the host has it, mesos-slave otherwise)
#   DOCKER_BUILD_ARGS    extra arguments for `docker build`, e.g.
#                        "--build-arg MESOS_BUILD_DIR=/opt/mesos/build"

set -eu

usage() {
  echo "usage: ${0##*/} user@host" >&2
}

if [ "$#" -ne 1 ]; then
  usage
  exit 1
fi

server=$1
: "${MESOS_IMAGE:?set MESOS_IMAGE to an image that holds a built Mesos 1.11.0}"
modules_dir=${MESOS_MODULES_DIR:-/usr/lib/mesos/modules}
service=${MESOS_AGENT_SERVICE:-}
library=libmesos_command_modules.so
image=mesos-command-modules

cd "$(dirname "$0")/.."

set -x

# shellcheck disable=SC2086
docker build --build-arg "MESOS_IMAGE=$MESOS_IMAGE" ${DOCKER_BUILD_ARGS:-} \
  -t "$image" .

out=$(mktemp -d "${TMPDIR:-/tmp}/mesos-command-modules.XXXXXX")
container=$(docker create "$image")
trap 'docker rm -f "$container" >/dev/null; rm -rf "$out"' EXIT
docker cp "$container:/src/mesos-command-modules/build/$library" "$out/$library"

scp "$out/$library" "$server:$library"
ssh "$server" "sudo install -D -m 0644 '$library' '$modules_dir/$library' && rm -f '$library'"

if [ -z "$service" ]; then
  if ssh "$server" systemctl cat mesos-agent.service >/dev/null 2>&1; then
    service=mesos-agent
  else
    service=mesos-slave
  fi
fi
ssh "$server" "sudo systemctl restart '$service'"
