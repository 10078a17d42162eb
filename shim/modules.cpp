// The module symbols Mesos loads: `com_criteo_mesos_CommandHook`,
// `com_criteo_mesos_CommandHook2` ... `com_criteo_mesos_CommandHook11`, and
// the same eleven names for `CommandIsolator`, as the original module
// registers them. Several names exist because Mesos loads one instance, with
// one parameter set, per module name. Then one resource estimator and one
// QoS controller.
//
// A create function never throws and never aborts: an invalid configuration
// is logged (Mesos discards the reason) and answered with nullptr, which
// makes the agent exit with "Error creating Module instance".

#include <string>

#include <glog/logging.h>
#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>
#include <mesos/module.hpp>
#include <mesos/module/hook.hpp>
#include <mesos/module/isolator.hpp>
#include <mesos/module/qos_controller.hpp>
#include <mesos/module/resource_estimator.hpp>
#include <mesos/slave/isolator.hpp>
#include <process/owned.hpp>
#include <stout/try.hpp>

#include "mesos-command-modules/shim/compat.hpp"
#include "mesos-command-modules/shim/hook.hpp"
#include "mesos-command-modules/shim/isolator.hpp"
#include "mesos-command-modules/shim/method.h"
#include "mesos-command-modules/shim/module.hpp"
#include "mesos-command-modules/shim/oversubscription.hpp"

namespace mesos_command_modules {
namespace {

Try<process::Owned<CommandModule>> createModule(
    ModuleKind kind,
    const char* symbol,
    const mesos::Parameters& parameters)
{
  Try<process::Owned<CommandModule>> module =
      CommandModule::create(kind, symbol, parameters);
  if (module.isError()) {
    LOG(ERROR) << "Failed to create module '" << symbol
               << "': " << module.error();
  } else {
    LOG(INFO) << "Created module '" << symbol
              << "' (mesos-command-modules compiled against Mesos "
              << compat::kMesosVersion << ")";
  }
  return module;
}


// Creates the module `Object` of `kind` around a new `CommandModule`.
template <typename Interface, typename Object>
Interface* createWith(
    ModuleKind kind,
    const char* symbol,
    const mesos::Parameters& parameters)
{
  try {
    Try<process::Owned<CommandModule>> module =
        createModule(kind, symbol, parameters);
    if (module.isError()) {
      return nullptr;
    }
    return new Object(module.get());
  } catch (const std::exception& e) {
    LOG(ERROR) << "Failed to create module '" << symbol << "': " << e.what();
  } catch (...) {
    LOG(ERROR) << "Failed to create module '" << symbol << "'";
  }
  return nullptr;
}

}  // namespace
}  // namespace mesos_command_modules


// Declares the hook module `NAME`. Its create function passes `NAME` to the
// core, which reports it in messages. Mesos only requires the author fields
// to be non-null; the project has no contact address to put there.
#define COMMAND_HOOK_MODULE(NAME)                                             \
  mesos::modules::Module<mesos::Hook> NAME(                                   \
      MESOS_MODULE_API_VERSION,                                               \
      MESOS_VERSION,                                                          \
      "mesos-command-modules",                                                \
      "",                                                                     \
      "Hook delegating every call to an external command",                    \
      nullptr,                                                                \
      [](const mesos::Parameters& parameters) -> mesos::Hook* {               \
        return mesos_command_modules::                                        \
            createWith<mesos::Hook, mesos_command_modules::CommandHook>(      \
                mesos_command_modules::ModuleKind::kHook, #NAME, parameters); \
      })

// Declares the isolator module `NAME`.
#define COMMAND_ISOLATOR_MODULE(NAME)                                         \
  mesos::modules::Module<mesos::slave::Isolator> NAME(                        \
      MESOS_MODULE_API_VERSION,                                               \
      MESOS_VERSION,                                                          \
      "mesos-command-modules",                                                \
      "",                                                                     \
      "Isolator delegating every call to an external command",                \
      nullptr,                                                                \
      [](const mesos::Parameters& parameters) -> mesos::slave::Isolator* {    \
        return mesos_command_modules::createWith<                             \
            mesos::slave::Isolator,                                           \
            mesos_command_modules::CommandIsolator>(                          \
            mesos_command_modules::ModuleKind::kIsolator, #NAME, parameters); \
      })

COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook2);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook3);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook4);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook5);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook6);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook7);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook8);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook9);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook10);
COMMAND_HOOK_MODULE(com_criteo_mesos_CommandHook11);

COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator2);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator3);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator4);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator5);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator6);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator7);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator8);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator9);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator10);
COMMAND_ISOLATOR_MODULE(com_criteo_mesos_CommandIsolator11);


// The oversubscription modules: one each, since an agent loads one resource
// estimator and one QoS controller.
mesos::modules::Module<mesos::slave::ResourceEstimator>
    com_criteo_mesos_CommandResourceEstimator(
        MESOS_MODULE_API_VERSION,
        MESOS_VERSION,
        "mesos-command-modules",
        "",
        "Resource estimator delegating to an external command",
        nullptr,
        [](const mesos::Parameters& parameters)
            -> mesos::slave::ResourceEstimator* {
          return mesos_command_modules::createWith<
              mesos::slave::ResourceEstimator,
              mesos_command_modules::CommandResourceEstimator>(
              mesos_command_modules::ModuleKind::kResourceEstimator,
              "com_criteo_mesos_CommandResourceEstimator",
              parameters);
        });

mesos::modules::Module<mesos::slave::QoSController>
    com_criteo_mesos_CommandQoSController(
        MESOS_MODULE_API_VERSION,
        MESOS_VERSION,
        "mesos-command-modules",
        "",
        "QoS controller delegating to an external command",
        nullptr,
        [](const mesos::Parameters& parameters)
            -> mesos::slave::QoSController* {
          return mesos_command_modules::createWith<
              mesos::slave::QoSController,
              mesos_command_modules::CommandQoSController>(
              mesos_command_modules::ModuleKind::kQoSController,
              "com_criteo_mesos_CommandQoSController",
              parameters);
        });
