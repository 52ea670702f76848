// Consumer lag in seconds, from a thread that is no shard's (/metrics, the admin API): for each
// (partition, committed offset) with records waiting, how long the first unconsumed record —
// the one at the committed offset — has waited since it was appended, read from the
// partition's AppendTimes (append_times.h) on its owning shard. No log is read.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/types.h"
#include "broker/partitions/partition_manager.h"
#include "net/shard_set.h"

namespace cairn::broker {

struct LagQuery {
  std::string topic;
  PartitionId partition{0};
  Offset committed{0};
  Offset high_watermark{0};  // the caller's sample of it
};

// Seconds the record at `committed` has waited, per query: 0 when nothing waits
// (committed >= high_watermark); nullopt for a partition no shard has open. A record appended
// before the broker started counts as appended when the PartitionManager was created (a lower
// bound). Waits at most `timeout` for the shards; nullopt overall when one does not answer.
std::optional<std::vector<std::optional<double>>> lag_seconds(const PartitionManager& partitions,
                                                              const net::ShardSet& shards,
                                                              const std::vector<LagQuery>& queries,
                                                              std::chrono::milliseconds timeout);

}  // namespace cairn::broker
