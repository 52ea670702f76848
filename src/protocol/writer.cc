#include "protocol/writer.h"

#include <bit>
#include <cstring>

#include "base/assert.h"
#include "base/varint.h"

namespace cairn::protocol {
namespace {

template <typename T>
void store_big_endian(std::vector<uint8_t>& out, T v) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  uint8_t bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); i++) {
    bytes[sizeof(T) - 1 - i] = static_cast<uint8_t>(u & 0xff);
    u = static_cast<U>(u >> 8);
  }
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

}  // namespace

void Writer::write_int16(int16_t v) { store_big_endian(buffer_, v); }
void Writer::write_int32(int32_t v) { store_big_endian(buffer_, v); }
void Writer::write_int64(int64_t v) { store_big_endian(buffer_, v); }
void Writer::write_float64(double v) { write_int64(std::bit_cast<int64_t>(v)); }

void Writer::write_unsigned_varint(uint32_t v) {
  uint8_t bytes[varint::kMaxBytes64];
  size_t n = varint::put_unsigned64(bytes, v);
  buffer_.insert(buffer_.end(), bytes, bytes + n);
}

void Writer::write_varint(int32_t v) {
  uint8_t bytes[varint::kMaxBytes64];
  size_t n = varint::put_unsigned64(bytes, varint::zigzag_encode32(v));
  buffer_.insert(buffer_.end(), bytes, bytes + n);
}

void Writer::write_varlong(int64_t v) {
  uint8_t bytes[varint::kMaxBytes64];
  size_t n = varint::put_unsigned64(bytes, varint::zigzag_encode64(v));
  buffer_.insert(buffer_.end(), bytes, bytes + n);
}

void Writer::write_string(std::string_view s) {
  ASSERT(s.size() <= INT16_MAX);
  write_int16(static_cast<int16_t>(s.size()));
  buffer_.insert(buffer_.end(), s.begin(), s.end());
}

void Writer::write_nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    write_int16(-1);
    return;
  }
  write_string(*s);
}

void Writer::write_compact_string(std::string_view s) {
  ASSERT(s.size() < UINT32_MAX);
  write_unsigned_varint(static_cast<uint32_t>(s.size() + 1));
  buffer_.insert(buffer_.end(), s.begin(), s.end());
}

void Writer::write_compact_nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    write_unsigned_varint(0);
    return;
  }
  write_compact_string(*s);
}

void Writer::write_bytes(std::span<const uint8_t> b) {
  ASSERT(b.size() <= INT32_MAX);
  write_int32(static_cast<int32_t>(b.size()));
  write_raw(b);
}

void Writer::write_nullable_bytes(const std::optional<std::vector<uint8_t>>& b) {
  if (!b) {
    write_int32(-1);
    return;
  }
  write_bytes(*b);
}

void Writer::write_compact_bytes(std::span<const uint8_t> b) {
  ASSERT(b.size() < UINT32_MAX);
  write_unsigned_varint(static_cast<uint32_t>(b.size() + 1));
  write_raw(b);
}

void Writer::write_compact_nullable_bytes(const std::optional<std::vector<uint8_t>>& b) {
  if (!b) {
    write_unsigned_varint(0);
    return;
  }
  write_compact_bytes(*b);
}

void Writer::append_file_range(FileRange range) {
  ASSERT(range.fd >= 0);
  if (range.size == 0) return;
  spliced_bytes_ += range.size;
  splices_.push_back(Splice{buffer_.size(), std::move(range)});
}

void Writer::patch_int32(size_t at, int32_t v) {
  ASSERT(at + 4 <= buffer_.size());
  uint32_t u = static_cast<uint32_t>(v);
  buffer_[at] = static_cast<uint8_t>(u >> 24);
  buffer_[at + 1] = static_cast<uint8_t>(u >> 16);
  buffer_[at + 2] = static_cast<uint8_t>(u >> 8);
  buffer_[at + 3] = static_cast<uint8_t>(u);
}

}  // namespace cairn::protocol
