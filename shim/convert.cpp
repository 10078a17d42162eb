// See convert.hpp.

#include "mesos-command-modules/shim/convert.hpp"

#include <utility>

#include <google/protobuf/repeated_field.h>
#include <stout/foreach.hpp>
#include <stout/stringify.hpp>

namespace mesos_command_modules {

std::string toJson(const google::protobuf::Message& message)
{
  return stringify(JSON::protobuf(message));
}


std::string toJson(const mesos::Resources& resources)
{
  const google::protobuf::RepeatedPtrField<mesos::Resource> repeated =
      resources;
  return stringify(JSON::protobuf(repeated));
}


std::string toJson(const std::string& value)
{
  return stringify(JSON::String(value));
}


std::string pidToJson(pid_t pid)
{
  return stringify(JSON::Number(static_cast<int64_t>(pid)));
}


std::string toJson(const std::map<std::string, std::string>& environment)
{
  JSON::Object object;
  foreachpair (const std::string& name, const std::string& value, environment) {
    object.values[name] = JSON::String(value);
  }
  return stringify(object);
}


std::string toJson(const std::vector<mesos::slave::ContainerState>& states)
{
  JSON::Array array;
  array.values.reserve(states.size());
  foreach (const mesos::slave::ContainerState& state, states) {
    array.values.emplace_back(JSON::protobuf(state));
  }
  return stringify(array);
}


std::string toJson(const hashset<mesos::ContainerID>& containerIds)
{
  JSON::Array array;
  array.values.reserve(containerIds.size());
  foreach (const mesos::ContainerID& containerId, containerIds) {
    array.values.emplace_back(JSON::protobuf(containerId));
  }
  return stringify(array);
}


std::string toJson(
    const google::protobuf::Map<std::string, mesos::Value::Scalar>& limits)
{
  JSON::Object object;
  foreach (const auto& limit, limits) {
    object.values[limit.first] = JSON::protobuf(limit.second);
  }
  return stringify(object);
}


template <>
Try<mesos::Resources> parse<mesos::Resources>(const std::string& json)
{
  Try<JSON::Array> array = JSON::parse<JSON::Array>(json);
  if (array.isError()) {
    return Error(array.error());
  }

  // `fromJSON` keeps invalid entries (and gives the default role to entries
  // without one, then upgrades them to the post-refinement format, as
  // `Resources::parse` does). `Resources::parse` itself is not used: it also
  // rejects dynamic reservations, persistent volumes and revocable resources,
  // which a task's resources may legitimately carry.
  Try<std::vector<mesos::Resource>> resources =
      mesos::Resources::fromJSON(array.get());
  if (resources.isError()) {
    return Error(resources.error());
  }

  foreach (const mesos::Resource& resource, resources.get()) {
    Option<Error> error = mesos::Resources::validate(resource);
    if (error.isSome()) {
      return Error("Invalid resource: " + error->message);
    }
  }

  // Every entry is valid: the constructor only merges addable entries and
  // leaves out empty ones (a zero scalar, an empty set or range).
  return mesos::Resources(std::move(resources.get()));
}


template <>
Try<std::list<mesos::slave::QoSCorrection>>
parse<std::list<mesos::slave::QoSCorrection>>(const std::string& json)
{
  Try<JSON::Array> array = JSON::parse<JSON::Array>(json);
  if (array.isError()) {
    return Error(array.error());
  }

  Try<google::protobuf::RepeatedPtrField<mesos::slave::QoSCorrection>>
      corrections = protobuf::parse<
          google::protobuf::RepeatedPtrField<mesos::slave::QoSCorrection>>(
          array.get());
  if (corrections.isError()) {
    return Error(corrections.error());
  }

  return std::list<mesos::slave::QoSCorrection>(
      corrections->begin(), corrections->end());
}


template <>
Try<mesos::Attributes> parse<mesos::Attributes>(const std::string& json)
{
  Try<JSON::Array> array = JSON::parse<JSON::Array>(json);
  if (array.isError()) {
    return Error(array.error());
  }

  Try<google::protobuf::RepeatedPtrField<mesos::Attribute>> attributes =
      protobuf::parse<google::protobuf::RepeatedPtrField<mesos::Attribute>>(
          array.get());
  if (attributes.isError()) {
    return Error(attributes.error());
  }

  return mesos::Attributes(attributes.get());
}


template <>
Try<Nothing> parse<Nothing>(const std::string&)
{
  return Nothing();
}

}  // namespace mesos_command_modules
