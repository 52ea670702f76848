// Support for the generated message codecs (src/protocol/generated): the `Records` field type
// and the small helpers every generated encode/decode calls, so that the generated code stays
// short and every array count read off the wire goes through one bounded path.
//
// The "compact" flag selects the flexible-version encodings of KIP-482 (unsigned-varint
// lengths + 1, where 0 means null); "nullable" says whether null is legal at the version being
// encoded or decoded. Plain functions and values: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::protocol {

// The value of a Kafka `records` field (Produce request, Fetch response).
//
// Decoded: `inline_bytes` views the frame the message was decoded from, so the frame must
// outlive the message; `file_ranges` is empty. To encode: `inline_bytes` (if set) is written
// first, then every `file_ranges` entry is spliced into the frame for sendfile(); the length
// prefix covers both. The field is null when neither is set.
struct Records {
  std::optional<std::span<const uint8_t>> inline_bytes;
  std::vector<FileRange> file_ranges;

  static Records of(std::span<const uint8_t> bytes) {
    Records r;
    r.inline_bytes = bytes;
    return r;
  }
  bool is_null() const { return !inline_bytes.has_value() && file_ranges.empty(); }
  // Total encoded size of the record bytes (excluding the length prefix).
  size_t size_bytes() const;
  // Equal when both are null, or when their inline bytes are equal byte for byte and their
  // file ranges name the same (fd, offset, size) triples.
  bool operator==(const Records& other) const;
};

namespace codec {

void write_string(Writer& w, bool compact, std::string_view s);
// REQUIRES: `s` is set unless `nullable`.
void write_nullable_string(Writer& w, bool compact, bool nullable,
                           const std::optional<std::string>& s);
std::string read_string(Reader& r, bool compact);
// A null read where `nullable` is false fails the reader.
std::optional<std::string> read_nullable_string(Reader& r, bool compact, bool nullable);

void write_bytes(Writer& w, bool compact, std::span<const uint8_t> b);
// REQUIRES: `b` is set unless `nullable`.
void write_nullable_bytes(Writer& w, bool compact, bool nullable,
                          const std::optional<std::vector<uint8_t>>& b);
std::vector<uint8_t> read_bytes(Reader& r, bool compact);
std::optional<std::vector<uint8_t>> read_nullable_bytes(Reader& r, bool compact, bool nullable);

// REQUIRES: `records` is not null unless `nullable`.
void write_records(Writer& w, bool compact, bool nullable, const Records& records);
// Zero copy: the result views the reader's frame.
Records read_records(Reader& r, bool compact, bool nullable);

// -1 writes null.
void write_array_count(Writer& w, bool compact, int64_t count);
// Returns -1 for null, 0 on failure (the reader is then failed). The count is bounded by the
// bytes left: `count * min_element_bytes` must fit. REQUIRES: min_element_bytes >= 1.
int32_t read_array_count(Reader& r, bool compact, size_t min_element_bytes);

template <typename T, typename F>
void write_array(Writer& w, bool compact, const std::vector<T>& items, F&& write_item) {
  write_array_count(w, compact, static_cast<int64_t>(items.size()));
  for (const T& item : items) write_item(item);
}

// REQUIRES: `items` is set unless `nullable`.
template <typename T, typename F>
void write_nullable_array(Writer& w, bool compact, bool nullable,
                          const std::optional<std::vector<T>>& items, F&& write_item) {
  if (!items.has_value()) {
    ASSERT(nullable);
    write_array_count(w, compact, -1);
    return;
  }
  write_array(w, compact, *items, write_item);
}

// Reads `count` items into `items` (cleared first). The count is checked against the bytes
// left before anything is reserved, so a hostile count cannot allocate beyond the frame.
template <typename T, typename F>
void read_array(Reader& r, bool compact, size_t min_element_bytes, std::vector<T>& items,
                F&& read_item) {
  items.clear();
  int32_t count = read_array_count(r, compact, min_element_bytes);
  if (count < 0) {
    r.fail("null array where not nullable");
    return;
  }
  items.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && r.ok(); i++) {
    items.emplace_back();
    read_item(items.back());
  }
}

template <typename T, typename F>
void read_nullable_array(Reader& r, bool compact, bool nullable, size_t min_element_bytes,
                         std::optional<std::vector<T>>& items, F&& read_item) {
  items.reset();
  int32_t count = read_array_count(r, compact, min_element_bytes);
  if (!r.ok()) return;
  if (count < 0) {
    if (!nullable) r.fail("null array where not nullable");
    return;
  }
  items.emplace();
  items->reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && r.ok(); i++) {
    items->emplace_back();
    read_item(items->back());
  }
}

// Writes one tagged field: tag, size, then the bytes `value` holds.
// REQUIRES: `value` has no file-range splices.
void write_tagged_field(Writer& w, uint32_t tag, const Writer& value);
// Called after a known tagged field was decoded from `value` (a reader over just that
// field's bytes): fails `r` if the field was malformed or not consumed exactly.
void end_tagged_field(Reader& r, const Reader& value);

}  // namespace codec
}  // namespace cairn::protocol
