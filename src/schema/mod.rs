//! Interim top-level shape check, replaced by the full stout-compatible
//! validator.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    Labels,
    Environment,
    Resources,
    Attributes,
    TaskStatus,
    DockerTaskExecutorPrepareInfo,
    ContainerLaunchInfo,
    ContainerLimitation,
    ResourceStatistics,
    ContainerStatus,
    ContainerConfig,
    Resource,
    ValueScalar,
}

#[derive(Debug)]
pub struct SchemaError(String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn validate(schema: Schema, value: &Value) -> Result<(), SchemaError> {
    match schema {
        Schema::Resources | Schema::Attributes if !value.is_array() => {
            Err(SchemaError("Expecting a JSON array".into()))
        }
        Schema::Resources | Schema::Attributes => Ok(()),
        _ if !value.is_object() => Err(SchemaError("Expecting a JSON object".into())),
        _ => Ok(()),
    }
}
