//! The module's `parameters`, parsed once into a typed [`Config`].
//!
//! Mesos hands a module a flat list of key/value strings. The original module
//! ignored what it did not know, threw (killing the agent) on a bad number and
//! silently configured nothing for a misspelt key. Here every key is known or
//! rejected with a suggestion, every value is checked, and every error names
//! the key, so a bad manifest fails at agent start with a readable reason.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::method::{Method, ModuleKind};
use crate::runner::CgroupSetting;

/// Seconds a command may run when `<key>_timeout` is not given (the
/// original's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Seconds between two watch runs when `isolator_watch_frequence` is absent.
pub const DEFAULT_WATCH_FREQUENCY: Duration = Duration::from_secs(30);
/// Time between SIGTERM and SIGKILL for a command past its timeout.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(1);
/// Cap on the bytes read from any one output or error file.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 4 * 1024 * 1024;
/// The largest accepted `max_concurrent_commands`.
pub const MAX_CONCURRENT_COMMANDS: usize = 4096;

/// `max_concurrent_commands` when it is not given: eight commands per CPU
/// the agent may use, at least 32 and at most 256. Enough for the launches
/// of a busy agent, whose commands often wait on the network or a disk
/// rather than use a CPU, while a scrape of `/monitor/statistics` on an
/// agent with a thousand containers would otherwise start a thousand at
/// once, which then compete for the same CPUs and all finish late.
pub fn default_max_concurrent_commands() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    (8 * cpus).clamp(32, 256)
}

/// Time a service helper has to answer `initialize` when it starts.
pub const DEFAULT_SERVICE_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests a service helper may have in flight at once.
pub const DEFAULT_SERVICE_MAX_IN_FLIGHT: usize = 256;
/// Requests in a row a service helper may leave unanswered past their
/// timeout before it is restarted.
pub const DEFAULT_SERVICE_UNANSWERED_LIMIT: usize = 3;
/// The longest pause between two starts of a service helper.
pub const DEFAULT_SERVICE_RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The original module's state directory, kept so an upgrade finds its state.
pub const DEFAULT_STATE_DIRECTORY: &str = "/var/run/mesos/isolators/command";

const COMMAND_SUFFIX: &str = "_command";
const TIMEOUT_SUFFIX: &str = "_timeout";
const MERGE_SUFFIX: &str = "_merge";

/// The keys of the service helper besides `service_command`, refused
/// without it.
const SERVICE_KEYS: [&str; 5] = [
    "service_methods",
    "service_startup_timeout",
    "service_max_in_flight",
    "service_unanswered_limit",
    "service_restart_backoff_max",
];

/// Keys that are not per method: (key, module kind it applies to or `None`
/// for both, what it takes).
const GLOBAL_KEYS: &[(&str, Option<ModuleKind>)] = &[
    ("module_name", None),
    ("debug", None),
    ("kill_grace_period", None),
    ("max_output_bytes", None),
    ("temp_directory", None),
    ("allow_insecure_commands", None),
    ("command_cgroup", None),
    ("max_concurrent_commands", None),
    ("service_command", None),
    ("service_methods", None),
    ("service_startup_timeout", None),
    ("service_max_in_flight", None),
    ("service_unanswered_limit", None),
    ("service_restart_backoff_max", None),
    ("isolator_watch_frequence", Some(ModuleKind::Isolator)),
    ("supports_nesting", Some(ModuleKind::Isolator)),
    ("supports_standalone", Some(ModuleKind::Isolator)),
    ("state_directory", Some(ModuleKind::Isolator)),
];

/// A configuration error: the key at fault and what is wrong with it.
///
/// [`Config::parse`] reports every key it finds at fault, not only the
/// first: the first (in the order of the parameters) is `key`/`problem`,
/// the others are in `others`, each naming its own key ([`each`] gives
/// them all). `{}` displays the first as `key: problem`; the alternate
/// form, `{:#}`, all of them on one line, separated by `; and `.
///
/// [`each`]: ConfigError::each
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
    /// The other keys at fault in the same parameters, in their order;
    /// empty when there is one error. Their own `others` are empty.
    pub others: Vec<ConfigError>,
}

impl ConfigError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            problem: problem.into(),
            others: Vec::new(),
        }
    }

    /// Every error, this one first, each as `(key, problem)`.
    pub fn each(&self) -> impl Iterator<Item = (&str, &str)> {
        std::iter::once((self.key.as_str(), self.problem.as_str())).chain(
            self.others
                .iter()
                .map(|e| (e.key.as_str(), e.problem.as_str())),
        )
    }

    /// One error of all of `errors` (in the order they came), or `None`
    /// when there is none.
    fn gather(mut errors: Vec<ConfigError>) -> Option<ConfigError> {
        if errors.is_empty() {
            return None;
        }
        let mut first = errors.remove(0);
        first.others = errors;
        Some(first)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)?;
        if f.alternate() {
            for other in &self.others {
                write!(f, "; and {}: {}", other.key, other.problem)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The errors found while parsing one module's parameters.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    fn push(&mut self, error: ConfigError) {
        self.0.push(error);
    }

    /// The value of `result`, or `None` with its error kept.
    fn take<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// The value of `result`, or `fallback` with its error kept (the
    /// parse goes on to find the other errors; the fallback is never
    /// used, since the parse then fails).
    fn or<T>(&mut self, result: Result<T, ConfigError>, fallback: T) -> T {
        self.take(result).unwrap_or(fallback)
    }
}

/// One method's command.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandConfig {
    /// The value as the operator wrote it, used in messages.
    pub configured: String,
    /// The executable actually run (resolved through `PATH` when the value
    /// has no slash, once, at load time).
    pub path: PathBuf,
    pub timeout: Duration,
    /// Merge mode of the label and environment decorators: the command's
    /// entries are added to the existing ones instead of replacing them.
    pub merge: bool,
    /// Served by the module's service helper (`service_methods`), whose
    /// executable `configured` and `path` then name, rather than run as a
    /// command of its own per call.
    pub via_service: bool,
}

/// The service helper of a module (`service_command`): one long-lived
/// process that answers the calls of `methods` over its standard input and
/// output (see `service/`).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// `service_command` as the operator wrote it, used in messages.
    pub configured: String,
    /// The executable, resolved at load time.
    pub path: PathBuf,
    /// `service_methods`, in method order.
    pub methods: Vec<Method>,
    /// `service_startup_timeout`.
    pub startup_timeout: Duration,
    /// `service_max_in_flight`.
    pub max_in_flight: usize,
    /// `service_unanswered_limit`.
    pub unanswered_limit: usize,
    /// `service_restart_backoff_max`.
    pub restart_backoff_max: Duration,
}

