// GroupManager: committed offsets, admin operations (delete group, delete offsets, expiry) and
// loading from __consumer_offsets. Membership and timers are in group_manager.cc.
#include <algorithm>
#include <limits>
#include <set>

#include "broker/groups/consumer_protocol.h"
#include "broker/groups/group_manager.h"

namespace cairn::broker::groups {

// ---------------------------------------------------------------------------------------------
// Loading

void GroupManager::set_loading(int32_t offsets_partition, bool loading) {
  ASSERT(offsets_partition >= 0 && offsets_partition < config_.offsets_topic_partition_count);
  if (loading) {
    loading_partitions_.insert(offsets_partition);
  } else {
    loading_partitions_.erase(offsets_partition);
  }
}

bool GroupManager::is_loading(const std::string& group_id) const {
  if (loading_partitions_.empty()) return false;
  return loading_partitions_.contains(
      offsets_partition_for(group_id, config_.offsets_topic_partition_count));
}

void GroupManager::restore_group(Group restored, int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  ASSERT(!restored.group_id.empty());
  Group& g = get_or_create(restored.group_id, now_ms);
  // Replay may meet a group's offsets before its latest metadata record: keep them.
  std::map<TopicPartitionKey, CommittedOffset> offsets = std::move(g.offsets);
  std::map<std::string, int64_t> pending = std::move(g.pending_members);
  for (auto& [id, member] : g.members) {
    ASSERT(!member.is_awaiting_join() && !member.is_awaiting_sync());
  }
  if (g.scheduled_deadline_ms.has_value()) {
    deadlines_.erase({*g.scheduled_deadline_ms, g.group_id});
  }
  g = std::move(restored);
  g.offsets = std::move(offsets);
  g.pending_members = std::move(pending);
  g.scheduled_deadline_ms.reset();
  g.state = g.members.empty() ? GroupState::empty : GroupState::stable;
  if (g.members.empty()) {
    g.protocol_name.reset();
    g.leader_id.reset();
  }
  g.static_members.clear();
  for (auto& [id, member] : g.members) {
    ASSERT(member.member_id == id);
    ASSERT(!member.protocols.empty());
    if (member.group_instance_id.has_value()) g.static_members[*member.group_instance_id] = id;
    // Every restored member gets a full session from now to show it is still there.
    member.is_new = false;
    refresh_session(member, now_ms);
  }
  if (g.leader_id.has_value() && !g.has_member(*g.leader_id)) {
    g.leader_id =
        g.members.empty() ? std::nullopt : std::optional<std::string>(g.members.begin()->first);
  }
  reschedule(g.group_id);
}

void GroupManager::restore_group_tombstone(const std::string& group_id) {
  Group* g = group(group_id);
  if (g == nullptr) return;
  g->members.clear();
  g->static_members.clear();
  remove_group(group_id);
}

// ---------------------------------------------------------------------------------------------
// Committed offsets

ErrorCode GroupManager::check_offset_commit(const std::string& group_id, int32_t generation_id,
                                            const std::string& member_id,
                                            const std::optional<std::string>& instance_id,
                                            int64_t now_ms, int16_t api_version) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  if (is_loading(group_id)) return ErrorCode::coordinator_load_in_progress;
  Group* g = group(group_id);
  if (g == nullptr) {
    // No group: only a commit from outside group management creates one; a member of some
    // generation must be from a group this coordinator no longer has.
    return generation_id < 0 ? ErrorCode::none : ErrorCode::illegal_generation;
  }
  if (g->is_consumer_protocol()) {
    // KIP-848: members commit with their member epoch as the generation id, and with v9+
    // (Kafka's ConsumerGroup.validateOffsetCommit, in its order of checks).
    if (generation_id < 0 && !g->has_members()) return ErrorCode::none;
    if (!g->consumer->members().contains(member_id)) return ErrorCode::unknown_member_id;
    if (api_version < kConsumerOffsetCommitVersionMin) return ErrorCode::unsupported_version;
    return g->consumer->check_commit(member_id, generation_id);
  }
  if (g->is_static_member_fenced(member_id, instance_id)) return ErrorCode::fenced_instance_id;
  if (generation_id < 0 && g->is(GroupState::empty)) return ErrorCode::none;
  if (!g->has_member(member_id)) return ErrorCode::unknown_member_id;
  if (generation_id != g->generation_id) return ErrorCode::illegal_generation;
  switch (g->state) {
    case GroupState::completing_rebalance:
      // The member has the new generation but not yet its assignment.
      return ErrorCode::rebalance_in_progress;
    case GroupState::stable:
    case GroupState::preparing_rebalance:
      // During PreparingRebalance commits of the old generation still count; the member
      // learns of the rebalance from its next heartbeat.
      refresh_session(g->members.at(member_id), now_ms);
      reschedule(group_id);
      return ErrorCode::none;
    case GroupState::empty:
    case GroupState::dead:
      return ErrorCode::unknown_member_id;
  }
  return ErrorCode::unknown_server_error;
}

