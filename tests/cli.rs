//! The `mesos-command-modules` command-line tool as an operator runs it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Scratch;

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the tool")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn manifest(s: &Scratch, modules: &str) -> String {
    let path = s.path().join("modules.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"libraries":[{{"file":"/usr/lib/mesos/modules/libmesos_command_modules.so","modules":[{modules}]}}]}}"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn fixture_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn check_prints_the_effective_configuration() {
    let s = Scratch::new();
    let cmd = s.script("prepare", "true");
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandIsolator","parameters":[
                {{"key":"module_name","value":"acl"}},
                {{"key":"isolator_prepare_command","value":"{}"}},
                {{"key":"isolator_prepare_timeout","value":"2.5"}}]}}"#,
            cmd.display()
        ),
    );
    let out = tool(&["check", &m]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("com_criteo_mesos_CommandIsolator (Isolator"),
        "{stdout}"
    );
    assert!(
        stdout.contains("isolator_prepare_timeout = 2.5s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("isolator_watch_frequence = 30s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("isolator_usage_command = (none)"),
        "{stdout}"
    );
}

#[test]
fn check_fails_on_the_originals_broken_example() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandHook","parameters":[
            {"key":"module_name","value":"hooks"},
            {"key":"hook_slave_run_task_label_decorator","value":"/bin/true"}]}"#,
    );
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "hook_slave_run_task_label_decorator: unknown key; did you mean \
             \"hook_slave_run_task_label_decorator_command\"?"
        ),
        "{stdout}"
    );
}

