#include "model/record_batch_view.h"

#include <string>

#include "base/assert.h"
#include "base/crc32c.h"

namespace cairn::model {

using namespace batch_layout;

int64_t load_i64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}
int32_t load_i32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = (v << 8) | p[i];
  return static_cast<int32_t>(v);
}
int16_t load_i16(const uint8_t* p) {
  return static_cast<int16_t>(static_cast<uint16_t>((p[0] << 8) | p[1]));
}
void store_i64(uint8_t* p, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; i--) {
    p[i] = static_cast<uint8_t>(u);
    u >>= 8;
  }
}
void store_i32(uint8_t* p, int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  for (int i = 3; i >= 0; i--) {
    p[i] = static_cast<uint8_t>(u);
    u >>= 8;
  }
}
void store_i16(uint8_t* p, int16_t v) {
  uint16_t u = static_cast<uint16_t>(v);
  p[0] = static_cast<uint8_t>(u >> 8);
  p[1] = static_cast<uint8_t>(u);
}

Result<RecordBatchView> RecordBatchView::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes) {
    return error(StatusCode::corrupt, "record batch shorter than its header");
  }
  int8_t magic = static_cast<int8_t>(bytes[kMagic]);
  if (magic != kMagicV2) {
    return error(StatusCode::corrupt, "record batch magic " + std::to_string(magic));
  }
  int32_t batch_length = load_i32(bytes.data() + kBatchLength);
  if (batch_length < static_cast<int32_t>(kHeaderBytes - kLogOverheadBytes)) {
    return error(StatusCode::corrupt, "record batch length " + std::to_string(batch_length));
  }
  size_t total = kLogOverheadBytes + static_cast<size_t>(batch_length);
  if (total > bytes.size()) {
    return error(StatusCode::corrupt, "record batch length past the end of the data");
  }
  return RecordBatchView(bytes.first(total));
}

Offset RecordBatchView::base_offset() const { return Offset(load_i64(&bytes_[kBaseOffset])); }
int32_t RecordBatchView::batch_length() const { return load_i32(&bytes_[kBatchLength]); }
int32_t RecordBatchView::partition_leader_epoch() const {
  return load_i32(&bytes_[kPartitionLeaderEpoch]);
}
int8_t RecordBatchView::magic() const { return static_cast<int8_t>(bytes_[kMagic]); }
uint32_t RecordBatchView::crc() const { return static_cast<uint32_t>(load_i32(&bytes_[kCrc])); }
uint16_t RecordBatchView::attributes() const {
  return static_cast<uint16_t>(load_i16(&bytes_[kAttributes]));
}
int32_t RecordBatchView::last_offset_delta() const {
  return load_i32(&bytes_[kLastOffsetDelta]);
}
TimestampMs RecordBatchView::base_timestamp() const {
  return TimestampMs(load_i64(&bytes_[kBaseTimestamp]));
}
TimestampMs RecordBatchView::max_timestamp() const {
  return TimestampMs(load_i64(&bytes_[kMaxTimestamp]));
}
ProducerId RecordBatchView::producer_id() const {
  return ProducerId(load_i64(&bytes_[kProducerId]));
}
ProducerEpoch RecordBatchView::producer_epoch() const {
  return ProducerEpoch(load_i16(&bytes_[kProducerEpoch]));
}
Sequence RecordBatchView::base_sequence() const {
  return Sequence(load_i32(&bytes_[kBaseSequence]));
}
int32_t RecordBatchView::records_count() const { return load_i32(&bytes_[kRecordsCount]); }

uint32_t RecordBatchView::compute_crc() const {
  return crc32c::value(bytes_.data() + kAttributes, bytes_.size() - kAttributes);
}

bool RecordBatchView::crc_ok() const { return compute_crc() == crc(); }

void set_base_offset(std::span<uint8_t> batch, Offset offset) {
  ASSERT(batch.size() >= kHeaderBytes);
  store_i64(batch.data() + kBaseOffset, offset.value());
}
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  ASSERT(batch.size() >= kHeaderBytes);
  store_i32(batch.data() + kPartitionLeaderEpoch, epoch);
}
void set_max_timestamp(std::span<uint8_t> batch, TimestampMs timestamp) {
  ASSERT(batch.size() >= kHeaderBytes);
  store_i64(batch.data() + kMaxTimestamp, timestamp.value());
}
void set_attributes(std::span<uint8_t> batch, uint16_t attributes) {
  ASSERT(batch.size() >= kHeaderBytes);
  store_i16(batch.data() + kAttributes, static_cast<int16_t>(attributes));
}
void update_crc(std::span<uint8_t> batch) {
  ASSERT(batch.size() >= kHeaderBytes);
  uint32_t crc = crc32c::value(batch.data() + kAttributes, batch.size() - kAttributes);
  store_i32(batch.data() + kCrc, static_cast<int32_t>(crc));
}

}  // namespace cairn::model
