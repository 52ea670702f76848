#include "broker/shard_map.h"

#include <gtest/gtest.h>

#include <set>

namespace cairn::broker {
namespace {

TEST(ShardMap, StableAcrossCallsAndKnownValue) {
  // FNV-1a is fixed, so the mapping is too: a change here would move partitions on upgrade.
  EXPECT_EQ(0xcbf29ce484222325ull, fnv1a64(""));
  EXPECT_EQ(0xaf63dc4c8601ec8cull, fnv1a64("a"));
  for (int p = 0; p < 10; p++) {
    EXPECT_EQ(shard_of("orders", PartitionId(p), 4), shard_of("orders", PartitionId(p), 4));
  }
}

TEST(ShardMap, ConsecutivePartitionsSpreadOverAllShards) {
  std::set<uint32_t> seen;
  for (int p = 0; p < 8; p++) seen.insert(shard_of("orders", PartitionId(p), 8).value());
  EXPECT_EQ(8u, seen.size());
}

TEST(ShardMap, SingleShardOwnsEverything) {
  for (int p = 0; p < 5; p++) EXPECT_EQ(0u, shard_of("t", PartitionId(p), 1).value());
}

}  // namespace
}  // namespace cairn::broker
