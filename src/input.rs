//! The input document a command receives: one member per argument.
//!
//! Members hold JSON text exactly as the shim produced it with stout's
//! `JSON::protobuf`, so the common path never parses or re-prints the large
//! `container_config`; the document is assembled with its keys sorted, as
//! the original module's `JSON::Object` printed them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{CallError, ErrorKind};
use crate::method::Method;

/// The arguments of one call, by member name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    members: BTreeMap<String, String>,
}

impl Input {
    /// Builds the input of `method` from the shim's arguments: one JSON text
    /// per argument of the C++ signature, an empty string for an absent
    /// `Option`.
    pub fn from_arguments(method: Method, arguments: Vec<String>) -> Result<Input, CallError> {
        let names = method.contract().inputs;
        if arguments.len() != names.len() {
            return Err(CallError::new(
                ErrorKind::Internal,
                format!(
                    "{method} takes {} arguments, the shim passed {}",
                    names.len(),
                    arguments.len()
                ),
            ));
        }
        let members = names
            .iter()
            .zip(arguments)
            .filter(|(_, json)| !json.is_empty())
            .map(|(name, json)| (name.to_string(), json))
            .collect();
        Ok(Input { members })
    }

    /// Takes a whole document, as the command-line tool's `--input` holds.
    pub fn from_document(text: &str) -> Result<Input, CallError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            CallError::new(ErrorKind::BadInput, format!("the input is not JSON: {e}"))
        })?;
        let Value::Object(map) = value else {
            return Err(CallError::new(
                ErrorKind::BadInput,
                "the input must be a JSON object with one member per argument",
            ));
        };
        Ok(Input {
            members: map.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
        })
    }

    /// The JSON text of a member.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.members.get(name).map(String::as_str)
    }

    /// A member, parsed.
    pub fn parsed(&self, name: &str) -> Option<Value> {
        self.get(name)
            .and_then(|text| serde_json::from_str(text).ok())
    }

    /// Adds or replaces a member.
    pub fn insert(&mut self, name: &str, json: String) {
        self.members.insert(name.to_string(), json);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// The document, compact, keys sorted.
    pub fn document(&self) -> String {
        let size: usize = self
            .members
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum();
        let mut out = String::with_capacity(size + 2);
        out.push('{');
        for (i, (name, json)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Member names are protobuf field names: quoted as they are,
            // without a formatter and an allocation per member per call.
            if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                out.push('"');
                out.push_str(name);
                out.push('"');
            } else {
                out.push_str(&Value::String(name.clone()).to_string());
            }
            out.push(':');
            out.push_str(json);
        }
        out.push('}');
        out
    }

    /// The `container_id` member as Mesos prints a `ContainerID`
    /// (`parent.child` for nested containers), which also names the state
    /// file.
    pub fn container_id(&self) -> Result<String, CallError> {
        let value = self.parsed("container_id").ok_or_else(|| {
            CallError::new(ErrorKind::BadInput, "the input has no valid container_id")
        })?;
        container_id_string(&value)
    }
}

/// `stringify(ContainerID)` of Mesos: the parent chain joined with dots.
pub fn container_id_string(value: &Value) -> Result<String, CallError> {
    let mut parts = Vec::new();
    let mut current = Some(value);
    while let Some(id) = current {
        let part = id.get("value").and_then(Value::as_str).ok_or_else(|| {
            CallError::new(
                ErrorKind::BadInput,
                "a container_id has no string \"value\"",
            )
        })?;
        if part.is_empty() || part.contains('/') || part == "." || part == ".." {
            return Err(CallError::new(
                ErrorKind::BadInput,
                format!("container id \"{part}\" is not usable as a file name"),
            ));
        }
        parts.push(part);
        if parts.len() > 64 {
            return Err(CallError::new(
                ErrorKind::BadInput,
                "a container_id nests more than 64 parents",
            ));
        }
        current = id.get("parent");
    }
    parts.reverse();
    Ok(parts.join("."))
}

/// Reads a nested member by path, e.g. `["task_info", "labels", "labels"]`.
pub fn at_path<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_become_sorted_members_and_absent_ones_are_omitted() {
        let input = Input::from_arguments(
            Method::HookSlavePreLaunchDockerTaskExecutorDecorator,
            vec![
                String::new(),
                r#"{"executor_id":{"value":"e"}}"#.into(),
                r#""mesos-1""#.into(),
                r#""/w""#.into(),
                r#""/mnt/mesos/sandbox""#.into(),
                String::new(),
            ],
        )
        .unwrap();
        assert_eq!(
            input.document(),
            r#"{"container_name":"mesos-1","container_work_directory":"/w","executor_info":{"executor_id":{"value":"e"}},"mapped_sandbox_directory":"/mnt/mesos/sandbox"}"#
        );
    }

    #[test]
    fn the_argument_count_is_checked() {
        let e = Input::from_arguments(Method::IsolatorPrepare, vec!["{}".into()]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
    }

    #[test]
    fn container_ids_are_stringified_like_mesos() {
        let nested = json!({"parent": {"value": "p"}, "value": "c"});
        assert_eq!(container_id_string(&nested).unwrap(), "p.c");
        assert_eq!(container_id_string(&json!({"value": "x"})).unwrap(), "x");
        assert!(container_id_string(&json!({"value": "../x"})).is_err());
        assert!(container_id_string(&json!({})).is_err());
    }

    #[test]
    fn documents_round_trip() {
        let input = Input::from_document(r#"{"pid": 12, "container_id": {"value": "a"}}"#).unwrap();
        assert_eq!(
            input.document(),
            r#"{"container_id":{"value":"a"},"pid":12}"#
        );
        let odd = Input::from_document(r#"{"a \"b\"": 1}"#).unwrap();
        assert_eq!(odd.document(), r#"{"a \"b\"":1}"#);
        assert_eq!(input.container_id().unwrap(), "a");
        assert!(Input::from_document("[1]").is_err());
    }
}
