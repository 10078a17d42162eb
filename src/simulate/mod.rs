//! The offline agent simulator: drives real [`Module`](crate::Module)
//! instances, with no Mesos at all, through the life of N containers in the
//! order and with the concurrency a Mesos 1.11.0 agent uses.
//!
//! ```text
//! start     resources and attributes decorators (Slave::initialize)
//! launch    per container, `parallel` containers at a time:
//!             master resource and label decorators, run-task label and
//!             executor environment decorators (hooks: one at a time,
//!             chained), prepare (each isolator in turn), watch registered,
//!             isolate (all isolators at once), post-fetch hook, the first
//!             status updates (status decorator, then isolator status);
//!             a task group's nested container the same way
//! running   usage polled on every container, `usage_rounds` times
//! restart   (optional) every module instance dropped and created again,
//!             resources and attributes decorators, recover with the
//!             running containers, watches registered again
//! teardown  terminal status, update, cleanup (reverse isolator order,
//!             nested first), remove-executor hook
//! master    the lost-agent hook
//! ```
//!
//! The inputs are the captured real ones (`tests/fixtures/`), with fresh ids
//! derived from the seed and sandboxes under the simulation's own work
//! directory. State and temp directories of every module are redirected
//! there too, so a simulation never touches a real agent's state. Every
//! container's "init process" is a stand-in process of the simulator's (in
//! its own network namespace with `net_namespaces`), so `isolate` receives a
//! pid that exists.
//!
//! The same driver serves the command-line tool (`simulate`), the
//! performance benchmarks and the fault-injection suite: build a
//! [`ModuleSpec`] list (or read a manifest), choose [`Options`], pass an
//! [`Observer`], and read the [`Report`].

pub mod driver;
pub mod plan;
pub mod report;
pub mod rng;
pub mod templates;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use driver::ModuleSpec;
pub use report::{
    failures_by_kind, module_table, summary_table, CallRecord, CallResult, Event, ModuleRow, Phase,
    Progress, SummaryRow,
};

use crate::config::known_keys;
use crate::manifest;
use crate::method::{Method, ModuleKind};
use crate::runtime::runtime;
use driver::{DriverOptions, Recorder};
use plan::Plan;
use templates::Templates;

/// Receives every [`Event`] as it happens, from any thread.
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Top-level containers to run (a task group adds a nested one).
    pub containers: usize,
    /// Picks the scenarios and makes the ids: the same seed gives the same
    /// inputs (the interleaving of concurrent calls may differ).
    pub seed: u64,
    /// Restart the agent once the containers run.
    pub restart: bool,
    /// Times `usage` is polled on every running container.
    pub usage_rounds: usize,
    /// Containers launched, polled or torn down at the same time.
    pub parallel: usize,
    /// Where state, temp files and sandboxes go; kept after the run. A new
    /// temp directory, removed afterwards, when `None`.
    pub work_dir: Option<PathBuf>,
    /// A directory laid out like `tests/fixtures/` to take the templates
    /// from, instead of the captures compiled into the tool.
    pub fixtures: Option<PathBuf>,
    /// Start every container's stand-in process in its own network
    /// namespace (needs root), so that network isolators have one to
    /// configure.
    pub net_namespaces: bool,
    /// Look up a command that does not exist at its configured absolute
    /// path next to the manifest (see [`relocate_commands`]).
    pub relocate: bool,
    /// Parameters set on every command module that accepts the key,
    /// replacing the manifest's value (e.g. `isolator_watch_frequence`).
    pub params: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            containers: 3,
            seed: 1,
            restart: false,
            usage_rounds: 2,
            parallel: 4,
            work_dir: None,
            fixtures: None,
            net_namespaces: false,
            relocate: true,
            params: Vec::new(),
        }
    }
}

