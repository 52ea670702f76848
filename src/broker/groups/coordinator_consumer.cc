// The consumer group protocol (KIP-848) on the group's shard: ConsumerGroupHeartbeat and
// ConsumerGroupDescribe, and DescribeGroups' view of such a group. The rest of the coordinator
// is in coordinator.cc.
#include <spdlog/spdlog.h>

#include "broker/groups/consumer_protocol.h"
#include "broker/groups/coordinator.h"
#include "broker/groups/shard_coordinator.h"

namespace cairn::broker::groups {

asio::awaitable<ConsumerHeartbeatResult> consumer_heartbeat(
    const GroupCoordinator* coordinator, ConsumerHeartbeat request,
    std::shared_ptr<const TopicTable> topics) {
  ShardCoordinator& local = coordinator->local();
  ASSERT(topics != nullptr);
  PartitionCountFn counts = [&topics](const std::string& name) -> std::optional<int32_t> {
    const TopicInfo* topic = topics->find(name);
    if (topic == nullptr || is_internal_topic(name)) return std::nullopt;
    return topic->partition_count;
  };
  TopicIdFn topic_ids = [topics](const std::string& name) -> std::optional<protocol::Uuid> {
    const TopicInfo* topic = topics->find(name);
    if (topic == nullptr) return std::nullopt;
    return topic->topic_id;
  };
  std::string group_id = request.group_id;
  ConsumerHeartbeatResult result =
      local.manager().consumer_heartbeat(std::move(request), counts, local.now_ms());
  local.rearm();
  // What the answer announces (an epoch, an assignment) must survive a crash: it is answered
  // once the group's records are durable, as a SyncGroup is.
  Status stored = co_await local.persist_consumer_group(std::move(group_id), std::move(topic_ids));
  if (!stored.ok() && result.error == ErrorCode::none) {
    spdlog::warn("{}: storing consumer group failed: {}", kOffsetsTopic, stored.to_string());
    ConsumerHeartbeatResult failed;
    failed.error = ErrorCode::coordinator_not_available;
    failed.error_message = "The group's state could not be stored.";
    co_return failed;
  }
  co_return result;
}

asio::awaitable<ConsumerGroupSummary> describe_consumer_group(const GroupCoordinator* coordinator,
                                                              std::string group_id) {
  ShardCoordinator& local = coordinator->local();
  ConsumerGroupSummary summary;
  summary.group_id = group_id;
  if (local.manager().is_loading(group_id)) {
    summary.error = ErrorCode::coordinator_load_in_progress;
    co_return summary;
  }
  const Group* group = local.manager().find_group(group_id);
  if (group == nullptr || !group->is_consumer_protocol()) {
    summary.error = ErrorCode::group_id_not_found;
    summary.error_message = group == nullptr ? "Group " + group_id + " not found."
                                             : "Group " + group_id + " is not a consumer group.";
    co_return summary;
  }
  const ConsumerGroup& consumer = *group->consumer;
  summary.state = consumer.state_name();
  summary.group_epoch = consumer.group_epoch();
  summary.assignment_epoch = consumer.assignment_epoch();
  summary.assignor = consumer.assignor();
  for (const auto& [id, member] : consumer.members()) {
    summary.members.push_back({id, member.instance_id, member.rack_id, member.member_epoch,
                               member.client_id, member.client_host, member.subscribed_topic_names,
                               member.assigned, consumer.target_of(id)});
  }
  co_return summary;
}

GroupSummary classic_summary_of_consumer_group(const Group& group) {
  ASSERT(group.is_consumer_protocol());
  const ConsumerGroup& consumer = *group.consumer;
  GroupSummary summary;
  summary.group_id = group.group_id;
  summary.state = consumer.state_name();
  summary.protocol_type = std::string(kConsumerProtocolType);
  if (!consumer.empty()) summary.protocol_name = consumer.assignor();
  for (const auto& [id, member] : consumer.members()) {
    summary.members.push_back({id, member.instance_id, member.client_id, member.client_host,
                               encode_subscription(member.subscribed_topic_names),
                               encode_assignment(member.assigned)});
  }
  return summary;
}

}  // namespace cairn::broker::groups
