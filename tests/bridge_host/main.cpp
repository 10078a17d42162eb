// The bridge host: drives the Rust core through the cxx bridge from C++, the
// way the Mesos shim does, without Mesos.
//
// It checks what the shim relies on: `create_module` reports a bad parameter
// as a `rust::Error` naming the key; `call_blocking` and `call_async` map a
// command's answer, empty output and failure to the right `Disposition`; a
// completion the core drops (a watch of an unknown container) is destroyed
// without being completed; the method numbering of shim/method.h matches
// the core's; metrics count; log records reach the installed sink.
//
// The commands are small shell scripts written to a private temporary
// directory. The last line printed is "N passed, N failed"; the exit status
// is non-zero when a check failed.

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mesos-command-modules/shim/bridge.h"
#include "mesos-command-modules/shim/method.h"
#include "mesos-command-modules/src/ffi.rs.h"
#include "rust/cxx.h"

namespace bridge = mesos_command_modules::bridge;

using mesos_command_modules::Counter;
using mesos_command_modules::Method;
using mesos_command_modules::ModuleKind;
using mesos_command_modules::toIndex;

namespace {

int passed = 0;
int failed = 0;


void check(bool condition, const std::string& what)
{
  if (condition) {
    ++passed;
    std::cout << "ok   " << what << std::endl;
  } else {
    ++failed;
    std::cout << "FAIL " << what << std::endl;
  }
}


bool contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}


const char* dispositionName(bridge::Disposition disposition)
{
  switch (disposition) {
    case bridge::Disposition::Value:
      return "Value";
    case bridge::Disposition::None:
      return "None";
    case bridge::Disposition::Error:
      return "Error";
  }
  return "unknown";
}


// What a test needs to know about an outcome, copied out of the bridge type.
struct Seen
{
  bridge::Disposition disposition = bridge::Disposition::None;
  std::string json;
  std::string message;
  double durationMs = -1;
  std::string fallback;
};


Seen see(const bridge::Outcome& outcome)
{
  Seen seen;
  seen.disposition = outcome.disposition;
  seen.json = std::string(outcome.json);
  seen.message = std::string(outcome.message);
  seen.durationMs = outcome.duration_ms;
  seen.fallback = std::string(outcome.fallback);
  return seen;
}


std::string describe(const Seen& seen)
{
  return std::string(dispositionName(seen.disposition)) + " json=" + seen.json +
         " message=" + seen.message;
}


// Where a `RecordingCompletion` reports, shared with the test.
struct Report
{
  std::mutex mutex;
  std::condition_variable changed;
  int completions = 0;
  bool destroyed = false;
  Seen outcome;

  // Waits until `done` holds or `seconds` pass; returns whether it held.
  bool waitFor(int seconds, const std::function<bool()>& done)
  {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(seconds), done);
  }
};


// The bridge host's `Completion`: records the outcome and signals.
class RecordingCompletion : public bridge::Completion
{
public:
  explicit RecordingCompletion(std::shared_ptr<Report> _report)
    : report(std::move(_report))
  {}

  ~RecordingCompletion() override
  {
    std::lock_guard<std::mutex> lock(report->mutex);
    report->destroyed = true;
    report->changed.notify_all();
  }

  void complete(const bridge::Outcome& outcome) noexcept override
  {
    std::lock_guard<std::mutex> lock(report->mutex);
    report->completions++;
    report->outcome = see(outcome);
    report->changed.notify_all();
  }

private:
  std::shared_ptr<Report> report;
};


// Log records received through `host_log`.
std::mutex logMutex;
std::vector<std::pair<int, std::string>> logRecords;


void recordingSink(int level, const char* message, size_t size)
{
  std::lock_guard<std::mutex> lock(logMutex);
  logRecords.emplace_back(level, std::string(message, size));
}


bool logged(int level, const std::string& part)
{
  std::lock_guard<std::mutex> lock(logMutex);
  for (const auto& record : logRecords) {
    if (record.first == level && contains(record.second, part)) {
      return true;
    }
  }
  return false;
}


