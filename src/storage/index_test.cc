// Unit tests of the on-disk headers, file names and the in-memory indexes.
#include <gtest/gtest.h>

#include "storage/format.h"
#include "storage/index.h"

namespace cairn::storage {
namespace {

TEST(Format, IndexHeaderRoundTrips) {
  format::IndexHeader header;
  header.kind = format::IndexKind::time;
  header.entry_count = 7;
  header.entries_crc = 0xdeadbeef;
  header.log_bytes = 123456789;
  header.next_offset = Offset(42);
  header.max_timestamp = TimestampMs(1700000000123);
  uint8_t bytes[format::kIndexHeaderBytes];
  format::encode_index_header(header, bytes);
  auto decoded = format::decode_index_header(bytes, format::IndexKind::time);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->entry_count, 7u);
  EXPECT_EQ(decoded->entries_crc, 0xdeadbeef);
  EXPECT_EQ(decoded->log_bytes, 123456789u);
  EXPECT_EQ(decoded->next_offset, Offset(42));
  EXPECT_EQ(decoded->max_timestamp, TimestampMs(1700000000123));
}

TEST(Format, IndexHeaderWithAFlippedBitIsRejected) {
  format::IndexHeader header;
  uint8_t bytes[format::kIndexHeaderBytes];
  for (size_t i = 0; i < format::kIndexHeaderCrcPosition + 4; i++) {
    format::encode_index_header(header, bytes);
    bytes[i] ^= 0x10;
    EXPECT_FALSE(format::decode_index_header(bytes, format::IndexKind::offset).ok()) << i;
  }
  format::encode_index_header(header, bytes);
  EXPECT_FALSE(format::decode_index_header(bytes, format::IndexKind::time).ok());
  uint8_t zeros[format::kIndexHeaderBytes] = {};
  EXPECT_FALSE(format::decode_index_header(zeros, format::IndexKind::offset).ok());
}

TEST(Format, SmallRecordRoundTripsAndChecksItsCrc) {
  uint8_t bytes[format::kSmallRecordBytes];
  format::encode_small_record(format::kMetaMagic, 99, bytes);
  auto value = format::decode_small_record(format::kMetaMagic, bytes);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 99);
  EXPECT_FALSE(format::decode_small_record(format::kCleanMarkerMagic, bytes).ok());
  bytes[10] ^= 1;
  EXPECT_FALSE(format::decode_small_record(format::kMetaMagic, bytes).ok());
}

TEST(Format, SegmentFileNames) {
  EXPECT_EQ(format::segment_file_name(Offset(42), ".log"), "00000000000000000042.log");
  EXPECT_EQ(format::parse_segment_file_name("00000000000000000042.log", ".log"), Offset(42));
  EXPECT_FALSE(format::parse_segment_file_name("00000000000000000042.index", ".log"));
  EXPECT_FALSE(format::parse_segment_file_name("0000000000000000004x.log", ".log"));
  EXPECT_FALSE(format::parse_segment_file_name("42.log", ".log"));
}

TEST(OffsetIndex, LookupFindsTheLastEntryAtOrBefore) {
  OffsetIndex index;
  EXPECT_EQ(index.lookup(5), 0u);
  index.append({10, 1000});
  index.append({20, 2000});
  EXPECT_EQ(index.lookup(0), 0u);
  EXPECT_EQ(index.lookup(9), 0u);
  EXPECT_EQ(index.lookup(10), 1000u);
  EXPECT_EQ(index.lookup(19), 1000u);
  EXPECT_EQ(index.lookup(25), 2000u);
}

TEST(OffsetIndex, DecodeRejectsEntriesThatDoNotGrow) {
  uint8_t bytes[16];
  OffsetIndex::encode({10, 1000}, bytes);
  OffsetIndex::encode({10, 2000}, std::span(bytes + 8, 8));
  EXPECT_FALSE(OffsetIndex::decode(bytes, 2).ok());
  OffsetIndex::encode({11, 2000}, std::span(bytes + 8, 8));
  auto decoded = OffsetIndex::decode(bytes, 2);
  ASSERT_TRUE(decoded.ok());
  OffsetIndex built;
  built.append({10, 1000});
  built.append({11, 2000});
  EXPECT_EQ(decoded->crc(), built.crc());
}

TEST(TimeIndex, LookupStartsAfterEntriesOlderThanTheTarget) {
  TimeIndex index;
  index.append({TimestampMs(100), 5});
  index.append({TimestampMs(200), 9});
  EXPECT_EQ(index.lookup(TimestampMs(50)), 0u);
  EXPECT_EQ(index.lookup(TimestampMs(100)), 0u);  // entry says "<= 100": may match
  EXPECT_EQ(index.lookup(TimestampMs(101)), 5u);
  EXPECT_EQ(index.lookup(TimestampMs(201)), 9u);
}

}  // namespace
}  // namespace cairn::storage
