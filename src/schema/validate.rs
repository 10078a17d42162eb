//! The generic validator: one walk that mirrors stout's `protobuf::parse<T>`
//! over the type table, then one that mirrors protobuf's `IsInitialized` /
//! `FindInitializationErrors` on the message that parse would have built.
//!
//! No message is built: the JSON itself says which fields would be set, so
//! the second walk reads presence straight from it. What decides the verdict
//! and the message, and is therefore reproduced here:
//! * stout visits an object's keys in sorted (bytewise) order, because its
//!   `JSON::Object` is a `std::map`, and stops at the first error;
//! * missing required fields are only checked once the whole parse
//!   succeeded, over the whole message;
//! * in a `oneof`, setting a member clears the one set before, so only the
//!   member with the greatest key can still be set;
//! * a map is a repeated entry message: its error paths index the entries
//!   (`limits[0].value.value`), but `IsInitialized` checks the map itself,
//!   where a later entry for the same key replaces an earlier one.
//!
//! Recursion follows JSON object nesting only; [`check_depth`] bounds it to
//! stout's 200 levels first, and arrays are flattened without recursion, so
//! hostile input cannot exhaust the stack. All walks are linear in the input
//! (plus sorting each object's keys).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::desc::{Field, Kind, Label, Message};
use super::error::{JsonType, SchemaError};
use super::json;

/// Rejects values nested deeper than stout's JSON parser allows. Iterative,
/// so it is safe on any value.
pub(crate) fn check_depth(value: &Value) -> Result<(), SchemaError> {
    // Each value with its nesting level: the outermost container is 1.
    let mut stack = vec![(value, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if !(value.is_array() || value.is_object()) {
            continue;
        }
        if depth > json::MAX_DEPTH {
            return Err(SchemaError::TooDeep {
                limit: json::MAX_DEPTH,
            });
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// `protobuf::parse<T>(value)` for a message type `T`.
pub(crate) fn message(desc: &'static Message, value: &Value) -> Result<(), SchemaError> {
    let Value::Object(object) = value else {
        return Err(SchemaError::ExpectingObject);
    };
    parse_message(desc, object)?;
    let mut prefix = String::new();
    let mut missing = Vec::new();
    if initialized(desc, object, &mut prefix, &mut missing) {
        Ok(())
    } else {
        Err(SchemaError::MissingRequiredFields { paths: missing })
    }
}

/// `protobuf::parse<RepeatedPtrField<T>>(value)`: an array whose elements
/// are each parsed (and checked for required fields) as `T`, in order.
pub(crate) fn message_list(desc: &'static Message, value: &Value) -> Result<(), SchemaError> {
    let Value::Array(items) = value else {
        return Err(SchemaError::ExpectingArray);
    };
    items.iter().try_for_each(|item| message(desc, item))
}

/// An object's entries in stout's visiting order. serde_json's map is
/// already sorted unless its `preserve_order` feature is on somewhere in
/// the build, so sort only when needed.
fn sorted_entries(object: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = object.iter().collect();
    if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    entries
}

/// The leaves of a value given for a repeated field. stout treats an array
/// element that is itself an array as more elements of the same field, and
/// a non-array value as a single element. Leaves include `null`s, which add
/// nothing.
struct Leaves<'a> {
    single: Option<&'a Value>,
    stack: Vec<std::slice::Iter<'a, Value>>,
}

impl<'a> Leaves<'a> {
    fn new(value: &'a Value) -> Self {
        match value {
            Value::Array(items) => Leaves {
                single: None,
                stack: vec![items.iter()],
            },
            other => Leaves {
                single: Some(other),
                stack: Vec::new(),
            },
        }
    }
}

impl<'a> Iterator for Leaves<'a> {
    type Item = &'a Value;

    fn next(&mut self) -> Option<&'a Value> {
        if let Some(value) = self.single.take() {
            return Some(value);
        }
        loop {
            match self.stack.last_mut()?.next() {
                None => {
                    self.stack.pop();
                }
                Some(Value::Array(items)) => self.stack.push(items.iter()),
                Some(leaf) => return Some(leaf),
            }
        }
    }
}

fn unexpected(found: JsonType, field: &Field) -> SchemaError {
    SchemaError::UnexpectedType {
        found,
        field: field.name,
    }
}

/// stout's `internal::parse(message, object)`: unknown keys are skipped.
fn parse_message(desc: &'static Message, object: &Map<String, Value>) -> Result<(), SchemaError> {
    for (key, value) in sorted_entries(object) {
        if let Some(field) = desc.find(key) {
            parse_field(field, value)?;
        }
    }
    Ok(())
}

/// stout's `Parser` applied to one JSON value for `field`.
fn parse_field(field: &Field, value: &Value) -> Result<(), SchemaError> {
    if let Value::Array(_) = value {
        if !field.label.is_repeated() {
            return Err(unexpected(JsonType::Array, field));
        }
        Leaves::new(value).try_for_each(|leaf| parse_leaf(field, leaf))
    } else {
        parse_leaf(field, value)
    }
}

/// One non-array value for `field` (an array only if called from outside
/// [`Leaves`], in which case it is handled as one).
fn parse_leaf(field: &Field, value: &Value) -> Result<(), SchemaError> {
    // A map field is a repeated message field to stout: only objects (and
    // arrays of them) are accepted.
    if let Label::Map(key_kind) = field.label {
        return match value {
            Value::Object(object) => parse_map(key_kind, field.kind, object),
            other => parse_non_message(field, Kind::Message(&MAP_ENTRY), other),
        };
    }
    match (value, field.kind) {
        (Value::Object(object), Kind::Message(desc)) => parse_message(desc, object),
        (other, kind) => parse_non_message(field, kind, other),
    }
}

/// A stand-in for a map's entry type: to stout a map field is a repeated
/// message field, so a string, number or boolean for it is reported as
/// for any message field.
static MAP_ENTRY: Message = Message {
    name: "",
    fields: &[],
    required: &[],
    by_name: &[],
};

/// Every case of stout's `Parser` but object-to-message.
fn parse_non_message(field: &Field, kind: Kind, value: &Value) -> Result<(), SchemaError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(_) => parse_field(field, value),
        Value::Object(_) => Err(unexpected(JsonType::Object, field)),
        Value::String(text) => parse_string(field, kind, text),
        Value::Number(_) if kind.is_numeric() => Ok(()),
        Value::Number(_) => Err(unexpected(JsonType::Number, field)),
        Value::Bool(_) if matches!(kind, Kind::Bool) => Ok(()),
        Value::Bool(_) => Err(unexpected(JsonType::Boolean, field)),
    }
}

