// Heartbeat (key 12, v0-4): a member says it is alive; the answer tells it whether to rejoin
// (REBALANCE_IN_PROGRESS) or that it is no longer a member (UNKNOWN_MEMBER_ID,
// ILLEGAL_GENERATION, FENCED_INSTANCE_ID).
#include "protocol/generated/heartbeat.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_heartbeat(RequestContext ctx) {
  protocol::HeartbeatRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::HeartbeatResponse response;
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  groups::HeartbeatRequest heartbeat;
  heartbeat.group_id = request.group_id;
  heartbeat.generation_id = request.generation_id;
  heartbeat.member_id = request.member_id;
  heartbeat.group_instance_id = ctx.api_version() >= 3 ? request.group_instance_id : std::nullopt;
  const std::string group_id = heartbeat.group_id;
  ErrorCode error = co_await groups::on_group_shard(
      ctx, group_id, groups::heartbeat(ctx.broker->groups, std::move(heartbeat)));
  response.error_code = wire(error);
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
