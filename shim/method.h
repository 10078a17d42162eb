// The numbering of the methods that cross the bridge.
//
// The Rust core identifies a method by `Method as u8` (src/method.rs); this
// enum mirrors those discriminants so that the shim can name them. The
// bridge host (tests/bridge_host) checks every value against the core's
// `method_key`, so a renumbering on either side fails a test instead of
// silently calling the wrong command.

#ifndef MESOS_COMMAND_MODULES_SHIM_METHOD_H_
#define MESOS_COMMAND_MODULES_SHIM_METHOD_H_

#include <cstdint>

namespace mesos_command_modules {

enum class Method : uint8_t
{
  kHookMasterLaunchTaskLabelDecorator = 0,
  kHookMasterLaunchTaskResourceDecorator = 1,
  kHookSlaveRunTaskLabelDecorator = 2,
  kHookMasterSlaveLostHook = 3,
  kHookSlaveExecutorEnvironmentDecorator = 4,
  kHookSlavePreLaunchDockerTaskExecutorDecorator = 5,
  kHookSlavePostFetchHook = 6,
  kHookSlaveRemoveExecutorHook = 7,
  kHookSlaveTaskStatusDecorator = 8,
  kHookSlaveResourcesDecorator = 9,
  kHookSlaveAttributesDecorator = 10,
  kIsolatorRecover = 11,
  kIsolatorPrepare = 12,
  kIsolatorIsolate = 13,
  kIsolatorWatch = 14,
  kIsolatorUpdate = 15,
  kIsolatorUsage = 16,
  kIsolatorStatus = 17,
  kIsolatorCleanup = 18,
  kResourceEstimatorOversubscribable = 19,
  kQoSControllerCorrections = 20,
};

// The number of methods; valid values are `0 .. kMethodCount - 1`.
constexpr uint8_t kMethodCount = 21;

// The bridge's encoding of a method.
constexpr uint8_t toIndex(Method method)
{
  return static_cast<uint8_t>(method);
}

// The module kinds of `create_module`.
enum class ModuleKind : uint8_t
{
  kHook = 0,
  kIsolator = 1,
  kResourceEstimator = 2,
  kQoSController = 3,
};

// The counters of `Module::metric_value`.
enum class Counter : uint8_t
{
  kCalls = 0,
  kErrors = 1,
  kTimeouts = 2,
};

}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_METHOD_H_
