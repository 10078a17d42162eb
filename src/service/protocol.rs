//! The service protocol: newline-delimited JSON-RPC 2.0 over the helper's
//! standard input (requests) and standard output (responses), one JSON
//! object per line, as MCP's stdio transport does.
//!
//! The module sends `initialize` first (`params`: the module's name and
//! kind, the methods served, [`PROTOCOL_VERSION`]); any result accepts it.
//! Then one request per call: `method` is the method stem
//! (`isolator_usage`), `params` the input document a script would read
//! from its input file. A `result` is what a script would write to its
//! output file (`null`: the empty output); an `error` is the command
//! failing, its `message` the cause. Ids are the module's; answers may
//! come in any order.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::method::{Method, ModuleKind};

/// The version of this protocol, sent in `initialize`.
pub const PROTOCOL_VERSION: u32 = 1;

/// The id of the `initialize` request; calls count from 1.
pub const INITIALIZE_ID: u64 = 0;

/// A request line for `method` with `params`, a JSON text (the input
/// document), newline included.
pub fn request(id: u64, method: &str, params: &str) -> String {
    use std::fmt::Write;
    // Method stems are `[a-z_]` keys of this crate: quoted as they are,
    // written with the id into the one buffer (no allocation beside it).
    debug_assert!(method.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let mut line = String::with_capacity(params.len() + 64);
    let _ = write!(
        line,
        r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":"#
    );
    line.push_str(params);
    line.push_str("}\n");
    line
}

/// The `initialize` request line.
pub fn initialize(module: &str, kind: ModuleKind, methods: &[Method]) -> String {
    let params = serde_json::json!({
        "module": module,
        "kind": kind.to_string().to_lowercase(),
        "methods": methods.iter().map(|m| m.key()).collect::<Vec<_>>(),
        "protocol_version": PROTOCOL_VERSION,
    });
    request(INITIALIZE_ID, "initialize", &params.to_string())
}

/// A response of the helper.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub id: u64,
    /// The result as the output a script would have written (empty for
    /// `null`), or the error's message.
    pub outcome: Result<Vec<u8>, String>,
}

/// A response line as sent: `result` kept as its text (`null` included),
/// so that it is parsed once, by the method's own validation.
#[derive(Deserialize)]
struct Line<'a> {
    jsonrpc: Option<Value>,
    id: Option<Value>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present_value")]
    error: Option<Value>,
}

/// A member that is there, `null` included (serde reads `null` as an
/// absent `Option` otherwise).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Parses one line of the helper's standard output.
pub fn response(line: &[u8]) -> Result<Response, String> {
    // Every member takes any JSON value: a data error is a line that is
    // not an object at all.
    let line: Line<'_> = serde_json::from_slice(line).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => "not a JSON object".to_string(),
        _ => format!("not JSON: {e}"),
    })?;
    if line.jsonrpc.as_ref().and_then(Value::as_str) != Some("2.0") {
        return Err("\"jsonrpc\" is not \"2.0\"".to_string());
    }
    let id = line
        .id
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or("\"id\" is not one of the module's request ids (a whole number)")?;
    let outcome = match (line.result, line.error) {
        (Some(result), None) if result.get() == "null" => Ok(Vec::new()),
        (Some(result), None) => Ok(result.get().as_bytes().to_vec()),
        (None, Some(error)) => Err(error_message(&error)),
        (Some(_), Some(_)) => return Err("has both \"result\" and \"error\"".to_string()),
        (None, None) => return Err("has neither \"result\" nor \"error\"".to_string()),
    };
    Ok(Response { id, outcome })
}

/// What a call gets from the helper instead of a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// An `error` response: its message.
    Error(String),
    /// A response line longer than `max_output_bytes`, skipped: its
    /// length so far, and the limit.
    TooLong { length: usize, max: usize },
}

/// The `id` of a response line known only by its start (a line too long to
/// keep), when the start holds it: helpers write `id` before `result` as
/// the protocol's examples do. `None` when it does not say.
pub fn id_in_start(start: &[u8]) -> Option<u64> {
    use serde::de::{IgnoredAny, MapAccess, Visitor};
    use std::cell::Cell;

    /// Reads the members of the object in order until `id`, and stops.
    struct Members<'a>(&'a Cell<Option<u64>>);

    impl<'de> Visitor<'de> for Members<'_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON-RPC response")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "id" {
                    self.0.set(Some(map.next_value::<u64>()?));
                    // Found: what follows is not read (the start is cut).
                    return Err(serde::de::Error::custom("found"));
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }

    let found = Cell::new(None);
    let mut reader = serde_json::Deserializer::from_slice(start);
    let _ = (&mut reader).deserialize_map(Members(&found));
    found.get()
}