/// A module instance's whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub kind: ModuleKind,
    /// The exported symbol the module was loaded as, for messages.
    pub symbol: String,
    pub module_name: String,
    commands: BTreeMap<Method, CommandConfig>,
    pub watch_frequency: Duration,
    pub debug: bool,
    pub supports_nesting: bool,
    pub supports_standalone: bool,
    pub state_directory: PathBuf,
    pub kill_grace: Duration,
    pub max_output_bytes: u64,
    pub temp_directory: PathBuf,
    pub allow_insecure_commands: bool,
    /// Where each command's cgroup is created (see `runner::cgroup`).
    pub command_cgroup: CgroupSetting,
    /// How many commands of this module may run at once (see `limit.rs`).
    pub max_concurrent_commands: usize,
    /// The service helper, if `service_command` is given.
    pub service: Option<ServiceConfig>,
    /// Keys that are valid but have no effect (a timeout without a command).
    pub warnings: Vec<String>,
}

impl Config {
    /// Parses `parameters` for a module of `kind` loaded as `symbol`.
    ///
    /// Commands are checked on disk (exists, is an executable file, and is
    /// not writable by anyone but root or the current user unless
    /// `allow_insecure_commands` is true), and so is `temp_directory` when
    /// the module runs commands (it must exist). Every key at fault is
    /// reported, in the order of the parameters (see [`ConfigError`]).
    pub fn parse(
        kind: ModuleKind,
        symbol: &str,
        parameters: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut problems = Problems::default();
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        let mut seen: Vec<&str> = Vec::new();
        let mut repeated: Vec<&str> = Vec::new();
        for (key, value) in parameters {
            if seen.contains(&key.as_str()) {
                if !repeated.contains(&key.as_str()) {
                    repeated.push(key);
                    problems.push(ConfigError::new(key.as_str(), "is given more than once"));
                }
                continue;
            }
            seen.push(key);
            match check_key(kind, key) {
                Ok(()) => {
                    values.insert(key.as_str(), value.as_str());
                }
                Err(e) => problems.push(e),
            }
        }

        let module_name = match values.get("module_name") {
            Some(name) => problems.take(parse_module_name(name)),
            None => {
                problems.push(ConfigError::new(
                    "module_name",
                    "is mandatory (it names the module in logs and metrics and, for an \
                     isolator, its state directory)",
                ));
                None
            }
        };
        let flag = |key: &str, default: bool| match values.get(key) {
            Some(v) => parse_bool(key, v),
            None => Ok(default),
        };
        let seconds = |key: &str, default: Duration| match values.get(key) {
            Some(v) => parse_seconds(key, v),
            None => Ok(default),
        };
        let directory = |key: &str, default: PathBuf| match values.get(key) {
            Some(v) => parse_directory(key, v),
            None => Ok(default),
        };
        let count = |key: &str, max: usize, default: usize| match values.get(key) {
            Some(v) => parse_count(key, v, max),
            None => Ok(default),
        };

        let allow_insecure_commands = problems.or(flag("allow_insecure_commands", false), false);
        let service = match values.get("service_command").map(|v| v.trim()) {
            Some(value) if !value.is_empty() => {
                let path = problems.take(resolve_command(
                    "service_command",
                    value,
                    allow_insecure_commands,
                ));
                let methods = match values.get("service_methods") {
                    Some(list) => problems.take(parse_service_methods(kind, list)),
                    None => {
                        problems.push(ConfigError::new(
                            "service_methods",
                            "is mandatory with service_command: name the methods the helper \
                             serves (e.g. \"isolator_usage,isolator_status\"), or \"all\"",
                        ));
                        None
                    }
                };
                let startup_timeout = problems.or(
                    seconds("service_startup_timeout", DEFAULT_SERVICE_STARTUP_TIMEOUT),
                    DEFAULT_SERVICE_STARTUP_TIMEOUT,
                );
                let max_in_flight = problems.or(
                    count(
                        "service_max_in_flight",
                        65536,
                        DEFAULT_SERVICE_MAX_IN_FLIGHT,
                    ),
                    DEFAULT_SERVICE_MAX_IN_FLIGHT,
                );
                let unanswered_limit = problems.or(
                    count(
                        "service_unanswered_limit",
                        1000,
                        DEFAULT_SERVICE_UNANSWERED_LIMIT,
                    ),
                    DEFAULT_SERVICE_UNANSWERED_LIMIT,
                );
                let restart_backoff_max = problems.or(
                    seconds(
                        "service_restart_backoff_max",
                        DEFAULT_SERVICE_RESTART_BACKOFF_MAX,
                    )
                    .and_then(at_least_first_backoff),
                    DEFAULT_SERVICE_RESTART_BACKOFF_MAX,
                );
                match (path, methods) {
                    (Some(path), Some(methods)) => Some(ServiceConfig {
                        configured: value.to_string(),
                        path,
                        methods,
                        startup_timeout,
                        max_in_flight,
                        unanswered_limit,
                        restart_backoff_max,
                    }),
                    _ => None,
                }
            }
            _ => {
                for key in SERVICE_KEYS {
                    if values.contains_key(key) {
                        problems.push(ConfigError::new(
                            key,
                            "needs service_command: no service helper is configured",
                        ));
                    }
                }
                None
            }
        };
        let mut commands = BTreeMap::new();
        let mut warnings = Vec::new();
        for method in Method::of_kind(kind) {
            let command_key = format!("{}{COMMAND_SUFFIX}", method.key());
            let timeout_key = format!("{}{TIMEOUT_SUFFIX}", method.key());
            let merge_key = format!("{}{MERGE_SUFFIX}", method.key());
            let timeout = problems.or(seconds(&timeout_key, DEFAULT_TIMEOUT), DEFAULT_TIMEOUT);
            let merge = problems.or(flag(&merge_key, false), false);
            let served = service.as_ref().filter(|s| s.methods.contains(&method));
            if let Some(service) = served {
                if values
                    .get(command_key.as_str())
                    .is_some_and(|v| !v.trim().is_empty())
                {
                    problems.push(ConfigError::new(
                        command_key.as_str(),
                        format!(
                            "{} is also in service_methods: a method is served either by its \
                             own command or by the service helper, not both",
                            method.key()
                        ),
                    ));
                    continue;
                }
                commands.insert(
                    method,
                    CommandConfig {
                        configured: service.configured.clone(),
                        path: service.path.clone(),
                        timeout,
                        merge,
                        via_service: true,
                    },
                );
                continue;
            }
            // An empty `<method>_command` means no command, as if absent.
            match values.get(command_key.as_str()) {
                Some(value) if !value.trim().is_empty() => {
                    let Some(path) = problems.take(resolve_command(
                        &command_key,
                        value.trim(),
                        allow_insecure_commands,
                    )) else {
                        continue;
                    };
                    commands.insert(
                        method,
                        CommandConfig {
                            configured: value.trim().to_string(),
                            path,
                            timeout,
                            merge,
                            via_service: false,
                        },
                    );
                }
                _ => {
                    for key in [&timeout_key, &merge_key] {
                        if values.contains_key(key.as_str()) {
                            warnings.push(format!(
                                "{key} has no effect: {command_key} is not configured"
                            ));
                        }
                    }
                    // Its one method never answering, the module is a noop
                    // one: most likely a command left out by mistake.
                    if !method.answers_without_command() {
                        warnings.push(format!(
                            "{command_key} is not configured: this {} never answers, as \
                             Mesos's own noop one",
                            kind.name()
                        ));
                    }
                }
            }
        }

        let state_directory = problems.or(
            directory("state_directory", PathBuf::from(DEFAULT_STATE_DIRECTORY)),
            PathBuf::from(DEFAULT_STATE_DIRECTORY),
        );
        let temp_directory = match values.get("temp_directory") {
            Some(v) => problems.take(parse_directory("temp_directory", v)),
            None => Some(default_temp_directory(
                std::env::var_os("TMPDIR").as_deref(),
            )),
        };
        // Only the commands run per call use it: a module without any (or
        // whose methods are all served by the helper) never does.
        if let Some(dir) = &temp_directory {
            if commands.values().any(|c| !c.via_service) {
                problems.take(check_temp_directory(
                    dir,
                    values.contains_key("temp_directory"),
                ));
            }
        }
        let config = Config {
            kind,
            symbol: symbol.to_string(),
            commands,
            watch_frequency: problems.or(
                seconds("isolator_watch_frequence", DEFAULT_WATCH_FREQUENCY),
                DEFAULT_WATCH_FREQUENCY,
            ),
            debug: problems.or(flag("debug", false), false),
            supports_nesting: problems.or(flag("supports_nesting", true), true),
            supports_standalone: problems.or(flag("supports_standalone", false), false),
            state_directory: state_directory.join(module_name.as_deref().unwrap_or_default()),
            kill_grace: problems.or(
                seconds("kill_grace_period", DEFAULT_KILL_GRACE),
                DEFAULT_KILL_GRACE,
            ),
            max_output_bytes: match values.get("max_output_bytes") {
                Some(v) => {
                    problems.or(parse_bytes("max_output_bytes", v), DEFAULT_MAX_OUTPUT_BYTES)
                }
                None => DEFAULT_MAX_OUTPUT_BYTES,
            },
            temp_directory: temp_directory.unwrap_or_default(),
            allow_insecure_commands,
            command_cgroup: match values.get("command_cgroup") {
                Some(v) => problems.or(
                    CgroupSetting::parse(v).map_err(|p| ConfigError::new("command_cgroup", p)),
                    CgroupSetting::Auto,
                ),
                None => CgroupSetting::Auto,
            },
            max_concurrent_commands: match values.get("max_concurrent_commands") {
                Some(v) => problems.or(
                    parse_count("max_concurrent_commands", v, MAX_CONCURRENT_COMMANDS),
                    1,
                ),
                None => default_max_concurrent_commands(),
            },
            service,
            module_name: module_name.unwrap_or_default(),
            warnings,
        };
        // In the order of the parameters (a mandatory key that is missing
        // last), whatever the order the checks ran in.
        let mut errors = problems.0;
        let position = |key: &str| {
            parameters
                .iter()
                .position(|(k, _)| k == key)
                .unwrap_or(parameters.len())
        };
        errors.sort_by_key(|e| position(&e.key));
        match ConfigError::gather(errors) {
            Some(e) => Err(e),
            None => Ok(config),
        }
    }

