// Writer: an encoder for one Kafka response (or request) frame.
//
// Bytes accumulate in one growing buffer. For zero-copy fetches a caller may splice file
// ranges in (`append_file_range`): the frame is then the buffer with those ranges inserted at
// the recorded positions, and the network layer writes it with write() and sendfile().
// `patch_int32` fills in a length reserved earlier. One Writer per frame; not shared between
// threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reader.h"

namespace cairn::protocol {

// A byte range of an open file, to be sent with sendfile(). `keepalive` holds whatever keeps
// `fd` open (the segment) until the frame has been written.
struct FileRange {
  int fd = -1;
  uint64_t offset = 0;
  uint32_t size = 0;
  std::shared_ptr<const void> keepalive;
};

// A finished frame: `bytes` with `splices[i].range` inserted before bytes[splices[i].at].
struct Splice {
  size_t at = 0;
  FileRange range;
};

struct Frame {
  std::vector<uint8_t> bytes;
  std::vector<Splice> splices;  // ascending `at`
  size_t size() const {
    size_t total = bytes.size();
    for (const auto& s : splices) total += s.range.size;
    return total;
  }
};

class Writer {
 public:
  Writer() = default;

  void write_int8(int8_t v) { buffer_.push_back(static_cast<uint8_t>(v)); }
  void write_int16(int16_t v);
  void write_uint16(uint16_t v) { write_int16(static_cast<int16_t>(v)); }
  void write_int32(int32_t v);
  void write_uint32(uint32_t v) { write_int32(static_cast<int32_t>(v)); }
  void write_int64(int64_t v);
  void write_float64(double v);
  void write_bool(bool v) { write_int8(v ? 1 : 0); }
  void write_uuid(const Uuid& v) { write_raw(v); }
  void write_unsigned_varint(uint32_t v);
  void write_varint(int32_t v);
  void write_varlong(int64_t v);

  void write_string(std::string_view s);
  void write_nullable_string(const std::optional<std::string>& s);
  void write_compact_string(std::string_view s);
  void write_compact_nullable_string(const std::optional<std::string>& s);
  void write_bytes(std::span<const uint8_t> b);
  void write_nullable_bytes(const std::optional<std::vector<uint8_t>>& b);
  void write_compact_bytes(std::span<const uint8_t> b);
  void write_compact_nullable_bytes(const std::optional<std::vector<uint8_t>>& b);
  void write_array_count(int32_t count) { write_int32(count); }
  void write_compact_array_count(int32_t count) {  // -1 (null) encodes as 0
    write_unsigned_varint(static_cast<uint32_t>(count + 1));
  }
  void write_empty_tagged_fields() { write_unsigned_varint(0); }

  void write_raw(std::span<const uint8_t> b) { buffer_.insert(buffer_.end(), b.begin(), b.end()); }
  void append_file_range(FileRange range);

  // Reserve an int32 now, fill it in later (e.g. a size prefix).
  size_t reserve_int32() {
    size_t at = buffer_.size();
    write_int32(0);
    return at;
  }
  void patch_int32(size_t at, int32_t v);

  // Bytes written so far, counting spliced file ranges.
  size_t size() const { return buffer_.size() + spliced_bytes_; }
  const std::vector<uint8_t>& buffer() const { return buffer_; }
  Frame finish() && { return Frame{std::move(buffer_), std::move(splices_)}; }

 private:
  std::vector<uint8_t> buffer_;
  std::vector<Splice> splices_;
  size_t spliced_bytes_ = 0;
};

}  // namespace cairn::protocol
