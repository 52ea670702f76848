// LatencyHistogram: a log-linear histogram of non-negative integer values (nanoseconds in the
// harness), after HdrHistogram's bucket layout, written for the benchmark harness.
//
// Layout: values below 2^kSubBucketBits (256) each have their own bucket, so they are counted
// exactly. Above that, every power of two [2^m, 2^(m+1)) is split into 128 equal buckets, so a
// bucket is never wider than 1/128 of its lower bound: a reported percentile is at most 0.79%
// above the true value and never below it. Values above kValueMax are clamped to kValueMax
// (about 18 minutes in nanoseconds), and counted.
//
// Percentiles use the nearest-rank definition: percentile(p) is the smallest recorded value v
// with at least ceil(p/100 * count) recorded values <= v, reported as the highest value its
// bucket can hold, capped at the exact maximum recorded.
//
// Thread safety: none. One thread records; merge() combines per-thread histograms afterwards.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cairn::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 8;
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;  // 256
  static constexpr uint64_t kHalfSubBucketCount = kSubBucketCount / 2;        // 128
  static constexpr int kValueBits = 40;
  static constexpr uint64_t kValueMax = (uint64_t{1} << kValueBits) - 1;
  // Buckets: 256 exact ones, then 128 per power of two from 2^8 up to 2^39.
  static constexpr size_t kBucketCount =
      kSubBucketCount + (kValueBits - kSubBucketBits) * kHalfSubBucketCount;

  LatencyHistogram() { reset(); }

  void record(uint64_t value, uint64_t count = 1);
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  // REQUIRES: count() > 0 for min(), max(), mean() and percentile().
  uint64_t min() const;
  uint64_t max() const;
  double mean() const;
  uint64_t clamped_count() const { return clamped_count_; }
  // p in [0, 100]. percentile(0) is min(), percentile(100) is max().
  uint64_t percentile(double p) const;

  // The bucket layout, exposed for the tests.
  static size_t bucket_index(uint64_t value);
  static uint64_t bucket_lowest_value(size_t index);
  static uint64_t bucket_highest_value(size_t index);

 private:
  std::array<uint64_t, kBucketCount> counts_;
  uint64_t count_ = 0;
  uint64_t clamped_count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace cairn::bench
