//! Compiles the C++ half of the bridge that does not need Mesos.
//!
//! The Mesos shim itself (shim/hook.cpp, shim/isolator.cpp, ...) is compiled
//! and linked into libmesos_command_modules.so by CMakeLists.txt, against the
//! Rust staticlib this crate produces: a Rust cdylib would not export the
//! module symbols defined in C++ (shared/STYLE.md lesson 11).

fn main() {
    cxx_build::bridge("src/ffi.rs")
        .file("shim/bridge.cpp")
        .std("c++14")
        .flag_if_supported("-Wall")
        .flag_if_supported("-Wextra")
        .compile("mesos_command_modules_bridge");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=shim/bridge.h");
    println!("cargo:rerun-if-changed=shim/bridge.cpp");
}
