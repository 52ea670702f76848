#include "metrics/cells.h"

#include <algorithm>

namespace cairn::metrics {
namespace {

std::atomic<uint32_t> g_next_slot{0};
// kSlotCount means "not bound yet".
thread_local uint32_t t_slot = kSlotCount;

}  // namespace

uint32_t thread_slot() {
  if (t_slot == kSlotCount) [[unlikely]] {
    t_slot = g_next_slot.fetch_add(1, std::memory_order_relaxed) % kSlotCount;
  }
  return t_slot;
}

void bind_thread_slot(uint32_t index) { t_slot = index % kSlotCount; }

Histogram::Histogram(std::vector<uint64_t> bounds) : bounds_(std::move(bounds)) {
  ASSERT(!bounds_.empty());
  ASSERT(bounds_.size() <= kBoundsMax);
  ASSERT(std::is_sorted(bounds_.begin(), bounds_.end()));
  ASSERT(std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end());
  constexpr size_t kPerLine = kCacheLineBytes / sizeof(std::atomic<uint64_t>);
  size_t used = bounds_.size() + 2;  // buckets (with +Inf) and the sum
  stride_ = (used + kPerLine - 1) / kPerLine * kPerLine;
  cells_ = std::make_unique<std::atomic<uint64_t>[]>(stride_ * kSlotCount);
  for (size_t i = 0; i < stride_ * kSlotCount; i++) cells_[i].store(0);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot out;
  out.bounds = bounds_;
  out.buckets.assign(bounds_.size() + 1, 0);
  for (uint32_t slot = 0; slot < kSlotCount; slot++) {
    const std::atomic<uint64_t>* cells = slot_cells(slot);
    for (size_t i = 0; i < out.buckets.size(); i++) {
      out.buckets[i] += cells[i].load(std::memory_order_relaxed);
    }
    out.sum += cells[sum_index()].load(std::memory_order_relaxed);
  }
  for (uint64_t n : out.buckets) out.count += n;
  return out;
}

std::vector<uint64_t> latency_bounds_ns() {
  constexpr uint64_t kUs = 1000;
  constexpr uint64_t kMs = 1000 * kUs;
  return {100 * kUs,  250 * kUs,  500 * kUs,  1 * kMs,    2500 * kUs, 5 * kMs,
          10 * kMs,   25 * kMs,   50 * kMs,   100 * kMs,  250 * kMs,  500 * kMs,
          1000 * kMs, 2500 * kMs, 5000 * kMs, 10000 * kMs};
}

}  // namespace cairn::metrics
