//! mesos-command-modules: Mesos `Hook` and `Isolator` modules that delegate
//! every call to an external command.
//!
//! The C++ shim (`shim/`) only converts protobuf <-> JSON and forwards calls
//! through [`ffi`]; configuration, running commands, the per-method contract,
//! isolator state and watch loops all live in this crate, which also builds
//! the `mesos-command-modules` command-line tool that runs scripts exactly as
//! the agent would.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

pub mod error;
pub mod method;
pub mod schema;
