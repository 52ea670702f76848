// ListGroups (key 16, v0-5): every group of every shard, with its protocol type, (v4+) its state
// and (v5+) its type. v4+ may filter by state names (KIP-518), v5+ by type names (KIP-848), both
// matched case-insensitively; an empty filter matches every group, a name Kafka does not know
// matches none. A group's type is "classic" or, for the consumer group protocol (KIP-848),
// "consumer", whose states are Kafka's for such groups ("Empty", "Assigning", "Reconciling",
// "Stable"). If any __consumer_offsets partition is still being
// replayed the error is COORDINATOR_LOAD_IN_PROGRESS (with the groups known so far), as Kafka
// answers.
#include <algorithm>
#include <cctype>

#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/list_groups.h"

namespace cairn::broker {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Whether `filter` (states or types) admits `name`; an empty filter admits everything.
bool admits(const std::vector<std::string>& filter, std::string_view name) {
  if (filter.empty()) return true;
  return std::ranges::any_of(
      filter, [name](const std::string& entry) { return equals_ignoring_case(entry, name); });
}

}  // namespace

asio::awaitable<net::Reply> handle_list_groups(RequestContext ctx) {
  protocol::ListGroupsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::ListGroupsResponse response;
  const groups::GroupCoordinator* coordinator = ctx.broker->groups;
  if (coordinator == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  // Without DESCRIBE on the cluster, only the groups the principal may DESCRIBE (Kafka's rule).
  const bool all_groups = ctx.allowed_on_cluster_quietly(AclOperation::describe);
  const std::vector<std::string> no_filter;
  const auto& states = ctx.api_version() >= 4 ? request.states_filter : no_filter;
  const auto& types = ctx.api_version() >= 5 ? request.types_filter : no_filter;
  for (uint32_t i = 0; i < coordinator->shard_count(); ++i) {
    groups::ListResult local = co_await ctx.broker->shards->run_on(
        net::ShardId(i), groups::list_local_groups(coordinator));
    if (local.error != ErrorCode::none) response.error_code = wire(local.error);
    for (groups::GroupListing& group : local.groups) {
      if (!admits(states, group.state) || !admits(types, group.group_type)) continue;
      if (!all_groups &&
          !ctx.allowed_quietly(AclOperation::describe, AclResourceType::group, group.group_id)) {
        continue;
      }
      protocol::ListGroupsResponse::ListedGroup out;
      out.group_id = std::move(group.group_id);
      out.protocol_type = std::move(group.protocol_type);
      out.group_state = std::move(group.state);
      out.group_type = std::move(group.group_type);
      response.groups.push_back(std::move(out));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
