#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace cairn::bench {
namespace {

// The nearest-rank percentile of a sorted sample: the value at rank ceil(p/100 * n).
uint64_t nearest_rank(const std::vector<uint64_t>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size() - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; v++) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(99.9), 100u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.percentile(0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, NearestRankOfThousandValuesIsNotOffByOne) {
  // p99.9 of 1000 values is rank 999 exactly; binary rounding of 99.9 / 100 * 1000 must not
  // push it to rank 1000.
  LatencyHistogram h;
  h.record(1, 999);
  h.record(2, 1);
  EXPECT_EQ(h.percentile(99.9), 1u);
  EXPECT_EQ(h.percentile(99.95), 2u);
  std::vector<uint64_t> sorted(999, 1);
  sorted.push_back(2);
  EXPECT_EQ(nearest_rank(sorted, 99.9), 1u);
}

TEST(LatencyHistogram, BucketLayoutIsContiguousAndBoundsRelativeError) {
  uint64_t expected_lowest = 0;
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; i++) {
    const uint64_t low = LatencyHistogram::bucket_lowest_value(i);
    const uint64_t high = LatencyHistogram::bucket_highest_value(i);
    ASSERT_EQ(low, expected_lowest) << "bucket " << i;
    ASSERT_LE(low, high);
    ASSERT_EQ(LatencyHistogram::bucket_index(low), i);
    ASSERT_EQ(LatencyHistogram::bucket_index(high), i);
    if (low >= LatencyHistogram::kSubBucketCount) {
      // Width at most 1/128 of the lowest value.
      ASSERT_LE((high - low + 1) * 128, low) << "bucket " << i;
    }
    expected_lowest = high + 1;
  }
  EXPECT_EQ(expected_lowest, LatencyHistogram::kValueMax + 1);
}

TEST(LatencyHistogram, PercentilesMatchSortedSampleWithinOneBucket) {
  std::mt19937_64 random(42);
  // Log-uniform over 1 us .. 10 s in nanoseconds, like real latencies with a long tail.
  std::uniform_real_distribution<double> exponent(3.0, 10.0);
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; i++) {
    const auto v = static_cast<uint64_t>(std::pow(10.0, exponent(random)));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const uint64_t truth = nearest_rank(values, p);
    const uint64_t got = h.percentile(p);
    // Exactly the top of the bucket holding the true value, capped at the maximum...
    const size_t bucket = LatencyHistogram::bucket_index(truth);
    EXPECT_EQ(got, std::min(LatencyHistogram::bucket_highest_value(bucket), h.max())) << p;
    // ...which is never below the truth and at most 1/128 above it.
    EXPECT_GE(got, truth) << p;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(truth) * (1.0 + 1.0 / 128)) << p;
  }
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v < 50000; v += 7) {
    ((v / 7) % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
}

TEST(LatencyHistogram, WeightedRecordCountsEveryOccurrence) {
  LatencyHistogram h;
  h.record(10, 99);
  h.record(5000, 1);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile(99), 10u);
  EXPECT_EQ(h.percentile(99.5), 5000u);  // capped at the exact maximum
}

TEST(LatencyHistogram, ValuesAboveTheMaximumAreClampedAndCounted) {
  LatencyHistogram h;
  h.record(LatencyHistogram::kValueMax + 12345);
  h.record(7);
  EXPECT_EQ(h.clamped_count(), 1u);
  EXPECT_EQ(h.max(), LatencyHistogram::kValueMax);
  EXPECT_EQ(h.percentile(100), LatencyHistogram::kValueMax);
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(1000);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  h.record(3);
  EXPECT_EQ(h.min(), 3u);
  EXPECT_EQ(h.max(), 3u);
}

}  // namespace
}  // namespace cairn::bench
