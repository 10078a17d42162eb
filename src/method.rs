//! Every Hook and Isolator method the module implements, and its contract.
//!
//! This file is the one place that says, per method, what the command gets
//! and what its answer means. The rest of the core reads [`Contract`] instead
//! of matching on method names, so a behaviour change is a change of one row.
//! The rows follow `shared/MESOS-CONTRACT.md` sections 1-3 (what Mesos passes
//! and does with the result) and keep the original module's input field names.

use std::fmt;

/// Which Mesos module interface a module instance implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    Hook,
    Isolator,
    /// `mesos::slave::ResourceEstimator`: what may be offered as revocable.
    ResourceEstimator,
    /// `mesos::slave::QoSController`: which revocable executors to kill.
    QoSController,
}

impl ModuleKind {
    pub fn name(self) -> &'static str {
        match self {
            ModuleKind::Hook => "Hook",
            ModuleKind::Isolator => "Isolator",
            ModuleKind::ResourceEstimator => "ResourceEstimator",
            ModuleKind::QoSController => "QoSController",
        }
    }

    pub const ALL: [ModuleKind; 4] = [
        ModuleKind::Hook,
        ModuleKind::Isolator,
        ModuleKind::ResourceEstimator,
        ModuleKind::QoSController,
    ];

    /// The kind's code on the bridge (`create_module`); never renumber.
    pub fn from_index(index: u8) -> Option<ModuleKind> {
        ModuleKind::ALL.get(usize::from(index)).copied()
    }

    /// The prefix of its methods' keys (`isolator_`).
    pub fn key_prefix(self) -> &'static str {
        match self {
            ModuleKind::Hook => "hook_",
            ModuleKind::Isolator => "isolator_",
            ModuleKind::ResourceEstimator => "resource_estimator_",
            ModuleKind::QoSController => "qos_controller_",
        }
    }
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A method of `mesos::Hook` or `mesos::slave::Isolator`.
///
/// The discriminants cross the C++ bridge: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Method {
    HookMasterLaunchTaskLabelDecorator = 0,
    HookMasterLaunchTaskResourceDecorator = 1,
    HookSlaveRunTaskLabelDecorator = 2,
    HookMasterSlaveLostHook = 3,
    HookSlaveExecutorEnvironmentDecorator = 4,
    HookSlavePreLaunchDockerTaskExecutorDecorator = 5,
    HookSlavePostFetchHook = 6,
    HookSlaveRemoveExecutorHook = 7,
    HookSlaveTaskStatusDecorator = 8,
    HookSlaveResourcesDecorator = 9,
    HookSlaveAttributesDecorator = 10,
    IsolatorRecover = 11,
    IsolatorPrepare = 12,
    IsolatorIsolate = 13,
    IsolatorWatch = 14,
    IsolatorUpdate = 15,
    IsolatorUsage = 16,
    IsolatorStatus = 17,
    IsolatorCleanup = 18,
    ResourceEstimatorOversubscribable = 19,
    QoSControllerCorrections = 20,
}

/// The Mesos type a command's output must parse as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// `Try<Nothing>` / `Future<Nothing>`: the output file is ignored.
    Nothing,
    /// `mesos::Labels`, an object `{"labels":[...]}`.
    Labels,
    /// `mesos::Resources`, a JSON array of `Resource`.
    Resources,
    /// `mesos::Attributes`, a JSON array of `Attribute`.
    Attributes,
    /// `mesos::Environment`, an object `{"variables":[...]}`.
    Environment,
    /// `mesos::DockerTaskExecutorPrepareInfo` (camelCase field names).
    DockerTaskExecutorPrepareInfo,
    /// `mesos::TaskStatus`; only `labels` and `container_status` are used.
    TaskStatus,
    /// `mesos::slave::ContainerLaunchInfo`.
    ContainerLaunchInfo,
    /// `mesos::slave::ContainerLimitation`.
    ContainerLimitation,
    /// `mesos::ResourceStatistics` (`timestamp` is required).
    ResourceStatistics,
    /// `mesos::ContainerStatus`.
    ContainerStatus,
    /// `mesos::Resources` offered for oversubscription: every entry is
    /// made revocable (the agent aborts on one that is not).
    Estimate,
    /// `std::list<mesos::slave::QoSCorrection>`, a JSON array; every
    /// correction must name what it kills.
    Corrections,
}

