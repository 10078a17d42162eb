//! Turns the captured templates into the inputs of N distinct containers.
//!
//! Each container follows one scenario of the captures (a command task, a
//! long task, a task group with a nested container), picked by the seed. Its
//! ids are fresh: the container ids are new UUIDs from the seed, executor
//! and task ids get a `-<n>` suffix, and its sandbox is a directory of the
//! simulation's own, so a script that writes into the sandbox never touches
//! a real agent's work directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::rng::{base64, Rng};
use super::templates::{Scenario, Templates, AGENT_LOST, AGENT_START, SCENARIOS};

/// Everything the simulated master and agent pass for one top-level
/// container.
#[derive(Clone, Debug)]
pub struct ContainerPlan {
    /// Short name in the trace: `c1`, `c2`, ...
    pub alias: String,
    pub scenario: &'static str,
    /// `ContainerID` JSON.
    pub id: Value,
    /// As Mesos prints it.
    pub id_text: String,
    pub sandbox: PathBuf,
    /// The task as the master sees it (master hooks).
    pub master_task_info: Value,
    pub master_framework_info: Value,
    pub master_slave_info: Value,
    pub slave_resources: Value,
    /// The task, executor, framework and agent as the agent sees them.
    pub task_info: Value,
    pub executor_info: Value,
    pub framework_info: Value,
    pub slave_info: Value,
    /// `executor_info` as the environment decorator receives it.
    pub environment_executor_info: Value,
    /// The `ContainerConfig` given to prepare.
    pub config: Value,
    /// A nested container launched by a task group's executor.
    pub nested: Option<NestedPlan>,
    /// Status updates (`framework_id`, `status`), the last one terminal.
    pub statuses: Vec<Value>,
}

/// A nested container of a task group.
#[derive(Clone, Debug)]
pub struct NestedPlan {
    pub alias: String,
    pub id: Value,
    pub id_text: String,
    pub sandbox: PathBuf,
    pub config: Value,
}

/// The whole simulated workload.
#[derive(Clone, Debug)]
pub struct Plan {
    pub containers: Vec<ContainerPlan>,
    /// The agent's `SlaveInfo` at start.
    pub agent_slave_info: Value,
    /// The agent's `SlaveInfo` when the master marks it lost.
    pub lost_slave_info: Value,
}

impl Plan {
    /// `count` containers from `templates`, ids and scenarios from `seed`,
    /// sandboxes under `sandboxes`.
    pub fn new(
        templates: &Templates,
        count: usize,
        seed: u64,
        sandboxes: &Path,
    ) -> Result<Plan, String> {
        let mut rng = Rng::new(seed);
        let mut containers = Vec::with_capacity(count);
        for index in 1..=count {
            let scenario = SCENARIOS[rng.below(SCENARIOS.len())];
            containers.push(container(templates, &scenario, index, &mut rng, sandboxes)?);
        }
        Ok(Plan {
            containers,
            agent_slave_info: templates.member(AGENT_START, "slave_info")?,
            lost_slave_info: templates.member(AGENT_LOST, "slave_info")?,
        })
    }
}

