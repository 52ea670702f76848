// Which shard owns a partition. Stable: the same (topic, partition, shard count) always maps
// to the same shard, on every start (FNV-1a over the name, not std::hash). Consecutive
// partitions of one topic land on consecutive shards. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "base/types.h"
#include "net/shard_set.h"

namespace cairn::broker {

constexpr uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// REQUIRES: shard_count >= 1, partition >= 0.
constexpr net::ShardId shard_of(std::string_view topic, PartitionId partition,
                                uint32_t shard_count) {
  ASSERT(shard_count >= 1);
  ASSERT(partition.value() >= 0);
  uint64_t base = fnv1a64(topic) % shard_count;
  return net::ShardId(
      static_cast<uint32_t>((base + static_cast<uint64_t>(partition.value())) % shard_count));
}

}  // namespace cairn::broker
