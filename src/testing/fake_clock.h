// FakeClock: a storage::Clock that moves only when a test says so. Any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "storage/clock.h"

namespace cairn::testing {

class FakeClock final : public storage::Clock {
 public:
  explicit FakeClock(int64_t now_ms = 1'700'000'000'000) : now_ms_(now_ms) {}
  int64_t now_ms() const override { return now_ms_.load(); }
  void advance_ms(int64_t ms) { now_ms_ += ms; }
  void set_ms(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace cairn::testing
