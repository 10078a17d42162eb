//! scripts/build_and_upload_module.sh with stand-ins for `docker`, `ssh`,
//! `scp`, `sudo` and `systemctl` first on PATH: what it runs, where the
//! library lands, and the one line it ends with on each failure. The real
//! run (an SSH server, a Docker build, a restarted agent) is
//! tests/e2e/upload.py, which needs Docker and a Mesos build.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Scratch;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scripts/build_and_upload_module.sh"
);

/// The stand-ins. `ssh` runs the remote command here with `sh -c`, in
/// `remote/` (the host's home), unless FAKE_SSH_DOWN is set; every call is
/// appended to `calls.log`.
fn fakes(s: &Scratch) -> PathBuf {
    let bin = s.path().join("bin");
    let remote = s.path().join("remote");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&remote).unwrap();
    let log = s.path().join("calls.log");
    let log = log.display();
    let remote = remote.display();
    let write = |name: &str, body: String| {
        let path = s.script(name, &body);
        std::fs::rename(&path, bin.join(name)).unwrap();
    };
    write(
        "docker",
        format!(
            r#"echo "docker $*" >> {log}
case "$1" in
  build) if [ -n "${{FAKE_BUILD_FAILS:-}}" ]; then echo "error: cargo failed" >&2; exit 1; fi ;;
  create) echo c0ffee ;;
  cp) printf 'ELF library' > "$3" ;;
esac"#
        ),
    );
    write(
        "ssh",
        format!(
            r#"echo "ssh $*" >> {log}
while [ "$#" -gt 0 ]; do
  case "$1" in
    -o|-i|-p|-F) shift 2 ;;
    -*) shift ;;
    *) host=$1; shift; break ;;
  esac
done
if [ -n "${{FAKE_SSH_DOWN:-}}" ]; then
  echo "ssh: connect to host ${{host#*@}} port 22: Connection refused" >&2
  exit 255
fi
cd {remote} && sh -c "$*""#
        ),
    );
    write(
        "scp",
        format!(
            r#"echo "scp $*" >> {log}
for last; do :; done
for a; do case "$a" in -*|"$last") ;; *) source=$a ;; esac; done
cp "$source" "{remote}/${{last#*:}}""#
        ),
    );
    write("sudo", r#"exec "$@""#.to_string());
    write(
        "systemctl",
        format!(
            r#"echo "systemctl $*" >> {log}
[ "$1" != cat ]"#
        ),
    );
    bin
}

fn run(s: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Output {
    let bin = fakes(s);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("sh");
    command
        .arg(SCRIPT)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("TMPDIR", s.path());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run the upload script")
}

fn calls(s: &Scratch) -> String {
    std::fs::read_to_string(s.path().join("calls.log")).unwrap_or_default()
}

/// Stderr's lines, and the last one.
fn last_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr.lines().last().unwrap_or_default().to_string()
}

fn modules_dir(s: &Scratch) -> String {
    s.path().join("modules").display().to_string()
}

