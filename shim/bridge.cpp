// See bridge.h.

#include "mesos-command-modules/shim/bridge.h"

#include <atomic>
#include <cstdio>
#include <utility>

#include "mesos-command-modules/src/ffi.rs.h"

namespace mesos_command_modules {
namespace bridge {

namespace {

void stderrSink(int level, const char* message, size_t size)
{
  static const char* const kNames[] = {"INFO", "WARNING", "ERROR"};
  const char* name = (level >= 0 && level <= 2) ? kNames[level] : "INFO";
  std::fprintf(
      stderr,
      "%s mesos-command-modules: %.*s\n",
      name,
      static_cast<int>(size),
      message);
}

std::atomic<LogSink> sink{&stderrSink};

}  // namespace


void complete(std::unique_ptr<Completion> completion, Outcome outcome)
{
  if (completion) {
    completion->complete(outcome);
  }
}


void set_log_sink(LogSink newSink)
{
  sink.store(newSink != nullptr ? newSink : &stderrSink);
}


void host_log(int level, rust::Str message)
{
  sink.load()(level, message.data(), message.size());
}

}  // namespace bridge
}  // namespace mesos_command_modules
