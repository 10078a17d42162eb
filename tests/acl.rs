//! The ACL example (`examples/acl/`) for real: network namespaces this test
//! creates, a veth pair between a "container" namespace and a "client"
//! namespace, iptables inside the container's namespace, and TCP traffic
//! from an allowed and a denied source address. Every address lives inside
//! namespaces made here (10.251.x.y on the veth pair, 127.0.0.1 inside the
//! container's namespace): no packet ever reaches the host's network.
//!
//! Needs root, `ip` (iproute2), `iptables`, `nsenter` and `python3`; where
//! the machine does not allow network namespaces, each test prints one line
//! saying why and passes.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use common::{eventually, Scratch};
use serde_json::{json, Value};

const INSTALLED: &str = "/usr/share/mesos-command-modules/examples";
const PORT: u16 = 8000;

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Why network namespaces cannot be used here, if they cannot.
fn unavailable() -> Option<String> {
    static REASON: OnceLock<Option<String>> = OnceLock::new();
    REASON
        .get_or_init(|| {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                return Some("not running as root".into());
            }
            for tool in ["ip", "iptables", "iptables-restore", "nsenter", "python3"] {
                let found = Command::new("sh")
                    .args(["-c", &format!("command -v {tool}")])
                    .output()
                    .is_ok_and(|o| o.status.success());
                if !found {
                    return Some(format!("{tool} is not installed"));
                }
            }
            let probe = format!("mcm-probe-{}", std::process::id());
            let added = run("ip", &["netns", "add", &probe]);
            if !added.status.success() {
                return Some(format!(
                    "cannot create a network namespace: {}",
                    text(&added.stderr).trim()
                ));
            }
            let iptables = run("ip", &["netns", "exec", &probe, "iptables", "-S"]);
            let _ = run("ip", &["netns", "del", &probe]);
            if !iptables.status.success() {
                return Some(format!(
                    "iptables does not work in a network namespace: {}",
                    text(&iptables.stderr).trim()
                ));
            }
            None
        })
        .clone()
}

/// Prints the one line and returns true when the test cannot run. Written
/// to stderr directly: the test harness would swallow `println!`.
fn skip(test: &str) -> bool {
    match unavailable() {
        Some(reason) => {
            let _ = writeln!(std::io::stderr(), "skipping {test}: {reason}");
            true
        }
        None => false,
    }
}

/// Namespaces, links and processes of one test, removed on drop (also when
/// the test fails).
struct Lab {
    n: u32,
    namespaces: Vec<String>,
    processes: Vec<Child>,
}

static NEXT: AtomicU32 = AtomicU32::new(1);

impl Lab {
    fn new() -> Lab {
        Lab {
            n: NEXT.fetch_add(1, Ordering::Relaxed),
            namespaces: Vec::new(),
            processes: Vec::new(),
        }
    }

    fn namespace(&mut self, role: &str) -> String {
        let name = format!("mcm-acl-{role}-{}-{}", std::process::id(), self.n);
        ok("ip", &["netns", "add", &name]);
        ok("ip", &["-n", &name, "link", "set", "lo", "up"]);
        self.namespaces.push(name.clone());
        name
    }

    /// `10.251.<n>.<host>`.
    fn address(&self, host: u8) -> String {
        format!("10.251.{}.{host}", self.n)
    }

    /// A veth pair: the container side gets .1, the client side `clients`.
    fn link(&self, container: &str, client: &str, clients: &[u8]) {
        // Short, unique names: they exist in the host's namespace for a
        // moment.
        let (a, b) = (
            format!("ma{}x{}", self.n, std::process::id() % 100_000),
            format!("mb{}x{}", self.n, std::process::id() % 100_000),
        );
        ok(
            "ip",
            &[
                "link", "add", &a, "netns", container, "type", "veth", "peer", "name", &b, "netns",
                client,
            ],
        );
        ok(
            "ip",
            &[
                "-n",
                container,
                "addr",
                "add",
                &format!("{}/24", self.address(1)),
                "dev",
                &a,
            ],
        );
        ok("ip", &["-n", container, "link", "set", &a, "up"]);
        for host in clients {
            ok(
                "ip",
                &[
                    "-n",
                    client,
                    "addr",
                    "add",
                    &format!("{}/24", self.address(*host)),
                    "dev",
                    &b,
                ],
            );
        }
        ok("ip", &["-n", client, "link", "set", &b, "up"]);
    }