/// Everything a simulation produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every call, in the order they ended.
    pub records: Vec<CallRecord>,
    /// Command runs per module and method, summed over restarts.
    pub summary: Vec<SummaryRow>,
    /// Each module's own counters, summed over restarts.
    pub modules: Vec<ModuleRow>,
    pub containers: usize,
    /// Top-level containers whose launch succeeded.
    pub launched: usize,
    pub launch_failures: usize,
    /// Containers destroyed because a watch reported a limitation.
    pub limited: usize,
    /// Containers destroyed by a QoS correction.
    pub preempted: usize,
    pub restarts: usize,
    /// Modules with a service helper, and how many times their helpers
    /// were started again (a helper that crashed or stopped answering).
    pub services: usize,
    pub helper_restarts: u64,
    pub wall: Duration,
    /// The work directory, when it was given (and so kept).
    pub work_dir: Option<PathBuf>,
    /// State or temp files still there once every container was destroyed:
    /// a module that leaks.
    pub leftovers: Vec<PathBuf>,
    /// What went wrong in the simulator itself (a sandbox or a stand-in
    /// process it could not create): the run proves nothing.
    pub problems: Vec<String>,
}

impl Report {
    /// Calls whose failure changes what the agent does (launch, update,
    /// cleanup) and that failed.
    pub fn must_succeed_failures(&self) -> Vec<&CallRecord> {
        self.records
            .iter()
            .filter(|r| r.failed_must_succeed())
            .collect()
    }

    /// Failed commands: calls whose command failed, whatever the module
    /// answered, and failed watch rounds. A watch round that fails is
    /// logged and counted (the summary's errors) but answers nothing: the
    /// watch goes on, so it has no record of its own.
    pub fn errors(&self) -> usize {
        let calls = self
            .records
            .iter()
            .filter(|r| r.method != Method::IsolatorWatch && r.result.error().is_some())
            .count();
        calls + self.failed_watch_rounds()
    }

    /// Watch rounds run (each counted in the summary's calls, never in the
    /// records: a watch is one record when registered, one more when it
    /// reports a limitation).
    pub fn watch_rounds(&self) -> usize {
        self.watch_rows().map(|r| r.calls).sum::<u64>() as usize
    }

    /// Of which failed (the summary's errors).
    pub fn failed_watch_rounds(&self) -> usize {
        self.watch_rows().map(|r| r.errors).sum::<u64>() as usize
    }

    fn watch_rows(&self) -> impl Iterator<Item = &SummaryRow> {
        self.summary
            .iter()
            .filter(|r| r.method == Method::IsolatorWatch)
    }

    /// Whether the run is a success: no call that must succeed failed, no
    /// file was left behind, the simulator had no problem and, when
    /// `strict`, no command failed at all.
    pub fn success(&self, strict: bool) -> bool {
        self.must_succeed_failures().is_empty()
            && self.leftovers.is_empty()
            && self.problems.is_empty()
            && (!strict || self.errors() == 0)
    }

    /// The closing line of the readable output.
    pub fn result_line(&self) -> String {
        let preempted = if self.preempted > 0 {
            format!(", {} preempted by a QoS correction", self.preempted)
        } else {
            String::new()
        };
        let helpers = if self.services > 0 {
            format!(", {} service helper restart(s)", self.helper_restarts)
        } else {
            String::new()
        };
        format!(
            "{} container(s): {} launched, {} launch failure(s), {} destroyed after a \
             limitation{preempted}, {} agent restart(s){helpers}; {} calls and {} watch \
             round(s), {} failed command(s) ({} of them watch rounds); {:.2}s",
            self.containers,
            self.launched,
            self.launch_failures,
            self.limited,
            self.restarts,
            self.records.len(),
            self.watch_rounds(),
            self.errors(),
            self.failed_watch_rounds(),
            self.wall.as_secs_f64()
        )
    }

