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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

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
    /// `allow_insecure_commands` is true).
    pub fn parse(
        kind: ModuleKind,
        symbol: &str,
        parameters: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, value) in parameters {
            check_key(kind, key)?;
            if values.insert(key.as_str(), value.as_str()).is_some() {
                return Err(ConfigError::new(key.as_str(), "is given more than once"));
            }
        }

        let module_name = match values.get("module_name") {
            Some(name) => parse_module_name(name)?,
            None => {
                return Err(ConfigError::new(
                    "module_name",
                    "is mandatory (it names the module in logs and metrics and, for an \
                     isolator, its state directory)",
                ))
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

        let allow_insecure_commands = flag("allow_insecure_commands", false)?;
        let service = match values.get("service_command").map(|v| v.trim()) {
            Some(value) if !value.is_empty() => Some(ServiceConfig {
                configured: value.to_string(),
                path: resolve_command("service_command", value, allow_insecure_commands)?,
                methods: match values.get("service_methods") {
                    Some(list) => parse_service_methods(kind, list)?,
                    None => {
                        return Err(ConfigError::new(
                            "service_methods",
                            "is mandatory with service_command: name the methods the helper \
                             serves (e.g. \"isolator_usage,isolator_status\"), or \"all\"",
                        ))
                    }
                },
                startup_timeout: seconds(
                    "service_startup_timeout",
                    DEFAULT_SERVICE_STARTUP_TIMEOUT,
                )?,
                max_in_flight: match values.get("service_max_in_flight") {
                    Some(v) => parse_count("service_max_in_flight", v, 65536)?,
                    None => DEFAULT_SERVICE_MAX_IN_FLIGHT,
                },
                unanswered_limit: match values.get("service_unanswered_limit") {
                    Some(v) => parse_count("service_unanswered_limit", v, 1000)?,
                    None => DEFAULT_SERVICE_UNANSWERED_LIMIT,
                },
                restart_backoff_max: seconds(
                    "service_restart_backoff_max",
                    DEFAULT_SERVICE_RESTART_BACKOFF_MAX,
                )?,
            }),
            _ => {
                let service_keys = [
                    "service_methods",
                    "service_startup_timeout",
                    "service_max_in_flight",
                    "service_unanswered_limit",
                    "service_restart_backoff_max",
                ];
                if let Some(key) = service_keys.iter().find(|k| values.contains_key(*k)) {
                    return Err(ConfigError::new(
                        *key,
                        "needs service_command: no service helper is configured",
                    ));
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
            let timeout = seconds(&timeout_key, DEFAULT_TIMEOUT)?;
            let merge = flag(&merge_key, false)?;
            let served = service.as_ref().filter(|s| s.methods.contains(&method));
            if let Some(service) = served {
                if values
                    .get(command_key.as_str())
                    .is_some_and(|v| !v.trim().is_empty())
                {
                    return Err(ConfigError::new(
                        command_key.as_str(),
                        format!(
                            "{} is also in service_methods: a method is served either by its \
                             own command or by the service helper, not both",
                            method.key()
                        ),
                    ));
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
            match values.get(command_key.as_str()) {
                Some(value) if !value.trim().is_empty() => {
                    let path =
                        resolve_command(&command_key, value.trim(), allow_insecure_commands)?;
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
                }
            }
        }

        Ok(Config {
            kind,
            symbol: symbol.to_string(),
            commands,
            watch_frequency: seconds("isolator_watch_frequence", DEFAULT_WATCH_FREQUENCY)?,
            debug: flag("debug", false)?,
            supports_nesting: flag("supports_nesting", true)?,
            supports_standalone: flag("supports_standalone", false)?,
            state_directory: directory("state_directory", PathBuf::from(DEFAULT_STATE_DIRECTORY))?
                .join(&module_name),
            kill_grace: seconds("kill_grace_period", DEFAULT_KILL_GRACE)?,
            max_output_bytes: match values.get("max_output_bytes") {
                Some(v) => parse_bytes("max_output_bytes", v)?,
                None => DEFAULT_MAX_OUTPUT_BYTES,
            },
            temp_directory: directory("temp_directory", std::env::temp_dir())?,
            allow_insecure_commands,
            command_cgroup: match values.get("command_cgroup") {
                Some(v) => {
                    CgroupSetting::parse(v).map_err(|p| ConfigError::new("command_cgroup", p))?
                }
                None => CgroupSetting::Auto,
            },
            max_concurrent_commands: match values.get("max_concurrent_commands") {
                Some(v) => parse_count("max_concurrent_commands", v, MAX_CONCURRENT_COMMANDS)?,
                None => default_max_concurrent_commands(),
            },
            service,
            module_name,
            warnings,
        })
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

    /// The methods that have a command, in method order.
    pub fn configured_methods(&self) -> impl Iterator<Item = Method> + '_ {
        self.commands.keys().copied()
    }

    /// The effective configuration as `key = value` lines, every key with
    /// its value or default, for `mesos-command-modules check`.
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
                "is a key of {other} modules, but this module is a {kind} module (load it \
                 with a com_criteo_mesos_Command{other} module name)"
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

fn edit_distance(a: &str, b: &str) -> usize {
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
        "false" | "0" | "no" | "off" | "" => Ok(false),
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
                        "\"{stem}\" is not a method of a {kind} module (they are: {}, or \"all\")",
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

/// Finds the executable `value` names and checks it can be run safely.
fn resolve_command(key: &str, value: &str, allow_insecure: bool) -> Result<PathBuf, ConfigError> {
    let path = if value.contains('/') {
        PathBuf::from(value)
    } else {
        let search = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&search)
            .map(|dir| dir.join(value))
            .find(|candidate| is_executable_file(candidate))
            .ok_or_else(|| {
                ConfigError::new(
                    key,
                    format!("\"{value}\" is not an executable found in PATH"),
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
}
