// SyncGroup (key 14, v0-5): after a JoinGroup, the leader sends every member's assignment and
// each member gets its own (followers wait for the leader's; a member the leader left out gets
// empty bytes). The coordinator stores the generation durably before answering. v5+ (KIP-559)
// name the protocol type and name the member joined with: both are required (null answers
// INCONSISTENT_GROUP_PROTOCOL, as Kafka does), and a pair that differs from the group's gets
// INCONSISTENT_GROUP_PROTOCOL after the member and generation checks. A v5 answer without error
// repeats them (they are then the group's).
#include "protocol/generated/sync_group.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_sync_group(RequestContext ctx) {
  protocol::SyncGroupRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::SyncGroupResponse response;
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  const bool protocol_named = ctx.api_version() >= 5;
  if (protocol_named &&
      (!request.protocol_type.has_value() || !request.protocol_name.has_value())) {
    response.error_code = wire(ErrorCode::inconsistent_group_protocol);
    co_return respond(ctx, response);
  }
  groups::SyncRequest sync;
  sync.group_id = request.group_id;
  sync.generation_id = request.generation_id;
  sync.member_id = request.member_id;
  sync.group_instance_id = ctx.api_version() >= 3 ? request.group_instance_id : std::nullopt;
  if (protocol_named) {
    sync.protocol_type = request.protocol_type;
    sync.protocol_name = request.protocol_name;
  }
  for (auto& assignment : request.assignments) {
    sync.assignments.emplace_back(std::move(assignment.member_id),
                                  std::move(assignment.assignment));
  }
  const std::string group_id = sync.group_id;
  groups::SyncResult result = co_await groups::on_group_shard(
      ctx, group_id, groups::sync_group(ctx.broker->groups, std::move(sync)));
  response.error_code = wire(result.error);
  response.assignment = std::move(result.assignment);
  if (protocol_named && result.error == ErrorCode::none) {
    response.protocol_type = std::move(request.protocol_type);
    response.protocol_name = std::move(request.protocol_name);
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
