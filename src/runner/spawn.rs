//! Spawning a command without `fork()`, with nothing of the agent's but its
//! environment.
//!
//! The child is created as glibc's `posix_spawn` creates it, with
//! `clone(CLONE_VM)`: it shares the agent's memory until `execve`, so
//! nothing is copied, whatever the agent's size. In that child, on a stack
//! of its own, it gets every signal at its default disposition and an empty
//! signal mask (libprocess ignores SIGPIPE in the agent), joins its cgroup
//! (cgroup v1: by writing itself into the cgroup's `tasks`, which the
//! parent keeps open), leads its own process group, gets its standard streams, and loses every
//! other descriptor of the agent (glog's log files, opened without
//! `O_CLOEXEC`, for one), as libprocess's own `subprocess`, which the
//! original module used, does.
//!
//! Unlike `posix_spawn`, the spawning thread does not wait for the child
//! to reach `execve` (no `CLONE_VFORK`, on x86-64 and AArch64): on a busy
//! host a new process may wait milliseconds for a CPU, and a thread that
//! waits with it (the agent's actor calling `usage` for every container)
//! serializes every spawn behind the scheduler. So what the child reads
//! ([`Launch`]) is owned by the command's process handle until it is
//! reaped, the child reports a failure there (read once it has exited),
//! its stack goes back to a pool only once the kernel has cleared the
//! stack's in-use word (`CLONE_CHILD_CLEARTID`, done at `execve` or exit),
//! and whoever signals the command's group first makes the child its
//! leader (`Process::signal_group`), in case the child has not yet.
//!
//! Why not `posix_spawn` itself: it maps a new stack for each child and
//! unmaps it after, and unmapping memory of a process whose threads run on
//! other CPUs makes the kernel interrupt each of them to flush their TLBs.
//! On a virtual machine that interrupt is the most expensive step of the
//! whole call (a quarter of the module's CPU per call, measured by
//! `scripts/bench`). Here stacks are kept and reused.
//!
//! In a cgroup v2 hierarchy the child is created inside its cgroup by
//! `clone3` with `CLONE_INTO_CGROUP` (Linux 5.7): there is no move at all,
//! and no instant at which the command runs outside. `clone3` has no
//! function argument (the child returns from the system call on its new
//! stack), so a few instructions of assembly per architecture call
//! [`run_child`] there; elsewhere, and on older kernels, the child writes
//! itself into the cgroup's `cgroup.procs` as it does into `tasks` on v1.
//!
//! The child runs on memory it shares with the agent, while the agent's
//! threads run: it makes raw system calls only (not even `errno`, which
//! is the spawning thread's), takes no lock, allocates nothing and runs no
//! code that could panic.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

/// A spawned command: its pid, the read ends of its stdout and stderr
/// (non-blocking), and what its child read until `execve`.
#[derive(Debug)]
pub struct Spawned {
    pub pid: libc::pid_t,
    /// The child's pidfd, made by the `clone` itself where the kernel can
    /// (`CLONE_PIDFD`, Linux 5.2): one system call less per command than
    /// `pidfd_open` after it.
    pub pidfd: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub launch: Launch,
}

/// What the child reads until `execve` and where it reports a failure.
/// Keep it until the child has exited (or called `execve`): the child may
/// still be reading it after [`spawn`] has returned.
pub struct Launch(Box<Child>);

// SAFETY: the raw pointers in `Child` point into storage the `Child` owns
// (or into `environ`'s strings, never freed), which nothing mutates after
// `spawn`; the reports are atomics.
unsafe impl Send for Launch {}
// SAFETY: as above; shared access only reads or uses the atomics.
unsafe impl Sync for Launch {}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launch")
            .field("error", &self.0.error)
            .field("placement_error", &self.0.placement_error)
            .finish()
    }
}

impl Launch {
    /// Why the command could not be run (its child then exited with 127
    /// before `execve` succeeded). Meaningful once it has exited.
    pub fn failure(&self) -> Option<io::Error> {
        errno_error(self.0.error.load(Ordering::Acquire))
    }

    /// Why the command could not join its cgroup (it then ran outside, in
    /// the spawning process's own). Meaningful once it has called `execve`
    /// or exited (at once when `clone3` could not create it inside).
    pub fn placement_failure(&self) -> Option<io::Error> {
        errno_error(self.0.placement_error.load(Ordering::Acquire))
    }
}

fn errno_error(errno: i32) -> Option<io::Error> {
    (errno != 0).then(|| io::Error::from_raw_os_error(errno))
}

/// Where the child goes before its first instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Nowhere: it stays in the spawning process's cgroups.
    Stay,
    /// The child writes `0` ("the writer") to this descriptor, the `tasks`
    /// file of a cgroup v1 cgroup (or the `cgroup.procs` of a v2 one where
    /// `clone3` cannot place it), opened for writing by the caller and
    /// open until `spawn` returns.
    Write(RawFd),
    /// `clone3` creates the child inside the cgroup v2 directory open as
    /// this descriptor (`CLONE_INTO_CGROUP`).
    Into(RawFd),
}