// A private directory holding the test commands and state, removed at exit.
class Workspace
{
public:
  Workspace()
  {
    char pattern[] = "/tmp/bridge-host-XXXXXX";
    const char* made = mkdtemp(pattern);
    if (made == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path = made;
  }

  ~Workspace()
  {
    const std::string command = "rm -rf '" + path + "'";
    if (std::system(command.c_str()) != 0) {
      std::cerr << "could not remove " << path << std::endl;
    }
  }

  // Writes an executable script and returns its path.
  std::string script(const std::string& name, const std::string& body) const
  {
    const std::string file = path + "/" + name;
    std::ofstream out(file);
    out << "#!/bin/sh\n" << body;
    out.close();
    if (!out || chmod(file.c_str(), 0755) != 0) {
      throw std::runtime_error("cannot write " + file);
    }
    return file;
  }

  std::string path;
};


// The command of every test: argv is [command, input, output, error]; the
// input's task `name` says what to do, MESOS_COMMAND_METHOD what to answer.
const char kCommand[] = R"sh(input=$1 output=$2 error=$3
case "$(cat "$input")" in
  *'"name":"fail"'*)
    echo "asked to fail" > "$error"
    exit 3
    ;;
  *'"name":"empty"'*)
    exit 0
    ;;
esac
case "$MESOS_COMMAND_METHOD" in
  hook_slave_run_task_label_decorator)
    grep -q '"executor_info"' "$input" || exit 9
    echo '{"labels":[{"key":"k","value":"v"}]}' > "$output"
    ;;
  hook_slave_pre_launch_docker_task_executor_decorator)
    grep -q '"container_name":"c1"' "$input" || exit 9
    echo '{"executorEnvironment":{"variables":[{"name":"A","value":"1"}]}}' \
      > "$output"
    ;;
  *)
    echo '{}' > "$output"
    ;;
esac
)sh";


// Module parameters, as key/value pairs.
using Parameters = std::vector<std::pair<std::string, std::string>>;


std::vector<std::string> flat(const Parameters& parameters)
{
  std::vector<std::string> result;
  for (const auto& parameter : parameters) {
    result.push_back(parameter.first);
    result.push_back(parameter.second);
  }
  return result;
}


// Creates a module, or returns the error message.
std::pair<std::unique_ptr<rust::Box<bridge::Module>>, std::string> create(
    ModuleKind kind,
    const Parameters& parameters)
{
  try {
    rust::Box<bridge::Module> module = bridge::create_module(
        static_cast<uint8_t>(kind), "com_criteo_mesos_Test", flat(parameters));
    return {
        std::unique_ptr<rust::Box<bridge::Module>>(
            new rust::Box<bridge::Module>(std::move(module))),
        ""};
  } catch (const rust::Error& e) {
    return {nullptr, e.what()};
  }
}


std::string taskInfo(const std::string& name)
{
  return R"({"name":")" + name +
         R"(","slave_id":{"value":"s1"},"task_id":{"value":"t1"}})";
}


const char kExecutorInfo[] =
    R"({"command":{"shell":true,"value":"true"},"executor_id":{"value":"e1"}})";
const char kFrameworkInfo[] = R"({"name":"f","user":"root"})";
const char kSlaveInfo[] = R"({"hostname":"h","port":5051})";


std::vector<std::string> labelArguments(const std::string& name)
{
  return {taskInfo(name), kExecutorInfo, kFrameworkInfo, kSlaveInfo};
}


std::vector<std::string> dockerArguments(const std::string& name)
{
  return {
      taskInfo(name),
      kExecutorInfo,
      R"("c1")",
      R"("/var/lib/mesos/work")",
      R"("/mnt/mesos/sandbox")",
      ""};
}


