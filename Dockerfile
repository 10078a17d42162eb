# Builds and tests libmesos_command_modules.so against a Mesos 1.11.0 that
# the base image already provides, built: this file never builds or vendors
# Mesos.
#
#   docker build --build-arg MESOS_IMAGE=<image with a Mesos 1.11.0 build> \
#     -t mesos-command-modules .
#
# The base image must hold the Mesos source tree and its build tree (by
# default /src/mesos and /src/mesos/build, as the original module's build
# image had them; override with --build-arg MESOS_ROOT_DIR=... and
# MESOS_BUILD_DIR=...), or an installed Mesos with its mesos.pc (then pass
# --build-arg MESOS_ROOT_DIR= --build-arg MESOS_BUILD_DIR=), and a C++
# compiler. The module is built with the compiler and the protobuf of that
# image, so it matches the agent built there.
#
# The result is /src/mesos-command-modules/build/libmesos_command_modules.so;
# scripts/build_and_upload_module.sh copies it out and installs it on an
# agent.

ARG MESOS_IMAGE
FROM ${MESOS_IMAGE}

ARG MESOS_ROOT_DIR=/src/mesos
ARG MESOS_BUILD_DIR=/src/mesos/build
# The crate's minimum supported Rust version (Cargo.toml `rust-version`).
ARG RUST_VERSION=1.85.0

ENV MESOS_ROOT_DIR=${MESOS_ROOT_DIR} \
    MESOS_BUILD_DIR=${MESOS_BUILD_DIR} \
    PATH=/root/.cargo/bin:${PATH}

# Build tools from the image's package manager: cmake (3.18 or later; from
# PyPI when the distribution's is older), pkg-config, curl.
RUN set -eux; \
    if command -v apt-get >/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates cmake curl pkg-config python3-pip; \
      rm -rf /var/lib/apt/lists/*; \
    elif command -v dnf >/dev/null; then \
      dnf install -y cmake curl pkgconfig python3-pip; \
    elif command -v yum >/dev/null; then \
      yum install -y epel-release || true; \
      yum install -y cmake3 curl pkgconfig python3-pip; \
      if command -v cmake3 >/dev/null; then \
        ln -sf "$(command -v cmake3)" /usr/local/bin/cmake; \
        ln -sf "$(command -v ctest3)" /usr/local/bin/ctest; \
      fi; \
    fi; \
    if ! cmake --version | awk 'NR == 1 { split($3, v, "."); \
        exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 18)) }'; then \
      python3 -m pip install 'cmake>=3.18'; \
    fi; \
    cmake --version

# The Rust toolchain: rustup's minimal profile, pinned to RUST_VERSION. The
# crates the build needs are fetched by cargo from crates.io, as Cargo.lock
# pins them; nothing is vendored.
RUN set -eux; \
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --profile minimal --default-toolchain "${RUST_VERSION}"; \
    cargo --version

WORKDIR /src/mesos-command-modules
COPY . .

# Configure, build (cargo + shim + link) and run the tests: the bridge host
# and the module symbol test (nm + dlopen of the 22 module names).
RUN set -eux; \
    rm -rf build target; \
    JOBS="$(nproc)" scripts/test-bridge build; \
    test -f build/libmesos_command_modules.so

CMD ["sh", "-c", "cd build && ctest --output-on-failure"]
