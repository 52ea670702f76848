// Server-side assignors of the consumer group protocol (KIP-848): given the members, what they
// subscribe to and the partition counts of those topics, each member's target partitions.
// `uniform` (the default) and `range`, named as Kafka names them (group.consumer.assignors).
//
// Pure functions, deterministic for equal inputs (members and topics are visited in name
// order), so tests can state exact assignments. Any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::broker::groups {

// Partitions by topic name.
using TopicPartitions = std::map<std::string, std::set<int32_t>>;
// Each member's partitions, by member id.
using GroupAssignment = std::map<std::string, TopicPartitions>;

inline constexpr std::string_view kUniformAssignor = "uniform";
inline constexpr std::string_view kRangeAssignor = "range";

struct AssignorMember {
  std::string member_id;
  std::set<std::string> topics;  // subscribed topic names
};

struct AssignorInput {
  std::vector<AssignorMember> members;
  std::map<std::string, int32_t> partition_counts;  // the subscribed topics that exist
  GroupAssignment previous;  // the current target assignment (stickiness for `uniform`)
};

bool is_known_assignor(std::string_view name);

// `uniform`: every partition of a subscribed topic goes to one of its subscribers. Members keep
// the partitions they had as far as balance allows; the rest go to the subscriber holding the
// fewest. With identical subscriptions the counts differ by at most one.
GroupAssignment assign_uniform(const AssignorInput& input);
// `range`: per topic, its subscribers in member id order get consecutive ranges of partitions,
// the first (count % subscribers) one partition more (Kafka's RangeAssignor rule).
GroupAssignment assign_range(const AssignorInput& input);
// REQUIRES: is_known_assignor(name).
GroupAssignment run_assignor(std::string_view name, const AssignorInput& input);

// Set helpers the reconciliation uses.
size_t partition_count(const TopicPartitions& partitions);
bool contains(const TopicPartitions& partitions, const std::string& topic, int32_t partition);
TopicPartitions intersection(const TopicPartitions& a, const TopicPartitions& b);
TopicPartitions difference(const TopicPartitions& a, const TopicPartitions& b);
TopicPartitions merged(const TopicPartitions& a, const TopicPartitions& b);
bool intersects(const TopicPartitions& a, const TopicPartitions& b);
bool is_subset(const TopicPartitions& a, const TopicPartitions& of);

}  // namespace cairn::broker::groups
