// ListGroups (key 16, v0-5): every group of every shard, with its protocol type, (v4+) its state
// and (v5+) its type. v4+ may filter by state names (KIP-518), v5+ by type names (KIP-848), both
// matched case-insensitively; an empty filter matches every group, a name Kafka does not know
// matches none. Cairn has classic groups only, so every group's type is "classic": a types
// filter without "classic" lists nothing. If any __consumer_offsets partition is still being
// replayed the error is COORDINATOR_LOAD_IN_PROGRESS (with the groups known so far), as Kafka
// answers.
#include <algorithm>
#include <cctype>
#include <set>

#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/list_groups.h"

namespace cairn::broker {

namespace {

constexpr std::string_view kClassicGroupType = "classic";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Whether a v5 types filter admits classic groups.
bool types_admit_classic(const std::vector<std::string>& types_filter) {
  if (types_filter.empty()) return true;
  return std::ranges::any_of(types_filter, [](const std::string& type) {
    return equals_ignoring_case(type, kClassicGroupType);
  });
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
  std::set<groups::GroupState> wanted;
  for (const std::string& name : request.states_filter) {
    std::optional<groups::GroupState> state = groups::parse_group_state(name);
    // An unknown state name matches no group.
    if (state.has_value()) wanted.insert(*state);
  }
  const bool filtered = ctx.api_version() >= 4 && !request.states_filter.empty();
  const bool classic_listed = ctx.api_version() < 5 || types_admit_classic(request.types_filter);
  for (uint32_t i = 0; i < coordinator->shard_count(); ++i) {
    groups::ListResult local = co_await ctx.broker->shards->run_on(
        net::ShardId(i), groups::list_local_groups(coordinator));
    if (local.error != ErrorCode::none) response.error_code = wire(local.error);
    for (groups::GroupListing& group : local.groups) {
      if (!classic_listed) break;
      if (filtered && !wanted.contains(*groups::parse_group_state(group.state))) continue;
      protocol::ListGroupsResponse::ListedGroup out;
      out.group_id = std::move(group.group_id);
      out.protocol_type = std::move(group.protocol_type);
      out.group_state = std::move(group.state);
      out.group_type = kClassicGroupType;
      response.groups.push_back(std::move(out));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
