// See isolator.hpp.

#include "mesos-command-modules/shim/isolator.hpp"

#include <utility>

#include "mesos-command-modules/shim/convert.hpp"
#include "mesos-command-modules/shim/method.h"

namespace mesos_command_modules {

CommandIsolator::CommandIsolator(process::Owned<CommandModule> _module)
  : module(std::move(_module))
{}


bool CommandIsolator::supportsNesting()
{
  return module->supportsNesting();
}


bool CommandIsolator::supportsStandalone()
{
  return module->supportsStandalone();
}


process::Future<Nothing> CommandIsolator::recover(
    const std::vector<mesos::slave::ContainerState>& states,
    const hashset<mesos::ContainerID>& orphans)
{
  return module->callAsync<Nothing>(Method::kIsolatorRecover, [&]() {
    return Arguments{toJson(states), toJson(orphans)};
  });
}


process::Future<Option<mesos::slave::ContainerLaunchInfo>>
CommandIsolator::prepare(
    const mesos::ContainerID& containerId,
    const mesos::slave::ContainerConfig& containerConfig)
{
  return module->callAsync<Option<mesos::slave::ContainerLaunchInfo>>(
      Method::kIsolatorPrepare, [&]() {
        return Arguments{toJson(containerId), toJson(containerConfig)};
      });
}


process::Future<Nothing> CommandIsolator::isolate(
    const mesos::ContainerID& containerId,
    pid_t pid)
{
  return module->callAsync<Nothing>(Method::kIsolatorIsolate, [&]() {
    return Arguments{toJson(containerId), pidToJson(pid)};
  });
}


process::Future<mesos::slave::ContainerLimitation> CommandIsolator::watch(
    const mesos::ContainerID& containerId)
{
  return module->callAsync<mesos::slave::ContainerLimitation>(
      Method::kIsolatorWatch, [&]() {
        return Arguments{toJson(containerId)};
      });
}


process::Future<Nothing> CommandIsolator::updateResources(
    const mesos::ContainerID& containerId,
    const mesos::Resources& resourceRequests,
    const compat::ResourceLimits& resourceLimits)
{
  return module->callAsync<Nothing>(Method::kIsolatorUpdate, [&]() {
    return Arguments{
        toJson(containerId), toJson(resourceRequests), toJson(resourceLimits)};
  });
}


process::Future<mesos::ResourceStatistics> CommandIsolator::usage(
    const mesos::ContainerID& containerId)
{
  return module->callAsync<mesos::ResourceStatistics>(
      Method::kIsolatorUsage, [&]() {
        return Arguments{toJson(containerId)};
      });
}


process::Future<mesos::ContainerStatus> CommandIsolator::status(
    const mesos::ContainerID& containerId)
{
  return module->callAsync<mesos::ContainerStatus>(
      Method::kIsolatorStatus, [&]() {
        return Arguments{toJson(containerId)};
      });
}


process::Future<Nothing> CommandIsolator::cleanup(
    const mesos::ContainerID& containerId)
{
  return module->callAsync<Nothing>(Method::kIsolatorCleanup, [&]() {
    return Arguments{toJson(containerId)};
  });
}

}  // namespace mesos_command_modules