#[test]
fn call_prints_the_answer_and_exits_zero() {
    let s = Scratch::new();
    let cmd = s.script(
        "labels",
        r#"echo '{"labels":[{"key":"a","value":"b"}]}' > "$2""#,
    );
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandHook","parameters":[
                {{"key":"module_name","value":"hooks"}},
                {{"key":"hook_slave_run_task_label_decorator_command","value":"{}"}}]}}"#,
            cmd.display()
        ),
    );
    let out = tool(&[
        "call",
        &m,
        "--module",
        "com_criteo_mesos_CommandHook",
        "--method",
        "hook_slave_run_task_label_decorator",
        "--input",
        &fixture_path("slave_run_task_label_decorator/command-task.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"labels\":[{\"key\":\"a\",\"value\":\"b\"}]}\n"
    );
    assert!(text(&out.stderr).contains("took"), "{}", text(&out.stderr));
}

#[test]
fn call_reports_a_failure_on_stderr_and_exits_one() {
    let s = Scratch::new();
    let cmd = s.script("fail", "echo boom > \"$3\"; exit 5");
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandIsolator2","parameters":[
                {{"key":"module_name","value":"iso"}},
                {{"key":"isolator_prepare_command","value":"{}"}}]}}"#,
            cmd.display()
        ),
    );
    let out = tool(&[
        "call",
        &m,
        "--module",
        "iso",
        "--method",
        "isolator_prepare",
        "--input",
        &fixture_path("isolator_prepare/command-task.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("exited with return code 5. Cause: boom"),
        "{stderr}"
    );
}

#[test]
fn call_names_what_is_wrong_with_its_arguments() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandHook","parameters":[{"key":"module_name","value":"h"}]}"#,
    );
    let input = fixture_path("isolator_prepare/command-task.json");
    let out = tool(&[
        "call",
        &m,
        "--module",
        "nope",
        "--method",
        "isolator_prepare",
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no command module \"nope\""));
    let out = tool(&[
        "call",
        &m,
        "--module",
        "h",
        "--method",
        "isolator_prepare",
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("isolator_prepare is an Isolator method, but com_criteo_mesos_CommandHook is a Hook module"),
        "{}",
        text(&out.stderr)
    );
    let out = tool(&[
        "call",
        &m,
        "--module",
        "h",
        "--method",
        "isolator_prepar",
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("unknown method \"isolator_prepar\" (methods of a Hook module: "),
        "{}",
        text(&out.stderr)
    );
}

/// The captures of `tests/fixtures/invalid-utf8/` hold bytes that are not
/// UTF-8 in labels and a command, as frameworks may send: `call` replaces
/// them with U+FFFD (and says so) as the module does in the agent, and the
/// call succeeds.
#[test]
fn call_replaces_bytes_that_are_not_utf8_and_succeeds() {
    let s = Scratch::new();
    let copy = s.path().join("recover-input");
    let recover = s.script("recover", &format!("cp \"$1\" '{}'", copy.display()));
    let labels = s.script(
        "labels",
        r#"echo '{"labels":[{"key":"added","value":"x"}]}' > "$2""#,
    );
    let m = manifest(
        &s,
        &format!(
            r#"{{"name":"com_criteo_mesos_CommandIsolator","parameters":[
                {{"key":"module_name","value":"iso"}},
                {{"key":"isolator_recover_command","value":"{}"}}]}},
               {{"name":"com_criteo_mesos_CommandHook","parameters":[
                {{"key":"module_name","value":"hooks"}},
                {{"key":"hook_slave_run_task_label_decorator_command","value":"{}"}},
                {{"key":"hook_slave_run_task_label_decorator_merge","value":"true"}}]}}"#,
            recover.display(),
            labels.display()
        ),
    );
    let note = "holds bytes that are not valid UTF-8; they were replaced with U+FFFD";

    let out = tool(&[
        "call",
        &m,
        "--module",
        "iso",
        "--method",
        "isolator_recover",
        "--input",
        &fixture_path("invalid-utf8/isolator_recover.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));
    let input = std::fs::read_to_string(&copy).expect("the command's input is UTF-8");
    assert!(input.contains("caf\u{fffd} \u{fffd}\u{fffd}"), "{input}");
    assert!(input.contains("sleep 12 # \u{fffd}\u{fffd}"), "{input}");

    let out = tool(&[
        "call",
        &m,
        "--module",
        "hooks",
        "--method",
        "hook_slave_run_task_label_decorator",
        "--input",
        &fixture_path("invalid-utf8/slave_run_task_label_decorator.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels = answer["labels"].as_array().unwrap();
    assert!(
        labels.contains(&serde_json::json!({"key": "team", "value": "infra \u{fffd}\u{fffd}"})),
        "{answer}"
    );
    assert!(labels.contains(&serde_json::json!({"key": "added", "value": "x"})));
}

/// `tool` with environment variables set and run from `cwd`.
fn tool_in(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-command-modules"))
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .current_dir(cwd)
        .output()
        .expect("run the tool")
}

#[test]
fn check_refuses_relative_commands_and_relative_path_entries() {
    let s = Scratch::new();
    std::fs::create_dir(s.path().join("rel")).unwrap();
    s.script("ans.sh", "true");
    s.script("rel/x.sh", "true");
    s.script("rel/bare", "true");
    s.script("h.py", "true");
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandIsolator","parameters":[
            {"key":"module_name","value":"a"},
            {"key":"isolator_prepare_command","value":"./ans.sh"},
            {"key":"isolator_cleanup_command","value":"rel/x.sh"},
            {"key":"service_command","value":"./h.py"},
            {"key":"service_methods","value":"isolator_usage"}]},
           {"name":"com_criteo_mesos_CommandHook","parameters":[
            {"key":"module_name","value":"b"},
            {"key":"hook_slave_post_fetch_hook_command","value":"bare"}]}"#,
    );
    // Every one of them exists relative to the working directory, and
    // `bare` through the relative entry of PATH.
    let out = tool_in(s.path(), &[("PATH", "rel:/usr/bin:/bin")], &["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let rule = "a command must be an absolute path, or a bare name (without a slash) found in PATH";
    for (key, value) in [
        ("isolator_prepare_command", "./ans.sh"),
        ("isolator_cleanup_command", "rel/x.sh"),
        ("service_command", "./h.py"),
    ] {
        assert!(
            stdout.contains(&format!(
                "com_criteo_mesos_CommandIsolator (Isolator, from \
                 /usr/lib/mesos/modules/libmesos_command_modules.so): ERROR {key}: \"{value}\" is \
                 a relative path: {rule}"
            )),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!(
            "ERROR hook_slave_post_fetch_hook_command: \"bare\" is not an executable found in \
             PATH (in its absolute directories); {rule}"
        )),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("error: 2 of 2 module(s) would fail"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_reports_every_key_at_fault_one_line_each() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandIsolator","parameters":[
            {"key":"module_name","value":"i"},
            {"key":"debugg","value":"1"},
            {"key":"kill_grace_period","value":"abc"},
            {"key":"supports_nesting","value":""},
            {"key":"hook_slave_post_fetch_hook_timeout","value":"3"}]}"#,
    );
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let header = "com_criteo_mesos_CommandIsolator (Isolator, from \
                  /usr/lib/mesos/modules/libmesos_command_modules.so): ERROR";
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{header} debugg: unknown key; did you mean \"debug\"?"),
            format!("{header} kill_grace_period: \"abc\" is not a number of seconds"),
            format!("{header} supports_nesting: \"\" is not a boolean (use \"true\" or \"false\")"),
            format!(
                "{header} hook_slave_post_fetch_hook_timeout: is a key of Hook modules, but this \
                 module is an Isolator module (load it with a com_criteo_mesos_CommandHook \
                 module name)"
            ),
        ]
    );
    assert!(
        text(&out.stderr).contains("error: 1 of 1 module(s) would fail"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_explains_a_merge_key_of_a_method_without_merge() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandHook","parameters":[
            {"key":"module_name","value":"h"},
            {"key":"hook_slave_post_fetch_hook_merge","value":"true"}]}"#,
    );
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "ERROR hook_slave_post_fetch_hook_merge: unknown key: hook_slave_post_fetch_hook has \
             no merge mode; a _merge key exists only for the label decorators and the \
             environment decorator (hook_master_launch_task_label_decorator_merge, \
             hook_slave_run_task_label_decorator_merge, \
             hook_slave_executor_environment_decorator_merge)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("did you mean"), "{stdout}");
}