void testMethodNumbering()
{
  const std::vector<std::pair<Method, std::string>> expected = {
      {Method::kHookMasterLaunchTaskLabelDecorator,
       "hook_master_launch_task_label_decorator"},
      {Method::kHookMasterLaunchTaskResourceDecorator,
       "hook_master_launch_task_resource_decorator"},
      {Method::kHookSlaveRunTaskLabelDecorator,
       "hook_slave_run_task_label_decorator"},
      {Method::kHookMasterSlaveLostHook, "hook_master_slave_lost_hook"},
      {Method::kHookSlaveExecutorEnvironmentDecorator,
       "hook_slave_executor_environment_decorator"},
      {Method::kHookSlavePreLaunchDockerTaskExecutorDecorator,
       "hook_slave_pre_launch_docker_task_executor_decorator"},
      {Method::kHookSlavePostFetchHook, "hook_slave_post_fetch_hook"},
      {Method::kHookSlaveRemoveExecutorHook, "hook_slave_remove_executor_hook"},
      {Method::kHookSlaveTaskStatusDecorator,
       "hook_slave_task_status_decorator"},
      {Method::kHookSlaveResourcesDecorator, "hook_slave_resources_decorator"},
      {Method::kHookSlaveAttributesDecorator,
       "hook_slave_attributes_decorator"},
      {Method::kIsolatorRecover, "isolator_recover"},
      {Method::kIsolatorPrepare, "isolator_prepare"},
      {Method::kIsolatorIsolate, "isolator_isolate"},
      {Method::kIsolatorWatch, "isolator_watch"},
      {Method::kIsolatorUpdate, "isolator_update"},
      {Method::kIsolatorUsage, "isolator_usage"},
      {Method::kIsolatorStatus, "isolator_status"},
      {Method::kIsolatorCleanup, "isolator_cleanup"},
      {Method::kResourceEstimatorOversubscribable,
       "resource_estimator_oversubscribable"},
      {Method::kQoSControllerCorrections, "qos_controller_corrections"},
  };

  bool all = expected.size() == mesos_command_modules::kMethodCount;
  for (const auto& entry : expected) {
    const std::string key(bridge::method_key(toIndex(entry.first)));
    if (key != entry.second) {
      std::cout << "     method " << static_cast<int>(toIndex(entry.first))
                << " is '" << key << "', expected '" << entry.second << "'"
                << std::endl;
      all = false;
    }
  }
  check(all, "shim/method.h numbers every method as src/method.rs does");
  check(
      std::string(bridge::method_key(mesos_command_modules::kMethodCount)) ==
          "unknown",
      "method_key of an index past the last method is 'unknown'");
}


void testCreate(const Workspace& workspace, const std::string& command)
{
  auto good = create(
      ModuleKind::kHook,
      {{"module_name", "bridge-host"},
       {"hook_slave_run_task_label_decorator_command", command}});
  check(
      good.first != nullptr,
      "create_module accepts a valid hook configuration" +
          (good.second.empty() ? "" : ": " + good.second));
  if (good.first) {
    const bridge::Module& module = **good.first;
    check(
        std::string(module.module_name()) == "bridge-host",
        "module_name() is the configured name");
    rust::Vec<uint8_t> methods = module.configured_methods();
    check(
        methods.size() == 1 &&
            methods[0] == toIndex(Method::kHookSlaveRunTaskLabelDecorator),
        "configured_methods() lists exactly the configured method");
    rust::Vec<uint8_t> gauges = module.module_gauges();
    check(
        gauges.size() == 4 &&
            std::string(bridge::module_gauge_name(gauges[0])) ==
                "commands_running" &&
            module.module_gauge(gauges[0]) == 0,
        "module_gauges() lists the four gauges of a module without a service "
        "helper, named and read through the bridge");
  }

  // Each bad configuration, with the key its error must name.
  const std::vector<std::pair<std::string, Parameters>> bad = {
      {"module_name", {}},
      {"zzz_unknown", {{"module_name", "m"}, {"zzz_unknown", "1"}}},
      {"hook_slave_run_task_label_decorator_timeout",
       {{"module_name", "m"},
        {"hook_slave_run_task_label_decorator_command", command},
        {"hook_slave_run_task_label_decorator_timeout", "soon"}}},
      {"hook_slave_post_fetch_hook_command",
       {{"module_name", "m"},
        {"hook_slave_post_fetch_hook_command",
         workspace.path + "/does-not-exist"}}},
  };

  for (const auto& entry : bad) {
    std::pair<std::unique_ptr<rust::Box<bridge::Module>>, std::string> result;
    bool escaped = false;
    try {
      result = create(ModuleKind::kHook, entry.second);
    } catch (...) {
      escaped = true;
    }
    check(
        !escaped && result.first == nullptr &&
            contains(result.second, entry.first),
        "create_module rejects a bad '" + entry.first +
            "' with a rust::Error naming it (" + result.second + ")");
  }

  auto kind = create(static_cast<ModuleKind>(7), {{"module_name", "m"}});
  check(
      kind.first == nullptr && !kind.second.empty(),
      "create_module rejects an unknown module kind (" + kind.second + ")");

  auto isolator = create(
      ModuleKind::kIsolator,
      {{"module_name", "m"},
       {"state_directory", workspace.path + "/state"},
       {"supports_nesting", "false"},
       {"supports_standalone", "true"}});
  check(
      isolator.first && !(*isolator.first)->supports_nesting() &&
          (*isolator.first)->supports_standalone(),
      "supports_nesting() and supports_standalone() follow the parameters");
}


