//! `mesos-command-modules`: check a modules manifest and run one's scripts
//! exactly as the agent's module would, without Mesos.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use mesos_command_modules::input::Input;
use mesos_command_modules::manifest::{self, ManifestModule};
use mesos_command_modules::runtime::runtime;
use mesos_command_modules::{Answer, Method, Module, StateMode};

#[derive(Parser, Debug)]
#[command(
    name = "mesos-command-modules",
    version,
    about = "Check a Mesos modules manifest and run command-module scripts as the agent would"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate every command module of a manifest as the agent would load
    /// it, and print its effective configuration.
    Check {
        /// The agent's --modules file.
        manifest: PathBuf,
    },
    /// Run one method's command as the module would and print its answer.
    Call {
        /// The agent's --modules file.
        manifest: PathBuf,
        /// The module's name in the manifest (e.g.
        /// com_criteo_mesos_CommandIsolator2) or its module_name parameter.
        #[arg(long)]
        module: String,
        /// The method's key stem, e.g. isolator_prepare or
        /// hook_slave_run_task_label_decorator.
        #[arg(long)]
        method: String,
        /// The input document the command receives (one member per
        /// argument, as in tests/fixtures/).
        #[arg(long)]
        input: PathBuf,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp(None)
        .format_target(false)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { manifest } => check(&manifest),
        Command::Call {
            manifest,
            module,
            method,
            input,
        } => call(&manifest, &module, &method, &input),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn ours(modules: Vec<ManifestModule>) -> Vec<ManifestModule> {
    modules.into_iter().filter(|m| m.kind.is_some()).collect()
}

fn check(path: &Path) -> Result<ExitCode, String> {
    let modules = ours(manifest::load(path)?);
    if modules.is_empty() {
        return Err(format!(
            "{} loads no command module (com_criteo_mesos_CommandHook... or \
             com_criteo_mesos_CommandIsolator...)",
            path.display()
        ));
    }
    let mut failed = 0;
    for m in &modules {
        let Some(kind) = m.kind else { continue };
        match Module::with_state(kind, &m.name, &m.parameters, StateMode::Bypassed) {
            Ok(module) => {
                println!("{} ({kind}, from {}): OK", m.name, m.library);
                for (key, value) in module.config().describe() {
                    println!("  {key} = {value}");
                }
                for warning in &module.config().warnings {
                    println!("  warning: {warning}");
                }
            }
            Err(e) => {
                failed += 1;
                println!("{} ({kind}, from {}): ERROR {e}", m.name, m.library);
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} module(s) would fail to load",
            modules.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn call(
    path: &Path,
    module_name: &str,
    method_key: &str,
    input_path: &Path,
) -> Result<ExitCode, String> {
    let modules = ours(manifest::load(path)?);
    let entry = modules
        .iter()
        .find(|m| m.name == module_name)
        .or_else(|| {
            modules
                .iter()
                .find(|m| m.module_name() == Some(module_name))
        })
        .ok_or_else(|| {
            let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
            format!(
                "no command module \"{module_name}\" in {} (it has: {})",
                path.display(),
                names.join(", ")
            )
        })?;
    let kind = entry.kind.ok_or("not a command module")?;
    let method = Method::from_key(method_key).ok_or_else(|| {
        let keys: Vec<&str> = Method::of_kind(kind).map(Method::key).collect();
        format!(
            "unknown method \"{method_key}\" (methods of a {kind} module: {})",
            keys.join(", ")
        )
    })?;
    if method.kind() != kind {
        return Err(format!(
            "{method} is an {} method, but {} is a {kind} module",
            method.kind(),
            entry.name
        ));
    }
    let text = std::fs::read_to_string(input_path)
        .map_err(|e| format!("cannot read {}: {e}", input_path.display()))?;
    let input =
        Input::from_document(&text).map_err(|e| format!("{}: {e}", input_path.display()))?;
    let module = Module::with_state(kind, &entry.name, &entry.parameters, StateMode::Bypassed)
        .map_err(|e| format!("{}: {e}", entry.name))?;
    if module.config().command(method).is_none() {
        eprintln!("note: {method}_command is not configured; this is the module's default answer");
    }
    let outcome = runtime().block_on(module.call(method, input));
    let Some(outcome) = outcome else {
        eprintln!("{method}: no answer (the watch would never complete)");
        return Ok(ExitCode::SUCCESS);
    };
    let seconds = outcome.duration.as_secs_f64();
    match &outcome.answer {
        Answer::Value(json) => println!("{json}"),
        Answer::None if method.contract().output.type_name() == "Nothing" => {
            eprintln!("{method}: succeeded");
        }
        Answer::None => eprintln!("{method}: no answer (None: Mesos keeps what it has)"),
        Answer::Error(e) => {
            eprintln!("error: {e}");
            eprintln!("{method}: failed in {seconds:.3}s");
            return Ok(ExitCode::FAILURE);
        }
    }
    if let Some(failure) = &outcome.failure {
        eprintln!("error: {failure}");
        eprintln!("{method}: failed in {seconds:.3}s (the module answers Mesos as printed above)");
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("{method}: took {seconds:.3}s");
    Ok(ExitCode::SUCCESS)
}
