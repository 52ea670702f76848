#include "broker/partitions/lag_times.h"

#include <memory>

#include "broker/shard_map.h"
#include "net/shard_call.h"

namespace cairn::broker {
namespace {

using AppendedAt = std::vector<std::pair<size_t, std::optional<int64_t>>>;  // query index, ms

// On a shard: the append time of each waiting query's record on a partition it owns.
AppendedAt appended_on_this_shard(const PartitionManager& partitions,
                                  const std::vector<LagQuery>& queries, uint32_t shard_count) {
  std::optional<net::ShardId> shard = net::ShardSet::current();
  ASSERT(shard.has_value());
  AppendedAt found;
  for (size_t i = 0; i < queries.size(); i++) {
    const LagQuery& query = queries[i];
    if (query.committed >= query.high_watermark) continue;
    if (shard_of(query.topic, query.partition, shard_count) != *shard) continue;
    std::shared_ptr<Partition> partition = partitions.find(query.topic, query.partition);
    if (partition == nullptr || !partition->usable()) continue;
    std::optional<int64_t> at = partition->append_times.appended_at_ms(query.committed);
    found.emplace_back(i, at.value_or(partitions.started_ms()));
  }
  return found;
}

}  // namespace

std::optional<std::vector<std::optional<double>>> lag_seconds(const PartitionManager& partitions,
                                                              const net::ShardSet& shards,
                                                              const std::vector<LagQuery>& queries,
                                                              std::chrono::milliseconds timeout) {
  auto shared = std::make_shared<const std::vector<LagQuery>>(queries);
  const PartitionManager* manager = &partitions;
  uint32_t shard_count = shards.count();
  std::optional<std::vector<AppendedAt>> per_shard =
      net::run_on_every_shard<AppendedAt>(shards, timeout, [manager, shared, shard_count] {
        return appended_on_this_shard(*manager, *shared, shard_count);
      });
  if (!per_shard) return std::nullopt;
  int64_t now_ms = partitions.clock().now_ms();
  std::vector<std::optional<double>> seconds(queries.size());
  for (size_t i = 0; i < queries.size(); i++) {
    if (queries[i].committed >= queries[i].high_watermark) seconds[i] = 0.0;
  }
  for (const AppendedAt& answers : *per_shard) {
    for (const auto& [index, appended_ms] : answers) {
      int64_t waited_ms = std::max<int64_t>(0, now_ms - appended_ms.value());
      seconds[index] = static_cast<double>(waited_ms) / 1000.0;
    }
  }
  return seconds;
}

}  // namespace cairn::broker
