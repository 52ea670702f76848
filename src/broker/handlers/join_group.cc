// JoinGroup (key 11, v0-9): a member joins (or rejoins) a group; the answer waits until the
// rebalance completes (bounded by the rebalance timeout). The group's shard decides
// (groups/group_manager.h); this file converts the wire form. v0 carries no rebalance timeout:
// the session timeout stands in for it (a -1 would make every join kick the others out).
// v4+ first joins get MEMBER_ID_REQUIRED (KIP-394); v5+ may name a group instance (KIP-345).
// v6 is flexible. v7+ answers carry the group's protocol type, and null (not "") for a missing
// protocol type or name (KIP-559). v8+ give a reason for joining (KIP-800): the broker logs it.
// v9+ answers say skip_assignment (KIP-814): true only for a static leader that rejoined a
// Stable group with unchanged protocols — it gets the members but keeps the assignment it had.
// Older versions get, as from Kafka 3.x, no members and the old leader id: the member acts as
// a follower and its SyncGroup returns the assignment it had.
#include <spdlog/spdlog.h>

#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/join_group.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_join_group(RequestContext ctx) {
  protocol::JoinGroupRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::JoinGroupResponse response;
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  groups::JoinRequest join;
  join.group_id = request.group_id;
  join.member_id = request.member_id;
  join.group_instance_id = ctx.api_version() >= 5 ? request.group_instance_id : std::nullopt;
  join.client_id = groups::client_id(ctx);
  join.client_host = groups::client_host(ctx);
  join.session_timeout_ms = request.session_timeout_ms;
  join.rebalance_timeout_ms =
      ctx.api_version() >= 1 ? request.rebalance_timeout_ms : request.session_timeout_ms;
  join.protocol_type = request.protocol_type;
  for (auto& protocol : request.protocols) {
    join.protocols.push_back({std::move(protocol.name), std::move(protocol.metadata)});
  }
  join.require_known_member_id = ctx.api_version() >= 4;
  join.supports_skip_assignment = ctx.api_version() >= 9;

  const std::string group_id = join.group_id;
  groups::JoinResult result = co_await groups::on_group_shard(
      ctx, group_id, groups::join_group(ctx.broker->groups, std::move(join)));
  if (ctx.api_version() >= 8 && request.reason.has_value()) {
    spdlog::info("group {}: member {} joins; reason: {}", group_id,
                 result.member_id.empty() ? request.member_id : result.member_id,
                 groups::reason_for_log(request.reason));
  }
  response.error_code = wire(result.error);
  response.generation_id = result.generation_id;
  response.protocol_name = result.protocol_name;
  if (ctx.api_version() >= 7) {
    if (!result.protocol_type.empty()) response.protocol_type = result.protocol_type;
    if (result.protocol_name.empty()) response.protocol_name = std::nullopt;
  }
  response.skip_assignment = result.skip_assignment;
  response.leader = result.leader_id;
  response.member_id = result.member_id;
  for (groups::JoinedMember& member : result.members) {
    protocol::JoinGroupResponse::JoinGroupResponseMember out;
    out.member_id = std::move(member.member_id);
    out.group_instance_id = std::move(member.group_instance_id);
    out.metadata = std::move(member.metadata);
    response.members.push_back(std::move(out));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
