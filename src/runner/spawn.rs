//! Spawning a command without `fork()`, with nothing of the agent's but its
//! environment.
//!
//! The child is created the way glibc's `posix_spawn` creates it: with
//! `clone(CLONE_VM | CLONE_VFORK)`, so it shares the agent's memory (nothing
//! is copied, whatever the agent's size) and the spawning thread waits
//! until it has called `execve`. In that child, on its own stack, it gets
//! every signal at its default disposition and an empty signal mask
//! (libprocess ignores SIGPIPE in the agent), leads its own process group,
//! gets its standard streams, and loses every other descriptor of the
//! agent (glog's log files, opened without `O_CLOEXEC`, for one), as
//! libprocess's own `subprocess`, which the original module used, does.
//!
//! Why not `posix_spawn` itself: it maps a new stack for each child and
//! unmaps it after, and unmapping memory of a process whose threads run on
//! other CPUs makes the kernel interrupt each of them to flush their TLBs.
//! On a virtual machine that interrupt is the most expensive step of the
//! whole call (a quarter of the module's CPU per call, measured by
//! `scripts/bench`). Here each thread keeps one child stack for its life.
//!
//! The child runs on memory it shares with the agent, so it does only
//! system calls: no allocation, no lock, no Rust code that could panic.

use std::cell::RefCell;
use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// A spawned command: its pid and the read ends of its stdout and stderr
/// (non-blocking).
#[derive(Debug)]
pub struct Spawned {
    pub pid: libc::pid_t,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    /// Why the command could not join the cgroup it was to run in (it runs
    /// outside, in the spawning thread's).
    pub placement: Option<io::Error>,
}

/// Spawns `program` with `args` (after `argv[0]`, the program itself),
/// `stdin` as its standard input, piped stdout and stderr, and the current
/// environment with `env` set. With `cgroup_tasks`, the `tasks` file of a
/// cgroup v1 cgroup, the child moves itself there before anything else.
pub fn spawn(
    program: &Path,
    args: &[&Path],
    stdin: &File,
    env: &[(&str, &str)],
    cgroup_tasks: Option<&CStr>,
) -> io::Result<Spawned> {
    let program_c = c_string(program.as_os_str())?;
    let mut argv_owned = vec![program_c.clone()];
    for arg in args {
        argv_owned.push(c_string(arg.as_os_str())?);
    }
    let mut added = Vec::with_capacity(env.len());
    let envp = environment(env, &mut added)?;
    let argv = null_terminated(&argv_owned);

    // `stdin` is the caller's; a duplicate only if it is numbered 0 to 2.
    let stdin_duplicate = match stdin.as_raw_fd() {
        fd if fd > 2 => None,
        fd => Some(duplicate_above_stdio(fd)?),
    };
    let stdin = stdin_duplicate
        .as_ref()
        .map_or(stdin.as_raw_fd(), AsRawFd::as_raw_fd);
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    let close_fallback = if close_range_works() {
        Vec::new()
    } else {
        inheritable_descriptors()
    };

    let child = Child {
        program: program_c.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        stdio: [stdin, stdout_write.as_raw_fd(), stderr_write.as_raw_fd()],
        close_fallback: close_fallback.as_ptr(),
        close_fallback_len: close_fallback.len(),
        cgroup_tasks: cgroup_tasks.map_or(std::ptr::null(), CStr::as_ptr),
        error: AtomicI32::new(0),
        placement_error: AtomicI32::new(0),
    };
    let pid = with_child_stack(|stack_top| clone_vfork(stack_top, &child))?;
    let error = child.error.load(Ordering::Relaxed);
    if error != 0 {
        // The child exited without running the command: reap it.
        let mut status = 0;
        // SAFETY: `pid` is our child, which has exited.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        return Err(io::Error::from_raw_os_error(error));
    }
    let placement = match child.placement_error.load(Ordering::Relaxed) {
        0 => None,
        errno => Some(io::Error::from_raw_os_error(errno)),
    };
    Ok(Spawned {
        pid,
        stdout: stdout_read,
        stderr: stderr_read,
        placement,
    })
}

/// What the child needs, prepared by the parent: the child only reads it,
/// but for the two error slots.
struct Child {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    /// The descriptors to make its standard input, output and error.
    stdio: [RawFd; 3],
    /// The descriptors to close one by one where `close_range` is missing.
    close_fallback: *const RawFd,
    close_fallback_len: usize,
    /// The `tasks` file of the cgroup to join, or null.
    cgroup_tasks: *const libc::c_char,
    /// The errno of the step that failed, if the command could not be run.
    error: AtomicI32,
    /// The errno of the failed attempt to join the cgroup, if any.
    placement_error: AtomicI32,
}

/// Creates the child with every signal blocked in the spawning thread (a
/// handler of the agent must never run in the child, on memory it shares
/// with the agent), and restores the thread's mask after.
fn clone_vfork(stack_top: *mut libc::c_void, child: &Child) -> io::Result<libc::pid_t> {
    // SAFETY: zeroed sigset_t storage, initialized by sigfillset.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
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
    // SAFETY: `stack_top` is the top of a writable stack that nothing else
    // uses while this thread is suspended (CLONE_VFORK: until the child has
    // called execve or exited); `child` outlives that too; `run_child` only
    // makes system calls.
    let pid = unsafe {
        libc::clone(
            run_child,
            stack_top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            child as *const Child as *mut libc::c_void,
        )
    };
    let clone_error = io::Error::last_os_error();
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
        return Err(clone_error);
    }
    Ok(pid)
}

