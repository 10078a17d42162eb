// `CommandHook`: a `mesos::Hook` whose every method runs a command.

#ifndef MESOS_COMMAND_MODULES_SHIM_HOOK_HPP_
#define MESOS_COMMAND_MODULES_SHIM_HOOK_HPP_

#include <map>
#include <string>

#include <mesos/attributes.hpp>
#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>
#include <mesos/resources.hpp>
#include <process/future.hpp>
#include <process/owned.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>
#include <stout/result.hpp>
#include <stout/try.hpp>

#include "mesos-command-modules/shim/module.hpp"

namespace mesos_command_modules {

// Every method converts its arguments to JSON (one text per argument, in
// the order of the C++ signature) and hands them to the Rust core, which
// runs the configured command, or answers "no change" when there is none.
// All methods but `slavePreLaunchDockerTaskExecutorDecorator` block the
// calling actor until the core answers; the core bounds that time.
class CommandHook : public mesos::Hook
{
public:
  explicit CommandHook(process::Owned<CommandModule> module);

  Result<mesos::Labels> masterLaunchTaskLabelDecorator(
      const mesos::TaskInfo& taskInfo,
      const mesos::FrameworkInfo& frameworkInfo,
      const mesos::SlaveInfo& slaveInfo) override;

  Result<mesos::Resources> masterLaunchTaskResourceDecorator(
      const mesos::TaskInfo& taskInfo,
      const mesos::Resources& slaveResources) override;

  Result<mesos::Labels> slaveRunTaskLabelDecorator(
      const mesos::TaskInfo& taskInfo,
      const mesos::ExecutorInfo& executorInfo,
      const mesos::FrameworkInfo& frameworkInfo,
      const mesos::SlaveInfo& slaveInfo) override;

  Try<Nothing> masterSlaveLostHook(const mesos::SlaveInfo& slaveInfo) override;

  Result<mesos::Environment> slaveExecutorEnvironmentDecorator(
      const mesos::ExecutorInfo& executorInfo) override;

  process::Future<Option<mesos::DockerTaskExecutorPrepareInfo>>
  slavePreLaunchDockerTaskExecutorDecorator(
      const Option<mesos::TaskInfo>& taskInfo,
      const mesos::ExecutorInfo& executorInfo,
      const std::string& containerName,
      const std::string& containerWorkDirectory,
      const std::string& mappedSandboxDirectory,
      const Option<std::map<std::string, std::string>>& env) override;

  Try<Nothing> slavePostFetchHook(
      const mesos::ContainerID& containerId,
      const std::string& directory) override;

  Try<Nothing> slaveRemoveExecutorHook(
      const mesos::FrameworkInfo& frameworkInfo,
      const mesos::ExecutorInfo& executorInfo) override;

  Result<mesos::TaskStatus> slaveTaskStatusDecorator(
      const mesos::FrameworkID& frameworkId,
      const mesos::TaskStatus& status) override;

  Result<mesos::Resources> slaveResourcesDecorator(
      const mesos::SlaveInfo& slaveInfo) override;

  Result<mesos::Attributes> slaveAttributesDecorator(
      const mesos::SlaveInfo& slaveInfo) override;

private:
  const process::Owned<CommandModule> module;
};

}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_HOOK_HPP_
