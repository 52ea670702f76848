#include "testing/batch_builder.h"

#include "base/assert.h"
#include "base/varint.h"
#include "model/record_batch_view.h"

namespace cairn::testing {

namespace {

void put_varlong(std::vector<uint8_t>& out, int64_t v) {
  uint8_t bytes[varint::kMaxBytes64];
  size_t n = varint::put_unsigned64(bytes, varint::zigzag_encode64(v));
  out.insert(out.end(), bytes, bytes + n);
}

}  // namespace

std::vector<uint8_t> build_batch(const BatchSpec& spec) {
  using namespace model::batch_layout;
  ASSERT(spec.record_count >= 1);
  std::vector<uint8_t> out(kHeaderBytes);
  std::vector<uint8_t> record;
  uint64_t state = spec.seed * 0x9E3779B97F4A7C15ull + 1;
  for (int32_t i = 0; i < spec.record_count; i++) {
    record.clear();
    record.push_back(0);  // attributes
    put_varlong(record, i * spec.timestamp_step_ms);
    put_varlong(record, i);   // offset delta
    put_varlong(record, -1);  // null key
    put_varlong(record, static_cast<int64_t>(spec.value_bytes));
    for (size_t b = 0; b < spec.value_bytes; b++) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      record.push_back(static_cast<uint8_t>(state));
    }
    put_varlong(record, 0);  // headers
    put_varlong(out, static_cast<int64_t>(record.size()));
    out.insert(out.end(), record.begin(), record.end());
  }
  uint8_t* p = out.data();
  model::store_i64(p + kBaseOffset, 0);
  model::store_i32(p + kBatchLength, static_cast<int32_t>(out.size() - kLogOverheadBytes));
  model::store_i32(p + kPartitionLeaderEpoch, 0);
  p[kMagic] = static_cast<uint8_t>(model::kMagicV2);
  model::store_i16(p + kAttributes, static_cast<int16_t>(spec.attributes));
  model::store_i32(p + kLastOffsetDelta, spec.record_count - 1);
  model::store_i64(p + kBaseTimestamp, spec.base_timestamp.value());
  model::store_i64(p + kMaxTimestamp,
                   spec.base_timestamp.value() + (spec.record_count - 1) * spec.timestamp_step_ms);
  model::store_i64(p + kProducerId, spec.producer_id.value());
  model::store_i16(p + kProducerEpoch, spec.producer_epoch.value());
  model::store_i32(p + kBaseSequence, spec.base_sequence.value());
  model::store_i32(p + kRecordsCount, spec.record_count);
  model::update_crc(out);
  return out;
}

std::vector<uint8_t> build_keyed_batch(const std::vector<KeyedRecord>& records,
                                       const BatchSpec& spec) {
  using namespace model::batch_layout;
  ASSERT(!records.empty());
  std::vector<uint8_t> out(kHeaderBytes);
  std::vector<uint8_t> record;
  auto put_field = [&](const std::optional<std::string>& field) {
    if (!field.has_value()) {
      put_varlong(record, -1);
      return;
    }
    put_varlong(record, static_cast<int64_t>(field->size()));
    record.insert(record.end(), field->begin(), field->end());
  };
  int32_t count = static_cast<int32_t>(records.size());
  for (int32_t i = 0; i < count; i++) {
    record.clear();
    record.push_back(0);  // attributes
    put_varlong(record, i * spec.timestamp_step_ms);
    put_varlong(record, i);  // offset delta
    put_field(records[static_cast<size_t>(i)].key);
    put_field(records[static_cast<size_t>(i)].value);
    put_varlong(record, 0);  // headers
    put_varlong(out, static_cast<int64_t>(record.size()));
    out.insert(out.end(), record.begin(), record.end());
  }
  uint8_t* p = out.data();
  model::store_i64(p + kBaseOffset, 0);
  model::store_i32(p + kBatchLength, static_cast<int32_t>(out.size() - kLogOverheadBytes));
  model::store_i32(p + kPartitionLeaderEpoch, 0);
  p[kMagic] = static_cast<uint8_t>(model::kMagicV2);
  model::store_i16(p + kAttributes, static_cast<int16_t>(spec.attributes));
  model::store_i32(p + kLastOffsetDelta, count - 1);
  model::store_i64(p + kBaseTimestamp, spec.base_timestamp.value());
  model::store_i64(p + kMaxTimestamp,
                   spec.base_timestamp.value() + (count - 1) * spec.timestamp_step_ms);
  model::store_i64(p + kProducerId, spec.producer_id.value());
  model::store_i16(p + kProducerEpoch, spec.producer_epoch.value());
  model::store_i32(p + kBaseSequence, spec.base_sequence.value());
  model::store_i32(p + kRecordsCount, count);
  model::update_crc(out);
  return out;
}

std::vector<uint8_t> build_batch_of_size(size_t total_bytes, uint64_t seed, TimestampMs timestamp) {
  // One record's framing costs well under 32 bytes; records of up to 16 KiB keep the count
  // realistic for big batches.
  size_t payload = total_bytes > 128 ? total_bytes - 128 : 1;
  int32_t count = static_cast<int32_t>((payload + 16383) / 16384);
  BatchSpec spec;
  spec.record_count = count;
  spec.value_bytes = payload / static_cast<size_t>(count);
  spec.base_timestamp = timestamp;
  spec.timestamp_step_ms = 0;
  spec.seed = seed;
  return build_batch(spec);
}

}  // namespace cairn::testing
