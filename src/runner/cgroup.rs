//! Per-call cgroups: the mechanism that reaches every process a command
//! started, including a grandchild that called `setsid` and double-forked,
//! which process groups miss (it left both our group and our session).
//!
//! # Where
//!
//! Each call gets a cgroup `<root>/<owner tag>.<runner>/<n>`; `<root>` is
//! the `command_cgroup` setting. Two kinds of hierarchy can hold it:
//!
//! * a cgroup **v1 freezer** hierarchy: `auto` picks
//!   `<freezer mount>/mesos_command_modules` whenever one is mounted,
//!   beside (never inside) the `mesos/` subtree in which the agent's cgroups
//!   isolators keep the containers' cgroups. The freezer controller has no
//!   resource semantics (moving a command there changes nothing of its
//!   accounting or limits), and it is the one Mesos itself uses to find a
//!   container's processes. Mesos 1.11 manages container cgroups through v1
//!   only, so hosts that run it usually have one (a v1-only or hybrid host).
//! * the cgroup **v2** (unified) hierarchy: `auto` picks it only where no v1
//!   freezer hierarchy is mounted, as `<the agent's own v2 cgroup>/
//!   mesos_command_modules` (under systemd, inside the agent's unit, which
//!   must then be delegated to it: see the README); an explicit path may
//!   name any directory of it the agent may create cgroups in. The call
//!   cgroups enable no controller, so nothing of the command's accounting
//!   changes either, and the "no internal processes" rule never applies to
//!   them (it concerns controllers).
//!
//! On either, the command stays in the agent's cgroups of every other
//! hierarchy (memory, cpu, name=systemd, ...), so the agent's service
//! manager still accounts and stops it.
//!
//! # Placement before the first instruction
//!
//! A command must be inside its cgroup before it can fork, and no thread of
//! the agent ever joins a command's cgroup.
//!
//! * v2: `clone3` with `CLONE_INTO_CGROUP` creates the child inside its
//!   cgroup (see `spawn.rs`): there is no move at all. (Before Linux 5.7 the
//!   child writes itself into the cgroup's `cgroup.procs`, as on v1.)
//! * v1: the child the runner creates writes `0`, "the writer", to the
//!   call's `tasks` before it calls `execve`, which the kernel does without
//!   the process-wide lock that moving any other task takes (that lock
//!   waits for an RCU grace period and holds every fork of the process
//!   meanwhile). The `tasks` file is opened once per cgroup, which is then
//!   reused by later calls with the descriptor: measured on this project's
//!   2-vCPU VM, opening it (a path walk through the cgroup file system and
//!   its per-open state) was nearly all of the move's cost, 15 µs of the
//!   child's time before `execve` per call; the write itself is not
//!   measurable beside a spawn.
//!
//! A child that cannot join runs anyway, contained by its process group
//! only, and this is logged.
//!
//! # Telling it is empty
//!
//! Asked once per call when the command has exited: v1 reads one byte of
//! `cgroup.procs`, v2 reads `cgroup.events` (`populated`, which also counts
//! cgroups a command made below its own). v2's file stays open with the
//! cgroup and is read from offset 0 each time, which costs a tenth of
//! opening it (about 1 µs against 8 µs, measured here). v1's cannot: read
//! again, a descriptor kept open gives the pid list the kernel made at an
//! earlier opening of that cgroup's `cgroup.procs` (kept until a second
//! after the last read), so it is opened anew each time, relative to the
//! cgroup's directory kept open (4.6 µs against 6.0 µs by its full path,
//! measured here).
//!
//! # Killing
//!
//! At the deadline every member gets SIGTERM; after the grace period:
//!
//! * v2 with `cgroup.kill` (Linux 5.14): one write kills the cgroup and
//!   everything below it, and the kernel kills a child that a member forks
//!   meanwhile; rounds repeat (cheaply) until it is empty. A cgroup killed
//!   this way is never reused: on Linux 6.18 (measured here), every child
//!   `clone3` later creates in it is killed at birth (the kernel compares
//!   the kill count of the parent's cgroup, never killed, with the
//!   destination's). For the same reason, neither is the cgroup of a
//!   command that died of SIGKILL (it, or a descendant, may have written
//!   `cgroup.kill` itself).
//! * v2 without it: the cgroup is frozen (`cgroup.freeze`: a frozen member
//!   cannot fork, and still dies of SIGKILL), then every member gets
//!   SIGKILL; a frozen cgroup is never reused.
//! * v1: every member gets SIGKILL, in rounds until the cgroup is empty.
//!   The rounds end: a process with a pending SIGKILL cannot complete a
//!   fork (the kernel checks for pending signals before the child is
//!   attached), so each round can only find children forked before the
//!   previous one. The cgroup is not frozen for this: waiting for a v1
//!   freeze to complete would hold a runtime thread for as long as the
//!   slowest member takes to stop, which under load delays every other
//!   call.
//!
//! A signal to one member only goes to a pid through a pidfd opened on it
//! and after checking, through `/proc/<pid>/cgroup`, that the process is
//! still a member, so a recycled pid is never hit; our own process is never
//! signalled, whatever the cgroup lists.
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
//! Where no hierarchy is usable (none mounted, a read-only
//! `/sys/fs/cgroup`, no privilege), or `command_cgroup` is `none`,
//! commands are contained by their process group only: a descendant that
//! left the group (`setsid`, `setpgid`) escapes the kill and may survive
//! the timeout. This is logged when it happens.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::owner;
use super::spawn::Placement;

