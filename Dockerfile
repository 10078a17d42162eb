# Builds and tests libmesos_command_modules.so against a Mesos 1.11.0 that
# the base image already provides, built: this file never builds or vendors
# Mesos. Two stages: the Rust toolchain comes from RUST_IMAGE (the official
# `rust` image by default, or any image laid out like it), the build runs on
# MESOS_IMAGE with that toolchain copied in.
#
#   docker build --build-arg MESOS_IMAGE=<image with a Mesos 1.11.0 build> \
#     -t mesos-command-modules .
#
# Without access to Docker Hub or to the toolchain downloads, make both images
# from this machine (scripts/make-mesos-image, scripts/make-rust-image; README,
# "Installing") and pass them:
#
#   docker build --network=host \
#     --build-arg MESOS_IMAGE=local/mesos:1.11.0-bookworm \
#     --build-arg RUST_IMAGE=local/rust:1.95.0-bookworm \
#     -t mesos-command-modules .
#
# (--network=host only where the daemon's default network cannot reach
# crates.io: the crates are fetched by cargo, as Cargo.lock pins them.)
#
# The Mesos image must hold the Mesos source tree and its build tree (by
# default /src/mesos and /src/mesos/build, as the original module's build
# image had them and scripts/make-mesos-image lays them out; override with
# --build-arg MESOS_ROOT_DIR=... and MESOS_BUILD_DIR=...), or an installed
# Mesos with its mesos.pc (then pass --build-arg MESOS_ROOT_DIR=
# --build-arg MESOS_BUILD_DIR=), and a C++ compiler. The module is built with
# the compiler and the protobuf of that image, so it matches the agent built
# there.
#
# The result is /src/mesos-command-modules/build/libmesos_command_modules.so;
# scripts/build_and_upload_module.sh copies it out and installs it on an
# agent.

# The toolchain image: the official one of the crate's minimum supported Rust
# version (Cargo.toml `rust-version`) by default. Only its RUSTUP_HOME
# (/usr/local/rustup) and CARGO_HOME (/usr/local/cargo) are used.
ARG RUST_IMAGE=rust:1.85-bookworm
ARG MESOS_IMAGE

FROM ${RUST_IMAGE} AS rust

FROM ${MESOS_IMAGE}

ARG MESOS_ROOT_DIR=/src/mesos
ARG MESOS_BUILD_DIR=/src/mesos/build

ENV MESOS_ROOT_DIR=${MESOS_ROOT_DIR} \
    MESOS_BUILD_DIR=${MESOS_BUILD_DIR} \
    RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:${PATH}

# Build tools: cmake (3.18 or later; from PyPI when the distribution's is
# older), pkg-config, a C++ compiler and CA certificates (for cargo), from the
# image's package manager unless the image has them all already.
RUN set -eux; \
    cmake_ok() { cmake --version 2>/dev/null | awk 'NR == 1 { \
        split($3, v, "."); ok = v[1] > 3 || (v[1] == 3 && v[2] >= 18) } \
        END { exit !ok }'; }; \
    if cmake_ok && command -v pkg-config >/dev/null \
        && command -v c++ >/dev/null \
        && { [ -e /etc/ssl/certs/ca-certificates.crt ] \
             || [ -e /etc/pki/tls/certs/ca-bundle.crt ]; }; then \
      echo "build tools: already in the image"; \
    elif command -v apt-get >/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates cmake g++ pkg-config python3-pip; \
      rm -rf /var/lib/apt/lists/*; \
    elif command -v dnf >/dev/null; then \
      dnf install -y ca-certificates cmake gcc-c++ pkgconfig python3-pip; \
    elif command -v yum >/dev/null; then \
      yum install -y epel-release || true; \
      yum install -y ca-certificates cmake3 gcc-c++ pkgconfig python3-pip; \
      if command -v cmake3 >/dev/null; then \
        ln -sf "$(command -v cmake3)" /usr/local/bin/cmake; \
        ln -sf "$(command -v ctest3)" /usr/local/bin/ctest; \
      fi; \
    fi; \
    if ! cmake_ok; then \
      python3 -m pip install 'cmake>=3.18'; \
    fi; \
    cmake --version

# The Rust toolchain of the first stage: rustup, its proxies and the
# toolchains, where the official image has them.
COPY --from=rust /usr/local/rustup /usr/local/rustup
COPY --from=rust /usr/local/cargo /usr/local/cargo
RUN set -eux; \
    rustup --version; \
    cargo --version; \
    rustc --version

WORKDIR /src/mesos-command-modules
COPY . .

# Configure, build (cargo + shim + link) and run the tests: the bridge host
# and the module symbol test (nm + dlopen of the 22 module names).
RUN set -eux; \
    rm -rf build target; \
    JOBS="$(nproc)" scripts/test-bridge build; \
    test -f build/libmesos_command_modules.so

CMD ["sh", "-c", "cd build && ctest --output-on-failure"]
