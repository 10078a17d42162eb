//! `mesos-command-modules`: check a modules manifest, run one's scripts
//! exactly as the agent's module would, and simulate an agent driving them,
//! all without Mesos.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use mesos_command_modules::config::with_article;
use mesos_command_modules::input::Input;
use mesos_command_modules::interpret::schema_for;
use mesos_command_modules::manifest::{self, ManifestModule};
use mesos_command_modules::runtime::runtime;
use mesos_command_modules::schema;
use mesos_command_modules::simulate::{self, Event, Options, Report};
use mesos_command_modules::{Answer, Method, Module, ModuleKind, StateMode};

#[derive(Parser, Debug)]
#[command(
    name = "mesos-command-modules",
    version,
    about = "Check a Mesos modules manifest, run command-module scripts as the agent would, \
             and simulate an agent driving them"
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
    /// Drive every command module of a manifest through the life of N
    /// containers, as a Mesos 1.11.0 agent would, with no Mesos at all.
    ///
    /// Prints one trace line per call, a summary per module and method, and
    /// exits 1 when a call that must succeed (prepare, isolate, update,
    /// cleanup) failed or a module left files behind. State and temp
    /// directories are redirected under a temporary work directory. Set
    /// RUST_LOG=info to also see what the scripts print.
    Simulate(SimulateArgs),
}

