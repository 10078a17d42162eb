//! Where the core's log records go, and how they are labelled.
//!
//! Inside the agent every record is forwarded to the shim, which writes it
//! with glog, so it lands in the agent's own log files in the agent's format.
//! The command-line tool and the tests use `env_logger` instead. Every line
//! about a call starts with a [`CallLabel`], so an operator can grep one
//! module, method or container.

use std::fmt;

use serde_json::Value;

use crate::method::Method;

struct HostLogger;

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => 2,
            log::Level::Warn => 1,
            _ => 0,
        };
        crate::ffi::bridge::host_log(level, &record.args().to_string());
    }

    fn flush(&self) {}
}

/// Routes `log` records to the host (glog inside Mesos). Only the first
/// logger installed in a process wins, so calling this twice is harmless.
pub fn install_host_logger() {
    if log::set_boxed_logger(Box::new(HostLogger)).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// The prefix of every log line about one call: `[module method container]`.
#[derive(Clone, Debug)]
pub struct CallLabel<'a> {
    pub module: &'a str,
    pub method: Method,
    /// The container id (isolator calls, post-fetch hook) or executor id.
    pub subject: Option<&'a str>,
}

impl fmt::Display for CallLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subject {
            Some(s) => write!(f, "[{} {} {}]", self.module, self.method, s),
            None => write!(f, "[{} {}]", self.module, self.method),
        }
    }
}

/// Replaces secret values in a document before it is logged: the `value` of
/// every environment variable of type `SECRET`, and the content of every
/// `secret` member (a `mesos.Secret`, which may embed the secret's bytes).
pub fn redact(document: &mut Value) {
    let mut stack = vec![document];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                let is_secret_variable = map.get("type").and_then(Value::as_str) == Some("SECRET");
                for (key, member) in map.iter_mut() {
                    if key == "secret" || (is_secret_variable && key == "value") {
                        *member = Value::String("<redacted>".to_string());
                    } else {
                        stack.push(member);
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let mut doc = json!({"executor_info": {"command": {"environment": {"variables": [
            {"name": "A", "type": "VALUE", "value": "visible"},
            {"name": "B", "type": "SECRET", "secret": {"type": "VALUE", "value": {"data": "c2VjcmV0"}}},
            {"name": "C", "type": "SECRET", "value": "leak"}
        ]}}}});
        redact(&mut doc);
        let vars = &doc["executor_info"]["command"]["environment"]["variables"];
        assert_eq!(vars[0]["value"], "visible");
        assert_eq!(vars[1]["secret"], "<redacted>");
        assert_eq!(vars[2]["value"], "<redacted>");
        assert!(!doc.to_string().contains("c2VjcmV0"));
    }

    #[test]
    fn labels_read_well() {
        let l = CallLabel {
            module: "acl",
            method: Method::IsolatorPrepare,
            subject: Some("abc"),
        };
        assert_eq!(l.to_string(), "[acl isolator_prepare abc]");
    }
}
