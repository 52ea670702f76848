#include "protocol/message_support.h"

#include <algorithm>
#include <climits>

namespace cairn::protocol {

size_t Records::size_bytes() const {
  size_t total = inline_bytes ? inline_bytes->size() : 0;
  for (const FileRange& range : file_ranges) total += range.size;
  return total;
}

bool Records::operator==(const Records& other) const {
  if (is_null() != other.is_null()) return false;
  size_t inline_size = inline_bytes ? inline_bytes->size() : 0;
  size_t other_inline_size = other.inline_bytes ? other.inline_bytes->size() : 0;
  if (inline_size != other_inline_size) return false;
  if (inline_size > 0 &&
      !std::equal(inline_bytes->begin(), inline_bytes->end(), other.inline_bytes->begin())) {
    return false;
  }
  if (file_ranges.size() != other.file_ranges.size()) return false;
  for (size_t i = 0; i < file_ranges.size(); i++) {
    const FileRange& a = file_ranges[i];
    const FileRange& b = other.file_ranges[i];
    if (a.fd != b.fd || a.offset != b.offset || a.size != b.size) return false;
  }
  return true;
}

namespace codec {

void write_string(Writer& w, bool compact, std::string_view s) {
  if (compact) {
    w.write_compact_string(s);
  } else {
    w.write_string(s);
  }
}

void write_nullable_string(Writer& w, bool compact, bool nullable,
                           const std::optional<std::string>& s) {
  if (!nullable) {
    ASSERT(s.has_value());
    write_string(w, compact, *s);
  } else if (compact) {
    w.write_compact_nullable_string(s);
  } else {
    w.write_nullable_string(s);
  }
}

std::string read_string(Reader& r, bool compact) {
  return compact ? r.read_compact_string() : r.read_string();
}

std::optional<std::string> read_nullable_string(Reader& r, bool compact, bool nullable) {
  if (!nullable) return read_string(r, compact);
  return compact ? r.read_compact_nullable_string() : r.read_nullable_string();
}

void write_bytes(Writer& w, bool compact, std::span<const uint8_t> b) {
  if (compact) {
    w.write_compact_bytes(b);
  } else {
    w.write_bytes(b);
  }
}

void write_nullable_bytes(Writer& w, bool compact, bool nullable,
                          const std::optional<std::vector<uint8_t>>& b) {
  if (!nullable) {
    ASSERT(b.has_value());
    write_bytes(w, compact, *b);
  } else if (compact) {
    w.write_compact_nullable_bytes(b);
  } else {
    w.write_nullable_bytes(b);
  }
}

std::vector<uint8_t> read_bytes(Reader& r, bool compact) {
  return compact ? r.read_compact_bytes() : r.read_bytes();
}

std::optional<std::vector<uint8_t>> read_nullable_bytes(Reader& r, bool compact, bool nullable) {
  if (!nullable) return read_bytes(r, compact);
  return compact ? r.read_compact_nullable_bytes() : r.read_nullable_bytes();
}

void write_records(Writer& w, bool compact, bool nullable, const Records& records) {
  if (records.is_null()) {
    ASSERT(nullable);
    if (compact) {
      w.write_unsigned_varint(0);
    } else {
      w.write_int32(-1);
    }
    return;
  }
  size_t size = records.size_bytes();
  if (compact) {
    ASSERT(size < UINT32_MAX);
    w.write_unsigned_varint(static_cast<uint32_t>(size + 1));
  } else {
    ASSERT(size <= INT32_MAX);
    w.write_int32(static_cast<int32_t>(size));
  }
  size_t start = w.size();
  if (records.inline_bytes) w.write_raw(*records.inline_bytes);
  for (const FileRange& range : records.file_ranges) w.append_file_range(range);
  ASSERT(w.size() - start == size);
}

Records read_records(Reader& r, bool compact, bool nullable) {
  Records records;
  records.inline_bytes = r.read_nullable_bytes_view(compact);
  if (r.ok() && !records.inline_bytes && !nullable) r.fail("null records where not nullable");
  return records;
}

void write_array_count(Writer& w, bool compact, int64_t count) {
  ASSERT(count >= -1);
  ASSERT(count < INT32_MAX);
  if (compact) {
    w.write_compact_array_count(static_cast<int32_t>(count));
  } else {
    w.write_array_count(static_cast<int32_t>(count));
  }
}

int32_t read_array_count(Reader& r, bool compact, size_t min_element_bytes) {
  return compact ? r.read_compact_array_count(min_element_bytes)
                 : r.read_array_count(min_element_bytes);
}

void write_tagged_field(Writer& w, uint32_t tag, const Writer& value) {
  ASSERT(value.size() == value.buffer().size());  // no file-range splices
  ASSERT(value.size() < UINT32_MAX);
  w.write_unsigned_varint(tag);
  w.write_unsigned_varint(static_cast<uint32_t>(value.size()));
  w.write_raw(value.buffer());
}

void end_tagged_field(Reader& r, const Reader& value) {
  if (!value.ok()) {
    r.fail(value.error());
  } else if (value.remaining() != 0) {
    r.fail("tagged field has trailing bytes");
  }
}

}  // namespace codec
}  // namespace cairn::protocol
