#include "base/varint.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace cairn {
namespace {

TEST(Varint, ZigzagKnownValues) {
  EXPECT_EQ(0u, varint::zigzag_encode32(0));
  EXPECT_EQ(1u, varint::zigzag_encode32(-1));
  EXPECT_EQ(2u, varint::zigzag_encode32(1));
  EXPECT_EQ(3u, varint::zigzag_encode32(-2));
  EXPECT_EQ(0xfffffffeu, varint::zigzag_encode32(std::numeric_limits<int32_t>::max()));
  EXPECT_EQ(0xffffffffu, varint::zigzag_encode32(std::numeric_limits<int32_t>::min()));
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(v, varint::zigzag_decode64(varint::zigzag_encode64(v)));
  }
}

TEST(Varint, UnsignedRoundTrip) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 16383ull, 16384ull, 0xffffffffull,
                     0xffffffffffffffffull}) {
    uint8_t buf[varint::kMaxBytes64];
    size_t n = varint::put_unsigned64(buf, v);
    EXPECT_EQ(n, varint::size_unsigned64(v));
    const uint8_t* p = buf;
    auto got = varint::get_unsigned(&p, buf + n, varint::kMaxBytes64);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(v, *got);
    EXPECT_EQ(buf + n, p);
  }
}

TEST(Varint, TruncatedInputIsRejectedWithoutMoving) {
  uint8_t buf[] = {0x80, 0x80};
  const uint8_t* p = buf;
  EXPECT_FALSE(varint::get_unsigned(&p, buf + 2, varint::kMaxBytes64).has_value());
  EXPECT_EQ(buf, p);
}

TEST(Varint, OverlongEncodingIsRejected) {
  std::vector<uint8_t> six(6, 0x80);
  six.back() = 0x01;
  const uint8_t* p = six.data();
  EXPECT_FALSE(varint::get_unsigned32(&p, six.data() + six.size()).has_value());
  uint8_t too_big[] = {0xff, 0xff, 0xff, 0xff, 0x7f};  // 35 bits: over uint32
  p = too_big;
  EXPECT_FALSE(varint::get_unsigned32(&p, too_big + 5).has_value());
}

}  // namespace
}  // namespace cairn