impl Output {
    /// Whether the shim checks a value of this type beyond what the core
    /// validates: `Resources::validate` (amounts, reservations, disk
    /// sources) runs only in the shim. For every other type the core's
    /// schema check is stout's own, so the shim never refuses what the
    /// core accepted.
    pub fn checked_further_by_mesos(self) -> bool {
        matches!(self, Output::Resources | Output::Estimate)
    }

    /// The Mesos type name, for messages.
    pub fn type_name(self) -> &'static str {
        match self {
            Output::Nothing => "Nothing",
            Output::Labels => "Labels",
            Output::Resources => "Resources",
            Output::Attributes => "Attributes",
            Output::Environment => "Environment",
            Output::DockerTaskExecutorPrepareInfo => "DockerTaskExecutorPrepareInfo",
            Output::TaskStatus => "TaskStatus",
            Output::ContainerLaunchInfo => "ContainerLaunchInfo",
            Output::ContainerLimitation => "ContainerLimitation",
            Output::ResourceStatistics => "ResourceStatistics",
            Output::ContainerStatus => "ContainerStatus",
            Output::Estimate => "Resources",
            Output::Corrections => "QoSCorrection list",
        }
    }
}

/// What an empty output file (zero bytes or only white space) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnEmpty {
    /// `None`: Mesos keeps the value it had (decorators, prepare, Docker hook).
    NoChange,
    /// The method returns nothing anyway; the output is not read.
    Ignored,
    /// Watch: no limitation this round, keep watching.
    KeepWatching,
    /// Usage: statistics holding only the current time.
    EmptyStatistics,
    /// Status: an empty `ContainerStatus`, which Mesos merges as a no-op.
    EmptyStatus,
    /// Estimator and QoS controller: an empty list (nothing to offer, no
    /// correction).
    EmptyList,
}

/// What a failed command (or invalid output) means for Mesos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// The hook returns an `Error`: Mesos logs a warning and keeps its value.
    HookWarning,
    /// The Docker pre-launch future fails: the launch fails.
    LaunchFails,
    /// Recover: logged; the agent keeps running (Mesos would exit on failure).
    Logged,
    /// Watch: logged, the next round runs after the watch frequency.
    KeepWatching,
    /// Update: the future fails and Mesos destroys the container.
    DestroysContainer,
    /// Usage: never fails; empty statistics stamped with the current time.
    EmptyStatistics,
    /// Status: the future fails; Mesos logs it and ignores the status.
    StatusIgnored,
    /// Cleanup: the future fails; Mesos fails the container's termination.
    TerminationFails,
    /// Estimator: an empty estimate, which withdraws what was offered (a
    /// failed future would leave the last estimate offered for ever).
    WithdrawsEstimate,
    /// QoS controller: the future fails; the agent logs it and asks again
    /// after `--qos_correction_interval_min`.
    NoCorrections,
}

/// How Mesos calls the method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calling {
    /// A plain return value: the caller (an actor) blocks until the command
    /// ends or times out.
    Blocking,
    /// A `process::Future`: the core starts the command and completes later.
    Asynchronous,
}

/// Where the merge mode of a decorator finds the values Mesos already has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merge {
    /// Path, in the input document, of the list the decorator replaces.
    pub existing: &'static [&'static str],
    /// The list's member name in the output object.
    pub list: &'static str,
    /// The member of each entry that identifies it (a label key, a variable
    /// name): an entry of the output replaces the existing one with that id.
    pub id: &'static str,
}

/// One row of the contract table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contract {
    pub method: Method,
    /// The parameter stem: `<key>_command`, `<key>_timeout`, ...
    pub key: &'static str,
    pub kind: ModuleKind,
    /// Member names of the input document, one per Mesos argument, in the
    /// order of the C++ signature.
    pub inputs: &'static [&'static str],
    /// Whether the module adds `container_config` from its state.
    pub adds_container_config: bool,
    pub output: Output,
    pub on_empty: OnEmpty,
    pub on_failure: OnFailure,
    pub calling: Calling,
    /// Where the opt-in merge mode reads the existing values, if the method
    /// offers one.
    pub merge: Option<Merge>,
}

