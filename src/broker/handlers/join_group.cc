// JoinGroup (key 11, v0-5): a member joins (or rejoins) a group; the answer waits until the
// rebalance completes (bounded by the rebalance timeout). The group's shard decides
// (groups/group_manager.h); this file converts the wire form. v0 carries no rebalance timeout:
// the session timeout stands in for it (a -1 would make every join kick the others out).
// v4+ first joins get MEMBER_ID_REQUIRED (KIP-394); v5+ may name a group instance (KIP-345).
#include "protocol/generated/join_group.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_join_group(RequestContext ctx) {
  protocol::JoinGroupRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::JoinGroupResponse response;
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

  const std::string group_id = join.group_id;
  groups::JoinResult result = co_await groups::on_group_shard(
      ctx, group_id, groups::join_group(ctx.broker->groups, std::move(join)));
  response.error_code = wire(result.error);
  response.generation_id = result.generation_id;
  response.protocol_name = result.protocol_name;
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
