#include "broker/request_context.h"

#include "broker/security/audit_log.h"
#include "broker/security/authorizer.h"
#include "protocol/generated/api_catalog.h"

namespace cairn::broker {

namespace {

std::string_view api_name(int16_t api_key) {
  for (const protocol::ApiInfo& api : protocol::kApiCatalog) {
    if (api.api_key == api_key) return api.name;
  }
  return "Unknown";
}

// An authorization or access event for `ctx`'s request (REQUIRES: an identity).
security::AuditEvent request_event(const RequestContext& ctx, security::AclOperation operation,
                                   security::AclResourceType type, std::string_view name) {
  security::AuditEvent event;
  event.principal = ctx.identity->principal;
  event.listener = ctx.identity->listener;
  const asio::ip::tcp::endpoint& peer = ctx.connection.peer;
  event.client = peer.address().to_string() + ":" + std::to_string(peer.port());
  event.client_id = std::string(ctx.header.client_id.value_or(""));
  event.api = api_name(ctx.header.api_key);
  event.operation = security::acl_name(operation);
  event.resource_type = security::acl_name(type);
  event.resource = name;
  return event;
}

}  // namespace

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
  if (allowed_quietly(operation, type, name)) return true;
  if (broker->audit != nullptr) {
    security::AuditEvent event = request_event(*this, operation, type, name);
    event.type = security::AuditEvent::Type::authorization;
    broker->audit->record(std::move(event));
  }
  return false;
}

bool RequestContext::allowed_quietly(security::AclOperation operation,
                                     security::AclResourceType type, std::string_view name) const {
  return broker->authorizer == nullptr || identity == nullptr ||
         broker->authorizer->allowed(*identity, operation, type, name);
}

void RequestContext::audit_access(security::AclOperation operation, std::string_view topic,
                                  std::vector<int32_t> partitions) const {
  // Never the internal topics: reading __cairn_audit would otherwise feed itself.
  if (broker->audit == nullptr || identity == nullptr || is_internal_topic(topic)) return;
  std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
  const TopicInfo* info = topics->find(topic);
  if (info == nullptr) return;
  auto flag = info->configs.find(security::kAuditAccessConfig);
  if (flag == info->configs.end() || flag->second != "true") return;
  security::AuditEvent event =
      request_event(*this, operation, security::AclResourceType::topic, topic);
  event.type = security::AuditEvent::Type::access;
  event.allowed = true;
  event.partitions = std::move(partitions);
  broker->audit->record(std::move(event));
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
