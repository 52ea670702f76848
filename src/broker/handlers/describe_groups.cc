// DescribeGroups (key 15, v0-5): state, protocol and members of each group asked for. A group
// the coordinator does not have is described as "Dead" with no error, as Kafka does. Member
// metadata and assignments are given only for Stable groups (in other states they are being
// replaced). v3+ may ask for authorized operations (READ, DELETE, DESCRIBE: all of them while
// authorizer.enabled is false). A group the principal may not DESCRIBE answers
// GROUP_AUTHORIZATION_FAILED.
#include "protocol/generated/describe_groups.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

namespace {

protocol::DescribeGroupsResponse::DescribedGroup to_described(const RequestContext& ctx,
                                                              groups::GroupSummary summary,
                                                              bool with_operations) {
  protocol::DescribeGroupsResponse::DescribedGroup out;
  out.error_code = wire(summary.error);
  out.group_id = std::move(summary.group_id);
  out.group_state = std::move(summary.state);
  out.protocol_type = std::move(summary.protocol_type);
  out.protocol_data = std::move(summary.protocol_name);
  for (groups::MemberSummary& member : summary.members) {
    protocol::DescribeGroupsResponse::DescribedGroupMember m;
    m.member_id = std::move(member.member_id);
    m.group_instance_id = std::move(member.group_instance_id);
    m.client_id = std::move(member.client_id);
    m.client_host = std::move(member.client_host);
    m.member_metadata = std::move(member.metadata);
    m.member_assignment = std::move(member.assignment);
    out.members.push_back(std::move(m));
  }
  if (with_operations) {
    out.authorized_operations = ctx.authorized_operations(AclResourceType::group, out.group_id);
  }
  return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_groups(RequestContext ctx) {
  protocol::DescribeGroupsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::DescribeGroupsResponse response;
  const bool with_operations = ctx.api_version() >= 3 && request.include_authorized_operations;
  for (const std::string& group_id : request.groups) {
    groups::GroupSummary summary;
    summary.group_id = group_id;
    if (!ctx.allowed(AclOperation::describe, AclResourceType::group, group_id)) {
      summary.error = ErrorCode::group_authorization_failed;
    } else if (ctx.broker->groups == nullptr) {
      summary.error = ErrorCode::coordinator_not_available;
    } else {
      summary = co_await groups::on_group_shard(
          ctx, group_id, groups::describe_group(ctx.broker->groups, group_id));
    }
    response.groups.push_back(to_described(ctx, std::move(summary), with_operations));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