const LABELS_MERGE: Merge = Merge {
    existing: &["task_info", "labels", "labels"],
    list: "labels",
    id: "key",
};

const ENVIRONMENT_MERGE: Merge = Merge {
    existing: &["executor_info", "command", "environment", "variables"],
    list: "variables",
    id: "name",
};

const fn hook(
    method: Method,
    key: &'static str,
    inputs: &'static [&'static str],
    output: Output,
    merge: Option<Merge>,
) -> Contract {
    let on_empty = match output {
        Output::Nothing => OnEmpty::Ignored,
        _ => OnEmpty::NoChange,
    };
    Contract {
        method,
        key,
        kind: ModuleKind::Hook,
        inputs,
        adds_container_config: false,
        output,
        on_empty,
        on_failure: OnFailure::HookWarning,
        calling: Calling::Blocking,
        merge,
    }
}

const fn isolator(
    method: Method,
    key: &'static str,
    inputs: &'static [&'static str],
    output: Output,
    on_empty: OnEmpty,
    on_failure: OnFailure,
) -> Contract {
    Contract {
        method,
        key,
        kind: ModuleKind::Isolator,
        inputs,
        adds_container_config: !matches!(method, Method::IsolatorRecover | Method::IsolatorPrepare),
        output,
        on_empty,
        on_failure,
        calling: Calling::Asynchronous,
        merge: None,
    }
}

/// A method of the oversubscription modules: its one argument is the
/// agent's `ResourceUsage`, which the module fetches from the agent first.
const fn oversubscription(
    method: Method,
    key: &'static str,
    kind: ModuleKind,
    output: Output,
    on_failure: OnFailure,
) -> Contract {
    Contract {
        method,
        key,
        kind,
        inputs: &["usage"],
        adds_container_config: false,
        output,
        on_empty: OnEmpty::EmptyList,
        on_failure,
        calling: Calling::Asynchronous,
        merge: None,
    }
}