ErrorCode GroupManager::check_offset_fetch(const std::string& group_id,
                                           const std::optional<std::string>& member_id,
                                           int32_t member_epoch) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end() || !it->second->is_consumer_protocol()) return ErrorCode::none;
  // Admin tools and consumers outside group management send no member id and epoch -1.
  if (!member_id.has_value() && member_epoch < 0) return ErrorCode::none;
  return it->second->consumer->check_commit(member_id.value_or(""), member_epoch);
}

void GroupManager::apply_offset_commit(const std::string& group_id, const TopicPartitionKey& key,
                                       CommittedOffset committed, int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  Group& g = get_or_create(group_id, now_ms);
  auto it = g.offsets.find(key);
  if (it != g.offsets.end() && committed.record_offset.value() >= 0 &&
      it->second.record_offset > committed.record_offset) {
    return;
  }
  g.offsets[key] = std::move(committed);
}

void GroupManager::apply_offset_tombstone(const std::string& group_id,
                                          const TopicPartitionKey& key) {
  Group* g = group(group_id);
  if (g != nullptr) g->offsets.erase(key);
}

OffsetDeleteResult GroupManager::delete_offsets(const std::string& group_id,
                                                const std::vector<TopicPartitionKey>& keys) {
  OffsetDeleteResult result;
  if (is_loading(group_id)) {
    result.error = ErrorCode::coordinator_load_in_progress;
    return result;
  }
  Group* g = group(group_id);
  if (g == nullptr) {
    result.error = ErrorCode::group_id_not_found;
    return result;
  }
  // A group with members may lose offsets only of topics none of them subscribes to, and only
  // if it speaks the consumer protocol (otherwise the broker cannot tell what it consumes).
  std::optional<std::set<std::string>> subscribed;
  if (g->has_members()) {
    if (g->protocol_type != kConsumerProtocolType) {
      result.error = ErrorCode::non_empty_group;
      return result;
    }
    if (g->is_consumer_protocol()) {
      std::vector<std::string> topics = g->consumer->subscribed_topics();
      subscribed.emplace(topics.begin(), topics.end());
    } else if (g->protocol_name.has_value()) {
      subscribed.emplace();
      for (const auto& [id, member] : g->members) {
        if (!member.supports(*g->protocol_name)) {
          subscribed.reset();
          break;
        }
        auto topics = parse_subscription_topics(member.metadata_for(*g->protocol_name));
        if (!topics.has_value()) {
          subscribed.reset();
          break;
        }
        subscribed->insert(topics->begin(), topics->end());
      }
    }
  }
  for (const TopicPartitionKey& key : keys) {
    // Unknown subscriptions count as subscribed to everything, the safe answer.
    bool in_use = g->has_members() && (!subscribed.has_value() || subscribed->contains(key.topic));
    if (in_use) {
      result.partition_errors.push_back(ErrorCode::group_subscribed_to_topic);
      continue;
    }
    if (g->offsets.erase(key) > 0) result.deleted.push_back(key);
    result.partition_errors.push_back(ErrorCode::none);
  }
  return result;
}

