// The C++ half of the Rust <-> C++ bridge that does not depend on Mesos.
//
// `Completion` is the shim's handle on one pending `process::Promise`; the
// Rust core completes it from one of its own threads, exactly once, or drops
// it (a watch that never reports a limitation). Log records from the core
// reach the host through `host_log`, which forwards to the sink installed
// with `set_log_sink` (glog inside the agent, the standard error elsewhere).

#ifndef MESOS_COMMAND_MODULES_SHIM_BRIDGE_H_
#define MESOS_COMMAND_MODULES_SHIM_BRIDGE_H_

#include <cstddef>
#include <memory>

#include "rust/cxx.h"

namespace mesos_command_modules {
namespace bridge {

struct Outcome;

// A pending asynchronous call. Implementations must be safe to complete and
// to destroy from any thread, and must not throw.
class Completion
{
public:
  virtual ~Completion() = default;

  // Receives the call's outcome. Called at most once.
  virtual void complete(const Outcome& outcome) noexcept = 0;
};

// Called by the Rust core when an asynchronous call ends.
void complete(std::unique_ptr<Completion> completion, Outcome outcome);

// Log levels of `host_log`.
enum LogLevel
{
  kInfo = 0,
  kWarning = 1,
  kError = 2
};

// Where `host_log` writes. The default writes to the standard error.
using LogSink = void (*)(int level, const char* message, size_t size);

// Installs `sink` for every later `host_log` call; nullptr restores the
// default. Thread-safe.
void set_log_sink(LogSink sink);

// Called by the Rust core for every log record.
void host_log(int level, rust::Str message);

}  // namespace bridge
}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_BRIDGE_H_
