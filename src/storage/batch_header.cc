#include "storage/batch_header.h"

#include <string>

namespace cairn::storage {

Result<BatchHeader> decode_batch_header(std::span<const uint8_t> bytes, uint64_t position) {
  using namespace model::batch_layout;
  using model::load_i16;
  using model::load_i32;
  using model::load_i64;
  if (bytes.size() < kHeaderBytes) return error(StatusCode::corrupt, "short batch header");
  const uint8_t* p = bytes.data();
  if (static_cast<int8_t>(p[kMagic]) != model::kMagicV2) {
    return error(StatusCode::corrupt, "batch magic at " + std::to_string(position));
  }
  BatchHeader h;
  h.position = position;
  h.base_offset = Offset(load_i64(p + kBaseOffset));
  h.batch_length = load_i32(p + kBatchLength);
  if (h.batch_length < static_cast<int32_t>(kHeaderBytes - kLogOverheadBytes)) {
    return error(StatusCode::corrupt, "batch length at " + std::to_string(position));
  }
  h.partition_leader_epoch = load_i32(p + kPartitionLeaderEpoch);
  h.attributes = static_cast<uint16_t>(load_i16(p + kAttributes));
  h.last_offset_delta = load_i32(p + kLastOffsetDelta);
  if (h.last_offset_delta < 0 || h.base_offset.value() < 0) {
    return error(StatusCode::corrupt, "batch offsets at " + std::to_string(position));
  }
  h.base_timestamp = TimestampMs(load_i64(p + kBaseTimestamp));
  h.max_timestamp = TimestampMs(load_i64(p + kMaxTimestamp));
  h.producer_id = ProducerId(load_i64(p + kProducerId));
  h.producer_epoch = ProducerEpoch(load_i16(p + kProducerEpoch));
  h.base_sequence = Sequence(load_i32(p + kBaseSequence));
  h.records_count = load_i32(p + kRecordsCount);
  return h;
}

}  // namespace cairn::storage
