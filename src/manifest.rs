//! The agent's `--modules` manifest (`modules.json`), read the way Mesos
//! reads it, for the command-line tool.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::method::ModuleKind;

/// How many instances of each kind the library registers: the original's
/// `com_criteo_mesos_CommandHook`, `...CommandHook2` ... `...CommandHook11`
/// (Mesos needs a distinct name per differently configured instance).
pub const INSTANCES: u32 = 11;

const HOOK_PREFIX: &str = "com_criteo_mesos_CommandHook";
const ISOLATOR_PREFIX: &str = "com_criteo_mesos_CommandIsolator";

/// The oversubscription modules have one symbol each: an agent loads one
/// resource estimator and one QoS controller (`--resource_estimator`,
/// `--qos_controller`), so there is nothing to number.
const ESTIMATOR_SYMBOL: &str = "com_criteo_mesos_CommandResourceEstimator";
const QOS_CONTROLLER_SYMBOL: &str = "com_criteo_mesos_CommandQoSController";

/// Every module symbol the library exports, hooks first.
pub fn module_symbols() -> Vec<String> {
    let mut symbols = Vec::new();
    for prefix in [HOOK_PREFIX, ISOLATOR_PREFIX] {
        symbols.push(prefix.to_string());
        symbols.extend((2..=INSTANCES).map(|n| format!("{prefix}{n}")));
    }
    symbols.push(ESTIMATOR_SYMBOL.to_string());
    symbols.push(QOS_CONTROLLER_SYMBOL.to_string());
    symbols
}

/// The first (unnumbered) symbol of a kind, e.g.
/// `com_criteo_mesos_CommandIsolator`.
pub fn first_symbol(kind: ModuleKind) -> &'static str {
    match kind {
        ModuleKind::Hook => HOOK_PREFIX,
        ModuleKind::Isolator => ISOLATOR_PREFIX,
        ModuleKind::ResourceEstimator => ESTIMATOR_SYMBOL,
        ModuleKind::QoSController => QOS_CONTROLLER_SYMBOL,
    }
}

/// The kind of one of our module symbols; `None` for any other name.
pub fn symbol_kind(symbol: &str) -> Option<ModuleKind> {
    let (prefix, kind) = if let Some(rest) = symbol.strip_prefix(ISOLATOR_PREFIX) {
        (rest, ModuleKind::Isolator)
    } else if let Some(rest) = symbol.strip_prefix(HOOK_PREFIX) {
        (rest, ModuleKind::Hook)
    } else if symbol == ESTIMATOR_SYMBOL {
        return Some(ModuleKind::ResourceEstimator);
    } else if symbol == QOS_CONTROLLER_SYMBOL {
        return Some(ModuleKind::QoSController);
    } else {
        return None;
    };
    match prefix {
        "" => Some(kind),
        n => n
            .parse::<u32>()
            .ok()
            .filter(|n| (2..=INSTANCES).contains(n) && !prefix.starts_with('0'))
            .map(|_| kind),
    }
}

/// What every module name of this library starts with.
const NAME_PREFIX: &str = "com_criteo_mesos_Command";

/// A module the manifest asks of this library that the library does not
/// register (`com_criteo_mesos_CommandIsolatr`, `...CommandHook12`): the
/// agent fails to load it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownModule {
    /// The library's `file` or `name`, as the manifest gives it.
    pub library: String,
    /// The module name the manifest gives.
    pub name: String,
}

impl fmt::Display for UnknownModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a module of {}", self.name, self.library)?;
        // A number beyond ours gets no suggestion: the nearest name would
        // be another instance, configured differently.
        if !is_numbered(&self.name) {
            if let Some(close) = closest_symbol(&self.name) {
                write!(f, " (did you mean \"{close}\"?)")?;
            }
        }
        write!(f, "; its modules are {}", symbols_summary())
    }
}

impl std::error::Error for UnknownModule {}