fn container(
    templates: &Templates,
    scenario: &Scenario,
    index: usize,
    rng: &mut Rng,
    sandboxes: &Path,
) -> Result<ContainerPlan, String> {
    let prepare = templates.get(scenario.prepare)?;
    let run_task = templates.get(scenario.run_task)?;
    let nested_prepare = scenario
        .nested_prepare
        .map(|p| templates.get(p))
        .transpose()?;

    // Old id -> new id, for every id of the scenario.
    let mut ids: HashMap<String, String> = HashMap::new();
    let template_id = id_value(&prepare, &["container_id"], scenario.prepare)?;
    let new_id = rng.uuid();
    ids.insert(template_id, new_id.clone());
    let nested_ids = match (&nested_prepare, scenario.nested_prepare) {
        (Some(doc), Some(path)) => {
            let child = id_value(doc, &["container_id"], path)?;
            let new_child = rng.uuid();
            ids.insert(child, new_child.clone());
            Some(new_child)
        }
        _ => None,
    };
    for (path, doc) in [(scenario.run_task, &run_task), (scenario.prepare, &prepare)] {
        for member in [
            &["task_info", "task_id"][..],
            &["executor_info", "executor_id"][..],
            &["container_config", "executor_info", "executor_id"][..],
        ] {
            if let Ok(old) = id_value(doc, member, path) {
                ids.entry(old.clone())
                    .or_insert_with(|| format!("{old}-{index}"));
            }
        }
    }

    let fresh = |path: &str| -> Result<Value, String> {
        let mut v = templates.get(path)?;
        rewrite_ids(&mut v, &ids);
        Ok(v)
    };
    let member = |doc: &Value, name: &str, path: &str| -> Result<Value, String> {
        doc.get(name)
            .cloned()
            .ok_or_else(|| format!("template {path} has no \"{name}\""))
    };

    let sandbox = sandboxes.join(&new_id);
    let mut prepare = fresh(scenario.prepare)?;
    let mut config = member(&prepare, "container_config", scenario.prepare)?;
    config["directory"] = json!(sandbox.display().to_string());
    prepare["container_config"] = config.clone();

    let nested = match (nested_ids, scenario.nested_prepare) {
        (Some(child), Some(path)) => {
            let doc = fresh(path)?;
            let mut nested_config = member(&doc, "container_config", path)?;
            let nested_sandbox = sandbox.join("containers").join(&child);
            nested_config["directory"] = json!(nested_sandbox.display().to_string());
            Some(NestedPlan {
                alias: format!("c{index}.1"),
                id: json!({"parent": {"value": new_id}, "value": child}),
                id_text: format!("{new_id}.{child}"),
                sandbox: nested_sandbox,
                config: nested_config,
            })
        }
        _ => None,
    };

    let master_label = fresh(scenario.master_label)?;
    let master_resource = fresh(scenario.master_resource)?;
    let run_task = fresh(scenario.run_task)?;
    let environment = fresh(scenario.environment)?;
    let mut statuses = Vec::new();
    for path in scenario.statuses {
        let mut update = fresh(path)?;
        if let Some(status) = update.get_mut("status") {
            status["uuid"] = json!(base64(&rng.bytes16()));
        }
        statuses.push(update);
    }

    Ok(ContainerPlan {
        alias: format!("c{index}"),
        scenario: scenario.name,
        id: json!({"value": new_id}),
        id_text: new_id,
        sandbox,
        master_task_info: member(&master_label, "task_info", scenario.master_label)?,
        master_framework_info: member(&master_label, "framework_info", scenario.master_label)?,
        master_slave_info: member(&master_label, "slave_info", scenario.master_label)?,
        slave_resources: member(
            &master_resource,
            "slave_resources",
            scenario.master_resource,
        )?,
        task_info: member(&run_task, "task_info", scenario.run_task)?,
        executor_info: member(&run_task, "executor_info", scenario.run_task)?,
        framework_info: member(&run_task, "framework_info", scenario.run_task)?,
        slave_info: member(&run_task, "slave_info", scenario.run_task)?,
        environment_executor_info: member(&environment, "executor_info", scenario.environment)?,
        config,
        nested,
        statuses,
    })
}

/// The `value` of the id object at `path` in `doc`.
fn id_value(doc: &Value, path: &[&str], template: &str) -> Result<String, String> {
    path.iter()
        .try_fold(doc, |v, key| v.get(key))
        .and_then(|id| id.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("template {template} has no {}.value", path.join(".")))
}

/// Members holding an id object (`{"value": ...}`).
const ID_MEMBERS: [&str; 4] = ["container_id", "parent", "task_id", "executor_id"];

