#include "protocol/sample_support.h"

#include <array>

namespace cairn::protocol::testing {
namespace {

constexpr std::array<uint8_t, 64> make_record_bytes() {
  std::array<uint8_t, 64> bytes{};
  for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(0xa0 + i);
  return bytes;
}

constexpr std::array<uint8_t, 64> kRecordBytes = make_record_bytes();

}  // namespace

Uuid SampleContext::next_uuid() {
  Uuid id{};
  uint32_t n = next();
  for (size_t i = 0; i < id.size(); i++) id[i] = static_cast<uint8_t>(n + i);
  return id;
}

std::vector<uint8_t> SampleContext::next_bytes() {
  uint32_t n = next();
  return std::vector<uint8_t>{1, 2, 3, static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8)};
}

Records SampleContext::next_records() {
  size_t size = 8 + next() % 48;
  return Records::of(std::span<const uint8_t>(kRecordBytes.data(), size));
}

}  // namespace cairn::protocol::testing