/// Spawns `program` with `args` (after `argv[0]`, the program itself),
/// `stdin` as its standard input, piped stdout and stderr, and the current
/// environment with `env` set, placed as `placement` says before anything
/// else.
///
/// An error here means no process was created. A command that cannot be
/// executed (removed since the configuration was checked, say) exits with
/// 127 and says why in [`Launch::failure`]; one that could not be placed
/// runs all the same and says why in [`Launch::placement_failure`].
pub fn spawn(
    program: &Path,
    args: &[&Path],
    stdin: &File,
    env: &[(&str, &str)],
    placement: Placement,
) -> io::Result<Spawned> {
    let program = c_string(program.as_os_str())?;
    let mut argv_owned = vec![program.clone()];
    for arg in args {
        argv_owned.push(c_string(arg.as_os_str())?);
    }
    let mut added = Vec::with_capacity(env.len());
    let envp = environment(env, &mut added)?;
    let argv = null_terminated(&argv_owned);

    // `stdin` is the caller's; a duplicate only if it is numbered 0 to 2.
    let stdin_duplicate = match stdin.as_raw_fd() {
        fd if fd > 2 => None,
        _ => Some(duplicate_above_stdio(stdin.as_fd())?),
    };
    let stdin = stdin_duplicate
        .as_ref()
        .map_or(stdin.as_raw_fd(), AsRawFd::as_raw_fd);
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;

    let child = Box::new(Child {
        program: program.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        stdio: [stdin, stdout_write.as_raw_fd(), stderr_write.as_raw_fd()],
        scan_descriptors: !close_range_works() || FORCE_DESCRIPTOR_SCAN.load(Ordering::Relaxed),
        join: match placement {
            Placement::Write(fd) => fd,
            Placement::Stay | Placement::Into(_) => -1,
        },
        error: AtomicI32::new(0),
        placement_error: AtomicI32::new(0),
        _storage: Storage {
            _program: program,
            _argv: (argv_owned, argv),
            _env: (added, envp),
        },
    });
    let (pid, pidfd) = match placement {
        Placement::Into(cgroup) => match clone_child(&child, Some(cgroup)) {
            Ok(spawned) => spawned,
            Err(e) => {
                // The cgroup cannot take it (removed, no permission, a
                // controller enabled below it): the command runs all the
                // same, contained by its process group, and the caller
                // says so, as for a child that cannot write itself in.
                child
                    .placement_error
                    .store(e.raw_os_error().unwrap_or(libc::EIO), Ordering::Release);
                clone_child(&child, None)?
            }
        },
        Placement::Stay | Placement::Write(_) => clone_child(&child, None)?,
    };
    // The child has its own copies of the descriptors (no CLONE_FILES):
    // the write ends and `stdin_duplicate` close here.
    Ok(Spawned {
        pid,
        pidfd,
        stdout: stdout_read,
        stderr: stderr_read,
        launch: Launch(child),
    })
}

/// Whether the spawning thread waits until the child has called `execve`
/// (`CLONE_VFORK`). Only where the child's raw system calls are written
/// for the architecture can it run alongside the agent's threads; anywhere
/// else it uses libc's wrappers, which write the spawning thread's `errno`,
/// and that thread must then be suspended.
const WAITS_FOR_EXEC: bool = !cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// What the child needs, prepared by the parent: the child only reads it,
/// but for the two error slots.
struct Child {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    /// The descriptors to make its standard input, output and error.
    stdio: [RawFd; 3],
    /// Whether to close descriptors one by one, as the child finds them
    /// in its own table, rather than with `close_range` (missing before
    /// Linux 5.9).
    scan_descriptors: bool,
    /// The descriptor to write `0` to, joining a cgroup, or -1.
    join: RawFd,
    /// The errno of the step that failed, if the command could not be run.
    error: AtomicI32,
    /// The errno of the failed attempt to join the cgroup, if any.
    placement_error: AtomicI32,
    /// What the pointers above point into.
    _storage: Storage,
}

struct Storage {
    _program: CString,
    _argv: (Vec<CString>, Vec<*const libc::c_char>),
    _env: (Vec<CString>, Vec<*const libc::c_char>),
}

/// Creates the child on a pooled stack, with every signal blocked in the
/// spawning thread (a handler of the agent must never run in the child, on
/// memory it shares with the agent), and restores the thread's mask after.
/// With `cgroup`, a cgroup v2 directory, the child is created inside it by
/// `clone3`. Returns its pid, and its pidfd where `CLONE_PIDFD` works.
fn clone_child(child: &Child, cgroup: Option<RawFd>) -> io::Result<(libc::pid_t, Option<OwnedFd>)> {
    let with_pidfd = CLONE_PIDFD_WORKS.load(Ordering::Relaxed);
    match clone_child_once(child, cgroup, with_pidfd) {
        // A kernel before 5.2 refuses the flag; it is not asked again.
        Err(e) if with_pidfd && e.raw_os_error() == Some(libc::EINVAL) => {
            let spawned = clone_child_once(child, cgroup, false)?;
            CLONE_PIDFD_WORKS.store(false, Ordering::Relaxed);
            Ok(spawned)
        }
        spawned => spawned,
    }
}

/// Whether `clone` takes `CLONE_PIDFD`, until it has refused it once.
static CLONE_PIDFD_WORKS: AtomicBool = AtomicBool::new(true);

