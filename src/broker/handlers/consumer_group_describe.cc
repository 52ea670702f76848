// ConsumerGroupDescribe (key 69, v0): the state, epochs, assignor and members (with their
// current and target assignments) of consumer-protocol groups (KIP-848). A classic group or
// an unknown one answers GROUP_ID_NOT_FOUND, as Kafka does. Without ACLs every group
// operation is allowed (READ, DELETE, DESCRIBE).
#include "protocol/generated/consumer_group_describe.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

namespace {

using Response = protocol::ConsumerGroupDescribeResponse;

Response::Assignment to_assignment(const groups::TopicPartitions& partitions,
                                   const TopicTable& topics) {
  Response::Assignment assignment;
  for (const auto& [name, set] : partitions) {
    Response::TopicPartitions entry;
    if (const TopicInfo* topic = topics.find(name)) entry.topic_id = topic->topic_id;
    entry.topic_name = name;
    entry.partitions.assign(set.begin(), set.end());
    assignment.topic_partitions.push_back(std::move(entry));
  }
  return assignment;
}

Response::DescribedGroup to_described(const RequestContext& ctx,
                                      groups::ConsumerGroupSummary summary,
                                      const TopicTable& topics, bool with_operations) {
  Response::DescribedGroup out;
  out.error_code = wire(summary.error);
  if (!summary.error_message.empty()) out.error_message = std::move(summary.error_message);
  out.group_id = std::move(summary.group_id);
  out.group_state = std::move(summary.state);
  out.group_epoch = summary.group_epoch;
  out.assignment_epoch = summary.assignment_epoch;
  out.assignor_name = std::move(summary.assignor);
  for (groups::ConsumerMemberSummary& member : summary.members) {
    Response::Member m;
    m.member_id = std::move(member.member_id);
    m.instance_id = std::move(member.instance_id);
    m.rack_id = std::move(member.rack_id);
    m.member_epoch = member.member_epoch;
    m.client_id = std::move(member.client_id);
    m.client_host = std::move(member.client_host);
    m.subscribed_topic_names = std::move(member.subscribed_topic_names);
    m.assignment = to_assignment(member.assignment, topics);
    m.target_assignment = to_assignment(member.target_assignment, topics);
    out.members.push_back(std::move(m));
  }
  if (with_operations) {
    out.authorized_operations = ctx.authorized_operations(AclResourceType::group, out.group_id);
  }
  return out;
}

// A group whose members hold topics the principal may not DESCRIBE is refused whole with
// TOPIC_AUTHORIZATION_FAILED, as Kafka answers, rather than naming those topics.
void hide_unauthorized_topics(const RequestContext& ctx, groups::ConsumerGroupSummary& summary) {
  for (const groups::ConsumerMemberSummary& member : summary.members) {
    for (const groups::TopicPartitions* partitions :
         {&member.assignment, &member.target_assignment}) {
      for (const auto& [topic, set] : *partitions) {
        if (ctx.allowed(AclOperation::describe, AclResourceType::topic, topic)) continue;
        summary.error = ErrorCode::topic_authorization_failed;
        summary.error_message =
            "the group has described topic(s) the client is not authorized to describe";
        summary.members.clear();
        return;
      }
    }
  }
}

}  // namespace

asio::awaitable<net::Reply> handle_consumer_group_describe(RequestContext ctx) {
  protocol::ConsumerGroupDescribeRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  Response response;
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  for (const std::string& group_id : request.group_ids) {
    groups::ConsumerGroupSummary summary;
    summary.group_id = group_id;
    if (ctx.broker->groups == nullptr) {
      summary.error = ErrorCode::coordinator_not_available;
    } else if (!ctx.allowed(AclOperation::describe, AclResourceType::group, group_id)) {
      summary.error = ErrorCode::group_authorization_failed;
    } else if (group_id.empty()) {
      summary.error = ErrorCode::invalid_group_id;
    } else {
      summary = co_await groups::on_group_shard(
          ctx, group_id, groups::describe_consumer_group(ctx.broker->groups, group_id));
      hide_unauthorized_topics(ctx, summary);
    }
    response.groups.push_back(
        to_described(ctx, std::move(summary), *topics, request.include_authorized_operations));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
