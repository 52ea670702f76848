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

// Lengths that cross the three-way rounds (768 and 12,288 bytes) and their remainders, from
// every alignment, with a nonzero starting CRC.
TEST(Crc32c, ThreeWayRoundsAgreeWithPortable) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(3 * 12288 + 100);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  std::uniform_int_distribution<size_t> length(0, data.size() - 8);
  std::vector<size_t> sizes = {767, 768, 769, 1536, 12287, 12288, 12289, 12288 + 768, 3 * 12288};
  for (int i = 0; i < 200; i++) sizes.push_back(length(rng));
  for (size_t size : sizes) {
    size_t offset = size % 8;
    uint32_t start = static_cast<uint32_t>(rng());
    ASSERT_EQ(crc32c::extend_portable(start, data.data() + offset, size),
              crc32c::extend(start, data.data() + offset, size))
        << "size " << size;
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
