// CRC-32C (Castagnoli), the checksum of Kafka record batches v2 and of Cairn's own files.
//
// Uses the SSE4.2 crc32 instruction (three interleaved chains on long inputs) when the CPU has
// it and a slicing-by-8 table otherwise; both give identical results (checked against the
// published vectors in crc32c_test.cc).
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace cairn::crc32c {

// Extends `crc` (the CRC of the bytes before) over `data`. Start with 0.
uint32_t extend(uint32_t crc, const void* data, size_t size);

inline uint32_t value(const void* data, size_t size) { return extend(0, data, size); }
inline uint32_t value(std::span<const std::byte> data) {
  return extend(0, data.data(), data.size());
}

// The portable implementation, exposed so tests can compare it with the hardware one.
uint32_t extend_portable(uint32_t crc, const void* data, size_t size);
bool hardware_available();

}  // namespace cairn::crc32c
