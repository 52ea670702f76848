#include "net/shard_set.h"

#include <gtest/gtest.h>

#include <future>

namespace cairn::net {
namespace {

using namespace std::chrono_literals;

asio::awaitable<uint32_t> where_am_i(int unused_by_value) {
  co_return ShardSet::current().value().value();
}

// Runs on shard 0: hops to shard 1 and back, recording where each part ran.
asio::awaitable<void> hop_and_back(const ShardSet* shards,
                                   std::promise<std::vector<uint32_t>>* out) {
  std::vector<uint32_t> seen;
  seen.push_back(ShardSet::current().value().value());
  seen.push_back(co_await shards->run_on(ShardId(1), where_am_i(0)));
  seen.push_back(ShardSet::current().value().value());
  out->set_value(seen);
}

TEST(ShardSet, RunOnHopsToTheShardAndResumesOnTheCaller) {
  ShardSet shards(2);
  shards.start();
  std::promise<std::vector<uint32_t>> result;
  asio::co_spawn(shards.executor(ShardId(0)), hop_and_back(&shards, &result), asio::detached);
  EXPECT_EQ((std::vector<uint32_t>{0, 1, 0}), result.get_future().get());
  shards.request_stop();
  EXPECT_TRUE(shards.wait_stopped(10s));
  shards.join();
}

TEST(ShardSet, CurrentIsEmptyOffShardThreads) { EXPECT_FALSE(ShardSet::current().has_value()); }

TEST(ShardSet, RequestStopLetsQueuedWorkFinish) {
  ShardSet shards(3);
  shards.start();
  std::atomic<int> ran{0};
  for (uint32_t i = 0; i < 3; i++) {
    for (int j = 0; j < 100; j++) shards.post(ShardId(i), [&ran] { ran++; });
  }
  shards.request_stop();
  EXPECT_TRUE(shards.wait_stopped(10s));
  shards.join();
  EXPECT_EQ(300, ran.load());
}

}  // namespace
}  // namespace cairn::net
