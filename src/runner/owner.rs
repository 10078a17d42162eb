//! Names that say which process made a temp directory or a cgroup, so that
//! a later process can tell the leftovers of a dead one (an agent killed
//! with SIGKILL leaves its commands' files and processes behind) from the
//! live state of a running one.
//!
//! A tag is `<pid namespace inode>.<pid>.<start time>`: the start time (in
//! clock ticks since boot, field 22 of `/proc/<pid>/stat`) tells a reused pid
//! from the original, and the namespace keeps agents in different pid
//! namespaces that share a directory from judging each other's pids.

use std::sync::OnceLock;

/// This process's tag.
pub fn own_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let pid = std::process::id();
        format!(
            "{}.{pid}.{}",
            pid_namespace().unwrap_or(0),
            start_time(pid).unwrap_or(0)
        )
    })
}

/// Whether `tag` names a process of our pid namespace that is gone.
/// Tags of other namespaces, and malformed ones, are never stale: they are
/// not ours to judge.
pub fn is_stale(tag: &str) -> bool {
    let mut parts = tag.splitn(3, '.');
    let (Some(ns), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(ns), Ok(pid), Ok(start)) =
        (ns.parse::<u64>(), pid.parse::<u32>(), start.parse::<u64>())
    else {
        return false;
    };
    if Some(ns) != pid_namespace() || pid == std::process::id() {
        return false;
    }
    start_time(pid) != Some(start)
}

fn pid_namespace() -> Option<u64> {
    static NS: OnceLock<Option<u64>> = OnceLock::new();
    *NS.get_or_init(|| {
        let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
        let text = link.to_str()?;
        text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
    })
}

/// The start time of a live process, `None` if there is none with `pid`.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields are
    // counted after its last closing parenthesis (field 2).
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    // `rest` starts at field 3; the start time is field 22.
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_tag_is_live_and_a_dead_pid_is_stale() {
        let tag = own_tag();
        assert!(!is_stale(tag), "{tag}");
        let mut parts = tag.split('.');
        let ns = parts.next().unwrap();
        // A child that has been reaped is gone.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        assert!(is_stale(&format!("{ns}.{pid}.{}", start.unwrap_or(1))));
        // Same pid, another start time: a reused pid.
        let me = std::process::id();
        assert!(is_stale(&format!("{ns}.1.12345678901")));
        assert!(!is_stale(&format!("{ns}.{me}.{}", start_time(me).unwrap())));
        // Another namespace, or garbage: not ours to judge.
        assert!(!is_stale(&format!("1.{pid}.1")));
        assert!(!is_stale("garbage"));
        assert!(!is_stale("1.2"));
    }
}
