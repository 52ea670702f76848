#include "broker/broker_metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "broker/startup_progress.h"

namespace cairn::broker {
namespace {

TEST(BrokerMetrics, ErrorsCountByApiAndCodeButNotNone) {
  BrokerMetrics metrics;
  metrics.count_error(0, ErrorCode::not_leader_or_follower);
  metrics.count_error(0, ErrorCode::not_leader_or_follower);
  metrics.count_error(0, ErrorCode::none);
  metrics.count_error(1, ErrorCode::unknown_server_error);  // code -1
  EXPECT_EQ(metrics.error_count(0, wire(ErrorCode::not_leader_or_follower)), 2u);
  EXPECT_EQ(metrics.error_count(0, 0), 0u);
  EXPECT_EQ(metrics.error_count(1, -1), 1u);
}

TEST(BrokerMetrics, OutOfRangeKeysAndCodesAreIgnoredNotWritten) {
  BrokerMetrics metrics;
  metrics.count_error_code(-3, 5);
  metrics.count_error_code(BrokerMetrics::kApiKeyLimit, 5);
  metrics.count_error_code(0, -2);
  metrics.count_error_code(0, BrokerMetrics::kErrorCodeLimit);
  metrics.count_error_code(0, 32767);
  EXPECT_EQ(metrics.error_count(BrokerMetrics::kApiKeyLimit, 5), 0u);
  EXPECT_EQ(metrics.request_latency(-1), nullptr);
  EXPECT_EQ(metrics.request_latency(BrokerMetrics::kApiKeyLimit), nullptr);
  EXPECT_NE(metrics.request_latency(0), nullptr);
}

TEST(BrokerMetrics, TopicCountersSumOverThreadsAndListByName) {
  BrokerMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 100; i++) {
        metrics.topic("orders").add_in(10, 2);
        metrics.topic("audit").add_out(7, 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto topics = metrics.topics();
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].first, "audit");
  EXPECT_EQ(topics[1].first, "orders");
  TopicCounters::Totals orders = topics[1].second->totals();
  EXPECT_EQ(orders.bytes_in, 4000u);
  EXPECT_EQ(orders.records_in, 800u);
  EXPECT_EQ(orders.bytes_out, 0u);
  TopicCounters::Totals audit = topics[0].second->totals();
  EXPECT_EQ(audit.bytes_out, 2800u);
  EXPECT_EQ(audit.records_out, 400u);
}

// One thread serving two BrokerMetrics in turn (tests start several brokers in one process)
// must not reuse the first one's counters through its thread cache.
TEST(BrokerMetrics, ThreadCacheDoesNotLeakBetweenInstances) {
  auto first = std::make_unique<BrokerMetrics>();
  first->topic("t").add_in(1, 1);
  first.reset();
  BrokerMetrics second;
  second.topic("t").add_in(5, 3);
  TopicCounters::Totals totals = second.topics().at(0).second->totals();
  EXPECT_EQ(totals.bytes_in, 5u);
  EXPECT_EQ(totals.records_in, 3u);
}

TEST(StartupProgress, ReadyOnlyAfterEveryStepAndNotWhileStopping) {
  StartupProgress progress;
  EXPECT_FALSE(progress.readiness().ready);
  EXPECT_EQ(progress.readiness().reason, "kafka listener not bound yet");
  progress.expect_group_shards(2);
  progress.listener_bound();
  EXPECT_EQ(progress.readiness().reason, "recovering the partitions' logs");
  progress.storage_recovered();
  EXPECT_EQ(progress.readiness().reason, "loading consumer groups (0 of 2 shards)");
  progress.group_shard_loaded();
  EXPECT_FALSE(progress.readiness().ready);
  progress.group_shard_loaded();
  EXPECT_TRUE(progress.readiness().ready);
  EXPECT_EQ(progress.readiness().reason, "");
  progress.stopping();
  EXPECT_FALSE(progress.readiness().ready);
  EXPECT_EQ(progress.readiness().reason, "shutting down");
}

}  // namespace
}  // namespace cairn::broker
