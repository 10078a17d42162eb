//! The three files of one command run: input, output and error.
//!
//! They live in a private directory (mode 0700, created once per process)
//! because the input may carry secrets (environment values, task data).
//! Each call gets its own subdirectory (mode 0700) holding its files, each
//! created with `O_EXCL` and mode 0600; the files are removed when
//! [`CallFiles`] is dropped, which covers success, error, timeout and
//! panic, and the subdirectory with whatever else the command wrote there
//! (`"$2.tmp"`). A subdirectory found empty and still private, on a tmpfs
//! (where an empty directory says so in its size), is kept for a later
//! call instead: its `mkdir` and `rmdir` cost about as much as creating and
//! removing one of the three files (4-5 µs each on the README's VM).
//!
//! The private directory's name carries its creator's owner tag (see
//! `owner.rs`): a new runner removes the directories of processes that died
//! without cleaning up (an agent killed with SIGKILL), so that the inputs
//! they held, secrets included, do not stay on disk.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::owner;
use crate::error::{CallError, ErrorKind};

/// The beginning of a private directory's name.
pub const DIRECTORY_PREFIX: &str = "mesos-command-modules-";

/// The private directory that holds every call's files.
#[derive(Debug)]
pub struct PrivateDir {
    parent: PathBuf,
    current: Mutex<Option<Current>>,
    counter: AtomicU64,
    /// Mixed into the names of the calls' directories, drawn once: a
    /// random number per call was a system call per call, and inside a
    /// directory only we can write to, `O_EXCL` already makes each name
    /// ours.
    salt: u32,
}

impl PrivateDir {
    /// A private directory to be created under `parent` on first use. The
    /// private directories that dead processes left under `parent` are
    /// removed now.
    pub fn new(parent: &Path) -> PrivateDir {
        let removed = sweep(parent);
        if !removed.is_empty() {
            log::info!(
                "removed the temp directories of processes that died: {}",
                removed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        PrivateDir {
            parent: parent.to_path_buf(),
            current: Mutex::new(None),
            counter: AtomicU64::new(0),
            salt: random_u32(),
        }
    }

    /// The directory, if it has been created.
    pub fn current(&self) -> Option<PathBuf> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|current| current.path.clone())
    }

