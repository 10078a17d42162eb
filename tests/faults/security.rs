//! Security: what a command's files look like from inside, what reaches
//! the agent's log, and which commands are refused at load time.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use mesos_command_modules::ffi::testing;
use mesos_command_modules::{Answer, Method};
use serde_json::{json, Value};

use crate::common::fixture;
use crate::harness::{logs, root, skip, Scenario};

#[test]
fn a_commands_files_are_private() {
    let sc = Scenario::start("temp file modes");
    let seen = sc.path().join("modes");
    let cmd = sc.script(
        "modes",
        &format!(
            r#"stat -c '%a %u' "$1" "$2" "$3" "$(dirname "$1")" "$(dirname "$(dirname "$1")")" > {}"#,
            seen.display()
        ),
    );
    let hook = sc.hook(&[(
        "hook_slave_remove_executor_hook_command",
        cmd.to_str().unwrap(),
    )]);
    let out = sc.call(
        &hook,
        Method::HookSlaveRemoveExecutorHook,
        &fixture("slave_remove_executor_hook/command-task.json"),
    );
    assert_eq!(out.answer, Answer::None);
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let modes = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(
        modes.lines().collect::<Vec<_>>(),
        vec![
            format!("600 {me}"),
            format!("600 {me}"),
            format!("600 {me}"),
            format!("700 {me}"),
            format!("700 {me}"),
        ],
        "input, output, error, the call's directory, the private directory"
    );
    sc.finish();
}

const VISIBLE: &str = "visible-marker-41";
/// Secret values in the input (a `SECRET` variable's value, a `Secret`'s
/// bytes, base64 as Mesos prints them: "secret-marker-43") and in the
/// command's answer.
const SECRETS: [&str; 3] = [
    "secret-marker-42",
    "c2VjcmV0LW1hcmtlci00Mw==",
    "answer-secret-44",
];

fn environment_input() -> String {
    let mut doc: Value = serde_json::from_str(&fixture(
        "slave_executor_environment_decorator/command-task.json",
    ))
    .unwrap();
    doc["executor_info"]["command"]["environment"] = json!({"variables": [
        {"name": "PLAIN", "type": "VALUE", "value": VISIBLE},
        {"name": "TOKEN", "type": "SECRET", "value": SECRETS[0]},
        {"name": "KEY", "type": "SECRET", "secret": {"type": "VALUE", "value": {"data": SECRETS[1]}}},
    ]});
    doc.to_string()
}