void testBlocking(const std::string& command)
{
  auto created = create(
      ModuleKind::kHook,
      {{"module_name", "blocking"},
       {"hook_slave_run_task_label_decorator_command", command}});
  if (!created.first) {
    check(false, "create the blocking hook: " + created.second);
    return;
  }
  const bridge::Module& module = **created.first;
  const uint8_t method = toIndex(Method::kHookSlaveRunTaskLabelDecorator);

  Seen value = see(module.call_blocking(method, labelArguments("answer")));
  check(
      value.disposition == bridge::Disposition::Value &&
          contains(value.json, R"("key":"k")") &&
          contains(value.json, R"("value":"v")") && value.message.empty(),
      "call_blocking: a valid answer is Value with the labels (" +
          describe(value) + ")");
  check(value.durationMs >= 0, "call_blocking: the duration is reported");

  Seen none = see(module.call_blocking(method, labelArguments("empty")));
  check(
      none.disposition == bridge::Disposition::None && none.json.empty(),
      "call_blocking: empty output is None (" + describe(none) + ")");

  Seen error = see(module.call_blocking(method, labelArguments("fail")));
  check(
      error.disposition == bridge::Disposition::Error &&
          contains(error.message, "exited with return code 3") &&
          contains(error.message, "asked to fail"),
      "call_blocking: a failing command is Error with its exit status and "
      "cause (" +
          describe(error) + ")");
  check(
      logged(bridge::kWarning, "exited with return code 3"),
      "the failure is logged as a WARNING through the installed log sink");

  Seen arity = see(module.call_blocking(method, {taskInfo("answer")}));
  check(
      arity.disposition == bridge::Disposition::Error &&
          contains(arity.message, "arguments"),
      "call_blocking: a wrong argument count is an Error (" + describe(arity) +
          ")");

  Seen unconfigured = see(module.call_blocking(
      toIndex(Method::kHookSlaveRemoveExecutorHook),
      {kFrameworkInfo, kExecutorInfo}));
  check(
      unconfigured.disposition == bridge::Disposition::None,
      "call_blocking: a method without a command is None (" +
          describe(unconfigured) + ")");

  check(
      module.metric_value(method, static_cast<uint8_t>(Counter::kCalls)) == 3,
      "metric_value counts the three commands run");
  check(
      module.metric_value(method, static_cast<uint8_t>(Counter::kErrors)) == 1,
      "metric_value counts the failed command as an error");
  check(
      module.metric_value(method, static_cast<uint8_t>(Counter::kTimeouts)) ==
          0,
      "metric_value counts no timeout");
}


