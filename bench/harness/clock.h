// The harness's one clock: steady (monotonic) nanoseconds. Producer and consumer live in the
// same process, so end-to-end latency needs no cross-host clock. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>

namespace cairn::bench {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void sleep_until_ns(int64_t deadline_ns) {
  const int64_t wait_ns = deadline_ns - now_ns();
  if (wait_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait_ns));
}

inline uint64_t load_u64(std::span<const uint8_t> bytes, size_t offset) {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof(value));  // x86-64: little endian
  return value;
}

inline void store_u64(std::span<uint8_t> bytes, size_t offset, uint64_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(value));
}

}  // namespace cairn::bench
