// Counters, gauges and histograms that many threads update without locks, read by a scraper.
//
// Every instrument keeps one cell per *slot*: a thread writes only its own slot, so shards
// never share a cache line, and an update is one relaxed atomic add (a histogram: two). The
// scraper sums the slots; its total may miss updates racing with it, which a monotonic counter
// tolerates (the next scrape sees them). A thread's slot is set by bind_thread_slot (the shard
// threads bind their shard index, net/shard_set.cc) or else given round-robin on first use;
// two threads sharing a slot stay correct, only slower.
//
// Thread safety: add/observe from any thread; value/snapshot from any thread. Instruments are
// neither copyable nor movable (keep them in place, e.g. in a struct held by unique_ptr).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/assert.h"

namespace cairn::metrics {

// Slots per instrument: enough for one per shard on common machines; more threads share.
inline constexpr uint32_t kSlotCount = 16;
inline constexpr size_t kCacheLineBytes = 64;

// The calling thread's slot, in [0, kSlotCount).
uint32_t thread_slot();
// Makes `index` (modulo kSlotCount) the calling thread's slot. Call before the first update.
void bind_thread_slot(uint32_t index);

// A sum per slot of integers of type T (uint64_t: a counter; int64_t: a gauge that goes up
// and down, such as open connections).
template <typename T>
class Sharded {
 public:
  Sharded() = default;
  Sharded(const Sharded&) = delete;
  Sharded& operator=(const Sharded&) = delete;

  void add(T amount) { cells_[thread_slot()].value.fetch_add(amount, std::memory_order_relaxed); }
  T value() const {
    T total = 0;
    for (const Cell& cell : cells_) total += cell.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(kCacheLineBytes) Cell {
    std::atomic<T> value{0};
  };
  Cell cells_[kSlotCount];
};

using Counter = Sharded<uint64_t>;
using Gauge = Sharded<int64_t>;

// A histogram of non-negative integer observations (nanoseconds, counts) over fixed upper
// bounds, ascending. Observations above the last bound land in the +Inf bucket.
class Histogram {
 public:
  // REQUIRES: bounds ascending, 1..kBoundsMax of them.
  explicit Histogram(std::vector<uint64_t> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  static constexpr size_t kBoundsMax = 30;

  void observe(uint64_t value) {
    size_t bucket = bucket_of(value);
    std::atomic<uint64_t>* cells = slot_cells(thread_slot());
    cells[bucket].fetch_add(1, std::memory_order_relaxed);
    cells[sum_index()].fetch_add(value, std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<uint64_t> bounds;
    std::vector<uint64_t> buckets;  // per bucket (not cumulative); bounds.size() + 1 entries
    uint64_t sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<uint64_t>& bounds() const { return bounds_; }

 private:
  size_t bucket_of(uint64_t value) const {
    size_t bucket = 0;
    while (bucket < bounds_.size() && value > bounds_[bucket]) bucket++;
    return bucket;
  }
  size_t sum_index() const { return bounds_.size() + 1; }
  std::atomic<uint64_t>* slot_cells(uint32_t slot) const { return &cells_[slot * stride_]; }

  std::vector<uint64_t> bounds_;
  size_t stride_;  // cells per slot, rounded up to whole cache lines
  std::unique_ptr<std::atomic<uint64_t>[]> cells_;
};

// Latency bounds in nanoseconds, 100 us to 10 s, roughly x2.5 apart.
std::vector<uint64_t> latency_bounds_ns();

}  // namespace cairn::metrics