#[derive(clap::Args, Debug)]
struct SimulateArgs {
    /// The agent's --modules file.
    manifest: PathBuf,
    /// Top-level containers to run (task groups add a nested container).
    #[arg(long, default_value_t = 3)]
    containers: usize,
    /// Seed for the scenarios and ids; the same seed gives the same inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Restart the agent once the containers run: new module instances,
    /// then recover.
    #[arg(long)]
    restart: bool,
    /// Times usage is polled on every running container.
    #[arg(long, default_value_t = 2)]
    usage_rounds: usize,
    /// Containers launched, polled or torn down at the same time.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Keep state, temp files and sandboxes in this directory (default: a
    /// temporary directory, removed afterwards).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Take the input templates from this directory (laid out like
    /// tests/fixtures/) instead of the captures built into the tool.
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Give every container its own network namespace (needs root).
    #[arg(long)]
    net_namespaces: bool,
    /// Run commands only from their configured paths, never from next to
    /// the manifest.
    #[arg(long)]
    no_relocate: bool,
    /// Set a parameter on every module that accepts it, e.g.
    /// --param isolator_watch_frequence=1 (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Also fail (exit 1) when any command failed, even where Mesos would
    /// carry on (hooks, usage, status, recover).
    #[arg(long)]
    strict: bool,
    /// Print JSON lines (calls, phases, summary rows, result) instead of
    /// the readable trace.
    #[arg(long)]
    json: bool,
    /// Print only the summary, not one line per call.
    #[arg(long)]
    quiet: bool,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("\"{text}\" is not KEY=VALUE")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A simulation runs many calls: by default only problems are logged, so
    // that the trace stays readable.
    let default_level = match cli.command {
        Command::Simulate(_) => "warn",
        _ => "info",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .format_timestamp(None)
        .format_target(false)
        .init();
    let result = match cli.command {
        Command::Check { manifest } => check(&manifest),
        Command::Call {
            manifest,
            module,
            method,
            input,
        } => call(&manifest, &module, &method, &input),
        Command::Simulate(args) => run_simulation(&args),
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
    let all = manifest::load(path)?;
    // Names the agent would look for in this library and not find.
    let unknown = manifest::unknown_modules(&all);
    let modules = ours(all);
    if modules.is_empty() && unknown.is_empty() {
        return Err(format!(
            "{} loads no command module (com_criteo_mesos_CommandHook... or \
             com_criteo_mesos_CommandIsolator...)",
            path.display()
        ));
    }
    let mut failed = 0;
    // The isolators' state directories met so far, with the module that
    // has each: a second isolator in the same directory would remove the
    // first one's checkpoints at recover (they are not its containers).
    let mut state_directories: Vec<(PathBuf, String)> = Vec::new();
    for u in &unknown {
        failed += 1;
        println!("{} (from {}): ERROR {u}", u.name, u.library);
    }
    for m in &modules {
        let Some(kind) = m.kind else { continue };
        let header = format!("{} ({kind}, from {})", m.name, m.library);
        match Module::with_state(kind, &m.name, &m.parameters, StateMode::Bypassed) {
            Ok(module) => {
                let started = module.service().map(|service| {
                    let limit = module
                        .config()
                        .service
                        .as_ref()
                        .map_or(Duration::ZERO, |s| s.startup_timeout);
                    runtime().block_on(service.wait_up(limit))
                });
                module.shutdown_and_wait();
                let mut problems = Vec::new();
                if kind == ModuleKind::Isolator {
                    let directory = module.config().state_directory.clone();
                    match state_directories.iter().find(|(d, _)| *d == directory) {
                        Some((_, first)) => problems.push(format!(
                            "module_name: {} is also the state directory of {first}: each \
                             isolator removes at recover the checkpoints of containers it does \
                             not run, the other's included; give each its own module_name or \
                             state_directory",
                            directory.display()
                        )),
                        None => state_directories.push((directory, m.name.clone())),
                    }
                }
                if started == Some(false) {
                    problems.push(
                        "service_command: the helper did not start (see the log lines above)"
                            .to_string(),
                    );
                }
                // The module loads, but none of its commands could run.
                if let Some(e) = module.config().temp_directory_problem() {
                    problems.push(e.to_string());
                }
                if !problems.is_empty() {
                    failed += 1;
                    for problem in problems {
                        println!("{header}: ERROR {problem}");
                    }
                    continue;
                }
                println!("{header}: OK");
                for (key, value) in module.config().describe() {
                    println!("  {key} = {value}");
                }
                if started == Some(true) {
                    println!("  service: the helper started and answered initialize");
                }
                for warning in &module.config().warnings {
                    println!("  warning: {warning}");
                }
            }
            Err(e) => {
                failed += 1;
                // One line per key at fault.
                for (key, problem) in e.each() {
                    println!("{header}: ERROR {key}: {problem}");
                }
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} module(s) would fail to load or to run their commands",
            modules.len() + unknown.len()
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
            "unknown method \"{method_key}\" (methods of {} module: {})",
            with_article(kind),
            keys.join(", ")
        )
    })?;
    if method.kind() != kind {
        return Err(format!(
            "{method} is {} method, but {} is {} module",
            with_article(method.kind()),
            entry.name,
            with_article(kind)
        ));
    }
    let bytes = std::fs::read(input_path)
        .map_err(|e| format!("cannot read {}: {e}", input_path.display()))?;
    // As the agent does with what Mesos passes (see `ffi.rs`).
    let text = String::from_utf8(bytes).unwrap_or_else(|e| {
        eprintln!(
            "note: {} holds bytes that are not valid UTF-8; they were replaced with U+FFFD, as \
             the module does with such arguments in the agent",
            input_path.display()
        );
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    });
    let input =
        Input::from_document(&text).map_err(|e| format!("{}: {e}", input_path.display()))?;
    let module = Module::with_state(kind, &entry.name, &entry.parameters, StateMode::Bypassed)
        .map_err(|e| format!("{}: {e}", entry.name))?;
    let configured = module.config().command(method).is_some();
    if !configured {
        eprintln!("note: {method}_command is not configured; this is the module's default answer");
    }
    // In the agent the module knows a container once it has prepared or
    // recovered it, and adds its `container_config` to every later call;
    // `call` keeps no state, so a `container_config` in the input stands
    // for that. A container the module does not know gets no cleanup
    // command and a watch that never completes.
    let known = input
        .parsed("container_config")
        .is_some_and(|c| !c.is_null());
    if configured && !known && matches!(method, Method::IsolatorCleanup | Method::IsolatorWatch) {
        module.shutdown_and_wait();
        eprintln!(
            "note: the input has no container_config, so the module does not know this \
             container (in the agent: it neither prepared nor recovered it) and runs no command; \
             add the container_config prepare received to run {method}_command"
        );
        if method == Method::IsolatorCleanup {
            eprintln!("{method}: succeeded without running the command (nothing to forget)");
        } else {
            eprintln!("{method}: no answer (the watch of an unknown container never completes)");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = runtime().block_on(module.call(method, input));
    module.shutdown_and_wait();
    let Some(outcome) = outcome else {
        if method == Method::IsolatorWatch {
            eprintln!("{method}: no answer (the watch would never complete)");
        } else {
            eprintln!(
                "{method}: no answer: without a command the module never answers, as Mesos's \
                 own noop module does (the agent then never asks again)"
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let seconds = outcome.duration.as_secs_f64();
    match &outcome.answer {
        Answer::Value(json) => print_as_parsed(method, json),
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

/// Prints an answer as the agent's Mesos receives it: the shim parses the
/// module's JSON with stout's `protobuf::parse`, which leaves out members
/// that name no field, `null`s, unknown enum names and cleared `oneof`
/// members; each part left out is named on stderr.
fn print_as_parsed(method: Method, json: &str) {
    let parsed = serde_json::from_str(json).ok();
    let (Some(schema), Some(value)) = (schema_for(method.contract().output), parsed) else {
        println!("{json}");
        return;
    };
    let (kept, ignored) = schema::kept(schema, &value);
    println!("{kept}");
    for part in &ignored {
        eprintln!(
            "note: Mesos does not receive {} ({}): the shim's stout parse leaves it out",
            part.path, part.why
        );
    }
}

fn run_simulation(args: &SimulateArgs) -> Result<ExitCode, String> {
    let options = Options {
        containers: args.containers,
        seed: args.seed,
        restart: args.restart,
        usage_rounds: args.usage_rounds,
        parallel: args.parallel,
        work_dir: args.work_dir.clone(),
        fixtures: args.fixtures.clone(),
        net_namespaces: args.net_namespaces,
        relocate: !args.no_relocate,
        params: args.params.clone(),
    };
    if !args.json {
        println!(
            "simulating {}: {} container(s), seed {}, {} usage round(s), {} at a time{}",
            args.manifest.display(),
            options.containers,
            options.seed,
            options.usage_rounds,
            options.parallel,
            if options.restart {
                ", with an agent restart"
            } else {
                ""
            }
        );
    }
    let printer = Arc::new(Printer {
        json: args.json,
        quiet: args.quiet,
        started: Instant::now(),
        progress: Mutex::new(ProgressLine {
            last: None,
            open: false,
        }),
        tty: std::io::stderr().is_terminal(),
    });
    let observer_printer = Arc::clone(&printer);
    let report = simulate::simulate_manifest(
        &args.manifest,
        &options,
        Arc::new(move |event: &Event| observer_printer.event(event)),
    )?;
    printer.finish_progress();
    print_report(&report, args);
    Ok(if report.success(args.strict) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints the events of a simulation as they happen.
struct Printer {
    json: bool,
    quiet: bool,
    started: Instant,
    progress: Mutex<ProgressLine>,
    tty: bool,
}

struct ProgressLine {
    last: Option<Instant>,
    /// A carriage-return line is on screen and needs a newline.
    open: bool,
}

/// Runs shorter than this print no progress line.
const PROGRESS_AFTER: Duration = Duration::from_secs(2);
/// How often the progress line is redrawn on a terminal...
const PROGRESS_EVERY_TTY: Duration = Duration::from_secs(1);
/// ...and printed to a log when stderr is not one.
const PROGRESS_EVERY_LOG: Duration = Duration::from_secs(10);

impl Printer {
    fn event(&self, event: &Event) {
        match event {
            Event::Progress(p) => self.progress(p),
            _ if self.json => {
                let line = match event {
                    Event::Call(record) => record.to_json(),
                    Event::Phase(phase, text) => {
                        serde_json::json!({"type": "phase", "phase": phase.name(), "text": text})
                    }
                    Event::Note(text) => serde_json::json!({"type": "note", "text": text}),
                    Event::Progress(_) => return,
                };
                self.out(&line.to_string());
            }
            _ if self.quiet => {}
            Event::Call(record) => self.out(&record.trace_line()),
            Event::Phase(phase, text) => self.out(&format!("== {phase}: {text}")),
            Event::Note(text) => self.out(&format!("   {text}")),
        }
    }

    fn out(&self, line: &str) {
        self.finish_progress();
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
    }

    /// The progress line goes to stderr: redrawn in place on a terminal;
    /// on a log, only when the trace is not printed (it shows the progress
    /// itself), and seldom.
    fn progress(&self, p: &simulate::Progress) {
        let elapsed = self.started.elapsed();
        let tracing = !self.json && !self.quiet;
        if elapsed < PROGRESS_AFTER || (!self.tty && tracing) {
            return;
        }
        let every = if self.tty {
            PROGRESS_EVERY_TTY
        } else {
            PROGRESS_EVERY_LOG
        };
        let mut line = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        if line.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        line.last = Some(Instant::now());
        let text = format!("simulate: {:.0}s: {p}", elapsed.as_secs_f64());
        let mut stderr = std::io::stderr().lock();
        if self.tty {
            let _ = write!(stderr, "\r{text}\x1b[K");
            line.open = true;
        } else {
            let _ = writeln!(stderr, "{text}");
        }
        let _ = stderr.flush();
    }

    /// Erases the progress line, before other output.
    fn finish_progress(&self) {
        let mut line = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        if line.open {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
            line.open = false;
        }
    }
}

fn print_report(report: &Report, args: &SimulateArgs) {
    if args.json {
        for row in &report.summary {
            println!("{}", row.to_json());
        }
        for row in &report.modules {
            println!("{}", row.to_json());
        }
        println!("{}", report.result_json(args.strict));
        return;
    }
    println!();
    println!("summary: command runs per module and method (as /metrics/snapshot counts them)");
    print!("{}", simulate::summary_table(&report.summary));
    println!();
    println!(
        "module counters (/metrics/snapshot's command_modules/<module_name>/..., summed over \
         agent restarts; commands_unreaped once the modules stopped)"
    );
    print!("{}", simulate::module_table(&report.modules));
    println!();
    println!("{}", report.result_line());
    let by_kind = simulate::failures_by_kind(&report.records);
    if !by_kind.is_empty() {
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        println!("failed commands by kind: {}", kinds.join(", "));
    }
    if let Some(dir) = &report.work_dir {
        println!("work directory kept: {}", dir.display());
    }
    for path in &report.leftovers {
        println!(
            "LEFT BEHIND: {} (a module did not clean up)",
            path.display()
        );
    }
    let failures = report.must_succeed_failures();
    for r in &failures {
        let message = r.result.error().map(|e| e.message.as_str()).unwrap_or("");
        println!(
            "MUST SUCCEED: {} {} {}: {message}",
            r.module,
            r.method,
            r.container.as_deref().unwrap_or("-")
        );
    }
    if report.success(args.strict) {
        println!("OK: every call that must succeed succeeded");
    } else if !failures.is_empty() {
        println!(
            "FAILED: {} call(s) that must succeed failed (Mesos would fail the launch, destroy \
             the container or fail its termination)",
            failures.len()
        );
    } else if !report.problems.is_empty() {
        println!(
            "FAILED: the simulator itself had problems: {}",
            report.problems.join("; ")
        );
    } else if !report.leftovers.is_empty() {
        println!("FAILED: files were left behind");
    } else {
        println!("FAILED (--strict): {} command(s) failed", report.errors());
    }
}
