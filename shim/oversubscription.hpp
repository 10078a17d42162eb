// `CommandResourceEstimator` and `CommandQoSController`: the agent's two
// oversubscription policies, each one method delegated to a command.
//
// Both take the agent's `ResourceUsage` callback at `initialize` and call it
// at every call: the command gets `{"usage": ...}`. The core starts the
// call's clock before the usage is asked for (`CommandModule::callAwaiting`),
// so an agent that never answers still gets the method's failure meaning in
// time: an estimator that never answered would stop the agent's estimate
// loop for good (`Slave::_forwardOversubscribed` reschedules only on an
// answer).

#ifndef MESOS_COMMAND_MODULES_SHIM_OVERSUBSCRIPTION_HPP_
#define MESOS_COMMAND_MODULES_SHIM_OVERSUBSCRIPTION_HPP_

#include <list>

#include <mesos/mesos.hpp>
#include <mesos/resources.hpp>
#include <mesos/slave/oversubscription.hpp>
#include <mesos/slave/qos_controller.hpp>
#include <mesos/slave/resource_estimator.hpp>
#include <process/future.hpp>
#include <process/owned.hpp>
#include <stout/lambda.hpp>
#include <stout/nothing.hpp>
#include <stout/try.hpp>

#include "mesos-command-modules/shim/module.hpp"

namespace mesos_command_modules {

// How a module obtains the agent's current usage.
using UsageCallback = lambda::function<process::Future<mesos::ResourceUsage>()>;


class CommandResourceEstimator : public mesos::slave::ResourceEstimator
{
public:
  explicit CommandResourceEstimator(process::Owned<CommandModule> module);

  Try<Nothing> initialize(const UsageCallback& usage) override;

  process::Future<mesos::Resources> oversubscribable() override;

private:
  const process::Owned<CommandModule> module;
  UsageCallback usage;
};


class CommandQoSController : public mesos::slave::QoSController
{
public:
  explicit CommandQoSController(process::Owned<CommandModule> module);

  Try<Nothing> initialize(const UsageCallback& usage) override;

  process::Future<std::list<mesos::slave::QoSCorrection>> corrections()
      override;

private:
  const process::Owned<CommandModule> module;
  UsageCallback usage;
};

}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_OVERSUBSCRIPTION_HPP_