    /// The directory: the current one, or a new one of mode 0700 if there
    /// is none yet or if `stale` (the directory a caller just found
    /// removed, as a tmp cleaner may) is still the current one.
    fn directory(&self, stale: Option<&Path>) -> io::Result<Current> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = current.as_ref() {
            if Some(dir.path.as_path()) != stale {
                return Ok(dir.clone());
            }
        }
        let mut last_error = None;
        for _ in 0..16 {
            let candidate = self.parent.join(format!(
                "{DIRECTORY_PREFIX}{}-{:08x}",
                owner::own_tag(),
                random_u32()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&candidate) {
                Ok(()) => {
                    let spares = Spares::for_directory(&candidate).map(Arc::new);
                    let created = Current {
                        path: candidate,
                        spares,
                    };
                    *current = Some(created.clone());
                    return Ok(created);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no free directory name")))
    }

    /// Creates the directory of one call in the private directory, for
    /// its files. The private directory is known to exist and be ours once
    /// created: it is not looked at again per call (two system calls),
    /// only made anew when the call's `mkdir` finds it gone. The error
    /// names the call's directory, or `None` for the private one.
    fn call_directory(&self) -> Result<CallFiles, (Option<PathBuf>, io::Error)> {
        let mut stale = None;
        loop {
            let dir = self.directory(stale.as_deref()).map_err(|e| (None, e))?;
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let call = dir.path.join(format!(
                "{n:08}-{:08x}",
                self.salt ^ (n as u32).rotate_left(16)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&call) {
                Ok(()) => return Ok(CallFiles::new(call, dir.spares)),
                Err(e) if e.kind() == io::ErrorKind::NotFound && stale.is_none() => {
                    stale = Some(dir.path)
                }
                Err(e) => return Err((Some(call), e)),
            }
        }
    }

    /// A kept call directory of the current private directory, if any.
    fn spare(&self) -> Option<(PathBuf, Arc<Spares>)> {
        let spares = Arc::clone(
            self.current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()?
                .spares
                .as_ref()?,
        );
        let spare = spares.take()?;
        Some((spare, spares))
    }

    /// Creates the files of one call and writes `input` into the input
    /// file; returns them with the input file open at its start, to be the
    /// command's standard input.
    pub fn create(&self, input: &[u8]) -> Result<(CallFiles, File), CallError> {
        // A kept directory that is gone (a tmp cleaner removes old empty
        // directories) is forgotten: the call takes another.
        while let Some((call, spares)) = self.spare() {
            let files = CallFiles::new(call, Some(spares));
            match files.create_input() {
                Err(e) if e.kind() == io::ErrorKind::NotFound => files.give_up_directory(),
                input_file => return files.with_input(input_file, input),
            }
        }
        let files = self.call_directory().map_err(|(path, e)| {
            CallError::new(
                ErrorKind::Io,
                match path {
                    Some(call) => {
                        format!("cannot create the temp directory {}: {e}", call.display())
                    }
                    None => format!(
                        "cannot create a private temp directory under {}: {e}",
                        self.parent.display()
                    ),
                },
            )
        })?;
        let input_file = files.create_input();
        files.with_input(input_file, input)
    }
}

/// The private directory in use, and where its spare call directories go.
#[derive(Clone, Debug)]
struct Current {
    path: PathBuf,
    /// `None` when the directory is not on a tmpfs.
    spares: Option<Arc<Spares>>,
}

/// How many empty call directories are kept, at most: beyond what the
/// concurrency limit lets run at once, a burst's directories are removed.
const SPARES: usize = 64;

/// Empty call directories kept for later calls (see the module
/// documentation).
#[derive(Debug)]
struct Spares {
    /// `None` once the runner has ended: a call finishing after that
    /// removes its directory.
    directories: Mutex<Option<Vec<PathBuf>>>,
    /// Our effective user id: a kept directory must still be ours.
    owner: u32,
    /// The size of an empty directory there: 0, or two entries' worth
    /// (`.` and `..`) since Linux 6.6.
    empty_size: u64,
}

impl Spares {
    /// Spares for the private directory `dir`, just created, if it is on a
    /// tmpfs; being empty, it gives the size of an empty directory.
    fn for_directory(dir: &Path) -> Option<Spares> {
        if !on_tmpfs(dir) {
            return None;
        }
        Some(Spares {
            directories: Mutex::new(Some(Vec::new())),
            owner: rustix::process::geteuid().as_raw(),
            empty_size: std::fs::symlink_metadata(dir).ok()?.len(),
        })
    }

    fn take(&self) -> Option<PathBuf> {
        self.directories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()?
            .pop()
    }

    /// Keeps `directory` if it is empty, ours and private, and there is
    /// room; says whether it was kept. On a tmpfs a directory's size counts
    /// its entries, so one `stat` tells all.
    fn keep(&self, directory: &Path) -> bool {
        let Ok(m) = std::fs::symlink_metadata(directory) else {
            return false;
        };
        if !(m.is_dir()
            && m.len() == self.empty_size
            && m.mode() & 0o7777 == 0o700
            && m.uid() == self.owner)
        {
            return false;
        }
        let mut directories = self.directories.lock().unwrap_or_else(|p| p.into_inner());
        match directories.as_mut() {
            Some(kept) if kept.len() < SPARES => {
                kept.push(directory.to_path_buf());
                true
            }
            _ => false,
        }
    }

    /// Removes the kept directories and keeps no more (at the end of the
    /// runner).
    fn remove_all(&self) {
        let kept = self
            .directories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for directory in kept.into_iter().flatten() {
            let _ = std::fs::remove_dir(directory);
        }
    }
}

/// Whether `dir` is on a tmpfs (not a ramfs, whose directories have no
/// size to tell that they are empty).
fn on_tmpfs(dir: &Path) -> bool {
    magic(dir) == Some(TMPFS_MAGIC)
}

const TMPFS_MAGIC: i64 = 0x0102_1994;

/// The type of the file system `dir` is on (`statfs`'s `f_type`).
fn magic(dir: &Path) -> Option<i64> {
    // `f_type` is not an i64 on every architecture.
    #[allow(clippy::unnecessary_cast)]
    Some(rustix::fs::statfs(dir).ok()?.f_type as i64)
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Ok(current) = self.current.get_mut() {
            if let Some(dir) = current.take() {
                if let Some(spares) = &dir.spares {
                    spares.remove_all();
                }
                let _ = std::fs::remove_dir(dir.path);
            }
        }
    }
}

fn is_private_dir(dir: &Path) -> bool {
    match std::fs::symlink_metadata(dir) {
        Ok(m) => {
            m.is_dir()
                && m.mode() & 0o777 == 0o700
                && m.uid() == rustix::process::geteuid().as_raw()
        }
        Err(_) => false,
    }
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let n = rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::NONBLOCK);
    if matches!(n, Ok(4)) {
        u32::from_ne_bytes(bytes)
    } else {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        t.subsec_nanos() ^ std::process::id()
    }
}

/// The input, output and error files of one call, removed on drop, and
/// their directory, removed or kept for a later call.
#[derive(Debug)]
pub struct CallFiles {
    pub input: PathBuf,
    pub output: PathBuf,
    pub error: PathBuf,
    /// The call's own directory.
    pub directory: PathBuf,
    /// Where the directory goes if it is left empty, on a tmpfs.
    spares: Option<Arc<Spares>>,
}

impl CallFiles {
    fn new(directory: PathBuf, spares: Option<Arc<Spares>>) -> CallFiles {
        CallFiles {
            input: directory.join("input"),
            output: directory.join("output"),
            error: directory.join("error"),
            directory,
            spares,
        }
    }

    fn create_input(&self) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.input)
    }

