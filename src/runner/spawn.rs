//! `posix_spawn` of a command, with nothing of the agent's but its
//! environment.
//!
//! `std::process::Command` would do, but it cannot close the descriptors the
//! agent opened without `O_CLOEXEC` (glog's log files, for one): every
//! command, and every daemon a command leaves behind, would inherit them.
//! libprocess's own `subprocess`, which the original module used, closes them
//! in the child; so does this, through `posix_spawn_file_actions_addclosefrom_np`
//! where glibc has it (2.34 and later), else by closing each inheritable
//! descriptor found in `/proc/self/fd`. The child also gets an empty signal
//! mask and every signal at its default disposition (libprocess ignores
//! SIGPIPE in the agent), and leads its own process group.
//!
//! glibc's `posix_spawn` runs the child on a `clone(CLONE_VM | CLONE_VFORK)`:
//! its cost does not grow with the agent's resident memory, unlike `fork()`.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// A spawned command: its pid and the read ends of its stdout and stderr.
#[derive(Debug)]
pub struct Spawned {
    pub pid: libc::pid_t,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Spawns `program` with `args` (after `argv[0]`, the program itself),
/// `stdin` as its standard input, piped stdout and stderr, and the current
/// environment with `env` set.
pub fn spawn(
    program: &Path,
    args: &[&Path],
    stdin: &File,
    env: &[(&str, &str)],
) -> io::Result<Spawned> {
    let program_c = c_string(program.as_os_str())?;
    let mut argv_owned = vec![program_c.clone()];
    for arg in args {
        argv_owned.push(c_string(arg.as_os_str())?);
    }
    let envp_owned = environment(env)?;
    let argv = null_terminated(&argv_owned);
    let envp = null_terminated(&envp_owned);

    let stdin = above_stdio(stdin.as_raw_fd())?;
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;

    let mut actions = FileActions::new()?;
    actions.dup2(stdin.as_raw_fd(), 0)?;
    actions.dup2(stdout_write.as_raw_fd(), 1)?;
    actions.dup2(stderr_write.as_raw_fd(), 2)?;
    actions.close_inherited()?;
    let attributes = Attributes::new()?;

    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is valid for the call: the C strings and the
    // null-terminated arrays outlive it, and `actions`/`attributes` are
    // initialized.
    let r = unsafe {
        libc::posix_spawn(
            &mut pid,
            program_c.as_ptr(),
            &actions.0,
            &attributes.0,
            argv.as_ptr() as *const *mut libc::c_char,
            envp.as_ptr() as *const *mut libc::c_char,
        )
    };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(Spawned {
        pid,
        stdout: stdout_read,
        stderr: stderr_read,
    })
}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} contains a NUL byte", s.to_string_lossy()),
        )
    })
}

/// `KEY=VALUE` strings: the process's environment, with `env` set.
fn environment(env: &[(&str, &str)]) -> io::Result<Vec<CString>> {
    let mut out = Vec::new();
    for (key, value) in std::env::vars_os() {
        if env.iter().any(|(k, _)| OsStr::new(k) == key) {
            continue;
        }
        let mut entry = OsString::with_capacity(key.len() + value.len() + 1);
        entry.push(&key);
        entry.push("=");
        entry.push(&value);
        if let Ok(c) = CString::new(entry.as_bytes()) {
            out.push(c);
        }
    }
    for (key, value) in env {
        out.push(c_string(OsStr::new(&format!("{key}={value}")))?);
    }
    Ok(out)
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is valid for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that we now own.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((
        above_stdio(read.as_raw_fd())?,
        above_stdio(write.as_raw_fd())?,
    ))
}

/// A close-on-exec duplicate of `fd` numbered 3 or more, so that the child's
/// `dup2` onto 0, 1 and 2 can never overwrite another of its sources (an
/// agent started with a closed standard stream hands out 0, 1 or 2).
fn above_stdio(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor returns a new one.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a fresh descriptor that we own.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}

struct FileActions(libc::posix_spawn_file_actions_t);

type AddCloseFrom =
    unsafe extern "C" fn(*mut libc::posix_spawn_file_actions_t, libc::c_int) -> libc::c_int;