#[test]
fn check_reports_module_names_the_library_does_not_register() {
    let s = Scratch::new();
    let m = manifest(
        &s,
        r#"{"name":"com_criteo_mesos_CommandIsolatr","parameters":[
            {"key":"module_name","value":"i"}]},
           {"name":"com_criteo_mesos_CommandHook12","parameters":[
            {"key":"module_name","value":"h"}]},
           {"name":"com_criteo_mesos_CommandHook","parameters":[
            {"key":"module_name","value":"ok"}]}"#,
    );
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let library = "/usr/lib/mesos/modules/libmesos_command_modules.so";
    assert!(
        stdout.contains(&format!(
            "com_criteo_mesos_CommandIsolatr (from {library}): ERROR \
             com_criteo_mesos_CommandIsolatr is not a module of {library} (did you mean \
             \"com_criteo_mesos_CommandIsolator\"?); its modules are \
             com_criteo_mesos_CommandHook, com_criteo_mesos_CommandHook2 to \
             com_criteo_mesos_CommandHook11, com_criteo_mesos_CommandIsolator, \
             com_criteo_mesos_CommandIsolator2 to com_criteo_mesos_CommandIsolator11, \
             com_criteo_mesos_CommandResourceEstimator and com_criteo_mesos_CommandQoSController"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "com_criteo_mesos_CommandHook12 (from {library}): ERROR \
             com_criteo_mesos_CommandHook12 is not a module of {library}; its modules are"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "com_criteo_mesos_CommandHook (Hook, from {library}): OK"
        )),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("error: 2 of 3 module(s) would fail"),
        "{}",
        text(&out.stderr)
    );
    // Alone, such a name is still an error, not "loads no command module".
    let m = manifest(&s, r#"{"name":"com_criteo_mesos_CommandIsolatr"}"#);
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("ERROR com_criteo_mesos_CommandIsolatr is not a module"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_refuses_a_temp_directory_no_command_could_use() {
    let s = Scratch::new();
    let cmd = s.script("hook", "true");
    let missing = s.path().join("missing");
    let file = s.script("a-file", "");
    let module = |temp: Option<&Path>| {
        let temp = temp.map_or(String::new(), |t| {
            format!(r#",{{"key":"temp_directory","value":"{}"}}"#, t.display())
        });
        manifest(
            &s,
            &format!(
                r#"{{"name":"com_criteo_mesos_CommandHook","parameters":[
                    {{"key":"module_name","value":"h"}},
                    {{"key":"hook_slave_post_fetch_hook_command","value":"{}"}}{temp}]}}"#,
                cmd.display()
            ),
        )
    };
    let check = |m: &str, tmpdir: &str| {
        let out = tool_in(s.path(), &[("TMPDIR", tmpdir)], &["check", m]);
        (out.status.code(), text(&out.stdout))
    };
    let given = module(Some(&missing));
    let (code, stdout) = check(&given, "/tmp");
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&format!(
            "ERROR temp_directory: \"{}\" does not exist, so every command of the module would \
             fail: create it, or choose another directory",
            missing.display()
        )),
        "{stdout}"
    );
    let (code, stdout) = check(&module(Some(&file)), "/tmp");
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&format!(
            "ERROR temp_directory: \"{}\" is not a directory, so every command of the module \
             would fail",
            file.display()
        )),
        "{stdout}"
    );
    // The default: $TMPDIR, which must then be absolute and exist; an
    // empty one is unset.
    let default = module(None);
    let (code, stdout) = check(&default, "tmp");
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(
            "ERROR temp_directory: is not given, and its default, $TMPDIR (\"tmp\"), is not an \
             absolute path"
        ),
        "{stdout}"
    );
    let (code, stdout) = check(&default, missing.to_str().unwrap());
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&format!(
            "ERROR temp_directory: is not given, and its default, $TMPDIR (\"{}\"), does not \
             exist",
            missing.display()
        )),
        "{stdout}"
    );
    let (code, stdout) = check(&default, "");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("  temp_directory = /tmp\n"), "{stdout}");
}

/// Two isolators with one state directory would each remove the other's
/// checkpoints at recover: `check` refuses the second.
#[test]
fn check_refuses_two_isolators_sharing_a_state_directory() {
    let s = Scratch::new();
    let state = s.path().join("state").display().to_string();
    let isolator = |symbol: &str, name: &str| {
        format!(
            r#"{{"name":"{symbol}","parameters":[{{"key":"module_name","value":"{name}"}},
               {{"key":"state_directory","value":"{state}"}}]}}"#
        )
    };
    let m = manifest(
        &s,
        &[
            isolator("com_criteo_mesos_CommandIsolator", "shared"),
            isolator("com_criteo_mesos_CommandIsolator2", "shared"),
            isolator("com_criteo_mesos_CommandIsolator3", "own"),
        ]
        .join(","),
    );
    let out = tool(&["check", &m]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    let errors: Vec<&str> = stdout.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].starts_with("com_criteo_mesos_CommandIsolator2 (Isolator, from "),
        "{stdout}"
    );
    assert!(
        errors[0].contains(&format!(
            "ERROR module_name: {state}/shared is also the state directory of \
             com_criteo_mesos_CommandIsolator: "
        )),
        "{stdout}"
    );
}
