// See module.hpp.

#include "mesos-command-modules/shim/module.hpp"

#include <atomic>
#include <exception>

#include <process/id.hpp>
#include <process/metrics/metrics.hpp>
#include <stout/foreach.hpp>
#include <stout/synchronized.hpp>

namespace mesos_command_modules {

namespace {

// Forwards the core's log records to glog, which the agent has initialized.
void glogSink(int level, const char* message, size_t size)
{
  const std::string text(message, size);
  switch (level) {
    case bridge::kWarning:
      LOG(WARNING) << text;
      break;
    case bridge::kError:
      LOG(ERROR) << text;
      break;
    default:
      LOG(INFO) << text;
      break;
  }
}


// The key prefix of a method's metrics.
std::string metricPrefix(const std::string& moduleName, Method method)
{
  return "command_modules/" + moduleName + "/" +
         std::string(bridge::method_key(toIndex(method))) + "/";
}

}  // namespace


struct DurationTimer::Data
{
  std::atomic_flag lock = ATOMIC_FLAG_INIT;
  bool recorded = false;
  double last = 0.0;
};


DurationTimer::DurationTimer(const std::string& name)
  : process::metrics::Metric(name + "_" + Milliseconds::units(), Hours(1)),
    data(new Data())
{}


process::Future<double> DurationTimer::value() const
{
  bool recorded = false;
  double last = 0.0;
  synchronized (data->lock) {
    recorded = data->recorded;
    last = data->last;
  }

  // As `Timer`: no value until the first call ends.
  if (!recorded) {
    return process::Failure("No value");
  }
  return last;
}


void DurationTimer::record(double milliseconds)
{
  synchronized (data->lock) {
    data->recorded = true;
    data->last = milliseconds;
  }
  push(milliseconds);
}


CompletionProcess::CompletionProcess()
  : process::ProcessBase(process::ID::generate("command-modules"))
{}


Try<process::Owned<CommandModule>> CommandModule::create(
    ModuleKind kind,
    const std::string& symbol,
    const mesos::Parameters& parameters)
{
  // Installed before the core parses its configuration, so that whatever it
  // logs from now on lands in the agent's log.
  bridge::set_log_sink(&glogSink);

  std::vector<std::string> flat;
  flat.reserve(2 * parameters.parameter_size());
  foreach (const mesos::Parameter& parameter, parameters.parameter()) {
    flat.push_back(parameter.key());
    flat.push_back(parameter.value());
  }

  try {
    rust::Box<bridge::Module> module = bridge::create_module(
        static_cast<uint8_t>(kind), rust::Str(symbol), flat);

    return process::Owned<CommandModule>(new CommandModule(
        std::make_shared<rust::Box<bridge::Module>>(std::move(module))));
  } catch (const rust::Error& e) {
    return Error(e.what());
  } catch (const std::exception& e) {
    return Error(e.what());
  } catch (...) {
    return Error("Unknown error while creating the module");
  }
}


CommandModule::CommandModule(RustModule _rust)
  : rust(std::move(_rust)),
    process(new CompletionProcess()),
    timers(kMethodCount)
{
  process::spawn(process.get());

  const std::string moduleName((*rust)->module_name());

  foreach (uint8_t index, (*rust)->configured_methods()) {
    if (index >= kMethodCount) {
      LOG(ERROR) << "mesos-command-modules: no metrics for unknown method "
                 << static_cast<int>(index);
      continue;
    }

    const Method method = static_cast<Method>(index);
    const std::string prefix = metricPrefix(moduleName, method);

    const RustModule module = rust;
    auto gauge = [module, index](Counter counter) {
      return [module, index, counter]() -> process::Future<double> {
        return static_cast<double>(
            (*module)->metric_value(index, static_cast<uint8_t>(counter)));
      };
    };

    addMetric(
        process::metrics::PullGauge(prefix + "calls", gauge(Counter::kCalls)));
    addMetric(process::metrics::PullGauge(
        prefix + "errors", gauge(Counter::kErrors)));
    addMetric(process::metrics::PullGauge(
        prefix + "timeouts", gauge(Counter::kTimeouts)));

    DurationTimer timer(prefix + "duration");
    addMetric(timer);
    timers[index] = timer;
  }

  // The module's own gauges: which, and their names, are the core's.
  const std::string prefix = "command_modules/" + moduleName + "/";
  const RustModule module = rust;
  foreach (uint8_t which, (*rust)->module_gauges()) {
    addMetric(process::metrics::PullGauge(
        prefix + std::string(bridge::module_gauge_name(which)),
        [module, which]() -> process::Future<double> {
          return static_cast<double>((*module)->module_gauge(which));
        }));
  }
}


CommandModule::~CommandModule()
{
  // First: watch loops and commands end, and no completion reaches this
  // shim from now on.
  (*rust)->shutdown();

  // A metric whose registration failed is not removed: its name may belong
  // to another module instance.
  for (auto& metric : metrics) {
    std::shared_ptr<process::metrics::Metric> registered = metric.first;
    metric.second.onReady([registered]() {
      process::metrics::remove(*registered);
    });
  }

  // Calls still running complete later by dispatching to this actor; once
  // it is gone such a dispatch is dropped, which abandons their futures.
  process::terminate(process.get());
  process::wait(process.get());
}


bool CommandModule::supportsNesting() const
{
  return (*rust)->supports_nesting();
}


bool CommandModule::supportsStandalone() const
{
  return (*rust)->supports_standalone();
}


Option<DurationTimer> CommandModule::timerOf(Method method) const
{
  const uint8_t index = toIndex(method);
  if (index >= timers.size()) {
    return None();
  }
  return timers[index];
}


std::string CommandModule::failureMessage(
    Method method,
    const std::string& what)
{
  return "mesos-command-modules: the " +
         std::string(bridge::method_key(toIndex(method))) +
         " call failed in the shim: " + what;
}


std::string CommandModule::caughtMessage(Method method)
{
  try {
    throw;
  } catch (const std::exception& e) {
    return failureMessage(method, e.what());
  } catch (...) {
    return failureMessage(method, "unknown exception");
  }
}


template <typename M>
void CommandModule::addMetric(const M& metric)
{
  const std::string name = metric.name();
  process::Future<Nothing> added = process::metrics::add(metric);
  added.onFailed([name](const std::string& message) {
    LOG(WARNING) << "mesos-command-modules: failed to add metric '" << name
                 << "': " << message;
  });

  metrics.emplace_back(std::make_shared<M>(metric), added);
}

}  // namespace mesos_command_modules
