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

pub mod config;
pub mod error;
pub mod ffi;
pub mod input;
pub mod interpret;
pub mod limit;
pub mod logging;
pub mod manifest;
pub mod method;
pub mod metrics;
pub mod module;
mod panic;
pub mod runner;
pub mod runtime;
pub mod schema;
pub mod service;
pub mod simulate;
pub mod state;

pub use error::{CallError, ErrorKind};
pub use method::{Method, ModuleKind};
pub use module::{Answer, Module, Outcome, StateMode};