fn clone_child_once(
    child: &Child,
    cgroup: Option<RawFd>,
    with_pidfd: bool,
) -> io::Result<(libc::pid_t, Option<OwnedFd>)> {
    // Written by the kernel, in the parent only, when CLONE_PIDFD is given.
    let mut pidfd: libc::c_int = -1;
    let pidfd_flag = if with_pidfd { libc::CLONE_PIDFD } else { 0 };
    let stack = ChildStack::take()?;
    stack.in_use().store(1, Ordering::Relaxed);
    // SAFETY: an all-zero sigset_t is a valid, empty, set (filled below).
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above (written by rt_sigprocmask below).
    let mut previous: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset_t storage; the raw system call also blocks the
    // signals glibc reserves for itself, as posix_spawn does.
    unsafe {
        libc::sigfillset(&mut all);
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            &all,
            &mut previous,
            SIGSET_BYTES,
        );
    }
    let vfork = if WAITS_FOR_EXEC { libc::CLONE_VFORK } else { 0 };
    // SAFETY: the stack is ours until the kernel clears its in-use word
    // (at the child's execve or exit: CLONE_CHILD_CLEARTID); `child`
    // outlives the child's use of it (see `Launch`); `run_child` only makes
    // system calls.
    let argument = child as *const Child as *mut libc::c_void;
    let (pid, clone_error) = match cgroup {
        None => {
            // SAFETY: as above.
            let pid = unsafe {
                libc::clone(
                    run_child,
                    stack.top(),
                    libc::CLONE_VM
                        | libc::CLONE_CHILD_CLEARTID
                        | pidfd_flag
                        | vfork
                        | libc::SIGCHLD,
                    argument,
                    // With CLONE_PIDFD, where the pidfd goes.
                    &mut pidfd,
                    std::ptr::null_mut::<libc::c_void>(),
                    stack.in_use().as_ptr().cast::<libc::pid_t>(),
                )
            };
            (pid, io::Error::last_os_error())
        }
        Some(cgroup) => {
            let args = CloneArgs {
                flags: (libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID | pidfd_flag | vfork) as u64
                    | CLONE_INTO_CGROUP,
                pidfd: std::ptr::addr_of_mut!(pidfd) as u64,
                child_tid: stack.in_use().as_ptr() as u64,
                exit_signal: libc::SIGCHLD as u64,
                stack: stack.usable_base() as u64,
                stack_size: stack.usable_len() as u64,
                cgroup: cgroup as u64,
                ..CloneArgs::default()
            };
            // SAFETY: as above; `args` names the pooled stack, and the
            // child runs `run_child(argument)` on it, then exits.
            let r = unsafe { clone3(&args, run_child, argument) };
            if r < 0 {
                (-1, io::Error::from_raw_os_error(errno_of(r)))
            } else {
                (r as libc::pid_t, io::Error::from_raw_os_error(0))
            }
        }
    };
    // SAFETY: restores the mask saved above.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &previous,
            std::ptr::null_mut::<libc::sigset_t>(),
            SIGSET_BYTES,
        );
    }
    if pid < 0 {
        // No child: the stack was never used.
        stack.in_use().store(0, Ordering::Relaxed);
        stack.give_back();
        return Err(clone_error);
    }
    stack.give_back();
    // SAFETY: with CLONE_PIDFD the kernel wrote a new descriptor, ours alone.
    let pidfd = (with_pidfd && pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    Ok((pid, pidfd))
}

/// `struct clone_args` of `clone3`, up to `cgroup` (`CLONE_ARGS_SIZE_VER2`,
/// Linux 5.7).
#[repr(C)]
#[derive(Debug, Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `clone3`'s flag: create the child in the cgroup v2 directory
/// `CloneArgs::cgroup` names.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `clone3`, with the child calling `entry(argument)` on the stack `args`
/// names and exiting with what it returns: the system call itself returns
/// in the child on that stack, where no Rust frame exists, so the child's
/// side is written here in assembly. Returns the child's pid or `-errno`.
///
/// # Safety
/// As for `clone(CLONE_VM)`: the stack must stay the child's until the
/// kernel clears `args.child_tid`, `argument` must outlive the child's use
/// of it, and `entry` may only make system calls.
#[cfg(target_arch = "x86_64")]
unsafe fn clone3(
    args: &CloneArgs,
    entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    argument: *mut libc::c_void,
) -> isize {
    let result: isize;
    // SAFETY: the x86-64 system call convention. The parent only sees the
    // system call (rax, rcx and r11 change); the child, whose registers are
    // the parent's but rax (0) and rsp (the new stack's top, 16-byte
    // aligned), clears the frame pointer, calls `entry(argument)` from r12
    // and r13 (which the kernel copied) and exits with its result, never
    // coming back here.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r13",
            "call r12",
            "mov edi, eax",
            "mov eax, {exit}",
            "syscall",
            "ud2",
            "2:",
            exit = const libc::SYS_exit,
            inlateout("rax") libc::SYS_clone3 as isize => result,
            in("rdi") args as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") entry,
            in("r13") argument,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    result
}