/// Replaces every id of `ids` in `value`: id objects, strings equal to an
/// id (an executor's `source`), and path components (sandbox paths).
pub fn rewrite_ids(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if ID_MEMBERS.contains(&key.as_str()) {
                    if let Some(Value::String(s)) = member.get_mut("value") {
                        if let Some(new) = ids.get(s.as_str()) {
                            *s = new.clone();
                        }
                    }
                }
                rewrite_ids(member, ids);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_ids(v, ids)),
        Value::String(s) => {
            if let Some(new) = ids.get(s.as_str()) {
                *s = new.clone();
            } else if s.contains('/') {
                let rewritten: Vec<&str> = s
                    .split('/')
                    .map(|part| ids.get(part).map(String::as_str).unwrap_or(part))
                    .collect();
                *s = rewritten.join("/");
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(count: usize, seed: u64) -> Plan {
        Plan::new(
            &Templates::embedded().unwrap(),
            count,
            seed,
            Path::new("/sim/sandboxes"),
        )
        .unwrap()
    }

    #[test]
    fn ids_are_fresh_distinct_and_reproducible() {
        let a = plan(12, 42);
        let b = plan(12, 42);
        let ids: Vec<&str> = a.containers.iter().map(|c| c.id_text.as_str()).collect();
        assert_eq!(
            ids,
            b.containers
                .iter()
                .map(|c| c.id_text.as_str())
                .collect::<Vec<_>>()
        );
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 12);
        assert_ne!(plan(12, 43).containers[0].id_text, ids[0]);
        // Every scenario shows up in a dozen containers.
        for name in ["command-task", "long-task", "task-group"] {
            assert!(a.containers.iter().any(|c| c.scenario == name), "{name}");
        }
    }

    #[test]
    fn no_template_id_survives_and_sandboxes_are_ours() {
        let p = plan(6, 1);
        for c in &p.containers {
            let text = serde_json::to_string(&(&c.config, &c.task_info, &c.statuses)).unwrap();
            for old in [
                "8a96d8d3-e1eb-42bf-b37c-9104f9a7b9fc",
                "5d863b27-579a-4a18-84fd-568d0f4eeffc",
                "d7ada7a9-4f29-4bd5-afd0-fca7e86d8ebd",
                "221ef8dc-6c18-424f-b6c0-739b7eee3410",
                "/var/lib/mesos",
            ] {
                if old.starts_with('/') {
                    assert!(!c.config.to_string().contains(old), "{}", c.config);
                } else {
                    assert!(!text.contains(old), "{old} in {}", c.alias);
                }
            }
            assert_eq!(
                c.config["directory"],
                format!("/sim/sandboxes/{}", c.id_text)
            );
            let executor = c.executor_info["executor_id"]["value"].as_str().unwrap();
            assert!(executor.ends_with(&c.alias[1..]), "{executor}");
            assert_eq!(
                c.config["executor_info"]["executor_id"]["value"],
                c.executor_info["executor_id"]["value"]
            );
            if let Some(n) = &c.nested {
                assert_eq!(n.id["parent"]["value"], c.id_text.as_str());
                assert!(n.id_text.starts_with(&c.id_text));
                assert!(n.sandbox.starts_with(&c.sandbox));
            }
        }
    }

    #[test]
    fn nested_statuses_name_the_new_nested_container() {
        let p = plan(12, 42);
        let group = p
            .containers
            .iter()
            .find(|c| c.scenario == "task-group")
            .unwrap();
        let nested = group.nested.as_ref().unwrap();
        let status = &group.statuses[0]["status"];
        assert_eq!(
            status["container_status"]["container_id"]["value"],
            nested.id["value"]
        );
    }

    #[test]
    fn path_components_and_plain_ids_are_rewritten() {
        let ids: HashMap<String, String> = [("old".to_string(), "new".to_string())].into();
        let mut v = json!({"source": "old", "directory": "/a/old/b", "name": "old task",
                           "task_id": {"value": "old"}});
        rewrite_ids(&mut v, &ids);
        assert_eq!(
            v,
            json!({"source": "new", "directory": "/a/new/b", "name": "old task",
                   "task_id": {"value": "new"}})
        );
    }
}
