// ListGroups (key 16, v0-4): every group of every shard, with its protocol type and (v4) its
// state; v4 may filter by state names (matched case-insensitively). If any __consumer_offsets
// partition is still being replayed the error is COORDINATOR_LOAD_IN_PROGRESS (with the groups
// known so far), as Kafka answers.
#include <set>

#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/list_groups.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_list_groups(RequestContext ctx) {
  protocol::ListGroupsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::ListGroupsResponse response;
  const groups::GroupCoordinator* coordinator = ctx.broker->groups;
  if (coordinator == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  std::set<groups::GroupState> wanted;
  for (const std::string& name : request.states_filter) {
    std::optional<groups::GroupState> state = groups::parse_group_state(name);
    // An unknown state name matches no group.
    if (state.has_value()) wanted.insert(*state);
  }
  const bool filtered = ctx.api_version() >= 4 && !request.states_filter.empty();
  for (uint32_t i = 0; i < coordinator->shard_count(); ++i) {
    groups::ListResult local = co_await ctx.broker->shards->run_on(
        net::ShardId(i), groups::list_local_groups(coordinator));
    if (local.error != ErrorCode::none) response.error_code = wire(local.error);
    for (groups::GroupListing& group : local.groups) {
      if (filtered && !wanted.contains(*groups::parse_group_state(group.state))) continue;
      protocol::ListGroupsResponse::ListedGroup out;
      out.group_id = std::move(group.group_id);
      out.protocol_type = std::move(group.protocol_type);
      out.group_state = std::move(group.state);
      response.groups.push_back(std::move(out));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