/// See the x86-64 version.
///
/// # Safety
/// As for the x86-64 version.
#[cfg(target_arch = "aarch64")]
unsafe fn clone3(
    args: &CloneArgs,
    entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    argument: *mut libc::c_void,
) -> isize {
    let result: isize;
    // SAFETY: the AArch64 system call convention; the child (x0 = 0, sp the
    // new stack's 16-byte aligned top) clears the frame pointer, calls
    // `entry(argument)` from x20 and x21 and exits with its result.
    unsafe {
        std::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x29, xzr",
            "mov x0, x21",
            "blr x20",
            "mov x8, #{exit}",
            "svc 0",
            "brk 0",
            "2:",
            exit = const libc::SYS_exit,
            in("x8") libc::SYS_clone3,
            inlateout("x0") args as *const CloneArgs as isize => result,
            in("x1") std::mem::size_of::<CloneArgs>(),
            in("x20") entry,
            in("x21") argument,
            lateout("x30") _,
        );
    }
    result
}

/// Elsewhere no assembly is written: `clone3` is not used (see
/// [`clone_into_cgroup_works`]).
///
/// # Safety
/// Nothing to uphold (no system call is made); `unsafe` as its x86-64
/// and AArch64 versions.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn clone3(
    _args: &CloneArgs,
    _entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    _argument: *mut libc::c_void,
) -> isize {
    -(libc::ENOSYS as isize)
}

