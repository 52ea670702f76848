// ShardCoordinator: keeping __consumer_offsets small. Nothing ages out of these logs (a group
// that commits rarely must keep its offsets), so instead of Kafka's background cleaner the
// coordinator rewrites a partition's live state — each group's last stored GroupMetadata and
// its committed offsets — at the tail, waits for it to be durable, and moves the log start
// past everything older (Log::delete_prefix drops the whole segments below it):
//
//   before:  [ seg 0: commits, commits, tombstones ... ][ seg 1 (active) ... ]
//   roll:    [ seg 0 ][ seg 1 ][ seg 2 (active, empty) ]   new_start = end of seg 1
//   rewrite: [ seg 0 ][ seg 1 ][ seg 2: live state ]
//   durable, then delete_prefix(new_start): [ seg 2: live state, later records ... ]
//
// Replaying from the new start yields the same state, and a crash at any point replays either
// the old prefix followed by the rewrite (same state: the rewrite is newer) or the rewrite
// alone. The rewrite waits until no append of this partition awaits durability: such a record
// is not yet applied, so the rewrite would copy an older value past it. It also waits while a
// transaction holds pending offsets on this partition: they live only in the prefix until
// their marker lands.
#include <spdlog/spdlog.h>

#include "broker/groups/offsets_format.h"
#include "broker/groups/shard_coordinator.h"

namespace cairn::broker::groups {

void ShardCoordinator::maybe_compact(int32_t id) {
  OffsetsPartition* usable_partition = usable(id);
  if (usable_partition == nullptr) return;
  OffsetsPartition& p = *usable_partition;
  if (stopping_ || p.compacting || p.appends_in_flight > 0 || manager_.is_partition_loading(id) ||
      manager_.has_pending_txn(id)) {
    return;
  }
  storage::Log& log = *p.partition->log;
  uint64_t size_bytes = log.info().size_bytes;
  if (size_bytes < p.bytes_after_compaction + options_.compact_after_bytes) return;
  std::vector<OffsetsRecord> live;
  uint64_t live_bytes = 0;
  manager_.for_each_group([&](const Group& g) {
    if (partition_of(g.group_id) != id) return;
    auto metadata = stored_metadata_.find(g.group_id);
    if (metadata != stored_metadata_.end()) {
      live.push_back({encode_group_metadata_key(g.group_id), metadata->second});
    }
    for (const auto& [key, committed] : g.offsets) {
      live.push_back(
          {encode_offset_commit_key(g.group_id, key), encode_offset_commit_value(committed)});
    }
  });
  for (const OffsetsRecord& record : live) {
    live_bytes += record.key.size() + (record.value.has_value() ? record.value->size() : 0);
  }
  // Mostly live data: a rewrite would not free much.
  if (size_bytes < 4 * live_bytes) return;
  Status rolled = log.roll();
  if (!rolled.ok()) {
    spdlog::warn("{}-{}: compaction roll: {}", kOffsetsTopic, id, rolled.to_string());
    return;
  }
  Offset new_start = log.log_end_offset();
  if (live.empty()) {
    p.compacting = true;
    asio::co_spawn(executor_, finish_compaction(id, new_start, Offset(-1)), asio::detached);
    return;
  }
  Result<storage::AppendResult> appended = append(id, live);
  if (!appended.ok()) {
    spdlog::warn("{}-{}: compaction rewrite: {}", kOffsetsTopic, id, appended.status().to_string());
    return;
  }
  p.compacting = true;
  asio::co_spawn(executor_, finish_compaction(id, new_start, appended->last_offset),
                 asio::detached);
}

asio::awaitable<void> ShardCoordinator::finish_compaction(int32_t id, Offset new_start,
                                                          Offset last) {
  OffsetsPartition& p = partitions_.at(id);
  std::shared_ptr<Partition> partition = p.partition;  // held across the wait
  // (No co_await inside a conditional expression: GCC 12 miscompiles the temporaries.)
  Status durable;
  if (last.value() >= 0) durable = co_await wait_durable(id, last);
  if (!partition->usable()) co_return;
  storage::Log& log = *partition->log;
  if (durable.ok() && !stopping_) {
    uint64_t before_bytes = log.info().size_bytes;
    Status dropped = log.delete_prefix(new_start);
    if (dropped.ok()) {
      spdlog::info("{}-{}: compacted: {} -> {} bytes, log start {}", kOffsetsTopic, id,
                   before_bytes, log.info().size_bytes, new_start.value());
      partition->notify_waiters();  // a Fetch below the new start now gets out of range
    } else {
      spdlog::warn("{}-{}: compaction delete_prefix: {}", kOffsetsTopic, id, dropped.to_string());
    }
  }
  p.bytes_after_compaction = log.info().size_bytes;
  p.compacting = false;
}

}  // namespace cairn::broker::groups
