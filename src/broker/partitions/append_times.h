// AppendTimes: when a partition's offsets were appended, kept coarsely in a bounded table, so
// the age of any record (how long the first record a group has not consumed has waited) is
// known without reading the log: the consumer-lag-in-seconds of /metrics and the admin API.
//
// Each sample (offset, time_ms) says "the batch starting at `offset` was appended at
// `time_ms`". An append is sampled when the last sample is at least kIntervalMs old, so every
// record between two samples was appended within kIntervalMs after the earlier one: the age
// read from the table is at most kIntervalMs too old. When the table is full, its older half
// is thinned (every other sample dropped), so recent records keep a 1 s resolution and old
// ones a resolution that grows with their age, in kSamplesMax * 16 bytes per partition.
//
// Records appended before the broker started (before the first sample) have no time here:
// appended_at_ms answers nullopt for them and the caller decides (docs/observability.md: they
// count as appended when the partition was opened, a lower bound).
//
// Thread safety: a member of Partition, touched only on the owning shard's thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/assert.h"
#include "base/types.h"

namespace cairn::broker {

class AppendTimes {
 public:
  static constexpr size_t kSamplesMax = 256;
  static constexpr int64_t kIntervalMs = 1000;

  // Records starting at `base_offset` were appended at `now_ms`. Offsets only grow; a clock
  // that steps back is treated as standing still.
  void record(Offset base_offset, int64_t now_ms) {
    if (!samples_.empty()) {
      ASSERT(base_offset.value() >= samples_.back().offset);
      if (now_ms - samples_.back().time_ms < kIntervalMs) return;
      now_ms = std::max(now_ms, samples_.back().time_ms);
    }
    if (samples_.size() == kSamplesMax) thin();
    samples_.push_back(Sample{base_offset.value(), now_ms});
  }

  // When the record at `offset` was appended (at most one sample interval early), or nullopt
  // if it precedes every sample (appended before the broker started).
  std::optional<int64_t> appended_at_ms(Offset offset) const {
    auto after = std::upper_bound(samples_.begin(), samples_.end(), offset.value(),
                                  [](int64_t o, const Sample& s) { return o < s.offset; });
    if (after == samples_.begin()) return std::nullopt;
    return std::prev(after)->time_ms;
  }

  size_t sample_count() const { return samples_.size(); }

 private:
  struct Sample {
    int64_t offset;
    int64_t time_ms;
  };

  // Drops every other sample of the older half; the newer half stays as it is.
  void thin() {
    size_t half = samples_.size() / 2;
    size_t kept = 0;
    for (size_t i = 0; i < samples_.size(); i++) {
      if (i < half && i % 2 == 1) continue;
      samples_[kept++] = samples_[i];
    }
    samples_.resize(kept);
    ASSERT(samples_.size() < kSamplesMax);
  }

  std::vector<Sample> samples_;  // ascending offset and time
};

}  // namespace cairn::broker