// Starts an asynchronous call and waits for its completion.
Seen callAsync(
    const bridge::Module& module,
    Method method,
    const std::vector<std::string>& arguments,
    bool* completedOnce)
{
  std::shared_ptr<Report> report = std::make_shared<Report>();
  module.call_async(
      toIndex(method),
      arguments,
      std::unique_ptr<bridge::Completion>(new RecordingCompletion(report)));
  *completedOnce = report->waitFor(30, [&report]() {
    return report->completions == 1 && report->destroyed;
  });
  std::lock_guard<std::mutex> lock(report->mutex);
  *completedOnce = *completedOnce && report->completions == 1;
  return report->outcome;
}


void testAsync(const Workspace& workspace, const std::string& command)
{
  auto created = create(
      ModuleKind::kHook,
      {{"module_name", "async"},
       {"hook_slave_pre_launch_docker_task_executor_decorator_command",
        command}});
  if (!created.first) {
    check(false, "create the asynchronous hook: " + created.second);
    return;
  }
  const bridge::Module& module = **created.first;
  const Method docker = Method::kHookSlavePreLaunchDockerTaskExecutorDecorator;
  bool once = false;

  Seen value = callAsync(module, docker, dockerArguments("answer"), &once);
  check(
      once && value.disposition == bridge::Disposition::Value &&
          contains(value.json, R"("executorEnvironment")") &&
          contains(value.json, R"("name":"A")"),
      "call_async: a valid answer completes once with Value (" +
          describe(value) + ")");

  Seen none = callAsync(module, docker, dockerArguments("empty"), &once);
  check(
      once && none.disposition == bridge::Disposition::None,
      "call_async: empty output completes with None (" + describe(none) + ")");

  Seen error = callAsync(module, docker, dockerArguments("fail"), &once);
  check(
      once && error.disposition == bridge::Disposition::Error &&
          contains(error.message, "exited with return code 3"),
      "call_async: a failing command completes with Error (" + describe(error) +
          ")");

  std::shared_ptr<Report> unknown = std::make_shared<Report>();
  module.call_async(
      200,
      dockerArguments("answer"),
      std::unique_ptr<bridge::Completion>(new RecordingCompletion(unknown)));
  unknown->waitFor(30, [&unknown]() {
    return unknown->destroyed;
  });
  {
    std::lock_guard<std::mutex> lock(unknown->mutex);
    check(
        unknown->completions == 1 &&
            unknown->outcome.disposition == bridge::Disposition::Error,
        "call_async: an unknown method completes with Error (" +
            describe(unknown->outcome) + ")");
  }

  // A watch of a container the isolator never prepared must never complete:
  // the core drops the completion, whose destructor runs without `complete`.
  auto isolator = create(
      ModuleKind::kIsolator,
      {{"module_name", "watcher"},
       {"state_directory", workspace.path + "/state"},
       {"isolator_watch_command", command},
       {"isolator_watch_frequence", "1"}});
  if (!isolator.first) {
    check(false, "create the watching isolator: " + isolator.second);
    return;
  }
  std::shared_ptr<Report> watch = std::make_shared<Report>();
  (*isolator.first)
      ->call_async(
          toIndex(Method::kIsolatorWatch),
          {R"({"value":"never-prepared"})"},
          std::unique_ptr<bridge::Completion>(new RecordingCompletion(watch)));
  const bool destroyed = watch->waitFor(30, [&watch]() {
    return watch->destroyed;
  });
  {
    std::lock_guard<std::mutex> lock(watch->mutex);
    check(
        destroyed && watch->completions == 0,
        "call_async: a dropped watch completion is destroyed, never "
        "completed");
  }
}


// Whether process `pid` is gone (reaped, or never ours).
bool gone(pid_t pid)
{
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  return !stat.is_open() || close == std::string::npos ||
         line.substr(close + 2, 1) == "Z";
}


// The pids a script recorded in `file`, one a line.
std::vector<pid_t> recordedPids(const std::string& file)
{
  std::vector<pid_t> pids;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      pids.push_back(static_cast<pid_t>(std::stol(line)));
    }
  }
  return pids;
}


