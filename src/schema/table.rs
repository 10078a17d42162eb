//! The message and enum types a command's JSON may contain: the transitive
//! closure of the top-level types of [`super::Schema`] in Mesos 1.11.0.
//!
//! Generated, not hand-written: `protoc --include_imports
//! --descriptor_set_out` over `include/mesos/mesos.proto`,
//! `include/mesos/slave/containerizer.proto`,
//! `include/mesos/slave/oversubscription.proto` and
//! `include/mesos/module/hook.proto` (which pull in `appc/spec.proto`,
//! `docker/v1.proto` and `seccomp/seccomp.proto`), then a walk from the
//! top-level types printing, per message, its fields in field-number order
//! (name, label, kind, oneof group), its required fields in declaration order
//! and a by-name index; per enum, its value names. Map entry types are folded
//! into their map fields. The same descriptor dump was used to check this
//! file field by field. To change it, regenerate it the same way from the
//! Mesos version the agent runs; never edit one entry by hand.

use super::desc::{field, oneof_field, Enum, Kind::*, Label::*, Message};

pub(super) static LABELS: Message = Message {
    name: "mesos.Labels",
    fields: &[field("labels", Repeated, Message(&LABEL))],
    required: &[],
    by_name: &[0],
};

pub(super) static ENVIRONMENT: Message = Message {
    name: "mesos.Environment",
    fields: &[field("variables", Repeated, Message(&ENVIRONMENT_VARIABLE))],
    required: &[],
    by_name: &[0],
};

pub(super) static RESOURCE: Message = Message {
    name: "mesos.Resource",
    fields: &[
        field("name", Required, String),
        field("type", Required, Enum(&VALUE_TYPE)),
        field("scalar", Optional, Message(&VALUE_SCALAR)),
        field("ranges", Optional, Message(&VALUE_RANGES)),
        field("set", Optional, Message(&VALUE_SET)),
        field("role", Optional, String),
        field("disk", Optional, Message(&RESOURCE_DISK_INFO)),
        field("reservation", Optional, Message(&RESOURCE_RESERVATION_INFO)),
        field("revocable", Optional, Message(&RESOURCE_REVOCABLE_INFO)),
        field("shared", Optional, Message(&RESOURCE_SHARED_INFO)),
        field(
            "allocation_info",
            Optional,
            Message(&RESOURCE_ALLOCATION_INFO),
        ),
        field("provider_id", Optional, Message(&RESOURCE_PROVIDER_ID)),
        field(
            "reservations",
            Repeated,
            Message(&RESOURCE_RESERVATION_INFO),
        ),
    ],
    required: &[0, 1],
    by_name: &[10, 6, 0, 11, 3, 7, 12, 8, 5, 2, 4, 9, 1],
};

pub(super) static ATTRIBUTE: Message = Message {
    name: "mesos.Attribute",
    fields: &[
        field("name", Required, String),
        field("type", Required, Enum(&VALUE_TYPE)),
        field("scalar", Optional, Message(&VALUE_SCALAR)),
        field("ranges", Optional, Message(&VALUE_RANGES)),
        field("text", Optional, Message(&VALUE_TEXT)),
        field("set", Optional, Message(&VALUE_SET)),
    ],
    required: &[0, 1],
    by_name: &[0, 3, 2, 5, 4, 1],
};

pub(super) static TASK_STATUS: Message = Message {
    name: "mesos.TaskStatus",
    fields: &[
        field("task_id", Required, Message(&TASK_ID)),
        field("state", Required, Enum(&TASK_STATE)),
        field("data", Optional, Bytes),
        field("message", Optional, String),
        field("slave_id", Optional, Message(&SLAVE_ID)),
        field("timestamp", Optional, Double),
        field("executor_id", Optional, Message(&EXECUTOR_ID)),
        field("healthy", Optional, Bool),
        field("source", Optional, Enum(&TASK_STATUS_SOURCE)),
        field("reason", Optional, Enum(&TASK_STATUS_REASON)),
        field("uuid", Optional, Bytes),
        field("labels", Optional, Message(&LABELS)),
        field("container_status", Optional, Message(&CONTAINER_STATUS)),
        field("unreachable_time", Optional, Message(&TIME_INFO)),
        field("check_status", Optional, Message(&CHECK_STATUS_INFO)),
        field("limitation", Optional, Message(&TASK_RESOURCE_LIMITATION)),
    ],
    required: &[0, 1],
    by_name: &[14, 12, 2, 6, 7, 11, 15, 3, 9, 4, 8, 1, 0, 5, 13, 10],
};

pub(super) static DOCKER_TASK_EXECUTOR_PREPARE_INFO: Message = Message {
    name: "mesos.DockerTaskExecutorPrepareInfo",
    fields: &[
        field("executorEnvironment", Optional, Message(&ENVIRONMENT)),
        field("taskEnvironment", Optional, Message(&ENVIRONMENT)),
    ],
    required: &[],
    by_name: &[0, 1],
};

pub(super) static SLAVE_CONTAINER_LAUNCH_INFO: Message = Message {
    name: "mesos.slave.ContainerLaunchInfo",
    fields: &[
        field("pre_exec_commands", Repeated, Message(&COMMAND_INFO)),
        field("environment", Optional, Message(&ENVIRONMENT)),
        field("rootfs", Optional, String),
        field("clone_namespaces", Repeated, Int32),
        field("command", Optional, Message(&COMMAND_INFO)),
        field("working_directory", Optional, String),
        field(
            "effective_capabilities",
            Optional,
            Message(&CAPABILITY_INFO),
        ),
        field("rlimits", Optional, Message(&R_LIMIT_INFO)),
        field("enter_namespaces", Repeated, Int32),
        field("user", Optional, String),
        field("tty_slave_path", Optional, String),
        field("task_environment", Optional, Message(&ENVIRONMENT)),
        field("bounding_capabilities", Optional, Message(&CAPABILITY_INFO)),
        field("mounts", Repeated, Message(&SLAVE_CONTAINER_MOUNT_INFO)),
        field(
            "seccomp_profile",
            Optional,
            Message(&SECCOMP_CONTAINER_SECCOMP_PROFILE),
        ),
        field("supplementary_groups", Repeated, UInt32),
        field("task_supplementary_groups", Repeated, UInt32),
        field("masked_paths", Repeated, String),
        field(
            "file_operations",
            Repeated,
            Message(&SLAVE_CONTAINER_FILE_OPERATION),
        ),
        field("no_new_privileges", Optional, Bool),
    ],
    required: &[],
    by_name: &[
        12, 3, 4, 6, 8, 1, 18, 17, 13, 19, 0, 7, 2, 14, 15, 11, 16, 10, 9, 5,
    ],
};

pub(super) static SLAVE_CONTAINER_LIMITATION: Message = Message {
    name: "mesos.slave.ContainerLimitation",
    fields: &[
        field("resources", Repeated, Message(&RESOURCE)),
        field("message", Optional, String),
        field("reason", Optional, Enum(&TASK_STATUS_REASON)),
    ],
    required: &[],
    by_name: &[1, 2, 0],
};

pub(super) static RESOURCE_STATISTICS: Message = Message {
    name: "mesos.ResourceStatistics",
    fields: &[
        field("timestamp", Required, Double),
        field("cpus_user_time_secs", Optional, Double),
        field("cpus_system_time_secs", Optional, Double),
        field("cpus_limit", Optional, Double),
        field("mem_rss_bytes", Optional, UInt64),
        field("mem_limit_bytes", Optional, UInt64),
        field("cpus_nr_periods", Optional, UInt32),
        field("cpus_nr_throttled", Optional, UInt32),
        field("cpus_throttled_time_secs", Optional, Double),
        field("mem_file_bytes", Optional, UInt64),
        field("mem_anon_bytes", Optional, UInt64),
        field("mem_mapped_file_bytes", Optional, UInt64),
        field("perf", Optional, Message(&PERF_STATISTICS)),
        field("net_rx_packets", Optional, UInt64),
        field("net_rx_bytes", Optional, UInt64),
        field("net_rx_errors", Optional, UInt64),
        field("net_rx_dropped", Optional, UInt64),
        field("net_tx_packets", Optional, UInt64),
        field("net_tx_bytes", Optional, UInt64),
        field("net_tx_errors", Optional, UInt64),
        field("net_tx_dropped", Optional, UInt64),
        field("net_tcp_rtt_microsecs_p50", Optional, Double),
        field("net_tcp_rtt_microsecs_p90", Optional, Double),
        field("net_tcp_rtt_microsecs_p95", Optional, Double),
        field("net_tcp_rtt_microsecs_p99", Optional, Double),
        field("disk_limit_bytes", Optional, UInt64),
        field("disk_used_bytes", Optional, UInt64),
        field("net_tcp_active_connections", Optional, Double),
        field("net_tcp_time_wait_connections", Optional, Double),
        field("processes", Optional, UInt32),
        field("threads", Optional, UInt32),
        field("mem_low_pressure_counter", Optional, UInt64),
        field("mem_medium_pressure_counter", Optional, UInt64),
        field("mem_critical_pressure_counter", Optional, UInt64),
        field(
            "net_traffic_control_statistics",
            Repeated,
            Message(&TRAFFIC_CONTROL_STATISTICS),
        ),
        field("mem_total_bytes", Optional, UInt64),
        field("mem_total_memsw_bytes", Optional, UInt64),
        field("mem_soft_limit_bytes", Optional, UInt64),
        field("mem_cache_bytes", Optional, UInt64),
        field("mem_swap_bytes", Optional, UInt64),
        field("mem_unevictable_bytes", Optional, UInt64),
        field("net_snmp_statistics", Optional, Message(&SNMP_STATISTICS)),
        field("disk_statistics", Repeated, Message(&DISK_STATISTICS)),
        field(
            "blkio_statistics",
            Optional,
            Message(&CGROUP_INFO_BLKIO_STATISTICS),
        ),
        field("cpus_soft_limit", Optional, Double),
    ],
    required: &[0],
    by_name: &[
        43, 3, 6, 7, 44, 2, 8, 1, 25, 42, 26, 10, 38, 33, 9, 5, 31, 11, 32, 4, 37, 39, 35, 36, 40,
        14, 16, 15, 13, 41, 27, 21, 22, 23, 24, 28, 34, 18, 20, 19, 17, 12, 29, 30, 0,
    ],
};

