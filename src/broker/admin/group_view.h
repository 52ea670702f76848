// One consumer group as the admin API shows it (admin_api.h): DescribeGroups' summary of the
// group and its committed offsets, read together on the group's shard, and the partitions'
// offsets to compute its lag. Any non-shard thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/admin/answers.h"
#include "broker/groups/coordinator.h"

namespace cairn::broker::admin {

struct GroupView {
  bool exists = false;
  std::string type;  // "classic" or "consumer" (KIP-848)
  groups::GroupSummary summary;
  groups::FetchResult offsets;
};

// The group, read on its shard; an error answer (503 while the coordinator loads the group,
// 504 when the shard does not answer) in `failure` otherwise.
std::optional<GroupView> view_group(const BrokerState& state, const std::string& group_id,
                                    std::chrono::milliseconds timeout, Answer& failure);

// A ConsumerProtocolAssignment's topics and partitions (the consumer protocol's bytes, which
// DescribeGroups returns as a member's assignment); nullopt if the bytes are not that shape.
std::optional<std::map<std::string, std::vector<int32_t>>> parse_assignment(
    std::span<const uint8_t> bytes);

}  // namespace cairn::broker::admin