    /// With the input file created (or not), writes `input` into it and
    /// creates the two others.
    fn with_input(
        self,
        input_file: io::Result<File>,
        input: &[u8],
    ) -> Result<(CallFiles, File), CallError> {
        let input_file = input_file.map_err(|e| cannot_create(&self.input, &e))?;
        // At offset 0 without moving the file's offset, which stays at the
        // start for the command reading it as its standard input.
        input_file.write_all_at(input, 0).map_err(|e| {
            CallError::new(
                ErrorKind::Io,
                format!("cannot write the input file {}: {e}", self.input.display()),
            )
        })?;
        create_empty(&self.output)?;
        create_empty(&self.error)?;
        Ok((self, input_file))
    }

    /// Removes what is left of a kept directory found gone, which is not
    /// kept again.
    fn give_up_directory(mut self) {
        self.spares = None;
        drop(self);
    }
}

/// Creates an empty file of mode 0600 that must not exist yet (as
/// `O_CREAT | O_EXCL`), without opening it: one system call instead of an
/// open and a close.
fn create_empty(path: &Path) -> Result<(), CallError> {
    use rustix::fs::{FileType, Mode, CWD};
    rustix::fs::mknodat(CWD, path, FileType::RegularFile, Mode::RUSR | Mode::WUSR, 0)
        .map_err(|e| cannot_create(path, &e.into()))
}

fn cannot_create(path: &Path, e: &io::Error) -> CallError {
    CallError::new(
        ErrorKind::Io,
        format!("cannot create the temp file {}: {e}", path.display()),
    )
}

impl Drop for CallFiles {
    fn drop(&mut self) {
        // The three files by name, then the directory, kept (a `stat`) or
        // removed: the common case in four system calls. A command that
        // left more (or replaced a file by a directory) gets the full
        // walk, which does not follow symbolic links it may have left.
        for file in [&self.input, &self.output, &self.error] {
            let _ = std::fs::remove_file(file);
        }
        if self
            .spares
            .as_ref()
            .is_some_and(|spares| spares.keep(&self.directory))
        {
            return;
        }
        if std::fs::remove_dir(&self.directory).is_err() {
            let _ = std::fs::remove_dir_all(&self.directory);
        }
    }
}