/// glibc's `posix_spawn_file_actions_addclosefrom_np`, looked up at run
/// time so that the module still loads on an older glibc.
fn add_close_from() -> Option<AddCloseFrom> {
    static FUNCTION: OnceLock<Option<AddCloseFrom>> = OnceLock::new();
    *FUNCTION.get_or_init(|| {
        // SAFETY: dlsym with a valid NUL-terminated name; RTLD_DEFAULT
        // searches the global scope.
        let symbol = unsafe {
            libc::dlsym(
                libc::RTLD_DEFAULT,
                c"posix_spawn_file_actions_addclosefrom_np".as_ptr(),
            )
        };
        if symbol.is_null() {
            None
        } else {
            // SAFETY: the symbol is glibc's function of this signature.
            Some(unsafe { std::mem::transmute::<*mut libc::c_void, AddCloseFrom>(symbol) })
        }
    })
}

impl FileActions {
    fn new() -> io::Result<FileActions> {
        // SAFETY: zeroed storage is then initialized by the call.
        let mut actions: libc::posix_spawn_file_actions_t = unsafe { std::mem::zeroed() };
        // SAFETY: `actions` is valid for writes.
        check(unsafe { libc::posix_spawn_file_actions_init(&mut actions) })?;
        Ok(FileActions(actions))
    }

    fn dup2(&mut self, fd: RawFd, target: RawFd) -> io::Result<()> {
        // SAFETY: `self.0` was initialized.
        check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut self.0, fd, target) })
    }

    /// Closes, in the child, every descriptor from 3 up that is not
    /// close-on-exec.
    fn close_inherited(&mut self) -> io::Result<()> {
        let actions: *mut libc::posix_spawn_file_actions_t = &mut self.0;
        if let Some(close_from) = add_close_from() {
            // SAFETY: `actions` was initialized.
            return check(unsafe { close_from(actions, 3) });
        }
        for fd in inheritable_descriptors() {
            // SAFETY: `actions` was initialized.
            check(unsafe { libc::posix_spawn_file_actions_addclose(actions, fd) })?;
        }
        Ok(())
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: initialized in `new`, destroyed once.
        unsafe {
            libc::posix_spawn_file_actions_destroy(&mut self.0);
        }
    }
}

/// Open descriptors from 3 up without `FD_CLOEXEC`, for glibc before 2.34.
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

struct Attributes(libc::posix_spawnattr_t);

impl Attributes {
    fn new() -> io::Result<Attributes> {
        // SAFETY: zeroed storage is then initialized by the call.
        let mut attributes: libc::posix_spawnattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attributes` is valid for writes.
        check(unsafe { libc::posix_spawnattr_init(&mut attributes) })?;
        let mut attributes = Attributes(attributes);
        let raw: *mut libc::posix_spawnattr_t = &mut attributes.0;
        // SAFETY: zeroed sigset_t storage is initialized by the calls below.
        let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid sigset_t storage; `raw` is initialized.
        unsafe {
            libc::sigemptyset(&mut empty);
            libc::sigfillset(&mut all);
            check(libc::posix_spawnattr_setsigmask(raw, &empty))?;
            check(libc::posix_spawnattr_setsigdefault(raw, &all))?;
            check(libc::posix_spawnattr_setpgroup(raw, 0))?;
            check(libc::posix_spawnattr_setflags(
                raw,
                (libc::POSIX_SPAWN_SETPGROUP
                    | libc::POSIX_SPAWN_SETSIGMASK
                    | libc::POSIX_SPAWN_SETSIGDEF) as libc::c_short,
            ))?;
        }
        Ok(attributes)
    }
}

impl Drop for Attributes {
    fn drop(&mut self) {
        // SAFETY: initialized in `new`, destroyed once.
        unsafe {
            libc::posix_spawnattr_destroy(&mut self.0);
        }
    }
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closefrom_is_found_on_this_glibc() {
        // Debian 12 ships glibc 2.36; the fallback is tested through
        // `inheritable_descriptors` below.
        assert!(add_close_from().is_some());
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
