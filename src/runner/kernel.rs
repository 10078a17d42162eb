//! What the running kernel offers the runner, asked once, and what is lost
//! on kernels that lack it.
//!
//! * `pidfd_open` (Linux 5.3): a command's exit arrives as readiness of its
//!   pidfd, and a process of a command's cgroup is signalled through a
//!   pidfd opened before checking that it is a member, so that the check
//!   and the signal are about the same process. Without it the exit is
//!   polled every 5 ms, and such a process is signalled by pid after the
//!   check: a pid recycled between the two (microseconds) could be hit.
//!   The command itself and its process group are always signalled safely:
//!   the command is not reaped before its group's last signal, so its pid
//!   cannot be recycled meanwhile.
//! * `close_range` (Linux 5.9): a command closes every descriptor it
//!   inherited from the agent in one call. Without it the command closes,
//!   one by one, what its own `/proc/self/fd` lists (see `spawn.rs`):
//!   a little more work per call, nothing leaked.
//! * `clone3` with `CLONE_INTO_CGROUP` (Linux 5.7): with a cgroup v2
//!   `command_cgroup`, a command is created inside its cgroup. Without it
//!   the command's child writes itself into the cgroup's `cgroup.procs`
//!   before `execve`, which takes the kernel's process-wide lock on
//!   cgroup moves (an RCU grace period, during which every fork of the
//!   agent waits).

use std::sync::OnceLock;

/// The kernel features the runner uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// `pidfd_open` and `pidfd_send_signal` (Linux 5.3).
    pub pidfd: bool,
    /// `close_range` (Linux 5.9).
    pub close_range: bool,
    /// `clone3` with `CLONE_INTO_CGROUP` (Linux 5.7), on an architecture
    /// where the runner uses it (x86-64, AArch64).
    pub clone_into_cgroup: bool,
}

/// This kernel's features, asked once.
pub fn features() -> Features {
    static FEATURES: OnceLock<Features> = OnceLock::new();
    *FEATURES.get_or_init(|| Features {
        pidfd: pidfd_works(),
        close_range: close_range_works(),
        clone_into_cgroup: super::spawn::clone_into_cgroup_works(),
    })
}

impl Features {
    /// One line for the log at load saying what this kernel loses, or
    /// `None` when it has everything.
    pub fn losses(&self) -> Option<String> {
        let mut lost = Vec::new();
        if !self.pidfd {
            lost.push(
                "no pidfd_open (Linux 5.3): commands' exits are polled every 5 ms, and a \
                 process of a command's cgroup is signalled by pid after checking that it is a \
                 member, so a pid recycled between the check and the signal could be hit",
            );
        }
        if !self.close_range {
            lost.push(
                "no close_range (Linux 5.9): each command closes the descriptors it inherited \
                 one by one, as its own /proc/self/fd lists them (more work per call, nothing \
                 leaked)",
            );
        }
        if !self.clone_into_cgroup {
            lost.push(
                "no clone3 with CLONE_INTO_CGROUP (Linux 5.7): with a cgroup v2 \
                 command_cgroup, each command moves itself into its cgroup before execve, which \
                 holds the agent's forks for an RCU grace period",
            );
        }
        (!lost.is_empty()).then(|| format!("this kernel has {}", lost.join("; and ")))
    }
}

fn pidfd_works() -> bool {
    use rustix::process::{getpid, pidfd_open, PidfdFlags};
    pidfd_open(getpid(), PidfdFlags::empty()).is_ok()
}

fn close_range_works() -> bool {
    // SAFETY: closes nothing: no descriptor has the number u32::MAX.
    unsafe { libc::syscall(libc::SYS_close_range, u32::MAX, u32::MAX, 0u32) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel_has_both_and_loses_nothing() {
        let here = features();
        assert_eq!(
            here,
            Features {
                pidfd: true,
                close_range: true,
                clone_into_cgroup: true,
            }
        );
        assert_eq!(here.losses(), None);
    }

    #[test]
    fn an_older_kernel_is_told_in_one_line() {
        let before_5_9 = Features {
            pidfd: true,
            close_range: false,
            clone_into_cgroup: true,
        };
        let line = before_5_9.losses().unwrap();
        assert!(
            line.starts_with("this kernel has no close_range (Linux 5.9)"),
            "{line}"
        );
        assert!(!line.contains('\n'));
        let before_5_3 = Features {
            pidfd: false,
            close_range: false,
            clone_into_cgroup: false,
        };
        let line = before_5_3.losses().unwrap();
        assert!(line.contains("no pidfd_open (Linux 5.3)"), "{line}");
        assert!(line.contains("; and no close_range (Linux 5.9)"), "{line}");
        assert!(
            line.contains("; and no clone3 with CLONE_INTO_CGROUP (Linux 5.7)"),
            "{line}"
        );
    }
}
