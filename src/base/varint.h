// Varints as Kafka uses them: unsigned LEB128 varints (flexible-version framing: compact
// lengths, tagged fields) and zigzag-encoded signed varints/varlongs (record fields inside a
// record batch). Decoders are bounded: they never read past `end` and reject encodings longer
// than the type allows. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace cairn::varint {

inline constexpr size_t kMaxBytes32 = 5;
inline constexpr size_t kMaxBytes64 = 10;

inline constexpr uint32_t zigzag_encode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
inline constexpr int32_t zigzag_decode32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
inline constexpr uint64_t zigzag_encode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int64_t zigzag_decode64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Writes `v` at `out` (room for kMaxBytes64 required); returns the bytes written.
inline size_t put_unsigned64(uint8_t* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<uint8_t>(v);
  return n;
}

inline size_t size_unsigned64(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

// Reads an unsigned varint of at most `max_bytes` bytes from [*p, end). On success advances
// *p and returns the value; on truncation or overlong encoding returns nullopt, *p unchanged.
inline std::optional<uint64_t> get_unsigned(const uint8_t** p, const uint8_t* end,
                                            size_t max_bytes) {
  uint64_t result = 0;
  const uint8_t* q = *p;
  for (size_t i = 0; i < max_bytes; i++) {
    if (q >= end) return std::nullopt;
    uint8_t byte = *q++;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (max_bytes == kMaxBytes32 && result > UINT32_MAX) return std::nullopt;
      *p = q;
      return result;
    }
  }
  return std::nullopt;
}

inline std::optional<uint32_t> get_unsigned32(const uint8_t** p, const uint8_t* end) {
  auto v = get_unsigned(p, end, kMaxBytes32);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}
inline std::optional<int32_t> get_signed32(const uint8_t** p, const uint8_t* end) {
  auto v = get_unsigned(p, end, kMaxBytes32);
  if (!v) return std::nullopt;
  return zigzag_decode32(static_cast<uint32_t>(*v));
}
inline std::optional<int64_t> get_signed64(const uint8_t** p, const uint8_t* end) {
  auto v = get_unsigned(p, end, kMaxBytes64);
  if (!v) return std::nullopt;
  return zigzag_decode64(*v);
}

}  // namespace cairn::varint