/// Whether `clone3` can create a child inside a cgroup v2 cgroup here
/// (Linux 5.7, and an architecture whose side of [`clone3`] is written).
/// Asked with a descriptor that is not a cgroup: a kernel that knows
/// `CLONE_INTO_CGROUP` refuses it with `EBADF` before creating anything;
/// one that does not refuses the flag (`EINVAL`) or `clone3` (`ENOSYS`).
pub fn clone_into_cgroup_works() -> bool {
    if cfg!(not(any(target_arch = "x86_64", target_arch = "aarch64"))) {
        return false;
    }
    let Ok(not_a_cgroup) = File::open("/") else {
        return false;
    };
    let Ok(stack) = ChildStack::take() else {
        return false;
    };
    stack.in_use().store(1, Ordering::Relaxed);
    let args = CloneArgs {
        flags: (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_CHILD_CLEARTID) as u64
            | CLONE_INTO_CGROUP,
        child_tid: stack.in_use().as_ptr() as u64,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.usable_base() as u64,
        stack_size: stack.usable_len() as u64,
        cgroup: not_a_cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    extern "C" fn exit_at_once(_: *mut libc::c_void) -> libc::c_int {
        0
    }
    // SAFETY: the pooled stack is the child's, should one be created
    // (it cannot: the descriptor is no cgroup), and it would only exit.
    let r = unsafe { clone3(&args, exit_at_once, std::ptr::null_mut()) };
    if r > 0 {
        // Reaps the child this call created (CLONE_VFORK: it has exited
        // already); only that pid.
        if let Some(child) = rustix::process::Pid::from_raw(r as libc::pid_t) {
            let _ = rustix::process::waitpid(Some(child), rustix::process::WaitOptions::empty());
        }
    } else {
        stack.in_use().store(0, Ordering::Relaxed);
    }
    stack.give_back();
    r > 0 || errno_of(r) == libc::EBADF
}

/// The kernel's signal set size, for raw `rt_sigprocmask` calls.
const SIGSET_BYTES: usize = 8;
/// Signals the kernel knows: 1 to 64.
const KERNEL_SIGNALS: usize = 64;

/// `struct sigaction` as the `rt_sigaction` system call takes it (not
/// glibc's, which differs).
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// The child, until `execve`: raw system calls only.
extern "C" fn run_child(argument: *mut libc::c_void) -> libc::c_int {
    // SAFETY: the parent passed a `Child` that it keeps until this process
    // has called execve or exited.
    let child = unsafe { &*(argument as *const Child) };
    // SAFETY: only system calls on valid arguments, in a child whose
    // signals are all blocked.
    unsafe {
        // Not glibc's wrapper: it refuses its own signals (32 and 33), and
        // an ignored one would stay ignored in the command.
        let default = KernelSigaction {
            handler: libc::SIG_DFL,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        for signal in 1..=KERNEL_SIGNALS {
            if signal != libc::SIGKILL as usize && signal != libc::SIGSTOP as usize {
                sys(
                    libc::SYS_rt_sigaction,
                    [signal, addr(&default), 0, SIGSET_BYTES],
                );
            }
        }
        if child.join >= 0 {
            // Before the command runs a single instruction, so before it
            // can fork; see `cgroup.rs` for why writing `0` is cheap, and
            // why the file is open already.
            let written = sys(libc::SYS_write, [child.join as usize, addr(&b'0'), 1, 0]);
            if written != 1 {
                let errno = if written < 0 {
                    errno_of(written)
                } else {
                    libc::EIO
                };
                child.placement_error.store(errno, Ordering::Release);
            }
        }
        check(child, sys(libc::SYS_setpgid, [0, 0, 0, 0]));
        for (target, &source) in child.stdio.iter().enumerate() {
            // dup3, not dup2 (absent on AArch64): the sources are all
            // above 2 (see `above_stdio`), never equal to the target.
            check(child, sys(libc::SYS_dup3, [source as usize, target, 0, 0]));
        }
        // The pipes were made non-blocking for the parent's reads; the
        // command writes to blocking ones, as any program expects.
        for target in [1usize, 2] {
            check(
                child,
                sys(libc::SYS_fcntl, [target, libc::F_SETFL as usize, 0, 0]),
            );
        }
        if child.scan_descriptors || sys(libc::SYS_close_range, [3, u32::MAX as usize, 0, 0]) != 0 {
            close_descriptors_from_3();
        }
        let empty: u64 = 0;
        sys(
            libc::SYS_rt_sigprocmask,
            [libc::SIG_SETMASK as usize, addr(&empty), 0, SIGSET_BYTES],
        );
        let r = sys(
            libc::SYS_execve,
            [
                child.program as usize,
                child.argv as usize,
                child.envp as usize,
                0,
            ],
        );
        fail(child, r)
    }
}

/// Continues if a system call succeeded, else reports its errno and exits.
fn check(child: &Child, result: isize) {
    if result < 0 {
        fail(child, result);
    }
}

fn fail(child: &Child, result: isize) -> ! {
    child
        .error
        .store(errno_of(result).max(1), Ordering::Release);
    loop {
        // SAFETY: ends this process (the child: a single thread) without
        // running anything of the parent's (no atexit handler, no flush of
        // shared stdio buffers).
        unsafe { sys(libc::SYS_exit, [127, 0, 0, 0]) };
    }
}

/// Closes every descriptor from 3 up, for kernels without `close_range`.
///
/// The child lists its own table, `/proc/self/fd`: a copy of the agent's
/// made at `clone`, so that a descriptor another thread of the agent opens
/// without `O_CLOEXEC` meanwhile is either in it, and closed, or not in it
/// at all (a list made by the parent before `clone` would miss it). Where
/// `/proc` cannot be read, every number below the descriptor limit is
/// closed. System calls only, on this stack.
///
/// # Safety
/// Only in the child, before `execve`.
unsafe fn close_descriptors_from_3() {
    const PROC_SELF_FD: &[u8] = b"/proc/self/fd\0";
    // SAFETY: a NUL-terminated path; flags only.
    let dir = unsafe {
        sys(
            libc::SYS_openat,
            [
                libc::AT_FDCWD as usize,
                PROC_SELF_FD.as_ptr() as usize,
                (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) as usize,
                0,
            ],
        )
    };
    if dir < 0 {
        let mut limit = [0u64; 2];
        // SAFETY: prlimit64(0, RLIMIT_NOFILE, NULL, &limit) reads our own
        // limit into `limit`.
        let r = unsafe {
            sys(
                libc::SYS_prlimit64,
                [
                    0,
                    libc::RLIMIT_NOFILE as usize,
                    0,
                    std::ptr::addr_of_mut!(limit) as usize,
                ],
            )
        };
        let end = if r == 0 { limit[0].min(1 << 20) } else { 1024 };
        for fd in 3..end as usize {
            // SAFETY: closing a number that may not be open is harmless.
            unsafe { sys(libc::SYS_close, [fd, 0, 0, 0]) };
        }
        return;
    }
    let mut buffer = [0u8; 2048];
    loop {
        // SAFETY: `buffer` is valid for its length.
        let n = unsafe {
            sys(
                libc::SYS_getdents64,
                [dir as usize, buffer.as_mut_ptr() as usize, buffer.len(), 0],
            )
        };
        if n <= 0 {
            break;
        }
        let mut offset = 0usize;
        while offset + 19 < n as usize {
            // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2),
            // d_type (1), d_name (NUL-terminated).
            let length = u16::from_ne_bytes([buffer[offset + 16], buffer[offset + 17]]) as usize;
            if length == 0 {
                break;
            }
            let mut fd = 0usize;
            let mut digits = 0;
            for &b in &buffer[offset + 19..(offset + length).min(n as usize)] {
                if !b.is_ascii_digit() {
                    break;
                }
                fd = fd * 10 + usize::from(b - b'0');
                digits += 1;
            }
            if digits > 0 && fd >= 3 && fd != dir as usize {
                // SAFETY: a descriptor of this child's own table.
                unsafe { sys(libc::SYS_close, [fd, 0, 0, 0]) };
            }
            offset += length;
        }
    }
    // SAFETY: our own descriptor.
    unsafe { sys(libc::SYS_close, [dir as usize, 0, 0, 0]) };
}

fn errno_of(result: isize) -> i32 {
    result.wrapping_neg() as i32
}

fn addr<T>(value: &T) -> usize {
    value as *const T as usize
}

/// A system call that returns `-errno` on failure and leaves `errno` alone.
///
/// # Safety
/// The arguments must be valid for the call.
#[cfg(target_arch = "x86_64")]
unsafe fn sys(number: libc::c_long, args: [usize; 4]) -> isize {
    let result: isize;
    // SAFETY: the x86-64 system call convention; the kernel clobbers rcx
    // and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") number as isize => result,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result
}

/// See the x86-64 version.
///
/// # Safety
/// As for the x86-64 version.
#[cfg(target_arch = "aarch64")]
unsafe fn sys(number: libc::c_long, args: [usize; 4]) -> isize {
    let result: isize;
    // SAFETY: the AArch64 system call convention.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") args[0] as isize => result,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            options(nostack),
        );
    }
    result
}