/// Whether `dir` is on a file system held in memory (tmpfs, ramfs); `None`
/// if that cannot be told. Each call creates and removes three files in the
/// temp directory: on a disk file system that is journaled metadata work and
/// disk I/O per call (several times the CPU of a tmpfs, and removals that
/// wait for the disk), and the inputs, which may hold secrets, reach the
/// disk.
pub fn memory_backed(dir: &Path) -> Option<bool> {
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let kind = magic(dir)?;
    Some(kind == TMPFS_MAGIC || kind == RAMFS_MAGIC)
}

/// Removes the private directories that processes now dead left under
/// `parent`, with their content; returns them. Only directories with our
/// name pattern, owned by us and private are touched.
pub fn sweep(parent: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((tag, _random)) = name
            .strip_prefix(DIRECTORY_PREFIX)
            .and_then(|rest| rest.rsplit_once('-'))
        else {
            continue;
        };
        let path = entry.path();
        if owner::is_stale(tag) && is_private_dir(&path) && std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// What reading a file the command wrote gave.
#[derive(Debug)]
pub struct FileContent {
    /// At most `cap` bytes of the file.
    pub bytes: Vec<u8>,
    /// The file holds more than `cap` bytes.
    pub truncated: bool,
}

/// Why [`read_bounded`] did not read a file.
#[derive(Debug)]
pub enum Unreadable {
    /// There is no such file.
    Missing,
    /// It is a symbolic link, which is not followed.
    SymbolicLink,
    /// It is not a regular file: "a FIFO", "a directory", ...
    NotRegular(&'static str),
    /// Another error.
    Io(&'static str, io::Error),
}

/// Reads at most `cap` bytes of a regular file, without following a
/// symbolic link and without blocking (a FIFO is refused, not opened for a
/// read that waits for a writer for ever). `truncated` says the file holds
/// more; never more than `cap` + 1 bytes are allocated, whatever size the
/// file claims (a sparse file of any size costs nothing to make).
pub fn read_bounded(path: &Path, cap: u64) -> Result<FileContent, Unreadable> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Unreadable::Missing,
            _ if e.raw_os_error() == Some(libc::ELOOP) => Unreadable::SymbolicLink,
            _ => Unreadable::Io("cannot be opened", e),
        })?;
    let metadata = file
        .metadata()
        .map_err(|e| Unreadable::Io("cannot be inspected", e))?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        return Err(Unreadable::NotRegular(if file_type.is_fifo() {
            "a FIFO"
        } else if file_type.is_dir() {
            "a directory"
        } else if file_type.is_char_device() || file_type.is_block_device() {
            "a device"
        } else if file_type.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        }));
    }
    let mut limited = file.take(cap.saturating_add(1));
    // One read of a byte more than the size the file claims: a regular
    // file that gives less is at its end, and `read_to_end` would have
    // asked a second time to learn it. All of it means the file grew: the
    // rest is read as it comes.
    let mut content = vec![0; metadata.len().min(cap).saturating_add(1) as usize];
    let first = loop {
        match limited.read(&mut content) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            read => break read.map_err(|e| Unreadable::Io("cannot be read", e))?,
        }
    };
    let grew = first == content.len();
    content.truncate(first);
    if grew {
        limited
            .read_to_end(&mut content)
            .map_err(|e| Unreadable::Io("cannot be read", e))?;
    }
    let truncated = content.len() as u64 > cap;
    content.truncate(cap as usize);
    Ok(FileContent {
        bytes: content,
        truncated,
    })
}