pub(super) static CONTAINER_STATUS: Message = Message {
    name: "mesos.ContainerStatus",
    fields: &[
        field("network_infos", Repeated, Message(&NETWORK_INFO)),
        field("cgroup_info", Optional, Message(&CGROUP_INFO)),
        field("executor_pid", Optional, UInt32),
        field("container_id", Optional, Message(&CONTAINER_ID)),
    ],
    required: &[],
    by_name: &[1, 3, 2, 0],
};

pub(super) static SLAVE_CONTAINER_CONFIG: Message = Message {
    name: "mesos.slave.ContainerConfig",
    fields: &[
        field("directory", Required, String),
        field("user", Optional, String),
        field("rootfs", Optional, String),
        field("docker", Optional, Message(&SLAVE_CONTAINER_CONFIG_DOCKER)),
        field("executor_info", Optional, Message(&EXECUTOR_INFO)),
        field("task_info", Optional, Message(&TASK_INFO)),
        field("appc", Optional, Message(&SLAVE_CONTAINER_CONFIG_APPC)),
        field("command_info", Required, Message(&COMMAND_INFO)),
        field("container_info", Optional, Message(&CONTAINER_INFO)),
        field("resources", Repeated, Message(&RESOURCE)),
        field("container_class", Optional, Enum(&SLAVE_CONTAINER_CLASS)),
        field("ephemeral_volumes", Repeated, String),
        field("limits", Map(String), Message(&VALUE_SCALAR)),
    ],
    required: &[7, 0],
    by_name: &[6, 7, 10, 8, 0, 3, 11, 4, 12, 9, 2, 5, 1],
};

pub(super) static VALUE_SCALAR: Message = Message {
    name: "mesos.Value.Scalar",
    fields: &[field("value", Required, Double)],
    required: &[0],
    by_name: &[0],
};

pub(super) static LABEL: Message = Message {
    name: "mesos.Label",
    fields: &[
        field("key", Required, String),
        field("value", Optional, String),
    ],
    required: &[0],
    by_name: &[0, 1],
};

pub(super) static ENVIRONMENT_VARIABLE: Message = Message {
    name: "mesos.Environment.Variable",
    fields: &[
        field("name", Required, String),
        field("value", Optional, String),
        field("type", Optional, Enum(&ENVIRONMENT_VARIABLE_TYPE)),
        field("secret", Optional, Message(&SECRET)),
    ],
    required: &[0],
    by_name: &[0, 3, 2, 1],
};

pub(super) static RESOURCE_PROVIDER_ID: Message = Message {
    name: "mesos.ResourceProviderID",
    fields: &[field("value", Required, String)],
    required: &[0],
    by_name: &[0],
};

pub(super) static VALUE_RANGES: Message = Message {
    name: "mesos.Value.Ranges",
    fields: &[field("range", Repeated, Message(&VALUE_RANGE))],
    required: &[],
    by_name: &[0],
};

pub(super) static VALUE_SET: Message = Message {
    name: "mesos.Value.Set",
    fields: &[field("item", Repeated, String)],
    required: &[],
    by_name: &[0],
};

pub(super) static RESOURCE_ALLOCATION_INFO: Message = Message {
    name: "mesos.Resource.AllocationInfo",
    fields: &[field("role", Optional, String)],
    required: &[],
    by_name: &[0],
};

pub(super) static RESOURCE_RESERVATION_INFO: Message = Message {
    name: "mesos.Resource.ReservationInfo",
    fields: &[
        field("principal", Optional, String),
        field("labels", Optional, Message(&LABELS)),
        field("role", Optional, String),
        field("type", Optional, Enum(&RESOURCE_RESERVATION_INFO_TYPE)),
    ],
    required: &[],
    by_name: &[1, 0, 2, 3],
};

pub(super) static RESOURCE_DISK_INFO: Message = Message {
    name: "mesos.Resource.DiskInfo",
    fields: &[
        field(
            "persistence",
            Optional,
            Message(&RESOURCE_DISK_INFO_PERSISTENCE),
        ),
        field("volume", Optional, Message(&VOLUME)),
        field("source", Optional, Message(&RESOURCE_DISK_INFO_SOURCE)),
    ],
    required: &[],
    by_name: &[0, 2, 1],
};

pub(super) static RESOURCE_REVOCABLE_INFO: Message = Message {
    name: "mesos.Resource.RevocableInfo",
    fields: &[],
    required: &[],
    by_name: &[],
};

pub(super) static RESOURCE_SHARED_INFO: Message = Message {
    name: "mesos.Resource.SharedInfo",
    fields: &[],
    required: &[],
    by_name: &[],
};

pub(super) static VALUE_TEXT: Message = Message {
    name: "mesos.Value.Text",
    fields: &[field("value", Required, String)],
    required: &[0],
    by_name: &[0],
};

pub(super) static TASK_ID: Message = Message {
    name: "mesos.TaskID",
    fields: &[field("value", Required, String)],
    required: &[0],
    by_name: &[0],
};

pub(super) static SLAVE_ID: Message = Message {
    name: "mesos.SlaveID",
    fields: &[field("value", Required, String)],
    required: &[0],
    by_name: &[0],
};

pub(super) static EXECUTOR_ID: Message = Message {
    name: "mesos.ExecutorID",
    fields: &[field("value", Required, String)],
    required: &[0],
    by_name: &[0],
};

pub(super) static CHECK_STATUS_INFO: Message = Message {
    name: "mesos.CheckStatusInfo",
    fields: &[
        field("type", Optional, Enum(&CHECK_INFO_TYPE)),
        field("command", Optional, Message(&CHECK_STATUS_INFO_COMMAND)),
        field("http", Optional, Message(&CHECK_STATUS_INFO_HTTP)),
        field("tcp", Optional, Message(&CHECK_STATUS_INFO_TCP)),
    ],
    required: &[],
    by_name: &[1, 2, 3, 0],
};

pub(super) static TIME_INFO: Message = Message {
    name: "mesos.TimeInfo",
    fields: &[field("nanoseconds", Required, Int64)],
    required: &[0],
    by_name: &[0],
};

pub(super) static TASK_RESOURCE_LIMITATION: Message = Message {
    name: "mesos.TaskResourceLimitation",
    fields: &[field("resources", Repeated, Message(&RESOURCE))],
    required: &[],
    by_name: &[0],
};

pub(super) static COMMAND_INFO: Message = Message {
    name: "mesos.CommandInfo",
    fields: &[
        field("uris", Repeated, Message(&COMMAND_INFO_URI)),
        field("environment", Optional, Message(&ENVIRONMENT)),
        field("value", Optional, String),
        field("user", Optional, String),
        field("shell", Optional, Bool),
        field("arguments", Repeated, String),
    ],
    required: &[],
    by_name: &[5, 1, 4, 0, 3, 2],
};

pub(super) static SLAVE_CONTAINER_MOUNT_INFO: Message = Message {
    name: "mesos.slave.ContainerMountInfo",
    fields: &[
        field("target", Required, String),
        field("source", Optional, String),
        field("type", Optional, String),
        field("flags", Optional, UInt32),
        field("options", Optional, String),
    ],
    required: &[0],
    by_name: &[3, 4, 1, 0, 2],
};

