// `CommandIsolator`: a `mesos::slave::Isolator` whose every method runs a
// command.

#ifndef MESOS_COMMAND_MODULES_SHIM_ISOLATOR_HPP_
#define MESOS_COMMAND_MODULES_SHIM_ISOLATOR_HPP_

#include <sys/types.h>

#include <string>
#include <vector>

#include <mesos/mesos.hpp>
#include <mesos/resources.hpp>
#include <mesos/slave/isolator.hpp>
#include <process/future.hpp>
#include <process/owned.hpp>
#include <stout/hashset.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>

#include "mesos-command-modules/shim/compat.hpp"
#include "mesos-command-modules/shim/module.hpp"

namespace mesos_command_modules {

// Every method returns its future at once: the Rust core runs the command on
// its own threads and completes the future on this module's libprocess
// actor. The methods may be called concurrently from any libprocess thread;
// they only read immutable state and call the (thread-safe) core.
//
// `update` is `compat::Isolator`'s, which calls `updateResources` with the
// limits of every Mesos version (none before 1.10).
class CommandIsolator : public compat::Isolator
{
public:
  explicit CommandIsolator(process::Owned<CommandModule> module);

  bool supportsNesting() override;

  bool supportsStandalone() override;

  process::Future<Nothing> recover(
      const std::vector<mesos::slave::ContainerState>& states,
      const hashset<mesos::ContainerID>& orphans) override;

  process::Future<Option<mesos::slave::ContainerLaunchInfo>> prepare(
      const mesos::ContainerID& containerId,
      const mesos::slave::ContainerConfig& containerConfig) override;

  process::Future<Nothing> isolate(
      const mesos::ContainerID& containerId,
      pid_t pid) override;

  process::Future<mesos::slave::ContainerLimitation> watch(
      const mesos::ContainerID& containerId) override;

  process::Future<mesos::ResourceStatistics> usage(
      const mesos::ContainerID& containerId) override;

  process::Future<mesos::ContainerStatus> status(
      const mesos::ContainerID& containerId) override;

  process::Future<Nothing> cleanup(
      const mesos::ContainerID& containerId) override;

protected:
  process::Future<Nothing> updateResources(
      const mesos::ContainerID& containerId,
      const mesos::Resources& resourceRequests,
      const compat::ResourceLimits& resourceLimits) override;

private:
  const process::Owned<CommandModule> module;
};

}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_ISOLATOR_HPP_
