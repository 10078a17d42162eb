// See oversubscription.hpp.

#include "mesos-command-modules/shim/oversubscription.hpp"

#include <utility>

#include "mesos-command-modules/shim/method.h"

namespace mesos_command_modules {

CommandResourceEstimator::CommandResourceEstimator(
    process::Owned<CommandModule> _module)
  : module(std::move(_module))
{}


Try<Nothing> CommandResourceEstimator::initialize(const UsageCallback& _usage)
{
  usage = _usage;
  return Nothing();
}


process::Future<mesos::Resources> CommandResourceEstimator::oversubscribable()
{
  return module->callAwaiting<mesos::Resources>(
      Method::kResourceEstimatorOversubscribable, usage);
}


CommandQoSController::CommandQoSController(
    process::Owned<CommandModule> _module)
  : module(std::move(_module))
{}


Try<Nothing> CommandQoSController::initialize(const UsageCallback& _usage)
{
  usage = _usage;
  return Nothing();
}


process::Future<std::list<mesos::slave::QoSCorrection>>
CommandQoSController::corrections()
{
  return module->callAwaiting<std::list<mesos::slave::QoSCorrection>>(
      Method::kQoSControllerCorrections, usage);
}

}  // namespace mesos_command_modules
