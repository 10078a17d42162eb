// What differs between the Mesos versions the shim is compiled against:
// 1.9.x, 1.10.x, 1.11.0 and master (1.12.0 in development). Every line of
// the shim that depends on the version is here; the rest of the shim is the
// same for all of them. shim/README.md ("Mesos versions") has the table of
// what differs and what does not.
//
// The version is the one of the headers: `mesos/version.hpp`, which Mesos's
// configure makes from its own version.

#ifndef MESOS_COMMAND_MODULES_SHIM_COMPAT_HPP_
#define MESOS_COMMAND_MODULES_SHIM_COMPAT_HPP_

#include <string>

#include <google/protobuf/map.h>
#include <mesos/mesos.hpp>
#include <mesos/resources.hpp>
#include <mesos/slave/isolator.hpp>
#include <mesos/version.hpp>
#include <process/future.hpp>
#include <stout/nothing.hpp>

#if !defined(MESOS_MAJOR_VERSION_NUM) || !defined(MESOS_MINOR_VERSION_NUM)
#error "mesos/version.hpp has no MESOS_MAJOR_VERSION_NUM (Mesos before 1.9?)"
#endif

// True when the Mesos headers are of version `major`.`minor` or later.
#define MESOS_COMMAND_MODULES_MESOS_AT_LEAST(major, minor) \
  (MESOS_MAJOR_VERSION_NUM > (major) ||                    \
   (MESOS_MAJOR_VERSION_NUM == (major) && MESOS_MINOR_VERSION_NUM >= (minor)))

#if !MESOS_COMMAND_MODULES_MESOS_AT_LEAST(1, 9)
#error "The shim supports Mesos 1.9.0 and later"
#endif

namespace mesos_command_modules {
namespace compat {

// The Mesos version the shim is compiled against, as `MESOS_VERSION`. The
// agent loads the module only if it is its own version (the module's
// `compatible` function is null).
constexpr const char kMesosVersion[] = MESOS_VERSION;


// The resource limits of `Isolator::update`, keyed by resource name.
using ResourceLimits = google::protobuf::Map<std::string, mesos::Value::Scalar>;


// `mesos::slave::Isolator`, with `update` in one form whatever the version:
// a subclass implements `updateResources`.
//
// Mesos 1.10.0 added the `resourceLimits` argument to `update` (and the
// `limits` of `ContainerConfig`, `TaskInfo`). Mesos 1.9 has no limits to
// give: `updateResources` then gets empty ones, which is also what a later
// agent passes for a container without limits.
class Isolator : public mesos::slave::Isolator
{
public:
#if MESOS_COMMAND_MODULES_MESOS_AT_LEAST(1, 10)
  process::Future<Nothing> update(
      const mesos::ContainerID& containerId,
      const mesos::Resources& resourceRequests,
      const ResourceLimits& resourceLimits) final
  {
    return updateResources(containerId, resourceRequests, resourceLimits);
  }
#else
  process::Future<Nothing> update(
      const mesos::ContainerID& containerId,
      const mesos::Resources& resources) final
  {
    return updateResources(containerId, resources, ResourceLimits());
  }
#endif

protected:
  virtual process::Future<Nothing> updateResources(
      const mesos::ContainerID& containerId,
      const mesos::Resources& resourceRequests,
      const ResourceLimits& resourceLimits) = 0;
};

}  // namespace compat
}  // namespace mesos_command_modules

#endif  // MESOS_COMMAND_MODULES_SHIM_COMPAT_HPP_