pub(super) static SLAVE_CONTAINER_FILE_OPERATION: Message = Message {
    name: "mesos.slave.ContainerFileOperation",
    fields: &[
        field(
            "operation",
            Optional,
            Enum(&SLAVE_CONTAINER_FILE_OPERATION_OPERATION),
        ),
        oneof_field(
            "symlink",
            Optional,
            Message(&SLAVE_CONTAINER_FILE_OPERATION_SYMLINK),
            0,
        ),
        oneof_field(
            "mkdir",
            Optional,
            Message(&SLAVE_CONTAINER_FILE_OPERATION_MKDIR),
            0,
        ),
        oneof_field(
            "rename",
            Optional,
            Message(&SLAVE_CONTAINER_FILE_OPERATION_RENAME),
            0,
        ),
        oneof_field("mount", Optional, Message(&SLAVE_CONTAINER_MOUNT_INFO), 0),
    ],
    required: &[],
    by_name: &[2, 4, 0, 3, 1],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE: Message = Message {
    name: "mesos.seccomp.ContainerSeccompProfile",
    fields: &[
        field(
            "default_action",
            Required,
            Enum(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ACTION),
        ),
        field(
            "architectures",
            Repeated,
            Enum(&SECCOMP_CONTAINER_SECCOMP_PROFILE_ARCHITECTURE),
        ),
        field(
            "syscalls",
            Repeated,
            Message(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL),
        ),
    ],
    required: &[0],
    by_name: &[1, 0, 2],
};

pub(super) static CAPABILITY_INFO: Message = Message {
    name: "mesos.CapabilityInfo",
    fields: &[field(
        "capabilities",
        Repeated,
        Enum(&CAPABILITY_INFO_CAPABILITY),
    )],
    required: &[],
    by_name: &[0],
};

pub(super) static R_LIMIT_INFO: Message = Message {
    name: "mesos.RLimitInfo",
    fields: &[field("rlimits", Repeated, Message(&R_LIMIT_INFO_R_LIMIT))],
    required: &[],
    by_name: &[0],
};

pub(super) static DISK_STATISTICS: Message = Message {
    name: "mesos.DiskStatistics",
    fields: &[
        field("source", Optional, Message(&RESOURCE_DISK_INFO_SOURCE)),
        field(
            "persistence",
            Optional,
            Message(&RESOURCE_DISK_INFO_PERSISTENCE),
        ),
        field("limit_bytes", Optional, UInt64),
        field("used_bytes", Optional, UInt64),
    ],
    required: &[],
    by_name: &[2, 1, 0, 3],
};

pub(super) static CGROUP_INFO_BLKIO_STATISTICS: Message = Message {
    name: "mesos.CgroupInfo.Blkio.Statistics",
    fields: &[
        field("cfq", Repeated, Message(&CGROUP_INFO_BLKIO_CFQ_STATISTICS)),
        field(
            "cfq_recursive",
            Repeated,
            Message(&CGROUP_INFO_BLKIO_CFQ_STATISTICS),
        ),
        field(
            "throttling",
            Repeated,
            Message(&CGROUP_INFO_BLKIO_THROTTLING_STATISTICS),
        ),
    ],
    required: &[],
    by_name: &[0, 1, 2],
};

pub(super) static PERF_STATISTICS: Message = Message {
    name: "mesos.PerfStatistics",
    fields: &[
        field("timestamp", Required, Double),
        field("duration", Required, Double),
        field("cycles", Optional, UInt64),
        field("stalled_cycles_frontend", Optional, UInt64),
        field("stalled_cycles_backend", Optional, UInt64),
        field("instructions", Optional, UInt64),
        field("cache_references", Optional, UInt64),
        field("cache_misses", Optional, UInt64),
        field("branches", Optional, UInt64),
        field("branch_misses", Optional, UInt64),
        field("bus_cycles", Optional, UInt64),
        field("ref_cycles", Optional, UInt64),
        field("cpu_clock", Optional, Double),
        field("task_clock", Optional, Double),
        field("page_faults", Optional, UInt64),
        field("minor_faults", Optional, UInt64),
        field("major_faults", Optional, UInt64),
        field("context_switches", Optional, UInt64),
        field("cpu_migrations", Optional, UInt64),
        field("alignment_faults", Optional, UInt64),
        field("emulation_faults", Optional, UInt64),
        field("l1_dcache_loads", Optional, UInt64),
        field("l1_dcache_load_misses", Optional, UInt64),
        field("l1_dcache_stores", Optional, UInt64),
        field("l1_dcache_store_misses", Optional, UInt64),
        field("l1_dcache_prefetches", Optional, UInt64),
        field("l1_dcache_prefetch_misses", Optional, UInt64),
        field("l1_icache_loads", Optional, UInt64),
        field("l1_icache_load_misses", Optional, UInt64),
        field("l1_icache_prefetches", Optional, UInt64),
        field("l1_icache_prefetch_misses", Optional, UInt64),
        field("llc_loads", Optional, UInt64),
        field("llc_load_misses", Optional, UInt64),
        field("llc_stores", Optional, UInt64),
        field("llc_store_misses", Optional, UInt64),
        field("llc_prefetches", Optional, UInt64),
        field("llc_prefetch_misses", Optional, UInt64),
        field("dtlb_loads", Optional, UInt64),
        field("dtlb_load_misses", Optional, UInt64),
        field("dtlb_stores", Optional, UInt64),
        field("dtlb_store_misses", Optional, UInt64),
        field("dtlb_prefetches", Optional, UInt64),
        field("dtlb_prefetch_misses", Optional, UInt64),
        field("itlb_loads", Optional, UInt64),
        field("itlb_load_misses", Optional, UInt64),
        field("branch_loads", Optional, UInt64),
        field("branch_load_misses", Optional, UInt64),
        field("node_loads", Optional, UInt64),
        field("node_load_misses", Optional, UInt64),
        field("node_stores", Optional, UInt64),
        field("node_store_misses", Optional, UInt64),
        field("node_prefetches", Optional, UInt64),
        field("node_prefetch_misses", Optional, UInt64),
    ],
    required: &[0, 1],
    by_name: &[
        19, 46, 45, 9, 8, 10, 7, 6, 17, 12, 18, 2, 38, 37, 42, 41, 40, 39, 1, 20, 5, 44, 43, 22,
        21, 26, 25, 24, 23, 28, 27, 30, 29, 32, 31, 36, 35, 34, 33, 16, 15, 48, 47, 52, 51, 50, 49,
        14, 11, 4, 3, 13, 0,
    ],
};

pub(super) static TRAFFIC_CONTROL_STATISTICS: Message = Message {
    name: "mesos.TrafficControlStatistics",
    fields: &[
        field("id", Required, String),
        field("backlog", Optional, UInt64),
        field("bytes", Optional, UInt64),
        field("drops", Optional, UInt64),
        field("overlimits", Optional, UInt64),
        field("packets", Optional, UInt64),
        field("qlen", Optional, UInt64),
        field("ratebps", Optional, UInt64),
        field("ratepps", Optional, UInt64),
        field("requeues", Optional, UInt64),
    ],
    required: &[0],
    by_name: &[1, 2, 3, 0, 4, 5, 6, 7, 8, 9],
};

pub(super) static SNMP_STATISTICS: Message = Message {
    name: "mesos.SNMPStatistics",
    fields: &[
        field("ip_stats", Optional, Message(&IP_STATISTICS)),
        field("icmp_stats", Optional, Message(&ICMP_STATISTICS)),
        field("tcp_stats", Optional, Message(&TCP_STATISTICS)),
        field("udp_stats", Optional, Message(&UDP_STATISTICS)),
    ],
    required: &[],
    by_name: &[1, 0, 2, 3],
};

pub(super) static CONTAINER_ID: Message = Message {
    name: "mesos.ContainerID",
    fields: &[
        field("value", Required, String),
        field("parent", Optional, Message(&CONTAINER_ID)),
    ],
    required: &[0],
    by_name: &[1, 0],
};

pub(super) static NETWORK_INFO: Message = Message {
    name: "mesos.NetworkInfo",
    fields: &[
        field("groups", Repeated, String),
        field("labels", Optional, Message(&LABELS)),
        field("ip_addresses", Repeated, Message(&NETWORK_INFO_IP_ADDRESS)),
        field("name", Optional, String),
        field(
            "port_mappings",
            Repeated,
            Message(&NETWORK_INFO_PORT_MAPPING),
        ),
    ],
    required: &[],
    by_name: &[0, 2, 1, 3, 4],
};

pub(super) static CGROUP_INFO: Message = Message {
    name: "mesos.CgroupInfo",
    fields: &[field("net_cls", Optional, Message(&CGROUP_INFO_NET_CLS))],
    required: &[],
    by_name: &[0],
};

pub(super) static EXECUTOR_INFO: Message = Message {
    name: "mesos.ExecutorInfo",
    fields: &[
        field("executor_id", Required, Message(&EXECUTOR_ID)),
        field("data", Optional, Bytes),
        field("resources", Repeated, Message(&RESOURCE)),
        field("command", Optional, Message(&COMMAND_INFO)),
        field("framework_id", Optional, Message(&FRAMEWORK_ID)),
        field("name", Optional, String),
        field("source", Optional, String),
        field("container", Optional, Message(&CONTAINER_INFO)),
        field("discovery", Optional, Message(&DISCOVERY_INFO)),
        field("shutdown_grace_period", Optional, Message(&DURATION_INFO)),
        field("labels", Optional, Message(&LABELS)),
        field("type", Optional, Enum(&EXECUTOR_INFO_TYPE)),
    ],
    required: &[0],
    by_name: &[3, 7, 1, 8, 0, 4, 10, 5, 2, 9, 6, 11],
};

pub(super) static TASK_INFO: Message = Message {
    name: "mesos.TaskInfo",
    fields: &[
        field("name", Required, String),
        field("task_id", Required, Message(&TASK_ID)),
        field("slave_id", Required, Message(&SLAVE_ID)),
        field("resources", Repeated, Message(&RESOURCE)),
        field("executor", Optional, Message(&EXECUTOR_INFO)),
        field("data", Optional, Bytes),
        field("command", Optional, Message(&COMMAND_INFO)),
        field("health_check", Optional, Message(&HEALTH_CHECK)),
        field("container", Optional, Message(&CONTAINER_INFO)),
        field("labels", Optional, Message(&LABELS)),
        field("discovery", Optional, Message(&DISCOVERY_INFO)),
        field("kill_policy", Optional, Message(&KILL_POLICY)),
        field("check", Optional, Message(&CHECK_INFO)),
        field("max_completion_time", Optional, Message(&DURATION_INFO)),
        field("limits", Map(String), Message(&VALUE_SCALAR)),
    ],
    required: &[0, 1, 2],
    by_name: &[12, 6, 8, 5, 10, 4, 7, 11, 9, 14, 13, 0, 3, 2, 1],
};

pub(super) static CONTAINER_INFO: Message = Message {
    name: "mesos.ContainerInfo",
    fields: &[
        field("type", Required, Enum(&CONTAINER_INFO_TYPE)),
        field("volumes", Repeated, Message(&VOLUME)),
        field("docker", Optional, Message(&CONTAINER_INFO_DOCKER_INFO)),
        field("hostname", Optional, String),
        field("mesos", Optional, Message(&CONTAINER_INFO_MESOS_INFO)),
        field("network_infos", Repeated, Message(&NETWORK_INFO)),
        field("linux_info", Optional, Message(&LINUX_INFO)),
        field("rlimit_info", Optional, Message(&R_LIMIT_INFO)),
        field("tty_info", Optional, Message(&TTY_INFO)),
    ],
    required: &[0],
    by_name: &[2, 3, 6, 4, 5, 7, 8, 0, 1],
};

pub(super) static SLAVE_CONTAINER_CONFIG_DOCKER: Message = Message {
    name: "mesos.slave.ContainerConfig.Docker",
    fields: &[field(
        "manifest",
        Optional,
        Message(&DOCKER_SPEC_V1_IMAGE_MANIFEST),
    )],
    required: &[],
    by_name: &[0],
};

pub(super) static SLAVE_CONTAINER_CONFIG_APPC: Message = Message {
    name: "mesos.slave.ContainerConfig.Appc",
    fields: &[field(
        "manifest",
        Optional,
        Message(&APPC_SPEC_IMAGE_MANIFEST),
    )],
    required: &[],
    by_name: &[0],
};

pub(super) static SECRET: Message = Message {
    name: "mesos.Secret",
    fields: &[
        field("type", Optional, Enum(&SECRET_TYPE)),
        field("reference", Optional, Message(&SECRET_REFERENCE)),
        field("value", Optional, Message(&SECRET_VALUE)),
    ],
    required: &[],
    by_name: &[1, 0, 2],
};

pub(super) static VALUE_RANGE: Message = Message {
    name: "mesos.Value.Range",
    fields: &[
        field("begin", Required, UInt64),
        field("end", Required, UInt64),
    ],
    required: &[0, 1],
    by_name: &[0, 1],
};

pub(super) static RESOURCE_DISK_INFO_PERSISTENCE: Message = Message {
    name: "mesos.Resource.DiskInfo.Persistence",
    fields: &[
        field("id", Required, String),
        field("principal", Optional, String),
    ],
    required: &[0],
    by_name: &[0, 1],
};

pub(super) static VOLUME: Message = Message {
    name: "mesos.Volume",
    fields: &[
        field("container_path", Required, String),
        field("host_path", Optional, String),
        field("mode", Required, Enum(&VOLUME_MODE)),
        field("image", Optional, Message(&IMAGE)),
        field("source", Optional, Message(&VOLUME_SOURCE)),
    ],
    required: &[2, 0],
    by_name: &[0, 1, 3, 2, 4],
};

pub(super) static RESOURCE_DISK_INFO_SOURCE: Message = Message {
    name: "mesos.Resource.DiskInfo.Source",
    fields: &[
        field("type", Required, Enum(&RESOURCE_DISK_INFO_SOURCE_TYPE)),
        field("path", Optional, Message(&RESOURCE_DISK_INFO_SOURCE_PATH)),
        field("mount", Optional, Message(&RESOURCE_DISK_INFO_SOURCE_MOUNT)),
        field("id", Optional, String),
        field("metadata", Optional, Message(&LABELS)),
        field("profile", Optional, String),
        field("vendor", Optional, String),
    ],
    required: &[0],
    by_name: &[3, 4, 2, 1, 5, 0, 6],
};

pub(super) static CHECK_STATUS_INFO_COMMAND: Message = Message {
    name: "mesos.CheckStatusInfo.Command",
    fields: &[field("exit_code", Optional, Int32)],
    required: &[],
    by_name: &[0],
};

pub(super) static CHECK_STATUS_INFO_HTTP: Message = Message {
    name: "mesos.CheckStatusInfo.Http",
    fields: &[field("status_code", Optional, UInt32)],
    required: &[],
    by_name: &[0],
};

pub(super) static CHECK_STATUS_INFO_TCP: Message = Message {
    name: "mesos.CheckStatusInfo.Tcp",
    fields: &[field("succeeded", Optional, Bool)],
    required: &[],
    by_name: &[0],
};

pub(super) static COMMAND_INFO_URI: Message = Message {
    name: "mesos.CommandInfo.URI",
    fields: &[
        field("value", Required, String),
        field("executable", Optional, Bool),
        field("extract", Optional, Bool),
        field("cache", Optional, Bool),
        field("output_file", Optional, String),
    ],
    required: &[0],
    by_name: &[3, 1, 2, 4, 0],
};

pub(super) static SLAVE_CONTAINER_FILE_OPERATION_SYMLINK: Message = Message {
    name: "mesos.slave.ContainerFileOperation.Symlink",
    fields: &[
        field("source", Optional, String),
        field("target", Optional, String),
    ],
    required: &[],
    by_name: &[0, 1],
};

pub(super) static SLAVE_CONTAINER_FILE_OPERATION_MKDIR: Message = Message {
    name: "mesos.slave.ContainerFileOperation.Mkdir",
    fields: &[
        field("target", Optional, String),
        field("recursive", Optional, Bool),
    ],
    required: &[],
    by_name: &[1, 0],
};

pub(super) static SLAVE_CONTAINER_FILE_OPERATION_RENAME: Message = Message {
    name: "mesos.slave.ContainerFileOperation.Rename",
    fields: &[
        field("source", Optional, String),
        field("target", Optional, String),
    ],
    required: &[],
    by_name: &[0, 1],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL: Message = Message {
    name: "mesos.seccomp.ContainerSeccompProfile.Syscall",
    fields: &[
        field("names", Repeated, String),
        field(
            "action",
            Required,
            Enum(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ACTION),
        ),
        field(
            "args",
            Repeated,
            Message(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ARG),
        ),
        field(
            "includes",
            Optional,
            Message(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_FILTER),
        ),
        field(
            "excludes",
            Optional,
            Message(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_FILTER),
        ),
    ],
    required: &[1],
    by_name: &[1, 2, 4, 3, 0],
};

pub(super) static R_LIMIT_INFO_R_LIMIT: Message = Message {
    name: "mesos.RLimitInfo.RLimit",
    fields: &[
        field("type", Optional, Enum(&R_LIMIT_INFO_R_LIMIT_TYPE)),
        field("hard", Optional, UInt64),
        field("soft", Optional, UInt64),
    ],
    required: &[],
    by_name: &[1, 2, 0],
};

pub(super) static CGROUP_INFO_BLKIO_CFQ_STATISTICS: Message = Message {
    name: "mesos.CgroupInfo.Blkio.CFQ.Statistics",
    fields: &[
        field("device", Optional, Message(&DEVICE_NUMBER)),
        field("sectors", Optional, UInt64),
        field("time", Optional, UInt64),
        field("io_serviced", Repeated, Message(&CGROUP_INFO_BLKIO_VALUE)),
        field(
            "io_service_bytes",
            Repeated,
            Message(&CGROUP_INFO_BLKIO_VALUE),
        ),
        field(
            "io_service_time",
            Repeated,
            Message(&CGROUP_INFO_BLKIO_VALUE),
        ),
        field("io_wait_time", Repeated, Message(&CGROUP_INFO_BLKIO_VALUE)),
        field("io_merged", Repeated, Message(&CGROUP_INFO_BLKIO_VALUE)),
        field("io_queued", Repeated, Message(&CGROUP_INFO_BLKIO_VALUE)),
    ],
    required: &[],
    by_name: &[0, 7, 8, 4, 5, 3, 6, 1, 2],
};

pub(super) static CGROUP_INFO_BLKIO_THROTTLING_STATISTICS: Message = Message {
    name: "mesos.CgroupInfo.Blkio.Throttling.Statistics",
    fields: &[
        field("device", Optional, Message(&DEVICE_NUMBER)),
        field("io_serviced", Repeated, Message(&CGROUP_INFO_BLKIO_VALUE)),
        field(
            "io_service_bytes",
            Repeated,
            Message(&CGROUP_INFO_BLKIO_VALUE),
        ),
    ],
    required: &[],
    by_name: &[0, 2, 1],
};

pub(super) static IP_STATISTICS: Message = Message {
    name: "mesos.IpStatistics",
    fields: &[
        field("Forwarding", Optional, Int64),
        field("DefaultTTL", Optional, Int64),
        field("InReceives", Optional, Int64),
        field("InHdrErrors", Optional, Int64),
        field("InAddrErrors", Optional, Int64),
        field("ForwDatagrams", Optional, Int64),
        field("InUnknownProtos", Optional, Int64),
        field("InDiscards", Optional, Int64),
        field("InDelivers", Optional, Int64),
        field("OutRequests", Optional, Int64),
        field("OutDiscards", Optional, Int64),
        field("OutNoRoutes", Optional, Int64),
        field("ReasmTimeout", Optional, Int64),
        field("ReasmReqds", Optional, Int64),
        field("ReasmOKs", Optional, Int64),
        field("ReasmFails", Optional, Int64),
        field("FragOKs", Optional, Int64),
        field("FragFails", Optional, Int64),
        field("FragCreates", Optional, Int64),
    ],
    required: &[],
    by_name: &[
        1, 5, 0, 18, 17, 16, 4, 8, 7, 3, 2, 6, 10, 11, 9, 15, 14, 13, 12,
    ],
};

pub(super) static ICMP_STATISTICS: Message = Message {
    name: "mesos.IcmpStatistics",
    fields: &[
        field("InMsgs", Optional, Int64),
        field("InErrors", Optional, Int64),
        field("InCsumErrors", Optional, Int64),
        field("InDestUnreachs", Optional, Int64),
        field("InTimeExcds", Optional, Int64),
        field("InParmProbs", Optional, Int64),
        field("InSrcQuenchs", Optional, Int64),
        field("InRedirects", Optional, Int64),
        field("InEchos", Optional, Int64),
        field("InEchoReps", Optional, Int64),
        field("InTimestamps", Optional, Int64),
        field("InTimestampReps", Optional, Int64),
        field("InAddrMasks", Optional, Int64),
        field("InAddrMaskReps", Optional, Int64),
        field("OutMsgs", Optional, Int64),
        field("OutErrors", Optional, Int64),
        field("OutDestUnreachs", Optional, Int64),
        field("OutTimeExcds", Optional, Int64),
        field("OutParmProbs", Optional, Int64),
        field("OutSrcQuenchs", Optional, Int64),
        field("OutRedirects", Optional, Int64),
        field("OutEchos", Optional, Int64),
        field("OutEchoReps", Optional, Int64),
        field("OutTimestamps", Optional, Int64),
        field("OutTimestampReps", Optional, Int64),
        field("OutAddrMasks", Optional, Int64),
        field("OutAddrMaskReps", Optional, Int64),
    ],
    required: &[],
    by_name: &[
        13, 12, 2, 3, 9, 8, 1, 0, 5, 7, 6, 4, 11, 10, 26, 25, 16, 22, 21, 15, 14, 18, 20, 19, 17,
        24, 23,
    ],
};

pub(super) static TCP_STATISTICS: Message = Message {
    name: "mesos.TcpStatistics",
    fields: &[
        field("RtoAlgorithm", Optional, Int64),
        field("RtoMin", Optional, Int64),
        field("RtoMax", Optional, Int64),
        field("MaxConn", Optional, Int64),
        field("ActiveOpens", Optional, Int64),
        field("PassiveOpens", Optional, Int64),
        field("AttemptFails", Optional, Int64),
        field("EstabResets", Optional, Int64),
        field("CurrEstab", Optional, Int64),
        field("InSegs", Optional, Int64),
        field("OutSegs", Optional, Int64),
        field("RetransSegs", Optional, Int64),
        field("InErrs", Optional, Int64),
        field("OutRsts", Optional, Int64),
        field("InCsumErrors", Optional, Int64),
    ],
    required: &[],
    by_name: &[4, 6, 8, 7, 14, 12, 9, 3, 13, 10, 5, 11, 0, 2, 1],
};

pub(super) static UDP_STATISTICS: Message = Message {
    name: "mesos.UdpStatistics",
    fields: &[
        field("InDatagrams", Optional, Int64),
        field("NoPorts", Optional, Int64),
        field("InErrors", Optional, Int64),
        field("OutDatagrams", Optional, Int64),
        field("RcvbufErrors", Optional, Int64),
        field("SndbufErrors", Optional, Int64),
        field("InCsumErrors", Optional, Int64),
        field("IgnoredMulti", Optional, Int64),
    ],
    required: &[],
    by_name: &[7, 6, 0, 2, 1, 3, 4, 5],
};

pub(super) static NETWORK_INFO_IP_ADDRESS: Message = Message {
    name: "mesos.NetworkInfo.IPAddress",
    fields: &[
        field("protocol", Optional, Enum(&NETWORK_INFO_PROTOCOL)),
        field("ip_address", Optional, String),
    ],
    required: &[],
    by_name: &[1, 0],
};

pub(super) static NETWORK_INFO_PORT_MAPPING: Message = Message {
    name: "mesos.NetworkInfo.PortMapping",
    fields: &[
        field("host_port", Required, UInt32),
        field("container_port", Required, UInt32),
        field("protocol", Optional, String),
    ],
    required: &[0, 1],
    by_name: &[1, 0, 2],
};

pub(super) static CGROUP_INFO_NET_CLS: Message = Message {
    name: "mesos.CgroupInfo.NetCls",
    fields: &[field("classid", Optional, UInt32)],
    required: &[],
    by_name: &[0],
};

pub(super) static FRAMEWORK_ID: Message = Message {
    name: "mesos.FrameworkID",
    fields: &[field("value", Required, String)],
    required: &[0],
    by_name: &[0],
};

pub(super) static DISCOVERY_INFO: Message = Message {
    name: "mesos.DiscoveryInfo",
    fields: &[
        field("visibility", Required, Enum(&DISCOVERY_INFO_VISIBILITY)),
        field("name", Optional, String),
        field("environment", Optional, String),
        field("location", Optional, String),
        field("version", Optional, String),
        field("ports", Optional, Message(&PORTS)),
        field("labels", Optional, Message(&LABELS)),
    ],
    required: &[0],
    by_name: &[2, 6, 3, 1, 5, 4, 0],
};

pub(super) static DURATION_INFO: Message = Message {
    name: "mesos.DurationInfo",
    fields: &[field("nanoseconds", Required, Int64)],
    required: &[0],
    by_name: &[0],
};

pub(super) static HEALTH_CHECK: Message = Message {
    name: "mesos.HealthCheck",
    fields: &[
        field("http", Optional, Message(&HEALTH_CHECK_HTTP_CHECK_INFO)),
        field("delay_seconds", Optional, Double),
        field("interval_seconds", Optional, Double),
        field("timeout_seconds", Optional, Double),
        field("consecutive_failures", Optional, UInt32),
        field("grace_period_seconds", Optional, Double),
        field("command", Optional, Message(&COMMAND_INFO)),
        field("type", Optional, Enum(&HEALTH_CHECK_TYPE)),
        field("tcp", Optional, Message(&HEALTH_CHECK_TCP_CHECK_INFO)),
    ],
    required: &[],
    by_name: &[6, 4, 1, 5, 0, 2, 8, 3, 7],
};

pub(super) static CHECK_INFO: Message = Message {
    name: "mesos.CheckInfo",
    fields: &[
        field("type", Optional, Enum(&CHECK_INFO_TYPE)),
        field("command", Optional, Message(&CHECK_INFO_COMMAND)),
        field("http", Optional, Message(&CHECK_INFO_HTTP)),
        field("delay_seconds", Optional, Double),
        field("interval_seconds", Optional, Double),
        field("timeout_seconds", Optional, Double),
        field("tcp", Optional, Message(&CHECK_INFO_TCP)),
    ],
    required: &[],
    by_name: &[1, 3, 2, 4, 6, 5, 0],
};

pub(super) static KILL_POLICY: Message = Message {
    name: "mesos.KillPolicy",
    fields: &[field("grace_period", Optional, Message(&DURATION_INFO))],
    required: &[],
    by_name: &[0],
};

pub(super) static CONTAINER_INFO_DOCKER_INFO: Message = Message {
    name: "mesos.ContainerInfo.DockerInfo",
    fields: &[
        field("image", Required, String),
        field(
            "network",
            Optional,
            Enum(&CONTAINER_INFO_DOCKER_INFO_NETWORK),
        ),
        field(
            "port_mappings",
            Repeated,
            Message(&CONTAINER_INFO_DOCKER_INFO_PORT_MAPPING),
        ),
        field("privileged", Optional, Bool),
        field("parameters", Repeated, Message(&PARAMETER)),
        field("force_pull_image", Optional, Bool),
        field("volume_driver", Optional, String),
    ],
    required: &[0],
    by_name: &[5, 0, 1, 4, 2, 3, 6],
};

pub(super) static CONTAINER_INFO_MESOS_INFO: Message = Message {
    name: "mesos.ContainerInfo.MesosInfo",
    fields: &[field("image", Optional, Message(&IMAGE))],
    required: &[],
    by_name: &[0],
};

pub(super) static LINUX_INFO: Message = Message {
    name: "mesos.LinuxInfo",
    fields: &[
        field("capability_info", Optional, Message(&CAPABILITY_INFO)),
        field("bounding_capabilities", Optional, Message(&CAPABILITY_INFO)),
        field(
            "effective_capabilities",
            Optional,
            Message(&CAPABILITY_INFO),
        ),
        field("share_pid_namespace", Optional, Bool),
        field("seccomp", Optional, Message(&SECCOMP_INFO)),
        field("ipc_mode", Optional, Enum(&LINUX_INFO_IPC_MODE)),
        field("shm_size", Optional, UInt32),
        field("share_cgroups", Optional, Bool),
    ],
    required: &[],
    by_name: &[1, 0, 2, 5, 4, 7, 3, 6],
};

pub(super) static TTY_INFO: Message = Message {
    name: "mesos.TTYInfo",
    fields: &[field(
        "window_size",
        Optional,
        Message(&TTY_INFO_WINDOW_SIZE),
    )],
    required: &[],
    by_name: &[0],
};

pub(super) static DOCKER_SPEC_V1_IMAGE_MANIFEST: Message = Message {
    name: "docker.spec.v1.ImageManifest",
    fields: &[
        field("id", Optional, String),
        field("parent", Optional, String),
        field("comment", Optional, String),
        field("created", Optional, String),
        field("container", Optional, String),
        field(
            "container_config",
            Optional,
            Message(&DOCKER_SPEC_V1_IMAGE_MANIFEST_CONFIG),
        ),
        field("docker_version", Optional, String),
        field("author", Optional, String),
        field(
            "config",
            Optional,
            Message(&DOCKER_SPEC_V1_IMAGE_MANIFEST_CONFIG),
        ),
        field("architecture", Optional, String),
        field("os", Optional, String),
        field("Size", Optional, UInt32),
    ],
    required: &[],
    by_name: &[11, 9, 7, 2, 8, 4, 5, 3, 6, 0, 10, 1],
};

pub(super) static APPC_SPEC_IMAGE_MANIFEST: Message = Message {
    name: "appc.spec.ImageManifest",
    fields: &[
        field("acKind", Required, String),
        field("acVersion", Required, String),
        field("name", Required, String),
        field("labels", Repeated, Message(&APPC_SPEC_IMAGE_MANIFEST_LABEL)),
        field(
            "annotations",
            Repeated,
            Message(&APPC_SPEC_IMAGE_MANIFEST_ANNOTATION),
        ),
        field(
            "dependencies",
            Repeated,
            Message(&APPC_SPEC_IMAGE_MANIFEST_DEPENDENCY),
        ),
        field("app", Optional, Message(&APPC_SPEC_IMAGE_MANIFEST_APP)),
    ],
    required: &[0, 1, 2],
    by_name: &[0, 1, 4, 6, 5, 3, 2],
};

pub(super) static SECRET_REFERENCE: Message = Message {
    name: "mesos.Secret.Reference",
    fields: &[
        field("name", Required, String),
        field("key", Optional, String),
    ],
    required: &[0],
    by_name: &[1, 0],
};

pub(super) static SECRET_VALUE: Message = Message {
    name: "mesos.Secret.Value",
    fields: &[field("data", Required, Bytes)],
    required: &[0],
    by_name: &[0],
};

pub(super) static IMAGE: Message = Message {
    name: "mesos.Image",
    fields: &[
        field("type", Required, Enum(&IMAGE_TYPE)),
        field("appc", Optional, Message(&IMAGE_APPC)),
        field("docker", Optional, Message(&IMAGE_DOCKER)),
        field("cached", Optional, Bool),
    ],
    required: &[0],
    by_name: &[1, 3, 2, 0],
};

pub(super) static VOLUME_SOURCE: Message = Message {
    name: "mesos.Volume.Source",
    fields: &[
        field("type", Optional, Enum(&VOLUME_SOURCE_TYPE)),
        field(
            "docker_volume",
            Optional,
            Message(&VOLUME_SOURCE_DOCKER_VOLUME),
        ),
        field(
            "sandbox_path",
            Optional,
            Message(&VOLUME_SOURCE_SANDBOX_PATH),
        ),
        field("secret", Optional, Message(&SECRET)),
        field("host_path", Optional, Message(&VOLUME_SOURCE_HOST_PATH)),
        field("csi_volume", Optional, Message(&VOLUME_SOURCE_CSI_VOLUME)),
    ],
    required: &[],
    by_name: &[5, 1, 4, 2, 3, 0],
};

pub(super) static RESOURCE_DISK_INFO_SOURCE_PATH: Message = Message {
    name: "mesos.Resource.DiskInfo.Source.Path",
    fields: &[field("root", Optional, String)],
    required: &[],
    by_name: &[0],
};

pub(super) static RESOURCE_DISK_INFO_SOURCE_MOUNT: Message = Message {
    name: "mesos.Resource.DiskInfo.Source.Mount",
    fields: &[field("root", Optional, String)],
    required: &[],
    by_name: &[0],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ARG: Message = Message {
    name: "mesos.seccomp.ContainerSeccompProfile.Syscall.Arg",
    fields: &[
        field("index", Required, UInt32),
        field(
            "op",
            Required,
            Enum(&SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ARG_OPERATOR),
        ),
        field("value", Required, UInt64),
        field("value_two", Required, UInt64),
    ],
    required: &[0, 1, 2, 3],
    by_name: &[0, 1, 2, 3],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_FILTER: Message = Message {
    name: "mesos.seccomp.ContainerSeccompProfile.Syscall.Filter",
    fields: &[field(
        "capabilities",
        Repeated,
        Enum(&CAPABILITY_INFO_CAPABILITY),
    )],
    required: &[],
    by_name: &[0],
};

pub(super) static DEVICE_NUMBER: Message = Message {
    name: "mesos.Device.Number",
    fields: &[
        field("major_number", Required, UInt64),
        field("minor_number", Required, UInt64),
    ],
    required: &[0, 1],
    by_name: &[0, 1],
};

pub(super) static CGROUP_INFO_BLKIO_VALUE: Message = Message {
    name: "mesos.CgroupInfo.Blkio.Value",
    fields: &[
        field("op", Optional, Enum(&CGROUP_INFO_BLKIO_OPERATION)),
        field("value", Optional, UInt64),
    ],
    required: &[],
    by_name: &[0, 1],
};

pub(super) static PORTS: Message = Message {
    name: "mesos.Ports",
    fields: &[field("ports", Repeated, Message(&PORT))],
    required: &[],
    by_name: &[0],
};

pub(super) static HEALTH_CHECK_HTTP_CHECK_INFO: Message = Message {
    name: "mesos.HealthCheck.HTTPCheckInfo",
    fields: &[
        field("port", Required, UInt32),
        field("path", Optional, String),
        field("scheme", Optional, String),
        field("statuses", Repeated, UInt32),
        field("protocol", Optional, Enum(&NETWORK_INFO_PROTOCOL)),
    ],
    required: &[0],
    by_name: &[1, 0, 4, 2, 3],
};

pub(super) static HEALTH_CHECK_TCP_CHECK_INFO: Message = Message {
    name: "mesos.HealthCheck.TCPCheckInfo",
    fields: &[
        field("port", Required, UInt32),
        field("protocol", Optional, Enum(&NETWORK_INFO_PROTOCOL)),
    ],
    required: &[0],
    by_name: &[0, 1],
};

pub(super) static CHECK_INFO_COMMAND: Message = Message {
    name: "mesos.CheckInfo.Command",
    fields: &[field("command", Required, Message(&COMMAND_INFO))],
    required: &[0],
    by_name: &[0],
};

pub(super) static CHECK_INFO_HTTP: Message = Message {
    name: "mesos.CheckInfo.Http",
    fields: &[
        field("port", Required, UInt32),
        field("path", Optional, String),
    ],
    required: &[0],
    by_name: &[1, 0],
};

pub(super) static CHECK_INFO_TCP: Message = Message {
    name: "mesos.CheckInfo.Tcp",
    fields: &[field("port", Required, UInt32)],
    required: &[0],
    by_name: &[0],
};

pub(super) static CONTAINER_INFO_DOCKER_INFO_PORT_MAPPING: Message = Message {
    name: "mesos.ContainerInfo.DockerInfo.PortMapping",
    fields: &[
        field("host_port", Required, UInt32),
        field("container_port", Required, UInt32),
        field("protocol", Optional, String),
    ],
    required: &[0, 1],
    by_name: &[1, 0, 2],
};

pub(super) static PARAMETER: Message = Message {
    name: "mesos.Parameter",
    fields: &[
        field("key", Required, String),
        field("value", Required, String),
    ],
    required: &[0, 1],
    by_name: &[0, 1],
};

pub(super) static SECCOMP_INFO: Message = Message {
    name: "mesos.SeccompInfo",
    fields: &[
        field("profile_name", Optional, String),
        field("unconfined", Optional, Bool),
    ],
    required: &[],
    by_name: &[0, 1],
};

pub(super) static TTY_INFO_WINDOW_SIZE: Message = Message {
    name: "mesos.TTYInfo.WindowSize",
    fields: &[
        field("rows", Required, UInt32),
        field("columns", Required, UInt32),
    ],
    required: &[0, 1],
    by_name: &[1, 0],
};

pub(super) static DOCKER_SPEC_V1_IMAGE_MANIFEST_CONFIG: Message = Message {
    name: "docker.spec.v1.ImageManifest.Config",
    fields: &[
        field("Hostname", Optional, String),
        field("Entrypoint", Repeated, String),
        field("Env", Repeated, String),
        field("User", Optional, String),
        field("Cmd", Repeated, String),
        field("WorkingDir", Optional, String),
        field("Image", Optional, String),
        field("Labels", Map(String), String),
    ],
    required: &[],
    by_name: &[4, 1, 2, 0, 6, 7, 3, 5],
};

pub(super) static APPC_SPEC_IMAGE_MANIFEST_LABEL: Message = Message {
    name: "appc.spec.ImageManifest.Label",
    fields: &[
        field("name", Required, String),
        field("value", Required, String),
    ],
    required: &[0, 1],
    by_name: &[0, 1],
};

pub(super) static APPC_SPEC_IMAGE_MANIFEST_APP: Message = Message {
    name: "appc.spec.ImageManifest.App",
    fields: &[
        field("exec", Repeated, String),
        field("workingDirectory", Optional, String),
        field(
            "environment",
            Repeated,
            Message(&APPC_SPEC_IMAGE_MANIFEST_ENVIRONMENT),
        ),
    ],
    required: &[],
    by_name: &[2, 0, 1],
};

pub(super) static APPC_SPEC_IMAGE_MANIFEST_ANNOTATION: Message = Message {
    name: "appc.spec.ImageManifest.Annotation",
    fields: &[
        field("name", Required, String),
        field("value", Required, String),
    ],
    required: &[0, 1],
    by_name: &[0, 1],
};

pub(super) static APPC_SPEC_IMAGE_MANIFEST_DEPENDENCY: Message = Message {
    name: "appc.spec.ImageManifest.Dependency",
    fields: &[
        field("imageName", Required, String),
        field("imageID", Optional, String),
        field("labels", Repeated, Message(&APPC_SPEC_IMAGE_MANIFEST_LABEL)),
        field("size", Optional, UInt64),
    ],
    required: &[0],
    by_name: &[1, 0, 2, 3],
};

pub(super) static IMAGE_APPC: Message = Message {
    name: "mesos.Image.Appc",
    fields: &[
        field("name", Required, String),
        field("id", Optional, String),
        field("labels", Optional, Message(&LABELS)),
    ],
    required: &[0],
    by_name: &[1, 2, 0],
};

pub(super) static IMAGE_DOCKER: Message = Message {
    name: "mesos.Image.Docker",
    fields: &[
        field("name", Required, String),
        field("credential", Optional, Message(&CREDENTIAL)),
        field("config", Optional, Message(&SECRET)),
    ],
    required: &[0],
    by_name: &[2, 1, 0],
};

pub(super) static VOLUME_SOURCE_DOCKER_VOLUME: Message = Message {
    name: "mesos.Volume.Source.DockerVolume",
    fields: &[
        field("driver", Optional, String),
        field("name", Required, String),
        field("driver_options", Optional, Message(&PARAMETERS)),
    ],
    required: &[1],
    by_name: &[0, 2, 1],
};

pub(super) static VOLUME_SOURCE_HOST_PATH: Message = Message {
    name: "mesos.Volume.Source.HostPath",
    fields: &[
        field("path", Required, String),
        field("mount_propagation", Optional, Message(&MOUNT_PROPAGATION)),
    ],
    required: &[0],
    by_name: &[1, 0],
};

pub(super) static VOLUME_SOURCE_SANDBOX_PATH: Message = Message {
    name: "mesos.Volume.Source.SandboxPath",
    fields: &[
        field("type", Optional, Enum(&VOLUME_SOURCE_SANDBOX_PATH_TYPE)),
        field("path", Required, String),
    ],
    required: &[1],
    by_name: &[1, 0],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME: Message = Message {
    name: "mesos.Volume.Source.CSIVolume",
    fields: &[
        field("plugin_name", Required, String),
        field(
            "static_provisioning",
            Optional,
            Message(&VOLUME_SOURCE_CSI_VOLUME_STATIC_PROVISIONING),
        ),
    ],
    required: &[0],
    by_name: &[0, 1],
};

pub(super) static PORT: Message = Message {
    name: "mesos.Port",
    fields: &[
        field("number", Required, UInt32),
        field("name", Optional, String),
        field("protocol", Optional, String),
        field("visibility", Optional, Enum(&DISCOVERY_INFO_VISIBILITY)),
        field("labels", Optional, Message(&LABELS)),
    ],
    required: &[0],
    by_name: &[4, 1, 0, 2, 3],
};

pub(super) static APPC_SPEC_IMAGE_MANIFEST_ENVIRONMENT: Message = Message {
    name: "appc.spec.ImageManifest.Environment",
    fields: &[
        field("name", Required, String),
        field("value", Required, String),
    ],
    required: &[0, 1],
    by_name: &[0, 1],
};

pub(super) static CREDENTIAL: Message = Message {
    name: "mesos.Credential",
    fields: &[
        field("principal", Required, String),
        field("secret", Optional, String),
    ],
    required: &[0],
    by_name: &[0, 1],
};

pub(super) static PARAMETERS: Message = Message {
    name: "mesos.Parameters",
    fields: &[field("parameter", Repeated, Message(&PARAMETER))],
    required: &[],
    by_name: &[0],
};

pub(super) static MOUNT_PROPAGATION: Message = Message {
    name: "mesos.MountPropagation",
    fields: &[field("mode", Optional, Enum(&MOUNT_PROPAGATION_MODE))],
    required: &[],
    by_name: &[0],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME_STATIC_PROVISIONING: Message = Message {
    name: "mesos.Volume.Source.CSIVolume.StaticProvisioning",
    fields: &[
        field("volume_id", Required, String),
        field(
            "volume_capability",
            Required,
            Message(&VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY),
        ),
        field("node_stage_secrets", Map(String), Message(&SECRET)),
        field("node_publish_secrets", Map(String), Message(&SECRET)),
        field("volume_context", Map(String), String),
    ],
    required: &[0, 1],
    by_name: &[3, 2, 1, 4, 0],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY: Message = Message {
    name: "mesos.Volume.Source.CSIVolume.VolumeCapability",
    fields: &[
        oneof_field(
            "block",
            Optional,
            Message(&VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_BLOCK_VOLUME),
            0,
        ),
        oneof_field(
            "mount",
            Optional,
            Message(&VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_MOUNT_VOLUME),
            0,
        ),
        field(
            "access_mode",
            Required,
            Message(&VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_ACCESS_MODE),
        ),
    ],
    required: &[2],
    by_name: &[2, 0, 1],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_BLOCK_VOLUME: Message = Message {
    name: "mesos.Volume.Source.CSIVolume.VolumeCapability.BlockVolume",
    fields: &[],
    required: &[],
    by_name: &[],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_MOUNT_VOLUME: Message = Message {
    name: "mesos.Volume.Source.CSIVolume.VolumeCapability.MountVolume",
    fields: &[
        field("fs_type", Optional, String),
        field("mount_flags", Repeated, String),
    ],
    required: &[],
    by_name: &[0, 1],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_ACCESS_MODE: Message = Message {
    name: "mesos.Volume.Source.CSIVolume.VolumeCapability.AccessMode",
    fields: &[field(
        "mode",
        Required,
        Enum(&VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_ACCESS_MODE_MODE),
    )],
    required: &[0],
    by_name: &[0],
};

pub(super) static SLAVE_QOS_CORRECTION: Message = Message {
    name: "mesos.slave.QoSCorrection",
    fields: &[
        field("type", Required, Enum(&SLAVE_QOS_CORRECTION_TYPE)),
        field("kill", Optional, Message(&SLAVE_QOS_CORRECTION_KILL)),
    ],
    required: &[0],
    by_name: &[1, 0],
};

pub(super) static SLAVE_QOS_CORRECTION_KILL: Message = Message {
    name: "mesos.slave.QoSCorrection.Kill",
    fields: &[
        field("framework_id", Optional, Message(&FRAMEWORK_ID)),
        field("executor_id", Optional, Message(&EXECUTOR_ID)),
        field("container_id", Optional, Message(&CONTAINER_ID)),
    ],
    required: &[],
    by_name: &[2, 1, 0],
};

pub(super) static SLAVE_QOS_CORRECTION_TYPE: Enum = Enum {
    name: "mesos.slave.QoSCorrection.Type",
    values: &["KILL"],
};

pub(super) static VALUE_TYPE: Enum = Enum {
    name: "mesos.Value.Type",
    values: &["SCALAR", "RANGES", "SET", "TEXT"],
};

pub(super) static TASK_STATE: Enum = Enum {
    name: "mesos.TaskState",
    values: &[
        "TASK_STAGING",
        "TASK_STARTING",
        "TASK_RUNNING",
        "TASK_KILLING",
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_ERROR",
        "TASK_LOST",
        "TASK_DROPPED",
        "TASK_UNREACHABLE",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
        "TASK_UNKNOWN",
    ],
};

pub(super) static TASK_STATUS_SOURCE: Enum = Enum {
    name: "mesos.TaskStatus.Source",
    values: &["SOURCE_MASTER", "SOURCE_SLAVE", "SOURCE_EXECUTOR"],
};

pub(super) static TASK_STATUS_REASON: Enum = Enum {
    name: "mesos.TaskStatus.Reason",
    values: &[
        "REASON_COMMAND_EXECUTOR_FAILED",
        "REASON_CONTAINER_LAUNCH_FAILED",
        "REASON_CONTAINER_LIMITATION",
        "REASON_CONTAINER_LIMITATION_DISK",
        "REASON_CONTAINER_LIMITATION_MEMORY",
        "REASON_CONTAINER_PREEMPTED",
        "REASON_CONTAINER_UPDATE_FAILED",
        "REASON_MAX_COMPLETION_TIME_REACHED",
        "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        "REASON_EXECUTOR_TERMINATED",
        "REASON_EXECUTOR_UNREGISTERED",
        "REASON_FRAMEWORK_REMOVED",
        "REASON_GC_ERROR",
        "REASON_INVALID_FRAMEWORKID",
        "REASON_INVALID_OFFERS",
        "REASON_IO_SWITCHBOARD_EXITED",
        "REASON_MASTER_DISCONNECTED",
        "REASON_RECONCILIATION",
        "REASON_RESOURCES_UNKNOWN",
        "REASON_SLAVE_DISCONNECTED",
        "REASON_SLAVE_DRAINING",
        "REASON_SLAVE_REMOVED",
        "REASON_SLAVE_REMOVED_BY_OPERATOR",
        "REASON_SLAVE_REREGISTERED",
        "REASON_SLAVE_RESTARTED",
        "REASON_SLAVE_UNKNOWN",
        "REASON_TASK_KILLED_DURING_LAUNCH",
        "REASON_TASK_CHECK_STATUS_UPDATED",
        "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        "REASON_TASK_GROUP_INVALID",
        "REASON_TASK_GROUP_UNAUTHORIZED",
        "REASON_TASK_INVALID",
        "REASON_TASK_UNAUTHORIZED",
        "REASON_TASK_UNKNOWN",
    ],
};

pub(super) static SLAVE_CONTAINER_CLASS: Enum = Enum {
    name: "mesos.slave.ContainerClass",
    values: &["DEFAULT", "DEBUG"],
};

pub(super) static ENVIRONMENT_VARIABLE_TYPE: Enum = Enum {
    name: "mesos.Environment.Variable.Type",
    values: &["UNKNOWN", "VALUE", "SECRET"],
};

pub(super) static RESOURCE_RESERVATION_INFO_TYPE: Enum = Enum {
    name: "mesos.Resource.ReservationInfo.Type",
    values: &["UNKNOWN", "STATIC", "DYNAMIC"],
};

pub(super) static CHECK_INFO_TYPE: Enum = Enum {
    name: "mesos.CheckInfo.Type",
    values: &["UNKNOWN", "COMMAND", "HTTP", "TCP"],
};

pub(super) static SLAVE_CONTAINER_FILE_OPERATION_OPERATION: Enum = Enum {
    name: "mesos.slave.ContainerFileOperation.Operation",
    values: &["SYMLINK", "MOUNT", "RENAME", "MKDIR"],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ACTION: Enum = Enum {
    name: "mesos.seccomp.ContainerSeccompProfile.Syscall.Action",
    values: &[
        "UNKNOWN",
        "ACT_KILL",
        "ACT_TRAP",
        "ACT_ERRNO",
        "ACT_TRACE",
        "ACT_ALLOW",
    ],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE_ARCHITECTURE: Enum = Enum {
    name: "mesos.seccomp.ContainerSeccompProfile.Architecture",
    values: &[
        "UNKNOWN",
        "ARCH_X86",
        "ARCH_X86_64",
        "ARCH_X32",
        "ARCH_ARM",
        "ARCH_AARCH64",
        "ARCH_MIPS",
        "ARCH_MIPSEL",
        "ARCH_MIPS64",
        "ARCH_MIPSEL64",
        "ARCH_MIPS64N32",
        "ARCH_MIPSEL64N32",
        "ARCH_PPC",
        "ARCH_PPC64",
        "ARCH_PPC64LE",
        "ARCH_S390",
        "ARCH_S390X",
    ],
};

pub(super) static CAPABILITY_INFO_CAPABILITY: Enum = Enum {
    name: "mesos.CapabilityInfo.Capability",
    values: &[
        "UNKNOWN",
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
    ],
};

pub(super) static EXECUTOR_INFO_TYPE: Enum = Enum {
    name: "mesos.ExecutorInfo.Type",
    values: &["UNKNOWN", "DEFAULT", "CUSTOM"],
};

pub(super) static CONTAINER_INFO_TYPE: Enum = Enum {
    name: "mesos.ContainerInfo.Type",
    values: &["DOCKER", "MESOS"],
};

pub(super) static SECRET_TYPE: Enum = Enum {
    name: "mesos.Secret.Type",
    values: &["UNKNOWN", "REFERENCE", "VALUE"],
};

pub(super) static VOLUME_MODE: Enum = Enum {
    name: "mesos.Volume.Mode",
    values: &["RW", "RO"],
};

pub(super) static RESOURCE_DISK_INFO_SOURCE_TYPE: Enum = Enum {
    name: "mesos.Resource.DiskInfo.Source.Type",
    values: &["UNKNOWN", "PATH", "MOUNT", "BLOCK", "RAW"],
};

pub(super) static R_LIMIT_INFO_R_LIMIT_TYPE: Enum = Enum {
    name: "mesos.RLimitInfo.RLimit.Type",
    values: &[
        "UNKNOWN",
        "RLMT_AS",
        "RLMT_CORE",
        "RLMT_CPU",
        "RLMT_DATA",
        "RLMT_FSIZE",
        "RLMT_LOCKS",
        "RLMT_MEMLOCK",
        "RLMT_MSGQUEUE",
        "RLMT_NICE",
        "RLMT_NOFILE",
        "RLMT_NPROC",
        "RLMT_RSS",
        "RLMT_RTPRIO",
        "RLMT_RTTIME",
        "RLMT_SIGPENDING",
        "RLMT_STACK",
    ],
};

pub(super) static NETWORK_INFO_PROTOCOL: Enum = Enum {
    name: "mesos.NetworkInfo.Protocol",
    values: &["IPv4", "IPv6"],
};

pub(super) static DISCOVERY_INFO_VISIBILITY: Enum = Enum {
    name: "mesos.DiscoveryInfo.Visibility",
    values: &["FRAMEWORK", "CLUSTER", "EXTERNAL"],
};

pub(super) static HEALTH_CHECK_TYPE: Enum = Enum {
    name: "mesos.HealthCheck.Type",
    values: &["UNKNOWN", "COMMAND", "HTTP", "TCP"],
};

pub(super) static CONTAINER_INFO_DOCKER_INFO_NETWORK: Enum = Enum {
    name: "mesos.ContainerInfo.DockerInfo.Network",
    values: &["HOST", "BRIDGE", "NONE", "USER"],
};

pub(super) static LINUX_INFO_IPC_MODE: Enum = Enum {
    name: "mesos.LinuxInfo.IpcMode",
    values: &["UNKNOWN", "PRIVATE", "SHARE_PARENT"],
};

pub(super) static IMAGE_TYPE: Enum = Enum {
    name: "mesos.Image.Type",
    values: &["APPC", "DOCKER"],
};

pub(super) static VOLUME_SOURCE_TYPE: Enum = Enum {
    name: "mesos.Volume.Source.Type",
    values: &[
        "UNKNOWN",
        "DOCKER_VOLUME",
        "HOST_PATH",
        "SANDBOX_PATH",
        "SECRET",
        "CSI_VOLUME",
    ],
};

pub(super) static SECCOMP_CONTAINER_SECCOMP_PROFILE_SYSCALL_ARG_OPERATOR: Enum = Enum {
    name: "mesos.seccomp.ContainerSeccompProfile.Syscall.Arg.Operator",
    values: &[
        "UNKNOWN",
        "CMP_NE",
        "CMP_LT",
        "CMP_LE",
        "CMP_EQ",
        "CMP_GE",
        "CMP_GT",
        "CMP_MASKED_EQ",
    ],
};

pub(super) static CGROUP_INFO_BLKIO_OPERATION: Enum = Enum {
    name: "mesos.CgroupInfo.Blkio.Operation",
    values: &[
        "UNKNOWN", "TOTAL", "READ", "WRITE", "SYNC", "ASYNC", "DISCARD",
    ],
};

pub(super) static VOLUME_SOURCE_SANDBOX_PATH_TYPE: Enum = Enum {
    name: "mesos.Volume.Source.SandboxPath.Type",
    values: &["UNKNOWN", "SELF", "PARENT"],
};

pub(super) static MOUNT_PROPAGATION_MODE: Enum = Enum {
    name: "mesos.MountPropagation.Mode",
    values: &["UNKNOWN", "HOST_TO_CONTAINER", "BIDIRECTIONAL"],
};

pub(super) static VOLUME_SOURCE_CSI_VOLUME_VOLUME_CAPABILITY_ACCESS_MODE_MODE: Enum = Enum {
    name: "mesos.Volume.Source.CSIVolume.VolumeCapability.AccessMode.Mode",
    values: &[
        "UNKNOWN",
        "SINGLE_NODE_WRITER",
        "SINGLE_NODE_READER_ONLY",
        "MULTI_NODE_READER_ONLY",
        "MULTI_NODE_SINGLE_WRITER",
        "MULTI_NODE_MULTI_WRITER",
    ],
};