    /// The command of `method`, if one is configured.
    pub fn command(&self, method: Method) -> Option<&CommandConfig> {
        self.commands.get(&method)
    }

    /// Whether any method runs a command of its own per call (rather than
    /// through the service helper).
    pub fn runs_commands(&self) -> bool {
        self.commands.values().any(|c| !c.via_service)
    }

    /// Why the module's commands could not run in its `temp_directory`, if
    /// that is so: it is not a directory, or this process may not create
    /// entries in it (read-only, no permission). Module load refuses only a
    /// missing one (see `check_temp_directory`); each call reports these,
    /// and `mesos-command-modules check` reports them up front. `None` for
    /// a module that runs no command per call.
    pub fn temp_directory_problem(&self) -> Option<ConfigError> {
        if !self.runs_commands() {
            return None;
        }
        let dir = &self.temp_directory;
        let problem = match std::fs::metadata(dir) {
            Err(e) => format!("\"{}\" cannot be used: {e}", dir.display()),
            Ok(m) if !m.is_dir() => format!("\"{}\" is not a directory", dir.display()),
            Ok(_) => {
                let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
                match rustix::fs::access(dir, access) {
                    Ok(()) => return None,
                    Err(e) => format!(
                        "\"{}\" is not writable here: {}",
                        dir.display(),
                        std::io::Error::from(e)
                    ),
                }
            }
        };
        Some(ConfigError::new(
            "temp_directory",
            format!("{problem}, so every command of the module would fail"),
        ))
    }

    /// The methods that have a command, in method order.
    pub fn configured_methods(&self) -> impl Iterator<Item = Method> + '_ {
        self.commands.keys().copied()
    }

    /// The effective configuration as `key = value` lines, for
    /// `mesos-command-modules check`: every key that is not per method
    /// (the isolator's for an isolator) with its value or default, except
    /// the service keys besides `service_command`, which only a configured
    /// helper has; every method's `<method>_command` (`(none)`, or `(served
    /// by service_command)`); and for each method that has a command or is
    /// served, its effective `<method>_timeout`, and `<method>_merge` where
    /// the method has one. A method without either has no effective
    /// timeout or merge mode.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut lines = vec![
            ("module_name".to_string(), self.module_name.clone()),
            ("debug".to_string(), self.debug.to_string()),
        ];
        for method in Method::of_kind(self.kind) {
            let key = method.key();
            match self.command(method) {
                Some(c) if c.via_service => {
                    lines.push((
                        format!("{key}_command"),
                        "(served by service_command)".to_string(),
                    ));
                    lines.push((format!("{key}_timeout"), seconds_text(c.timeout)));
                    if method.contract().merge.is_some() {
                        lines.push((format!("{key}_merge"), c.merge.to_string()));
                    }
                }
                Some(c) => {
                    let resolved = if Path::new(&c.configured) == c.path {
                        String::new()
                    } else {
                        format!(" ({})", c.path.display())
                    };
                    lines.push((
                        format!("{key}_command"),
                        format!("{}{resolved}", c.configured),
                    ));
                    lines.push((format!("{key}_timeout"), seconds_text(c.timeout)));
                    if method.contract().merge.is_some() {
                        lines.push((format!("{key}_merge"), c.merge.to_string()));
                    }
                }
                None => lines.push((format!("{key}_command"), "(none)".to_string())),
            }
        }
        if self.kind == ModuleKind::Isolator {
            lines.push((
                "isolator_watch_frequence".to_string(),
                seconds_text(self.watch_frequency),
            ));
            lines.push((
                "supports_nesting".to_string(),
                self.supports_nesting.to_string(),
            ));
            lines.push((
                "supports_standalone".to_string(),
                self.supports_standalone.to_string(),
            ));
            lines.push((
                "state_directory".to_string(),
                self.state_directory.display().to_string(),
            ));
        }
        lines.push((
            "kill_grace_period".to_string(),
            seconds_text(self.kill_grace),
        ));
        lines.push((
            "max_output_bytes".to_string(),
            self.max_output_bytes.to_string(),
        ));
        lines.push((
            "temp_directory".to_string(),
            self.temp_directory.display().to_string(),
        ));
        lines.push((
            "allow_insecure_commands".to_string(),
            self.allow_insecure_commands.to_string(),
        ));
        lines.push(("command_cgroup".to_string(), self.command_cgroup.describe()));
        lines.push((
            "max_concurrent_commands".to_string(),
            self.max_concurrent_commands.to_string(),
        ));
        match &self.service {
            Some(service) => {
                let resolved = if Path::new(&service.configured) == service.path {
                    String::new()
                } else {
                    format!(" ({})", service.path.display())
                };
                let methods: Vec<&str> = service.methods.iter().map(|m| m.key()).collect();
                lines.extend([
                    (
                        "service_command".to_string(),
                        format!("{}{resolved}", service.configured),
                    ),
                    ("service_methods".to_string(), methods.join(",")),
                    (
                        "service_startup_timeout".to_string(),
                        seconds_text(service.startup_timeout),
                    ),
                    (
                        "service_max_in_flight".to_string(),
                        service.max_in_flight.to_string(),
                    ),
                    (
                        "service_unanswered_limit".to_string(),
                        service.unanswered_limit.to_string(),
                    ),
                    (
                        "service_restart_backoff_max".to_string(),
                        seconds_text(service.restart_backoff_max),
                    ),
                ]);
            }
            None => lines.push(("service_command".to_string(), "(none)".to_string())),
        }
        lines
    }
}

