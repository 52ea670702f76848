#include "storage/format.h"

#include <cstdio>

#include "base/crc32c.h"
#include "model/record_batch_view.h"

namespace cairn::storage::format {

using model::load_i16;
using model::load_i32;
using model::load_i64;
using model::store_i16;
using model::store_i32;
using model::store_i64;

void encode_index_header(const IndexHeader& header, std::span<uint8_t> out) {
  ASSERT(out.size() >= kIndexHeaderBytes);
  uint8_t* p = out.data();
  store_i32(p + 0, static_cast<int32_t>(kIndexMagic));
  store_i16(p + 4, static_cast<int16_t>(kVersion));
  store_i16(p + 6, static_cast<int16_t>(header.kind));
  store_i32(p + 8, static_cast<int32_t>(header.entry_count));
  store_i32(p + 12, static_cast<int32_t>(header.entries_crc));
  store_i64(p + 16, static_cast<int64_t>(header.log_bytes));
  store_i64(p + 24, header.next_offset.value());
  store_i64(p + 32, header.max_timestamp.value());
  store_i32(p + 40, static_cast<int32_t>(crc32c::value(p, kIndexHeaderCrcPosition)));
  store_i32(p + 44, 0);
}

Result<IndexHeader> decode_index_header(std::span<const uint8_t> bytes, IndexKind kind) {
  if (bytes.size() < kIndexHeaderBytes) return error(StatusCode::corrupt, "index header short");
  const uint8_t* p = bytes.data();
  if (static_cast<uint32_t>(load_i32(p)) != kIndexMagic) {
    return error(StatusCode::corrupt, "index header magic");
  }
  uint32_t crc = static_cast<uint32_t>(load_i32(p + 40));
  if (crc != crc32c::value(p, kIndexHeaderCrcPosition)) {
    return error(StatusCode::corrupt, "index header crc");
  }
  if (static_cast<uint16_t>(load_i16(p + 4)) != kVersion) {
    return error(StatusCode::unsupported, "index format version");
  }
  if (static_cast<IndexKind>(load_i16(p + 6)) != kind) {
    return error(StatusCode::corrupt, "index kind");
  }
  IndexHeader header;
  header.kind = kind;
  header.entry_count = static_cast<uint32_t>(load_i32(p + 8));
  header.entries_crc = static_cast<uint32_t>(load_i32(p + 12));
  header.log_bytes = static_cast<uint64_t>(load_i64(p + 16));
  header.next_offset = Offset(load_i64(p + 24));
  header.max_timestamp = TimestampMs(load_i64(p + 32));
  return header;
}

void encode_small_record(uint32_t magic, int64_t value, std::span<uint8_t> out) {
  ASSERT(out.size() >= kSmallRecordBytes);
  uint8_t* p = out.data();
  store_i32(p, static_cast<int32_t>(magic));
  store_i16(p + 4, static_cast<int16_t>(kVersion));
  store_i16(p + 6, 0);
  store_i64(p + 8, value);
  store_i32(p + 16, static_cast<int32_t>(crc32c::value(p, 16)));
}

Result<int64_t> decode_small_record(uint32_t magic, std::span<const uint8_t> bytes) {
  if (bytes.size() != kSmallRecordBytes) return error(StatusCode::corrupt, "record size");
  const uint8_t* p = bytes.data();
  if (static_cast<uint32_t>(load_i32(p)) != magic) return error(StatusCode::corrupt, "magic");
  if (static_cast<uint32_t>(load_i32(p + 16)) != crc32c::value(p, 16)) {
    return error(StatusCode::corrupt, "crc");
  }
  if (static_cast<uint16_t>(load_i16(p + 4)) != kVersion) {
    return error(StatusCode::unsupported, "format version");
  }
  return load_i64(p + 8);
}

std::string segment_file_name(Offset base_offset, const char* suffix) {
  ASSERT(base_offset.value() >= 0);
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(base_offset.value()));
  return std::string(digits) + suffix;
}

std::optional<Offset> parse_segment_file_name(const std::string& name, const char* suffix) {
  std::string tail = suffix;
  if (name.size() != 20 + tail.size() || name.compare(20, tail.size(), tail) != 0) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (size_t i = 0; i < 20; i++) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    if (value > (INT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + (name[i] - '0');
  }
  return Offset(value);
}

}  // namespace cairn::storage::format
