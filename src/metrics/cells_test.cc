#include "metrics/cells.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cairn::metrics {
namespace {

TEST(Cells, CounterSumsEveryThreadsAdds) {
  Counter counter;
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 2 * kSlotCount + 3; t++) {  // more threads than slots: they share
    threads.emplace_back([&counter] {
      for (int i = 0; i < 1000; i++) counter.add(2);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), (2 * kSlotCount + 3) * 2000u);
}

TEST(Cells, GaugeGoesDownAcrossThreads) {
  Gauge gauge;
  std::thread up([&gauge] { gauge.add(5); });
  up.join();
  std::thread down([&gauge] { gauge.add(-3); });
  down.join();
  EXPECT_EQ(gauge.value(), 2);
}

TEST(Cells, BoundSlotIsUsed) {
  std::thread t([] {
    bind_thread_slot(kSlotCount + 3);
    EXPECT_EQ(thread_slot(), 3u);
  });
  t.join();
}

TEST(Cells, HistogramBucketsAreUpperInclusive) {
  Histogram histogram({10, 20});
  histogram.observe(0);
  histogram.observe(10);  // le=10
  histogram.observe(11);  // le=20
  histogram.observe(20);
  histogram.observe(21);  // +Inf
  Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.buckets, (std::vector<uint64_t>{2, 2, 1}));
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_EQ(snapshot.sum, 62u);
}

TEST(Cells, LatencyBoundsAscend) {
  std::vector<uint64_t> bounds = latency_bounds_ns();
  Histogram histogram(bounds);  // asserts ascending and distinct
  EXPECT_EQ(bounds.front(), 100'000u);
  EXPECT_EQ(bounds.back(), 10'000'000'000u);
}

}  // namespace
}  // namespace cairn::metrics