/// A JSON string for `field`: the coercions of stout's `Parser(String)`.
fn parse_string(field: &Field, kind: Kind, text: &str) -> Result<(), SchemaError> {
    match kind {
        Kind::String => Ok(()),
        Kind::Bytes => base64_check(text).map_err(|reason| SchemaError::InvalidBase64 {
            field: field.name,
            reason,
        }),
        Kind::Enum(desc) => {
            // An unknown name only matters on a required field: elsewhere
            // stout drops it and the field stays unset (proto2 behaviour).
            if desc.has(text) || !matches!(field.label, Label::Required) {
                Ok(())
            } else {
                Err(SchemaError::UnknownEnum {
                    name: text.to_owned(),
                })
            }
        }
        Kind::Double if text == "Infinity" || text == "-Infinity" => Ok(()),
        Kind::Double | Kind::Int32 | Kind::Int64 | Kind::UInt32 | Kind::UInt64 => {
            // stout re-parses the string as a JSON document which must be a
            // number; the value itself is `static_cast`, never range-checked.
            match json::parse(text.as_bytes()) {
                Ok(Value::Number(_)) => Ok(()),
                other => Err(SchemaError::InvalidNumber {
                    text: text.to_owned(),
                    field: field.name,
                    reason: reparse_reason(other),
                }),
            }
        }
        Kind::Bool => match json::parse(text.as_bytes()) {
            Ok(Value::Bool(_)) => Ok(()),
            other => Err(SchemaError::InvalidBoolean {
                text: text.to_owned(),
                field: field.name,
                reason: reparse_reason(other),
            }),
        },
        Kind::Message(_) => Err(unexpected(JsonType::String, field)),
    }
}

/// stout's `JSON::parse<T>` error: the parse error, or a wrong JSON type.
fn reparse_reason(result: Result<Value, json::JsonError>) -> String {
    match result {
        Err(error) => error.message,
        Ok(_) => "Unexpected JSON type parsed".to_owned(),
    }
}

/// stout's `base64::decode` with the standard alphabet, which only fails on
/// a character outside it: decoding stops at the first `=` (whatever
/// follows), whitespace is skipped, and a short final group is accepted.
fn base64_check(text: &str) -> Result<(), String> {
    for &b in text.as_bytes() {
        match b {
            b'=' => break,
            // C's isspace in the "C" locale.
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => {}
            b if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' => {}
            // stout prints the offending byte itself; a lone byte of a
            // multi-byte character is not text, so it shows as U+FFFD.
            b => {
                let shown = if b.is_ascii() {
                    char::from(b)
                } else {
                    char::REPLACEMENT_CHARACTER
                };
                return Err(format!("Invalid character '{shown}'"));
            }
        }
    }
    Ok(())
}

