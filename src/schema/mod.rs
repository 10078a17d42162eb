//! Checks a command's JSON output the way the agent will parse it.
//!
//! The C++ shim turns a command's output into a Mesos type with stout's
//! `protobuf::parse<T>` (Mesos 1.11.0). Running the same verdict in Rust
//! first lets the core report bad output with the agent's own words, and
//! lets the offline command-line tool, where no Mesos exists, tell a script
//! author whether the agent would accept the output. So this module follows
//! stout rule for rule rather than protobuf's canonical JSON mapping:
//!
//! * keys are proto field names, matched exactly; unknown keys are ignored;
//!   `null` leaves a field unset;
//! * a non-array value for a repeated field is one element, and arrays
//!   nested in a repeated field's array are flattened;
//! * strings are accepted for numbers if they parse as a JSON number
//!   (`"Infinity"`/`"-Infinity"` too for double/float), for booleans if they
//!   parse as `true`/`false`, for bytes if they are base64 as stout decodes
//!   it; any JSON number is accepted for any numeric field (no range check,
//!   as stout `static_cast`s);
//! * an unknown enum name fails only a required field;
//! * map fields are objects whose values are parsed as the value type;
//! * required fields are checked after parsing, over the whole message, and
//!   reported in protobuf's `FindInitializationErrors` order and format.
//!
//! What is checked is only what `protobuf::parse<T>` checks. What Mesos does
//! with the message afterwards (e.g. `Resources` dropping invalid entries,
//! the containerizer refusing `rootfs` in a launch info) is the caller's
//! business.
//!
//! [`kept()`] gives the other half of the verdict for a value stout
//! accepts: what the parsed message holds, and what stout left out of it
//! (unknown keys, `null`s, unknown enum names, cleared `oneof` members).
//!
//! The types are described by a static table (`table.rs`) generated from the
//! Mesos 1.11.0 .proto files and interpreted by one generic validator
//! (`validate.rs`). JSON text is read by a reader that reproduces stout's
//! picojson-based `JSON::parse` (`json.rs`).
//!
//! Hostile input is bounded: nesting deeper than stout's limit of 200 is
//! rejected before any recursion, arrays are walked without recursion, and
//! every walk is linear in the input apart from sorting object keys.
//!
//! Verdicts and messages were compared, outside this repository, against a
//! program built from stout's own headers and protoc-generated Mesos types
//! on tens of thousands of mutated documents and JSON fragments, with no
//! difference; the tests pin the cases that matter.
//!
//! Everything here is pure and thread-safe.

mod desc;
mod error;
mod json;
mod kept;
mod table;
mod validate;

pub use error::{JsonType, SchemaError};
pub use kept::Ignored;

use serde_json::Value;

/// The top-level types a command may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Schema {
    /// `mesos::Labels`: `{"labels":[...]}`.
    Labels,
    /// `mesos::Environment`: `{"variables":[...]}`.
    Environment,
    /// `mesos::Resources`: a JSON array of `Resource`, parsed as stout's
    /// `protobuf::parse<RepeatedPtrField<Resource>>`.
    Resources,
    /// `mesos::Attributes`: a JSON array of `Attribute`.
    Attributes,
    /// `mesos::TaskStatus` (`task_id` and `state` are required).
    TaskStatus,
    /// `mesos::DockerTaskExecutorPrepareInfo` (camelCase keys).
    DockerTaskExecutorPrepareInfo,
    /// `mesos::slave::ContainerLaunchInfo`.
    ContainerLaunchInfo,
    /// `mesos::slave::ContainerLimitation`.
    ContainerLimitation,
    /// `mesos::ResourceStatistics` (`timestamp` is required).
    ResourceStatistics,
    /// `mesos::ContainerStatus`.
    ContainerStatus,
    /// `mesos::slave::ContainerConfig`, to check checkpointed isolator state.
    ContainerConfig,
    /// A single `mesos::Resource`.
    Resource,
    /// `mesos::Value::Scalar`, e.g. each value of update's `resource_limits`.
    ValueScalar,
    /// A JSON array of `mesos::slave::QoSCorrection`.
    QoSCorrections,
}

