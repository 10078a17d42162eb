//! What stout's `protobuf::parse<T>` keeps of a value it accepts.
//!
//! The shim parses a command's answer with stout, which sets a field for
//! every key it knows and leaves the rest out of the message Mesos gets:
//! keys that name no field, `null`s, enum names the type does not have (on
//! optional and repeated fields; on a required one the parse fails), and
//! members of a `oneof` that a later member (in key order) clears. This walk
//! follows [`super::validate`]'s, on a value that already passed it, and
//! returns the value without those parts, each named with its path, so that
//! the command-line tool shows what the agent would really act on.
//!
//! Values that are kept keep their JSON spelling: stout converts `"2"` for
//! a number field, and a single value for a repeated field, as it parses;
//! they are not rewritten here.
//!
//! Recursion follows the value's nesting, which [`super::validate`] bounds
//! to stout's 200 levels.

use std::fmt;

use serde_json::{Map, Value};

use super::desc::{Field, Kind, Label, Message};
use super::validate::{oneof_survivor, sets_field};

/// A part of an accepted value that the parsed message does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    /// Where it is: `labels[0].extra`, `reason`, `[1].kill.extra`.
    pub path: String,
    /// Why stout leaves it out.
    pub why: String,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.why)
    }
}

/// Collects what is left out, with the path of the value being walked.
struct Walk {
    path: String,
    ignored: Vec<Ignored>,
}

impl Walk {
    fn ignore(&mut self, suffix: &str, why: String) {
        self.ignored.push(Ignored {
            path: format!("{}{suffix}", self.path),
            why,
        });
    }

    /// Runs `f` with `suffix` appended to the path.
    fn under<T>(&mut self, suffix: &str, f: impl FnOnce(&mut Walk) -> T) -> T {
        let mark = self.path.len();
        self.path.push_str(suffix);
        let out = f(self);
        self.path.truncate(mark);
        out
    }
}

/// `value` as parsed for the message type `desc`, and what was left out.
pub(crate) fn message(desc: &'static Message, value: &Value) -> (Value, Vec<Ignored>) {
    let mut walk = Walk {
        path: String::new(),
        ignored: Vec::new(),
    };
    let kept = kept_message(desc, value, &mut walk);
    (kept, walk.ignored)
}

/// The same for a list of messages (`Resources`, `Attributes`, QoS
/// corrections): each element is one message, its paths start `[i]`.
pub(crate) fn message_list(desc: &'static Message, value: &Value) -> (Value, Vec<Ignored>) {
    let mut walk = Walk {
        path: String::new(),
        ignored: Vec::new(),
    };
    let kept = match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| walk.under(&format!("[{i}]"), |w| kept_message(desc, item, w)))
                .collect(),
        ),
        other => other.clone(),
    };
    (kept, walk.ignored)
}

fn kept_message(desc: &'static Message, value: &Value, walk: &mut Walk) -> Value {
    let Value::Object(object) = value else {
        return value.clone();
    };
    let separator = if walk.path.is_empty() { "" } else { "." };
    let mut kept = Map::new();
    for (key, value) in object {
        let suffix = format!("{separator}{key}");
        let Some(field) = desc.find(key) else {
            walk.ignore(&suffix, format!("not a field of {}", desc.name));
            continue;
        };
        if value.is_null() {
            walk.ignore(&suffix, "null, which leaves the field unset".to_string());
            continue;
        }
        if field.oneof.is_some() && sets_field(field, value) && !oneof_survivor(desc, object, field)
        {
            walk.ignore(
                &suffix,
                format!(
                    "cleared by another member of its oneof in {}, which stout sets after it \
                     (keys are parsed in sorted order)",
                    desc.name
                ),
            );
            continue;
        }
        let value = walk.under(&suffix, |w| kept_field(field, value, w));
        if let Some(value) = value {
            kept.insert(key.clone(), value);
        }
    }
    Value::Object(kept)
}