/// The contract of every method, indexed by `Method as usize`.
pub const CONTRACTS: [Contract; 21] = [
    hook(
        Method::HookMasterLaunchTaskLabelDecorator,
        "hook_master_launch_task_label_decorator",
        &["task_info", "framework_info", "slave_info"],
        Output::Labels,
        Some(LABELS_MERGE),
    ),
    hook(
        Method::HookMasterLaunchTaskResourceDecorator,
        "hook_master_launch_task_resource_decorator",
        &["task_info", "slave_resources"],
        Output::Resources,
        None,
    ),
    hook(
        Method::HookSlaveRunTaskLabelDecorator,
        "hook_slave_run_task_label_decorator",
        &["task_info", "executor_info", "framework_info", "slave_info"],
        Output::Labels,
        Some(LABELS_MERGE),
    ),
    hook(
        Method::HookMasterSlaveLostHook,
        "hook_master_slave_lost_hook",
        &["slave_info"],
        Output::Nothing,
        None,
    ),
    hook(
        Method::HookSlaveExecutorEnvironmentDecorator,
        "hook_slave_executor_environment_decorator",
        &["executor_info"],
        Output::Environment,
        Some(ENVIRONMENT_MERGE),
    ),
    Contract {
        on_failure: OnFailure::LaunchFails,
        calling: Calling::Asynchronous,
        ..hook(
            Method::HookSlavePreLaunchDockerTaskExecutorDecorator,
            "hook_slave_pre_launch_docker_task_executor_decorator",
            &[
                "task_info",
                "executor_info",
                "container_name",
                "container_work_directory",
                "mapped_sandbox_directory",
                "env",
            ],
            Output::DockerTaskExecutorPrepareInfo,
            None,
        )
    },
    hook(
        Method::HookSlavePostFetchHook,
        "hook_slave_post_fetch_hook",
        &["container_id", "directory"],
        Output::Nothing,
        None,
    ),
    hook(
        Method::HookSlaveRemoveExecutorHook,
        "hook_slave_remove_executor_hook",
        &["framework_info", "executor_info"],
        Output::Nothing,
        None,
    ),
    hook(
        Method::HookSlaveTaskStatusDecorator,
        "hook_slave_task_status_decorator",
        &["framework_id", "status"],
        Output::TaskStatus,
        None,
    ),
    hook(
        Method::HookSlaveResourcesDecorator,
        "hook_slave_resources_decorator",
        &["slave_info"],
        Output::Resources,
        None,
    ),
    hook(
        Method::HookSlaveAttributesDecorator,
        "hook_slave_attributes_decorator",
        &["slave_info"],
        Output::Attributes,
        None,
    ),
    isolator(
        Method::IsolatorRecover,
        "isolator_recover",
        &["states", "orphans"],
        Output::Nothing,
        OnEmpty::Ignored,
        OnFailure::Logged,
    ),
    isolator(
        Method::IsolatorPrepare,
        "isolator_prepare",
        &["container_id", "container_config"],
        Output::ContainerLaunchInfo,
        OnEmpty::NoChange,
        OnFailure::LaunchFails,
    ),
    isolator(
        Method::IsolatorIsolate,
        "isolator_isolate",
        &["container_id", "pid"],
        Output::Nothing,
        OnEmpty::Ignored,
        OnFailure::LaunchFails,
    ),
    isolator(
        Method::IsolatorWatch,
        "isolator_watch",
        &["container_id"],
        Output::ContainerLimitation,
        OnEmpty::KeepWatching,
        OnFailure::KeepWatching,
    ),
    isolator(
        Method::IsolatorUpdate,
        "isolator_update",
        &["container_id", "resource_requests", "resource_limits"],
        Output::Nothing,
        OnEmpty::Ignored,
        OnFailure::DestroysContainer,
    ),
    isolator(
        Method::IsolatorUsage,
        "isolator_usage",
        &["container_id"],
        Output::ResourceStatistics,
        OnEmpty::EmptyStatistics,
        OnFailure::EmptyStatistics,
    ),
    isolator(
        Method::IsolatorStatus,
        "isolator_status",
        &["container_id"],
        Output::ContainerStatus,
        OnEmpty::EmptyStatus,
        OnFailure::StatusIgnored,
    ),
    isolator(
        Method::IsolatorCleanup,
        "isolator_cleanup",
        &["container_id"],
        Output::Nothing,
        OnEmpty::Ignored,
        OnFailure::TerminationFails,
    ),
    oversubscription(
        Method::ResourceEstimatorOversubscribable,
        "resource_estimator_oversubscribable",
        ModuleKind::ResourceEstimator,
        Output::Estimate,
        OnFailure::WithdrawsEstimate,
    ),
    oversubscription(
        Method::QoSControllerCorrections,
        "qos_controller_corrections",
        ModuleKind::QoSController,
        Output::Corrections,
        OnFailure::NoCorrections,
    ),
];

impl Method {
    /// Every method, in discriminant order.
    pub const ALL: [Method; 21] = [
        Method::HookMasterLaunchTaskLabelDecorator,
        Method::HookMasterLaunchTaskResourceDecorator,
        Method::HookSlaveRunTaskLabelDecorator,
        Method::HookMasterSlaveLostHook,
        Method::HookSlaveExecutorEnvironmentDecorator,
        Method::HookSlavePreLaunchDockerTaskExecutorDecorator,
        Method::HookSlavePostFetchHook,
        Method::HookSlaveRemoveExecutorHook,
        Method::HookSlaveTaskStatusDecorator,
        Method::HookSlaveResourcesDecorator,
        Method::HookSlaveAttributesDecorator,
        Method::IsolatorRecover,
        Method::IsolatorPrepare,
        Method::IsolatorIsolate,
        Method::IsolatorWatch,
        Method::IsolatorUpdate,
        Method::IsolatorUsage,
        Method::IsolatorStatus,
        Method::IsolatorCleanup,
        Method::ResourceEstimatorOversubscribable,
        Method::QoSControllerCorrections,
    ];