/// The back-off starts at 0.1 s: a smaller bound could only be a
/// misunderstanding (restarts would not come sooner), so it is refused
/// rather than silently raised.
fn at_least_first_backoff(bound: Duration) -> Result<Duration, ConfigError> {
    if bound < crate::service::FIRST_BACKOFF {
        return Err(ConfigError::new(
            "service_restart_backoff_max",
            format!(
                "{} is less than the first pause before a restart (0.1s): the pauses double \
                 from 0.1s up to this bound",
                seconds_text(bound)
            ),
        ));
    }
    Ok(bound)
}

fn seconds_text(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Every key a module of `kind` accepts.
pub fn known_keys(kind: ModuleKind) -> Vec<String> {
    let mut keys: Vec<String> = GLOBAL_KEYS
        .iter()
        .filter(|(_, k)| k.is_none_or(|k| k == kind))
        .map(|(key, _)| key.to_string())
        .collect();
    for method in Method::of_kind(kind) {
        keys.push(format!("{}{COMMAND_SUFFIX}", method.key()));
        keys.push(format!("{}{TIMEOUT_SUFFIX}", method.key()));
        if method.contract().merge.is_some() {
            keys.push(format!("{}{MERGE_SUFFIX}", method.key()));
        }
    }
    keys
}

/// The kind's name as printed in messages, after its article: "a Hook",
/// "an Isolator", "a ResourceEstimator", "a QoSController".
pub fn with_article(kind: ModuleKind) -> String {
    let name = kind.name();
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

fn check_key(kind: ModuleKind, key: &str) -> Result<(), ConfigError> {
    let own = known_keys(kind);
    if own.iter().any(|k| k == key) {
        return Ok(());
    }
    if let Some(other) = ModuleKind::ALL
        .into_iter()
        .find(|&other| other != kind && known_keys(other).iter().any(|k| k == key))
    {
        return Err(ConfigError::new(
            key,
            format!(
                "is a key of {other} modules, but this module is {} module (load it with a \
                 com_criteo_mesos_Command{other} module name)",
                with_article(kind)
            ),
        ));
    }
    // `<method>_merge` for a method that has no merge mode: the closest key
    // would be its `_timeout`, which is not what was meant.
    if let Some(method) = key
        .strip_suffix(MERGE_SUFFIX)
        .and_then(|stem| Method::ALL.into_iter().find(|m| m.key() == stem))
    {
        let merging: Vec<String> = Method::ALL
            .into_iter()
            .filter(|m| m.contract().merge.is_some())
            .map(|m| format!("{}{MERGE_SUFFIX}", m.key()))
            .collect();
        return Err(ConfigError::new(
            key,
            format!(
                "unknown key: {method} has no merge mode; a _merge key exists only for the \
                 label decorators and the environment decorator ({})",
                merging.join(", ")
            ),
        ));
    }
    let suggestion = closest(key, &own);
    Err(ConfigError::new(
        key,
        match suggestion {
            Some(s) => format!("unknown key; did you mean \"{s}\"?"),
            None => "unknown key".to_string(),
        },
    ))
}

/// The known key closest to `key`: the key plus `_command` when that exists
/// (the original's example forgot the suffix), else the smallest edit
/// distance within a third of the key's length.
fn closest<'a>(key: &str, known: &'a [String]) -> Option<&'a str> {
    let with_command = format!("{key}{COMMAND_SUFFIX}");
    if let Some(k) = known.iter().find(|k| **k == with_command) {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, _)| *d <= key.len().max(3) / 3 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

fn parse_module_name(value: &str) -> Result<String, ConfigError> {
    let name = value.trim();
    if name.is_empty() {
        return Err(ConfigError::new("module_name", "must not be empty"));
    }
    if name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(ConfigError::new(
            "module_name",
            format!(
                "\"{value}\" cannot be used as a directory name (it names the state directory)"
            ),
        ));
    }
    Ok(name.to_string())
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            key,
            format!("\"{value}\" is not a boolean (use \"true\" or \"false\")"),
        )),
    }
}

/// Largest accepted duration: a year, far beyond any sane timeout, and small
/// enough that deadlines never overflow.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;
/// Smallest accepted duration: a millisecond. Below it a value such as
/// `1e-300` would become a zero duration (an immediate timeout, or a watch
/// interval that the timer refuses with a panic).
const MIN_SECONDS: f64 = 0.001;
/// Largest accepted `max_output_bytes`: an answer is a JSON document the
/// agent parses in memory; a larger cap would only let a command make the
/// agent allocate that much.
pub const MAX_OUTPUT_BYTES_LIMIT: u64 = 1 << 30;