/// The value of `field` as kept, `None` when nothing of it is set.
fn kept_field(field: &Field, value: &Value, walk: &mut Walk) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) => {
            let mut kept = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let suffix = format!("[{i}]");
                if item.is_null() {
                    walk.ignore(&suffix, "null, which adds no element".to_string());
                    continue;
                }
                if let Some(item) = walk.under(&suffix, |w| kept_field(field, item, w)) {
                    kept.push(item);
                }
            }
            Some(Value::Array(kept))
        }
        Value::Object(object) => match (field.label, field.kind) {
            (Label::Map(_), Kind::Message(desc)) => {
                let mut kept = Map::new();
                for (key, entry) in object {
                    let entry = match entry {
                        Value::Object(_) => {
                            walk.under(&format!(".{key}"), |w| kept_message(desc, entry, w))
                        }
                        other => other.clone(),
                    };
                    kept.insert(key.clone(), entry);
                }
                Some(Value::Object(kept))
            }
            (_, Kind::Message(desc)) => Some(kept_message(desc, value, walk)),
            _ => Some(value.clone()),
        },
        Value::String(name) => match field.kind {
            Kind::Enum(desc) if !desc.has(name) => {
                walk.ignore("", format!("\"{name}\" is not a value of {}", desc.name));
                None
            }
            _ => Some(value.clone()),
        },
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::schema::{kept, validate, Schema};

    fn paths(schema: Schema, value: &serde_json::Value) -> (serde_json::Value, Vec<String>) {
        validate(schema, value).expect("stout accepts it");
        let (kept, ignored) = kept(schema, value);
        (kept, ignored.iter().map(|i| i.path.clone()).collect())
    }

    #[test]
    fn unknown_members_and_nulls_are_left_out_with_their_paths() {
        let value = json!({"labels": [{"key": "a", "value": "b", "extra": 1}, null], "more": 2,
                           "x": null});
        let (value, ignored) = paths(Schema::Labels, &value);
        assert_eq!(value, json!({"labels": [{"key": "a", "value": "b"}]}));
        assert_eq!(ignored, ["labels[0].extra", "labels[1]", "more", "x"]);
    }

    #[test]
    fn snake_case_keys_of_the_docker_hook_answer_are_not_its_fields() {
        let value = json!({"executor_environment": {"variables": [{"name": "A", "value": "1"}]},
                           "taskEnvironment": {"variables": [{"name": "B", "value": "2"}]}});
        let (value, ignored) = paths(Schema::DockerTaskExecutorPrepareInfo, &value);
        assert_eq!(
            value,
            json!({"taskEnvironment": {"variables": [{"name": "B", "value": "2"}]}})
        );
        assert_eq!(ignored, ["executor_environment"]);
    }

    #[test]
    fn unknown_enum_names_of_optional_and_repeated_fields_are_left_out() {
        let value = json!({"message": "m", "reason": "REASON_BOGUS"});
        let (value, ignored) = paths(Schema::ContainerLimitation, &value);
        assert_eq!(value, json!({"message": "m"}));
        assert_eq!(ignored, ["reason"]);
        let (_, all) = kept(Schema::ContainerLimitation, &json!({"reason": "NOPE"}));
        assert!(
            all[0]
                .why
                .contains("\"NOPE\" is not a value of mesos.TaskStatus.Reason"),
            "{}",
            all[0]
        );
    }

    #[test]
    fn lists_and_maps_are_walked_and_spelling_is_kept() {
        let value = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": "2", "x": 1}}]);
        let (value, ignored) = paths(Schema::Resources, &value);
        assert_eq!(
            value,
            json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": "2"}}])
        );
        assert_eq!(ignored, ["[0].scalar.x"]);
        let config = json!({"command_info": {"value": "x"}, "directory": "/d",
                            "limits": {"cpus": {"value": 1, "y": 2}}});
        let (_, ignored) = kept(Schema::ContainerConfig, &config);
        let ignored: Vec<&str> = ignored.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(ignored, ["limits.cpus.y"]);
    }

    #[test]
    fn a_value_with_nothing_to_leave_out_is_kept_whole() {
        let value = json!({"labels": [{"key": "a", "value": "b"}]});
        let (kept_value, ignored) = paths(Schema::Labels, &value);
        assert_eq!(kept_value, value);
        assert!(ignored.is_empty());
    }
}
