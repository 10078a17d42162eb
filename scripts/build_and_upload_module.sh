#!/bin/sh
# Builds libmesos_command_modules.so through Docker (see Dockerfile), copies
# it to an agent host over SSH, installs it there and restarts the agent: the
# way to try a change of the module on a real agent.
#
# Usage: scripts/build_and_upload_module.sh user@host
# Environment:
#   MESOS_IMAGE          an image holding a built Mesos 1.11.0 (required;
#                        scripts/make-mesos-image makes one)
#   RUST_IMAGE           the Rust toolchain image (default: the Dockerfile's,
#                        the official `rust` image; scripts/make-rust-image
#                        makes a local one)
#   DOCKER_BUILD_ARGS    extra arguments for `docker build`, e.g.
#                        "--network=host" or
#                        "--build-arg MESOS_BUILD_DIR=/opt/mesos/build"
#   SSH_OPTIONS          extra options for ssh and scp, e.g.
#                        "-o Port=2222 -i ~/.ssh/agents"
#   MESOS_MODULES_DIR    where the library goes on the host
#                        (default: /usr/lib/mesos/modules)
#   MESOS_AGENT_SERVICE  the systemd unit to restart (default: mesos-agent if
#                        the host has it, mesos-slave otherwise)
#   MESOS_AGENT_RESTART_COMMAND
#                        the shell command run on the host to restart the
#                        agent instead (default: systemctl restart of the
#                        unit above, through sudo unless the user is root)
#
# The host is checked first, so that an unreachable host fails in seconds,
# not after the build. Every failure ends with one line on stderr saying
# what failed, and a non-zero exit status.

set -eu

prog=${0##*/}

die() {
  echo "$prog: $*" >&2
  exit 1
}

# Progress goes to stdout, so that a failure's stderr ends with its one line.
step() {
  echo "$prog: $*"
}

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  die "usage: $prog user@host (the agent host to install the module on)"
fi
server=$1
if [ -z "${MESOS_IMAGE:-}" ]; then
  die "MESOS_IMAGE is not set: set it to an image that holds a built Mesos 1.11.0 (scripts/make-mesos-image makes one)"
fi
modules_dir=${MESOS_MODULES_DIR:-/usr/lib/mesos/modules}
library=libmesos_command_modules.so
image=mesos-command-modules
# SSH_OPTIONS and DOCKER_BUILD_ARGS are lists of words: split on purpose.
ssh_options=${SSH_OPTIONS:-}

cd "$(dirname "$0")/.."

# Commands run on the host start with this: sudo unless the user is root
# (expanded there, hence the single quotes).
# shellcheck disable=SC2016
as_root='s=; [ "$(id -u)" -eq 0 ] || s=sudo;'

step "checking that $server answers over ssh"
# shellcheck disable=SC2086
if ! reply=$(ssh $ssh_options -o BatchMode=yes -o ConnectTimeout=10 "$server" true 2>&1); then
  die "cannot reach $server over ssh: $(printf '%s\n' "$reply" | grep . | tail -n 1)"
fi

step "building the module in Docker on $MESOS_IMAGE"
# shellcheck disable=SC2086
if ! docker build --build-arg "MESOS_IMAGE=$MESOS_IMAGE" \
    ${RUST_IMAGE:+--build-arg "RUST_IMAGE=$RUST_IMAGE"} \
    ${DOCKER_BUILD_ARGS:-} -t "$image" .; then
  die "docker build failed (its output is above)"
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/mesos-command-modules.XXXXXX")
container=
cleanup() {
  if [ -n "$container" ]; then
    docker rm -f "$container" >/dev/null 2>&1 || true
  fi
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
container=$(docker create "$image") || die "docker create $image failed"
docker cp "$container:/src/mesos-command-modules/build/$library" "$out/$library" \
  || die "the image $image holds no /src/mesos-command-modules/build/$library"

step "installing $library in $modules_dir on $server"
# shellcheck disable=SC2086
scp $ssh_options -q "$out/$library" "$server:$library" \
  || die "copying $library to $server failed"
# The remote commands are expanded here on purpose, quoted for the host.
# shellcheck disable=SC2086,SC2029
ssh $ssh_options "$server" "$as_root \$s install -D -m 0644 '$library' '$modules_dir/$library' && rm -f '$library'" \
  || die "installing $library in $modules_dir on $server failed"

restart=${MESOS_AGENT_RESTART_COMMAND:-}
if [ -z "$restart" ]; then
  service=${MESOS_AGENT_SERVICE:-}
  if [ -z "$service" ]; then
    # shellcheck disable=SC2086
    if ssh $ssh_options "$server" systemctl cat mesos-agent.service >/dev/null 2>&1; then
      service=mesos-agent
    else
      service=mesos-slave
    fi
  fi
  restart="$as_root \$s systemctl restart '$service'"
fi
step "restarting the agent on $server"
# shellcheck disable=SC2086,SC2029
ssh $ssh_options "$server" "$restart" || die "restarting the agent on $server failed: $restart"
step "done: $server runs $modules_dir/$library"
