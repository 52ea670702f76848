// LeaveGroup (key 13, v0-5): members leave at once instead of waiting for their session to
// expire. v0-2 name one member; v3+ a batch, each by member id or by group instance id
// (KIP-345), each with its own error. For v0-2 the member's error is the response's. v5+ give
// each member's reason for leaving (KIP-800): like Kafka, the broker logs it with the leave; it
// changes nothing else.
#include <spdlog/spdlog.h>

#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/leave_group.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_leave_group(RequestContext ctx) {
  protocol::LeaveGroupRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::LeaveGroupResponse response;
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  const bool batched = ctx.api_version() >= 3;
  std::vector<groups::LeaveMember> leaving;
  if (batched) {
    for (const auto& member : request.members) {
      leaving.push_back({member.member_id, member.group_instance_id});
    }
  } else {
    leaving.push_back({request.member_id, std::nullopt});
  }
  groups::LeaveResult result = co_await groups::on_group_shard(
      ctx, request.group_id, groups::leave_group(ctx.broker->groups, request.group_id, leaving));
  response.error_code = wire(result.error);
  if (ctx.api_version() >= 5 && result.error == ErrorCode::none) {
    for (size_t i = 0; i < leaving.size(); ++i) {
      if (result.member_errors[i] != ErrorCode::none) continue;
      spdlog::info("group {}: member {} (instance {}) left; reason: {}", request.group_id,
                   leaving[i].member_id, leaving[i].group_instance_id.value_or("none"),
                   groups::reason_for_log(request.members[i].reason));
    }
  }
  if (!batched) {
    if (result.error == ErrorCode::none && !result.member_errors.empty()) {
      response.error_code = wire(result.member_errors[0]);
    }
    co_return respond(ctx, response);
  }
  if (result.error == ErrorCode::none) {
    for (size_t i = 0; i < leaving.size(); ++i) {
      protocol::LeaveGroupResponse::MemberResponse out;
      out.member_id = leaving[i].member_id;
      out.group_instance_id = leaving[i].group_instance_id;
      out.error_code = wire(result.member_errors[i]);
      response.members.push_back(std::move(out));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