    /// The container's init process: a TCP server answering "ok" inside
    /// `namespace`. Returns its pid.
    fn server(&mut self, namespace: &str) -> u32 {
        let child = Command::new("ip")
            .args(["netns", "exec", namespace, "python3", "-c"])
            .arg(format!(
                "import socket\n\
                 s = socket.socket()\n\
                 s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
                 s.bind(('0.0.0.0', {PORT}))\n\
                 s.listen(16)\n\
                 while True:\n\
                 \x20   c, _ = s.accept()\n\
                 \x20   c.sendall(b'ok')\n\
                 \x20   c.close()\n"
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let pid = child.id();
        self.processes.push(child);
        let listening = eventually(Duration::from_secs(5), || {
            ok("ip", &["netns", "exec", namespace, "ss", "-ltn"]).contains(&format!(":{PORT}"))
        });
        assert!(listening, "the server in {namespace} did not start");
        pid
    }

    /// A process doing nothing in `namespace`. Returns its pid.
    fn sleeper(&mut self, namespace: &str) -> u32 {
        let child = Command::new("ip")
            .args(["netns", "exec", namespace, "sleep", "60"])
            .spawn()
            .expect("start sleep");
        let pid = child.id();
        self.processes.push(child);
        pid
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
        for namespace in &self.namespaces {
            let _ = run("ip", &["netns", "del", namespace]);
        }
    }
}

/// Connects from `namespace`, bound to `source`, to `destination`:
/// whether the server answered within a second.
fn connects(namespace: &str, source: &str, destination: &str) -> bool {
    let out = run(
        "ip",
        &[
            "netns",
            "exec",
            namespace,
            "python3",
            "-c",
            "import socket, sys\n\
             s = socket.socket()\n\
             s.settimeout(1)\n\
             s.bind((sys.argv[1], 0))\n\
             s.connect((sys.argv[2], int(sys.argv[3])))\n\
             sys.exit(0 if s.recv(2) == b'ok' else 1)\n",
            source,
            destination,
            &PORT.to_string(),
        ],
    );
    out.status.success()
}

/// The ACL manifest with its command pointing into the checkout.
fn manifest(s: &Scratch) -> PathBuf {
    let text = std::fs::read_to_string(checkout().join("examples/acl/modules.json")).unwrap();
    let path = s.path().join("acl-modules.json");
    std::fs::write(
        &path,
        text.replace(
            INSTALLED,
            &checkout().join("examples").display().to_string(),
        ),
    )
    .unwrap();
    path
}

/// The input Mesos (plus the module's container_config) gives isolate.
fn isolate_input(s: &Scratch, pid: u32, allowed: &str) -> PathBuf {
    let doc = json!({
        "container_id": {"value": "acl-test"},
        "pid": pid,
        "container_config": {
            "command_info": {"value": "serve"},
            "directory": "/tmp",
            "executor_info": {
                "executor_id": {"value": "acl-test"},
                "labels": {"labels": [
                    {"key": "team", "value": "infra"},
                    {"key": "EXECUTOR_ALLOWED_IP", "value": allowed}]}
            }
        }
    });
    let path = s.path().join(format!("isolate-{pid}.json"));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// `mesos-command-modules call` of the ACL module, optionally from inside
/// a network namespace.
fn call(
    s: &Scratch,
    method: &str,
    input: &Path,
    inside: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let tool = env!("CARGO_BIN_EXE_mesos-command-modules");
    let manifest = manifest(s);
    let args = [
        "call",
        manifest.to_str().unwrap(),
        "--module",
        "acl",
        "--method",
        method,
        "--input",
        input.to_str().unwrap(),
    ];
    let mut command = match inside {
        Some(namespace) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", namespace, tool]);
            c
        }
        None => Command::new(tool),
    };
    command.args(args).env("RUST_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run the tool")
}

fn chain(namespace: &str, tool: &str) -> Vec<String> {
    ok("ip", &["netns", "exec", namespace, tool, "-S", "MESOS-ACL"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn isolate_installs_the_exact_rules_and_only_allowed_sources_get_in() {
    if skip("isolate_installs_the_exact_rules_and_only_allowed_sources_get_in") {
        return;
    }
    let s = Scratch::new();
    let mut lab = Lab::new();
    let container = lab.namespace("ctr");
    let client = lab.namespace("cli");
    // .2 is allowed by the label, .3 is not, .4 is the configured gateway.
    lab.link(&container, &client, &[2, 3, 4]);
    let pid = lab.server(&container);
    let server = lab.address(1);
    for host in [2, 3, 4] {
        assert!(
            connects(&client, &lab.address(host), &server),
            "no ACL yet: .{host} must get in"
        );
    }

    let input = isolate_input(&s, pid, &format!(" {} ,", lab.address(2)));
    let gateway = lab.address(4);
    let env = [("MESOS_ACL_GATEWAY", gateway.as_str())];
    let out = call(&s, "isolator_isolate", &input, None, &env);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let expected = vec![
        "-N MESOS-ACL".to_string(),
        "-A MESOS-ACL -i lo -j ACCEPT".to_string(),
        "-A MESOS-ACL -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".to_string(),
        format!("-A MESOS-ACL -s {}/32 -j ACCEPT", lab.address(2)),
        format!("-A MESOS-ACL -s {}/32 -j ACCEPT", lab.address(4)),
        "-A MESOS-ACL -j DROP".to_string(),
    ];
    assert_eq!(chain(&container, "iptables"), expected);
    let input_chain = ok(
        "ip",
        &["netns", "exec", &container, "iptables", "-S", "INPUT"],
    );
    assert_eq!(
        input_chain.lines().collect::<Vec<_>>(),
        ["-P INPUT ACCEPT", "-A INPUT -j MESOS-ACL"]
    );
    if Path::new("/proc/net/if_inet6").exists() {
        // No IPv6 source allowed: IPv6 gets only loopback and replies.
        assert_eq!(
            chain(&container, "ip6tables"),
            [
                "-N MESOS-ACL",
                "-A MESOS-ACL -i lo -j ACCEPT",
                "-A MESOS-ACL -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "-A MESOS-ACL -j DROP",
            ]
        );
    }

    assert!(
        connects(&client, &lab.address(2), &server),
        "allowed source refused"
    );
    assert!(
        !connects(&client, &lab.address(3), &server),
        "denied source got in"
    );
    assert!(
        connects(&client, &lab.address(4), &server),
        "gateway refused"
    );
    assert!(
        connects(&container, "127.0.0.1", "127.0.0.1"),
        "loopback refused"
    );

    // Running isolate again (a retried call) leaves one chain, one jump.
    let out = call(&s, "isolator_isolate", &input, None, &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(chain(&container, "iptables"), expected);
    let input_chain = ok(
        "ip",
        &["netns", "exec", &container, "iptables", "-S", "INPUT"],
    );
    assert_eq!(input_chain.matches("-j MESOS-ACL").count(), 1);
}

#[test]
fn cidr_labels_allow_whole_networks() {
    if skip("cidr_labels_allow_whole_networks") {
        return;
    }
    let s = Scratch::new();
    let mut lab = Lab::new();
    let container = lab.namespace("ctr");
    let client = lab.namespace("cli");
    lab.link(&container, &client, &[2, 200]);
    let pid = lab.server(&container);
    // 10.251.n.0/25 holds .2, not .200.
    let input = isolate_input(&s, pid, &format!("{}/25", lab.address(0)));
    let out = call(&s, "isolator_isolate", &input, None, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(chain(&container, "iptables")
        .contains(&format!("-A MESOS-ACL -s {}/25 -j ACCEPT", lab.address(0))));
    let server = lab.address(1);
    assert!(connects(&client, &lab.address(2), &server));
    assert!(!connects(&client, &lab.address(200), &server));
}

#[test]
fn isolate_refuses_the_namespace_it_runs_in() {
    if skip("isolate_refuses_the_namespace_it_runs_in") {
        return;
    }
    // The "agent" runs inside a namespace of the test's, and so does the
    // "container": were the refusal broken, the rules would land in a
    // namespace of the test's, never in the host's.
    let s = Scratch::new();
    let mut lab = Lab::new();
    let agent = lab.namespace("agent");
    let pid = lab.sleeper(&agent);
    let input = isolate_input(&s, pid, "10.0.0.1");
    let out = call(&s, "isolator_isolate", &input, Some(&agent), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "Cause: refusing to install the EXECUTOR_ALLOWED_IP rules: pid {pid} shares the \
             agent's network namespace (the container has no network isolation), and the rules \
             would filter the whole host"
        )),
        "{stderr}"
    );
    assert!(!ok("ip", &["netns", "exec", &agent, "iptables", "-S"]).contains("MESOS-ACL"));
}

#[test]
fn an_invalid_label_fails_the_launch_at_prepare() {
    // No namespace needed: prepare only reads the label.
    let s = Scratch::new();
    let mut doc: Value =
        serde_json::from_str(&common::fixture("isolator_prepare/command-task.json")).unwrap();
    for owner in ["task_info", "executor_info"] {
        doc["container_config"][owner]["labels"]["labels"][0]["value"] =
            json!("10.0.0.1,300.1.2.3/24");
    }
    let input = s.path().join("bad-label.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    let out = call(&s, "isolator_prepare", &input, None, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "exited with return code 1. Cause: EXECUTOR_ALLOWED_IP: \"300.1.2.3/24\" is not an IP \
             address or a CIDR network (expected a comma-separated list such as \
             \"10.0.0.1,192.168.1.0/24\")"
        ),
        "{stderr}"
    );

    // The captured label is valid: prepare succeeds and changes nothing.
    let good = checkout().join("tests/fixtures/isolator_prepare/command-task.json");
    let out = call(&s, "isolator_prepare", &good, None, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

fn simulate(s: &Scratch, extra: &[&str]) -> Output {
    let manifest = manifest(s);
    let mut args = vec![
        "simulate",
        manifest.to_str().unwrap(),
        "--containers",
        "3",
        // A task group, a command task (the labelled one) and a long task.
        "--seed",
        "6",
        "--json",
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(&args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run the simulator")
}

fn lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_simulator_runs_the_acl_in_a_namespace_per_container() {
    if skip("the_simulator_runs_the_acl_in_a_namespace_per_container") {
        return;
    }
    let s = Scratch::new();
    // Each container's stand-in process has its own network namespace:
    // every labelled container gets its rules.
    let out = simulate(&s, &["--net-namespaces"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = lines(&out);
    let isolated = events
        .iter()
        .filter(|e| e["method"] == "isolator_isolate" && e["outcome"] == "none")
        .count();
    assert!(isolated >= 3, "{}", text(&out.stdout));
    assert_eq!(events.last().unwrap()["success"], true);

    // Without: the labelled containers share the simulator's namespace and
    // their launch fails, which makes the simulation fail.
    let out = simulate(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let events = lines(&out);
    let refused: Vec<&Value> = events
        .iter()
        .filter(|e| e["method"] == "isolator_isolate" && e["outcome"] == "failed")
        .collect();
    assert!(!refused.is_empty(), "{}", text(&out.stdout));
    for e in &refused {
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains("shares the agent's network namespace"),
            "{e}"
        );
        assert_eq!(e["must_succeed"], true);
    }
    let result = events.last().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["success"], false);
    assert_eq!(result["launch_failures"], refused.len());
}
