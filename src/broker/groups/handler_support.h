// What the group handlers (handlers/{join_group,sync_group,...}.cc) share: running an
// operation on the shard that owns a group, and the small conversions between the wire and
// the coordinator. Handlers run on the connection's shard; these helpers hop and come back.
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/groups/coordinator.h"
#include "broker/request_context.h"

namespace cairn::broker::groups {

// Runs `work` (one of the coordinator.h coroutines, built with its arguments by value) on the
// shard owning `group_id` and resumes on the caller's shard with its result.
// Not a coroutine itself, so nothing here outlives `ctx`. REQUIRES: ctx.broker->groups set.
template <typename T>
asio::awaitable<T> on_group_shard(const RequestContext& ctx, std::string_view group_id,
                                  asio::awaitable<T> work) {
  ASSERT(ctx.broker->groups != nullptr);
  net::ShardId shard = ctx.broker->groups->shard_for(group_id);
  return ctx.broker->shards->run_on(shard, std::move(work));
}

// One partition of an OffsetCommit or a TxnOffsetCommit, with the checks both make: a topic or
// partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION, metadata longer than
// offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE. `topic` is the registry's entry, or null.
inline CommitPartition commit_partition(const TopicInfo* topic, const std::string& name,
                                        int32_t partition, int64_t offset, int32_t leader_epoch,
                                        const std::optional<std::string>& metadata,
                                        int32_t metadata_max_bytes) {
  CommitPartition p;
  p.key = {name, PartitionId(partition)};
  p.offset = Offset(offset);
  p.leader_epoch = LeaderEpoch(leader_epoch);
  p.metadata = metadata.value_or("");
  if (topic == nullptr || partition < 0 || partition >= topic->partition_count) {
    p.error = ErrorCode::unknown_topic_or_partition;
  } else if (p.metadata.size() > static_cast<size_t>(metadata_max_bytes)) {
    p.error = ErrorCode::offset_metadata_too_large;
  }
  return p;
}

// Commits `commit` on its group's shard; one error per partition, in order. A partition the
// handler refused before the group saw it (TOPIC_AUTHORIZATION_FAILED, or a topic or
// partition that does not exist) keeps that error even when the group answers every
// partition with one of its own (ILLEGAL_GENERATION, ...): Kafka answers those partitions
// itself and merges the group's answer for the rest. REQUIRES: broker->groups set.
inline asio::awaitable<std::vector<ErrorCode>> commit_keeping_refusals(const BrokerState* broker,
                                                                       CommitRequest commit) {
  std::vector<ErrorCode> early;
  early.reserve(commit.partitions.size());
  for (const CommitPartition& p : commit.partitions) early.push_back(p.error);
  net::ShardId shard = broker->groups->shard_for(commit.group_id);
  std::vector<ErrorCode> errors =
      co_await broker->shards->run_on(shard, commit_offsets(broker->groups, std::move(commit)));
  ASSERT(errors.size() == early.size());
  for (size_t i = 0; i < errors.size(); i++) {
    if (early[i] == ErrorCode::topic_authorization_failed ||
        early[i] == ErrorCode::unknown_topic_or_partition) {
      errors[i] = early[i];
    }
  }
  co_return errors;
}

// Kafka reports a member's host as the peer address with a leading slash ("/127.0.0.1").
inline std::string client_host(const RequestContext& ctx) {
  return "/" + ctx.connection.peer.address().to_string();
}

// A client's free-text reason (JoinGroup v8+, LeaveGroup v5+; KIP-800) as it goes into the
// broker's log: cut to a bounded length, "unknown" when the client gave none.
inline std::string_view reason_for_log(const std::optional<std::string>& reason) {
  constexpr size_t kReasonLogBytesMax = 256;
  if (!reason.has_value() || reason->empty()) return "unknown";
  return std::string_view(*reason).substr(0, kReasonLogBytesMax);
}

inline std::string client_id(const RequestContext& ctx) {
  return ctx.header.client_id.value_or("");
}

}  // namespace cairn::broker::groups