/// The name of the default root, created at the top of the freezer
/// hierarchy (v1) or in the agent's own cgroup (v2).
pub const DEFAULT_CGROUP_NAME: &str = "mesos_command_modules";
/// The subtree in which Mesos keeps its containers' cgroups when the agent
/// runs with the default `--cgroups_root`; never ours to use.
pub const MESOS_CGROUPS_ROOT: &str = "mesos";
/// The longest wait, in blocking contexts (drop, sweep), for killed
/// members to disappear.
pub const BLOCKING_EMPTY_WAIT: Duration = Duration::from_secs(1);

/// Makes v2 cgroups be killed by freezing them and signalling each member,
/// as on kernels without `cgroup.kill` (before Linux 5.14): for tests of
/// that path on a kernel that has it.
#[doc(hidden)]
pub static IGNORE_CGROUP_KILL: AtomicBool = AtomicBool::new(false);

/// Where commands' cgroups go: the `command_cgroup` parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CgroupSetting {
    /// In this order: `<freezer mount>/mesos_command_modules` when a cgroup
    /// v1 freezer hierarchy is mounted; else `<the agent's cgroup>/
    /// mesos_command_modules` in the cgroup v2 hierarchy when one is
    /// mounted; process groups where the chosen one is not writable.
    #[default]
    Auto,
    /// Process groups only (`none`).
    Disabled,
    /// This directory, in a cgroup v1 freezer hierarchy or in the cgroup
    /// v2 hierarchy.
    At(PathBuf),
}

/// The two kinds of cgroup hierarchy commands can be contained in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hierarchy {
    /// A cgroup v1 hierarchy with the freezer controller.
    V1Freezer,
    /// The cgroup v2 (unified) hierarchy.
    V2,
}

impl Hierarchy {
    fn name(self) -> &'static str {
        match self {
            Hierarchy::V1Freezer => "cgroup v1 freezer",
            Hierarchy::V2 => "cgroup v2",
        }
    }
}

