#include "broker/groups/assignor.h"

#include "base/assert.h"

namespace cairn::broker::groups {

namespace {

struct Slot {
  std::string topic;
  int32_t partition = 0;
};

// Every partition of a topic somebody subscribes to, in (topic, partition) order.
std::vector<Slot> subscribed_partitions(const AssignorInput& input) {
  std::set<std::string> wanted;
  for (const AssignorMember& member : input.members) {
    wanted.insert(member.topics.begin(), member.topics.end());
  }
  std::vector<Slot> slots;
  for (const auto& [topic, count] : input.partition_counts) {
    if (!wanted.contains(topic)) continue;
    for (int32_t p = 0; p < count; ++p) slots.push_back({topic, p});
  }
  return slots;
}

void normalize(GroupAssignment& assignment) {
  for (auto& [member, partitions] : assignment)
    std::erase_if(partitions, [](const auto& entry) { return entry.second.empty(); });
}

}  // namespace

bool is_known_assignor(std::string_view name) {
  return name == kUniformAssignor || name == kRangeAssignor;
}

GroupAssignment assign_uniform(const AssignorInput& input) {
  GroupAssignment result;
  std::map<std::string, const AssignorMember*> members;
  for (const AssignorMember& member : input.members) {
    result[member.member_id];
    if (!member.topics.empty()) members[member.member_id] = &member;
  }
  std::vector<Slot> slots = subscribed_partitions(input);
  if (members.empty() || slots.empty()) return result;
  std::map<std::string, size_t> counts;
  std::set<std::pair<std::string, int32_t>> taken;
  // Sticky pass: at most `quota` each, and `extra` members may keep one more.
  const size_t quota = slots.size() / members.size();
  size_t extra = slots.size() % members.size();
  for (const auto& [member_id, member] : members) {
    auto previous = input.previous.find(member_id);
    if (previous == input.previous.end()) continue;
    for (const auto& [topic, partitions] : previous->second) {
      auto count = input.partition_counts.find(topic);
      if (count == input.partition_counts.end() || !member->topics.contains(topic)) continue;
      for (int32_t p : partitions) {
        if (p >= count->second || taken.contains({topic, p})) continue;
        size_t& held = counts[member_id];
        if (held == quota && extra > 0) {
          extra--;
        } else if (held >= quota) {
          break;
        }
        held++;
        taken.insert({topic, p});
        result[member_id][topic].insert(p);
      }
    }
  }
  // The rest: each to the subscriber holding the fewest (ties: the smallest member id).
  for (const Slot& slot : slots) {
    if (taken.contains({slot.topic, slot.partition})) continue;
    const std::string* best = nullptr;
    for (const auto& [member_id, member] : members) {
      if (!member->topics.contains(slot.topic)) continue;
      if (best == nullptr || counts[member_id] < counts[*best]) best = &member_id;
    }
    ASSERT(best != nullptr);
    counts[*best]++;
    result[*best][slot.topic].insert(slot.partition);
  }
  normalize(result);
  return result;
}

GroupAssignment assign_range(const AssignorInput& input) {
  GroupAssignment result;
  std::map<std::string, const AssignorMember*> by_id;
  for (const AssignorMember& member : input.members) {
    result[member.member_id];
    by_id[member.member_id] = &member;
  }
  for (const auto& [topic, count] : input.partition_counts) {
    std::vector<std::string> subscribers;  // in member id order
    for (const auto& [member_id, member] : by_id) {
      if (member->topics.contains(topic)) subscribers.push_back(member_id);
    }
    if (subscribers.empty()) continue;
    const int32_t n = static_cast<int32_t>(subscribers.size());
    const int32_t per = count / n;
    const int32_t extra = count % n;
    for (int32_t i = 0; i < n; ++i) {
      int32_t start = i * per + std::min(i, extra);
      int32_t length = per + (i < extra ? 1 : 0);
      for (int32_t p = start; p < start + length; ++p) result[subscribers[i]][topic].insert(p);
    }
  }
  normalize(result);
  return result;
}

GroupAssignment run_assignor(std::string_view name, const AssignorInput& input) {
  ASSERT(is_known_assignor(name));
  return name == kRangeAssignor ? assign_range(input) : assign_uniform(input);
}

size_t partition_count(const TopicPartitions& partitions) {
  size_t count = 0;
  for (const auto& [topic, set] : partitions) count += set.size();
  return count;
}

bool contains(const TopicPartitions& partitions, const std::string& topic, int32_t partition) {
  auto it = partitions.find(topic);
  return it != partitions.end() && it->second.contains(partition);
}

TopicPartitions intersection(const TopicPartitions& a, const TopicPartitions& b) {
  TopicPartitions result;
  for (const auto& [topic, set] : a) {
    for (int32_t p : set) {
      if (contains(b, topic, p)) result[topic].insert(p);
    }
  }
  return result;
}

TopicPartitions difference(const TopicPartitions& a, const TopicPartitions& b) {
  TopicPartitions result;
  for (const auto& [topic, set] : a) {
    for (int32_t p : set) {
      if (!contains(b, topic, p)) result[topic].insert(p);
    }
  }
  return result;
}

TopicPartitions merged(const TopicPartitions& a, const TopicPartitions& b) {
  TopicPartitions result = a;
  for (const auto& [topic, set] : b) result[topic].insert(set.begin(), set.end());
  std::erase_if(result, [](const auto& entry) { return entry.second.empty(); });
  return result;
}

bool intersects(const TopicPartitions& a, const TopicPartitions& b) {
  return partition_count(intersection(a, b)) > 0;
}

bool is_subset(const TopicPartitions& a, const TopicPartitions& of) {
  return partition_count(difference(a, of)) == 0;
}

}  // namespace cairn::broker::groups
