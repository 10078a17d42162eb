//! The captured inputs the simulator uses as templates.
//!
//! They are the documents a real Mesos 1.11.0 master and agent passed to each
//! method (`tests/fixtures/`, see its README), compiled into the tool so that
//! `simulate` works from an installed binary. `--fixtures DIR` reads the same
//! relative paths from another directory instead, e.g. captures of your own.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

/// One kind of workload the agent runs, with the captures that describe it.
/// Every path is relative to the fixtures directory.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    /// `task_info`, `framework_info`, `slave_info` as the master sees them.
    pub master_label: &'static str,
    /// `task_info`, `slave_resources`.
    pub master_resource: &'static str,
    /// `task_info`, `executor_info`, `framework_info`, `slave_info` on the
    /// agent.
    pub run_task: &'static str,
    /// `executor_info` before the executor is launched.
    pub environment: &'static str,
    /// `container_id`, `container_config` of the executor's container.
    pub prepare: &'static str,
    /// The same for a nested container of a task group, launched by the
    /// executor.
    pub nested_prepare: Option<&'static str>,
    /// The status updates of the task, in order, the last one terminal.
    pub statuses: &'static [&'static str],
}

/// The three workloads of the captures.
pub const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "command-task",
        master_label: "master_launch_task_label_decorator/command-task.json",
        master_resource: "master_launch_task_resource_decorator/command-task.json",
        run_task: "slave_run_task_label_decorator/command-task.json",
        environment: "slave_executor_environment_decorator/command-task.json",
        prepare: "isolator_prepare/command-task.json",
        nested_prepare: None,
        statuses: &[
            "slave_task_status_decorator/command-task.json",
            "slave_task_status_decorator/command-task-2.json",
        ],
    },
    Scenario {
        name: "long-task",
        master_label: "master_launch_task_label_decorator/long-task.json",
        master_resource: "master_launch_task_resource_decorator/long-task.json",
        run_task: "slave_run_task_label_decorator/long-task.json",
        environment: "slave_executor_environment_decorator/long-task.json",
        prepare: "isolator_prepare/long-task.json",
        nested_prepare: None,
        statuses: &[
            "slave_task_status_decorator/long-task-2.json",
            "slave_task_status_decorator/long-task-3.json",
            "slave_task_status_decorator/long-task.json",
        ],
    },
    Scenario {
        name: "task-group",
        master_label: "master_launch_task_label_decorator/task-group.json",
        master_resource: "master_launch_task_resource_decorator/task-group.json",
        run_task: "slave_run_task_label_decorator/task-group.json",
        environment: "slave_executor_environment_decorator/task-group-executor.json",
        prepare: "isolator_prepare/task-group-executor.json",
        nested_prepare: Some("isolator_prepare/nested-container.json"),
        statuses: &[
            "slave_task_status_decorator/nested-container.json",
            "slave_task_status_decorator/nested-container-2.json",
            "slave_task_status_decorator/nested-container-3.json",
        ],
    },
];

/// `slave_info` of the agent at start (resources and attributes hooks).
pub const AGENT_START: &str = "slave_resources_decorator/agent-start.json";
/// `slave_info` of the agent as the master marks it lost.
pub const AGENT_LOST: &str = "master_slave_lost_hook/agent-lost.json";

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../tests/fixtures/", $path)))),*]
    };
}

/// The captures compiled into the tool.
const EMBEDDED: &[(&str, &str)] = embedded![
    "master_launch_task_label_decorator/command-task.json",
    "master_launch_task_label_decorator/long-task.json",
    "master_launch_task_label_decorator/task-group.json",
    "master_launch_task_resource_decorator/command-task.json",
    "master_launch_task_resource_decorator/long-task.json",
    "master_launch_task_resource_decorator/task-group.json",
    "slave_run_task_label_decorator/command-task.json",
    "slave_run_task_label_decorator/long-task.json",
    "slave_run_task_label_decorator/task-group.json",
    "slave_executor_environment_decorator/command-task.json",
    "slave_executor_environment_decorator/long-task.json",
    "slave_executor_environment_decorator/task-group-executor.json",
    "isolator_prepare/command-task.json",
    "isolator_prepare/long-task.json",
    "isolator_prepare/task-group-executor.json",
    "isolator_prepare/nested-container.json",
    "slave_task_status_decorator/command-task.json",
    "slave_task_status_decorator/command-task-2.json",
    "slave_task_status_decorator/long-task-2.json",
    "slave_task_status_decorator/long-task-3.json",
    "slave_task_status_decorator/long-task.json",
    "slave_task_status_decorator/nested-container.json",
    "slave_task_status_decorator/nested-container-2.json",
    "slave_task_status_decorator/nested-container-3.json",
    "slave_resources_decorator/agent-start.json",
    "master_slave_lost_hook/agent-lost.json",
];

/// Every template, parsed, by relative path.
#[derive(Clone, Debug)]
pub struct Templates {
    documents: HashMap<&'static str, Value>,
}

impl Templates {
    /// The captures compiled into the tool.
    pub fn embedded() -> Result<Templates, String> {
        Templates::from_texts(EMBEDDED.iter().map(|(p, t)| (*p, Ok(t.to_string()))))
    }

    /// The same relative paths read from `directory`.
    pub fn from_directory(directory: &Path) -> Result<Templates, String> {
        Templates::from_texts(EMBEDDED.iter().map(|(path, _)| {
            let full = directory.join(path);
            (
                *path,
                std::fs::read_to_string(&full).map_err(|e| format!("{}: {e}", full.display())),
            )
        }))
    }

    fn from_texts(
        texts: impl Iterator<Item = (&'static str, Result<String, String>)>,
    ) -> Result<Templates, String> {
        let mut documents = HashMap::new();
        for (path, text) in texts {
            let text = text?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| format!("template {path} is not JSON: {e}"))?;
            if !value.is_object() {
                return Err(format!("template {path} is not a JSON object"));
            }
            documents.insert(path, value);
        }
        Ok(Templates { documents })
    }

    /// A copy of one template document.
    pub fn get(&self, path: &str) -> Result<Value, String> {
        self.documents
            .get(path)
            .cloned()
            .ok_or_else(|| format!("no template {path}"))
    }

    /// A member of a template, e.g. `task_info` of a hook's input.
    pub fn member(&self, path: &str, member: &str) -> Result<Value, String> {
        self.get(path)?
            .get(member)
            .cloned()
            .ok_or_else(|| format!("template {path} has no \"{member}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_path_is_embedded() {
        let t = Templates::embedded().unwrap();
        for s in SCENARIOS {
            let paths = [
                s.master_label,
                s.master_resource,
                s.run_task,
                s.environment,
                s.prepare,
            ];
            for p in paths
                .iter()
                .chain(s.nested_prepare.iter())
                .chain(s.statuses.iter())
            {
                t.get(p).unwrap();
            }
        }
        t.member(AGENT_START, "slave_info").unwrap();
        t.member(AGENT_LOST, "slave_info").unwrap();
    }

    #[test]
    fn a_directory_missing_a_file_names_it() {
        let e = Templates::from_directory(Path::new("/nonexistent-fixtures")).unwrap_err();
        assert!(e.starts_with("/nonexistent-fixtures/"), "{e}");
    }
}
