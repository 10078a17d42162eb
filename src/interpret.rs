//! Turns a command's output into the method's answer, following its
//! [`Contract`]: parse, complete what Mesos requires but scripts need not
//! write, validate as the Mesos type, refuse what would hurt the agent, and
//! merge when the operator asked for it.

use serde_json::{Map, Value};

use crate::error::{CallError, ErrorKind};
use crate::input::{at_path, Input};
use crate::method::{Contract, Merge, Method, Output};
use crate::schema::SchemaError;

/// What the output of a successful command means.
#[derive(Clone, Debug, PartialEq)]
pub enum Interpreted {
    /// The output was empty (or only white space): the contract's `on_empty`.
    Empty,
    /// The method returns `Nothing`: the output is not read.
    Ignored,
    /// A valid value of the method's type.
    Value(Value),
}

/// Interprets `output` for `contract`. `merge` is the operator's merge mode.
pub fn interpret(
    contract: &Contract,
    input: &Input,
    output: &[u8],
    merge: bool,
) -> Result<Interpreted, CallError> {
    if contract.output == Output::Nothing {
        return Ok(Interpreted::Ignored);
    }
    let text = std::str::from_utf8(output).map_err(|e| {
        bad_output(
            contract,
            format!(
                "it is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Ok(Interpreted::Empty);
    }
    // stout's own JSON rules (picojson), so that what passes here is what
    // the shim's `JSON::parse` accepts.
    let mut value =
        crate::schema::parse_json(text).map_err(|e| bad_output(contract, e.to_string()))?;

    complete(contract, input, &mut value);
    crate::schema::validate(schema_of(contract.output), &value)
        .map_err(|e| bad_output(contract, explain_list_error(contract.output, &value, e)))?;
    if contract.method == Method::IsolatorPrepare {
        check_launch_info(input, &value).map_err(|e| bad_output(contract, e))?;
    }
    if matches!(contract.output, Output::Resources | Output::Estimate) {
        check_resources(&value).map_err(|e| bad_output(contract, e))?;
    }
    if contract.output == Output::Corrections {
        check_corrections(&value).map_err(|e| bad_output(contract, e))?;
    }
    if merge {
        if let Some(spec) = contract.merge {
            merge_existing(&spec, input, &mut value);
        }
    }
    Ok(Interpreted::Value(value))
}

/// The longest problem description kept in an error message. A parse error
/// quotes the output from the error on ("syntax error ... near: ..."), and
/// the output is the command's: without a bound, a few MiB of garbage (or a
/// 10 000-deep nesting) would become a message of that size in the agent's
/// log and in the failure Mesos reports.
pub const MAX_PROBLEM_BYTES: usize = 1024;

fn bad_output(contract: &Contract, problem: String) -> CallError {
    CallError::new(
        ErrorKind::BadOutput,
        format!(
            "the output is not a valid {}: {}",
            contract.output.type_name(),
            bounded(problem)
        ),
    )
}

/// `text` cut to [`MAX_PROBLEM_BYTES`] on a character boundary.
fn bounded(mut text: String) -> String {
    if text.len() <= MAX_PROBLEM_BYTES {
        return text;
    }
    let mut end = MAX_PROBLEM_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("... [truncated]");
    text
}

/// The schema an answer of type `output` is parsed with by the shim;
/// `None` for `Nothing`, whose output is never read.
pub fn schema_for(output: Output) -> Option<crate::schema::Schema> {
    (output != Output::Nothing).then(|| schema_of(output))
}

fn schema_of(output: Output) -> crate::schema::Schema {
    use crate::schema::Schema;
    match output {
        Output::ContainerStatus => Schema::ContainerStatus,
        // Not reached: `interpret` returns before validating `Nothing`.
        Output::Nothing => Schema::ContainerStatus,
        Output::Labels => Schema::Labels,
        Output::Resources => Schema::Resources,
        Output::Attributes => Schema::Attributes,
        Output::Environment => Schema::Environment,
        Output::DockerTaskExecutorPrepareInfo => Schema::DockerTaskExecutorPrepareInfo,
        Output::TaskStatus => Schema::TaskStatus,
        Output::ContainerLaunchInfo => Schema::ContainerLaunchInfo,
        Output::ContainerLimitation => Schema::ContainerLimitation,
        Output::ResourceStatistics => Schema::ResourceStatistics,
        Output::Estimate => Schema::Resources,
        Output::Corrections => Schema::QoSCorrections,
    }
}

/// stout's verdict on an estimate or a list of corrections, made useful to
/// the script's author. stout names only the innermost field ("Missing
/// required fields: type", "Not expecting a JSON number for field
/// 'value'"), never the entry, and an answer may hold many: the first
/// entry that stout refuses on its own is named, as the module's own checks
/// name it (`resource 1 ("mem")`, `correction 0`). An answer that is not an
/// array gets what is accepted instead: a script returning `null` or a
/// wrapper object with other members would otherwise read only "Expecting
/// a JSON array". Other outputs keep stout's message as it is.
fn explain_list_error(output: Output, value: &Value, error: SchemaError) -> String {
    let member = match output {
        Output::Estimate => "resources",
        Output::Corrections => "corrections",
        _ => return error.to_string(),
    };
    let entries = match value {
        Value::Array(entries) => entries,
        Value::Null => {
            return format!("{error}: write [] or leave the output empty for an empty list")
        }
        Value::Object(_) => {
            return format!(
                "{error}: write the list as [...], or as {{\"{member}\":[...]}} with no other \
                 member"
            )
        }
        _ => return error.to_string(),
    };
    let schema = schema_of(output);
    // Each entry alone, as the one entry of a list: the same verdict stout
    // gives it in the whole list (entries are parsed one after the other).
    let refused = entries.iter().enumerate().find_map(|(i, entry)| {
        crate::schema::validate(schema, &Value::Array(vec![entry.clone()]))
            .err()
            .map(|e| (i, entry, e))
    });
    let Some((i, entry, error)) = refused else {
        return error.to_string();
    };
    match (output, &error) {
        // `type` is the one required enum of a `QoSCorrection`.
        (Output::Corrections, SchemaError::UnknownEnum { name })
            if entry.get("type").and_then(Value::as_str) == Some(name) =>
        {
            format!(
                "correction {i} has \"type\" {}: KILL is the only correction type (Mesos: \
                 \"{error}\")",
                Value::String(name.clone())
            )
        }
        (Output::Corrections, _) => format!("correction {i}: {error}"),
        _ => format!("{}: {error}", resource_label(i, entry)),
    }
}

/// How messages name entry `i` of a list of resources: `resource 1
/// ("mem")`, or `resource 1` when it has no name to show.
fn resource_label(i: usize, resource: &Value) -> String {
    match resource.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => format!("resource {i} ({name:?})"),
        _ => format!("resource {i}"),
    }
}

/// Fills in what Mesos requires but a script should not have to write.
fn complete(contract: &Contract, input: &Input, value: &mut Value) {
    match contract.output {
        // Only `labels` and `container_status` are used by Mesos; the
        // required `task_id` and `state` come from the status being
        // decorated.
        Output::TaskStatus => {
            if let (Value::Object(out), Some(status)) = (&mut *value, input.parsed("status")) {
                for field in ["task_id", "state"] {
                    if !out.contains_key(field) {
                        if let Some(v) = status.get(field) {
                            out.insert(field.to_string(), v.clone());
                        }
                    }
                }
            }
        }
        // Lists are arrays; a script may wrap them in an object.
        Output::Resources => unwrap_list(value, "resources"),
        Output::Attributes => unwrap_list(value, "attributes"),
        Output::Corrections => unwrap_list(value, "corrections"),
        // The agent aborts on an estimate that is not all revocable
        // (`slave.cpp:8583`); Mesos's own fixed estimator marks what it is
        // given revocable, and so does this.
        Output::Estimate => {
            unwrap_list(value, "resources");
            if let Value::Array(entries) = value {
                for entry in entries {
                    if let Value::Object(resource) = entry {
                        if resource.get("revocable").is_none_or(Value::is_null) {
                            resource.insert("revocable".to_string(), Value::Object(Map::new()));
                        }
                    }
                }
            }
        }
        Output::ResourceStatistics => {
            if let Value::Object(out) = value {
                if !out.contains_key("timestamp") {
                    out.insert("timestamp".to_string(), now_seconds());
                }
            }
        }
        _ => {}
    }
}

/// Replaces `{"<member>": [...]}` with the array it wraps.
fn unwrap_list(value: &mut Value, member: &str) {
    if let Value::Object(out) = value {
        if out.len() == 1 && out.get(member).is_some_and(Value::is_array) {
            if let Some(list) = out.remove(member) {
                *value = list;
            }
        }
    }
}

/// Refuses corrections the agent would only log and drop
/// (`slave.cpp:9500-9517`): a KILL must name a framework and an executor.
/// Refused here, the whole answer fails with a message naming the entry,
/// where the agent would have skipped the one entry with a WARNING
/// (`Ignoring QoS correction KILL: framework id not specified.`) that says
/// neither which entry nor which script.
fn check_corrections(corrections: &Value) -> Result<(), String> {
    let Value::Array(entries) = corrections else {
        return Ok(());
    };
    for (i, correction) in entries.iter().enumerate() {
        let kill = correction.get("kill").filter(|k| !k.is_null());
        let Some(kill) = kill else {
            return Err(format!(
                "correction {i} is a KILL without \"kill\": it must name the \"framework_id\" \
                 and \"executor_id\" of the executor to kill"
            ));
        };
        for field in ["framework_id", "executor_id"] {
            if kill.get(field).is_none_or(Value::is_null) {
                return Err(format!(
                    "correction {i} names no \"kill.{field}\": the agent kills an executor \
                     only when given its \"framework_id\" and \"executor_id\""
                ));
            }
        }
        // An empty id names nothing the agent runs: it would log and skip
        // the correction, as for a missing one.
        for field in ["framework_id", "executor_id", "container_id"] {
            let mut path = format!("kill.{field}");
            let mut id = kill.get(field).filter(|v| !v.is_null());
            while let Some(current) = id {
                if current.get("value").and_then(Value::as_str) == Some("") {
                    return Err(format!(
                        "correction {i} names an empty \"{path}.value\": no framework, \
                         executor or container of the agent has an empty id"
                    ));
                }
                path.push_str(".parent");
                id = current.get("parent").filter(|v| !v.is_null());
            }
        }
    }
    Ok(())
}

/// Refuses resources that Mesos's `Resources::validate` would refuse
/// (`resources.cpp`, Mesos 1.11.0: the shim runs it on every entry) or that
/// would make the agent misbehave: an empty name, a type whose member is
/// missing or comes with another type's member, a type other than SCALAR,
/// RANGES and SET, an amount that is negative, not finite or rounds to zero
/// at Mesos's precision of a thousandth, an inverted or overlapping range,
/// a range bound below zero (stout casts it to a huge unsigned number), a
/// set item given twice. Refused here, the call fails with a message naming
/// the entry and the field, and the method's failure meaning applies (for
/// the estimator, the estimate is withdrawn), where the shim alone would
/// only log Mesos's terse reason. Then what `Resources::validate` checks of
/// the other fields: a `disk` only on a `disk` resource and a disk source
/// of a known type without what its type forbids, reservations (see
/// [`check_reservations`]: one of them would abort the agent), `shared`
/// only on a persistent volume. The shim runs `Resources::validate` too,
/// so nothing it refuses can pass; refused here first, `call` shows what
/// the agent would do, with the field named.
fn check_resources(resources: &Value) -> Result<(), String> {
    let Value::Array(entries) = resources else {
        return Ok(());
    };
    for (i, resource) in entries.iter().enumerate() {
        let name = resource.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            return Err(format!(
                "resource {i} has an empty \"name\" (Mesos: \"Empty resource name\")"
            ));
        }
        let entry = format!("resource {i} ({name:?})");
        let kind = resource.get("type").and_then(Value::as_str).unwrap_or("");
        let has = |member: &str| resource.get(member).is_some_and(|v| !v.is_null());
        let member = match kind {
            "SCALAR" => "scalar",
            "RANGES" => "ranges",
            "SET" => "set",
            other => {
                return Err(format!(
                    "{entry} has \"type\" {other}: a resource is SCALAR, RANGES or SET \
                     (Mesos: \"Unsupported resource type\")"
                ))
            }
        };
        if !has(member) {
            return Err(format!("{entry} has \"type\" {kind} but no \"{member}\""));
        }
        if let Some(other) = ["scalar", "ranges", "set"]
            .into_iter()
            .find(|m| *m != member && has(m))
        {
            return Err(format!(
                "{entry} has \"type\" {kind} and a \"{other}\": a resource carries only \
                 the member of its type"
            ));
        }
        match kind {
            "SCALAR" => check_scalar(&entry, &resource["scalar"]["value"])?,
            "RANGES" => check_ranges(&entry, &resource["ranges"])?,
            _ => check_set(&entry, &resource["set"])?,
        }
        // In `Resources::validate`'s order.
        check_disk(&entry, name, resource)?;
        check_reservations(&entry, resource)?;
        check_shared(&entry, name, resource)?;
    }
    Ok(())
}

/// `value[key]` when it is set: stout leaves a field given `null` unset.
fn present<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// A resource's `disk`: only a `disk` resource has one, and its source has
/// a known type; a BLOCK or RAW source has neither a `mount` nor a `path`.
fn check_disk(entry: &str, name: &str, resource: &Value) -> Result<(), String> {
    let Some(disk) = present(resource, "disk") else {
        return Ok(());
    };
    if name != "disk" {
        return Err(format!(
            "{entry} has a \"disk\" (Mesos: \"DiskInfo should not be set for {name} resource\")"
        ));
    }
    let Some(source) = present(disk, "source") else {
        return Ok(());
    };
    // `type` is required: the schema has made sure it is a known name.
    match source.get("type").and_then(Value::as_str) {
        Some("UNKNOWN") => Err(format!(
            "{entry}: \"disk.source.type\" is UNKNOWN (Mesos: \"Unsupported \
             'DiskInfo.Source.Type'\")"
        )),
        Some(kind @ ("BLOCK" | "RAW")) => {
            for (field, word) in [("mount", "Mount"), ("path", "Path")] {
                if present(source, field).is_some() {
                    return Err(format!(
                        "{entry}: \"disk.source.{field}\" is set on a {kind} source (Mesos: \
                         \"{word} should not be set for {kind} disk source\")"
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A resource's reservation fields, as the shim's `Resources::fromJSON`
/// leaves them and `Resources::validate` then checks them.
///
/// `fromJSON` gives an entry with neither `role` nor `reservations` the
/// role `*`, then upgrades every entry to the post-refinement format: given
/// `reservations`, `role` and `reservation` are dropped; otherwise a role
/// other than `*` becomes the one reservation (DYNAMIC when a
/// `reservation` is given, else STATIC), and a `*` entry with a
/// `reservation` fails a `CHECK` (`convertResourceFormat`) that **aborts
/// the agent** (or the master, for its resource decorator) before any
/// validation could refuse it. What is left is validated: every
/// reservation has a type and a valid role other than `*`, each refines
/// the one before it and is not STATIC, and a single one is not of type
/// UNKNOWN.
fn check_reservations(entry: &str, resource: &Value) -> Result<(), String> {
    let reservations = leaves(resource.get("reservations"));
    if reservations.is_empty() {
        let role = present(resource, "role")
            .and_then(Value::as_str)
            .unwrap_or("*");
        if role != "*" {
            return check_role(entry, "role", role);
        }
        if present(resource, "reservation").is_some() {
            return Err(format!(
                "{entry} has a \"reservation\" on the role \"*\" (the role of an entry \
                 without \"role\"): Mesos's conversion of such an entry fails a CHECK that \
                 aborts the agent (role \"*\" cannot be reserved); give the reserved \"role\", \
                 or \"reservations\""
            ));
        }
        return Ok(());
    }
    let mut checked: Vec<(&str, &str)> = Vec::new();
    for (j, reservation) in reservations.iter().enumerate() {
        // stout leaves an optional enum given an unknown name unset.
        let kind = present(reservation, "type")
            .and_then(Value::as_str)
            .filter(|t| matches!(*t, "UNKNOWN" | "STATIC" | "DYNAMIC"));
        let Some(kind) = kind else {
            return Err(format!(
                "{entry}: \"reservations[{j}]\" has no \"type\" (STATIC or DYNAMIC) (Mesos: \
                 \"Invalid reservation: 'Resource.ReservationInfo.type' field must be set.\")"
            ));
        };
        let Some(role) = present(reservation, "role").and_then(Value::as_str) else {
            return Err(format!(
                "{entry}: \"reservations[{j}]\" has no \"role\" (Mesos: \"Invalid reservation: \
                 'Resource.ReservationInfo.role' field must be set.\")"
            ));
        };
        check_role(entry, &format!("reservations[{j}].role"), role)?;
        if role == "*" {
            return Err(format!(
                "{entry}: \"reservations[{j}].role\" is \"*\" (Mesos: \"Invalid reservation: \
                 role \\\"*\\\" cannot be reserved\")"
            ));
        }
        checked.push((kind, role));
    }
    for (j, pair) in checked.windows(2).enumerate() {
        let (ancestor, (kind, role)) = (pair[0].1, pair[1]);
        let j = j + 1;
        if kind == "STATIC" {
            return Err(format!(
                "{entry}: \"reservations[{j}]\" is STATIC: a refined reservation cannot be \
                 (Mesos: \"Invalid refined reservation: A refined reservation cannot be \
                 STATIC\")"
            ));
        }
        let refines = role.len() > ancestor.len()
            && role.starts_with(ancestor)
            && role.as_bytes()[ancestor.len()] == b'/';
        if !refines {
            return Err(format!(
                "{entry}: \"reservations[{j}].role\" {} is not a refinement of {} (Mesos: \
                 \"Invalid refined reservation: role '{role}' is not a refinement of \
                 '{ancestor}'\")",
                Value::from(role),
                Value::from(ancestor)
            ));
        }
    }
    if let [("UNKNOWN", _)] = checked.as_slice() {
        return Err(format!(
            "{entry}: \"reservations[0].type\" is UNKNOWN (Mesos: \"Unsupported \
             'Resource.ReservationInfo.Type'\")"
        ));
    }
    Ok(())
}

/// A role name as Mesos's `roles::validate` accepts it: `*`, or components
/// separated by single slashes, none of them `.`, `..` or `*`, none
/// starting with a dash or holding white space or DEL.
fn check_role(entry: &str, field: &str, role: &str) -> Result<(), String> {
    if role == "*" {
        return Ok(());
    }
    let problem = if role.starts_with('/') {
        format!("Role '{role}' cannot start with a slash")
    } else if role.ends_with('/') {
        format!("Role '{role}' cannot end with a slash")
    } else if role.contains("//") {
        format!("Role '{role}' cannot contain two adjacent slashes")
    } else if role.is_empty() {
        "Role names cannot be the empty string".to_string()
    } else if let Some(problem) = role.split('/').find_map(|component| match component {
        "." | ".." | "*" => Some(format!(
            "Role '{role}' cannot include '{component}' as a component"
        )),
        _ if component.starts_with('-') => Some(format!(
            "Role component '{component}' is invalid because it starts with a dash"
        )),
        _ if component.contains(['\t', '\n', '\x0b', '\x0c', '\r', ' ', '\x7f']) => Some(format!(
            "Role component '{component}' is invalid because it contains backspace or \
             whitespace"
        )),
        _ => None,
    }) {
        problem
    } else {
        return Ok(());
    };
    Err(format!(
        "{entry}: \"{field}\" is {}: {problem}",
        Value::from(role)
    ))
}

/// A resource's `shared`: only a persistent volume may be shared.
fn check_shared(entry: &str, name: &str, resource: &Value) -> Result<(), String> {
    if present(resource, "shared").is_none() {
        return Ok(());
    }
    if name != "disk" {
        return Err(format!(
            "{entry} has \"shared\" (Mesos: \"Resource {name} cannot be shared\")"
        ));
    }
    if present(resource, "disk")
        .and_then(|d| present(d, "persistence"))
        .is_none()
    {
        return Err(format!(
            "{entry} has \"shared\" but no \"disk.persistence\" (Mesos: \"Only persistent \
             volumes can be shared\")"
        ));
    }
    Ok(())
}

/// A resource's `scalar.value`: finite, and either 0 or at least one
/// thousandth once rounded, as Mesos compares amounts in fixed point
/// (`llround(value * 1000)`).
fn check_scalar(entry: &str, value: &Value) -> Result<(), String> {
    let Some(amount) = number(value) else {
        return Ok(());
    };
    if !amount.is_finite() {
        return Err(format!(
            "{entry}: \"scalar.value\" is {value}: an amount must be a finite number"
        ));
    }
    if amount < 0.0 {
        return Err(format!(
            "{entry}: \"scalar.value\" is {value}: an amount must not be negative (Mesos: \
             \"Invalid scalar resource: value <= 0\")"
        ));
    }
    if amount != 0.0 && (amount * 1000.0).round() <= 0.0 {
        return Err(format!(
            "{entry}: \"scalar.value\" is {value}, which Mesos rounds to 0 (amounts are kept to \
             the thousandth): write 0 or at least 0.0005 (Mesos: \"Invalid scalar resource: \
             value <= 0\")"
        ));
    }
    Ok(())
}

/// A RANGES resource's ranges: no bound below zero, none inverted, none
/// beginning inside an earlier one.
fn check_ranges(entry: &str, ranges: &Value) -> Result<(), String> {
    let mut bounds: Vec<(u64, u64)> = Vec::new();
    for (j, range) in leaves(ranges.get("range")).into_iter().enumerate() {
        let bound = |field: &str| -> Result<u64, String> {
            let written = range.get(field).unwrap_or(&Value::Null);
            match number(written) {
                Some(n) if n < 0.0 => Err(format!(
                    "{entry}: \"ranges.range[{j}].{field}\" is {written}: range bounds are \
                     unsigned numbers"
                )),
                // As stout's `static_cast` of a double; whole numbers are
                // exact up to 2^53, and beyond that only as precise as the
                // JSON number itself.
                Some(n) => Ok(written.as_u64().unwrap_or(n as u64)),
                None => Ok(0),
            }
        };
        let (begin, end) = (bound("begin")?, bound("end")?);
        if begin > end {
            return Err(format!(
                "{entry}: \"ranges.range[{j}]\" begins after it ends ({begin} > {end}) \
                 (Mesos: \"Invalid ranges resource: begin > end\")"
            ));
        }
        // Mesos's own test: an earlier range holds this one's beginning.
        if let Some(k) = bounds.iter().position(|&(b, e)| b <= begin && begin <= e) {
            return Err(format!(
                "{entry}: \"ranges.range[{k}]\" and \"ranges.range[{j}]\" overlap (Mesos: \
                 \"Invalid ranges resource: overlapping ranges\")"
            ));
        }
        bounds.push((begin, end));
    }
    Ok(())
}

/// A SET resource's items: none twice.
fn check_set(entry: &str, set: &Value) -> Result<(), String> {
    let items = leaves(set.get("item"));
    for (j, item) in items.iter().enumerate() {
        if items[..j].contains(item) {
            return Err(format!(
                "{entry}: \"set.item\" holds {item} twice (Mesos: \"Invalid set resource: \
                 duplicated elements\")"
            ));
        }
    }
    Ok(())
}

/// The values stout adds for a repeated field given `value`: the elements
/// of an array (nested arrays flattened), or the value itself; `null`s add
/// nothing.
fn leaves(value: Option<&Value>) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = value.into_iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Null => {}
            other => out.push(other),
        }
    }
    out
}

/// The number stout sets from a value the schema accepted for a numeric
/// field: a JSON number, or a string holding one (or `Infinity`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        Value::String(s) => crate::schema::parse_json(s).ok()?.as_f64(),
        _ => None,
    }
}

/// The current time as Mesos stamps statistics: seconds since the epoch.
pub fn now_seconds() -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    serde_json::Number::from_f64(now.as_secs_f64())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Statistics that carry only the time: usage's answer when there is none.
pub fn empty_statistics() -> Value {
    let mut map = Map::new();
    map.insert("timestamp".to_string(), now_seconds());
    Value::Object(map)
}

/// Refuses launch infos that Mesos would reject or, worse, abort on
/// (`containerizer.cpp:1686-1692` and the `CHECK`s at `1764-1776`).
fn check_launch_info(input: &Input, info: &Value) -> Result<(), String> {
    for field in ["rootfs", "user"] {
        if info.get(field).is_some_and(|v| !v.is_null()) {
            return Err(format!(
                "an isolator must not set \"{field}\" (Mesos fails the launch)"
            ));
        }
    }
    let command_task = input
        .parsed("container_config")
        .is_some_and(|c| c.get("task_info").is_some_and(|t| !t.is_null()));
    if let (true, Some(command)) = (command_task, info.get("command")) {
        for field in ["uris", "environment", "shell", "value", "user"] {
            let set = match command.get(field) {
                None | Some(Value::Null) => false,
                Some(Value::Array(items)) => !items.is_empty(),
                Some(_) => true,
            };
            if set {
                return Err(format!(
                    "for a command task, \"command\" may only carry \"arguments\"; \
                     \"command.{field}\" would abort the agent"
                ));
            }
        }
    }
    Ok(())
}

/// Merge mode: keeps the entries Mesos already has, except those the
/// command's output redefines (same label key, same variable name), and
/// appends the output's entries after them.
fn merge_existing(spec: &Merge, input: &Input, value: &mut Value) {
    let root = spec.existing[0];
    let existing = input
        .parsed(root)
        .and_then(|doc| at_path(&doc, &spec.existing[1..]).cloned());
    let existing: Vec<Value> = match existing {
        Some(Value::Array(items)) => items,
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let Value::Object(out) = value else { return };
    let produced: Vec<Value> = match out.remove(spec.list) {
        Some(Value::Array(items)) => items,
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let redefined: Vec<&Value> = produced.iter().filter_map(|e| e.get(spec.id)).collect();
    let mut merged: Vec<Value> = existing
        .into_iter()
        .filter(|e| !e.get(spec.id).is_some_and(|id| redefined.contains(&id)))
        .collect();
    merged.extend(produced.iter().cloned());
    out.insert(spec.list.to_string(), Value::Array(merged));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_quoting_the_output_are_bounded() {
        let c = crate::method::Method::HookSlaveRunTaskLabelDecorator.contract();
        let input = Input::default();
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = interpret(c, &input, deep.as_bytes(), false).unwrap_err();
        assert!(
            e.message.len() < MAX_PROBLEM_BYTES + 100,
            "{}",
            e.message.len()
        );
        assert!(e.message.ends_with("... [truncated]"), "{e}");
        let e = interpret(c, &input, "{\"é\":".repeat(500).as_bytes(), false).unwrap_err();
        assert!(e.message.len() < MAX_PROBLEM_BYTES + 100);
    }

    fn input(doc: Value) -> Input {
        Input::from_document(&doc.to_string()).unwrap()
    }

    fn run(
        method: Method,
        doc: Value,
        output: &str,
        merge: bool,
    ) -> Result<Interpreted, CallError> {
        interpret(method.contract(), &input(doc), output.as_bytes(), merge)
    }

    #[test]
    fn empty_output_is_empty_and_nothing_methods_ignore_output() {
        let m = Method::HookSlaveRunTaskLabelDecorator;
        assert_eq!(run(m, json!({}), "", false).unwrap(), Interpreted::Empty);
        assert_eq!(
            run(m, json!({}), " \n\t", false).unwrap(),
            Interpreted::Empty
        );
        assert_eq!(
            run(Method::IsolatorCleanup, json!({}), "garbage", false).unwrap(),
            Interpreted::Ignored
        );
    }

    #[test]
    fn malformed_and_non_utf8_output_is_refused() {
        let m = Method::HookSlaveRunTaskLabelDecorator;
        let e = run(m, json!({}), "{", false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadOutput);
        assert!(
            e.message
                .starts_with("the output is not a valid Labels: Malformed JSON"),
            "{e}"
        );
        let e = interpret(m.contract(), &Input::default(), b"\xff\xfe", false).unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn task_status_gets_task_id_and_state_from_the_input() {
        let doc = json!({"framework_id": {"value": "f"}, "status": {
            "task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": "AAAA"}});
        let out = run(
            Method::HookSlaveTaskStatusDecorator,
            doc,
            r#"{"labels":{"labels":[{"key":"a","value":"b"}]}}"#,
            false,
        )
        .unwrap();
        let Interpreted::Value(v) = out else { panic!() };
        assert_eq!(v["task_id"]["value"], "t");
        assert_eq!(v["state"], "TASK_RUNNING");
        assert_eq!(v["labels"]["labels"][0]["key"], "a");
    }

    #[test]
    fn resources_may_be_wrapped() {
        let out = run(
            Method::HookSlaveResourcesDecorator,
            json!({}),
            r#"{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]}"#,
            false,
        )
        .unwrap();
        let Interpreted::Value(v) = out else { panic!() };
        assert!(v.is_array());
    }

    #[test]
    fn statistics_get_a_timestamp() {
        let out = run(
            Method::IsolatorUsage,
            json!({}),
            r#"{"mem_rss_bytes":10}"#,
            false,
        )
        .unwrap();
        let Interpreted::Value(v) = out else { panic!() };
        assert!(v["timestamp"].as_f64().unwrap() > 1.6e9);
        assert_eq!(v["mem_rss_bytes"], 10);
    }

    #[test]
    fn prepare_refuses_what_mesos_rejects_or_aborts_on() {
        let m = Method::IsolatorPrepare;
        let e = run(m, json!({}), r#"{"rootfs":"/x"}"#, false).unwrap_err();
        assert!(e.message.contains("\"rootfs\""), "{e}");
        let e = run(m, json!({}), r#"{"user":"nobody"}"#, false).unwrap_err();
        assert!(e.message.contains("\"user\""), "{e}");

        let command_task = json!({"container_config": {"task_info": {"name": "t"}}});
        let e = run(
            m,
            command_task.clone(),
            r#"{"command":{"value":"x"}}"#,
            false,
        )
        .unwrap_err();
        assert!(e.message.contains("command.value"), "{e}");
        let e = run(
            m,
            command_task.clone(),
            r#"{"command":{"shell":false}}"#,
            false,
        )
        .unwrap_err();
        assert!(e.message.contains("command.shell"), "{e}");
        run(
            m,
            command_task,
            r#"{"command":{"arguments":["--x"]}}"#,
            false,
        )
        .unwrap();
        // A custom executor may have its command replaced.
        run(
            m,
            json!({"container_config": {}}),
            r#"{"command":{"value":"x"}}"#,
            false,
        )
        .unwrap();
    }

    #[test]
    fn merge_mode_keeps_existing_labels_and_lets_the_output_win() {
        let doc = json!({"task_info": {"labels": {"labels": [
            {"key": "team", "value": "infra"}, {"key": "tier", "value": "1"}]}}});
        let out = run(
            Method::HookSlaveRunTaskLabelDecorator,
            doc.clone(),
            r#"{"labels":[{"key":"tier","value":"2"},{"key":"new","value":"x"}]}"#,
            true,
        )
        .unwrap();
        assert_eq!(
            out,
            Interpreted::Value(json!({"labels": [
                {"key": "team", "value": "infra"},
                {"key": "tier", "value": "2"},
                {"key": "new", "value": "x"}]}))
        );
        let replaced = run(
            Method::HookSlaveRunTaskLabelDecorator,
            doc,
            r#"{"labels":[{"key":"new","value":"x"}]}"#,
            false,
        )
        .unwrap();
        assert_eq!(
            replaced,
            Interpreted::Value(json!({"labels": [{"key": "new", "value": "x"}]}))
        );
    }

    #[test]
    fn merge_mode_of_the_environment_decorator() {
        let doc = json!({"executor_info": {"command": {"environment": {"variables": [
            {"name": "A", "type": "VALUE", "value": "1"}]}}}});
        let out = run(
            Method::HookSlaveExecutorEnvironmentDecorator,
            doc,
            r#"{"variables":[{"name":"B","value":"2"}]}"#,
            true,
        )
        .unwrap();
        let Interpreted::Value(v) = out else { panic!() };
        assert_eq!(v["variables"][0]["name"], "A");
        assert_eq!(v["variables"][1]["name"], "B");
    }
}