bool waitUntil(int milliseconds, const std::function<bool()>& done)
{
  for (int waited = 0; waited < milliseconds; waited += 10) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}


std::shared_ptr<Report> startAsync(
    const bridge::Module& module,
    Method method,
    const std::vector<std::string>& arguments)
{
  std::shared_ptr<Report> report = std::make_shared<Report>();
  module.call_async(
      toIndex(method),
      arguments,
      std::unique_ptr<bridge::Completion>(new RecordingCompletion(report)));
  return report;
}


// The shim's destructor calls `shutdown` first: the module's watch loops end,
// its running commands are killed, and no completion is completed or
// destroyed from then on (libprocess may be finalized by then: destroying a
// completion dispatches to it).
void testShutdown(const Workspace& workspace)
{
  const std::string pids = workspace.path + "/shutdown-pids";
  const std::string slow = workspace.script(
      "slow.sh",
      "echo $$ >> '" + pids + "'\n" +
          "case \"$(cat \"$1\")\" in *'\"value\":\"slow\"'*) exec sleep 30;; "
          "esac\n");
  auto created = create(
      ModuleKind::kIsolator,
      {{"module_name", "shutdown"},
       {"state_directory", workspace.path + "/shutdown-state"},
       {"isolator_prepare_command", slow},
       {"isolator_watch_command",
        workspace.script(
            "watch.sh", "echo $$ >> '" + pids + "'\nexec sleep 30\n")},
       {"isolator_watch_frequence", "0.1"},
       {"kill_grace_period", "0.2"}});
  if (!created.first) {
    check(false, "create the isolator to shut down: " + created.second);
    return;
  }
  const bridge::Module& module = **created.first;
  const std::string config = R"({"command_info":{"value":"true"}})";

  bool once = false;
  Seen prepared = callAsync(
      module,
      Method::kIsolatorPrepare,
      {R"({"value":"watched"})", config},
      &once);
  check(
      once && prepared.disposition == bridge::Disposition::None,
      "shutdown: the watched container is prepared (" + describe(prepared) +
          ")");
  std::shared_ptr<Report> watch =
      startAsync(module, Method::kIsolatorWatch, {R"({"value":"watched"})"});
  std::shared_ptr<Report> slowPrepare = startAsync(
      module, Method::kIsolatorPrepare, {R"({"value":"slow"})", config});
  // The watched prepare, the watch round and the slow prepare.
  const bool running = waitUntil(10000, [&pids]() {
    return recordedPids(pids).size() >= 3;
  });
  check(running, "shutdown: the watch and the slow prepare are running");

  module.shutdown();
  const std::vector<pid_t> started = recordedPids(pids);
  const bool killed = waitUntil(5000, [&started]() {
    for (pid_t pid : started) {
      if (!gone(pid)) {
        return false;
      }
    }
    return true;
  });
  check(killed, "shutdown: the watch's and the prepare's commands are killed");

  // A call made after the shutdown completes nothing either.
  std::shared_ptr<Report> late = startAsync(
      module, Method::kIsolatorPrepare, {R"({"value":"late"})", config});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (const auto& entry :
       std::vector<std::pair<std::string, std::shared_ptr<Report>>>{
           {"the watch", watch},
           {"the slow prepare", slowPrepare},
           {"a call after the shutdown", late}}) {
    std::lock_guard<std::mutex> lock(entry.second->mutex);
    check(
        entry.second->completions == 0 && !entry.second->destroyed,
        "shutdown: " + entry.first +
            " is neither completed nor destroyed (its completion is "
            "forgotten)");
  }
  check(
      recordedPids(pids).size() == started.size(),
      "shutdown: no command starts after the shutdown");
}