/// Whether a schema is one message or a list of them.
enum Shape {
    Message(&'static desc::Message),
    List(&'static desc::Message),
}

impl Schema {
    /// Every schema.
    pub const ALL: [Schema; 14] = [
        Schema::Labels,
        Schema::Environment,
        Schema::Resources,
        Schema::Attributes,
        Schema::TaskStatus,
        Schema::DockerTaskExecutorPrepareInfo,
        Schema::ContainerLaunchInfo,
        Schema::ContainerLimitation,
        Schema::ResourceStatistics,
        Schema::ContainerStatus,
        Schema::ContainerConfig,
        Schema::Resource,
        Schema::ValueScalar,
        Schema::QoSCorrections,
    ];

    /// The full protobuf name of the type, with `[]` for a list, for
    /// messages such as "expected mesos.Labels".
    pub fn type_name(self) -> &'static str {
        match self {
            Schema::Resources => "mesos.Resource[]",
            Schema::Attributes => "mesos.Attribute[]",
            Schema::QoSCorrections => "mesos.slave.QoSCorrection[]",
            other => match other.shape() {
                Shape::Message(desc) | Shape::List(desc) => desc.name,
            },
        }
    }

    fn shape(self) -> Shape {
        use Shape::{List, Message};
        match self {
            Schema::Labels => Message(&table::LABELS),
            Schema::Environment => Message(&table::ENVIRONMENT),
            Schema::Resources => List(&table::RESOURCE),
            Schema::Attributes => List(&table::ATTRIBUTE),
            Schema::TaskStatus => Message(&table::TASK_STATUS),
            Schema::DockerTaskExecutorPrepareInfo => {
                Message(&table::DOCKER_TASK_EXECUTOR_PREPARE_INFO)
            }
            Schema::ContainerLaunchInfo => Message(&table::SLAVE_CONTAINER_LAUNCH_INFO),
            Schema::ContainerLimitation => Message(&table::SLAVE_CONTAINER_LIMITATION),
            Schema::ResourceStatistics => Message(&table::RESOURCE_STATISTICS),
            Schema::ContainerStatus => Message(&table::CONTAINER_STATUS),
            Schema::ContainerConfig => Message(&table::SLAVE_CONTAINER_CONFIG),
            Schema::Resource => Message(&table::RESOURCE),
            Schema::ValueScalar => Message(&table::VALUE_SCALAR),
            Schema::QoSCorrections => List(&table::SLAVE_QOS_CORRECTION),
        }
    }
}

/// Checks `value` as stout's `protobuf::parse<T>` would, `T` being the type
/// `schema` names: `Ok` exactly when stout would accept it, otherwise
/// stout's error.
///
/// A value nested more than 200 levels deep is rejected with
/// [`SchemaError::TooDeep`]: stout's JSON parser could not have produced it.
///
/// The verdict is stout's for this value. If the value came from another
/// JSON parser (e.g. `serde_json::from_str`), the text may still differ from
/// what stout reads (leading zeros, duplicate keys, nesting limits): use
/// [`parse_and_validate`] when the input is text.
pub fn validate(schema: Schema, value: &Value) -> Result<(), SchemaError> {
    validate::check_depth(value)?;
    match schema.shape() {
        Shape::Message(desc) => validate::message(desc, value),
        Shape::List(desc) => validate::message_list(desc, value),
    }
}

/// What stout's `protobuf::parse<T>` keeps of `value`, which must have
/// passed [`validate()`] for `schema`: the value without the parts the
/// parsed message does not hold (keys that name no field, `null`s, enum
/// names the type lacks, `oneof` members a later one clears), and those
/// parts, each with its path. Kept values keep their JSON spelling.
pub fn kept(schema: Schema, value: &Value) -> (Value, Vec<Ignored>) {
    match schema.shape() {
        Shape::Message(desc) => kept::message(desc, value),
        Shape::List(desc) => kept::message_list(desc, value),
    }
}

/// Parses `text` as stout's `JSON::parse` would (picojson's rules, nesting
/// limit, trailing-garbage check), then checks it with [`validate()`]; returns the value.
///
/// Empty or whitespace-only text is malformed, as for stout; callers that
/// treat empty output as "no answer" must check before calling.
pub fn parse_and_validate(schema: Schema, text: &str) -> Result<Value, SchemaError> {
    let value = parse_json(text)?;
    validate(schema, &value)?;
    Ok(value)
}

/// Parses `text` as stout's `JSON::parse` would, without a schema: for
/// callers that unwrap or split a document before validating its parts
/// (e.g. per-entry `Value.Scalar` maps).
///
/// Duplicate keys keep the last value, as in stout.
pub fn parse_json(text: &str) -> Result<Value, SchemaError> {
    json::parse(text.as_bytes()).map_err(|error| {
        let (line, column) = json::line_column(text.as_bytes(), error.offset);
        SchemaError::MalformedJson {
            message: error.message,
            line,
            column,
        }
    })
}
