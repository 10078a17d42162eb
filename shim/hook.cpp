// See hook.hpp.

#include "mesos-command-modules/shim/hook.hpp"

#include <utility>
#include <vector>

#include "mesos-command-modules/shim/convert.hpp"
#include "mesos-command-modules/shim/method.h"

namespace mesos_command_modules {

CommandHook::CommandHook(process::Owned<CommandModule> _module)
  : module(std::move(_module))
{}


Result<mesos::Labels> CommandHook::masterLaunchTaskLabelDecorator(
    const mesos::TaskInfo& taskInfo,
    const mesos::FrameworkInfo& frameworkInfo,
    const mesos::SlaveInfo& slaveInfo)
{
  return module->callBlocking<Result<mesos::Labels>>(
      Method::kHookMasterLaunchTaskLabelDecorator, [&]() {
        return Arguments{
            toJson(taskInfo), toJson(frameworkInfo), toJson(slaveInfo)};
      });
}


Result<mesos::Resources> CommandHook::masterLaunchTaskResourceDecorator(
    const mesos::TaskInfo& taskInfo,
    const mesos::Resources& slaveResources)
{
  return module->callBlocking<Result<mesos::Resources>>(
      Method::kHookMasterLaunchTaskResourceDecorator, [&]() {
        return Arguments{toJson(taskInfo), toJson(slaveResources)};
      });
}


Result<mesos::Labels> CommandHook::slaveRunTaskLabelDecorator(
    const mesos::TaskInfo& taskInfo,
    const mesos::ExecutorInfo& executorInfo,
    const mesos::FrameworkInfo& frameworkInfo,
    const mesos::SlaveInfo& slaveInfo)
{
  return module->callBlocking<Result<mesos::Labels>>(
      Method::kHookSlaveRunTaskLabelDecorator, [&]() {
        return Arguments{
            toJson(taskInfo),
            toJson(executorInfo),
            toJson(frameworkInfo),
            toJson(slaveInfo)};
      });
}


Try<Nothing> CommandHook::masterSlaveLostHook(const mesos::SlaveInfo& slaveInfo)
{
  return module->callBlocking<Try<Nothing>>(
      Method::kHookMasterSlaveLostHook, [&]() {
        return Arguments{toJson(slaveInfo)};
      });
}


Result<mesos::Environment> CommandHook::slaveExecutorEnvironmentDecorator(
    const mesos::ExecutorInfo& executorInfo)
{
  return module->callBlocking<Result<mesos::Environment>>(
      Method::kHookSlaveExecutorEnvironmentDecorator, [&]() {
        return Arguments{toJson(executorInfo)};
      });
}


process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>>
CommandHook::slavePreLaunchDockerTaskExecutorDecorator(
    const Option<mesos::TaskInfo>& taskInfo,
    const mesos::ExecutorInfo& executorInfo,
    const std::string& containerName,
    const std::string& containerWorkDirectory,
    const std::string& mappedSandboxDirectory,
    const Option<std::map<std::string, std::string>>& env)
{
  return module->callAsync<Option<mesos::DockerTaskExecutorPrepareInfo>>(
      Method::kHookSlavePreLaunchDockerTaskExecutorDecorator, [&]() {
        return Arguments{
            toJson(taskInfo),
            toJson(executorInfo),
            toJson(containerName),
            toJson(containerWorkDirectory),
            toJson(mappedSandboxDirectory),
            toJson(env)};
      });
}


Try<Nothing> CommandHook::slavePostFetchHook(
    const mesos::ContainerID& containerId,
    const std::string& directory)
{
  return module->callBlocking<Try<Nothing>>(
      Method::kHookSlavePostFetchHook, [&]() {
        return Arguments{toJson(containerId), toJson(directory)};
      });
}


Try<Nothing> CommandHook::slaveRemoveExecutorHook(
    const mesos::FrameworkInfo& frameworkInfo,
    const mesos::ExecutorInfo& executorInfo)
{
  return module->callBlocking<Try<Nothing>>(
      Method::kHookSlaveRemoveExecutorHook, [&]() {
        return Arguments{toJson(frameworkInfo), toJson(executorInfo)};
      });
}


Result<mesos::TaskStatus> CommandHook::slaveTaskStatusDecorator(
    const mesos::FrameworkID& frameworkId,
    const mesos::TaskStatus& status)
{
  return module->callBlocking<Result<mesos::TaskStatus>>(
      Method::kHookSlaveTaskStatusDecorator, [&]() {
        return Arguments{toJson(frameworkId), toJson(status)};
      });
}


Result<mesos::Resources> CommandHook::slaveResourcesDecorator(
    const mesos::SlaveInfo& slaveInfo)
{
  return module->callBlocking<Result<mesos::Resources>>(
      Method::kHookSlaveResourcesDecorator, [&]() {
        return Arguments{toJson(slaveInfo)};
      });
}


Result<mesos::Attributes> CommandHook::slaveAttributesDecorator(
    const mesos::SlaveInfo& slaveInfo)
{
  return module->callBlocking<Result<mesos::Attributes>>(
      Method::kHookSlaveAttributesDecorator, [&]() {
        return Arguments{toJson(slaveInfo)};
      });
}

}  // namespace mesos_command_modules