// An exception in the shim while converting a call's arguments: the core
// answers with the method's failure meaning.
void testShimFailure(const Workspace& workspace)
{
  auto created = create(
      ModuleKind::kIsolator,
      {{"module_name", "shim-failure"},
       {"state_directory", workspace.path + "/shim-failure-state"}});
  if (!created.first) {
    check(false, "create the isolator: " + created.second);
    return;
  }
  const bridge::Module& module = **created.first;
  auto fail = [&module](Method method) {
    std::shared_ptr<Report> report = std::make_shared<Report>();
    module.fail_async(
        toIndex(method),
        "conversion failed",
        std::unique_ptr<bridge::Completion>(new RecordingCompletion(report)));
    report->waitFor(10, [&report]() {
      return report->destroyed;
    });
    std::lock_guard<std::mutex> lock(report->mutex);
    return std::make_pair(report->completions, report->outcome);
  };

  auto recover = fail(Method::kIsolatorRecover);
  check(
      recover.first == 1 &&
          recover.second.disposition == bridge::Disposition::None,
      "fail_async: recover still succeeds, or the agent would exit (" +
          describe(recover.second) + ")");
  auto watch = fail(Method::kIsolatorWatch);
  check(
      watch.first == 0,
      "fail_async: a watch is not completed, or Mesos would destroy the "
      "container");
  auto usage = fail(Method::kIsolatorUsage);
  check(
      usage.first == 1 &&
          usage.second.disposition == bridge::Disposition::Value &&
          contains(usage.second.json, "timestamp") &&
          usage.second.fallback.empty(),
      "fail_async: usage answers empty statistics, with no fallback (" +
          describe(usage.second) + ")");
  auto prepare = fail(Method::kIsolatorPrepare);
  check(
      prepare.first == 1 &&
          prepare.second.disposition == bridge::Disposition::Error &&
          contains(prepare.second.message, "conversion failed"),
      "fail_async: prepare fails the launch with the message (" +
          describe(prepare.second) + ")");
  check(
      logged(bridge::kError, "internal error: conversion failed"),
      "fail_async: the failure is logged as an ERROR");
}


