// RecordBatchView over hand-laid header bytes (docs/format/record-batch.md): every field reads
// back from its documented position, parse() refuses short, non-v2 and overlong batches, the
// CRC covers [attributes, end) so stamping the base offset and leader epoch keeps it valid
// while changing attributes needs update_crc, and last_offset wraps instead of overflowing.
#include "model/record_batch_view.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace cairn::model {
namespace {

using namespace batch_layout;

// A v2 header with `records_bytes` of payload after it (content arbitrary: the view does not
// decode records), CRC set.
std::vector<uint8_t> make_batch(size_t records_bytes) {
  std::vector<uint8_t> b(kHeaderBytes + records_bytes, 0xab);
  store_i64(&b[kBaseOffset], 1000);
  store_i32(&b[kBatchLength], static_cast<int32_t>(b.size() - kLogOverheadBytes));
  store_i32(&b[kPartitionLeaderEpoch], 7);
  b[kMagic] = static_cast<uint8_t>(kMagicV2);
  store_i16(&b[kAttributes], static_cast<int16_t>(static_cast<uint16_t>(Compression::lz4) |
                                                  batch_attributes::kTransactional));
  store_i32(&b[kLastOffsetDelta], 4);
  store_i64(&b[kBaseTimestamp], 1'700'000'000'000);
  store_i64(&b[kMaxTimestamp], 1'700'000'000'500);
  store_i64(&b[kProducerId], 42);
  store_i16(&b[kProducerEpoch], 3);
  store_i32(&b[kBaseSequence], 17);
  store_i32(&b[kRecordsCount], 5);
  update_crc(b);
  return b;
}

TEST(RecordBatchView, FieldsReadFromTheirDocumentedPositions) {
  std::vector<uint8_t> bytes = make_batch(20);
  bytes.push_back(0x99);  // bytes after the batch are not part of it
  Result<RecordBatchView> view = RecordBatchView::parse(bytes);
  ASSERT_TRUE(view.ok()) << view.status().to_string();
  EXPECT_EQ(view->size_bytes(), kHeaderBytes + 20);
  EXPECT_EQ(view->base_offset(), Offset(1000));
  EXPECT_EQ(view->batch_length(), static_cast<int32_t>(kHeaderBytes + 20 - kLogOverheadBytes));
  EXPECT_EQ(view->partition_leader_epoch(), 7);
  EXPECT_EQ(view->magic(), kMagicV2);
  EXPECT_EQ(view->compression(), Compression::lz4);
  EXPECT_TRUE(view->is_transactional());
  EXPECT_FALSE(view->is_control());
  EXPECT_FALSE(view->log_append_time());
  EXPECT_EQ(view->last_offset_delta(), 4);
  EXPECT_EQ(view->last_offset(), Offset(1004));
  EXPECT_EQ(view->base_timestamp(), TimestampMs(1'700'000'000'000));
  EXPECT_EQ(view->max_timestamp(), TimestampMs(1'700'000'000'500));
  EXPECT_EQ(view->producer_id(), ProducerId(42));
  EXPECT_EQ(view->producer_epoch(), ProducerEpoch(3));
  EXPECT_EQ(view->base_sequence(), Sequence(17));
  EXPECT_EQ(view->records_count(), 5);
  EXPECT_EQ(view->records_bytes().size(), 20u);
  EXPECT_TRUE(view->crc_ok());
}

TEST(RecordBatchView, ParseRefusesWhatIsNotAWholeV2Batch) {
  std::vector<uint8_t> bytes = make_batch(8);
  EXPECT_FALSE(RecordBatchView::parse(std::span(bytes).first(kHeaderBytes - 1)).ok());
  EXPECT_FALSE(RecordBatchView::parse(std::span(bytes).first(bytes.size() - 1)).ok())
      << "batchLength beyond the bytes";
  std::vector<uint8_t> magic1 = bytes;
  magic1[kMagic] = 1;
  EXPECT_FALSE(RecordBatchView::parse(magic1).ok());
  std::vector<uint8_t> negative = bytes;
  store_i32(&negative[kBatchLength], -5);
  EXPECT_FALSE(RecordBatchView::parse(negative).ok());
  std::vector<uint8_t> huge = bytes;
  store_i32(&huge[kBatchLength], std::numeric_limits<int32_t>::max());
  EXPECT_FALSE(RecordBatchView::parse(huge).ok());
}

TEST(RecordBatchView, CrcCoversAttributesToTheEndOnly) {
  std::vector<uint8_t> bytes = make_batch(16);
  set_base_offset(bytes, Offset(77));
  set_partition_leader_epoch(bytes, 9);
  Result<RecordBatchView> stamped = RecordBatchView::parse(bytes);
  ASSERT_TRUE(stamped.ok());
  EXPECT_EQ(stamped->base_offset(), Offset(77));
  EXPECT_EQ(stamped->partition_leader_epoch(), 9);
  EXPECT_TRUE(stamped->crc_ok()) << "base offset and leader epoch lie before the CRC'd range";

  set_attributes(bytes, batch_attributes::kTimestampTypeLogAppend);
  set_max_timestamp(bytes, TimestampMs(5));
  EXPECT_FALSE(RecordBatchView::parse(bytes)->crc_ok());
  update_crc(bytes);
  Result<RecordBatchView> updated = RecordBatchView::parse(bytes);
  EXPECT_TRUE(updated->crc_ok());
  EXPECT_TRUE(updated->log_append_time());
  EXPECT_EQ(updated->max_timestamp(), TimestampMs(5));

  bytes.back() ^= 0x01;  // one flipped bit in the records
  EXPECT_FALSE(RecordBatchView::parse(bytes)->crc_ok());
}

TEST(RecordBatchView, LastOffsetWrapsInsteadOfOverflowing) {
  std::vector<uint8_t> bytes = make_batch(0);
  store_i64(&bytes[kBaseOffset], std::numeric_limits<int64_t>::max());
  store_i32(&bytes[kLastOffsetDelta], 2);
  Result<RecordBatchView> view = RecordBatchView::parse(bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->last_offset(), Offset(std::numeric_limits<int64_t>::min() + 1));
}

TEST(RecordBatchView, BigEndianLoadsAndStoresRoundTrip) {
  uint8_t buffer[8];
  store_i64(buffer, -2);
  EXPECT_EQ(buffer[0], 0xff);
  EXPECT_EQ(buffer[7], 0xfe);
  EXPECT_EQ(load_i64(buffer), -2);
  store_i32(buffer, 0x01020304);
  EXPECT_EQ(buffer[0], 0x01);
  EXPECT_EQ(load_i32(buffer), 0x01020304);
  store_i16(buffer, -300);
  EXPECT_EQ(load_i16(buffer), -300);
}

}  // namespace
}  // namespace cairn::model