/// The message of a JSON-RPC error object (with its `data` when it is a
/// string).
fn error_message(error: &Value) -> String {
    let message = match error.get("message") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
        Some(Value::String(_)) => format!("{error} (an empty message)"),
        _ => error.to_string(),
    };
    match error.get("data") {
        Some(Value::String(data)) if !data.is_empty() => format!("{message}: {data}"),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_line_with_the_document_as_params() {
        let line = request(7, "isolator_usage", r#"{"container_id":{"value":"c"}}"#);
        assert_eq!(
            line,
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"isolator_usage\",\"params\":\
             {\"container_id\":{\"value\":\"c\"}}}\n"
        );
        let parsed: Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(parsed["params"]["container_id"]["value"], "c");
        let init = initialize("m", ModuleKind::Isolator, &[Method::IsolatorUsage]);
        let parsed: Value = serde_json::from_str(init.trim_end()).unwrap();
        assert_eq!(parsed["id"], 0);
        assert_eq!(parsed["method"], "initialize");
        assert_eq!(
            parsed["params"],
            serde_json::json!({"module": "m", "kind": "isolator",
                "methods": ["isolator_usage"], "protocol_version": 1})
        );
    }

    #[test]
    fn results_errors_and_bad_lines() {
        let ok = response(br#"{"jsonrpc":"2.0","id":3,"result":{"a":1}}"#).unwrap();
        assert_eq!(ok.id, 3);
        assert_eq!(ok.outcome, Ok(br#"{"a":1}"#.to_vec()));
        let empty = response(br#"{"jsonrpc":"2.0","id":4,"result":null}"#).unwrap();
        assert_eq!(empty.outcome, Ok(Vec::new()));
        let failed =
            response(br#"{"jsonrpc":"2.0","id":5,"error":{"code":1,"message":"no","data":"x"}}"#)
                .unwrap();
        assert_eq!(failed.outcome, Err("no: x".to_string()));
        let silent =
            response(br#"{"jsonrpc":"2.0","id":6,"error":{"code":1,"message":""}}"#).unwrap();
        assert_eq!(
            silent.outcome,
            Err(r#"{"code":1,"message":""} (an empty message)"#.to_string())
        );
        for (line, problem) in [
            (
                &b"garbage"[..],
                "not JSON: expected value at line 1 column 1",
            ),
            (b"[1]", "not a JSON object"),
            (br#""str""#, "not a JSON object"),
            (
                br#"{"jsonrpc":1,"id":1,"result":1}"#,
                "\"jsonrpc\" is not \"2.0\"",
            ),
            (br#"{"id":1,"result":1}"#, "\"jsonrpc\" is not \"2.0\""),
            (br#"{"jsonrpc":"2.0","id":"a","result":1}"#, "\"id\" is not"),
            (br#"{"jsonrpc":"2.0","id":1}"#, "neither"),
            (br#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#, "both"),
        ] {
            let e = response(line).unwrap_err();
            assert!(e.contains(problem), "{e}");
        }
    }

    #[test]
    fn the_id_of_a_line_too_long_to_keep_is_read_from_its_start() {
        let long = format!(
            r#"{{"jsonrpc":"2.0","id":42,"result":{{"x":"{}"#,
            "a".repeat(100)
        );
        assert_eq!(id_in_start(long.as_bytes()), Some(42));
        assert_eq!(id_in_start(br#"{"id":7"#), Some(7));
        assert_eq!(id_in_start(br#"{"result":{"x":1},"id":9,"#), Some(9));
        // Not in the start, not a whole number, not an object.
        assert_eq!(
            id_in_start(br#"{"jsonrpc":"2.0","result":{"x":"aaaa"#),
            None
        );
        assert_eq!(id_in_start(br#"{"id":"a","result":1}"#), None);
        assert_eq!(id_in_start(b"garbage"), None);
        assert_eq!(id_in_start(b"[1,2"), None);
    }
}