#[test]
fn without_an_argument_it_prints_its_usage_and_does_nothing() {
    let s = Scratch::new();
    let out = run(&s, &[], &[("MESOS_IMAGE", "mesos:1.11.0")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "build_and_upload_module.sh: usage: build_and_upload_module.sh user@host (the agent \
         host to install the module on)\n"
    );
    assert_eq!(calls(&s), "");
}

#[test]
fn without_mesos_image_it_says_so_before_anything_runs() {
    let s = Scratch::new();
    let out = run(&s, &["root@agent"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("MESOS_IMAGE is not set"), "{stderr}");
    assert_eq!(calls(&s), "");
}

#[test]
fn an_unreachable_host_fails_before_the_build_with_ssh_s_reason() {
    let s = Scratch::new();
    let out = run(
        &s,
        &["root@agent-7"],
        &[("MESOS_IMAGE", "mesos:1.11.0"), ("FAKE_SSH_DOWN", "1")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        "build_and_upload_module.sh: cannot reach root@agent-7 over ssh: ssh: connect to host \
         agent-7 port 22: Connection refused\n"
    );
    assert!(!calls(&s).contains("docker"), "{}", calls(&s));
}

#[test]
fn a_failed_build_stops_before_anything_is_copied() {
    let s = Scratch::new();
    let out = run(
        &s,
        &["root@agent"],
        &[("MESOS_IMAGE", "mesos:1.11.0"), ("FAKE_BUILD_FAILS", "1")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out),
        "build_and_upload_module.sh: docker build failed (its output is above)"
    );
    let log = calls(&s);
    assert!(!log.contains("scp"), "{log}");
    assert!(!log.contains("docker create"), "{log}");
}

#[test]
fn it_builds_copies_installs_and_runs_the_restart_command_given() {
    let s = Scratch::new();
    let modules = modules_dir(&s);
    let restarted = s.path().join("restarted");
    let restart = format!("touch {}", restarted.display());
    let out = run(
        &s,
        &["root@agent"],
        &[
            ("MESOS_IMAGE", "local/mesos:1.11.0"),
            ("RUST_IMAGE", "local/rust:1.95.0"),
            ("DOCKER_BUILD_ARGS", "--network=host"),
            ("SSH_OPTIONS", "-o Port=2222 -i /keys/agent"),
            ("MESOS_MODULES_DIR", &modules),
            ("MESOS_AGENT_RESTART_COMMAND", &restart),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = Path::new(&modules).join("libmesos_command_modules.so");
    assert_eq!(std::fs::read_to_string(&installed).unwrap(), "ELF library");
    assert!(restarted.exists(), "the restart command did not run");
    assert!(
        !s.path().join("remote/libmesos_command_modules.so").exists(),
        "the uploaded copy was left in the user's home"
    );

    let log = calls(&s);
    assert!(
        log.contains(
            "docker build --build-arg MESOS_IMAGE=local/mesos:1.11.0 --build-arg \
             RUST_IMAGE=local/rust:1.95.0 --network=host -t mesos-command-modules ."
        ),
        "{log}"
    );
    assert!(
        log.contains(
            "docker cp c0ffee:/src/mesos-command-modules/build/libmesos_command_modules.so"
        ),
        "{log}"
    );
    assert!(log.contains("docker rm -f c0ffee"), "{log}");
    assert!(
        log.contains("scp -o Port=2222 -i /keys/agent -q "),
        "SSH_OPTIONS did not reach scp: {log}"
    );
    assert!(
        log.lines()
            .filter(|l| l.starts_with("ssh "))
            .all(|l| l.starts_with("ssh -o Port=2222 -i /keys/agent ")),
        "SSH_OPTIONS did not reach every ssh: {log}"
    );
    // Nothing of the temporary copy is left.
    let left: Vec<_> = std::fs::read_dir(s.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("mesos-command-modules.")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn by_default_it_restarts_the_agent_s_systemd_unit() {
    let s = Scratch::new();
    let modules = modules_dir(&s);
    let out = run(
        &s,
        &["root@agent"],
        &[
            ("MESOS_IMAGE", "mesos:1.11.0"),
            ("MESOS_MODULES_DIR", &modules),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The host has no mesos-agent unit (`systemctl cat` fails): mesos-slave.
    let log = calls(&s);
    assert!(log.contains("systemctl cat mesos-agent.service"), "{log}");
    assert!(log.contains("systemctl restart mesos-slave"), "{log}");

    let s = Scratch::new();
    let out = run(
        &s,
        &["root@agent"],
        &[
            ("MESOS_IMAGE", "mesos:1.11.0"),
            ("MESOS_MODULES_DIR", &modules_dir(&s)),
            ("MESOS_AGENT_SERVICE", "mesos-agent-blue"),
        ],
    );
    assert!(out.status.success());
    assert!(calls(&s).contains("systemctl restart mesos-agent-blue"));
}

#[test]
fn a_failing_restart_is_reported_with_its_command() {
    let s = Scratch::new();
    let out = run(
        &s,
        &["root@agent"],
        &[
            ("MESOS_IMAGE", "mesos:1.11.0"),
            ("MESOS_MODULES_DIR", &modules_dir(&s)),
            ("MESOS_AGENT_RESTART_COMMAND", "exit 3"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out),
        "build_and_upload_module.sh: restarting the agent on root@agent failed: exit 3"
    );
}
