// `CommandModule`: what a hook and an isolator instance share.
//
// It owns the Rust module (one per Mesos module instance), the libprocess
// actor on which asynchronous calls complete, and the module's metrics. The
// `Hook` and `Isolator` subclasses only convert arguments to JSON and call
// `callBlocking` or `callAsync`.

#ifndef MESOS_COMMAND_MODULES_SHIM_MODULE_HPP_
#define MESOS_COMMAND_MODULES_SHIM_MODULE_HPP_

#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <glog/logging.h>
#include <mesos/mesos.hpp>
#include <process/dispatch.hpp>
#include <process/future.hpp>
#include <process/metrics/metric.hpp>
#include <process/metrics/pull_gauge.hpp>
#include <process/owned.hpp>
#include <process/pid.hpp>
#include <process/process.hpp>
#include <stout/duration.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>
#include <stout/try.hpp>

#include "mesos-command-modules/shim/bridge.h"
#include "mesos-command-modules/shim/convert.hpp"
#include "mesos-command-modules/shim/method.h"
#include "mesos-command-modules/src/ffi.rs.h"
#include "rust/cxx.h"

namespace mesos_command_modules {

// The Rust module, shared by the shim object, the metrics' gauges (which
// libprocess may still read while their removal is in flight) and nothing
// else. The core's own threads hold their own reference on the Rust side.
using RustModule = std::shared_ptr<rust::Box<bridge::Module>>;


// The latency of a method's calls, in milliseconds, as reported by the core
// (`Outcome::duration_ms`).
//
// This is `process::metrics::Timer<Milliseconds>` fed with a duration the
// core measured: the same key (`<name>_ms`), the same value (the last
// duration) and the same windowed statistics. `Timer` itself can only time
// what it starts and stops on its own clock, from one shared start slot that
// concurrent calls would overwrite, so it cannot take a measured value.
class DurationTimer : public process::metrics::Metric
{
public:
  explicit DurationTimer(const std::string& name);

  process::Future<double> value() const override;

  // Records one call's duration. Thread-safe.
  void record(double milliseconds);

private:
  struct Data;
  std::shared_ptr<Data> data;
};


// The actor on which asynchronous calls complete, so that Mesos's
// continuations run on a libprocess worker, never on a core thread
// (MESOS-CONTRACT.md section 7).
class CompletionProcess : public process::Process<CompletionProcess>
{
public:
  CompletionProcess();
};


// A pending asynchronous call returning `process::Future<T>`.
//
// `complete` runs on a core thread, or on the calling thread for a call
// that finishes without waiting (no command configured): it records the
// duration, parses the answer there (stout's parsing is thread-safe) and
// dispatches setting the promise to the `CompletionProcess`. A completion
// destroyed without having been completed (a watch that never reports a
// limitation) hands its promise to the same actor to drop, which abandons the
// future there. A dispatch to an actor that has terminated drops the promise on
// the calling thread instead, which is equally safe.
template <typename T>
class PromiseCompletion : public bridge::Completion
{
public:
  PromiseCompletion(
      std::shared_ptr<process::Promise<T>> _promise,
      const process::UPID& _pid,
      const Option<DurationTimer>& _timer)
    : promise(std::move(_promise)),
      pid(_pid),
      timer(_timer)
  {}

  ~PromiseCompletion() override
  {
    if (promise) {
      std::shared_ptr<process::Promise<T>> abandoned = std::move(promise);
      try {
        process::dispatch(pid, [abandoned]() {});
      } catch (...) {
        // Nothing to do: `abandoned` is released here instead.
      }
    }
  }

  void complete(const bridge::Outcome& outcome) noexcept override
  {
    if (!promise) {
      return;
    }

    std::shared_ptr<process::Promise<T>> completed = std::move(promise);

    try {
      if (timer.isSome()) {
        timer->record(outcome.duration_ms);
      }

      process::Future<T> result = answer<process::Future<T>>(outcome);

      // Completed during `call_async` itself (a method without a command):
      // the future has not been handed to Mesos yet, so it is set here, as
      // a C++ isolator returns a ready future, without a dispatch.
      if (std::this_thread::get_id() == caller) {
        completed->associate(result);
        return;
      }

      process::dispatch(pid, [completed, result]() {
        completed->associate(result);
      });
    } catch (const std::exception& e) {
      LOG(ERROR) << "mesos-command-modules: failed to complete a call: "
                 << e.what();
      completed->fail(e.what());
    } catch (...) {
      LOG(ERROR) << "mesos-command-modules: failed to complete a call";
      completed->fail("Failed to complete the call");
    }
  }

private:
  std::shared_ptr<process::Promise<T>> promise;
  const process::UPID pid;
  Option<DurationTimer> timer;

  // The thread that made the call: a completion on it can only come from
  // within `call_async` (the core completes later calls on its own
  // threads).
  const std::thread::id caller = std::this_thread::get_id();
};


// The JSON texts of a call's arguments, in the order of the C++ signature.
using Arguments = std::vector<std::string>;


class CommandModule
{
public:
  // Creates the Rust module for `symbol`. An invalid configuration is an
  // Error naming the parameter at fault. Never throws.
  static Try<process::Owned<CommandModule>> create(
      ModuleKind kind,
      const std::string& symbol,
      const mesos::Parameters& parameters);