/// Whether `name` is one of our numbered prefixes and a number
/// (`com_criteo_mesos_CommandHook12`).
fn is_numbered(name: &str) -> bool {
    [HOOK_PREFIX, ISOLATOR_PREFIX].into_iter().any(|prefix| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Our symbol closest to `name`, within three edits.
fn closest_symbol(name: &str) -> Option<String> {
    module_symbols()
        .into_iter()
        .map(|s| (crate::config::edit_distance(name, &s), s))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// The library's module names, the numbered ones as ranges.
fn symbols_summary() -> String {
    let numbered = [HOOK_PREFIX, ISOLATOR_PREFIX]
        .map(|p| format!("{p}, {p}2 to {p}{INSTANCES}"))
        .join(", ");
    format!("{numbered}, {ESTIMATOR_SYMBOL} and {QOS_CONTROLLER_SYMBOL}")
}

/// The modules of `modules` that the agent would look for in this library
/// and not find, in manifest order: every name with this library's prefix
/// (`com_criteo_mesos_Command`) that is not one of its modules, and every
/// other name of a library (same `file` or `name`) that holds one of its
/// modules.
pub fn unknown_modules(modules: &[ManifestModule]) -> Vec<UnknownModule> {
    let ours: Vec<&str> = modules
        .iter()
        .filter(|m| m.kind.is_some())
        .map(|m| m.library.as_str())
        .collect();
    modules
        .iter()
        .filter(|m| {
            m.kind.is_none()
                && (m.name.starts_with(NAME_PREFIX) || ours.contains(&m.library.as_str()))
        })
        .map(|m| UnknownModule {
            library: m.library.clone(),
            name: m.name.clone(),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct Modules {
    #[serde(default)]
    libraries: Vec<Library>,
}

#[derive(Debug, Deserialize)]
struct Library {
    file: Option<String>,
    name: Option<String>,
    #[serde(default)]
    modules: Vec<ModuleEntry>,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    name: String,
    #[serde(default)]
    parameters: Vec<Parameter>,
}

#[derive(Debug, Deserialize)]
struct Parameter {
    key: String,
    value: String,
}

/// One module of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestModule {
    /// The library's `file` or `name`.
    pub library: String,
    /// The module (symbol) name.
    pub name: String,
    /// Our kind for our symbols, `None` for modules of other libraries.
    pub kind: Option<ModuleKind>,
    pub parameters: Vec<(String, String)>,
}

impl ManifestModule {
    /// The `module_name` parameter, if given.
    pub fn module_name(&self) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == "module_name")
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a manifest file. The error names the file and what is wrong.
pub fn load(path: &Path) -> Result<Vec<ManifestModule>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a manifest (the `Modules` protobuf message as JSON).
pub fn parse(text: &str) -> Result<Vec<ManifestModule>, String> {
    let modules: Modules =
        serde_json::from_str(text).map_err(|e| format!("not a valid modules manifest: {e}"))?;
    let mut out = Vec::new();
    for library in modules.libraries {
        let name = library
            .file
            .or(library.name)
            .ok_or_else(|| "a library has neither \"file\" nor \"name\"".to_string())?;
        for module in library.modules {
            out.push(ManifestModule {
                library: name.clone(),
                kind: symbol_kind(&module.name),
                name: module.name,
                parameters: module
                    .parameters
                    .into_iter()
                    .map(|p| (p.key, p.value))
                    .collect(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_the_originals() {
        let s = module_symbols();
        assert_eq!(s.len(), 24);
        assert_eq!(s[0], "com_criteo_mesos_CommandHook");
        assert_eq!(s[10], "com_criteo_mesos_CommandHook11");
        assert_eq!(s[11], "com_criteo_mesos_CommandIsolator");
        for name in &s {
            assert!(symbol_kind(name).is_some(), "{name}");
        }
        assert_eq!(symbol_kind("com_criteo_mesos_CommandHook1"), None);
        assert_eq!(symbol_kind("com_criteo_mesos_CommandHook12"), None);
        assert_eq!(symbol_kind("com_criteo_mesos_CommandHook02"), None);
        assert_eq!(symbol_kind("org_apache_mesos_TestHook"), None);
        assert_eq!(
            symbol_kind("com_criteo_mesos_CommandQoSController"),
            Some(ModuleKind::QoSController)
        );
        assert_eq!(symbol_kind("com_criteo_mesos_CommandQoSController2"), None);
        for kind in ModuleKind::ALL {
            assert_eq!(symbol_kind(first_symbol(kind)), Some(kind));
        }
    }

    #[test]
    fn manifests_parse() {
        let m = parse(
            r#"{"libraries":[{"file":"/usr/lib/libmesos_command_modules.so","modules":[
                {"name":"com_criteo_mesos_CommandIsolator2","parameters":[
                    {"key":"module_name","value":"acl"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].kind, Some(ModuleKind::Isolator));
        assert_eq!(m[0].module_name(), Some("acl"));
        assert!(parse("{").is_err());
        assert!(parse(r#"{"libraries":[{"modules":[]}]}"#).is_err());
    }

    #[test]
    fn names_this_library_does_not_register_are_found() {
        let m = parse(
            r#"{"libraries":[
                {"file":"/usr/lib/libmesos_command_modules.so","modules":[
                    {"name":"com_criteo_mesos_CommandIsolator"},
                    {"name":"com_criteo_mesos_CommandIsolatr"},
                    {"name":"com_criteo_mesos_CommandHook12"},
                    {"name":"org_apache_mesos_TestHook"}]},
                {"name":"mesos_command_modules","modules":[
                    {"name":"com_criteo_mesos_CommandHook1"}]},
                {"file":"/usr/lib/libother.so","modules":[
                    {"name":"org_apache_mesos_TestIsolator"}]}]}"#,
        )
        .unwrap();
        let unknown = unknown_modules(&m);
        let names: Vec<(&str, &str)> = unknown
            .iter()
            .map(|u| (u.name.as_str(), u.library.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "com_criteo_mesos_CommandIsolatr",
                    "/usr/lib/libmesos_command_modules.so"
                ),
                (
                    "com_criteo_mesos_CommandHook12",
                    "/usr/lib/libmesos_command_modules.so"
                ),
                (
                    "org_apache_mesos_TestHook",
                    "/usr/lib/libmesos_command_modules.so"
                ),
                ("com_criteo_mesos_CommandHook1", "mesos_command_modules"),
            ]
        );
        let all = "its modules are com_criteo_mesos_CommandHook, com_criteo_mesos_CommandHook2 \
                   to com_criteo_mesos_CommandHook11, com_criteo_mesos_CommandIsolator, \
                   com_criteo_mesos_CommandIsolator2 to com_criteo_mesos_CommandIsolator11, \
                   com_criteo_mesos_CommandResourceEstimator and \
                   com_criteo_mesos_CommandQoSController";
        assert_eq!(
            unknown[0].to_string(),
            format!(
                "com_criteo_mesos_CommandIsolatr is not a module of \
                 /usr/lib/libmesos_command_modules.so (did you mean \
                 \"com_criteo_mesos_CommandIsolator\"?); {all}"
            )
        );
        // No suggestion for another number: it would be another instance.
        assert_eq!(
            unknown[1].to_string(),
            format!(
                "com_criteo_mesos_CommandHook12 is not a module of \
                 /usr/lib/libmesos_command_modules.so; {all}"
            )
        );
    }
}