std::vector<GroupManager::Expired> GroupManager::expire_offsets(int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  std::vector<Expired> expired;
  std::vector<std::string> removable;
  for (auto& [group_id, group_ptr] : groups_) {
    Group& g = *group_ptr;
    if (is_loading(group_id) || !g.is(GroupState::empty)) continue;
    Expired entry;
    entry.group_id = group_id;
    for (auto it = g.offsets.begin(); it != g.offsets.end();) {
      const CommittedOffset& committed = it->second;
      // From the later of "the group became empty" and "this offset was committed", so a
      // commit made to a stopped group (an admin reset) gets its full retention.
      int64_t expire_at_ms = committed.expire_timestamp_ms >= 0
                                 ? committed.expire_timestamp_ms
                                 : std::max(g.state_timestamp_ms, committed.commit_timestamp_ms) +
                                       config_.offsets_retention_ms;
      if (expire_at_ms <= now_ms) {
        entry.keys.push_back(it->first);
        it = g.offsets.erase(it);
      } else {
        ++it;
      }
    }
    if (g.offsets.empty() && g.pending_members.empty()) {
      entry.group_removed = true;
      removable.push_back(group_id);
    }
    if (!entry.keys.empty() || entry.group_removed) expired.push_back(std::move(entry));
  }
  for (const std::string& group_id : removable) remove_group(group_id);
  return expired;
}

std::vector<GroupManager::Expired> GroupManager::delete_topic_offsets(const std::string& topic) {
  std::vector<Expired> deleted;
  for (auto& [group_id, group_ptr] : groups_) {
    Group& g = *group_ptr;
    Expired entry;
    entry.group_id = group_id;
    auto it = g.offsets.lower_bound(TopicPartitionKey{topic, PartitionId(INT32_MIN)});
    while (it != g.offsets.end() && it->first.topic == topic) {
      entry.keys.push_back(it->first);
      it = g.offsets.erase(it);
    }
    if (!entry.keys.empty()) deleted.push_back(std::move(entry));
  }
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// Admin

ErrorCode GroupManager::delete_group(const std::string& group_id,
                                     std::vector<TopicPartitionKey>* deleted_keys) {
  ASSERT(deleted_keys != nullptr);
  if (is_loading(group_id)) return ErrorCode::coordinator_load_in_progress;
  Group* g = group(group_id);
  if (g == nullptr) return ErrorCode::group_id_not_found;
  if (!g->is(GroupState::empty) || g->has_members()) return ErrorCode::non_empty_group;
  for (const auto& [key, committed] : g->offsets) deleted_keys->push_back(key);
  remove_group(group_id);
  return ErrorCode::none;
}

void GroupManager::add_pending_txn_offset(int32_t partition, ProducerId producer_id,
                                          const std::string& group_id, const TopicPartitionKey& key,
                                          CommittedOffset committed) {
  std::vector<PendingOffset>& pending = pending_txn_[{partition, producer_id.value()}];
  for (PendingOffset& p : pending) {
    if (p.group_id == group_id && p.key == key) {
      p.committed = std::move(committed);  // a later commit in the same transaction wins
      return;
    }
  }
  pending.push_back({group_id, key, std::move(committed)});
}

void GroupManager::complete_txn_offsets(int32_t partition, ProducerId producer_id, bool commit,
                                        int64_t now_ms) {
  auto it = pending_txn_.find({partition, producer_id.value()});
  if (it == pending_txn_.end()) return;
  std::vector<PendingOffset> pending = std::move(it->second);
  pending_txn_.erase(it);
  if (!commit) return;
  for (PendingOffset& p : pending) {
    apply_offset_commit(p.group_id, p.key, std::move(p.committed), now_ms);
  }
}

bool GroupManager::has_pending_txn_offset(const std::string& group_id,
                                          const TopicPartitionKey& key) const {
  for (const auto& [owner, pending] : pending_txn_) {
    for (const PendingOffset& p : pending) {
      if (p.group_id == group_id && p.key == key) return true;
    }
  }
  return false;
}

}  // namespace cairn::broker::groups