/// Reads at most `cap` bytes of a file the command was told to write.
///
/// The command controls this file: it may have removed it, replaced it with
/// a symlink (to a secret, or to /dev/zero), a FIFO that blocks a reader
/// forever, or a huge file. See [`read_bounded`].
pub fn read_command_file(path: &Path, what: &str, cap: u64) -> Result<FileContent, CallError> {
    read_bounded(path, cap).map_err(|problem| {
        let problem = match problem {
            Unreadable::Missing => "was removed while the command ran".to_string(),
            Unreadable::SymbolicLink => {
                "was replaced by a symbolic link, which is not followed".to_string()
            }
            Unreadable::NotRegular(kind) => format!("was replaced by {kind}, which is not read"),
            Unreadable::Io(what, e) => format!("{what}: {e}"),
        };
        CallError::new(
            ErrorKind::BadOutput,
            format!("the {what} file {} {problem}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn memory_backed_file_systems_are_told_apart() {
        assert_eq!(memory_backed(Path::new("/proc")), Some(false));
        assert_eq!(memory_backed(Path::new("/no/such/directory")), None);
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let tmpfs = mounts.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            // A mount point with white space is escaped (`\040`) there.
            (fields.get(2) == Some(&"tmpfs") && !fields[1].contains('\\'))
                .then(|| fields[1].to_string())
        });
        if let Some(mount_point) = tmpfs {
            assert_eq!(memory_backed(Path::new(&mount_point)), Some(true));
        }
    }

    #[test]
    fn files_are_private_and_removed_on_drop() {
        let parent = tempfile::tempdir().unwrap();
        let dir = PrivateDir::new(parent.path());
        let (files, _stdin) = dir.create(b"{\"a\":1}").unwrap();
        let d = files.directory.parent().unwrap().to_path_buf();
        assert_eq!(
            std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
        for f in [&files.input, &files.output, &files.error] {
            assert_eq!(
                std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(std::fs::read(&files.input).unwrap(), b"{\"a\":1}");
        assert_eq!(
            std::fs::metadata(&files.directory)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let paths = [
            files.input.clone(),
            files.output.clone(),
            files.error.clone(),
        ];
        // What a command writes next to its files goes with them.
        std::fs::write(files.output.with_extension("tmp"), "x").unwrap();
        let call = files.directory.clone();
        drop(files);
        for p in paths {
            assert!(!p.exists(), "{}", p.display());
        }
        assert!(!call.exists());
        drop(dir);
        assert!(!d.exists());
    }

    /// On a tmpfs, a call's directory left empty is the next call's; one
    /// the command left something in, or opened to others, is removed; a
    /// kept one that has gone is replaced; the runner's end removes them.
    #[test]
    fn empty_call_directories_are_kept_on_a_tmpfs() {
        let shm = Path::new("/dev/shm");
        if !on_tmpfs(shm) {
            eprintln!("skipped: /dev/shm is not a tmpfs here");
            return;
        }
        let parent = tempfile::tempdir_in(shm).unwrap();
        let dir = PrivateDir::new(parent.path());
        let (first, _) = dir.create(b"1").unwrap();
        let kept = first.directory.clone();
        drop(first);
        assert!(kept.exists(), "an empty directory is kept");
        assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 0);

        let (second, _) = dir.create(b"2").unwrap();
        assert_eq!(second.directory, kept, "and taken by the next call");
        assert_eq!(std::fs::read(&second.input).unwrap(), b"2");
        assert_eq!(std::fs::metadata(&second.output).unwrap().len(), 0);
        // What the command wrote next to its files goes, with the directory.
        std::fs::write(second.output.with_extension("tmp"), "x").unwrap();
        drop(second);
        assert!(!kept.exists());

        let (third, _) = dir.create(b"3").unwrap();
        let opened = third.directory.clone();
        std::fs::set_permissions(&opened, std::fs::Permissions::from_mode(0o755)).unwrap();
        drop(third);
        assert!(!opened.exists(), "a directory opened to others is not kept");

        let (fourth, _) = dir.create(b"4").unwrap();
        let gone = fourth.directory.clone();
        drop(fourth);
        std::fs::remove_dir(&gone).unwrap();
        let (fifth, _) = dir.create(b"5").unwrap();
        assert_ne!(fifth.directory, gone);
        assert_eq!(std::fs::read(&fifth.input).unwrap(), b"5");
        let last = fifth.directory.clone();
        let private = last.parent().unwrap().to_path_buf();
        drop(fifth);
        assert!(last.exists());
        drop(dir);
        assert!(!private.exists(), "the runner's end removes what it kept");

        // A call that ends after its runner keeps nothing.
        let dir = PrivateDir::new(parent.path());
        let (late, _) = dir.create(b"6").unwrap();
        let (call, private) = (
            late.directory.clone(),
            late.directory.parent().unwrap().to_path_buf(),
        );
        drop(dir);
        drop(late);
        assert!(
            !call.exists(),
            "a directory released after the end is removed"
        );
        // (The private directory goes with the sweep of the next start.)
        let _ = std::fs::remove_dir(&private);
    }

    #[test]
    fn directories_of_dead_processes_are_swept() {
        let parent = tempfile::tempdir().unwrap();
        // A live process's directory, and a foreign one, stay.
        let live = PrivateDir::new(parent.path());
        let (files, _stdin) = live.create(b"x").unwrap();
        let foreign = parent.path().join(format!("{DIRECTORY_PREFIX}other"));
        std::fs::create_dir(&foreign).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let ns = owner::own_tag().split('.').next().unwrap().to_string();
        let dead = parent
            .path()
            .join(format!("{DIRECTORY_PREFIX}{ns}.{pid}.1-0000abcd"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dead)
            .unwrap();
        std::fs::create_dir(dead.join("00000000-1")).unwrap();
        std::fs::write(dead.join("00000000-1/input"), "secret").unwrap();
        assert_eq!(sweep(parent.path()), vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(files.input.exists());
        assert!(foreign.exists());
    }

    #[test]
    fn the_directory_is_recreated_when_removed() {
        let parent = tempfile::tempdir().unwrap();
        let dir = PrivateDir::new(parent.path());
        let (first, _) = dir.create(b"x").unwrap();
        let d = first.directory.parent().unwrap().to_path_buf();
        drop(first);
        std::fs::remove_dir_all(&d).unwrap();
        let (second, _) = dir.create(b"y").unwrap();
        assert!(second.input.exists());
    }

    /// A file longer than its size said when it was opened (one that grew,
    /// or a /proc file, which claims 0 bytes) is read whole all the same.
    #[test]
    fn a_file_longer_than_its_claimed_size_is_read_whole() {
        let path = Path::new("/proc/self/mountinfo");
        assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        let content = read_bounded(path, 1 << 20).unwrap();
        assert!(!content.truncated);
        let text = String::from_utf8(content.bytes).unwrap();
        assert!(text.lines().count() > 1 && text.ends_with('\n'), "{text}");
        let capped = read_bounded(path, 10).unwrap();
        assert!(capped.truncated);
        assert_eq!(capped.bytes, text.as_bytes()[..10]);
    }

    #[test]
    fn hostile_files_are_refused() {
        let parent = tempfile::tempdir().unwrap();
        let link = parent.path().join("link");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        let e = read_command_file(&link, "output", 100).unwrap_err();
        assert!(e.message.contains("symbolic link"), "{e}");

        let missing = parent.path().join("missing");
        let e = read_command_file(&missing, "output", 100).unwrap_err();
        assert!(e.message.contains("was removed"), "{e}");

        let fifo = parent.path().join("fifo");
        let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, mode).unwrap();
        let e = read_command_file(&fifo, "output", 100).unwrap_err();
        assert!(e.message.contains("FIFO"), "{e}");

        let big = parent.path().join("big");
        std::fs::write(&big, vec![b'x'; 101]).unwrap();
        let content = read_command_file(&big, "output", 100).unwrap();
        assert!(content.truncated);
        assert_eq!(content.bytes.len(), 100);
        std::fs::write(&big, vec![b'x'; 100]).unwrap();
        let content = read_command_file(&big, "output", 100).unwrap();
        assert!(!content.truncated);
        assert_eq!(content.bytes.len(), 100);
    }
}