    /// The closing JSON line of `--json`.
    pub fn result_json(&self, strict: bool) -> Value {
        json!({
            "type": "result",
            "success": self.success(strict),
            "containers": self.containers,
            "launched": self.launched,
            "launch_failures": self.launch_failures,
            "limited": self.limited,
            "preempted": self.preempted,
            "restarts": self.restarts,
            "helper_restarts": self.helper_restarts,
            "calls": self.records.len(),
            "watch_rounds": self.watch_rounds(),
            "errors": self.errors(),
            "failed_watch_rounds": self.failed_watch_rounds(),
            "must_succeed_failures": self.must_succeed_failures().len(),
            "leftovers": self.leftovers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "problems": self.problems,
            "wall_s": self.wall.as_secs_f64(),
            "work_dir": self.work_dir.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// Reads the command modules of a manifest; the notes say what was left
/// out.
pub fn modules_from_manifest(path: &Path) -> Result<(Vec<ModuleSpec>, Vec<String>), String> {
    let mut specs = Vec::new();
    let mut notes = Vec::new();
    for m in manifest::load(path)? {
        match m.kind {
            Some(kind) => specs.push(ModuleSpec {
                symbol: m.name,
                kind,
                parameters: m.parameters,
            }),
            None => notes.push(format!(
                "{} (from {}) is not a command module: not simulated",
                m.name, m.library
            )),
        }
    }
    if specs.is_empty() {
        return Err(format!(
            "{} loads no command module (com_criteo_mesos_CommandHook... or \
             com_criteo_mesos_CommandIsolator...)",
            path.display()
        ));
    }
    Ok((specs, notes))
}

/// For every `<key>_command` whose absolute path does not exist, looks for
/// the same file next to the manifest: the longest tail of the path that
/// exists under `manifest_dir`. So a manifest written for its installed
/// location (`/usr/share/mesos-command-modules/examples/scripts/x`) runs
/// from a checkout (`examples/scripts/x` next to `examples/modules.json`).
/// Returns one note per pair of directories (configured, used).
pub fn relocate_commands(specs: &mut [ModuleSpec], manifest_dir: &Path) -> Vec<String> {
    let mut moves: Vec<(PathBuf, PathBuf, usize)> = Vec::new();
    for spec in specs {
        for (key, value) in &mut spec.parameters {
            let configured = PathBuf::from(value.trim());
            if !key.ends_with("_command") || !configured.is_absolute() || configured.exists() {
                continue;
            }
            let parts: Vec<_> = configured.components().skip(1).collect();
            let found = (0..parts.len())
                .map(|start| manifest_dir.join(parts[start..].iter().collect::<PathBuf>()))
                .find(|candidate| candidate.is_file());
            if let Some(found) = found {
                let from = configured.parent().unwrap_or(&configured).to_path_buf();
                let to = found.parent().unwrap_or(&found).to_path_buf();
                match moves.iter_mut().find(|(f, t, _)| *f == from && *t == to) {
                    Some((_, _, n)) => *n += 1,
                    None => moves.push((from, to, 1)),
                }
                *value = found.display().to_string();
            }
        }
    }
    moves
        .into_iter()
        .map(|(from, to, n)| {
            format!(
                "{n} command(s) configured in {} are not installed there; running the ones in \
                 {} (next to the manifest)",
                from.display(),
                to.display()
            )
        })
        .collect()
}

/// Simulates the command modules of the manifest at `path`.
///
/// Blocks on the crate's runtime: not to be called from within it.
pub fn simulate_manifest(
    path: &Path,
    options: &Options,
    observer: Observer,
) -> Result<Report, String> {
    let (mut specs, notes) = modules_from_manifest(path)?;
    for note in notes {
        observer(&Event::Note(note));
    }
    if options.relocate {
        let absolute = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(dir) = absolute.parent() {
            for note in relocate_commands(&mut specs, dir) {
                observer(&Event::Note(note));
            }
        }
    }
    simulate(specs, options, observer)
}

/// Simulates the given modules.
///
/// Blocks on the crate's runtime: not to be called from within it.
pub fn simulate(
    mut specs: Vec<ModuleSpec>,
    options: &Options,
    observer: Observer,
) -> Result<Report, String> {
    let started = Instant::now();
    let work = WorkDir::create(options.work_dir.as_deref())?;
    let sandboxes = work.subdirectory("sandboxes")?;
    let temp = work.subdirectory("tmp")?;
    let state = work.subdirectory("state")?;
    redirect(&mut specs, &temp, &state);
    apply_params(&mut specs, &options.params)?;

    let templates = match &options.fixtures {
        Some(dir) => Templates::from_directory(dir)?,
        None => Templates::embedded()?,
    };
    let plan = Plan::new(&templates, options.containers, options.seed, &sandboxes)?;
    driver::probe_placeholder(options.net_namespaces).map_err(|e| {
        if options.net_namespaces {
            format!("{e} (--net-namespaces needs root and unshare from util-linux)")
        } else {
            e
        }
    })?;
    if specs
        .iter()
        .any(|s| s.kind == ModuleKind::Hook && has_docker_hook(s))
    {
        observer(&Event::Note(
            "hook_slave_pre_launch_docker_task_executor_decorator is only called by the Docker \
             containerizer; the simulated agent runs the Mesos containerizer and never calls it"
                .to_string(),
        ));
    }
    for c in &plan.containers {
        let nested = c
            .nested
            .as_ref()
            .map(|n| format!(", nested {} = {}", n.alias, n.id_text))
            .unwrap_or_default();
        observer(&Event::Note(format!(
            "{} = {} ({}{nested})",
            c.alias, c.id_text, c.scenario
        )));
    }

    let recorder = Arc::new(Recorder::new(Arc::clone(&observer), options.containers));
    let driver_options = DriverOptions {
        parallel: options.parallel.max(1),
        usage_rounds: options.usage_rounds,
        restart: options.restart,
        net_namespaces: options.net_namespaces,
    };
    let driven = runtime().block_on(driver::drive(
        &specs,
        plan,
        driver_options,
        Arc::clone(&recorder),
    ))?;

    let mut leftovers = Vec::new();
    for dir in &driven.state_directories {
        leftovers.extend(files_under(dir, 1));
    }
    // The temp directory holds private directories, which hold a
    // directory per call.
    leftovers.extend(files_under(&temp, 3));
    Ok(Report {
        records: recorder.take_records(),
        summary: driven.summary,
        modules: driven.modules,
        containers: options.containers,
        launched: driven.launched,
        launch_failures: driven.launch_failures,
        limited: driven.limited,
        preempted: driven.preempted,
        restarts: driven.restarts,
        services: driven.services,
        helper_restarts: driven.helper_restarts,
        wall: started.elapsed(),
        work_dir: work.kept(),
        leftovers,
        problems: recorder.take_problems(),
    })
}

fn has_docker_hook(spec: &ModuleSpec) -> bool {
    spec.parameters.iter().any(|(k, v)| {
        k == "hook_slave_pre_launch_docker_task_executor_decorator_command" && !v.trim().is_empty()
    })
}

/// Points every module's state and temp directories into the work
/// directory.
fn redirect(specs: &mut [ModuleSpec], temp: &Path, state: &Path) {
    for spec in specs {
        let mut set = |key: &str, value: &Path| {
            spec.parameters.retain(|(k, _)| k != key);
            spec.parameters
                .push((key.to_string(), value.display().to_string()));
        };
        set("temp_directory", temp);
        if spec.kind == ModuleKind::Isolator {
            set("state_directory", state);
        }
    }
}

/// Sets each `key=value` on every module that accepts the key.
fn apply_params(specs: &mut [ModuleSpec], params: &[(String, String)]) -> Result<(), String> {
    for (key, value) in params {
        let mut applied = false;
        for spec in specs.iter_mut() {
            if known_keys(spec.kind).iter().any(|k| k == key) {
                spec.parameters.retain(|(k, _)| k != key);
                spec.parameters.push((key.clone(), value.clone()));
                applied = true;
            }
        }
        if !applied {
            return Err(format!(
                "--param {key}: no module of the manifest accepts this key"
            ));
        }
    }
    Ok(())
}

/// Regular files under `dir`, down to `depth` levels.
fn files_under(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth > 1 => out.extend(files_under(&path, depth - 1)),
            Ok(t) if !t.is_dir() => out.push(path),
            _ => {}
        }
    }
    out.sort();
    out
}

/// The simulation's directory: given (kept) or temporary (removed).
struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn create(given: Option<&Path>) -> Result<WorkDir, String> {
        if let Some(dir) = given {
            let path = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            std::fs::create_dir_all(&path)
                .map_err(|e| format!("cannot create the work directory {}: {e}", path.display()))?;
            return Ok(WorkDir { path, keep: true });
        }
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        for attempt in 0..16u32 {
            let path = base.join(format!(
                "mesos-command-modules-simulate-{}-{:08x}",
                std::process::id(),
                nanos.wrapping_add(attempt)
            ));
            use std::os::unix::fs::DirBuilderExt;
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(WorkDir { path, keep: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot create a work directory under {}: {e}",
                        base.display()
                    ))
                }
            }
        }
        Err(format!(
            "no free work directory name under {}",
            base.display()
        ))
    }

    fn subdirectory(&self, name: &str) -> Result<PathBuf, String> {
        let path = self.path.join(name);
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(path)
    }

    fn kept(&self) -> Option<PathBuf> {
        self.keep.then(|| self.path.clone())
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocation_finds_the_longest_existing_tail_next_to_the_manifest() {
        let dir = std::env::temp_dir().join(format!("mcm-relocate-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("scripts")).unwrap();
        std::fs::write(dir.join("scripts/x"), "").unwrap();
        let mut specs = vec![ModuleSpec {
            symbol: "com_criteo_mesos_CommandHook".into(),
            kind: ModuleKind::Hook,
            parameters: vec![
                ("module_name".into(), "h".into()),
                (
                    "hook_slave_post_fetch_hook_command".into(),
                    "/usr/share/mesos-command-modules/examples/scripts/x".into(),
                ),
                (
                    "hook_slave_remove_executor_hook_command".into(),
                    "/bin/true".into(),
                ),
            ],
        }];
        let notes = relocate_commands(&mut specs, &dir);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(
            specs[0].parameters[1].1,
            dir.join("scripts/x").display().to_string()
        );
        assert_eq!(specs[0].parameters[2].1, "/bin/true");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn params_go_to_the_modules_that_accept_them() {
        let mut specs = vec![
            ModuleSpec {
                symbol: "com_criteo_mesos_CommandHook".into(),
                kind: ModuleKind::Hook,
                parameters: vec![("module_name".into(), "h".into())],
            },
            ModuleSpec {
                symbol: "com_criteo_mesos_CommandIsolator".into(),
                kind: ModuleKind::Isolator,
                parameters: vec![
                    ("module_name".into(), "i".into()),
                    ("isolator_watch_frequence".into(), "30".into()),
                ],
            },
        ];
        apply_params(
            &mut specs,
            &[("isolator_watch_frequence".into(), "0.1".into())],
        )
        .unwrap();
        assert_eq!(specs[0].parameters.len(), 1);
        assert_eq!(
            specs[1].parameters,
            vec![
                ("module_name".to_string(), "i".to_string()),
                ("isolator_watch_frequence".to_string(), "0.1".to_string())
            ]
        );
        let e = apply_params(&mut specs, &[("nope".into(), "1".into())]).unwrap_err();
        assert!(e.contains("--param nope"), "{e}");
    }

    #[test]
    fn state_and_temp_directories_are_redirected() {
        let mut specs = vec![ModuleSpec {
            symbol: "com_criteo_mesos_CommandIsolator".into(),
            kind: ModuleKind::Isolator,
            parameters: vec![
                ("module_name".into(), "i".into()),
                (
                    "state_directory".into(),
                    "/var/run/mesos/isolators/command".into(),
                ),
            ],
        }];
        redirect(&mut specs, Path::new("/w/tmp"), Path::new("/w/state"));
        let get = |k: &str| {
            specs[0]
                .parameters
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("state_directory"), ["/w/state"]);
        assert_eq!(get("temp_directory"), ["/w/tmp"]);
    }
}
