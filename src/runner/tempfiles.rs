//! The three files of one command run: input, output and error.
//!
//! They live in a private directory (mode 0700, created once per process)
//! because the input may carry secrets (environment values, task data).
//! Each call gets its own subdirectory (mode 0700) holding its files, each
//! created with `O_EXCL` and mode 0600; when [`CallFiles`] is dropped,
//! which covers success, error, timeout and panic, the files are removed,
//! and the subdirectory with whatever else the command wrote there
//! (`"$2.tmp"`).
//!
//! On a tmpfs, a call whose command is known to have left nothing running
//! (its cgroup found empty) and that left its directory as it found it
//! keeps the directory and its three files, emptied, for a later call:
//! creating and removing a file there costs an inode each time (4-7 µs per
//! system call on the README's VM), emptying one a truncation. The input
//! is emptied too, so that no input outlives its call. What the directory
//! holds is checked with one `stat` per name (a tmpfs counts a directory's
//! entries in its size); anything unexpected (a file more, one replaced,
//! linked elsewhere or opened to others, an error written) and the
//! directory is removed instead.
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
    /// names the call's directory, or `None` for the private one. Returns
    /// the call's directory and the private one it is in.
    fn call_directory(&self) -> Result<(PathBuf, Current), (Option<PathBuf>, io::Error)> {
        let mut stale = None;
        loop {
            let dir = self.directory(stale.as_deref()).map_err(|e| (None, e))?;
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let call = dir.path.join(format!(
                "{n:08}-{:08x}",
                self.salt ^ (n as u32).rotate_left(16)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&call) {
                Ok(()) => return Ok((call, dir)),
                Err(e) if e.kind() == io::ErrorKind::NotFound && stale.is_none() => {
                    stale = Some(dir.path)
                }
                Err(e) => return Err((Some(call), e)),
            }
        }
    }

    /// A kept call directory of the current private directory, if any.
    fn spare(&self) -> Option<(Kept, Arc<Spares>)> {
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
    /// file, which stays open at its start, to be the command's standard
    /// input ([`CallFiles::stdin`]).
    pub fn create(&self, input: &[u8]) -> Result<CallFiles, CallError> {
        // A kept directory that cannot be used again (a tmp cleaner removes
        // old files) is removed: the call takes another.
        while let Some((kept, spares)) = self.spare() {
            match CallFiles::reuse(kept, spares, input) {
                Ok(files) => return Ok(files),
                Err(unusable) => {
                    let _ = std::fs::remove_dir_all(&unusable.directory);
                }
            }
        }
        let (call, private) = self.call_directory().map_err(|(path, e)| {
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
        CallFiles::fresh(call, private.spares, input)
    }
}

/// The private directory in use, and where its spare call directories go.
#[derive(Clone, Debug)]
struct Current {
    path: PathBuf,
    /// `None` when the directory is not on a tmpfs.
    spares: Option<Arc<Spares>>,
}

/// How many call directories are kept, at most: beyond what the
/// concurrency limit lets run at once, a burst's directories are removed.
const SPARES: usize = 64;

/// A call directory kept for a later call, with its three files, empty.
#[derive(Debug)]
struct Kept {
    directory: PathBuf,
    /// The input file's inode: the one the next call writes and empties.
    input_inode: u64,
}

/// Call directories kept for later calls (see the module documentation).
#[derive(Debug)]
struct Spares {
    /// `None` once the runner has ended: a call finishing after that
    /// removes its directory.
    directories: Mutex<Option<Vec<Kept>>>,
    /// Our effective user id: a kept directory and its files must still be
    /// ours.
    owner: u32,
    /// The size of a directory holding the three files there (a tmpfs
    /// counts a directory's entries in its size).
    full_size: u64,
}

impl Spares {
    /// Spares for the private directory `dir`, just created, if it is on a
    /// tmpfs. The size of a call directory holding its three files is
    /// measured there once, on a directory made for it.
    fn for_directory(dir: &Path) -> Option<Spares> {
        if !on_tmpfs(dir) {
            return None;
        }
        let probe = dir.join("size");
        std::fs::DirBuilder::new().mode(0o700).create(&probe).ok()?;
        let created = FILES
            .iter()
            .all(|name| create_empty(&probe.join(name)).is_ok());
        let full_size = std::fs::symlink_metadata(&probe).map(|m| m.len());
        let _ = std::fs::remove_dir_all(&probe);
        Some(Spares {
            directories: Mutex::new(Some(Vec::new())),
            owner: rustix::process::geteuid().as_raw(),
            full_size: full_size.ok().filter(|_| created)?,
        })
    }

    fn take(&self) -> Option<Kept> {
        self.directories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()?
            .pop()
    }

    /// Keeps `kept` if there is room and the runner has not ended; gives
    /// it back otherwise.
    fn keep(&self, kept: Kept) -> Result<(), Kept> {
        let mut directories = self.directories.lock().unwrap_or_else(|p| p.into_inner());
        match directories.as_mut() {
            Some(all) if all.len() < SPARES => {
                all.push(kept);
                Ok(())
            }
            _ => Err(kept),
        }
    }

    /// Whether `m`, found at one of a kept directory's names, is a file a
    /// later call may take: a regular file of ours, private, and linked
    /// nowhere else.
    fn is_private_file(&self, m: &rustix::fs::Stat) -> bool {
        rustix::fs::FileType::from_raw_mode(m.st_mode) == rustix::fs::FileType::RegularFile
            && m.st_nlink == 1
            && m.st_uid == self.owner
            && m.st_mode & 0o7777 == 0o600
    }

    /// Removes the kept directories and keeps no more (at the end of the
    /// runner).
    fn remove_all(&self) {
        let kept = self
            .directories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for kept in kept.into_iter().flatten() {
            let _ = std::fs::remove_dir_all(kept.directory);
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

/// The names of a call's files in its directory, in argument order.
const FILES: [&str; 3] = ["input", "output", "error"];

/// The input, output and error files of one call, and their directory:
/// removed on drop, or emptied and kept for a later call.
#[derive(Debug)]
pub struct CallFiles {
    pub input: PathBuf,
    pub output: PathBuf,
    pub error: PathBuf,
    /// The call's own directory.
    pub directory: PathBuf,
    /// The input file, open at its start.
    stdin: File,
    /// Its inode, when the directory may be kept.
    input_inode: u64,
    /// Where the directory goes when it may be kept, on a tmpfs.
    spares: Option<Arc<Spares>>,
    /// Nothing the command started can reach the files any more (see
    /// [`CallFiles::set_reusable`]).
    reusable: bool,
    /// The output file was read and emptied.
    output_emptied: bool,
}

impl CallFiles {
    fn paths(directory: &Path) -> [PathBuf; 3] {
        FILES.map(|name| directory.join(name))
    }

    /// The files of a new call directory: created, the input written.
    /// Whatever fails, the directory is removed.
    fn fresh(
        directory: PathBuf,
        spares: Option<Arc<Spares>>,
        input: &[u8],
    ) -> Result<CallFiles, CallError> {
        let [input_path, output, error] = CallFiles::paths(&directory);
        let created = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&input_path)
            .map_err(|e| cannot_create(&input_path, &e))
            .and_then(|stdin| {
                write_input(&stdin, &input_path, input)?;
                create_empty(&output)?;
                create_empty(&error)?;
                // Only a directory that may be kept needs the inode.
                let inode = match &spares {
                    Some(_) => rustix::fs::fstat(&stdin).map_or(0, |m| m.st_ino),
                    None => 0,
                };
                Ok((stdin, inode))
            });
        match created {
            Ok((stdin, input_inode)) => Ok(CallFiles {
                input: input_path,
                output,
                error,
                directory,
                stdin,
                input_inode,
                // A directory whose inode could not be told is not kept.
                spares: spares.filter(|_| input_inode != 0),
                reusable: false,
                output_emptied: false,
            }),
            Err(e) => {
                remove_call_directory(&directory, &[&input_path, &output, &error]);
                Err(e)
            }
        }
    }

    /// The files of a kept call directory, the input written: three system
    /// calls fewer than [`CallFiles::fresh`], and none that creates or
    /// frees an inode. On error the directory is given back, for the
    /// caller to remove.
    fn reuse(kept: Kept, spares: Arc<Spares>, input: &[u8]) -> Result<CallFiles, Kept> {
        let [input_path, output, error] = CallFiles::paths(&kept.directory);
        // Emptied when kept; truncated all the same, so that the file holds
        // exactly this input whatever happened to it meanwhile.
        let stdin = OpenOptions::new()
            .read(true)
            .write(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&input_path);
        let Ok(stdin) = stdin else {
            return Err(kept);
        };
        if write_input(&stdin, &input_path, input).is_err() {
            return Err(kept);
        }
        Ok(CallFiles {
            input: input_path,
            output,
            error,
            directory: kept.directory,
            stdin,
            input_inode: kept.input_inode,
            spares: Some(spares),
            reusable: false,
            output_emptied: false,
        })
    }

    /// The input file, at its start: the command's standard input.
    pub fn stdin(&self) -> &File {
        &self.stdin
    }

    /// Says whether anything the command started may still reach the
    /// files: only a command whose cgroup was found empty once it had
    /// exited has none left (a process that left its process group could
    /// still write the files by name, or through a descriptor). A
    /// directory is kept for a later call only if nothing can.
    pub fn set_reusable(&mut self, reusable: bool) {
        self.reusable = reusable;
    }

    /// Reads at most `cap` bytes of the output file (see
    /// [`read_command_file`]); where the directory may be kept, empties the
    /// file after, for the next call.
    pub fn read_output(&mut self, cap: u64) -> Result<FileContent, CallError> {
        let owner = match &self.spares {
            Some(spares) if self.reusable => spares.owner,
            _ => return read_command_file(&self.output, "output", cap),
        };
        let (content, emptied) = read_bounded_then_empty(&self.output, cap, owner)
            .map_err(|problem| command_file_error(&self.output, "output", problem))?;
        self.output_emptied = emptied;
        Ok(content)
    }

    /// Empties the files for a later call and returns the directory to
    /// keep, if the command left it as it found it: the three files of
    /// ours, private, linked nowhere else, the error file empty, and
    /// nothing else. One `stat` per name and the input's truncation.
    fn emptied_for_reuse(&mut self, spares: &Spares) -> Option<Kept> {
        use rustix::fs::{statat, AtFlags, FileType, CWD};
        let stat = |path: &Path| statat(CWD, path, AtFlags::SYMLINK_NOFOLLOW).ok();
        // The name still holds the inode this call wrote: emptied through
        // the descriptor, it is the one the next call opens.
        let input = stat(&self.input)?;
        let input_is_ours = input.st_ino == self.input_inode && spares.is_private_file(&input);
        if !input_is_ours || rustix::fs::ftruncate(&self.stdin, 0).is_err() {
            return None;
        }
        let empty = |m: rustix::fs::Stat| m.st_size == 0 && spares.is_private_file(&m);
        if !self.output_emptied && !empty(stat(&self.output)?) {
            return None;
        }
        if !empty(stat(&self.error)?) {
            return None;
        }
        let directory = stat(&self.directory)?;
        let only_its_files = FileType::from_raw_mode(directory.st_mode) == FileType::Directory
            && directory.st_size as u64 == spares.full_size
            && directory.st_mode & 0o7777 == 0o700
            && directory.st_uid == spares.owner;
        only_its_files.then(|| Kept {
            directory: std::mem::take(&mut self.directory),
            input_inode: self.input_inode,
        })
    }
}

/// Writes the input at offset 0 without moving the file's offset, which
/// stays at the start for the command reading it as its standard input.
fn write_input(file: &File, path: &Path, input: &[u8]) -> Result<(), CallError> {
    file.write_all_at(input, 0).map_err(|e| {
        CallError::new(
            ErrorKind::Io,
            format!("cannot write the input file {}: {e}", path.display()),
        )
    })
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

/// Removes a call's files by name, then its directory: the common case in
/// four system calls. A command that left more (or replaced a file by a
/// directory) gets the full walk, which does not follow symbolic links it
/// may have left.
fn remove_call_directory(directory: &Path, files: &[&Path]) {
    for file in files {
        let _ = std::fs::remove_file(file);
    }
    if std::fs::remove_dir(directory).is_err() {
        let _ = std::fs::remove_dir_all(directory);
    }
}

impl Drop for CallFiles {
    fn drop(&mut self) {
        if self.reusable {
            if let Some(spares) = self.spares.take() {
                if let Some(kept) = self.emptied_for_reuse(&spares) {
                    // Refused (no room, the runner ended): the directory
                    // comes back, to be removed.
                    match spares.keep(kept) {
                        Ok(()) => return,
                        Err(refused) => self.directory = refused.directory,
                    }
                }
            }
        }
        remove_call_directory(&self.directory, &[&self.input, &self.output, &self.error]);
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
    let (file, metadata) = open_regular(path, false)?;
    read_open(&file, &metadata, cap)
}

/// As [`read_bounded`], then empties the file if it is ours (`owner`),
/// private and linked nowhere else; says whether it did. Opened for
/// writing where it can be; else (no permission, a directory) only read,
/// or refused, as by [`read_bounded`].
fn read_bounded_then_empty(
    path: &Path,
    cap: u64,
    owner: u32,
) -> Result<(FileContent, bool), Unreadable> {
    let (file, metadata, writable) = match open_regular(path, true) {
        Ok((file, metadata)) => (file, metadata, true),
        Err(Unreadable::Io(..)) => {
            let (file, metadata) = open_regular(path, false)?;
            (file, metadata, false)
        }
        Err(problem) => return Err(problem),
    };
    let emptiable = writable
        && metadata.nlink() == 1
        && metadata.uid() == owner
        && metadata.mode() & 0o7777 == 0o600;
    let content = read_open(&file, &metadata, cap)?;
    // An output file left empty (a `null` answer) needs no truncation.
    let already_empty = metadata.len() == 0 && content.bytes.is_empty();
    let emptied = emptiable && (already_empty || file.set_len(0).is_ok());
    Ok((content, emptied))
}

/// Opens `path` as [`read_bounded`] does, for writing too if `write`, and
/// checks that it is a regular file.
fn open_regular(path: &Path, write: bool) -> Result<(File, std::fs::Metadata), Unreadable> {
    let file = OpenOptions::new()
        .read(true)
        .write(write)
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
    Ok((file, metadata))
}

/// Reads at most `cap` bytes of an open regular file (see
/// [`read_bounded`]).
fn read_open(
    file: &File,
    metadata: &std::fs::Metadata,
    cap: u64,
) -> Result<FileContent, Unreadable> {
    let mut limited = Read::take(file, cap.saturating_add(1));
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
    read_bounded(path, cap).map_err(|problem| command_file_error(path, what, problem))
}

fn command_file_error(path: &Path, what: &str, problem: Unreadable) -> CallError {
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
        let files = dir.create(b"{\"a\":1}").unwrap();
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

    /// On a tmpfs, a call's directory that nothing of its command can
    /// reach any more is emptied and kept, files and all, for the next
    /// call; one the command changed is removed; a kept one that has gone
    /// is replaced; the runner's end removes them.
    #[test]
    fn call_directories_are_emptied_and_kept_on_a_tmpfs() {
        let shm = Path::new("/dev/shm");
        if !on_tmpfs(shm) {
            eprintln!("skipped: /dev/shm is not a tmpfs here");
            return;
        }
        let parent = tempfile::tempdir_in(shm).unwrap();
        let dir = PrivateDir::new(parent.path());
        let sizes = |d: &Path| FILES.map(|name| std::fs::metadata(d.join(name)).unwrap().len());
        // Whatever the command may have left running could still write
        // there: removed.
        let first = dir.create(b"1").unwrap();
        let call = first.directory.clone();
        drop(first);
        assert!(!call.exists(), "a directory not known safe is removed");

        let mut second = dir.create(b"secret").unwrap();
        std::fs::write(&second.output, "{\"a\":1}").unwrap();
        second.set_reusable(true);
        assert_eq!(second.read_output(100).unwrap().bytes, b"{\"a\":1}");
        let kept = second.directory.clone();
        drop(second);
        assert!(kept.exists(), "a known-safe directory is kept");
        assert_eq!(sizes(&kept), [0, 0, 0], "its files emptied (the input too)");
        // Whatever was written there meanwhile, the next input is exact.
        std::fs::write(kept.join("input"), "longer than the next input").unwrap();

        let mut third = dir.create(b"3").unwrap();
        assert_eq!(third.directory, kept, "and taken by the next call");
        let mut stdin = String::new();
        third.stdin().read_to_string(&mut stdin).unwrap();
        assert_eq!(stdin, "3", "its input, read from the start");
        // An answer of `null` leaves the output empty.
        third.set_reusable(true);
        assert!(third.read_output(100).unwrap().bytes.is_empty());
        drop(third);
        assert!(kept.exists());

        // What the command wrote next to its files goes, with the directory.
        let mut beside = dir.create(b"4").unwrap();
        assert_eq!(beside.directory, kept);
        std::fs::write(beside.output.with_extension("tmp"), "x").unwrap();
        beside.set_reusable(true);
        drop(beside);
        assert!(!kept.exists());

        // An error file written, an input renamed away (the file moved is
        // left as it is), an output linked elsewhere (not emptied), a
        // directory opened to others: removed.
        let moved = parent.path().join("moved");
        let linked = parent.path().join("linked");
        type Change<'a> = &'a dyn Fn(&mut CallFiles);
        let changes: [Change<'_>; 4] = [
            &|f| std::fs::write(&f.error, "cause").unwrap(),
            &|f| {
                std::fs::rename(&f.input, &moved).unwrap();
                create_empty(&f.input).unwrap();
            },
            &|f| {
                std::fs::write(&f.output, "x").unwrap();
                std::fs::hard_link(&f.output, &linked).unwrap();
                assert_eq!(f.read_output(100).unwrap().bytes, b"x");
            },
            &|f| {
                std::fs::set_permissions(&f.directory, std::fs::Permissions::from_mode(0o755))
                    .unwrap()
            },
        ];
        for change in changes {
            let mut files = dir.create(b"5").unwrap();
            files.set_reusable(true);
            change(&mut files);
            let call = files.directory.clone();
            drop(files);
            assert!(!call.exists(), "{}", call.display());
        }
        assert_eq!(std::fs::read(&moved).unwrap(), b"5");
        assert_eq!(std::fs::read(&linked).unwrap(), b"x");

        let mut fourth = dir.create(b"6").unwrap();
        fourth.set_reusable(true);
        let gone = fourth.directory.clone();
        drop(fourth);
        std::fs::remove_dir_all(&gone).unwrap();
        let mut fifth = dir.create(b"7").unwrap();
        assert_ne!(fifth.directory, gone);
        assert_eq!(std::fs::read(&fifth.input).unwrap(), b"7");
        fifth.set_reusable(true);
        let last = fifth.directory.clone();
        let private = last.parent().unwrap().to_path_buf();
        drop(fifth);
        assert!(last.exists());
        drop(dir);
        assert!(!private.exists(), "the runner's end removes what it kept");

        // A call that ends after its runner keeps nothing.
        let dir = PrivateDir::new(parent.path());
        let mut late = dir.create(b"8").unwrap();
        late.set_reusable(true);
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
        let files = live.create(b"x").unwrap();
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
        let first = dir.create(b"x").unwrap();
        let d = first.directory.parent().unwrap().to_path_buf();
        drop(first);
        std::fs::remove_dir_all(&d).unwrap();
        let second = dir.create(b"y").unwrap();
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

    /// Emptying an output file after reading it touches only a regular,
    /// private file of ours linked nowhere else, and refuses what
    /// `read_bounded` refuses, with the same problem.
    #[test]
    fn only_a_private_file_of_ours_is_emptied_after_its_read() {
        let parent = tempfile::tempdir().unwrap();
        let owner = rustix::process::geteuid().as_raw();
        let file = parent.path().join("output");
        std::fs::write(&file, "{}").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (content, emptied) = read_bounded_then_empty(&file, 100, owner).unwrap();
        assert_eq!((content.bytes.as_slice(), emptied), (&b"{}"[..], true));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 0);

        std::fs::write(&file, "x").unwrap();
        let link = parent.path().join("link");
        std::fs::hard_link(&file, &link).unwrap();
        let (_, emptied) = read_bounded_then_empty(&file, 100, owner).unwrap();
        assert!(!emptied, "a file linked elsewhere is left as it is");
        assert_eq!(std::fs::read(&link).unwrap(), b"x");
        let (_, emptied) = read_bounded_then_empty(&file, 100, owner + 1).unwrap();
        assert!(!emptied, "so is another user's");

        let directory = parent.path().join("directory");
        std::fs::create_dir(&directory).unwrap();
        assert!(matches!(
            read_bounded_then_empty(&directory, 100, owner),
            Err(Unreadable::NotRegular("a directory"))
        ));
    }
}
