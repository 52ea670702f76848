// GroupManager: the consumer group protocol (KIP-848) — ConsumerGroupHeartbeat on top of
// ConsumerGroup (consumer_group.h), and how such groups coexist with classic ones.
#include "broker/groups/consumer_protocol.h"
#include "broker/groups/group_manager.h"

namespace cairn::broker::groups {

namespace {

ConsumerHeartbeatResult consumer_error(ErrorCode error, std::string message) {
  ConsumerHeartbeatResult result;
  result.error = error;
  result.error_message = std::move(message);
  return result;
}

}  // namespace

ConsumerHeartbeatResult GroupManager::consumer_heartbeat(ConsumerHeartbeat request,
                                                         const PartitionCountFn& counts,
                                                         int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  std::string message;
  if (ErrorCode error = validate_heartbeat(request, config_.consumer_assignors, &message);
      error != ErrorCode::none) {
    return consumer_error(error, std::move(message));
  }
  if (is_loading(request.group_id)) {
    return consumer_error(ErrorCode::coordinator_load_in_progress, "");
  }
  const bool joining = request.member_epoch == kJoinMemberEpoch;
  Group* g = group(request.group_id);
  if (g != nullptr && !g->is_consumer_protocol() &&
      (g->has_members() || !g->pending_members.empty())) {
    return consumer_error(ErrorCode::group_id_not_found,
                          "Group " + request.group_id + " is not a consumer group.");
  }
  if (g == nullptr || !g->is_consumer_protocol()) {
    if (!joining) {
      // Kafka answers GROUP_ID_NOT_FOUND here. A member meets this case after its group was
      // deleted or expired (or its records were lost); UNKNOWN_MEMBER_ID makes it rejoin.
      return consumer_error(ErrorCode::unknown_member_id,
                            "Member " + request.member_id + " is not a member of the group.");
    }
    // A new group, or an empty classic one (its committed offsets stay): a consumer group now.
    g = &get_or_create(request.group_id, now_ms);
    g->consumer = std::make_unique<ConsumerGroup>(request.group_id, config_);
    g->protocol_type = std::string(kConsumerProtocolType);
    g->protocol_name.reset();
    g->leader_id.reset();
  }
  if (joining && request.member_id.empty()) {
    // ConsumerGroupHeartbeat v0 lets the broker name a new member (Kafka 4.0's clients name
    // themselves with a UUID, which is accepted as is).
    request.member_id = member_ids_(request.client_id);
  }
  ConsumerHeartbeatResult result = g->consumer->heartbeat(request, counts, now_ms);
  sync_consumer_state(*g, now_ms);
  reschedule(request.group_id);
  return result;
}

void GroupManager::restore_consumer_group(const std::string& group_id, ConsumerGroupImage image,
                                          int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  Group& g = get_or_create(group_id, now_ms);
  // Cairn converts only groups without members, and writes the classic record of a consumer
  // group that turned classic after its consumer records' tombstones: a classic group here
  // has no members to lose.
  g.members.clear();
  g.static_members.clear();
  g.pending_members.clear();
  g.consumer = std::make_unique<ConsumerGroup>(group_id, config_, std::move(image), now_ms);
  g.protocol_type = std::string(kConsumerProtocolType);
  g.protocol_name.reset();
  g.leader_id.reset();
  sync_consumer_state(g, now_ms);
  reschedule(group_id);
}

void GroupManager::sync_consumer_state(Group& g, int64_t now_ms) {
  ASSERT(g.is_consumer_protocol());
  ASSERT(g.members.empty());
  GroupState wanted = g.consumer->empty() ? GroupState::empty : GroupState::stable;
  if (g.is(wanted)) return;
  // Not the classic machine's transitions (group.h): the two states only mark "has members".
  g.state = wanted;
  g.state_timestamp_ms = now_ms;
}

}  // namespace cairn::broker::groups