/// Elsewhere, libc's wrapper, which writes `errno`: the spawning thread is
/// suspended meanwhile (see [`WAITS_FOR_EXEC`]).
///
/// # Safety
/// As for the x86-64 version.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn sys(number: libc::c_long, args: [usize; 4]) -> isize {
    // SAFETY: forwarded.
    let r = unsafe { libc::syscall(number, args[0], args[1], args[2], args[3]) };
    if r < 0 {
        -(io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO) as isize)
    } else {
        r as isize
    }
}

/// Makes children close their descriptors as on kernels without
/// `close_range`, for tests of that path on a kernel that has it.
static FORCE_DESCRIPTOR_SCAN: AtomicBool = AtomicBool::new(false);

fn close_range_works() -> bool {
    super::kernel::features().close_range
}

/// Stack size for a child until execve: system calls only, but the
/// kernel's signal delivery needs some room.
const CHILD_STACK_BYTES: usize = 64 * 1024;
/// Stacks kept for reuse; more are unmapped once free. As many as children
/// may wait for a CPU before their execve under load (64 calls in flight
/// on 2 CPUs kept dozens busy at once): unmapping and mapping them again
/// would cost a TLB flush on every CPU each time. A stack costs 68 KiB of
/// address space but only the few pages a child touched of memory.
const KEPT_STACKS: usize = 128;

/// A stack for children, with a guard page below it and, at its bottom,
/// the word the kernel clears when the child that used it no longer needs
/// it.
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
    page: usize,
}

// SAFETY: a mapping owned by this value; only its in-use word is shared
// (with a child), as an atomic.
unsafe impl Send for ChildStack {}

/// Stacks not handed to a spawn: free, or still used by a child that has
/// not called execve yet.
static STACKS: Mutex<Vec<ChildStack>> = Mutex::new(Vec::new());

impl ChildStack {
    /// A free stack from the pool, or a new one.
    fn take() -> io::Result<ChildStack> {
        let mut stacks = STACKS.lock().unwrap_or_else(PoisonError::into_inner);
        match stacks.iter().position(ChildStack::is_free) {
            Some(i) => Ok(stacks.swap_remove(i)),
            None => {
                drop(stacks);
                ChildStack::new()
            }
        }
    }

    /// Returns the stack to the pool (in use or not); beyond
    /// [`KEPT_STACKS`], free stacks are unmapped.
    fn give_back(self) {
        let mut stacks = STACKS.lock().unwrap_or_else(PoisonError::into_inner);
        stacks.push(self);
        let mut surplus = Vec::new();
        while stacks.len() > KEPT_STACKS {
            match stacks.iter().position(ChildStack::is_free) {
                Some(i) => surplus.push(stacks.swap_remove(i)),
                None => break,
            }
        }
        drop(stacks);
        drop(surplus);
    }

    fn new() -> io::Result<ChildStack> {
        let page = rustix::param::page_size();
        let len = CHILD_STACK_BYTES + page;
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len, page };
        // SAFETY: the lowest page of our own mapping.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The lowest address a child may use (above the guard page), as
    /// `clone3` takes a stack: its base and length.
    fn usable_base(&self) -> *mut libc::c_void {
        // SAFETY: within our mapping.
        unsafe { self.base.cast::<u8>().add(self.page).cast() }
    }

    fn usable_len(&self) -> usize {
        self.len - self.page
    }

    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our mapping; stacks grow down, and
        // the mapping is page-aligned, hence 16-byte aligned.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }

    /// Nonzero from before `clone` until the kernel clears it.
    fn in_use(&self) -> &AtomicU32 {
        // SAFETY: the first bytes above the guard page, in our mapping,
        // page-aligned, used for nothing else (a child's stack grows down
        // from the top and needs a fraction of its size).
        unsafe { &*self.base.cast::<u8>().add(self.page).cast::<AtomicU32>() }
    }

    fn is_free(&self) -> bool {
        self.in_use().load(Ordering::Acquire) == 0
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used by any child (only free
        // stacks are dropped; a busy one stays in the pool).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} contains a NUL byte", s.to_string_lossy()),
        )
    })
}

/// The child's environment: the process's own, as `execve` wants it, with
/// `env` set. The process's entries are passed as the pointers `environ`
/// holds, not copied: glibc never frees a string it put there (`setenv`
/// keeps them all), so they stay valid until the child has called
/// `execve`. Reading `environ` while another thread calls `setenv` is as
/// racy here as it is for `posix_spawn` and `std::env::vars_os` (whose lock
/// only covers Rust's own `set_var`), which the agent does not do once
/// started.
fn environment(
    env: &[(&str, &str)],
    added: &mut Vec<CString>,
) -> io::Result<Vec<*const libc::c_char>> {
    for (key, value) in env {
        added.push(c_string(OsStr::new(&format!("{key}={value}")))?);
    }
    let mut pointers = Vec::with_capacity(64);
    // SAFETY: `environ` is a null-terminated array of NUL-terminated
    // strings (or null), read once here.
    unsafe {
        let mut entry = std::ptr::addr_of!(environ).read();
        while !entry.is_null() && !(*entry).is_null() {
            let text = CStr::from_ptr(*entry).to_bytes();
            let key = text.split(|&b| b == b'=').next().unwrap_or(text);
            if !env.iter().any(|(k, _)| k.as_bytes() == key) {
                pointers.push(*entry);
            }
            entry = entry.add(1);
        }
    }
    pointers.extend(added.iter().map(|s| s.as_ptr()));
    pointers.push(std::ptr::null());
    Ok(pointers)
}

