//! Pins `schema`'s verdicts and messages to stout's `protobuf::parse<T>`
//! (Mesos 1.11.0): the empirical results of MESOS-CONTRACT.md section 4.3,
//! the coercion rules of section 4.2, the real inputs captured from an agent
//! (tests/fixtures/, copied from shared/fixtures/), and hostile input.

use std::fs;
use std::path::{Path, PathBuf};

use mesos_command_modules::schema::{
    parse_and_validate, parse_json, validate, JsonType, Schema, SchemaError,
};
use serde_json::{json, Value};

fn accept(schema: Schema, text: &str) -> Value {
    match parse_and_validate(schema, text) {
        Ok(value) => value,
        Err(e) => panic!("{schema:?} rejected {text}: {e}"),
    }
}

fn reject(schema: Schema, text: &str) -> String {
    match parse_and_validate(schema, text) {
        Ok(value) => panic!("{schema:?} accepted {text} as {value}"),
        Err(e) => e.to_string(),
    }
}

fn fixtures(folder: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("fixture is UTF-8");
            let value = parse_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, value)
        })
        .collect()
}

// --- MESOS-CONTRACT.md 4.3, observed on a real stout build -----------------

#[test]
fn single_label_object_is_a_one_element_list() {
    accept(Schema::Labels, r#"{"labels":{"key":"a","value":"b"}}"#);
}

#[test]
fn missing_label_key_is_reported_with_its_path() {
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":[{"bad_key":"a"}]}"#),
        "Missing required fields: labels[0].key"
    );
}

#[test]
fn number_for_string_field_is_rejected() {
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":[{"key":5}]}"#),
        "Not expecting a JSON number for field 'key'"
    );
    assert_eq!(
        parse_and_validate(Schema::Labels, r#"{"labels":[{"key":5}]}"#),
        Err(SchemaError::UnexpectedType {
            found: JsonType::Number,
            field: "key"
        })
    );
}