fn parse_seconds(key: &str, value: &str) -> Result<Duration, ConfigError> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(key, format!("\"{value}\" is not a number of seconds")))?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(ConfigError::new(
            key,
            format!("\"{value}\" must be a number of seconds greater than 0"),
        ));
    }
    if seconds > MAX_SECONDS {
        return Err(ConfigError::new(
            key,
            format!("\"{value}\" is more than a year ({MAX_SECONDS} seconds)"),
        ));
    }
    if seconds < MIN_SECONDS {
        return Err(ConfigError::new(
            key,
            format!("\"{value}\" is less than a millisecond ({MIN_SECONDS} seconds)"),
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `service_methods`: `all`, or method stems of this module's kind
/// separated by commas.
fn parse_service_methods(kind: ModuleKind, list: &str) -> Result<Vec<Method>, ConfigError> {
    const KEY: &str = "service_methods";
    if list.trim() == "all" {
        return Ok(Method::of_kind(kind).collect());
    }
    let mut methods = Vec::new();
    for stem in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let method = Method::of_kind(kind)
            .find(|m| m.key() == stem)
            .ok_or_else(|| {
                let known: Vec<&str> = Method::of_kind(kind).map(Method::key).collect();
                ConfigError::new(
                    KEY,
                    format!(
                        "\"{stem}\" is not a method of {} module (they are: {}, or \"all\")",
                        with_article(kind),
                        known.join(", ")
                    ),
                )
            })?;
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    if methods.is_empty() {
        return Err(ConfigError::new(
            KEY,
            "names no method: give method stems separated by commas, or \"all\"",
        ));
    }
    methods.sort();
    Ok(methods)
}

/// A whole number from 1 to `max`.
fn parse_count(key: &str, value: &str, max: usize) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(_) => Err(ConfigError::new(
            key,
            format!("\"{value}\" must be from 1 to {max}"),
        )),
        Err(_) => Err(ConfigError::new(
            key,
            format!("\"{value}\" is not a whole number"),
        )),
    }
}

fn parse_bytes(key: &str, value: &str) -> Result<u64, ConfigError> {
    let trimmed = value.trim();
    let (digits, unit) = match trimmed.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => trimmed.split_at(i),
        None => (trimmed, ""),
    };
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .filter(|_| multiplier > 0)
        .and_then(|n| n.checked_mul(multiplier));
    match bytes {
        Some(n) if n > MAX_OUTPUT_BYTES_LIMIT => Err(ConfigError::new(
            key,
            format!("\"{value}\" is more than {MAX_OUTPUT_BYTES_LIMIT} bytes (1GiB)"),
        )),
        Some(n) if n >= 1024 => Ok(n),
        Some(_) => Err(ConfigError::new(
            key,
            format!("\"{value}\" must be at least 1024 bytes"),
        )),
        None => Err(ConfigError::new(
            key,
            format!("\"{value}\" is not a size in bytes (e.g. 4194304 or 4MiB)"),
        )),
    }
}

fn parse_directory(key: &str, value: &str) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(value.trim());
    if !path.is_absolute() {
        return Err(ConfigError::new(
            key,
            format!("\"{value}\" must be an absolute path"),
        ));
    }
    Ok(path)
}

/// The default `temp_directory`: the agent's temp directory, as stout's
/// `os::temp()` gives it (`$TMPDIR` if set, else `/tmp`), except that an
/// empty `TMPDIR` counts as unset (as for glibc, Go and Python). A relative
/// `TMPDIR` is returned as it is, and refused by [`check_temp_directory`]
/// when the module runs commands.
fn default_temp_directory(tmpdir: Option<&std::ffi::OsStr>) -> PathBuf {
    match tmpdir {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("/tmp"),
    }
}