/// The kernel's signal set size, for raw `rt_sigprocmask` calls.
const SIGSET_BYTES: usize = 8;
/// Signals the kernel knows: 1 to 64.
const KERNEL_SIGNALS: libc::c_int = 64;

/// `struct sigaction` as the `rt_sigaction` system call takes it (not
/// glibc's, which differs).
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// The child, until `execve`: system calls only.
extern "C" fn run_child(argument: *mut libc::c_void) -> libc::c_int {
    // SAFETY: the parent passed a `Child` that outlives this function (it
    // is suspended until execve or exit).
    let child = unsafe { &*(argument as *const Child) };
    let fail = |child: &Child| -> ! {
        child.error.store(last_errno().max(1), Ordering::Relaxed);
        // SAFETY: _exit ends the child without running anything of the
        // parent's (no atexit handler, no flush of shared stdio buffers).
        unsafe { libc::_exit(127) }
    };
    // SAFETY: only system calls on valid arguments, in a child whose
    // signals are all blocked.
    unsafe {
        // The raw system call: glibc's wrapper refuses its own signals (32
        // and 33), and an ignored one would stay ignored in the command.
        let default = KernelSigaction {
            handler: libc::SIG_DFL,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        for signal in 1..=KERNEL_SIGNALS {
            // SIGKILL and SIGSTOP refuse; harmless.
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                &default,
                std::ptr::null_mut::<KernelSigaction>(),
                SIGSET_BYTES,
            );
        }
        if !child.cgroup_tasks.is_null() {
            // Before the command runs a single instruction, so before it
            // can fork; see `cgroup.rs` for why writing `0` is cheap.
            let fd = libc::open(child.cgroup_tasks, libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                child
                    .placement_error
                    .store(last_errno().max(1), Ordering::Relaxed);
            }
            if fd >= 0 {
                libc::close(fd);
            }
        }
        if libc::setpgid(0, 0) != 0 {
            fail(child);
        }
        for (target, &source) in child.stdio.iter().enumerate() {
            if libc::dup2(source, target as RawFd) < 0 {
                fail(child);
            }
        }
        // The pipes were made non-blocking for the parent's reads; the
        // command writes to blocking ones, as any program expects.
        for target in [1, 2] {
            if libc::fcntl(target, libc::F_SETFL, 0) != 0 {
                fail(child);
            }
        }
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for i in 0..child.close_fallback_len {
                libc::close(*child.close_fallback.add(i));
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty,
            std::ptr::null_mut::<libc::sigset_t>(),
            SIGSET_BYTES,
        );
        libc::execve(child.program, child.argv, child.envp);
    }
    fail(child)
}

fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Whether the kernel has `close_range` (Linux 5.9 and later); checked
/// once, on an empty range.
fn close_range_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    // SAFETY: closes nothing: no descriptor has the number u32::MAX.
    *WORKS.get_or_init(|| unsafe {
        libc::syscall(libc::SYS_close_range, u32::MAX, u32::MAX, 0u32) == 0
    })
}

/// Stack size for a child until execve: system calls only, but execve's
/// glibc wrapper and the kernel's signal delivery need some room.
const CHILD_STACK_BYTES: usize = 64 * 1024;

/// A stack for children, mapped once per spawning thread, with a guard
/// page below it.
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
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
        let stack = ChildStack { base, len };
        // SAFETY: the lowest page of our own mapping.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our mapping; stacks grow down, and
        // the mapping is page-aligned, hence 16-byte aligned.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unused once no spawn is in progress.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

thread_local! {
    static CHILD_STACK: RefCell<Option<ChildStack>> = const { RefCell::new(None) };
}

/// Runs `spawn` with the top of this thread's child stack.
fn with_child_stack<T>(spawn: impl FnOnce(*mut libc::c_void) -> io::Result<T>) -> io::Result<T> {
    let mut spawn = Some(spawn);
    let kept = CHILD_STACK.try_with(|slot| -> io::Result<T> {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(ChildStack::new()?);
        }
        let top = slot
            .as_ref()
            .map(ChildStack::top)
            .unwrap_or(std::ptr::null_mut());
        let spawn = spawn.take().expect("runs once");
        spawn(top)
    });
    match kept {
        Ok(result) => result,
        // The thread is exiting: a stack for this spawn only.
        Err(_) => {
            let stack = ChildStack::new()?;
            let spawn = spawn.take().expect("runs once");
            spawn(stack.top())
        }
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
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is valid for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that we now own.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
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
    duplicate_above_stdio(fd.as_raw_fd())
}

fn duplicate_above_stdio(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor returns a new one.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a fresh descriptor that we own.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}

/// Open descriptors from 3 up without `FD_CLOEXEC`, for kernels without
/// `close_range` (before 5.9).
fn inheritable_descriptors() -> Vec<RawFd> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<RawFd>().ok())
        .filter(|&fd| fd >= 3)
        // SAFETY: F_GETFD only reads the descriptor's flags.
        .filter(|&fd| {
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            flags >= 0 && flags & libc::FD_CLOEXEC == 0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_range_is_found_on_this_kernel() {
        // The fallback is tested through `inheritable_descriptors` below.
        assert!(close_range_works());
    }

    #[test]
    fn inheritable_descriptors_are_listed() {
        let file = File::open("/proc/self/status").unwrap();
        let fd = file.as_raw_fd();
        assert!(
            !inheritable_descriptors().contains(&fd),
            "std opens with O_CLOEXEC"
        );
        // SAFETY: clears FD_CLOEXEC on our own open descriptor.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
        assert!(inheritable_descriptors().contains(&fd));
    }
}