extern "C" {
    /// The process's environment (POSIX).
    static environ: *const *const libc::c_char;
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// A pipe whose ends are both non-blocking: the child makes its own end
/// blocking again (one system call in the child instead of one in the
/// parent, see `run_child`).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pipe::PipeFlags;
    let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
    Ok((above_stdio(read)?, above_stdio(write)?))
}

/// `fd` itself if it is numbered 3 or more, else a close-on-exec duplicate
/// that is, so that the child's `dup2` onto 0, 1 and 2 can never overwrite
/// another of its sources (an agent started with a closed standard stream
/// hands out 0, 1 or 2).
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    duplicate_above_stdio(fd.as_fd())
}

fn duplicate_above_stdio(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 3)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Spawns `program` (`/bin/sh -c script` when it is `/bin/sh`) and
    /// reaps it; returns its exit code and what its child reported.
    fn run(program: &str, script: &str, placement: Placement) -> (i32, Launch) {
        let stdin = File::open("/dev/null").unwrap();
        let c = Path::new("-c");
        let script = Path::new(script);
        let args: Vec<&Path> = if program == "/bin/sh" {
            vec![c, script]
        } else {
            vec![]
        };
        let spawned = spawn(Path::new(program), &args, &stdin, &[("A", "b")], placement).unwrap();
        let status = reap(spawned.pid);
        assert!(libc::WIFEXITED(status), "{status}");
        (libc::WEXITSTATUS(status), spawned.launch)
    }

    /// Waits for our child `pid` (only it) and returns its raw status.
    fn reap(pid: libc::pid_t) -> i32 {
        let child = rustix::process::Pid::from_raw(pid).unwrap();
        let (reaped, status) =
            rustix::process::waitpid(Some(child), rustix::process::WaitOptions::empty())
                .unwrap()
                .unwrap();
        assert_eq!(reaped, child);
        status.as_raw()
    }

    #[test]
    fn a_command_that_cannot_be_executed_says_why_once_it_has_exited() {
        let (code, launch) = run("/nonexistent/command", "", Placement::Stay);
        assert_eq!(code, 127);
        assert_eq!(
            launch.failure().and_then(|e| e.raw_os_error()),
            Some(libc::ENOENT)
        );
        assert!(launch.placement_failure().is_none());
    }

    #[test]
    fn a_command_that_cannot_join_its_cgroup_still_runs_and_says_why() {
        // Not writable: the child's write of "0" fails.
        let tasks = File::open("/dev/null").unwrap();
        let (code, launch) = run(
            "/bin/sh",
            "test \"$A\" = b",
            Placement::Write(tasks.as_raw_fd()),
        );
        assert_eq!(code, 0, "the command ran, with its environment");
        assert!(launch.failure().is_none());
        assert_eq!(
            launch.placement_failure().and_then(|e| e.raw_os_error()),
            Some(libc::EBADF)
        );
    }

    #[test]
    fn a_command_that_clone3_cannot_place_still_runs_and_says_why() {
        // A directory, but no cgroup: clone3 refuses it.
        let not_a_cgroup = File::open("/tmp").unwrap();
        let (code, launch) = run(
            "/bin/sh",
            "test \"$A\" = b",
            Placement::Into(not_a_cgroup.as_raw_fd()),
        );
        assert_eq!(code, 0, "the command ran, with its environment");
        assert!(launch.failure().is_none());
        assert_eq!(
            launch.placement_failure().and_then(|e| e.raw_os_error()),
            Some(libc::EBADF)
        );
    }

    /// A writable directory in the cgroup v2 hierarchy, made for a test,
    /// or `None` after one line saying why not.
    fn v2_test_cgroup(name: &str) -> Option<std::path::PathBuf> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let Some(mount) = super::super::cgroup::unified_mounts(&mountinfo)
            .into_iter()
            .next()
        else {
            println!("skipped: no cgroup v2 hierarchy is mounted");
            return None;
        };
        let dir = mount
            .point
            .join(format!("mcm-spawn-test.{}.{name}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                println!("skipped: cannot create {} ({e})", dir.display());
                None
            }
        }
    }

    #[test]
    fn clone3_creates_the_command_inside_its_v2_cgroup() {
        assert!(clone_into_cgroup_works(), "Linux 6.18 has it");
        let Some(dir) = v2_test_cgroup("inside") else {
            return;
        };
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let cgroup = File::open(&dir).unwrap();
        let (code, launch) = run(
            "/bin/sh",
            &format!("grep -qx '0::/{name}' /proc/self/cgroup"),
            Placement::Into(cgroup.as_raw_fd()),
        );
        assert!(launch.failure().is_none());
        assert!(launch.placement_failure().is_none());
        assert_eq!(code, 0, "the command was not in {}", dir.display());
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn child_stacks_are_reused_once_their_child_has_called_execve() {
        for _ in 0..50 {
            let (code, launch) = run("/bin/sh", "exit 3", Placement::Stay);
            assert_eq!(code, 3);
            assert!(launch.failure().is_none());
        }
        let stacks = STACKS.lock().unwrap();
        // Other tests spawn at the same time: a few stacks, all free once
        // their children are gone, never one per spawn.
        assert!(stacks.len() <= 16, "{} stacks", stacks.len());
    }

    /// The child stops before `execve`, writing itself into its cgroup,
    /// here a full pipe that nobody reads yet: `spawn` returns all the
    /// same, and the child's stack stays in use until it has called
    /// `execve`.
    #[test]
    fn the_spawning_thread_does_not_wait_for_execve() {
        if WAITS_FOR_EXEC {
            return;
        }
        let (read, write) = pipe().unwrap();
        let filler = [b'x'; 4096];
        let mut filled = 0;
        // Non-blocking: filled until it would block.
        while let Ok(n) = rustix::io::write(&write, &filler) {
            filled += n;
        }
        // Blocking again, for the child's write (the flag is the pipe's).
        rustix::fs::fcntl_setfl(&write, rustix::fs::OFlags::empty()).unwrap();
        let stdin = File::open("/dev/null").unwrap();
        let (c, script) = (Path::new("-c"), Path::new("exit 7"));
        let started = std::time::Instant::now();
        let spawned = spawn(
            Path::new("/bin/sh"),
            &[c, script],
            &stdin,
            &[],
            Placement::Write(write.as_raw_fd()),
        )
        .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let busy = || {
            let stacks = STACKS.lock().unwrap();
            stacks.iter().filter(|s| !s.is_free()).count()
        };
        assert!(busy() >= 1, "the blocked child's stack is in use");
        // Let the child go: it writes its "0" and goes on to execve.
        drop(write);
        let mut all = Vec::new();
        rustix::fs::fcntl_setfl(&read, rustix::fs::OFlags::empty()).unwrap();
        File::from(read).read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), filled + 1);
        assert_eq!(all.last(), Some(&b'0'));
        assert_eq!(libc::WEXITSTATUS(reap(spawned.pid)), 7);
        assert!(spawned.launch.failure().is_none());
        assert!(spawned.launch.placement_failure().is_none());
    }

    /// The pidfd comes with the child (`CLONE_PIDFD`) and is the child's.
    #[test]
    fn the_child_comes_with_its_pidfd() {
        assert!(CLONE_PIDFD_WORKS.load(Ordering::Relaxed));
        let stdin = File::open("/dev/null").unwrap();
        let (c, script) = (Path::new("-c"), Path::new("exit 3"));
        let spawned = spawn(
            Path::new("/bin/sh"),
            &[c, script],
            &stdin,
            &[],
            Placement::Stay,
        )
        .unwrap();
        let pidfd = spawned.pidfd.expect("a pidfd from clone");
        // Waits through the pidfd: only the child's exit ends it.
        let info = rustix::process::waitid(
            rustix::process::WaitId::PidFd(pidfd.as_fd()),
            rustix::process::WaitIdOptions::EXITED,
        )
        .unwrap()
        .unwrap();
        assert_eq!(info.exit_status(), Some(3));
    }

    #[test]
    fn close_range_is_found_on_this_kernel() {
        // The fallback is tested below, forced.
        assert!(close_range_works());
    }

    /// Without `close_range`, the child closes what it finds in its own
    /// descriptor table: a descriptor another thread opens without
    /// `O_CLOEXEC` while commands are spawned never reaches a command.
    /// (A list made by the parent before `clone`, as before, let such a
    /// descriptor through.)
    #[test]
    fn without_close_range_no_inheritable_descriptor_leaks_into_a_command() {
        FORCE_DESCRIPTOR_SCAN.store(true, Ordering::Relaxed);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let opener = {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let file = File::open("/dev/null").unwrap();
                while !stop.load(Ordering::Relaxed) {
                    // Inheritable (no O_CLOEXEC), closed at once.
                    drop(rustix::io::dup(&file));
                }
            })
        };
        let mut leaked = Vec::new();
        for _ in 0..200 {
            // `cat` waits on a pipe while its descriptors are listed.
            let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
            let (read, write) = (File::from(read), File::from(write));
            let spawned = spawn(Path::new("/bin/cat"), &[], &read, &[], Placement::Stay).unwrap();
            let pid = spawned.pid;
            let comm = || std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            while comm().trim() != "cat" {
                std::thread::yield_now();
            }
            let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .unwrap()
                .flatten()
                .map(|e| {
                    let target = std::fs::read_link(e.path()).unwrap_or_default();
                    format!(
                        "{} -> {}",
                        e.file_name().to_string_lossy(),
                        target.display()
                    )
                })
                .collect();
            // `cat` opens locale files of its own; what the other thread
            // opens is /dev/null.
            if fds.iter().any(|fd| fd.ends_with("/dev/null")) {
                leaked.push(fds);
            }
            drop(write);
            reap(pid);
        }
        stop.store(true, Ordering::Relaxed);
        opener.join().unwrap();
        FORCE_DESCRIPTOR_SCAN.store(false, Ordering::Relaxed);
        assert!(leaked.is_empty(), "descriptors leaked: {leaked:?}");
    }
}
