//! The agent's `--modules` manifest (`modules.json`), read the way Mesos
//! reads it, for the command-line tool.

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
}