/// The entry fields stout parses a map's keys and values into.
fn entry_field(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        label: Label::Optional,
        kind,
        oneof: None,
    }
}

/// One JSON object given for a map field: each key is parsed as the key
/// kind, then each value as the value kind, key by key.
fn parse_map(
    key_kind: Kind,
    value_kind: Kind,
    object: &Map<String, Value>,
) -> Result<(), SchemaError> {
    let key_field = entry_field("key", key_kind);
    let value_field = entry_field("value", value_kind);
    for (key, value) in sorted_entries(object) {
        parse_string(&key_field, key_kind, key)?;
        parse_field(&value_field, value)?;
    }
    Ok(())
}

/// Whether stout's parse of `value` for `field` sets it (its has-bit):
/// `null` does not, nor does an unknown name on a non-required enum.
pub(super) fn sets_field(field: &Field, value: &Value) -> bool {
    match (value, field.kind) {
        (Value::Null, _) => false,
        (Value::String(name), Kind::Enum(desc)) => desc.has(name),
        _ => true,
    }
}

/// Whether `field`, a member of a oneof, is the one left set: stout sets
/// members in key order and each set clears the previous member.
pub(super) fn oneof_survivor(desc: &Message, object: &Map<String, Value>, field: &Field) -> bool {
    let winner = desc
        .fields
        .iter()
        .filter(|f| f.oneof.is_some() && f.oneof == field.oneof)
        .filter(|f| object.get(f.name).is_some_and(|v| sets_field(f, v)))
        .max_by(|a, b| a.name.cmp(b.name));
    winner.is_some_and(|w| std::ptr::eq(w, field))
}

/// protobuf's `IsInitialized` (returned) and `FindInitializationErrors`
/// (appended to `missing`, each path prefixed by `prefix`) for the message
/// stout builds from `object`, which already parsed without error.
fn initialized(
    desc: &'static Message,
    object: &Map<String, Value>,
    prefix: &mut String,
    missing: &mut Vec<String>,
) -> bool {
    let mut ok = true;
    // This message's own required fields, in declaration order. A required
    // field is never repeated, in a oneof or an optional enum, so any
    // non-null value that parsed sets it.
    for field in desc.required_fields() {
        if object.get(field.name).is_none_or(Value::is_null) {
            missing.push(format!("{prefix}{}", field.name));
            ok = false;
        }
    }
    // Then the set message fields, in field-number order (`ListFields`).
    for field in desc.fields {
        let Kind::Message(sub) = field.kind else {
            continue;
        };
        let Some(value) = object.get(field.name).filter(|v| !v.is_null()) else {
            continue;
        };
        if field.oneof.is_some() && !oneof_survivor(desc, object, field) {
            continue;
        }
        let mark = prefix.len();
        match field.label {
            Label::Optional | Label::Required => {
                if let Value::Object(child) = value {
                    prefix.push_str(field.name);
                    prefix.push('.');
                    ok &= initialized(sub, child, prefix, missing);
                    prefix.truncate(mark);
                }
            }
            Label::Repeated => {
                let elements = Leaves::new(value).filter_map(Value::as_object);
                for (index, child) in elements.enumerate() {
                    prefix.push_str(&format!("{}[{index}].", field.name));
                    ok &= initialized(sub, child, prefix, missing);
                    prefix.truncate(mark);
                }
            }
            Label::Map(_) => ok &= map_initialized(field, sub, value, prefix, missing),
        }
    }
    ok
}

/// A message-valued map field. Entries are numbered as stout appends them
/// (object by object, keys in order) and each set value is searched for
/// missing fields under `name[i].value.`; but whether the map is initialized
/// depends only on the value finally kept for each key. A `null` value adds
/// an entry without a value: the map then holds a default instance, which is
/// uninitialized if the type has required fields, and protobuf names no path
/// for it.
fn map_initialized(
    field: &Field,
    sub: &'static Message,
    value: &Value,
    prefix: &mut String,
    missing: &mut Vec<String>,
) -> bool {
    let mark = prefix.len();
    let mut kept: BTreeMap<&str, bool> = BTreeMap::new();
    let mut index = 0usize;
    for object in Leaves::new(value).filter_map(Value::as_object) {
        for (key, entry_value) in sorted_entries(object) {
            let entry_ok = match entry_value {
                Value::Object(child) => {
                    prefix.push_str(&format!("{}[{index}].value.", field.name));
                    let ok = initialized(sub, child, prefix, missing);
                    prefix.truncate(mark);
                    ok
                }
                _ => sub.required.is_empty(),
            };
            kept.insert(key.as_str(), entry_ok);
            index += 1;
        }
    }
    kept.values().all(|&ok| ok)
}
