#include "broker/request_context.h"

#include "broker/security/authorizer.h"

namespace cairn::broker {

net::OutboundFrame to_outbound_frame(protocol::Frame frame) {
  net::OutboundFrame out;
  out.bytes = std::move(frame.bytes);
  out.splices.reserve(frame.splices.size());
  for (protocol::Splice& splice : frame.splices) {
    out.splices.push_back(net::FileSplice{
        splice.at, net::FileSlice{splice.range.fd, splice.range.offset, splice.range.size,
                                  std::move(splice.range.keepalive)}});
  }
  return out;
}

bool RequestContext::allowed(security::AclOperation operation, security::AclResourceType type,
                             std::string_view name) const {
  return broker->authorizer == nullptr || identity == nullptr ||
         broker->authorizer->allowed(*identity, operation, type, name);
}

bool RequestContext::allowed_on_some(security::AclOperation operation,
                                     security::AclResourceType type) const {
  return broker->authorizer == nullptr || identity == nullptr ||
         broker->authorizer->allowed_on_some(*identity, operation, type);
}

int32_t RequestContext::authorized_operations(security::AclResourceType type,
                                              std::string_view name) const {
  if (broker->authorizer == nullptr || identity == nullptr) return security::all_operations(type);
  return broker->authorizer->authorized_operations(*identity, type, name);
}

}  // namespace cairn::broker
