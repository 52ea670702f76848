#include <gtest/gtest.h>

#include <limits>

#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::protocol {
namespace {

TEST(ReaderWriter, PrimitivesRoundTrip) {
  Writer w;
  w.write_int8(-5);
  w.write_int16(-1234);
  w.write_int32(std::numeric_limits<int32_t>::min());
  w.write_int64(0x0102030405060708);
  w.write_float64(3.5);
  w.write_unsigned_varint(300);
  w.write_varint(-77);
  w.write_varlong(std::numeric_limits<int64_t>::max());
  w.write_string("topic");
  w.write_nullable_string(std::nullopt);
  w.write_compact_string("compact");
  w.write_compact_nullable_string(std::nullopt);
  w.write_bytes(std::vector<uint8_t>{1, 2, 3});
  w.write_compact_nullable_bytes(std::vector<uint8_t>{9});
  Frame frame = std::move(w).finish();

  Reader r(frame.bytes);
  EXPECT_EQ(-5, r.read_int8());
  EXPECT_EQ(-1234, r.read_int16());
  EXPECT_EQ(std::numeric_limits<int32_t>::min(), r.read_int32());
  EXPECT_EQ(0x0102030405060708, r.read_int64());
  EXPECT_EQ(3.5, r.read_float64());
  EXPECT_EQ(300u, r.read_unsigned_varint());
  EXPECT_EQ(-77, r.read_varint());
  EXPECT_EQ(std::numeric_limits<int64_t>::max(), r.read_varlong());
  EXPECT_EQ("topic", r.read_string());
  EXPECT_EQ(std::nullopt, r.read_nullable_string());
  EXPECT_EQ("compact", r.read_compact_string());
  EXPECT_EQ(std::nullopt, r.read_compact_nullable_string());
  EXPECT_EQ((std::vector<uint8_t>{1, 2, 3}), r.read_bytes());
  EXPECT_EQ((std::vector<uint8_t>{9}), r.read_compact_nullable_bytes());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(0u, r.remaining());
}

TEST(Reader, ErrorIsStickyAndReadsReturnZero) {
  uint8_t bytes[] = {0x00, 0x01};
  Reader r(bytes);
  EXPECT_EQ(0, r.read_int32());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(0, r.read_int8());
  EXPECT_EQ("", r.read_string());
  EXPECT_FALSE(r.ok());
}

TEST(Reader, HostileStringLengthDoesNotAllocate) {
  uint8_t bytes[] = {0x7f, 0xff, 'a'};
  Reader r(bytes);
  EXPECT_EQ("", r.read_string());
  EXPECT_FALSE(r.ok());
}

TEST(Reader, NegativeLengthsOtherThanNullFail) {
  uint8_t bytes[] = {0xff, 0xfe};
  Reader r(bytes);
  EXPECT_EQ(std::nullopt, r.read_nullable_string());
  EXPECT_FALSE(r.ok());
  uint8_t null_string[] = {0xff, 0xff};
  Reader r2(null_string);
  EXPECT_EQ(std::nullopt, r2.read_nullable_string());
  EXPECT_TRUE(r2.ok());
  Reader r3(null_string);
  r3.read_string();
  EXPECT_FALSE(r3.ok());
}

TEST(Reader, ArrayCountLargerThanBytesLeftFails) {
  uint8_t bytes[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  Reader r(bytes);
  EXPECT_EQ(0, r.read_array_count(4));
  EXPECT_FALSE(r.ok());
  uint8_t two[] = {0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
  Reader r2(two);
  EXPECT_EQ(2, r2.read_array_count(4));
  EXPECT_TRUE(r2.ok());
}

TEST(Reader, TaggedFieldsOutOfOrderFail) {
  Writer w;
  w.write_unsigned_varint(2);
  w.write_unsigned_varint(5);
  w.write_unsigned_varint(1);
  w.write_int8(1);
  w.write_unsigned_varint(3);
  w.write_unsigned_varint(0);
  Frame f = std::move(w).finish();
  Reader r(f.bytes);
  r.skip_tagged_fields();
  EXPECT_FALSE(r.ok());
}

TEST(Writer, SplicedFileRangesCountInSize) {
  Writer w;
  w.write_int32(1);
  w.append_file_range(FileRange{3, 100, 50, nullptr});
  w.write_int32(2);
  EXPECT_EQ(58u, w.size());
  Frame f = std::move(w).finish();
  ASSERT_EQ(1u, f.splices.size());
  EXPECT_EQ(4u, f.splices[0].at);
  EXPECT_EQ(58u, f.size());
}

}  // namespace
}  // namespace cairn::protocol
