// Conversions between Mesos values and the JSON texts that cross the bridge.
//
// Inputs: every argument of a Mesos call becomes one JSON text, made with
// stout's `JSON::protobuf`, so that a command sees exactly the JSON dialect
// of the original module (proto field names, enum names, base64 bytes).
//
// Outputs: `answer<R>()` is the one place that turns the core's `Outcome`
// into the value a Mesos method returns (`Result<T>`, `Try<Nothing>` or a
// `process::Future`). The core has already decided what the command's answer
// means; this code only parses validated JSON with stout and maps the
// disposition to the Mesos type.

#ifndef MESOS_COMMAND_MODULES_SHIM_CONVERT_HPP_
#define MESOS_COMMAND_MODULES_SHIM_CONVERT_HPP_

#include <sys/types.h>

#include <list>
#include <map>
#include <string>
#include <vector>

#include <glog/logging.h>
#include <google/protobuf/map.h>
#include <google/protobuf/message.h>
#include <mesos/attributes.hpp>
#include <mesos/mesos.hpp>
#include <mesos/resources.hpp>
#include <mesos/slave/isolator.hpp>
#include <mesos/slave/oversubscription.hpp>
#include <process/future.hpp>
#include <stout/error.hpp>
#include <stout/hashset.hpp>
#include <stout/json.hpp>
#include <stout/none.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>
#include <stout/protobuf.hpp>
#include <stout/result.hpp>
#include <stout/try.hpp>

#include "mesos-command-modules/src/ffi.rs.h"

namespace mesos_command_modules {

// Inputs. Each function returns one compact JSON text.

// A protobuf message, as the object `JSON::protobuf` makes of it.
std::string toJson(const google::protobuf::Message& message);

// `Resources`, as an array of `Resource` objects.
std::string toJson(const mesos::Resources& resources);

// A string, as a JSON string.
std::string toJson(const std::string& value);

// A process id, as a JSON number.
std::string pidToJson(pid_t pid);

// An environment, as an object of strings.
std::string toJson(const std::map<std::string, std::string>& environment);

// Recovered container states, as an array.
std::string toJson(const std::vector<mesos::slave::ContainerState>& states);

// Container ids, as an array.
std::string toJson(const hashset<mesos::ContainerID>& containerIds);

// Resource limits, as an object keyed by resource name, each value the
// object of its `Value::Scalar` (`{"cpus":{"value":2.0}}`).
std::string toJson(
    const google::protobuf::Map<std::string, mesos::Value::Scalar>& limits);

// An absent `Option` is the empty text, which the core reads as "absent".
template <typename T>
std::string toJson(const Option<T>& value)
{
  return value.isSome() ? toJson(value.get()) : std::string();
}


// Outputs.

// Parses validated JSON as `T`. The primary template handles protobuf
// messages; `Resources`, `Attributes` and `Nothing` are specialized below.
template <typename T>
Try<T> parse(const std::string& json)
{
  Try<JSON::Object> object = JSON::parse<JSON::Object>(json);
  if (object.isError()) {
    return Error(object.error());
  }

  return protobuf::parse<T>(object.get());
}

// A JSON array of `Resource`. Every entry is validated, so an invalid one is
// an error instead of being dropped silently by the `Resources` constructor.
template <>
Try<mesos::Resources> parse<mesos::Resources>(const std::string& json);

// A JSON array of `Attribute`. This never calls `Attributes::parse`, which
// aborts the process on malformed input.
template <>
Try<mesos::Attributes> parse<mesos::Attributes>(const std::string& json);

// A JSON array of `QoSCorrection`, as the QoS controller returns them.
template <>
Try<std::list<mesos::slave::QoSCorrection>>
parse<std::list<mesos::slave::QoSCorrection>>(const std::string& json);

// Methods returning `Nothing` have no output to parse.
template <>
Try<Nothing> parse<Nothing>(const std::string& json);


namespace internal {

// The core's answer as a `Result`: some parsed value, none, or an error.
template <typename T>
Result<T> decode(const bridge::Outcome& outcome)
{
  switch (outcome.disposition) {
    case bridge::Disposition::Value: {
      Try<T> value = parse<T>(std::string(outcome.json));
      if (value.isError() && !outcome.fallback.empty()) {
        // A check of Mesos's own that the core does not repeat refused the
        // value: the core's fallback is the method's failure meaning.
        LOG(ERROR) << "mesos-command-modules: Mesos refused the answer '"
                   << std::string(outcome.json) << "' (" << value.error()
                   << "); answering '" << std::string(outcome.fallback)
                   << "' instead";
        value = parse<T>(std::string(outcome.fallback));
      }
      if (value.isError()) {
        return Error(value.error());
      }
      return value.get();
    }
    case bridge::Disposition::None:
      return None();
    case bridge::Disposition::Error:
      return Error(std::string(outcome.message));
  }

  return Error(
      "Unknown disposition " +
      std::to_string(static_cast<int>(outcome.disposition)) +
      " received from the Rust core");
}


// Maps a decoded answer to the return type `R` of a Mesos method. Only the
// specializations below exist: a method with another return type does not
// compile.
template <typename R>
struct Answer;


// Synchronous hooks returning `Result<T>`: None means "no change".
template <typename T>
struct Answer<Result<T>>
{
  static Result<T> from(const bridge::Outcome& outcome)
  {
    return decode<T>(outcome);
  }
};


// Synchronous hooks returning `Try<Nothing>`.
template <>
struct Answer<Try<Nothing>>
{
  static Try<Nothing> from(const bridge::Outcome& outcome)
  {
    Result<Nothing> result = decode<Nothing>(outcome);
    if (result.isError()) {
      return Error(result.error());
    }
    return Nothing();
  }
};


// Futures of `Nothing`.
template <>
struct Answer<process::Future<Nothing>>
{
  static process::Future<Nothing> from(const bridge::Outcome& outcome)
  {
    Result<Nothing> result = decode<Nothing>(outcome);
    if (result.isError()) {
      return process::Failure(result.error());
    }
    return Nothing();
  }
};


// Futures of `Option<T>`: None is a valid answer.
template <typename T>
struct Answer<process::Future<Option<T>>>
{
  static process::Future<Option<T>> from(const bridge::Outcome& outcome)
  {
    Result<T> result = decode<T>(outcome);
    if (result.isError()) {
      return process::Failure(result.error());
    }
    if (result.isNone()) {
      return Option<T>::none();
    }
    return Option<T>(result.get());
  }
};


// Futures of a plain message, which cannot express None: the core never
// answers None for these methods, and doing so is reported as a failure.
template <typename T>
struct Answer<process::Future<T>>
{
  static process::Future<T> from(const bridge::Outcome& outcome)
  {
    Result<T> result = decode<T>(outcome);
    if (result.isError()) {
      return process::Failure(result.error());
    }
    if (result.isNone()) {
      return process::Failure(
          "The Rust core answered 'none' for a method that must return a "
          "value");
    }
    return result.get();
  }
};

}  // namespace internal


// The one mapping from the core's outcome to the return type `R` of a Mesos
// method: `Value` is parsed (a parse error becomes an error), `None` is
// "none" (or `Nothing`), `Error` becomes `Error(message)` for synchronous
// hooks and `Failure(message)` for futures.
template <typename R>
R answer(const bridge::Outcome& outcome)
{
  return internal::Answer<R>::from(outcome);
}

}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_CONVERT_HPP_