#[test]
fn task_status_needs_task_id_and_state() {
    assert_eq!(
        reject(Schema::TaskStatus, r#"{"labels":{"labels":[]}}"#),
        "Missing required fields: task_id, state"
    );
    accept(
        Schema::TaskStatus,
        r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","labels":{"labels":[{"key":"k","value":"v"}]},
            "container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"10.0.0.2"}]}]}}"#,
    );
}

#[test]
fn unknown_name_on_optional_enum_is_dropped() {
    accept(
        Schema::Environment,
        r#"{"variables":[{"name":"A","type":"BOGUS","value":"1"}]}"#,
    );
}

#[test]
fn infinity_strings_are_doubles() {
    accept(Schema::ValueScalar, r#"{"value":"Infinity"}"#);
    accept(Schema::ValueScalar, r#"{"value":"-Infinity"}"#);
    assert_eq!(
        reject(Schema::ValueScalar, r#"{"value":"abc"}"#),
        "Failed to parse 'abc' as a JSON number for field 'value': syntax error at line 1 near: abc"
    );
    assert_eq!(
        reject(Schema::ValueScalar, r#"{"value":"NaN"}"#),
        "Failed to parse 'NaN' as a JSON number for field 'value': syntax error at line 1 near: NaN"
    );
}

#[test]
fn numbers_are_cast_without_range_checks() {
    accept(
        Schema::ResourceStatistics,
        r#"{"timestamp":"12","mem_rss_bytes":1.9,"processes":-1,"threads":1e300}"#,
    );
}

#[test]
fn newline_and_trailing_garbage_are_malformed() {
    let err = parse_and_validate(Schema::Labels, "\n").expect_err("\\n is not JSON");
    assert_eq!(err.stout_message(), "syntax error at line 1 near: ");
    assert!(err.to_string().starts_with("Malformed JSON: "), "{err}");

    let err = parse_and_validate(Schema::Labels, "{} x").expect_err("trailing garbage");
    assert_eq!(
        err.stout_message(),
        "Parsed JSON included non-whitespace trailing characters:  x"
    );
    assert_eq!(
        err.to_string(),
        "Malformed JSON: Parsed JSON included non-whitespace trailing characters:  x (at line 1, column 3)"
    );
    assert!(parse_and_validate(Schema::Labels, "").is_err());
    assert!(parse_and_validate(Schema::Labels, " \t\r\n").is_err());
    accept(Schema::Labels, " {} \n");
}

#[test]
fn malformed_json_gives_line_and_column() {
    assert_eq!(
        reject(Schema::Labels, "{\n  \"labels\": [x]\n}"),
        "Malformed JSON: syntax error at line 2 near: x] (at line 2, column 14)"
    );
    assert_eq!(
        reject(Schema::Labels, r#"{"labels": 1e999}"#),
        "Malformed JSON: Value out of range (at line 1, column 12)"
    );
}

// --- Top-level shapes ------------------------------------------------------

#[test]
fn resources_are_an_array_of_resource() {
    accept(
        Schema::Resources,
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},
            {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},
            {"name":"disks","type":"SET","set":{"item":["a","b"]}},
            {"name":"gpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"STATIC","role":"r"}],
             "disk":{"persistence":{"id":"p"},"volume":{"container_path":"v","mode":"RW"}},
             "allocation_info":{"role":"*"},"revocable":{},"shared":{},"provider_id":{"value":"x"}}]"#,
    );
    accept(Schema::Resources, "[]");
    assert_eq!(
        reject(
            Schema::Resources,
            r#"{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]}"#
        ),
        "Expecting a JSON array"
    );
    assert_eq!(reject(Schema::Resources, "[[]]"), "Expecting a JSON object");
    assert_eq!(
        reject(Schema::Resources, "[null]"),
        "Expecting a JSON object"
    );
    // Each element is a separate parse: no index in the path, first failure wins.
    assert_eq!(
        reject(Schema::Resources, r#"[{"name":"a"},{"name":5}]"#),
        "Missing required fields: type"
    );
    // `type` is a required enum, so an unknown name is an error.
    assert_eq!(
        reject(Schema::Resources, r#"[{"name":"cpus","type":"BOGUS"}]"#),
        "Failed to find enum for 'BOGUS'"
    );
    assert_eq!(
        reject(
            Schema::Resources,
            r#"[{"name":"r","type":"RANGES","ranges":{"range":[{"begin":1}]}}]"#
        ),
        "Missing required fields: ranges.range[0].end"
    );
    assert_eq!(
        reject(
            Schema::Resources,
            r#"[{"name":"d","type":"SCALAR","scalar":{"value":1},"disk":{"volume":{}}}]"#
        ),
        // `mode` is declared before `container_path` in mesos.proto.
        "Missing required fields: disk.volume.mode, disk.volume.container_path"
    );
}

#[test]
fn attributes_are_an_array_of_attribute() {
    accept(
        Schema::Attributes,
        r#"[{"name":"rack","type":"TEXT","text":{"value":"r1"}},
            {"name":"n","type":"SCALAR","scalar":{"value":2}},
            {"name":"r","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}},
            {"name":"s","type":"SET","set":{"item":"one"}}]"#,
    );
    assert_eq!(
        reject(Schema::Attributes, r#"{"name":"rack"}"#),
        "Expecting a JSON array"
    );
    assert_eq!(
        reject(
            Schema::Attributes,
            r#"[{"name":"rack","type":"TEXT","text":{}}]"#
        ),
        "Missing required fields: text.value"
    );
}

#[test]
fn messages_must_be_objects() {
    for schema in Schema::ALL {
        let (bad, expected) = match schema {
            Schema::Resources | Schema::Attributes | Schema::QoSCorrections => {
                ("{}", "Expecting a JSON array")
            }
            _ => ("[]", "Expecting a JSON object"),
        };
        assert_eq!(reject(schema, bad), expected, "{schema:?}");
        assert_eq!(reject(schema, "\"x\""), expected, "{schema:?}");
        assert_eq!(reject(schema, "null"), expected, "{schema:?}");
    }
}

#[test]
fn empty_documents_follow_required_fields() {
    for schema in Schema::ALL {
        let empty = match schema {
            Schema::Resources | Schema::Attributes | Schema::QoSCorrections => "[]",
            _ => "{}",
        };
        let result = parse_and_validate(schema, empty)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let expected = match schema {
            Schema::TaskStatus => Err("Missing required fields: task_id, state"),
            Schema::ResourceStatistics => Err("Missing required fields: timestamp"),
            // `command_info` is declared before `directory` in containerizer.proto.
            Schema::ContainerConfig => Err("Missing required fields: command_info, directory"),
            Schema::Resource => Err("Missing required fields: name, type"),
            Schema::ValueScalar => Err("Missing required fields: value"),
            _ => Ok(()),
        };
        assert_eq!(result, expected.map_err(str::to_owned), "{schema:?}");
        assert!(!schema.type_name().is_empty());
    }
}

// --- Per-type documents ------------------------------------------------------

#[test]
fn container_launch_info_with_environment_mounts_and_commands() {
    accept(
        Schema::ContainerLaunchInfo,
        r#"{"environment":{"variables":[{"name":"A","value":"1"},{"name":"S","type":"SECRET",
              "secret":{"type":"VALUE","value":{"data":"c2VjcmV0"}}}]},
            "pre_exec_commands":[{"value":"mount --make-private /","shell":true},
                                 {"value":"/bin/true","arguments":["true"],"shell":"false"}],
            "mounts":[{"target":"/x","source":"/y","type":"bind","flags":4096,"options":"ro"}],
            "enter_namespaces":[1,"2"],"clone_namespaces":131072,"supplementary_groups":[100],
            "command":{"arguments":["--flag"]},"working_directory":"/w",
            "file_operations":[{"operation":"SYMLINK","symlink":{"source":"a","target":"b"}},
                               {"operation":"MKDIR","mkdir":{"target":"/d","recursive":true}}],
            "seccomp_profile":{"default_action":"ACT_ERRNO","syscalls":[{"names":["read"],"action":"ACT_ALLOW"}]},
            "effective_capabilities":{"capabilities":["NET_ADMIN","NOT_A_CAPABILITY"]},
            "rlimits":{"rlimits":[{"type":"RLMT_NOFILE","soft":1024,"hard":4096}]},
            "task_environment":{"variables":[]},"no_new_privileges":true,
            "some_future_field":{"ignored":[1,2,3]}}"#,
    );
    // A single object for a repeated field is one element.
    accept(
        Schema::ContainerLaunchInfo,
        r#"{"pre_exec_commands":{"value":"echo hi"}}"#,
    );
    assert_eq!(
        reject(
            Schema::ContainerLaunchInfo,
            r#"{"mounts":[{"target":"/a"},{"source":"/y"}]}"#
        ),
        "Missing required fields: mounts[1].target"
    );
    assert_eq!(
        reject(Schema::ContainerLaunchInfo, r#"{"clone_namespaces":["x"]}"#),
        "Failed to parse 'x' as a JSON number for field 'clone_namespaces': syntax error at line 1 near: x"
    );
    assert_eq!(
        reject(
            Schema::ContainerLaunchInfo,
            r#"{"working_directory":["/w"]}"#
        ),
        "Not expecting a JSON array for field 'working_directory'"
    );
    assert_eq!(
        reject(Schema::ContainerLaunchInfo, r#"{"environment":"A=1"}"#),
        "Not expecting a JSON string for field 'environment'"
    );
    assert_eq!(
        reject(
            Schema::ContainerLaunchInfo,
            r#"{"seccomp_profile":{"default_action":"NOPE"}}"#
        ),
        "Failed to find enum for 'NOPE'"
    );
    // `RLimit.type` is optional: an unknown name is dropped.
    accept(
        Schema::ContainerLaunchInfo,
        r#"{"rlimits":{"rlimits":[{"type":"NOPE"}]}}"#,
    );
}

#[test]
fn oneof_keeps_only_the_last_member_set() {
    // `mount` (a ContainerMountInfo, which requires `target`) alone is checked...
    assert_eq!(
        reject(
            Schema::ContainerLaunchInfo,
            r#"{"file_operations":[{"operation":"MOUNT","mount":{}}]}"#
        ),
        "Missing required fields: file_operations[0].mount.target"
    );
    // ...but stout sets `symlink` after `mount` (key order), which clears it.
    accept(
        Schema::ContainerLaunchInfo,
        r#"{"file_operations":[{"mount":{},"symlink":{}}]}"#,
    );
    // `mkdir` comes before `mount`, so `mount` is what remains.
    assert_eq!(
        reject(
            Schema::ContainerLaunchInfo,
            r#"{"file_operations":[{"mkdir":{},"mount":{}}]}"#
        ),
        "Missing required fields: file_operations[0].mount.target"
    );
    // A null member sets nothing and clears nothing.
    assert_eq!(
        reject(
            Schema::ContainerLaunchInfo,
            r#"{"file_operations":[{"mount":{},"symlink":null}]}"#
        ),
        "Missing required fields: file_operations[0].mount.target"
    );
}

#[test]
fn container_limitation_may_be_empty() {
    accept(Schema::ContainerLimitation, "{}");
    accept(
        Schema::ContainerLimitation,
        r#"{"resources":[{"name":"mem","type":"SCALAR","scalar":{"value":64}}],
            "message":"OOM","reason":"REASON_CONTAINER_LIMITATION_MEMORY"}"#,
    );
    accept(Schema::ContainerLimitation, r#"{"reason":"NOT_A_REASON"}"#);
    assert_eq!(
        reject(
            Schema::ContainerLimitation,
            r#"{"resources":[{"name":"mem"}]}"#
        ),
        "Missing required fields: resources[0].type"
    );
}

#[test]
fn resource_statistics_needs_a_timestamp() {
    assert_eq!(
        reject(Schema::ResourceStatistics, r#"{"mem_rss_bytes":1}"#),
        "Missing required fields: timestamp"
    );
    assert_eq!(
        reject(Schema::ResourceStatistics, r#"{"timestamp":true}"#),
        "Not expecting a JSON boolean for field 'timestamp'"
    );
    assert_eq!(
        reject(Schema::ResourceStatistics, r#"{"timestamp":"12 "}"#),
        "Failed to parse '12 ' as a JSON number for field 'timestamp': \
         Parsed JSON included non-whitespace trailing characters: "
    );
    assert_eq!(
        reject(Schema::ResourceStatistics, r#"{"timestamp":"[1]"}"#),
        "Failed to parse '[1]' as a JSON number for field 'timestamp': Unexpected JSON type parsed"
    );
    accept(Schema::ResourceStatistics, r#"{"timestamp":" 12"}"#);
    accept(
        Schema::ResourceStatistics,
        r#"{"timestamp":1600000000.5,"cpus_user_time_secs":1.2,"cpus_limit":"Infinity",
            "disk_statistics":[{"source":{"type":"PATH","path":{"root":"/"}},"limit_bytes":1}],
            "blkio_statistics":{"cfq":[{"device":{"major_number":8,"minor_number":0},"io_serviced":[{"op":"READ","value":1}]}]},
            "perf":{"timestamp":1,"duration":2,"cycles":3},
            "net_traffic_control_statistics":[{"id":"x","backlog":1}],
            "net_snmp_statistics":{"tcp_stats":{"RtoMin":1}}}"#,
    );
    assert_eq!(
        reject(Schema::ResourceStatistics, r#"{"timestamp":1,"perf":{}}"#),
        "Missing required fields: perf.timestamp, perf.duration"
    );
}

#[test]
fn docker_prepare_info_uses_camel_case_keys() {
    accept(
        Schema::DockerTaskExecutorPrepareInfo,
        r#"{"executorEnvironment":{"variables":[{"name":"A","value":"1"}]},
            "taskEnvironment":{"variables":[{"name":"B","value":"2"}]}}"#,
    );
    // snake_case keys are unknown keys, silently ignored, whatever they hold.
    accept(
        Schema::DockerTaskExecutorPrepareInfo,
        r#"{"executor_environment":{"variables":[{}]}}"#,
    );
    assert_eq!(
        reject(
            Schema::DockerTaskExecutorPrepareInfo,
            r#"{"taskEnvironment":{"variables":[{}]},"executorEnvironment":{"variables":[{"value":"x"}]}}"#
        ),
        "Missing required fields: executorEnvironment.variables[0].name, taskEnvironment.variables[0].name"
    );
}

#[test]
fn container_status_nested_paths() {
    accept(
        Schema::ContainerStatus,
        r#"{"network_infos":[{"ip_addresses":[{"ip_address":"10.0.0.2","protocol":"IPv4"}],"name":"net",
            "groups":["g"],"labels":{"labels":[]},"port_mappings":[{"host_port":80,"container_port":8080,"protocol":"tcp"}]}],
            "cgroup_info":{"net_cls":{"classid":1}},"executor_pid":123,
            "container_id":{"value":"c","parent":{"value":"p"}}}"#,
    );
    assert_eq!(
        reject(
            Schema::ContainerStatus,
            r#"{"network_infos":[{"port_mappings":[{"protocol":"tcp"}]}],"container_id":{"parent":{}}}"#
        ),
        // Sub-messages are searched in field-number order: `network_infos` is
        // field 1 and `container_id` field 4, whatever the key order.
        "Missing required fields: network_infos[0].port_mappings[0].host_port, \
         network_infos[0].port_mappings[0].container_port, container_id.value, container_id.parent.value"
    );
}

#[test]
fn container_config_fixtures_are_accepted() {
    for (path, input) in fixtures("isolator_prepare") {
        let config = &input["container_config"];
        assert!(config.is_object(), "{}", path.display());
        if let Err(e) = validate(Schema::ContainerConfig, config) {
            panic!("{}: {e}", path.display());
        }
        // And as text, the way a state file is read back.
        let text = serde_json::to_string(config).expect("serializable");
        accept(Schema::ContainerConfig, &text);
    }
}

#[test]
fn captured_agent_inputs_parse_as_their_types() {
    for (path, input) in fixtures("slave_task_status_decorator") {
        validate(Schema::TaskStatus, &input["status"])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    for (path, input) in fixtures("slave_resources_decorator") {
        validate(Schema::Resources, &input["slave_info"]["resources"])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    for (path, input) in fixtures("slave_attributes_decorator") {
        validate(Schema::Attributes, &input["slave_info"]["attributes"])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    for (path, input) in fixtures("isolator_update") {
        validate(Schema::Resources, &input["resource_requests"])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let limits = input["resource_limits"].as_object().expect("limits object");
        for value in limits.values() {
            validate(Schema::ValueScalar, value)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

#[test]
fn map_fields_parse_values_as_the_value_type() {
    let config = |limits: &str| {
        format!(r#"{{"directory":"/d","command_info":{{"value":"x"}},"limits":{limits}}}"#)
    };
    accept(
        Schema::ContainerConfig,
        &config(r#"{"cpus":{"value":2},"mem":{"value":"Infinity"}}"#),
    );
    assert_eq!(
        reject(
            Schema::ContainerConfig,
            &config(r#"{"cpus":{"value":1},"mem":{}}"#)
        ),
        "Missing required fields: limits[1].value.value"
    );
    assert_eq!(
        reject(Schema::ContainerConfig, &config(r#""cpus=1""#)),
        "Not expecting a JSON string for field 'limits'"
    );
    assert_eq!(
        reject(
            Schema::ContainerConfig,
            &config(r#"{"cpus":[{"value":1}]}"#)
        ),
        "Not expecting a JSON array for field 'value'"
    );
    assert_eq!(
        reject(Schema::ContainerConfig, &config(r#"{"cpus":2}"#)),
        "Not expecting a JSON number for field 'value'"
    );
    // A null value leaves a default (uninitialized) Value.Scalar in the map,
    // which protobuf does not name.
    assert_eq!(
        reject(Schema::ContainerConfig, &config(r#"{"cpus":null}"#)),
        "Missing required fields: "
    );
    // An array of objects adds entries object by object; for a repeated key
    // the map keeps the last one, but every entry is searched for paths.
    accept(
        Schema::ContainerConfig,
        &config(r#"[{"cpus":{}},{"cpus":{"value":1}}]"#),
    );
    assert_eq!(
        reject(
            Schema::ContainerConfig,
            &config(r#"[{"cpus":{}},{"cpus":{"value":1},"mem":{}}]"#)
        ),
        "Missing required fields: limits[0].value.value, limits[2].value.value"
    );
    assert_eq!(
        reject(
            Schema::ContainerConfig,
            &config(r#"[{"cpus":{"value":1}},{"cpus":{}}]"#)
        ),
        "Missing required fields: limits[1].value.value"
    );
}

// --- stout's coercions ---------------------------------------------------------

#[test]
fn nulls_unset_fields_and_are_skipped_in_lists() {
    accept(Schema::Labels, r#"{"labels":null}"#);
    accept(
        Schema::TaskStatus,
        r#"{"task_id":{"value":"t"},"state":"TASK_LOST","message":null}"#,
    );
    assert_eq!(
        reject(
            Schema::TaskStatus,
            r#"{"task_id":null,"state":"TASK_LOST"}"#
        ),
        "Missing required fields: task_id"
    );
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":[null,{"key":"a"},null,{}]}"#),
        "Missing required fields: labels[1].key"
    );
}

#[test]
fn nested_arrays_in_repeated_fields_are_flattened() {
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":[[{"key":"a"}],[[{}]],[]]}"#),
        "Missing required fields: labels[1].key"
    );
    accept(Schema::Environment, r#"{"variables":[[[{"name":"A"}]]]}"#);
}

#[test]
fn type_mismatches_name_the_innermost_field() {
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":[{"key":{}}]}"#),
        "Not expecting a JSON object for field 'key'"
    );
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":"x"}"#),
        "Not expecting a JSON string for field 'labels'"
    );
    assert_eq!(
        reject(Schema::Labels, r#"{"labels":[true]}"#),
        "Not expecting a JSON boolean for field 'labels'"
    );
    assert_eq!(
        reject(
            Schema::TaskStatus,
            r#"{"task_id":[{"value":"x"}],"state":"TASK_RUNNING"}"#
        ),
        "Not expecting a JSON array for field 'task_id'"
    );
    assert_eq!(
        reject(Schema::TaskStatus, r#"{"task_id":{"value":"x"},"state":1}"#),
        "Not expecting a JSON number for field 'state'"
    );
    assert_eq!(
        reject(
            Schema::TaskStatus,
            r#"{"task_id":{"value":"x"},"state":"BOGUS"}"#
        ),
        "Failed to find enum for 'BOGUS'"
    );
}

#[test]
fn keys_are_visited_in_sorted_order_and_the_first_error_wins() {
    // `data` sorts before `message`, whatever the order in the text.
    assert_eq!(
        reject(Schema::TaskStatus, r#"{"message":5,"data":"!!"}"#),
        "Failed to base64 decode bytes field 'data': Invalid character '!'"
    );
    // Parse errors come before missing required fields.
    assert_eq!(
        reject(
            Schema::TaskStatus,
            r#"{"labels":{"labels":[{}]},"message":5}"#
        ),
        "Not expecting a JSON number for field 'message'"
    );
    // Keys are case-sensitive.
    accept(Schema::ValueScalar, r#"{"value":1,"Value":"x"}"#);
    // A repeated key keeps its last value.
    accept(Schema::ValueScalar, r#"{"value":"x","value":1}"#);
}

#[test]
fn bytes_are_base64_as_stout_decodes_it() {
    let status = |data: &str| {
        format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","data":{data},"uuid":"OjttjJk0QDSAXSYzFY90lg=="}}"#
        )
    };
    for ok in [
        r#""AQJoZWxsbw==""#,
        r#""""#,
        r#""A""#,
        r#""YW Jj\nZA""#,
        r#""AB=!!""#,
    ] {
        accept(Schema::TaskStatus, &status(ok));
    }
    assert_eq!(
        reject(Schema::TaskStatus, &status(r#""a-b""#)),
        "Failed to base64 decode bytes field 'data': Invalid character '-'"
    );
    assert_eq!(
        reject(Schema::TaskStatus, &status(r#""é""#)),
        "Failed to base64 decode bytes field 'data': Invalid character '\u{fffd}'"
    );
    assert_eq!(
        reject(Schema::TaskStatus, &status("1")),
        "Not expecting a JSON number for field 'data'"
    );
}

#[test]
fn booleans_accept_true_and_false_strings() {
    let command = |shell: &str| format!(r#"{{"command":{{"shell":{shell}}}}}"#);
    accept(Schema::ContainerLaunchInfo, &command(r#""true""#));
    accept(Schema::ContainerLaunchInfo, &command(r#"" false ""#));
    assert_eq!(
        reject(Schema::ContainerLaunchInfo, &command(r#""yes""#)),
        "Failed to parse 'yes' as a JSON boolean for field 'shell': syntax error at line 1 near: yes"
    );
    assert_eq!(
        reject(Schema::ContainerLaunchInfo, &command(r#""1""#)),
        "Failed to parse '1' as a JSON boolean for field 'shell': Unexpected JSON type parsed"
    );
    assert_eq!(
        reject(Schema::ContainerLaunchInfo, &command("1")),
        "Not expecting a JSON number for field 'shell'"
    );
}

#[test]
fn recursive_container_ids_are_checked_at_every_level() {
    // `{"container_id":{"parent":...}}` with `parents` levels of `parent`:
    // 2 + `parents` nested objects in all.
    let status = |parents: usize| {
        let mut id = json!({"value": "root"});
        for i in 0..parents {
            let mut map = serde_json::Map::new();
            map.insert("value".to_owned(), json!(format!("c{i}")));
            map.insert("parent".to_owned(), id);
            id = Value::Object(map);
        }
        let mut map = serde_json::Map::new();
        map.insert("container_id".to_owned(), id);
        Value::Object(map)
    };
    // At stout's nesting limit the validator recurses once per level.
    let deepest = status(198);
    validate(Schema::ContainerStatus, &deepest).expect("200 levels");
    let text = serde_json::to_string(&deepest).expect("serializable");
    accept(Schema::ContainerStatus, &text);
    let missing = text.replacen(r#""value":"root""#, r#""other":"root""#, 1);
    assert_eq!(
        reject(Schema::ContainerStatus, &missing),
        format!(
            "Missing required fields: container_id{}.value",
            ".parent".repeat(198)
        )
    );
    // One more level is beyond what stout's JSON parser accepts.
    let too_deep = status(199);
    assert_eq!(
        validate(Schema::ContainerStatus, &too_deep),
        Err(SchemaError::TooDeep { limit: 200 })
    );
    let too_deep_text = serde_json::to_string(&too_deep).expect("serializable");
    assert!(matches!(
        parse_and_validate(Schema::ContainerStatus, &too_deep_text),
        Err(SchemaError::MalformedJson { .. })
    ));
}

// --- Hostile input -------------------------------------------------------------

#[test]
fn deep_arrays_do_not_overflow_the_stack() {
    let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let err = parse_and_validate(Schema::Labels, &text).expect_err("too deep for stout");
    // The 201st `[` fails; stout shows the rest of the line after it.
    match &err {
        SchemaError::MalformedJson {
            message,
            line: 1,
            column: 202,
        } => assert_eq!(
            message,
            &format!(
                "syntax error at line 1 near: {}{}",
                "[".repeat(10_000 - 201),
                "]".repeat(10_000)
            )
        ),
        other => panic!("unexpected {other:?}"),
    }
    let text = format!(
        r#"{{"labels":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(parse_and_validate(Schema::Labels, &text).is_err());
}

#[test]
fn deep_objects_do_not_overflow_the_stack() {
    let text = format!("{}{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    assert!(parse_and_validate(Schema::Labels, &text).is_err());
    // Within stout's limit the same shape is fine (unknown keys).
    let text = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
    accept(Schema::Labels, &text);
}

/// Builds `[[[...]]]` or `{"a":{"a":...}}` `depth` levels deep without
/// recursion; [`dismantle`] frees it the same way, since the derived drop of
/// a deep `Value` recurses once per level.
fn deep_value(depth: usize, object: bool) -> Value {
    // Not `json!`: it would re-serialize the inner value at every level.
    let mut value = Value::Null;
    for _ in 0..depth {
        value = if object {
            let mut map = serde_json::Map::new();
            map.insert("a".to_owned(), value);
            Value::Object(map)
        } else {
            Value::Array(vec![value])
        };
    }
    value
}

fn dismantle(mut value: Value) {
    loop {
        value = match value {
            Value::Array(mut items) => match items.pop() {
                Some(inner) => inner,
                None => return,
            },
            Value::Object(mut map) => match map.remove("a") {
                Some(inner) => inner,
                None => return,
            },
            _ => return,
        };
    }
}

#[test]
fn deep_values_are_rejected_without_recursion() {
    for object in [false, true] {
        let deep = deep_value(10_000, object);
        assert_eq!(
            validate(Schema::Labels, &deep),
            Err(SchemaError::TooDeep { limit: 200 })
        );
        dismantle(deep);
        let shallow = deep_value(200, object);
        let expected = if object {
            Ok(())
        } else {
            Err(SchemaError::ExpectingObject)
        };
        assert_eq!(validate(Schema::Labels, &shallow), expected);
        dismantle(shallow);
    }
}

#[test]
fn huge_arrays_are_linear() {
    let n = 200_000;
    let labels: Vec<Value> = (0..n)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    validate(Schema::Labels, &json!({ "labels": labels })).expect("valid labels");

    let text = format!(r#"{{"labels":[{}{{}}]}}"#, "{},".repeat(n - 1));
    match parse_and_validate(Schema::Labels, &text) {
        Err(SchemaError::MissingRequiredFields { paths }) => {
            assert_eq!(paths.len(), n);
            assert_eq!(paths[n - 1], format!("labels[{}].key", n - 1));
        }
        other => panic!("unexpected {other:?}"),
    }

    let resources = format!(
        "[{}]",
        vec![r#"{"name":"cpus","type":"SCALAR","scalar":{"value":1}}"#; n].join(",")
    );
    accept(Schema::Resources, &resources);
}