impl CgroupSetting {
    /// Parses and checks a `command_cgroup` value: `auto`, `none`, or the
    /// absolute path of a directory (created if needed) in a mounted cgroup
    /// v1 freezer hierarchy, outside Mesos's own `mesos` subtree, or in the
    /// mounted cgroup v2 hierarchy where this process may create cgroups.
    /// Creates nothing.
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
                 freezer hierarchy or in the cgroup v2 hierarchy"
            ));
        }
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let Some(mount) = mount_containing(&mountinfo, &path) else {
            return Err(format!(
                "\"{value}\" is in no mounted cgroup hierarchy the module can use: name a \
                 directory in a cgroup v1 freezer hierarchy or in the cgroup v2 hierarchy \
                 (mounted here: {})",
                describe_mounts(&cgroup_mounts(&mountinfo))
            ));
        };
        let kind = mount.hierarchy.name();
        let relative = path.strip_prefix(&mount.point).unwrap_or(Path::new(""));
        if relative.as_os_str().is_empty() {
            return Err(format!(
                "\"{value}\" is the root of the {kind} hierarchy; name a directory in it, e.g. \
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
        if mount.hierarchy == Hierarchy::V2 {
            // The directory, or the nearest existing one above it, must let
            // this process create cgroups: on v2 that is what delegation
            // grants (a non-root agent owns its delegated directory).
            let existing = path
                .ancestors()
                .find(|p| p.exists())
                .unwrap_or(&mount.point);
            if let Err(e) = may_create_in(existing) {
                return Err(format!(
                    "\"{value}\" is in the cgroup v2 hierarchy mounted at {}, but this process \
                     cannot create cgroups in {} ({e}); the directory must be delegated to the \
                     agent (under systemd: Delegate=yes, see the README's \"cgroup v2\")",
                    mount.point.display(),
                    existing.display()
                ));
            }
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

/// Whether this process may create entries in the directory `dir`
/// (`access(W_OK | X_OK)`: permission bits, a read-only mount).
fn may_create_in(dir: &Path) -> io::Result<()> {
    use rustix::fs::Access;
    Ok(rustix::fs::access(dir, Access::WRITE_OK | Access::EXEC_OK)?)
}

/// A mounted cgroup hierarchy the module can use: a v1 one with the
/// freezer controller, or the v2 one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupMount {
    /// Where it is mounted.
    pub point: PathBuf,
    /// The hierarchy path mounted there (`/` but for bind mounts and
    /// cgroup namespaces).
    pub root: PathBuf,
    pub hierarchy: Hierarchy,
}

/// The usable cgroup hierarchies listed in a `/proc/self/mountinfo` text,
/// in its order.
pub fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mut fields = before.split(' ');
            let root = fields.nth(3)?;
            let point = fields.next()?;
            let mut after = after.split(' ');
            let (fstype, _source, options) = (after.next()?, after.next()?, after.next()?);
            let hierarchy = match fstype {
                "cgroup" if options.split(',').any(|o| o == "freezer") => Hierarchy::V1Freezer,
                "cgroup2" => Hierarchy::V2,
                _ => return None,
            };
            Some(CgroupMount {
                point: PathBuf::from(unescape(point)),
                root: PathBuf::from(unescape(root)),
                hierarchy,
            })
        })
        .collect()
}

/// The freezer hierarchies listed in a `/proc/self/mountinfo` text.
pub fn freezer_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    cgroup_mounts(mountinfo)
        .into_iter()
        .filter(|m| m.hierarchy == Hierarchy::V1Freezer)
        .collect()
}

/// The cgroup v2 mounts listed in a `/proc/self/mountinfo` text.
pub fn unified_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    cgroup_mounts(mountinfo)
        .into_iter()
        .filter(|m| m.hierarchy == Hierarchy::V2)
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

/// The usable hierarchy mounted deepest above `path`.
pub fn mount_containing(mountinfo: &str, path: &Path) -> Option<CgroupMount> {
    cgroup_mounts(mountinfo)
        .into_iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.as_os_str().len())
}

