//! Why a command's JSON would not parse as the expected Mesos type.
//!
//! Every variant but [`SchemaError::MalformedJson`] and
//! [`SchemaError::TooDeep`] displays exactly the text stout's
//! `protobuf::parse<T>` returns for the same input, so the command-line tool
//! shows operators what the agent would log. Like stout, errors inside nested
//! messages name only the innermost field, without a path.

use std::fmt;

/// The JSON type of a value that a field does not accept, in stout's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonType {
    Object,
    String,
    Number,
    Boolean,
    Array,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Object => "object",
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
        })
    }
}

/// A verdict of "stout would reject this", with stout's reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON that stout's `JSON::parse` accepts. `message` is
    /// stout's own text (e.g. `syntax error at line 1 near: x`); `line` and
    /// `column` (1-based, column in characters) locate the byte where the
    /// parse stopped, which stout's message lacks.
    #[error("Malformed JSON: {message} (at line {line}, column {column})")]
    MalformedJson {
        message: String,
        line: usize,
        column: usize,
    },
    /// A [`serde_json::Value`] handed to [`super::validate()`] nests more
    /// arrays/objects than stout's JSON parser allows, so no text stout
    /// accepts could have produced it.
    #[error("JSON nesting is deeper than {limit} levels")]
    TooDeep { limit: usize },
    /// A message was expected and the value is not an object.
    #[error("Expecting a JSON object")]
    ExpectingObject,
    /// A list of messages (`Resources`, `Attributes`) was expected and the
    /// value is not an array.
    #[error("Expecting a JSON array")]
    ExpectingArray,
    /// Required fields are unset after parsing; `paths` are protobuf's
    /// `FindInitializationErrors` paths (`labels[0].key`), in its order. The
    /// list can be empty: a map value given as `null` leaves a required field
    /// unset that protobuf does not name.
    #[error("Missing required fields: {}", .paths.join(", "))]
    MissingRequiredFields { paths: Vec<String> },
    /// The field does not accept this JSON type.
    #[error("Not expecting a JSON {found} for field '{field}'")]
    UnexpectedType {
        found: JsonType,
        field: &'static str,
    },
    /// An unknown name for a `required` enum field (unknown names on other
    /// enum fields are dropped, not rejected).
    #[error("Failed to find enum for '{name}'")]
    UnknownEnum { name: String },
    /// A string given for a numeric field is not a JSON number; `reason` is
    /// stout's JSON parse error or "Unexpected JSON type parsed".
    #[error("Failed to parse '{text}' as a JSON number for field '{field}': {reason}")]
    InvalidNumber {
        text: String,
        field: &'static str,
        reason: String,
    },
    /// A string given for a boolean field is not `true`/`false` JSON.
    #[error("Failed to parse '{text}' as a JSON boolean for field '{field}': {reason}")]
    InvalidBoolean {
        text: String,
        field: &'static str,
        reason: String,
    },
    /// A string given for a `bytes` field holds a character outside the
    /// base64 alphabet (before any `=`).
    #[error("Failed to base64 decode bytes field '{field}': {reason}")]
    InvalidBase64 { field: &'static str, reason: String },
}

impl SchemaError {
    /// The text stout itself would return: the message without our
    /// `Malformed JSON:` prefix and position suffix. For
    /// [`SchemaError::TooDeep`] stout has no equivalent (it would report a
    /// syntax error on the text), so the display text is returned.
    pub fn stout_message(&self) -> String {
        match self {
            SchemaError::MalformedJson { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}
