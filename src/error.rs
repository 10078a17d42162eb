//! The error vocabulary shared by every layer.
//!
//! A [`CallError`] carries a stable [`ErrorKind`] and a human message. The
//! kind drives metrics and the shim's mapping to Mesos types; the message is
//! what operators read in the agent log, so it always names the command, the
//! file or the field at fault.

use std::fmt;

/// Why a call did not produce an answer.
///
/// The numeric values cross the C++ bridge and appear in logs of tools that
/// parse them: never renumber a kind, only add new ones at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorKind {
    /// The module's parameters are invalid.
    Configuration = 1,
    /// The command could not be started.
    Spawn = 2,
    /// The command ran past its timeout and was killed.
    Timeout = 3,
    /// The command exited with a non-zero status.
    ExitStatus = 4,
    /// The command was killed by a signal it did not receive from us.
    Signal = 5,
    /// The command's output is not what the method expects.
    BadOutput = 6,
    /// A temp file or another local file operation failed.
    Io = 7,
    /// The isolator's checkpointed state could not be read or written.
    State = 8,
    /// A bug in the module (a caught panic, a broken invariant).
    Internal = 9,
    /// The input handed over by Mesos is not what the method expects.
    BadInput = 10,
}

impl ErrorKind {
    /// Every kind, in numeric order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Configuration,
        ErrorKind::Spawn,
        ErrorKind::Timeout,
        ErrorKind::ExitStatus,
        ErrorKind::Signal,
        ErrorKind::BadOutput,
        ErrorKind::Io,
        ErrorKind::State,
        ErrorKind::Internal,
        ErrorKind::BadInput,
    ];

    /// A short snake_case name, used as a metric and log label.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Configuration => "configuration",
            ErrorKind::Spawn => "spawn",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ExitStatus => "exit_status",
            ErrorKind::Signal => "signal",
            ErrorKind::BadOutput => "bad_output",
            ErrorKind::Io => "io",
            ErrorKind::State => "state",
            ErrorKind::Internal => "internal",
            ErrorKind::BadInput => "bad_input",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: what kind of failure, and the message for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CallError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CallError {
            kind,
            message: message.into(),
        }
    }

    /// Prefixes the message with context, keeping the kind.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CallError {}
