#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/assert.h"

namespace cairn::bench {

static_assert(LatencyHistogram::kBucketCount == 4352);

size_t LatencyHistogram::bucket_index(uint64_t value) {
  ASSERT(value <= kValueMax);
  if (value < kSubBucketCount) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);  // >= kSubBucketBits
  const int shift = msb - (kSubBucketBits - 1);  // >= 1
  const uint64_t top = value >> shift;           // in [128, 256)
  DEBUG_ASSERT(top >= kHalfSubBucketCount && top < kSubBucketCount);
  const size_t index = kSubBucketCount + static_cast<size_t>(shift - 1) * kHalfSubBucketCount +
                       static_cast<size_t>(top - kHalfSubBucketCount);
  DEBUG_ASSERT(index < kBucketCount);
  return index;
}

uint64_t LatencyHistogram::bucket_lowest_value(size_t index) {
  ASSERT(index < kBucketCount);
  if (index < kSubBucketCount) return index;
  const size_t above = index - kSubBucketCount;
  const int shift = static_cast<int>(above / kHalfSubBucketCount) + 1;
  const uint64_t top = kHalfSubBucketCount + above % kHalfSubBucketCount;
  return top << shift;
}

uint64_t LatencyHistogram::bucket_highest_value(size_t index) {
  ASSERT(index < kBucketCount);
  if (index < kSubBucketCount) return index;
  const size_t above = index - kSubBucketCount;
  const int shift = static_cast<int>(above / kHalfSubBucketCount) + 1;
  const uint64_t top = kHalfSubBucketCount + above % kHalfSubBucketCount;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::reset() {
  counts_.fill(0);
  count_ = 0;
  clamped_count_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

void LatencyHistogram::record(uint64_t value, uint64_t count) {
  if (count == 0) return;
  if (value > kValueMax) {
    value = kValueMax;
    clamped_count_ += count;
  }
  counts_[bucket_index(value)] += count;
  if (count_ == 0 || value < min_) min_ = value;
  if (count_ == 0 || value > max_) max_ = value;
  count_ += count;
  sum_ += static_cast<long double>(value) * static_cast<long double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; i++) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
  clamped_count_ += other.clamped_count_;
  sum_ += other.sum_;
}

uint64_t LatencyHistogram::min() const {
  ASSERT(count_ > 0);
  return min_;
}

uint64_t LatencyHistogram::max() const {
  ASSERT(count_ > 0);
  return max_;
}

double LatencyHistogram::mean() const {
  ASSERT(count_ > 0);
  return static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::percentile(double p) const {
  ASSERT(count_ > 0);
  ASSERT(p >= 0.0 && p <= 100.0);
  if (p == 0.0) return min_;
  // Nearest rank, computed in long double so that e.g. p99.9 of 1000 values is rank 999 and
  // not 1000 because of binary rounding.
  const long double exact_rank = static_cast<long double>(p) / 100.0L * count_;
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact_rank - 1e-9L));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBucketCount; i++) {
    cumulative += counts_[i];
    if (cumulative >= rank) return std::min(bucket_highest_value(i), max_);
  }
  ASSERT(false);  // cumulative reaches count_ >= rank in the loop
  return max_;
}

}  // namespace cairn::bench
