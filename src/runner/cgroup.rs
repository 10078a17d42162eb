//! Per-call cgroups: the mechanism that reaches every process a command
//! started, including a grandchild that called `setsid` and double-forked,
//! which process groups miss (it left both our group and our session).
//!
//! # Where
//!
//! Each call gets a cgroup `<root>/<owner tag>.<runner>/<n>` in a cgroup **v1
//! freezer** hierarchy; `<root>` is the `command_cgroup` setting, by default
//! `<freezer mount>/mesos_command_modules`, beside (never inside) the
//! `mesos/` subtree in which the agent's cgroups isolators keep the
//! containers' cgroups. The command stays in the agent's cgroups of every
//! other hierarchy (memory, cpu, name=systemd, the unified v2 one), so the
//! agent's service manager still accounts and stops it. The freezer
//! hierarchy is used because its controller has no resource semantics
//! (moving a command there changes nothing of its accounting or limits) and
//! because it is the one Mesos itself uses to find a container's processes.
//! Mesos 1.11 manages container cgroups through v1 only, so hosts that run
//! it have a v1 hierarchy (a v1-only or hybrid host).
//!
//! # Placement before the first instruction
//!
//! A command must be inside its cgroup before it can fork. The child the
//! runner creates (see `spawn.rs`) moves itself into the call's `tasks`
//! before it calls `execve`: the command is inside from its first
//! instruction, and no thread of the agent ever joins a command's cgroup.
//! It moves itself by writing `0`, "the writer", which the kernel does
//! without the process-wide lock that moving any other task takes (that
//! lock waits for an RCU grace period and holds every fork of the process
//! meanwhile). A child that cannot join runs anyway, contained by its
//! process group only, and this is logged. (Cgroup v2 moves whole processes
//! only and is not used: Mesos 1.11 hosts have a v1 hierarchy.)
//!
//! # Killing
//!
//! At the deadline every member gets SIGTERM; after the grace period every
//! member gets SIGKILL, in rounds until the cgroup is empty. The rounds end:
//! a process with a pending SIGKILL cannot complete a fork (the kernel
//! checks for pending signals before the child is attached), so each round
//! can only find children forked before the previous one. The cgroup is
//! not frozen for this: waiting for a freeze to complete would hold a
//! runtime thread for as long as the slowest member takes to stop, which
//! under load delays every other call. A signal only goes to a pid through
//! a pidfd opened on it and after checking, through `/proc/<pid>/cgroup`,
//! that the process is still a member, so a recycled pid is never hit; our
//! own process is never signalled, whatever the cgroup lists.
//!
//! # Leftovers of a dead agent
//!
//! An agent killed with SIGKILL leaves its calls' cgroups and whatever ran
//! in them. The owner tag (see `owner.rs`) says whether the process that
//! created them is gone; a new runner kills the members of such cgroups and
//! removes them.
//!
//! # Fallback
//!
//! Where no freezer hierarchy is mounted, the cgroup cannot be created
//! (read-only `/sys/fs/cgroup`, no privilege), or `command_cgroup` is
//! `none`, commands are contained by their process group only: a
//! descendant that left the group (`setsid`, `setpgid`) escapes the kill and
//! may survive the timeout. This is logged when it happens.

use std::ffi::{CStr, CString};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::owner;

/// The name of the default root, created at the top of the freezer
/// hierarchy.
pub const DEFAULT_CGROUP_NAME: &str = "mesos_command_modules";
/// The subtree in which Mesos keeps its containers' cgroups when the agent
/// runs with the default `--cgroups_root`; never ours to use.
pub const MESOS_CGROUPS_ROOT: &str = "mesos";
/// The longest wait, in blocking contexts (drop, sweep), for killed
/// members to disappear.
pub const BLOCKING_EMPTY_WAIT: Duration = Duration::from_secs(1);

/// Where commands' cgroups go: the `command_cgroup` parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CgroupSetting {
    /// `<freezer mount>/mesos_command_modules` when a cgroup v1 freezer
    /// hierarchy is mounted and writable; process groups otherwise.
    #[default]
    Auto,
    /// Process groups only (`none`).
    Disabled,
    /// This directory, in a cgroup v1 freezer hierarchy.
    At(PathBuf),
}