/// The records logged while `module` answers an environment decoration
/// and fails one.
fn logged_text(sc: &Scenario, debug: &str) -> String {
    let answer = sc.script(
        &format!("answer-{debug}"),
        &format!(
            r#"case "$(cat "$1")" in *fail-now*) echo 'it broke' > "$3"; exit 2 ;; esac
echo '{{"variables":[{{"name":"A","type":"SECRET","value":"{}"}},{{"name":"B","value":"answer-visible-45"}}]}}' > "$2""#,
            SECRETS[2]
        ),
    );
    let hook = sc.hook(&[
        (
            "hook_slave_executor_environment_decorator_command",
            answer.to_str().unwrap(),
        ),
        ("debug", debug),
    ]);
    let method = Method::HookSlaveExecutorEnvironmentDecorator;
    let out = sc.call(&hook, method, &environment_input());
    assert!(matches!(out.answer, Answer::Value(_)), "{:?}", out.answer);
    let failing = environment_input().replace(VISIBLE, &format!("{VISIBLE} fail-now"));
    let out = sc.call(&hook, method, &failing);
    assert!(matches!(out.answer, Answer::Error(_)));
    logs()
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_input_is_logged_only_with_debug_and_secrets_never() {
    let sc = Scenario::start("what is logged");
    let quiet = logged_text(&sc, "false");
    assert!(!quiet.contains(VISIBLE), "the input was logged:\n{quiet}");
    assert!(!quiet.contains("answer-visible-45"), "{quiet}");
    assert!(quiet.contains("it broke"), "failures are logged:\n{quiet}");
    for secret in SECRETS {
        assert!(!quiet.contains(secret), "{secret} was logged:\n{quiet}");
    }
    crate::harness::clear_logs();
    let debug = logged_text(&sc, "true");
    assert!(debug.contains(VISIBLE), "debug logs the input:\n{debug}");
    assert!(
        debug.contains("answer-visible-45"),
        "and the answer:\n{debug}"
    );
    assert!(debug.contains("<redacted>"), "{debug}");
    for secret in SECRETS {
        assert!(!debug.contains(secret), "{secret} was logged:\n{debug}");
    }
    sc.finish();
}

/// The configuration error for a prepare command at `path`, through the
/// bridge's create path.
fn refusal(path: &Path, allow: bool) -> Option<String> {
    let path = path.to_str().unwrap().as_bytes();
    let mut params: Vec<&[u8]> = vec![b"module_name", b"m", b"isolator_prepare_command", path];
    if allow {
        params.extend([&b"allow_insecure_commands"[..], b"true"]);
    }
    testing::create_module(1, "com_criteo_mesos_CommandIsolator", &params)
        .err()
        .map(|e| e.message)
}

fn refused_because(path: &Path, because: &str) {
    assert_eq!(
        refusal(path, false).as_deref(),
        Some(
            format!(
                "isolator_prepare_command: \"{}\" is refused because {because}, and the agent \
                 runs it as root; fix the permissions or set allow_insecure_commands to \"true\"",
                path.display()
            )
            .as_str()
        )
    );
    assert_eq!(
        refusal(path, true),
        None,
        "allowed when insecure commands are"
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

#[test]
fn commands_others_can_change_are_refused_at_load_time() {
    let sc = Scenario::start("insecure commands");
    if !root() {
        skip("not root: the insecure-command scenarios need chown");
        return;
    }
    let nobody = 65534;
    let dir = sc.path().join("cmds");
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o755);
    let command = |name: &str| {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        chmod(&p, 0o755);
        p
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap();

    let owned = command("owned");
    chown(&owned, nobody, nobody);
    refused_because(
        &owned,
        &format!(
            "the file {} is owned by uid {nobody}",
            canonical(&owned).display()
        ),
    );

    let group = command("group");
    chown(&group, 0, 100);
    chmod(&group, 0o775);
    refused_because(
        &group,
        &format!(
            "the file {} is writable by group 100",
            canonical(&group).display()
        ),
    );

    let world = command("world");
    chmod(&world, 0o757);
    refused_because(
        &world,
        &format!(
            "the file {} is writable by every user",
            canonical(&world).display()
        ),
    );

    // Its directory, owned by another user.
    let theirs = sc.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    let inside = theirs.join("cmd");
    std::fs::write(&inside, "#!/bin/sh\n").unwrap();
    chmod(&inside, 0o755);
    chown(&theirs, nobody, nobody);
    refused_because(
        &inside,
        &format!(
            "its directory {} is owned by uid {nobody}",
            canonical(&theirs).display()
        ),
    );

    // A directory further up that everyone may write (no sticky bit).
    let open = sc.path().join("open");
    let nested = open.join("bin");
    std::fs::create_dir_all(&nested).unwrap();
    chmod(&open, 0o777);
    chmod(&nested, 0o755);
    let deep = nested.join("cmd");
    std::fs::write(&deep, "#!/bin/sh\n").unwrap();
    chmod(&deep, 0o755);
    refused_because(
        &deep,
        &format!("the directory {} is writable by every user", open.display()),
    );
    // With the sticky bit (as /tmp), nobody else can rename what root owns
    // in it: accepted.
    chmod(&open, 0o1777);
    assert_eq!(refusal(&deep, false), None);

    // A symbolic link to a safe command, in a directory another user
    // owns: they can point it elsewhere.
    let links = sc.path().join("links");
    std::fs::create_dir(&links).unwrap();
    let link = links.join("true");
    symlink("/bin/true", &link).unwrap();
    chown(&links, nobody, nobody);
    refused_because(
        &link,
        &format!("the directory {} is owned by uid {nobody}", links.display()),
    );

    // A safe command is accepted.
    assert_eq!(refusal(&command("safe"), false), None);
    assert_eq!(refusal(Path::new("/bin/true"), false), None);
    sc.finish();
}
