#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace cairn {
namespace {

// Test vectors from RFC 3720 (iSCSI), appendix B.4, and the common "123456789" check value.
TEST(Crc32c, PublishedVectors) {
  uint8_t buf[32];
  std::memset(buf, 0, sizeof(buf));
  EXPECT_EQ(0x8a9136aau, crc32c::value(buf, sizeof(buf)));
  std::memset(buf, 0xff, sizeof(buf));
  EXPECT_EQ(0x62a8ab43u, crc32c::value(buf, sizeof(buf)));
  for (int i = 0; i < 32; i++) buf[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(0x46dd794eu, crc32c::value(buf, sizeof(buf)));
  for (int i = 0; i < 32; i++) buf[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(0x113fdb5cu, crc32c::value(buf, sizeof(buf)));
  const char* check = "123456789";
  EXPECT_EQ(0xe3069283u, crc32c::value(check, 9));
  EXPECT_EQ(0u, crc32c::value(check, 0));
}

TEST(Crc32c, HardwareAndPortableAgreeAtEveryAlignmentAndLength) {
  std::mt19937 rng(42);
  std::vector<uint8_t> data(4096 + 16);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 9; offset++) {
    for (size_t size : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4096u}) {
      EXPECT_EQ(crc32c::extend_portable(0, data.data() + offset, size),
                crc32c::extend(0, data.data() + offset, size));
    }
  }
}

TEST(Crc32c, ExtendEqualsWholeValue) {
  std::string text = "the quick brown fox jumps over the lazy dog";
  uint32_t whole = crc32c::value(text.data(), text.size());
  for (size_t split = 0; split <= text.size(); split++) {
    uint32_t part = crc32c::extend(0, text.data(), split);
    EXPECT_EQ(whole, crc32c::extend(part, text.data() + split, text.size() - split));
  }
}

TEST(Crc32c, FlippedBitChangesValue) {
  std::vector<uint8_t> data(100, 7);
  uint32_t before = crc32c::value(data.data(), data.size());
  for (size_t bit = 0; bit < data.size() * 8; bit += 13) {
    data[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
    EXPECT_NE(before, crc32c::value(data.data(), data.size()));
    data[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
  }
}

}  // namespace
}  // namespace cairn
