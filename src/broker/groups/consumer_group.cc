#include "broker/groups/consumer_group.h"

#include <algorithm>

#include "base/assert.h"

namespace cairn::broker::groups {

namespace {

ConsumerHeartbeatResult heartbeat_error(ErrorCode error, std::string message) {
  ConsumerHeartbeatResult result;
  result.error = error;
  result.error_message = std::move(message);
  return result;
}

std::vector<std::string> sorted_unique(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

const TopicPartitions kNoPartitions;

}  // namespace

ErrorCode validate_heartbeat(const ConsumerHeartbeat& request,
                             const std::vector<std::string>& assignors, std::string* message) {
  ASSERT(message != nullptr);
  auto invalid = [message](const char* text) {
    *message = text;
    return ErrorCode::invalid_request;
  };
  if (request.group_id.empty()) return invalid("GroupId can't be empty.");
  if (request.instance_id.has_value() && request.instance_id->empty()) {
    return invalid("InstanceId can't be empty.");
  }
  if (request.rack_id.has_value() && request.rack_id->empty()) {
    return invalid("RackId can't be empty.");
  }
  if (request.member_epoch == kJoinMemberEpoch) {
    if (request.rebalance_timeout_ms < 0) {
      return invalid("RebalanceTimeoutMs must be provided in first request.");
    }
    if (!request.owned.has_value() || !request.owned->empty()) {
      return invalid("TopicPartitions must be empty when (re-)joining.");
    }
    if (!request.subscribed_topic_names.has_value()) {
      return invalid("SubscribedTopicNames must be set in first request.");
    }
  } else if (request.member_epoch > 0 || request.member_epoch == kLeaveMemberEpoch) {
    if (request.member_id.empty()) return invalid("MemberId can't be empty.");
  } else if (request.member_epoch == kLeaveStaticMemberEpoch) {
    if (request.member_id.empty()) return invalid("MemberId can't be empty.");
    if (!request.instance_id.has_value()) return invalid("InstanceId can't be null.");
  } else {
    return invalid("MemberEpoch is invalid.");
  }
  if (request.server_assignor.has_value() &&
      std::find(assignors.begin(), assignors.end(), *request.server_assignor) == assignors.end()) {
    *message = "ServerAssignor " + *request.server_assignor + " is not supported.";
    return ErrorCode::unsupported_assignor;
  }
  return ErrorCode::none;
}

ConsumerGroup::ConsumerGroup(std::string group_id, const GroupConfig& config)
    : group_id_(std::move(group_id)), config_(config) {
  assignor_ = chosen_assignor();  // in the body: it reads members_, declared after assignor_
}

ConsumerGroup::ConsumerGroup(std::string group_id, const GroupConfig& config,
                             ConsumerGroupImage image, int64_t now_ms)
    : ConsumerGroup(std::move(group_id), config) {
  group_epoch_ = image.group_epoch;
  assignment_epoch_ = image.assignment_epoch;
  subscribed_partition_counts_ = std::move(image.partition_counts);
  for (ConsumerMember& restored : image.members) {
    if (restored.member_id.empty() || members_.contains(restored.member_id)) continue;
    ConsumerMember& member = members_[restored.member_id];
    TopicPartitions assigned = std::move(restored.assigned);
    TopicPartitions pending = std::move(restored.pending_revocation);
    member = std::move(restored);
    member.assigned.clear();
    member.pending_revocation.clear();
    member.session_deadline_ms = now_ms + config_.consumer_session_timeout_ms;
    member.static_left = false;
    if (member.state == MemberState::unrevoked_partitions) {
      member.revocation_deadline_ms = now_ms + member.rebalance_timeout_ms;
    }
    if (member.instance_id.has_value()) static_members_[*member.instance_id] = member.member_id;
    auto unowned = [this](TopicPartitions partitions) {
      for (auto& entry : partitions) {
        const std::string& topic = entry.first;  // not a structured binding: clang's lambdas
        std::erase_if(entry.second, [&](int32_t p) { return owners_.contains({topic, p}); });
      }
      std::erase_if(partitions, [](const auto& entry) { return entry.second.empty(); });
      return partitions;
    };
    assigned = unowned(std::move(assigned));
    pending = unowned(std::move(pending));
    // A partition listed both as assigned and as pending revocation (corrupt or foreign
    // records) counts as assigned only.
    for (auto& entry : pending) {
      auto owned = assigned.find(entry.first);
      if (owned == assigned.end()) continue;
      const std::set<int32_t>& mine = owned->second;
      std::erase_if(entry.second, [&mine](int32_t p) { return mine.contains(p); });
    }
    std::erase_if(pending, [](const auto& entry) { return entry.second.empty(); });
    set_ownership(member, std::move(assigned), std::move(pending));
  }
  for (auto& [id, partitions] : image.target) {
    if (members_.contains(id)) target_[id] = std::move(partitions);
  }
  assignor_ = chosen_assignor();
}

ConsumerGroupImage ConsumerGroup::image() const {
  ConsumerGroupImage image;
  image.group_epoch = group_epoch_;
  image.partition_counts = subscribed_partition_counts_;
  image.assignment_epoch = assignment_epoch_;
  image.target = target_;
  for (const auto& [id, member] : members_) image.members.push_back(member);
  return image;
}

const TopicPartitions& ConsumerGroup::target_of(const std::string& member_id) const {
  auto it = target_.find(member_id);
  return it == target_.end() ? kNoPartitions : it->second;
}

const char* ConsumerGroup::state_name() const {
  if (members_.empty()) return "Empty";
  if (group_epoch_ > assignment_epoch_) return "Assigning";
  for (const auto& [id, member] : members_) {
    if (member.member_epoch != assignment_epoch_ || member.state != MemberState::stable) {
      return "Reconciling";
    }
  }
  return "Stable";
}

std::vector<std::string> ConsumerGroup::subscribed_topics() const {
  std::vector<std::string> topics;
  for (const auto& [id, member] : members_) {
    topics.insert(topics.end(), member.subscribed_topic_names.begin(),
                  member.subscribed_topic_names.end());
  }
  return sorted_unique(std::move(topics));
}

// ---------------------------------------------------------------------------------------------
// Heartbeat

ConsumerHeartbeatResult ConsumerGroup::heartbeat(const ConsumerHeartbeat& request,
                                                 const PartitionCountFn& counts, int64_t now_ms) {
  ASSERT(!request.member_id.empty());
  if (request.member_epoch < 0) return leave(request, counts);
  bool created = false;
  if (request.member_epoch == kJoinMemberEpoch) {
    ConsumerHeartbeatResult joined = join(request, &created);
    if (joined.error != ErrorCode::none) return joined;
  } else {
    ConsumerHeartbeatResult refused;
    const ConsumerMember* known = find_sender(request, &refused);
    if (known == nullptr) return refused;
    if (ErrorCode error = check_epoch(*known, request); error != ErrorCode::none) {
      return heartbeat_error(error, "The member epoch is stale.");
    }
  }
  ConsumerMember& member = members_.at(request.member_id);
  const TopicPartitions assigned_before = member.assigned;
  const int32_t epoch_before = member.member_epoch;
  if (update_member(member, request, now_ms) || created) group_epoch_++;
  refresh_target(counts);
  reconcile(member, request.owned, now_ms);

  ConsumerHeartbeatResult result;
  result.member_id = member.member_id;
  result.member_epoch = member.member_epoch;
  result.heartbeat_interval_ms = config_.consumer_heartbeat_interval_ms;
  // Kafka answers the assignment when it changed, and to a request that carries the member's
  // whole state (a join, or one listing what the member owns).
  bool full = request.member_epoch == kJoinMemberEpoch || request.owned.has_value();
  if (full || member.assigned != assigned_before || member.member_epoch != epoch_before) {
    result.assignment = member.assigned;
  }
  return result;
}

ConsumerHeartbeatResult ConsumerGroup::join(const ConsumerHeartbeat& request, bool* created) {
  if (request.instance_id.has_value()) {
    auto bound = static_members_.find(*request.instance_id);
    if (bound != static_members_.end() && bound->second != request.member_id) {
      const ConsumerMember& previous = members_.at(bound->second);
      if (!previous.static_left) {
        return heartbeat_error(ErrorCode::unreleased_instance_id,
                               "Static member " + *request.instance_id +
                                   " is still in use by member " + previous.member_id + ".");
      }
      if (members_.contains(request.member_id)) {  // it cannot be two members at once
        return heartbeat_error(ErrorCode::invalid_request,
                               "Member " + request.member_id + " cannot take static member " +
                                   *request.instance_id + "'s place: it is a member already.");
      }
      replace_static_member(previous.member_id, request.member_id);
      return {};
    }
  }
  auto it = members_.find(request.member_id);
  if (it != members_.end()) {
    // A known member joining again has given up what it owned (it says so: TopicPartitions is
    // empty); it catches up with its target from scratch.
    ConsumerMember& member = it->second;
    set_ownership(member, {}, {});
    member.state = MemberState::stable;
    member.revocation_deadline_ms.reset();
    member.previous_member_epoch = member.member_epoch;
    member.member_epoch = 0;
    member.static_left = false;
    return {};
  }
  if (members_.size() >= config_.consumer_max_group_size) {
    return heartbeat_error(ErrorCode::group_max_size_reached,
                           "The group has reached its maximum size.");
  }
  ConsumerMember& member = members_[request.member_id];
  member.member_id = request.member_id;
  member.instance_id = request.instance_id;
  if (member.instance_id.has_value()) static_members_[*member.instance_id] = member.member_id;
  *created = true;
  return {};
}

ConsumerHeartbeatResult ConsumerGroup::leave(const ConsumerHeartbeat& request,
                                             const PartitionCountFn& counts) {
  ConsumerHeartbeatResult result;
  ConsumerMember* member = find_sender(request, &result);
  if (member == nullptr) return result;
  result.member_id = request.member_id;
  result.member_epoch = request.member_epoch;
  result.heartbeat_interval_ms = config_.consumer_heartbeat_interval_ms;
  if (request.member_epoch == kLeaveStaticMemberEpoch) {
    // Its partitions stay its own, so a restart within the session timeout changes nothing.
    member->static_left = true;
    return result;
  }
  remove_member(request.member_id);
  group_epoch_++;
  refresh_target(counts);
  return result;
}

ConsumerMember* ConsumerGroup::find_sender(const ConsumerHeartbeat& request,
                                           ConsumerHeartbeatResult* refused) {
  auto it = members_.find(request.member_id);
  if (it == members_.end()) {
    *refused = heartbeat_error(ErrorCode::unknown_member_id,
                               "Member " + request.member_id + " is not a member of the group.");
    return nullptr;
  }
  if (request.instance_id.has_value() && it->second.instance_id != request.instance_id) {
    *refused = heartbeat_error(ErrorCode::fenced_instance_id, "Instance id mismatch.");
    return nullptr;
  }
  return &it->second;
}

ErrorCode ConsumerGroup::check_epoch(const ConsumerMember& member,
                                     const ConsumerHeartbeat& request) const {
  if (request.member_epoch > member.member_epoch) return ErrorCode::fenced_member_epoch;
  if (request.member_epoch < member.member_epoch) {
    // The answer that carried the new epoch may have been lost: the previous epoch is still
    // accepted as long as the member claims nothing it no longer has.
    if (request.member_epoch != member.previous_member_epoch) {
      return ErrorCode::fenced_member_epoch;
    }
    if (request.owned.has_value() && !is_subset(*request.owned, member.assigned)) {
      return ErrorCode::fenced_member_epoch;
    }
  }
  return ErrorCode::none;
}

bool ConsumerGroup::update_member(ConsumerMember& member, const ConsumerHeartbeat& request,
                                  int64_t now_ms) {
  bool changed = false;
  if (request.subscribed_topic_names.has_value()) {
    std::vector<std::string> names = sorted_unique(*request.subscribed_topic_names);
    changed |= names != member.subscribed_topic_names;
    member.subscribed_topic_names = std::move(names);
  }
  if (request.server_assignor.has_value() && request.server_assignor != member.server_assignor) {
    member.server_assignor = request.server_assignor;
    changed = true;
  }
  if (request.rebalance_timeout_ms >= 0) member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  if (request.rack_id.has_value()) member.rack_id = request.rack_id;
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.session_deadline_ms = now_ms + config_.consumer_session_timeout_ms;
  member.static_left = false;  // it heartbeats again: no longer replaceable
  return changed;
}

void ConsumerGroup::remove_member(const std::string& member_id) {
  ConsumerMember& member = members_.at(member_id);
  set_ownership(member, {}, {});
  if (member.instance_id.has_value()) static_members_.erase(*member.instance_id);
  target_.erase(member_id);
  members_.erase(member_id);
}

// A new incarnation of a static member takes the place of the one that left with epoch -2:
// same partitions, same target, same epoch, no rebalance.
void ConsumerGroup::replace_static_member(std::string old_member_id, std::string new_member_id) {
  ASSERT(!members_.contains(new_member_id));
  ConsumerMember member = std::move(members_.at(old_member_id));
  members_.erase(old_member_id);
  for (auto& [partition, owner] : owners_) {
    if (owner == old_member_id) owner = new_member_id;
  }
  if (auto target = target_.find(old_member_id); target != target_.end()) {
    target_[new_member_id] = std::move(target->second);
    target_.erase(old_member_id);
  }
  member.member_id = new_member_id;
  member.static_left = false;
  static_members_[*member.instance_id] = new_member_id;
  members_.emplace(new_member_id, std::move(member));
}

// ---------------------------------------------------------------------------------------------
// Target assignment and reconciliation

void ConsumerGroup::refresh_target(const PartitionCountFn& counts) {
  std::map<std::string, int32_t> partition_counts;
  for (const std::string& topic : subscribed_topics()) {
    if (std::optional<int32_t> count = counts(topic); count.has_value()) {
      partition_counts[topic] = *count;
    }
  }
  if (partition_counts != subscribed_partition_counts_) {
    subscribed_partition_counts_ = std::move(partition_counts);
    group_epoch_ = std::max(group_epoch_, assignment_epoch_ + 1);
  }
  if (group_epoch_ <= assignment_epoch_) return;
  assignor_ = chosen_assignor();
  AssignorInput input;
  for (const auto& [id, member] : members_) {
    input.members.push_back(
        {id, {member.subscribed_topic_names.begin(), member.subscribed_topic_names.end()}});
  }
  input.partition_counts = subscribed_partition_counts_;
  input.previous = target_;
  target_ = run_assignor(assignor_, input);
  assignment_epoch_ = group_epoch_;
}

std::string ConsumerGroup::chosen_assignor() const {
  // Only configured assignors count: a member restored from before a configuration change may
  // still name another.
  const std::vector<std::string>& configured = config_.consumer_assignors;
  ASSERT(!configured.empty());
  std::map<std::string, int> votes;
  for (const auto& [id, member] : members_) {
    const std::optional<std::string>& name = member.server_assignor;
    if (name.has_value() &&
        std::find(configured.begin(), configured.end(), *name) != configured.end()) {
      votes[*name]++;
    }
  }
  std::string chosen = configured.front();
  int best = 0;
  for (const auto& [name, count] : votes) {
    if (count > best) {
      best = count;
      chosen = name;
    }
  }
  return chosen;
}

void ConsumerGroup::reconcile(ConsumerMember& member, const std::optional<TopicPartitions>& owned,
                              int64_t now_ms) {
  if (member.state == MemberState::unrevoked_partitions) {
    if (!owned.has_value() || intersects(*owned, member.pending_revocation)) return;
    // Revocation acknowledged: the partitions are free for their new owners.
    set_ownership(member, member.assigned, {});
    member.revocation_deadline_ms.reset();
    member.state = MemberState::stable;
  }
  if (member.state == MemberState::stable && member.member_epoch == assignment_epoch_) return;
  const TopicPartitions& target = target_of(member.member_id);
  TopicPartitions keep = intersection(member.assigned, target);
  TopicPartitions revoke = difference(member.assigned, target);
  if (!revoke.empty()) {
    set_ownership(member, std::move(keep), std::move(revoke));
    member.state = MemberState::unrevoked_partitions;
    member.revocation_deadline_ms = now_ms + member.rebalance_timeout_ms;
    return;
  }
  bool unreleased = false;
  for (const auto& [topic, partitions] : difference(target, member.assigned)) {
    for (int32_t partition : partitions) {
      if (owned_by_other(member.member_id, topic, partition)) {
        unreleased = true;
      } else {
        keep[topic].insert(partition);
      }
    }
  }
  set_ownership(member, std::move(keep), {});
  if (member.member_epoch != assignment_epoch_) {
    member.previous_member_epoch = member.member_epoch;
    member.member_epoch = assignment_epoch_;
  }
  member.state = unreleased ? MemberState::unreleased_partitions : MemberState::stable;
}

void ConsumerGroup::set_ownership(ConsumerMember& member, TopicPartitions assigned,
                                  TopicPartitions pending) {
  for (const TopicPartitions* set : {&member.assigned, &member.pending_revocation}) {
    for (const auto& [topic, partitions] : *set) {
      for (int32_t p : partitions) owners_.erase({topic, p});
    }
  }
  member.assigned = std::move(assigned);
  member.pending_revocation = std::move(pending);
  for (const TopicPartitions* set : {&member.assigned, &member.pending_revocation}) {
    for (const auto& [topic, partitions] : *set) {
      for (int32_t p : partitions) {
        // The protocol's promise: a partition has at most one owner at any time.
        auto [it, inserted] = owners_.emplace(std::make_pair(topic, p), member.member_id);
        ASSERT(inserted);
      }
    }
  }
}

bool ConsumerGroup::owned_by_other(const std::string& member_id, const std::string& topic,
                                   int32_t partition) const {
  auto it = owners_.find({topic, partition});
  return it != owners_.end() && it->second != member_id;
}

// ---------------------------------------------------------------------------------------------
// Timers and commits

void ConsumerGroup::expire(int64_t now_ms) {
  std::vector<std::string> expired;
  for (const auto& [id, member] : members_) {
    bool revocation_late =
        member.revocation_deadline_ms.has_value() && *member.revocation_deadline_ms <= now_ms;
    if (member.session_deadline_ms <= now_ms || revocation_late) expired.push_back(id);
  }
  if (expired.empty()) return;
  for (const std::string& id : expired) remove_member(id);
  group_epoch_++;
  const std::map<std::string, int32_t> last_seen = subscribed_partition_counts_;
  refresh_target([&last_seen](const std::string& topic) -> std::optional<int32_t> {
    auto it = last_seen.find(topic);
    if (it == last_seen.end()) return std::nullopt;
    return it->second;
  });
}

std::optional<int64_t> ConsumerGroup::next_deadline_ms() const {
  std::optional<int64_t> earliest;
  auto consider = [&earliest](int64_t deadline_ms) {
    if (!earliest.has_value() || deadline_ms < *earliest) earliest = deadline_ms;
  };
  for (const auto& [id, member] : members_) {
    consider(member.session_deadline_ms);
    if (member.revocation_deadline_ms.has_value()) consider(*member.revocation_deadline_ms);
  }
  return earliest;
}

ErrorCode ConsumerGroup::check_commit(const std::string& member_id, int32_t member_epoch) const {
  auto it = members_.find(member_id);
  if (it == members_.end()) return ErrorCode::unknown_member_id;
  if (it->second.member_epoch != member_epoch) return ErrorCode::stale_member_epoch;
  return ErrorCode::none;
}

}  // namespace cairn::broker::groups
