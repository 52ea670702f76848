// Clock: where the storage engine gets "now" for segment age (segment_ms) and time retention
// (retention_ms). Wall-clock milliseconds since the Unix epoch, like Kafka record timestamps.
// Tests use testing::FakeClock. Implementations must be safe to call from any thread.
#pragma once

#include <cstdint>

namespace cairn::storage {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
};

// The system's real-time clock.
Clock& system_clock();

}  // namespace cairn::storage