/// What module load requires of the `temp_directory` of a module that runs
/// commands: an absolute path (the default from a relative `TMPDIR` would
/// give the commands paths relative to the agent's working directory), and
/// one that exists, since otherwise every call fails. A directory that
/// exists but cannot be used (read-only, not a directory) is left to each
/// call's error, as such a state may be passing; `mesos-command-modules
/// check` reports it (see [`Config::temp_directory_problem`]).
fn check_temp_directory(dir: &Path, given: bool) -> Result<(), ConfigError> {
    const KEY: &str = "temp_directory";
    let what = if given {
        format!("\"{}\"", dir.display())
    } else {
        format!(
            "is not given, and its default, $TMPDIR (\"{}\"),",
            dir.display()
        )
    };
    if !dir.is_absolute() {
        return Err(ConfigError::new(
            KEY,
            format!(
                "{what} is not an absolute path (the commands would get paths relative to \
                 the agent's working directory): set temp_directory, or TMPDIR to an absolute \
                 path"
            ),
        ));
    }
    match std::fs::metadata(dir) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Err(ConfigError::new(
                KEY,
                format!(
                    "{what} does not exist, so every command of the module would fail: create \
                     it, or choose another directory{}",
                    if given { "" } else { " with temp_directory" }
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// What a command's value must be, in the messages that refuse one.
const COMMAND_RULE: &str =
    "a command must be an absolute path, or a bare name (without a slash) found in PATH";

/// Finds the executable `value` names and checks it can be run safely.
///
/// `value` is an absolute path, or a bare name looked up in the absolute
/// directories of `PATH`. A relative path (`./x.sh`, `bin/x`), or a relative
/// or empty entry of `PATH`, would depend on the agent's working directory:
/// the first is refused, the second skipped.
fn resolve_command(key: &str, value: &str, allow_insecure: bool) -> Result<PathBuf, ConfigError> {
    let path = if value.contains('/') {
        if !Path::new(value).is_absolute() {
            return Err(ConfigError::new(
                key,
                format!("\"{value}\" is a relative path: {COMMAND_RULE}"),
            ));
        }
        PathBuf::from(value)
    } else {
        let search = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&search)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(value))
            .find(|candidate| is_executable_file(candidate))
            .ok_or_else(|| {
                ConfigError::new(
                    key,
                    format!(
                        "\"{value}\" is not an executable found in PATH (in its absolute \
                         directories); {COMMAND_RULE}"
                    ),
                )
            })?
    };
    let metadata = std::fs::metadata(&path)
        .map_err(|e| ConfigError::new(key, format!("\"{value}\" cannot be used: {e}")))?;
    if !metadata.is_file() {
        return Err(ConfigError::new(
            key,
            format!("\"{value}\" is not a regular file"),
        ));
    }
    if !is_executable_file(&path) {
        return Err(ConfigError::new(
            key,
            format!("\"{value}\" is not executable"),
        ));
    }
    if !allow_insecure {
        check_ownership(key, value, &path, &metadata)?;
    }
    Ok(path)
}

fn is_executable_file(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    let executable = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
    executable && path.is_file()
}

/// The agent runs commands as root: a command that another user can change
/// is a privilege escalation waiting to happen. Refused: a file owned by
/// another user or writable by a group (other than root's) or by everyone;
/// a directory holding it with the same problems; and any directory above
/// it, on the configured path or on the resolved one, that another user
/// owns or that a group or everyone may write without the sticky bit
/// (`/tmp` itself is fine: nobody else can rename what root owns in it).
fn check_ownership(
    key: &str,
    value: &str,
    path: &Path,
    metadata: &std::fs::Metadata,
) -> Result<(), ConfigError> {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut problem = unsafe_entry("the file", &canonical, metadata, false);
    if problem.is_none() {
        if let Some(dir) = canonical.parent() {
            if let Ok(m) = std::fs::metadata(dir) {
                problem = unsafe_entry("its directory", dir, &m, false);
            }
        }
    }
    if problem.is_none() {
        let configured = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let ancestors = configured
            .ancestors()
            .skip(1)
            .chain(canonical.ancestors().skip(2));
        for dir in ancestors {
            if let Ok(m) = std::fs::metadata(dir) {
                problem = unsafe_entry("the directory", dir, &m, true);
                if problem.is_some() {
                    break;
                }
            }
        }
    }
    match problem {
        Some(p) => Err(ConfigError::new(
            key,
            format!(
                "\"{value}\" is refused because {p}, and the agent runs it as root; fix the \
                 permissions or set allow_insecure_commands to \"true\""
            ),
        )),
        None => Ok(()),
    }
}

/// Why another user could change `path` (or what it holds), if they can.
fn unsafe_entry(
    what: &str,
    path: &Path,
    m: &std::fs::Metadata,
    sticky_is_safe: bool,
) -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let mode = m.permissions().mode();
    let sticky = sticky_is_safe && m.is_dir() && mode & 0o1000 != 0;
    if m.uid() != 0 && m.uid() != me {
        Some(format!(
            "{what} {} is owned by uid {}",
            path.display(),
            m.uid()
        ))
    } else if mode & 0o002 != 0 && !sticky {
        Some(format!(
            "{what} {} is writable by every user",
            path.display()
        ))
    } else if mode & 0o020 != 0 && m.gid() != 0 && !sticky {
        Some(format!(
            "{what} {} is writable by group {}",
            path.display(),
            m.gid()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(kind: ModuleKind, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::parse(kind, "com_criteo_mesos_CommandIsolator", &params(pairs))
    }

    #[test]
    fn module_name_is_mandatory() {
        let e = parse(ModuleKind::Hook, &[]).unwrap_err();
        assert_eq!(e.key, "module_name");
        assert!(e.problem.contains("mandatory"), "{e}");
    }

    #[test]
    fn defaults_follow_the_original() {
        let c = parse(ModuleKind::Isolator, &[("module_name", "m")]).unwrap();
        assert_eq!(c.watch_frequency, Duration::from_secs(30));
        assert!(c.supports_nesting);
        assert!(!c.supports_standalone);
        assert!(!c.debug);
        assert_eq!(
            c.state_directory,
            PathBuf::from("/var/run/mesos/isolators/command/m")
        );
        assert_eq!(c.configured_methods().count(), 0);
    }

    #[test]
    fn timeouts_accept_decimals_and_reject_the_rest() {
        let c = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("isolator_prepare_command", "/bin/true"),
                ("isolator_prepare_timeout", "0.5"),
            ],
        )
        .unwrap();
        let prepare = c.command(Method::IsolatorPrepare).unwrap();
        assert_eq!(prepare.timeout, Duration::from_millis(500));
        assert_eq!(prepare.path, PathBuf::from("/bin/true"));

        let e = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("isolator_prepare_timeout", "abc")],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "isolator_prepare_timeout: \"abc\" is not a number of seconds"
        );
        for bad in ["0", "-1", "inf", "NaN"] {
            let e = parse(
                ModuleKind::Isolator,
                &[("module_name", "m"), ("isolator_watch_frequence", bad)],
            )
            .unwrap_err();
            assert_eq!(e.key, "isolator_watch_frequence", "{bad}");
        }
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let e = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("hook_slave_run_task_label_decorator", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "hook_slave_run_task_label_decorator: unknown key; did you mean \
             \"hook_slave_run_task_label_decorator_command\"?"
        );
        let e = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("isolator_prepare_timout", "3")],
        )
        .unwrap_err();
        assert!(e.problem.contains("\"isolator_prepare_timeout\""), "{e}");
        let e = parse(ModuleKind::Isolator, &[("module_name", "m"), ("zzz", "3")]).unwrap_err();
        assert_eq!(e.to_string(), "zzz: unknown key");
    }

    #[test]
    fn the_oversubscription_modules_take_their_method_and_the_common_keys() {
        let c = parse(
            ModuleKind::ResourceEstimator,
            &[
                ("module_name", "e"),
                ("resource_estimator_oversubscribable_command", "/bin/true"),
                ("resource_estimator_oversubscribable_timeout", "2.5"),
                ("kill_grace_period", "2"),
            ],
        )
        .unwrap();
        let method = Method::ResourceEstimatorOversubscribable;
        assert_eq!(
            c.command(method).map(|c| c.timeout),
            Some(Duration::from_secs_f64(2.5))
        );
        let e = parse(
            ModuleKind::QoSController,
            &[
                ("module_name", "q"),
                ("qos_controller_correction_command", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.key, "qos_controller_correction_command");
        assert!(
            e.problem
                .contains("did you mean \"qos_controller_corrections_command\""),
            "{e}"
        );
        let e = parse(
            ModuleKind::QoSController,
            &[("module_name", "q"), ("state_directory", "/tmp")],
        )
        .unwrap_err();
        assert!(e.problem.contains("is a key of Isolator modules"), "{e}");
        let e = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "i"),
                ("qos_controller_corrections_command", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert!(
            e.problem
                .contains("com_criteo_mesos_CommandQoSController module name"),
            "{e}"
        );
    }

    #[test]
    fn keys_of_the_other_kind_are_rejected() {
        let e = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("isolator_prepare_command", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert!(e.problem.contains("Isolator modules"), "{e}");
    }

    #[test]
    fn commands_must_exist_and_be_executable() {
        let e = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("isolator_prepare_command", "/no/such/file"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.key, "isolator_prepare_command");
        assert!(e.problem.contains("No such file"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("isolator_prepare_command", plain.to_str().unwrap()),
            ],
        )
        .unwrap_err();
        assert!(e.problem.contains("not executable"), "{e}");

        let c = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("isolator_prepare_command", "true")],
        )
        .unwrap();
        assert!(c
            .command(Method::IsolatorPrepare)
            .unwrap()
            .path
            .is_absolute());
    }

    #[test]
    fn empty_command_means_not_configured_and_stray_timeouts_warn() {
        let c = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("isolator_usage_command", ""),
                ("isolator_usage_timeout", "3"),
            ],
        )
        .unwrap();
        assert!(c.command(Method::IsolatorUsage).is_none());
        assert_eq!(c.warnings.len(), 1);
    }

    #[test]
    fn booleans_and_sizes() {
        let c = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("debug", "true"),
                ("supports_nesting", "false"),
                ("max_output_bytes", "2MiB"),
            ],
        )
        .unwrap();
        assert!(c.debug);
        assert!(!c.supports_nesting);
        assert_eq!(c.max_output_bytes, 2 * 1024 * 1024);
        let e = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("debug", "maybe")],
        )
        .unwrap_err();
        assert_eq!(e.key, "debug");
        let e = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("max_output_bytes", "12")],
        )
        .unwrap_err();
        assert_eq!(e.key, "max_output_bytes");
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let e = parse(
            ModuleKind::Hook,
            &[("module_name", "m"), ("module_name", "n")],
        )
        .unwrap_err();
        assert!(e.problem.contains("more than once"));
    }

    #[test]
    fn module_name_cannot_escape_the_state_directory() {
        let e = parse(ModuleKind::Isolator, &[("module_name", "../etc")]).unwrap_err();
        assert_eq!(e.key, "module_name");
    }

    #[test]
    fn command_cgroup_is_checked_and_described() {
        let c = parse(ModuleKind::Hook, &[("module_name", "m")]).unwrap();
        assert_eq!(c.command_cgroup, CgroupSetting::Auto);
        let c = parse(
            ModuleKind::Hook,
            &[("module_name", "m"), ("command_cgroup", "none")],
        )
        .unwrap();
        assert_eq!(c.command_cgroup, CgroupSetting::Disabled);
        assert!(c
            .describe()
            .contains(&("command_cgroup".to_string(), "none".to_string())));
        let e = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("command_cgroup", "/tmp/x")],
        )
        .unwrap_err();
        assert_eq!(e.key, "command_cgroup");
        assert!(e.problem.contains("freezer hierarchy"), "{e}");
    }

    #[test]
    fn durations_below_a_millisecond_and_huge_caps_are_refused() {
        for tiny in ["1e-300", "0.0004"] {
            let e = parse(
                ModuleKind::Isolator,
                &[("module_name", "m"), ("isolator_watch_frequence", tiny)],
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "isolator_watch_frequence: \"{tiny}\" is less than a millisecond (0.001 \
                     seconds)"
                )
            );
        }
        let e = parse(
            ModuleKind::Hook,
            &[("module_name", "m"), ("max_output_bytes", "2GiB")],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "max_output_bytes: \"2GiB\" is more than 1073741824 bytes (1GiB)"
        );
    }

    #[test]
    fn world_writable_commands_are_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("cmd");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o777)).unwrap();
        let path = script.to_str().unwrap();
        let e = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("isolator_prepare_command", path)],
        )
        .unwrap_err();
        assert!(e.problem.contains("writable by every user"), "{e}");
        assert!(e.problem.contains("allow_insecure_commands"), "{e}");
        parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("isolator_prepare_command", path),
                ("allow_insecure_commands", "true"),
            ],
        )
        .unwrap();
    }

    #[test]
    fn the_concurrency_limit_is_a_whole_number_with_a_default_for_the_machine() {
        let c = parse(ModuleKind::Hook, &[("module_name", "m")]).unwrap();
        assert_eq!(c.max_concurrent_commands, default_max_concurrent_commands());
        assert!((32..=256).contains(&c.max_concurrent_commands));
        let c = parse(
            ModuleKind::Isolator,
            &[("module_name", "m"), ("max_concurrent_commands", "3")],
        )
        .unwrap();
        assert_eq!(c.max_concurrent_commands, 3);
        for (value, problem) in [
            ("0", "\"0\" must be from 1 to 4096"),
            ("5000", "\"5000\" must be from 1 to 4096"),
            ("many", "\"many\" is not a whole number"),
        ] {
            let e = parse(
                ModuleKind::Hook,
                &[("module_name", "m"), ("max_concurrent_commands", value)],
            )
            .unwrap_err();
            assert_eq!(e.key, "max_concurrent_commands");
            assert_eq!(e.problem, problem);
        }
    }

    #[test]
    fn relative_command_paths_are_refused() {
        for (key, value) in [
            ("isolator_prepare_command", "./ans.sh"),
            ("isolator_prepare_command", "rel/x.sh"),
            ("service_command", "./h.py"),
        ] {
            let mut pairs = vec![("module_name", "m"), (key, value)];
            if key == "service_command" {
                pairs.push(("service_methods", "isolator_usage"));
            }
            let e = parse(ModuleKind::Isolator, &pairs).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert_eq!(
                e.problem,
                format!(
                    "\"{value}\" is a relative path: a command must be an absolute path, or a \
                     bare name (without a slash) found in PATH"
                )
            );
            assert!(e.others.is_empty(), "{e}");
        }
    }

    #[test]
    fn an_empty_boolean_is_refused_but_an_empty_command_is_none() {
        for (kind, key) in [
            (ModuleKind::Isolator, "supports_nesting"),
            (ModuleKind::Isolator, "supports_standalone"),
            (ModuleKind::Hook, "debug"),
            (ModuleKind::Hook, "allow_insecure_commands"),
            (
                ModuleKind::Hook,
                "hook_slave_run_task_label_decorator_merge",
            ),
        ] {
            for empty in ["", "  "] {
                let e = parse(kind, &[("module_name", "m"), (key, empty)]).unwrap_err();
                assert_eq!(
                    e.to_string(),
                    format!("{key}: \"{empty}\" is not a boolean (use \"true\" or \"false\")")
                );
            }
        }
        let c = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("hook_slave_run_task_label_decorator_command", ""),
                ("service_command", ""),
            ],
        )
        .unwrap();
        assert_eq!(c.configured_methods().count(), 0);
        assert!(c.service.is_none());
    }

    #[test]
    fn kind_names_take_their_article() {
        assert_eq!(with_article(ModuleKind::Hook), "a Hook");
        assert_eq!(with_article(ModuleKind::Isolator), "an Isolator");
        assert_eq!(
            with_article(ModuleKind::ResourceEstimator),
            "a ResourceEstimator"
        );
        assert_eq!(with_article(ModuleKind::QoSController), "a QoSController");
        let e = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("hook_slave_post_fetch_hook_command", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            e.problem,
            "is a key of Hook modules, but this module is an Isolator module (load it with a \
             com_criteo_mesos_CommandHook module name)"
        );
        let e = parse(
            ModuleKind::Isolator,
            &[
                ("module_name", "m"),
                ("service_command", "/bin/true"),
                ("service_methods", "isolator_usag"),
            ],
        )
        .unwrap_err();
        assert!(
            e.problem
                .starts_with("\"isolator_usag\" is not a method of an Isolator module"),
            "{e}"
        );
    }

    #[test]
    fn a_restart_backoff_bound_below_the_first_pause_is_refused() {
        let with = |bound: &str| {
            parse(
                ModuleKind::Isolator,
                &[
                    ("module_name", "m"),
                    ("service_command", "/bin/true"),
                    ("service_methods", "isolator_usage"),
                    ("service_restart_backoff_max", bound),
                ],
            )
        };
        let e = with("0.05").unwrap_err();
        assert_eq!(e.key, "service_restart_backoff_max");
        assert!(
            e.problem
                .starts_with("0.05s is less than the first pause before a restart (0.1s)"),
            "{e}"
        );
        let config = with("0.1").expect("0.1 is the first pause");
        let service = config.service.expect("a helper is configured");
        assert_eq!(service.restart_backoff_max, Duration::from_millis(100));
    }

    #[test]
    fn a_merge_key_of_a_method_without_merge_names_the_methods_that_have_one() {
        for (kind, key) in [
            (ModuleKind::Hook, "hook_slave_post_fetch_hook_merge"),
            (ModuleKind::Isolator, "isolator_prepare_merge"),
        ] {
            let e = parse(kind, &[("module_name", "m"), (key, "true")]).unwrap_err();
            let method = key.strip_suffix("_merge").unwrap();
            assert_eq!(e.key, key);
            assert_eq!(
                e.problem,
                format!(
                    "unknown key: {method} has no merge mode; a _merge key exists only for the \
                     label decorators and the environment decorator \
                     (hook_master_launch_task_label_decorator_merge, \
                     hook_slave_run_task_label_decorator_merge, \
                     hook_slave_executor_environment_decorator_merge)"
                )
            );
        }
    }

    #[test]
    fn the_default_temp_directory_is_tmpdir_and_an_empty_one_is_unset() {
        use std::ffi::OsStr;
        assert_eq!(default_temp_directory(None), PathBuf::from("/tmp"));
        assert_eq!(
            default_temp_directory(Some(OsStr::new(""))),
            PathBuf::from("/tmp")
        );
        assert_eq!(
            default_temp_directory(Some(OsStr::new("/run/x"))),
            PathBuf::from("/run/x")
        );
        let e = check_temp_directory(Path::new("rel"), false).unwrap_err();
        assert_eq!(e.key, "temp_directory");
        assert!(
            e.problem.starts_with(
                "is not given, and its default, $TMPDIR (\"rel\"), is not an absolute"
            ),
            "{e}"
        );
        let e = check_temp_directory(Path::new("/no/such/dir"), false).unwrap_err();
        assert!(
            e.problem
                .contains("$TMPDIR (\"/no/such/dir\"), does not exist"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_temp_directory_is_refused_when_the_module_runs_commands() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let missing = missing.to_str().unwrap();
        let e = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("temp_directory", missing),
                ("hook_slave_post_fetch_hook_command", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "temp_directory: \"{missing}\" does not exist, so every command of the module \
                 would fail: create it, or choose another directory"
            )
        );
        // Under a file: also missing.
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let under_file = file.join("sub");
        let e = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("temp_directory", under_file.to_str().unwrap()),
                ("hook_slave_post_fetch_hook_command", "/bin/true"),
            ],
        )
        .unwrap_err();
        assert!(e.problem.contains("does not exist"), "{e}");
        // Nothing runs in it: no command, or only the service helper.
        for extra in [
            vec![],
            vec![("service_command", "/bin/true"), ("service_methods", "all")],
        ] {
            let mut pairs = vec![("module_name", "m"), ("temp_directory", missing)];
            pairs.extend(extra);
            let c = parse(ModuleKind::Hook, &pairs).unwrap();
            assert_eq!(c.temp_directory_problem(), None);
        }
        // A file: loads (each call then fails), but is a problem.
        let c = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("temp_directory", file.to_str().unwrap()),
                ("hook_slave_post_fetch_hook_command", "/bin/true"),
            ],
        )
        .unwrap();
        let e = c.temp_directory_problem().unwrap();
        assert_eq!(e.key, "temp_directory");
        assert!(e.problem.contains("is not a directory"), "{e}");
        let c = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("temp_directory", dir.path().to_str().unwrap()),
                ("hook_slave_post_fetch_hook_command", "/bin/true"),
            ],
        )
        .unwrap();
        assert_eq!(c.temp_directory_problem(), None);
    }

    #[test]
    fn every_key_at_fault_is_reported_in_the_order_of_the_parameters() {
        let e = parse(
            ModuleKind::Isolator,
            &[
                ("kill_grace_period", "abc"),
                ("module_name", "m"),
                ("debugg", "1"),
                ("isolator_prepare_command", "./x"),
                ("debug", ""),
                ("debugg", "2"),
                ("service_startup_timeout", "1"),
            ],
        )
        .unwrap_err();
        let keys: Vec<&str> = e.each().map(|(key, _)| key).collect();
        assert_eq!(
            keys,
            [
                "kill_grace_period",
                "debugg",
                "debugg",
                "isolator_prepare_command",
                "debug",
                "service_startup_timeout"
            ]
        );
        let problems: Vec<&str> = e.each().map(|(_, p)| p).collect();
        assert_eq!(problems[1], "unknown key; did you mean \"debug\"?");
        assert_eq!(problems[2], "is given more than once");
        assert!(e.others.iter().all(|o| o.others.is_empty()));
        assert_eq!(
            e.to_string(),
            "kill_grace_period: \"abc\" is not a number of seconds"
        );
        assert!(
            format!("{e:#}").starts_with(
                "kill_grace_period: \"abc\" is not a number of seconds; and debugg: unknown key; \
                 did you mean \"debug\"?; and debugg: is given more than once; and "
            ),
            "{e:#}"
        );
        // A missing mandatory key comes last.
        let e = parse(ModuleKind::Hook, &[("debug", "maybe")]).unwrap_err();
        let keys: Vec<&str> = e.each().map(|(key, _)| key).collect();
        assert_eq!(keys, ["debug", "module_name"]);
    }

    #[test]
    fn describe_gives_the_timeout_of_every_method_with_a_command_or_served() {
        for (kind, served) in [
            (
                ModuleKind::ResourceEstimator,
                "resource_estimator_oversubscribable",
            ),
            (ModuleKind::QoSController, "qos_controller_corrections"),
            (ModuleKind::Isolator, "isolator_usage"),
            (ModuleKind::Hook, "hook_slave_run_task_label_decorator"),
        ] {
            let timeout_key = format!("{served}_timeout");
            let c = parse(
                kind,
                &[
                    ("module_name", "m"),
                    ("service_command", "/bin/true"),
                    ("service_methods", served),
                    (timeout_key.as_str(), "2"),
                ],
            )
            .unwrap();
            let lines = c.describe();
            let value = |key: &str| {
                lines
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(
                value(&format!("{served}_command")),
                Some("(served by service_command)")
            );
            assert_eq!(value(&timeout_key), Some("2s"), "{kind}");
            for method in Method::of_kind(kind).filter(|m| m.key() != served) {
                assert_eq!(value(&format!("{method}_command")), Some("(none)"));
                assert_eq!(value(&format!("{method}_timeout")), None);
                assert_eq!(value(&format!("{method}_merge")), None);
            }
        }
        let c = parse(
            ModuleKind::Hook,
            &[
                ("module_name", "m"),
                ("hook_slave_run_task_label_decorator_command", "/bin/true"),
            ],
        )
        .unwrap();
        let lines = c.describe();
        for (key, value) in [
            ("hook_slave_run_task_label_decorator_timeout", "30s"),
            ("hook_slave_run_task_label_decorator_merge", "false"),
            ("service_command", "(none)"),
        ] {
            assert!(
                lines.contains(&(key.to_string(), value.to_string())),
                "{key}: {lines:?}"
            );
        }
        assert!(!lines.iter().any(|(k, _)| k == "service_methods"));
    }
}