impl CgroupSetting {
    /// Parses and checks a `command_cgroup` value: `auto`, `none`, or the
    /// absolute path of a directory in a mounted cgroup v1 freezer hierarchy
    /// (created if needed), outside Mesos's own `mesos` subtree.
    pub fn parse(value: &str) -> Result<CgroupSetting, String> {
        let value = value.trim();
        match value {
            "" | "auto" => return Ok(CgroupSetting::Auto),
            "none" => return Ok(CgroupSetting::Disabled),
            _ => {}
        }
        let path = PathBuf::from(value);
        if !path.is_absolute() {
            return Err(format!(
                "\"{value}\" must be \"auto\", \"none\" or an absolute path in a cgroup v1 \
                 freezer hierarchy"
            ));
        }
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let Some(mount) = freezer_mount_containing(&mountinfo, &path) else {
            return Err(format!(
                "\"{value}\" is not in a mounted cgroup v1 freezer hierarchy (mounted ones: {})",
                describe_mounts(&freezer_mounts(&mountinfo))
            ));
        };
        let relative = path.strip_prefix(&mount.point).unwrap_or(Path::new(""));
        if relative.as_os_str().is_empty() {
            return Err(format!(
                "\"{value}\" is the root of the freezer hierarchy; name a directory in it, e.g. \
                 {}",
                mount.point.join(DEFAULT_CGROUP_NAME).display()
            ));
        }
        if relative.starts_with(MESOS_CGROUPS_ROOT) {
            return Err(format!(
                "\"{value}\" is inside {}, where the agent keeps its containers' cgroups \
                 (--cgroups_root) and destroys the ones it does not know",
                mount.point.join(MESOS_CGROUPS_ROOT).display()
            ));
        }
        if relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!("\"{value}\" must not contain \".\" or \"..\""));
        }
        Ok(CgroupSetting::At(path))
    }

    /// The setting as `mesos-command-modules check` shows it.
    pub fn describe(&self) -> String {
        match self {
            CgroupSetting::Auto => "auto".to_string(),
            CgroupSetting::Disabled => "none".to_string(),
            CgroupSetting::At(path) => path.display().to_string(),
        }
    }
}

/// A mounted cgroup v1 hierarchy with the freezer controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreezerMount {
    /// Where it is mounted.
    pub point: PathBuf,
    /// The hierarchy path mounted there (`/` but for bind mounts and
    /// cgroup namespaces).
    pub root: PathBuf,
}

/// The freezer hierarchies listed in a `/proc/self/mountinfo` text.
pub fn freezer_mounts(mountinfo: &str) -> Vec<FreezerMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mut fields = before.split(' ');
            let root = fields.nth(3)?;
            let point = fields.next()?;
            let mut after = after.split(' ');
            let (fstype, _source, options) = (after.next()?, after.next()?, after.next()?);
            (fstype == "cgroup" && options.split(',').any(|o| o == "freezer")).then(|| {
                FreezerMount {
                    point: PathBuf::from(unescape(point)),
                    root: PathBuf::from(unescape(root)),
                }
            })
        })
        .collect()
}

/// Mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            if let Some(b) = field
                .get(i + 1..i + 4)
                .and_then(|digits| u8::from_str_radix(digits, 8).ok())
            {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn freezer_mount_containing(mountinfo: &str, path: &Path) -> Option<FreezerMount> {
    freezer_mounts(mountinfo)
        .into_iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.as_os_str().len())
}