fn describe_mounts(mounts: &[CgroupMount]) -> String {
    if mounts.is_empty() {
        "none".to_string()
    } else {
        mounts
            .iter()
            .map(|m| format!("{} ({})", m.point.display(), m.hierarchy.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The directory of this process's own cgroup v2 cgroup under `mount`
/// (the `0::` line of `/proc/self/cgroup`), or the mount point when it is
/// not below the mounted root.
fn own_unified_cgroup(mount: &CgroupMount, proc_self_cgroup: &str) -> PathBuf {
    proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .and_then(|own| Path::new(own).strip_prefix(&mount.root).ok())
        .map_or_else(|| mount.point.clone(), |rel| mount.point.join(rel))
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
    hierarchy: Hierarchy,
    /// This runner's directory under the root.
    instance: PathBuf,
    /// Why the last attempt to create a call's cgroup failed, to log each
    /// change once rather than at every call.
    failure: Mutex<Option<String>>,
    /// Cgroups whose members would not die in time; removal is retried.
    pending: Mutex<Vec<PathBuf>>,
    /// Empty call cgroups kept for later calls, with their open files.
    idle: Mutex<Vec<(u64, Arc<Files>)>>,
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
        let (root, hierarchy) = match setting {
            CgroupSetting::Disabled => {
                return Containment::ProcessGroup("command_cgroup is \"none\"".to_string())
            }
            // v1 first: Mesos's own cgroups isolators use v1, and a hybrid
            // host's v2 hierarchy is often systemd's alone.
            CgroupSetting::Auto => match (
                freezer_mounts(&mountinfo).into_iter().next(),
                unified_mounts(&mountinfo).into_iter().next(),
            ) {
                (Some(v1), _) => (v1.point.join(DEFAULT_CGROUP_NAME), Hierarchy::V1Freezer),
                (None, Some(v2)) => {
                    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
                    (
                        own_unified_cgroup(&v2, &own).join(DEFAULT_CGROUP_NAME),
                        Hierarchy::V2,
                    )
                }
                (None, None) => {
                    return Containment::ProcessGroup(
                        "neither a cgroup v1 freezer hierarchy nor the cgroup v2 hierarchy is \
                         mounted"
                            .to_string(),
                    )
                }
            },
            CgroupSetting::At(path) => match mount_containing(&mountinfo, path) {
                Some(mount) => (path.clone(), mount.hierarchy),
                None => {
                    return Containment::ProcessGroup(format!(
                        "{} is in no mounted cgroup v1 freezer or cgroup v2 hierarchy",
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
            hierarchy,
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
        sweep(&shared.root, hierarchy);
        Containment::Cgroups(Cgroups {
            shared,
            counter: AtomicU64::new(0),
        })
    }

    /// A line for the log saying how commands are contained.
    pub fn describe(&self) -> String {
        match self {
            Containment::Cgroups(c) => {
                let how = match c.shared.hierarchy {
                    Hierarchy::V1Freezer => "cgroup v1 freezer".to_string(),
                    Hierarchy::V2 => format!(
                        "cgroup v2, {}, killed {}",
                        if super::kernel::features().clone_into_cgroup {
                            "created inside it by clone3 (CLONE_INTO_CGROUP)"
                        } else {
                            "moved in by its child before execve (this kernel has no \
                             CLONE_INTO_CGROUP, Linux 5.7)"
                        },
                        if c.shared.has_kill_file() {
                            "with cgroup.kill"
                        } else {
                            "by freezing it and signalling each member (no cgroup.kill, \
                             Linux 5.14)"
                        }
                    ),
                };
                format!(
                    "each command runs in its own cgroup under {} ({how})",
                    c.shared.root.display()
                )
            }
            Containment::ProcessGroup(reason) => format!("{reason}: {FALLBACK_CONSEQUENCE}"),
        }
    }

    /// The hierarchy commands are contained in, if any.
    pub fn hierarchy(&self) -> Option<Hierarchy> {
        match self {
            Containment::Cgroups(c) => Some(c.shared.hierarchy),
            Containment::ProcessGroup(_) => None,
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
                .map(|(n, _)| c.shared.instance.join(n.to_string()))
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

    /// Whether this kernel's v2 cgroups have `cgroup.kill` (Linux 5.14),
    /// as this runner's directory shows.
    fn has_kill_file(&self) -> bool {
        self.instance.join("cgroup.kill").exists()
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
        if pending.is_empty() {
            return;
        }
        pending.retain(|path| match remove_tree(path) {
            Ok(()) => false,
            Err(e) => e.kind() != io::ErrorKind::NotFound,
        });
    }
}

impl Cgroups {
    /// An empty cgroup for one call: one a previous call left empty, else
    /// a new one. Reusing them saves a `mkdir` and an `rmdir` per call,
    /// and opening their files again.
    fn call_cgroup(&self) -> Option<CallCgroup> {
        self.shared.retry_pending();
        if let Some((n, files)) = lock(&self.shared.idle).pop() {
            return Some(CallCgroup::numbered(&self.shared, n, files));
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
            })
            .and_then(|()| {
                Files::open(&path, self.shared.hierarchy).inspect_err(|_| {
                    let _ = fs::remove_dir(&path);
                })
            });
        match created {
            Ok(files) => {
                self.shared.report(None);
                Some(CallCgroup::numbered(&self.shared, n, Arc::new(files)))
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
        for (n, files) in lock(&self.shared.idle).drain(..) {
            drop(files);
            let _ = remove_tree(&self.shared.instance.join(n.to_string()));
        }
        let _ = fs::remove_dir(&self.shared.instance);
    }
}

/// How many empty call cgroups a runner keeps for reuse: enough for the
/// calls in flight at a busy agent's peak; more are removed. Each holds
/// two open descriptors (see [`Files`]).
pub const MAX_IDLE_CGROUPS: usize = 256;

/// The files of one call cgroup that every call uses, kept open as long as
/// the cgroup is (in use or kept for reuse): see the module documentation
/// for what opening them cost.
#[derive(Debug)]
struct Files {
    /// How the command gets in: v1 `tasks`, written by the child; v2 the
    /// directory, for `clone3`, or `cgroup.procs`, written by the child,
    /// where `clone3` cannot place it.
    join: File,
    /// Whether `join` is the directory, for `clone3`.
    join_by_clone: bool,
    /// v2 `cgroup.events`, read from offset 0 to tell whether the cgroup
    /// is empty; v1 the cgroup's directory, where `cgroup.procs` is opened
    /// to tell it. On v1 a descriptor of `cgroup.procs` kept open cannot
    /// tell: reading it again gives the list of pids the kernel made at
    /// the last opening of the cgroup's `cgroup.procs`, which it keeps
    /// until a second after the last read, so that a cgroup reused within
    /// the second looked empty with a command's leftovers in it.
    probe: File,
}

impl Files {
    fn open(cgroup: &Path, hierarchy: Hierarchy) -> io::Result<Files> {
        let write = |name: &str| fs::OpenOptions::new().write(true).open(cgroup.join(name));
        Ok(match hierarchy {
            Hierarchy::V1Freezer => Files {
                join: write("tasks")?,
                join_by_clone: false,
                probe: fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
                    .open(cgroup)?,
            },
            Hierarchy::V2 => {
                let by_clone = super::kernel::features().clone_into_cgroup;
                Files {
                    join: if by_clone {
                        fs::OpenOptions::new()
                            .read(true)
                            .custom_flags(libc::O_DIRECTORY)
                            .open(cgroup)?
                    } else {
                        write("cgroup.procs")?
                    },
                    join_by_clone: by_clone,
                    probe: File::open(cgroup.join("cgroup.events"))?,
                }
            }
        })
    }
}

/// The cgroup of one call. Released by [`CallCgroup::release`] (kept for
/// reuse when empty) or removed by [`CallCgroup::remove`]; one that cannot
/// be removed yet (a member in uninterruptible sleep) is retried at later
/// calls.
#[derive(Debug)]
pub struct CallCgroup {
    path: PathBuf,
    hierarchy: Hierarchy,
    /// Open while the cgroup is; `None` for the cgroups of a dead process
    /// (the sweep opens nothing: it only kills and removes).
    files: Option<Arc<Files>>,
    /// `/<instance>/<n>`: the end of the path `/proc/<pid>/cgroup` shows
    /// for a member.
    suffix: String,
    shared: Arc<Shared>,
    /// Its number in this runner's directory; `None` for the cgroups of a
    /// dead process, which are never reused.
    number: Option<u64>,
    /// Removed, or back in the pool of idle cgroups: no longer this call's.
    released: AtomicBool,
    /// Frozen by us to be killed (v2 without `cgroup.kill`), or killed
    /// through `cgroup.kill`: never reused (see the module documentation).
    spoiled: AtomicBool,
}

impl CallCgroup {
    fn numbered(shared: &Arc<Shared>, n: u64, files: Arc<Files>) -> CallCgroup {
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
            path,
            hierarchy: shared.hierarchy,
            files: Some(files),
            suffix,
            shared: Arc::clone(shared),
            number: Some(n),
            released: AtomicBool::new(false),
            spoiled: AtomicBool::new(false),
        }
    }

    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the command is put inside (see the module documentation): the
    /// descriptors stay open as long as this value.
    pub(crate) fn placement(&self) -> Placement {
        match &self.files {
            Some(f) if f.join_by_clone => Placement::Into(f.join.as_raw_fd()),
            Some(f) => Placement::Write(f.join.as_raw_fd()),
            None => Placement::Stay,
        }
    }

    /// The members' pids (on v2 those of cgroups below it too), never our
    /// own.
    pub fn pids(&self) -> Vec<i32> {
        match self.hierarchy {
            Hierarchy::V1Freezer => read_pids(&self.path.join("cgroup.procs")),
            Hierarchy::V2 => {
                let mut pids = Vec::new();
                collect_pids(&self.path, &mut pids, 0);
                pids
            }
        }
    }

    /// Whether no process is left (a cgroup that cannot be read is empty:
    /// it was removed).
    pub fn is_empty(&self) -> bool {
        // Asked once per call when the command has exited: the common,
        // empty, case costs one read of a file kept open (v2), or an open
        // relative to the cgroup's directory, a read of a byte and a close
        // (v1: see `Files::probe`).
        let Some(files) = &self.files else {
            return self.pids().is_empty();
        };
        match self.hierarchy {
            Hierarchy::V1Freezer => {
                use rustix::fs::{openat, Mode, OFlags};
                let flags = OFlags::RDONLY | OFlags::CLOEXEC;
                // ENOENT, ENODEV: removed.
                let Ok(procs) = openat(&files.probe, "cgroup.procs", flags, Mode::empty()) else {
                    return true;
                };
                let mut first = [0u8; 1];
                match rustix::io::read(&procs, &mut first) {
                    Ok(0) | Err(_) => true,
                    Ok(_) => self.pids().is_empty(),
                }
            }
            Hierarchy::V2 => events(&files.probe).is_none_or(|e| !e.populated),
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
    /// for why rounds until the cgroup is empty end. Returns how many
    /// processes it found (v2) or signalled (v1).
    pub fn kill_all(&self) -> usize {
        match self.hierarchy {
            Hierarchy::V1Freezer => self.signal_all(libc::SIGKILL),
            Hierarchy::V2 => {
                if self.is_empty() {
                    return 0;
                }
                let members = self.pids().len();
                let spoiled = self.spoiled.swap(true, Ordering::SeqCst);
                if !IGNORE_CGROUP_KILL.load(Ordering::Relaxed)
                    && fs::write(self.path.join("cgroup.kill"), "1").is_ok()
                {
                    return members;
                }
                // No cgroup.kill (before Linux 5.14): frozen, nothing in it
                // can fork, and SIGKILL still ends a frozen process.
                if !spoiled {
                    let _ = fs::write(self.path.join("cgroup.freeze"), "1");
                }
                self.signal_all(libc::SIGKILL)
            }
        }
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
    /// many for the pool, or one killed as a whole or frozen) is removed.
    /// `known_empty`: the caller has just seen it empty, after the command
    /// and everything it started were gone, so that nothing can have
    /// joined since.
    pub fn release(&self, known_empty: bool) {
        if self.released.load(Ordering::SeqCst) {
            return;
        }
        if let (Some(n), Some(files)) = (self.number, &self.files) {
            if !self.spoiled.load(Ordering::SeqCst)
                && (known_empty || self.is_empty())
                && self.reusable(files)
            {
                let mut idle = lock(&self.shared.idle);
                if idle.len() < MAX_IDLE_CGROUPS {
                    idle.push((n, Arc::clone(files)));
                    self.released.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
        self.remove();
    }

    /// Whether a later command can run in it as in a new one: on v2, not
    /// if a command froze it (`cgroup.freeze`: it would freeze the next
    /// one). Cgroups a command made below its own do not matter: without
    /// controllers a cgroup may hold processes and children, `populated`
    /// counts theirs, and they go with it.
    fn reusable(&self, files: &Files) -> bool {
        match self.hierarchy {
            Hierarchy::V1Freezer => true,
            Hierarchy::V2 => events(&files.probe).is_some_and(|e| !e.frozen),
        }
    }

    /// Marks the cgroup as not to be reused (its command died of
    /// SIGKILL: see the module documentation).
    pub fn spoil(&self) {
        self.spoiled.store(true, Ordering::SeqCst);
    }

    /// Removes the cgroup (and any a command made below it), or queues it
    /// for a later retry if a member is still there.
    pub fn remove(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        match remove_tree(&self.path) {
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
        use rustix::process::{Pid, PidfdFlags, Signal};
        let (Some(process), Some(signal)) = (Pid::from_raw(pid), Signal::from_named_raw(signal))
        else {
            return false;
        };
        if pid == std::process::id() as i32 {
            return false;
        }
        match rustix::process::pidfd_open(process, PidfdFlags::empty()) {
            Ok(fd) => self.has(pid) && rustix::process::pidfd_send_signal(fd, signal).is_ok(),
            // Kernels before 5.3: checked, then signalled by pid (a
            // recycling in between is possible, if most unlikely).
            Err(rustix::io::Errno::NOSYS) if self.has(pid) => {
                rustix::process::kill_process(process, signal).is_ok()
            }
            Err(_) => false,
        }
    }

    /// Whether `/proc/<pid>/cgroup` puts the process in this cgroup (on
    /// v2, or below it).
    fn has(&self, pid: i32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .ok()
            .and_then(|text| cgroup_path(&text, self.hierarchy))
            .is_some_and(|path| {
                path.ends_with(&self.suffix)
                    || (self.hierarchy == Hierarchy::V2
                        && path.contains(&format!("{}/", self.suffix)))
            })
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

/// What a v2 cgroup's `cgroup.events` says.
struct Events {
    /// A process is in it or below it.
    populated: bool,
    /// It is frozen.
    frozen: bool,
}

/// Reads a v2 `cgroup.events` kept open, from its start; `None` if it
/// cannot be read (the cgroup was removed).
fn events(file: &File) -> Option<Events> {
    let mut buffer = [0u8; 128];
    let n = file.read_at(&mut buffer, 0).ok()?;
    let text = std::str::from_utf8(buffer.get(..n)?).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u8>().ok())
            .unwrap_or(0)
            == 1
    };
    Some(Events {
        populated: field("populated "),
        frozen: field("frozen "),
    })
}

/// The path of the hierarchy's line in a `/proc/<pid>/cgroup` text: v1 the
/// line whose controllers include `freezer`, v2 the `0::` line.
fn cgroup_path(text: &str, hierarchy: Hierarchy) -> Option<String> {
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let ours = match hierarchy {
            Hierarchy::V1Freezer => controllers.split(',').any(|c| c == "freezer"),
            Hierarchy::V2 => id == "0" && controllers.is_empty(),
        };
        ours.then(|| path.to_string())
    })
}

fn has_subdirectory(path: &Path) -> bool {
    fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        })
        .unwrap_or(false)
}

/// Removes a cgroup and the cgroups a command may have made below it,
/// deepest first.
fn remove_tree(path: &Path) -> io::Result<()> {
    match fs::remove_dir(path) {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) && has_subdirectory(path) => {
            for entry in fs::read_dir(path)?.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    let _ = remove_tree(&entry.path());
                }
            }
            fs::remove_dir(path)
        }
        other => other,
    }
}

/// Collects the pids of a v2 cgroup and of those below it (bounded depth:
/// a command cannot make the walk endless).
fn collect_pids(path: &Path, pids: &mut Vec<i32>, depth: usize) {
    pids.extend(read_pids(&path.join("cgroup.procs")));
    if depth >= 16 {
        return;
    }
    if let Ok(entries) = fs::read_dir(path) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                collect_pids(&entry.path(), pids, depth + 1);
            }
        }
    }
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
pub fn sweep(root: &Path, hierarchy: Hierarchy) -> usize {
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
            hierarchy,
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
                    path: call.path(),
                    hierarchy,
                    files: None,
                    suffix: format!("/{name}/{call_name}"),
                    shared: Arc::clone(&shared),
                    number: None,
                    released: AtomicBool::new(false),
                    spoiled: AtomicBool::new(false),
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
        let mounts = cgroup_mounts(MOUNTINFO);
        assert_eq!(
            mounts,
            vec![
                CgroupMount {
                    point: "/sys/fs/cgroup/freezer".into(),
                    root: "/".into(),
                    hierarchy: Hierarchy::V1Freezer,
                },
                CgroupMount {
                    point: "/sys/fs/cgroup/unified".into(),
                    root: "/".into(),
                    hierarchy: Hierarchy::V2,
                },
                CgroupMount {
                    point: "/mnt/with space".into(),
                    root: "/sub".into(),
                    hierarchy: Hierarchy::V1Freezer,
                },
            ]
        );
        assert_eq!(freezer_mounts(MOUNTINFO).len(), 2);
        assert_eq!(unified_mounts(MOUNTINFO).len(), 1);
        assert!(cgroup_mounts("garbage\n\n1 2 3\n").is_empty());
        let m = mount_containing(MOUNTINFO, Path::new("/sys/fs/cgroup/freezer/x/y")).unwrap();
        assert_eq!(m.point, PathBuf::from("/sys/fs/cgroup/freezer"));
        assert_eq!(m.hierarchy, Hierarchy::V1Freezer);
        let m = mount_containing(MOUNTINFO, Path::new("/sys/fs/cgroup/unified/x")).unwrap();
        assert_eq!(m.hierarchy, Hierarchy::V2);
        assert!(mount_containing(MOUNTINFO, Path::new("/sys/fs/cgroup/cpu/x")).is_none());
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
            e.contains("is in no mounted cgroup hierarchy the module can use"),
            "{e}"
        );
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
        if let Some(m) = freezer_mounts(&mountinfo).first() {
            let e = CgroupSetting::parse(m.point.join("mesos/x").to_str().unwrap()).unwrap_err();
            assert!(e.contains("containers' cgroups"), "{e}");
            let e = CgroupSetting::parse(m.point.to_str().unwrap()).unwrap_err();
            assert!(e.contains("root of the cgroup v1 freezer hierarchy"), "{e}");
            let ok = m.point.join("elsewhere");
            assert_eq!(
                CgroupSetting::parse(ok.to_str().unwrap()),
                Ok(CgroupSetting::At(ok))
            );
        }
    }

    #[test]
    fn the_hierarchy_s_line_is_read_from_proc_cgroup() {
        let text = "9:name=systemd:/\n6:freezer:/a/b\n4:memory:/x\n0::/u/v\n";
        let v1 = Hierarchy::V1Freezer;
        assert_eq!(cgroup_path(text, v1).as_deref(), Some("/a/b"));
        assert_eq!(cgroup_path(text, Hierarchy::V2).as_deref(), Some("/u/v"));
        assert_eq!(cgroup_path("3:cpu,freezer:/c\n", v1).as_deref(), Some("/c"));
        assert_eq!(cgroup_path("0::/\n", v1), None);
        assert_eq!(cgroup_path("6:freezer:/a\n", Hierarchy::V2), None);
    }

    #[test]
    fn the_agent_s_own_v2_cgroup_is_the_default_parent() {
        let mount = CgroupMount {
            point: "/sys/fs/cgroup".into(),
            root: "/".into(),
            hierarchy: Hierarchy::V2,
        };
        let own = "0::/system.slice/mesos-agent.service\n";
        assert_eq!(
            own_unified_cgroup(&mount, own),
            PathBuf::from("/sys/fs/cgroup/system.slice/mesos-agent.service")
        );
        assert_eq!(
            own_unified_cgroup(&mount, "0::/\n"),
            PathBuf::from("/sys/fs/cgroup")
        );
        // Not below the mounted root (another namespace's view): the top.
        let bound = CgroupMount {
            root: "/elsewhere".into(),
            ..mount
        };
        assert_eq!(
            own_unified_cgroup(&bound, own),
            PathBuf::from("/sys/fs/cgroup")
        );
    }

    #[test]
    fn cgroup_events_are_read_from_the_start() {
        let dir = std::env::temp_dir().join(format!("events-{}", std::process::id()));
        fs::write(&dir, "populated 1\nfrozen 0\n").unwrap();
        let f = File::open(&dir).unwrap();
        for _ in 0..2 {
            let e = events(&f).unwrap();
            assert!(e.populated && !e.frozen);
        }
        fs::write(&dir, "populated 0\nfrozen 1\n").unwrap();
        let e = events(&f).unwrap();
        assert!(!e.populated && e.frozen);
        fs::remove_file(&dir).unwrap();
    }
}