// Bytes that are not UTF-8 in an argument (a framework's label) are replaced
// with U+FFFD and logged: never the reason a call fails.
void testInvalidUtf8(const Workspace& workspace)
{
  const std::string copy = workspace.path + "/recover-input";
  auto created = create(
      ModuleKind::kIsolator,
      {{"module_name", "utf8"},
       {"state_directory", workspace.path + "/utf8-state"},
       {"isolator_recover_command",
        workspace.script("recover.sh", "cp \"$1\" '" + copy + "'\n")}});
  if (!created.first) {
    check(false, "create the isolator: " + created.second);
    return;
  }
  const std::string states =
      "[{\"container_id\":{\"value\":\"c1\"},\"pid\":1,"
      "\"executor_info\":{\"executor_id\":{\"value\":\"e\"},"
      "\"labels\":{\"labels\":[{\"key\":\"k\",\"value\":\"\xff\xfe\"}]}}}]";
  bool once = false;
  Seen recovered = callAsync(
      **created.first, Method::kIsolatorRecover, {states, "[]"}, &once);
  check(
      once && recovered.disposition == bridge::Disposition::None,
      "recover with a label that is not UTF-8 succeeds (" +
          describe(recovered) + ")");
  std::ifstream in(copy);
  const std::string input(
      (std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(
      contains(input, "\"value\":\"\xef\xbf\xbd\xef\xbf\xbd\""),
      "the command reads U+FFFD where the bytes were (" + input + ")");
  check(
      logged(bridge::kWarning, "the argument states holds bytes that are not"),
      "the replacement is logged as a WARNING naming the argument");
}

// The oversubscription calls: started before their argument (the agent's
// usage) exists, answered by their timeout whatever the agent does.
void testPendingCall(const Workspace& workspace)
{
  const std::string copy = workspace.path + "/estimator-input";
  auto estimator = create(
      ModuleKind::kResourceEstimator,
      {{"module_name", "estimator"},
       {"resource_estimator_oversubscribable_timeout", "1"},
       {"resource_estimator_oversubscribable_command",
        workspace.script(
            "estimate.sh",
            "cp \"$1\" '" + copy +
                "'\n"
                "echo '[{\"name\":\"cpus\",\"type\":\"SCALAR\","
                "\"scalar\":{\"value\":1}}]' > \"$2\"\n")}});
  auto qos = create(
      ModuleKind::kQoSController,
      {{"module_name", "qos"},
       {"qos_controller_corrections_command",
        workspace.script("qos.sh", "echo '[]' > \"$2\"\n")}});
  if (!estimator.first || !qos.first) {
    check(
        false,
        "create the oversubscription modules: " + estimator.second +
            qos.second);
    return;
  }
  auto begin = [](const bridge::Module& module,
                  Method method,
                  const std::function<void(bridge::PendingCall&)>& give) {
    std::shared_ptr<Report> report = std::make_shared<Report>();
    {
      rust::Box<bridge::PendingCall> pending = module.begin_call(
          toIndex(method),
          std::unique_ptr<bridge::Completion>(new RecordingCompletion(report)));
      give(*pending);
    }
    report->waitFor(10, [&report]() {
      return report->destroyed;
    });
    std::lock_guard<std::mutex> lock(report->mutex);
    return std::make_pair(report->completions, report->outcome);
  };
  const std::string usage =
      "{\"executors\":[],\"total\":[{\"name\":\"cpus\","
      "\"type\":\"SCALAR\",\"scalar\":{\"value\":4}}]}";

  auto estimate = begin(
      **estimator.first,
      Method::kResourceEstimatorOversubscribable,
      [&usage](bridge::PendingCall& pending) {
        pending.supply(std::vector<std::string>{usage});
      });
  std::ifstream in(copy);
  const std::string input(
      (std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(
      input == "{\"usage\":" + usage + "}",
      "begin_call: the command reads the usage given later (" + input + ")");
  check(
      estimate.first == 1 &&
          estimate.second.disposition == bridge::Disposition::Value &&
          contains(estimate.second.json, "\"revocable\":{}") &&
          estimate.second.fallback == "[]",
      "begin_call: the estimate is made revocable, with an empty estimate "
      "as the fallback (" +
          describe(estimate.second) + ")");

  const auto started = std::chrono::steady_clock::now();
  auto late = begin(
      **estimator.first,
      Method::kResourceEstimatorOversubscribable,
      [](bridge::PendingCall&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  check(
      late.first == 1 &&
          late.second.disposition == bridge::Disposition::Value &&
          late.second.json == "[]",
      "begin_call: usage that never comes withdraws the estimate (" +
          describe(late.second) + ", " + std::to_string(seconds) + " s)");

  auto failed = begin(
      **qos.first,
      Method::kQoSControllerCorrections,
      [](bridge::PendingCall& pending) {
        pending.fail("the agent's usage failed");
      });
  check(
      failed.first == 1 &&
          failed.second.disposition == bridge::Disposition::Error &&
          contains(failed.second.message, "the agent's usage failed"),
      "begin_call: a usage failure fails the corrections with its message (" +
          describe(failed.second) + ")");

  auto dropped = begin(
      **qos.first, Method::kQoSControllerCorrections, [](bridge::PendingCall&) {
      });
  check(
      dropped.first == 1 &&
          dropped.second.disposition == bridge::Disposition::Error &&
          contains(dropped.second.message, "dropped"),
      "begin_call: a call dropped without its usage fails (" +
          describe(dropped.second) + ")");
}

}  // namespace


int main()
{
  try {
    bridge::set_log_sink(&recordingSink);

    Workspace workspace;
    const std::string command = workspace.script("command.sh", kCommand);

    testMethodNumbering();
    testCreate(workspace, command);
    testBlocking(command);
    testAsync(workspace, command);
    testShimFailure(workspace);
    testInvalidUtf8(workspace);
    testPendingCall(workspace);
    testShutdown(workspace);

    bridge::set_log_sink(nullptr);
  } catch (const std::exception& e) {
    ++failed;
    std::cout << "FAIL uncaught exception: " << e.what() << std::endl;
  } catch (...) {
    ++failed;
    std::cout << "FAIL uncaught exception" << std::endl;
  }

  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}
