// DeleteGroups (key 42, v0-2): deletes groups that have no members, with their committed
// offsets (tombstones in __consumer_offsets, fsynced before the answer). Per group:
// GROUP_ID_NOT_FOUND if there is no such group, NON_EMPTY_GROUP while it has members,
// GROUP_AUTHORIZATION_FAILED without DELETE on it.
#include "protocol/generated/delete_groups.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_delete_groups(RequestContext ctx) {
  protocol::DeleteGroupsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::DeleteGroupsResponse response;
  for (const std::string& group_id : request.groups_names) {
    ErrorCode error = ErrorCode::coordinator_not_available;
    if (!ctx.allowed(AclOperation::remove, AclResourceType::group, group_id)) {
      error = ErrorCode::group_authorization_failed;
    } else if (ctx.broker->groups != nullptr) {
      error = co_await groups::on_group_shard(ctx, group_id,
                                              groups::delete_group(ctx.broker->groups, group_id));
    }
    response.results.push_back({group_id, wire(error)});
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