    /// This method's row of the contract table.
    pub fn contract(self) -> &'static Contract {
        &CONTRACTS[self as usize]
    }

    /// The parameter stem, e.g. `isolator_prepare`.
    pub fn key(self) -> &'static str {
        self.contract().key
    }

    pub fn kind(self) -> ModuleKind {
        self.contract().kind
    }

    /// Finds a method by its parameter stem (`isolator_prepare`), also
    /// accepting the stem without the `hook_` prefix (`slave_post_fetch_hook`),
    /// as the fixture folders are named.
    pub fn from_key(key: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.key() == key || m.key().strip_prefix("hook_") == Some(key))
    }

    /// Whether the method only observes a running container (usage,
    /// status, watch): Mesos calls these for every container at once, and
    /// they must never keep a launch, an update, a cleanup or a hook from
    /// running (see `limit.rs`).
    pub fn observes(self) -> bool {
        matches!(
            self,
            Method::IsolatorUsage | Method::IsolatorStatus | Method::IsolatorWatch
        )
    }

    /// Whether the method answers when it has no command, doing what Mesos
    /// does without the module. The oversubscription methods never answer,
    /// as Mesos's own noop resource estimator and QoS controller, whose
    /// futures never complete: the agent asks again only once answered, and
    /// an answer at once would, at the default
    /// `--qos_correction_interval_min` of 0, have it collect its usage
    /// (every container's, every isolator's `usage`) and ask again, in a
    /// loop.
    pub fn answers_without_command(self) -> bool {
        !matches!(
            self.kind(),
            ModuleKind::ResourceEstimator | ModuleKind::QoSController
        )
    }

    /// Converts a discriminant received over the bridge.
    pub fn from_index(index: u8) -> Option<Method> {
        Method::ALL.get(usize::from(index)).copied()
    }

    /// The methods of one module kind.
    pub fn of_kind(kind: ModuleKind) -> impl Iterator<Item = Method> {
        Method::ALL.into_iter().filter(move |m| m.kind() == kind)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_discriminant() {
        for (i, c) in CONTRACTS.iter().enumerate() {
            assert_eq!(c.method as usize, i, "row {i} is {:?}", c.method);
            assert_eq!(Method::from_index(i as u8), Some(c.method));
        }
        assert_eq!(Method::from_index(21), None);
    }

    #[test]
    fn every_key_names_its_kind() {
        for m in Method::ALL {
            assert!(m.key().starts_with(m.kind().key_prefix()), "{m}");
            assert_eq!(Method::from_key(m.key()), Some(m));
        }
        assert_eq!(
            Method::from_key("slave_post_fetch_hook"),
            Some(Method::HookSlavePostFetchHook)
        );
        assert_eq!(Method::from_key("isolator_nope"), None);
    }

    #[test]
    fn eleven_hooks_and_eight_isolator_methods() {
        assert_eq!(Method::of_kind(ModuleKind::Hook).count(), 11);
        assert_eq!(Method::of_kind(ModuleKind::Isolator).count(), 8);
        assert_eq!(Method::of_kind(ModuleKind::ResourceEstimator).count(), 1);
        assert_eq!(Method::of_kind(ModuleKind::QoSController).count(), 1);
        for (i, kind) in ModuleKind::ALL.into_iter().enumerate() {
            assert_eq!(ModuleKind::from_index(i as u8), Some(kind));
        }
    }

    #[test]
    fn only_the_docker_hook_among_hooks_is_asynchronous() {
        for m in Method::ALL {
            let asynchronous = m.contract().calling == Calling::Asynchronous;
            let expected = m.kind() != ModuleKind::Hook
                || m == Method::HookSlavePreLaunchDockerTaskExecutorDecorator;
            assert_eq!(asynchronous, expected, "{m}");
        }
    }

    #[test]
    fn original_input_names_are_kept() {
        assert_eq!(
            Method::HookSlaveRunTaskLabelDecorator.contract().inputs,
            ["task_info", "executor_info", "framework_info", "slave_info"]
        );
        assert_eq!(
            Method::IsolatorPrepare.contract().inputs,
            ["container_id", "container_config"]
        );
        assert!(Method::IsolatorIsolate.contract().adds_container_config);
        assert!(!Method::IsolatorPrepare.contract().adds_container_config);
    }
}
