// GroupConfig: the group coordinator's settings (Kafka's names in comments) and how a group id
// maps to its __consumer_offsets partition. The broker fills it from its Kafka configs with
// group_config_from (coordinator.h), over the config catalog; the member defaults here are
// Kafka's, for tests. Plain values; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/status.h"

namespace cairn::broker::groups {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

struct GroupConfig {
  // group.min.session.timeout.ms / group.max.session.timeout.ms: JoinGroup outside this range
  // fails with INVALID_SESSION_TIMEOUT.
  int32_t min_session_timeout_ms = 6'000;
  int32_t max_session_timeout_ms = 1'800'000;
  // group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for
  // more members before completing (extended while members keep arriving, up to the rebalance
  // timeout). 0 completes it as soon as everybody present has joined.
  int32_t initial_rebalance_delay_ms = 3'000;
  // How long a member's very first JoinGroup may wait in a rebalance before it is dropped (the
  // client retries). Kafka's GroupCoordinator.NewMemberJoinTimeoutMs.
  int32_t new_member_join_timeout_ms = 300'000;
  // group.max.size: members per group; more fail with GROUP_MAX_SIZE_REACHED.
  uint32_t max_group_size = 1'000;
  // offsets.retention.minutes (in ms): committed offsets of a group that has stayed empty this
  // long are deleted. offsets.retention.check.interval.ms: how often that is checked.
  int64_t offsets_retention_ms = 7LL * 24 * 60 * 60 * 1000;
  int64_t offsets_retention_check_interval_ms = 600'000;
  // offsets.topic.num.partitions: partitions of __consumer_offsets (fixed once it exists).
  int32_t offsets_topic_partition_count = 16;
  // offsets.topic.segment.bytes: segment size of __consumer_offsets, set at its creation.
  int32_t offsets_topic_segment_bytes = 104'857'600;
  // offset.metadata.max.bytes: longer commit metadata fails with OFFSET_METADATA_TOO_LARGE.
  int32_t offset_metadata_max_bytes = 4096;
  // The consumer group protocol (KIP-848). group.consumer.heartbeat.interval.ms: how often
  // members heartbeat (told in every answer); group.consumer.session.timeout.ms: a member that
  // has not heartbeaten for this long is removed; group.consumer.max.size: members per group.
  int32_t consumer_heartbeat_interval_ms = 5'000;
  int32_t consumer_session_timeout_ms = 45'000;
  uint32_t consumer_max_group_size = INT32_MAX;
  // group.consumer.assignors: the server assignors members may name; the first is the
  // default. Each is one assignor.h knows (the config's validator allows no other).
  std::vector<std::string> consumer_assignors = {"uniform", "range"};
};

// Java's String.hashCode over the group id's bytes. Kafka hashes UTF-16 code units; for ASCII
// ids (nearly all) that is the same value, so Kafka tools agree on the partition.
constexpr int32_t java_string_hash(std::string_view text) {
  uint32_t hash = 0;
  for (char c : text) hash = 31 * hash + static_cast<uint8_t>(c);
  return static_cast<int32_t>(hash);
}

// The __consumer_offsets partition holding `group_id`'s records: abs(hashCode) % count, with
// Kafka's Utils.abs (which maps INT32_MIN to 0).
// REQUIRES: partition_count >= 1.
constexpr int32_t offsets_partition_for(std::string_view group_id, int32_t partition_count) {
  ASSERT(partition_count >= 1);
  int32_t hash = java_string_hash(group_id);
  int32_t magnitude = hash == INT32_MIN ? 0 : (hash < 0 ? -hash : hash);
  return magnitude % partition_count;
}

}  // namespace cairn::broker::groups
