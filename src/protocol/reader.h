// Reader: a bounded, sticky-error decoder over one Kafka frame.
//
// Every length and count read off the wire is checked against the bytes left (and, for arrays,
// against `min_element_bytes * count`) before anything is allocated, so a hostile frame can
// never make the broker allocate more than the frame's own size. The first failure is sticky:
// later reads return zero values and `ok()` stays false, so decoders read straight through
// and check once at the end. Views (`read_bytes_view`) point into the frame: the frame must
// outlive them. One Reader per decode; not shared between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::protocol {

using Uuid = std::array<uint8_t, 16>;

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data)
      : p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return error_ == nullptr; }
  // A static string describing the first failure, or nullptr.
  const char* error() const { return error_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }
  void fail(const char* why) {
    if (error_ == nullptr) error_ = why;
    p_ = end_;
  }

  int8_t read_int8();
  int16_t read_int16();
  uint16_t read_uint16();
  int32_t read_int32();
  uint32_t read_uint32();
  int64_t read_int64();
  double read_float64();
  bool read_bool() { return read_int8() != 0; }
  Uuid read_uuid();
  uint32_t read_unsigned_varint();
  int32_t read_varint();
  int64_t read_varlong();

  // Classic (int16 length) and compact (unsigned varint length + 1) strings. A null where
  // the non-nullable form is read is a decode error.
  std::string read_string();
  std::optional<std::string> read_nullable_string();
  std::string read_compact_string();
  std::optional<std::string> read_compact_nullable_string();

  // Classic (int32 length) and compact bytes, copied.
  std::vector<uint8_t> read_bytes();
  std::optional<std::vector<uint8_t>> read_nullable_bytes();
  std::vector<uint8_t> read_compact_bytes();
  std::optional<std::vector<uint8_t>> read_compact_nullable_bytes();

  // Nullable bytes as a view into the frame (records). nullopt is null or failure.
  std::optional<std::span<const uint8_t>> read_nullable_bytes_view(bool compact);
  std::span<const uint8_t> read_raw_view(size_t size);

  // Array counts: -1 means null. A count whose elements could not fit in the bytes left
  // (each element needs at least `min_element_bytes`) fails the reader and returns 0.
  int32_t read_array_count(size_t min_element_bytes);
  int32_t read_compact_array_count(size_t min_element_bytes);

  void skip(size_t size);

  // Skips a tagged-field section, handing each (tag, value view) to `on_field` if given.
  // Tags must be strictly increasing (as Kafka requires).
  template <typename F>
  void read_tagged_fields(F&& on_field) {
    uint32_t count = read_unsigned_varint();
    if (count > remaining()) {
      fail("tagged field count exceeds frame");
      return;
    }
    int64_t last_tag = -1;
    for (uint32_t i = 0; i < count && ok(); i++) {
      uint32_t tag = read_unsigned_varint();
      uint32_t size = read_unsigned_varint();
      if (!ok()) return;
      if (static_cast<int64_t>(tag) <= last_tag) {
        fail("tagged fields out of order");
        return;
      }
      last_tag = tag;
      std::span<const uint8_t> value = read_raw_view(size);
      if (!ok()) return;
      on_field(tag, value);
    }
  }
  void skip_tagged_fields() {
    read_tagged_fields([](uint32_t, std::span<const uint8_t>) {});
  }

 private:
  bool need(size_t size) {
    if (remaining() < size) {
      fail("truncated");
      return false;
    }
    return true;
  }
  std::optional<std::string> read_string_of_length(int64_t length, bool nullable);

  const uint8_t* p_;
  const uint8_t* end_;
  const char* error_ = nullptr;
};

}  // namespace cairn::protocol