fn describe_mounts(mounts: &[FreezerMount]) -> String {
    if mounts.is_empty() {
        "none".to_string()
    } else {
        mounts
            .iter()
            .map(|m| m.point.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The per-call cgroups of one runner: `<root>/<owner tag>.<n>/`.
#[derive(Debug)]
pub struct Cgroups {
    shared: Arc<Shared>,
    counter: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    root: PathBuf,
    /// This runner's directory under the root.
    instance: PathBuf,
    /// Why the last attempt to create a call's cgroup failed, to log each
    /// change once rather than at every call.
    failure: Mutex<Option<String>>,
    /// Cgroups whose members would not die in time; removal is retried.
    pending: Mutex<Vec<PathBuf>>,
    /// The numbers of empty call cgroups kept for later calls.
    idle: Mutex<Vec<u64>>,
}

/// How commands are contained.
#[derive(Debug)]
pub enum Containment {
    /// Each call in its own cgroup.
    Cgroups(Cgroups),
    /// Process groups only, and why.
    ProcessGroup(String),
}

/// What the fallback cannot do, for the log.
pub const FALLBACK_CONSEQUENCE: &str = "commands are killed by process group only: a descendant \
     that leaves the group (setsid, a daemon) is not killed at the timeout and may survive";

impl Containment {
    /// Resolves `setting`, creates the root and sweeps the leftovers of
    /// dead processes. Never fails: what cannot be used is a
    /// [`Containment::ProcessGroup`] with the reason.
    pub fn new(setting: &CgroupSetting) -> Containment {
        static INSTANCES: AtomicU64 = AtomicU64::new(0);
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let root = match setting {
            CgroupSetting::Disabled => {
                return Containment::ProcessGroup("command_cgroup is \"none\"".to_string())
            }
            CgroupSetting::Auto => match freezer_mounts(&mountinfo).into_iter().next() {
                Some(mount) => mount.point.join(DEFAULT_CGROUP_NAME),
                None => {
                    return Containment::ProcessGroup(
                        "no cgroup v1 freezer hierarchy is mounted".to_string(),
                    )
                }
            },
            CgroupSetting::At(path) => match freezer_mount_containing(&mountinfo, path) {
                Some(_) => path.clone(),
                None => {
                    return Containment::ProcessGroup(format!(
                        "{} is not in a mounted cgroup v1 freezer hierarchy",
                        path.display()
                    ))
                }
            },
        };
        let instance = root.join(format!(
            "{}.{}",
            owner::own_tag(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        ));
        let shared = Arc::new(Shared {
            root,
            instance,
            failure: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
            idle: Mutex::new(Vec::new()),
        });
        if let Err(e) = shared.create_instance() {
            // Auto mode on a host where the hierarchy is not writable (a
            // container, no privilege): the fallback, said once.
            if *setting == CgroupSetting::Auto {
                return Containment::ProcessGroup(format!(
                    "cannot create {}: {e}",
                    shared.instance.display()
                ));
            }
            shared.report(Some(e.to_string()));
        }
        sweep(&shared.root);
        Containment::Cgroups(Cgroups {
            shared,
            counter: AtomicU64::new(0),
        })
    }

    /// A line for the log saying how commands are contained.
    pub fn describe(&self) -> String {
        match self {
            Containment::Cgroups(c) => format!(
                "each command runs in its own cgroup under {}",
                c.shared.root.display()
            ),
            Containment::ProcessGroup(reason) => format!("{reason}: {FALLBACK_CONSEQUENCE}"),
        }
    }

    /// A fresh cgroup for one call, or `None` (process group only).
    pub fn call_cgroup(&self) -> Option<CallCgroup> {
        match self {
            Containment::Cgroups(c) => c.call_cgroup(),
            Containment::ProcessGroup(_) => None,
        }
    }

    /// The directory holding this runner's call cgroups.
    pub fn instance_directory(&self) -> Option<&Path> {
        match self {
            Containment::Cgroups(c) => Some(&c.shared.instance),
            Containment::ProcessGroup(_) => None,
        }
    }

    /// The call cgroups kept empty for later calls.
    pub fn idle_cgroups(&self) -> Vec<PathBuf> {
        match self {
            Containment::Cgroups(c) => lock(&c.shared.idle)
                .iter()
                .map(|n| c.shared.instance.join(n.to_string()))
                .collect(),
            Containment::ProcessGroup(_) => Vec::new(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn create_instance(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&self.instance)
    }

    /// Logs a change between working and failing cgroups, once.
    fn report(&self, failure: Option<String>) {
        let mut last = lock(&self.failure);
        if *last == failure {
            return;
        }
        match &failure {
            Some(reason) => log::warn!(
                "cannot create a cgroup for a command under {}: {reason}; until this works, \
                 {FALLBACK_CONSEQUENCE}",
                self.instance.display()
            ),
            None => log::info!(
                "commands run in their own cgroups under {} again",
                self.instance.display()
            ),
        }
        *last = failure;
    }

    fn retry_pending(&self) {
        let mut pending = lock(&self.pending);
        pending.retain(|path| match fs::remove_dir(path) {
            Ok(()) => false,
            Err(e) => e.kind() != io::ErrorKind::NotFound,
        });
    }
}

impl Cgroups {
    /// An empty cgroup for one call: one a previous call left empty, else
    /// a new one. Reusing them saves a `mkdir` and an `rmdir` per call,
    /// the costliest steps of the bookkeeping.
    fn call_cgroup(&self) -> Option<CallCgroup> {
        self.shared.retry_pending();
        if let Some(n) = lock(&self.shared.idle).pop() {
            return Some(CallCgroup::numbered(&self.shared, n));
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.shared.instance.join(n.to_string());
        let created = fs::DirBuilder::new()
            .mode(0o755)
            .create(&path)
            .or_else(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    // The instance directory went away (or never came).
                    self.shared.create_instance()?;
                    fs::DirBuilder::new().mode(0o755).create(&path)
                } else {
                    Err(e)
                }
            });
        match created {
            Ok(()) => {
                self.shared.report(None);
                Some(CallCgroup::numbered(&self.shared, n))
            }
            Err(e) => {
                self.shared.report(Some(e.to_string()));
                None
            }
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.shared.retry_pending();
        for n in lock(&self.shared.idle).drain(..) {
            let _ = fs::remove_dir(self.shared.instance.join(n.to_string()));
        }
        let _ = fs::remove_dir(&self.shared.instance);
    }
}

/// How many empty call cgroups a runner keeps for reuse: enough for the
/// calls in flight at a busy agent's peak; more are removed.
pub const MAX_IDLE_CGROUPS: usize = 256;

/// The cgroup of one call. Released by [`CallCgroup::release`] (kept for
/// reuse when empty) or removed by [`CallCgroup::remove`]; one that cannot
/// be removed yet (a member in uninterruptible sleep) is retried at later
/// calls.
#[derive(Debug)]
pub struct CallCgroup {
    path: PathBuf,
    /// `<path>/tasks`, written by the command to move itself in.
    tasks: CString,
    /// `/<instance>/<n>`: the end of the path `/proc/<pid>/cgroup` shows
    /// for a member.
    suffix: String,
    shared: Arc<Shared>,
    /// Its number in this runner's directory; `None` for the cgroups of a
    /// dead process, which are never reused.
    number: Option<u64>,
    /// Removed, or back in the pool of idle cgroups: no longer this call's.
    released: AtomicBool,
}

impl CallCgroup {
    fn numbered(shared: &Arc<Shared>, n: u64) -> CallCgroup {
        let path = shared.instance.join(n.to_string());
        let suffix = format!(
            "/{}/{n}",
            shared
                .instance
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
        );
        CallCgroup {
            tasks: tasks_file(&path),
            path,
            suffix,
            shared: Arc::clone(shared),
            number: Some(n),
            released: AtomicBool::new(false),
        }
    }

    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cgroup's `tasks` file, which the command writes itself into
    /// (see the module documentation).
    pub fn tasks_file(&self) -> &CStr {
        &self.tasks
    }

    /// The members' pids, never our own.
    pub fn pids(&self) -> Vec<i32> {
        read_pids(&self.path.join("cgroup.procs"))
    }

    /// Whether no process is left (a cgroup that cannot be read is empty:
    /// it was removed).
    pub fn is_empty(&self) -> bool {
        // Asked once per call when the command has exited: the common,
        // empty, case costs an open, one read and a close.
        let mut probe = [0u8; 1];
        match File::open(self.path.join("cgroup.procs")) {
            Ok(mut f) => match f.read(&mut probe) {
                Ok(0) => true,
                _ => self.pids().is_empty(),
            },
            Err(_) => true,
        }
    }

    /// Sends `signal` to every member, without freezing (SIGTERM: members
    /// may handle it). Returns how many were signalled.
    pub fn signal_all(&self, signal: libc::c_int) -> usize {
        self.pids()
            .into_iter()
            .filter(|&pid| self.signal_member(pid, signal))
            .count()
    }

    /// One round of SIGKILL to every member; see the module documentation
    /// for why rounds until the cgroup is empty end. Returns how many were
    /// signalled.
    pub fn kill_all(&self) -> usize {
        self.signal_all(libc::SIGKILL)
    }

    /// Kills and waits (blocking, bounded) until no member is left, then
    /// removes the cgroup. For the sweep at load only; calls wait
    /// asynchronously instead.
    pub fn kill_and_remove_blocking(&self) -> usize {
        let mut killed = 0;
        let deadline = Instant::now() + BLOCKING_EMPTY_WAIT;
        loop {
            if self.is_empty() {
                break;
            }
            killed += self.kill_all();
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.remove();
        killed
    }

    /// Ends the call's use of the cgroup: an empty one goes back to the
    /// pool for a later call, one that still holds processes (or one too
    /// many for the pool) is removed. `known_empty`: the caller has just
    /// seen it empty, after the command and everything it started were
    /// gone, so that nothing can have joined since.
    pub fn release(&self, known_empty: bool) {
        if self.released.load(Ordering::SeqCst) {
            return;
        }
        if let Some(n) = self.number {
            if known_empty || self.is_empty() {
                let mut idle = lock(&self.shared.idle);
                if idle.len() < MAX_IDLE_CGROUPS {
                    idle.push(n);
                    self.released.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
        self.remove();
    }

    /// Removes the cgroup, or queues it for a later retry if a member is
    /// still there.
    pub fn remove(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        match fs::remove_dir(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                log::error!(
                    "cannot remove the command cgroup {} ({e}); processes still in it: {:?}; \
                     removal will be retried",
                    self.path.display(),
                    self.pids()
                );
                lock(&self.shared.pending).push(self.path.clone());
            }
        }
    }

    /// Signals `pid` if it is still a member: through a pidfd, so that the
    /// check and the signal are about the same process even if the pid is
    /// reused in between.
    fn signal_member(&self, pid: i32, signal: libc::c_int) -> bool {
        if pid == std::process::id() as i32 || pid <= 0 {
            return false;
        }
        // SAFETY: pidfd_open takes a pid and flags, returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) && self.has(pid) {
                // Kernels before 5.3: checked, then signalled by pid (a
                // recycling in between is possible, if most unlikely).
                // SAFETY: plain syscall.
                return unsafe { libc::kill(pid, signal) } == 0;
            }
            return false;
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        if !self.has(pid) {
            return false;
        }
        // SAFETY: pidfd_send_signal(fd, sig, info = NULL, flags = 0).
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            ) == 0
        }
    }

    /// Whether `/proc/<pid>/cgroup` puts the process in this cgroup.
    fn has(&self, pid: i32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .ok()
            .and_then(|text| freezer_path(&text))
            .is_some_and(|path| path.ends_with(&self.suffix))
    }
}

impl Drop for CallCgroup {
    /// Never reached by a call's own cgroup, which its tree releases or
    /// hands to the reaper; should one be dropped all the same, its members
    /// get one SIGKILL round and its removal is retried at later calls if
    /// they are not gone yet: a drop must not block the thread it runs on.
    fn drop(&mut self) {
        if !self.released.load(Ordering::SeqCst) {
            self.kill_all();
            self.remove();
        }
    }
}

/// The freezer line's path in a `/proc/<pid>/cgroup` text.
fn freezer_path(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "freezer")
            .then(|| path.to_string())
    })
}

/// `<cgroup>/tasks` as a C string (a path from `read_dir` or made of
/// digits under a checked root: no NUL byte; one would make the command
/// fail to join, which is then reported).
fn tasks_file(cgroup: &Path) -> CString {
    CString::new(cgroup.join("tasks").into_os_string().into_vec()).unwrap_or_default()
}

fn read_pids_raw(path: &Path) -> Vec<i32> {
    let mut text = String::new();
    match File::open(path) {
        Ok(mut f) => {
            let _ = f.read_to_string(&mut text);
        }
        Err(_) => return Vec::new(),
    }
    text.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

fn read_pids(path: &Path) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut pids = read_pids_raw(path);
    pids.retain(|&pid| pid != me && pid > 0);
    pids
}

/// Kills what dead processes left in their cgroups under `root` and removes
/// those cgroups. Directories of live processes, of other pid namespaces,
/// and names we did not make are left alone.
pub fn sweep(root: &Path) -> usize {
    let Ok(entries) = fs::read_dir(root) else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // `<owner tag>.<instance>`.
        let Some((tag, instance)) = name.rsplit_once('.') else {
            continue;
        };
        if instance.parse::<u64>().is_err() || !owner::is_stale(tag) {
            continue;
        }
        let instance_dir = entry.path();
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            instance: instance_dir.clone(),
            failure: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
            idle: Mutex::new(Vec::new()),
        });
        let mut pids = Vec::new();
        if let Ok(calls) = fs::read_dir(&instance_dir) {
            for call in calls.flatten() {
                let call_name = call.file_name().to_string_lossy().into_owned();
                if !call.path().is_dir() || call_name.parse::<u64>().is_err() {
                    continue;
                }
                let cgroup = CallCgroup {
                    tasks: tasks_file(&call.path()),
                    path: call.path(),
                    suffix: format!("/{name}/{call_name}"),
                    shared: Arc::clone(&shared),
                    number: None,
                    released: AtomicBool::new(false),
                };
                pids.extend(cgroup.pids());
                killed += cgroup.kill_and_remove_blocking();
            }
        }
        let _ = fs::remove_dir(&instance_dir);
        if !pids.is_empty() {
            log::warn!(
                "killed {} process(es) left running by commands of a process that died ({}): \
                 pids {pids:?}",
                pids.len(),
                instance_dir.display()
            );
        }
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 0:34 /sub /mnt/with\\040space rw - cgroup cgroup rw,cpu,freezer
";

    #[test]
    fn freezer_hierarchies_are_found_in_mountinfo() {
        let mounts = freezer_mounts(MOUNTINFO);
        assert_eq!(
            mounts,
            vec![
                FreezerMount {
                    point: "/sys/fs/cgroup/freezer".into(),
                    root: "/".into()
                },
                FreezerMount {
                    point: "/mnt/with space".into(),
                    root: "/sub".into()
                },
            ]
        );
        assert!(freezer_mounts("garbage\n\n1 2 3\n").is_empty());
        let m = freezer_mount_containing(MOUNTINFO, Path::new("/sys/fs/cgroup/freezer/x/y"));
        assert_eq!(m.unwrap().point, PathBuf::from("/sys/fs/cgroup/freezer"));
        assert!(
            freezer_mount_containing(MOUNTINFO, Path::new("/sys/fs/cgroup/unified/x")).is_none()
        );
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(CgroupSetting::parse("auto"), Ok(CgroupSetting::Auto));
        assert_eq!(CgroupSetting::parse(""), Ok(CgroupSetting::Auto));
        assert_eq!(CgroupSetting::parse("none"), Ok(CgroupSetting::Disabled));
        let e = CgroupSetting::parse("relative/path").unwrap_err();
        assert!(e.contains("absolute path"), "{e}");
        let e = CgroupSetting::parse("/tmp/not-a-cgroup").unwrap_err();
        assert!(
            e.contains("not in a mounted cgroup v1 freezer hierarchy"),
            "{e}"
        );
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
        if let Some(m) = freezer_mounts(&mountinfo).first() {
            let e = CgroupSetting::parse(m.point.join("mesos/x").to_str().unwrap()).unwrap_err();
            assert!(e.contains("containers' cgroups"), "{e}");
            let e = CgroupSetting::parse(m.point.to_str().unwrap()).unwrap_err();
            assert!(e.contains("root of the freezer hierarchy"), "{e}");
            let ok = m.point.join("elsewhere");
            assert_eq!(
                CgroupSetting::parse(ok.to_str().unwrap()),
                Ok(CgroupSetting::At(ok))
            );
        }
    }

    #[test]
    fn the_freezer_line_is_read_from_proc_cgroup() {
        let text = "9:name=systemd:/\n6:freezer:/a/b\n4:memory:/x\n0::/\n";
        assert_eq!(freezer_path(text).as_deref(), Some("/a/b"));
        assert_eq!(freezer_path("3:cpu,freezer:/c\n").as_deref(), Some("/c"));
        assert_eq!(freezer_path("0::/\n"), None);
    }
}
