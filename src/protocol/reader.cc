#include "protocol/reader.h"

#include <bit>
#include <cstring>

#include "base/assert.h"
#include "base/varint.h"

namespace cairn::protocol {
namespace {

template <typename T>
T load_big_endian(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 2) v = static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
    if constexpr (sizeof(T) == 4) v = static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
    if constexpr (sizeof(T) == 8) v = static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)));
  }
  return v;
}

}  // namespace

int8_t Reader::read_int8() {
  if (!need(1)) return 0;
  return static_cast<int8_t>(*p_++);
}

int16_t Reader::read_int16() {
  if (!need(2)) return 0;
  int16_t v = load_big_endian<int16_t>(p_);
  p_ += 2;
  return v;
}

uint16_t Reader::read_uint16() { return static_cast<uint16_t>(read_int16()); }

int32_t Reader::read_int32() {
  if (!need(4)) return 0;
  int32_t v = load_big_endian<int32_t>(p_);
  p_ += 4;
  return v;
}

uint32_t Reader::read_uint32() { return static_cast<uint32_t>(read_int32()); }

int64_t Reader::read_int64() {
  if (!need(8)) return 0;
  int64_t v = load_big_endian<int64_t>(p_);
  p_ += 8;
  return v;
}

double Reader::read_float64() {
  uint64_t bits = static_cast<uint64_t>(read_int64());
  return std::bit_cast<double>(bits);
}

Uuid Reader::read_uuid() {
  Uuid id{};
  if (!need(16)) return id;
  std::memcpy(id.data(), p_, 16);
  p_ += 16;
  return id;
}

uint32_t Reader::read_unsigned_varint() {
  if (!ok()) return 0;
  auto v = varint::get_unsigned32(&p_, end_);
  if (!v) {
    fail("bad unsigned varint");
    return 0;
  }
  return *v;
}

int32_t Reader::read_varint() {
  if (!ok()) return 0;
  auto v = varint::get_signed32(&p_, end_);
  if (!v) {
    fail("bad varint");
    return 0;
  }
  return *v;
}

int64_t Reader::read_varlong() {
  if (!ok()) return 0;
  auto v = varint::get_signed64(&p_, end_);
  if (!v) {
    fail("bad varlong");
    return 0;
  }
  return *v;
}

std::optional<std::string> Reader::read_string_of_length(int64_t length, bool nullable) {
  if (!ok()) return std::nullopt;
  if (length < 0) {
    if (length != -1 || !nullable) fail("negative string length");
    return std::nullopt;
  }
  if (!need(static_cast<size_t>(length))) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(length));
  p_ += length;
  return s;
}

std::string Reader::read_string() {
  return read_string_of_length(read_int16(), false).value_or(std::string());
}

std::optional<std::string> Reader::read_nullable_string() {
  return read_string_of_length(read_int16(), true);
}

std::string Reader::read_compact_string() {
  int64_t length = static_cast<int64_t>(read_unsigned_varint()) - 1;
  return read_string_of_length(length, false).value_or(std::string());
}

std::optional<std::string> Reader::read_compact_nullable_string() {
  int64_t length = static_cast<int64_t>(read_unsigned_varint()) - 1;
  return read_string_of_length(length, true);
}

std::optional<std::span<const uint8_t>> Reader::read_nullable_bytes_view(bool compact) {
  int64_t length = compact ? static_cast<int64_t>(read_unsigned_varint()) - 1 : read_int32();
  if (!ok()) return std::nullopt;
  if (length < 0) {
    if (length != -1) fail("negative bytes length");
    return std::nullopt;
  }
  if (!need(static_cast<size_t>(length))) return std::nullopt;
  std::span<const uint8_t> view(p_, static_cast<size_t>(length));
  p_ += length;
  return view;
}

std::span<const uint8_t> Reader::read_raw_view(size_t size) {
  if (!need(size)) return {};
  std::span<const uint8_t> view(p_, size);
  p_ += size;
  return view;
}

std::vector<uint8_t> Reader::read_bytes() {
  auto v = read_nullable_bytes_view(false);
  if (!v) {
    if (ok()) fail("null bytes where not nullable");
    return {};
  }
  return std::vector<uint8_t>(v->begin(), v->end());
}

std::optional<std::vector<uint8_t>> Reader::read_nullable_bytes() {
  auto v = read_nullable_bytes_view(false);
  if (!v) return std::nullopt;
  return std::vector<uint8_t>(v->begin(), v->end());
}

std::vector<uint8_t> Reader::read_compact_bytes() {
  auto v = read_nullable_bytes_view(true);
  if (!v) {
    if (ok()) fail("null bytes where not nullable");
    return {};
  }
  return std::vector<uint8_t>(v->begin(), v->end());
}

std::optional<std::vector<uint8_t>> Reader::read_compact_nullable_bytes() {
  auto v = read_nullable_bytes_view(true);
  if (!v) return std::nullopt;
  return std::vector<uint8_t>(v->begin(), v->end());
}

int32_t Reader::read_array_count(size_t min_element_bytes) {
  ASSERT(min_element_bytes >= 1);
  int32_t count = read_int32();
  if (!ok()) return 0;
  if (count < -1) {
    fail("negative array count");
    return 0;
  }
  if (count > 0 && static_cast<uint64_t>(count) * min_element_bytes > remaining()) {
    fail("array count exceeds frame");
    return 0;
  }
  return count;
}

int32_t Reader::read_compact_array_count(size_t min_element_bytes) {
  ASSERT(min_element_bytes >= 1);
  uint32_t raw = read_unsigned_varint();
  if (!ok()) return 0;
  int64_t count = static_cast<int64_t>(raw) - 1;
  if (count > INT32_MAX) {
    fail("array count too large");
    return 0;
  }
  if (count > 0 && static_cast<uint64_t>(count) * min_element_bytes > remaining()) {
    fail("array count exceeds frame");
    return 0;
  }
  return static_cast<int32_t>(count);
}

void Reader::skip(size_t size) {
  if (!need(size)) return;
  p_ += size;
}

}  // namespace cairn::protocol