  ~CommandModule();

  CommandModule(const CommandModule&) = delete;
  CommandModule& operator=(const CommandModule&) = delete;

  bool supportsNesting() const;
  bool supportsStandalone() const;

  // Runs a synchronous call on the calling thread and maps its outcome to
  // `R` (`Result<T>` or `Try<Nothing>`). `arguments` makes the call's JSON
  // arguments; it runs inside the guard, so that nothing it throws (nor
  // anything else here) reaches Mesos.
  template <typename R, typename F>
  R callBlocking(Method method, F&& arguments) noexcept
  {
    try {
      bridge::Outcome outcome =
          (*rust)->call_blocking(toIndex(method), arguments());
      Option<DurationTimer> timer = timerOf(method);
      if (timer.isSome()) {
        timer->record(outcome.duration_ms);
      }
      return answer<R>(outcome);
    } catch (const std::exception& e) {
      return Error(failureMessage(method, e.what()));
    } catch (...) {
      return Error(failureMessage(method, "unknown exception"));
    }
  }

  // Starts an asynchronous call and returns its future at once. As with
  // `callBlocking`, no exception leaves this function. An exception while
  // converting the arguments is handed to the core, which answers it with
  // the method's failure meaning (a watch, for one, must not fail).
  template <typename T, typename F>
  process::Future<T> callAsync(Method method, F&& arguments) noexcept
  {
    try {
      process::Future<T> future;
      std::unique_ptr<bridge::Completion> completion;
      std::tie(future, completion) = startCall<T>(method);

      std::vector<std::string> json;
      std::string failure;
      try {
        json = arguments();
      } catch (...) {
        failure = caughtMessage(method);
      }

      if (failure.empty()) {
        (*rust)->call_async(toIndex(method), json, std::move(completion));
      } else {
        (*rust)->fail_async(toIndex(method), failure, std::move(completion));
      }

      return future;
    } catch (const std::exception& e) {
      return process::Failure(failureMessage(method, e.what()));
    } catch (...) {
      return process::Failure(failureMessage(method, "unknown exception"));
    }
  }

  // Starts an asynchronous call whose one argument the agent gives later:
  // `argument()` returns a future of it (the oversubscription modules'
  // usage callback). The core's clock runs from now (`begin_call`), so the
  // call is answered by its timeout even if that future never settles; the
  // argument, or the reason there is none, is handed over when it settles.
  // No exception leaves this function.
  template <typename T, typename F>
  process::Future<T> callAwaiting(Method method, const F& argument) noexcept
  {
    using Argument = typename std::result_of<F()>::type;
    try {
      process::Future<T> future;
      std::unique_ptr<bridge::Completion> completion;
      std::tie(future, completion) = startCall<T>(method);

      std::shared_ptr<rust::Box<bridge::PendingCall>> pending(
          new rust::Box<bridge::PendingCall>(
              (*rust)->begin_call(toIndex(method), std::move(completion))));

      try {
        argument().onAny([pending, method](const Argument& settled) {
          try {
            if (settled.isReady()) {
              (*pending)->supply(Arguments{toJson(settled.get())});
            } else {
              (*pending)->fail(failureMessage(
                  method,
                  settled.isFailed() ? settled.failure()
                                     : "the agent discarded the request"));
            }
          } catch (...) {
            (*pending)->fail(caughtMessage(method));
          }
        });
      } catch (...) {
        (*pending)->fail(caughtMessage(method));
      }

      return future;
    } catch (const std::exception& e) {
      return process::Failure(failureMessage(method, e.what()));
    } catch (...) {
      return process::Failure(failureMessage(method, "unknown exception"));
    }
  }

private:
  explicit CommandModule(RustModule rust);

  // A new asynchronous call of `method`: the future for Mesos, and the
  // completion the core completes.
  template <typename T>
  std::pair<process::Future<T>, std::unique_ptr<bridge::Completion>> startCall(
      Method method)
  {
    std::shared_ptr<process::Promise<T>> promise(new process::Promise<T>());
    process::Future<T> future = promise->future();
    std::unique_ptr<bridge::Completion> completion(new PromiseCompletion<T>(
        std::move(promise), process->self(), timerOf(method)));
    return std::make_pair(future, std::move(completion));
  }

  // The message of the exception being handled, as `failureMessage`. Call
  // only from a catch block.
  static std::string caughtMessage(Method method);

  Option<DurationTimer> timerOf(Method method) const;

  // The message of a call that failed in the shim itself.
  static std::string failureMessage(Method method, const std::string& what);

  // Registers `metric`; a failure (e.g. a duplicate name, when two module
  // instances share a `module_name`) is logged and the metric left out.
  template <typename M>
  void addMetric(const M& metric);

  const RustModule rust;
  process::Owned<CompletionProcess> process;

  // The duration timer of each configured method, indexed by method.
  std::vector<Option<DurationTimer>> timers;

  // Every metric, with the future of its registration: a metric is removed
  // in the destructor only if it was added.
  std::vector<std::pair<
      std::shared_ptr<process::metrics::Metric>,
      process::Future<Nothing>>>
      metrics;
};

}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_MODULE_HPP_
