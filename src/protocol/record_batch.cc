#include "protocol/record_batch.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "base/assert.h"
#include "base/varint.h"
#include "protocol/compression.h"

namespace cairn::protocol {

namespace layout = model::batch_layout;
namespace attrs = model::batch_attributes;
using model::Compression;
using model::RecordBatchView;

namespace {

// The smallest record body: attributes, timestampDelta, offsetDelta, keyLength,
// valueLength and headersCount, one byte each.
constexpr int32_t kRecordBodyBytesMin = 6;
// Each header needs at least its key length and value length varints.
constexpr size_t kHeaderBytesMin = 2;
// Codec values 0..4 are defined; the attribute field has room for 0..7.
constexpr uint16_t kCodecMax = static_cast<uint16_t>(Compression::zstd);
// Control record key: version i16, type i16. EndTransactionMarker value: version i16,
// coordinatorEpoch i32.
constexpr size_t kControlKeyBytes = 4;
constexpr size_t kControlValueBytes = 6;
constexpr int16_t kProduceVersionZstdMin = 7;

// Wrapping additions: hostile headers may put offsets and timestamps next to the int64
// limits, and signed overflow is undefined behaviour.
int64_t add_wrapping(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

BatchCheck fault(BatchFault kind, StatusCode code, std::string why) {
  BatchCheck check;
  check.fault = kind;
  check.status = error(code, std::move(why));
  return check;
}

BatchCheck invalid(std::string why) {
  return fault(BatchFault::invalid_record, StatusCode::invalid_argument, std::move(why));
}

BatchCheck corrupt(std::string why) {
  return fault(BatchFault::corrupt_message, StatusCode::corrupt, std::move(why));
}

// Reads a zigzag varint length field (keys, values, header parts): -1 is null, anything below
// is malformed, and a non-null length must fit in what is left of the record.
bool read_length(const uint8_t** p, const uint8_t* end, bool nullable,
                 std::optional<BytesView>* out) {
  auto length = varint::get_signed32(p, end);
  if (!length) return false;
  if (*length == -1 && nullable) {
    *out = std::nullopt;
    return true;
  }
  if (*length < 0) return false;
  if (static_cast<size_t>(*length) > static_cast<size_t>(end - *p)) return false;
  *out = BytesView(*p, static_cast<size_t>(*length));
  *p += *length;
  return true;
}

}  // namespace

const char* batch_fault_name(BatchFault kind) {
  switch (kind) {
    case BatchFault::none:
      return "none";
    case BatchFault::corrupt_message:
      return "corrupt_message";
    case BatchFault::invalid_record:
      return "invalid_record";
    case BatchFault::unsupported_compression_type:
      return "unsupported_compression_type";
  }
  return "unknown";
}

// ---- records ---------------------------------------------------------------------------------

RecordHeader RecordHeaders::Iterator::operator*() const {
  const uint8_t* p = at_;
  std::optional<BytesView> key;
  std::optional<BytesView> value;
  // The record reader validated these bytes; failing here is a bug.
  bool key_ok = read_length(&p, end_, false, &key);
  ASSERT(key_ok);
  bool value_ok = read_length(&p, end_, true, &value);
  ASSERT(value_ok);
  ASSERT(key.has_value());
  return RecordHeader{std::string_view(reinterpret_cast<const char*>(key->data()), key->size()),
                      value};
}

RecordHeaders::Iterator& RecordHeaders::Iterator::operator++() {
  std::optional<BytesView> part;
  bool key_ok = read_length(&at_, end_, false, &part);
  ASSERT(key_ok);
  bool value_ok = read_length(&at_, end_, true, &part);
  ASSERT(value_ok);
  index_++;
  return *this;
}

RecordContext RecordContext::of(RecordBatchView batch) {
  RecordContext context;
  context.base_offset = batch.base_offset();
  context.base_timestamp = batch.base_timestamp();
  context.max_timestamp = batch.max_timestamp();
  context.log_append_time = batch.log_append_time();
  context.records_count = batch.records_count();
  return context;
}

RecordReader::RecordReader(BytesView records, const RecordContext& context)
    : at_(records.data()), end_(records.data() + records.size()), context_(context) {
  if (context_.records_count < 0) fail("negative records count");
}

bool RecordReader::fail(const char* why) {
  if (status_.ok()) {
    status_ = error(StatusCode::invalid_argument,
                    "record " + std::to_string(read_) + ": " + std::string(why));
  }
  at_ = end_;
  return false;
}

bool RecordReader::next(Record* record) {
  if (!status_.ok()) return false;
  if (read_ == context_.records_count) {
    if (at_ != end_) return fail("bytes left after the last record the header counts");
    return false;
  }
  const uint8_t* start = at_;
  auto length = varint::get_signed32(&at_, end_);
  if (!length) return fail("bad record length varint");
  if (*length < kRecordBodyBytesMin) return fail("record length below the minimum");
  if (static_cast<size_t>(*length) > static_cast<size_t>(end_ - at_)) {
    return fail("record length past the end of the batch");
  }
  const uint8_t* body_end = at_ + *length;
  const uint8_t* p = at_;
  record->attributes = static_cast<int8_t>(*p++);
  auto timestamp_delta = varint::get_signed64(&p, body_end);
  if (!timestamp_delta) return fail("bad timestamp delta");
  auto offset_delta = varint::get_signed32(&p, body_end);
  if (!offset_delta) return fail("bad offset delta");
  if (!read_length(&p, body_end, true, &record->key)) return fail("bad key length");
  if (!read_length(&p, body_end, true, &record->value)) return fail("bad value length");
  auto headers_count = varint::get_signed32(&p, body_end);
  if (!headers_count || *headers_count < 0) return fail("bad header count");
  if (static_cast<size_t>(*headers_count) > static_cast<size_t>(body_end - p) / kHeaderBytesMin) {
    return fail("header count past the end of the record");
  }
  const uint8_t* headers_start = p;
  for (int32_t i = 0; i < *headers_count; i++) {
    std::optional<BytesView> part;
    if (!read_length(&p, body_end, false, &part)) return fail("bad header key length");
    if (!read_length(&p, body_end, true, &part)) return fail("bad header value length");
  }
  if (p != body_end) return fail("record length does not match its fields");
  record->headers = RecordHeaders(BytesView(headers_start, static_cast<size_t>(p - headers_start)),
                                  *headers_count);
  record->offset_delta = *offset_delta;
  record->timestamp_delta = *timestamp_delta;
  record->offset = Offset(add_wrapping(context_.base_offset.value(), *offset_delta));
  record->timestamp =
      context_.log_append_time
          ? context_.max_timestamp
          : TimestampMs(add_wrapping(context_.base_timestamp.value(), *timestamp_delta));
  record->size_bytes = static_cast<size_t>(body_end - start);
  at_ = body_end;
  read_++;
  return true;
}

Result<BatchRecords> BatchRecords::open(RecordBatchView batch, size_t decompressed_bytes_max) {
  BatchRecords records(batch);
  uint16_t codec = batch.attributes() & attrs::kCompressionMask;
  if (codec > kCodecMax) {
    return error(StatusCode::unsupported, "compression codec " + std::to_string(codec));
  }
  if (batch.compression() == Compression::none) return records;
  auto decompressed =
      compression::decompress(batch.compression(), batch.records_bytes(), decompressed_bytes_max);
  if (!decompressed.ok()) return decompressed.status();
  records.compressed_ = true;
  records.decompressed_ = std::move(decompressed).value();
  return records;
}

BytesView BatchRecords::records_bytes() const {
  if (compressed_) return BytesView(decompressed_);
  return batch_.records_bytes();
}

// ---- validation ------------------------------------------------------------------------------

namespace {

// Header-only rules (no record bytes read).
BatchCheck check_header(RecordBatchView batch, const ValidateOptions& options) {
  int32_t count = batch.records_count();
  int32_t last_delta = batch.last_offset_delta();
  if (count < 0) return invalid("negative records count " + std::to_string(count));
  if (last_delta < 0) return invalid("negative lastOffsetDelta " + std::to_string(last_delta));
  if (options.origin == BatchOrigin::client) {
    if (count == 0) return invalid("a producer batch with no records");
    if (static_cast<int64_t>(last_delta) + 1 != count) {
      return invalid("lastOffsetDelta " + std::to_string(last_delta) +
                     " does not match records count " + std::to_string(count));
    }
    if (batch.is_control()) return invalid("clients may not write control batches");
    if (batch.producer_id().value() >= 0 && batch.base_sequence().value() < 0) {
      return invalid("producer id " + std::to_string(batch.producer_id().value()) +
                     " with base sequence " + std::to_string(batch.base_sequence().value()));
    }
  } else if (count > static_cast<int64_t>(last_delta) + 1) {
    return invalid("records count " + std::to_string(count) + " exceeds lastOffsetDelta + 1");
  }
  // Every record takes at least its length varint plus a minimal body, so a count that
  // cannot fit is wrong before any record is read (only meaningful uncompressed).
  if (batch.compression() == Compression::none &&
      static_cast<size_t>(count) > batch.records_bytes().size() / (1 + kRecordBodyBytesMin)) {
    return invalid("records count " + std::to_string(count) + " cannot fit in the batch");
  }
  return BatchCheck{};
}

// Decodes every record, checking offset deltas per origin and, for control batches, the key.
BatchCheck check_records(RecordBatchView batch, BytesView records_bytes,
                         const ValidateOptions& options) {
  RecordReader reader(records_bytes, RecordContext::of(batch));
  Record record;
  int64_t previous_delta = -1;
  int64_t max_timestamp = -1;
  int64_t min_timestamp = std::numeric_limits<int64_t>::max();
  bool all_keyed = true;
  while (reader.next(&record)) {
    int64_t expected = reader.records_read() - 1;
    if (options.origin == BatchOrigin::client && record.offset_delta != expected) {
      return invalid("record " + std::to_string(expected) + " has offset delta " +
                     std::to_string(record.offset_delta));
    }
    if (record.offset_delta <= previous_delta || record.offset_delta > batch.last_offset_delta()) {
      return invalid("record " + std::to_string(expected) + " has offset delta " +
                     std::to_string(record.offset_delta) + " out of order");
    }
    previous_delta = record.offset_delta;
    max_timestamp = std::max(max_timestamp, record.timestamp.value());
    // -1 is NO_TIMESTAMP (records converted from magic 0): not a time to check.
    if (record.timestamp.value() != -1) {
      min_timestamp = std::min(min_timestamp, record.timestamp.value());
    }
    all_keyed = all_keyed && record.key.has_value();
    if (batch.is_control()) {
      auto control = decode_control_record(record);
      if (!control.ok()) return invalid(control.status().message());
    }
  }
  if (!reader.status().ok()) return invalid(reader.status().message());
  ASSERT(reader.records_read() == batch.records_count());
  if (batch.is_control() && batch.records_count() != 1) {
    return invalid("a control batch must hold exactly one record");
  }
  BatchCheck check;
  check.records_checked = true;
  check.max_record_timestamp = TimestampMs(max_timestamp);
  bool any_timestamp = min_timestamp != std::numeric_limits<int64_t>::max();
  check.min_record_timestamp = TimestampMs(any_timestamp ? min_timestamp : -1);
  check.all_records_keyed = all_keyed;
  return check;
}

}  // namespace

BatchCheck validate_batch(RecordBatchView batch, const ValidateOptions& options) {
  ASSERT(batch.magic() == model::kMagicV2);
  ASSERT(batch.size_bytes() >= layout::kHeaderBytes);
  if (options.verify_crc && !batch.crc_ok()) {
    return corrupt("CRC-32C mismatch: stored " + std::to_string(batch.crc()) + ", computed " +
                   std::to_string(batch.compute_crc()));
  }
  uint16_t codec = batch.attributes() & attrs::kCompressionMask;
  if (codec > kCodecMax) {
    return fault(BatchFault::unsupported_compression_type, StatusCode::unsupported,
                 "compression codec " + std::to_string(codec));
  }
  BatchCheck header = check_header(batch, options);
  if (!header.ok()) return header;
  if (batch.compression() == Compression::none) {
    return check_records(batch, batch.records_bytes(), options);
  }
  if (!options.check_compressed_records) return BatchCheck{};
  auto records = BatchRecords::open(batch, options.decompressed_bytes_max);
  if (!records.ok()) {
    return fault(BatchFault::invalid_record, records.status().code(),
                 "compressed records: " + records.status().message());
  }
  return check_records(batch, records->records_bytes(), options);
}

BatchCheck validate_produce_records(std::span<const uint8_t> records, int16_t produce_version,
                                    const ValidateOptions& options) {
  ASSERT(produce_version >= 3);
  if (records.empty()) return invalid("no record batch");
  if (records.size() > layout::kMagic) {
    int8_t magic = static_cast<int8_t>(records[layout::kMagic]);
    if (magic != model::kMagicV2) {
      return invalid("Produce v" + std::to_string(produce_version) +
                     " allows only magic 2 batches, got magic " + std::to_string(magic));
    }
  }
  auto parsed = RecordBatchView::parse(records);
  if (!parsed.ok()) return corrupt(parsed.status().message());
  RecordBatchView batch = *parsed;
  if (batch.size_bytes() != records.size()) {
    return invalid("more than one record batch, or bytes after the batch");
  }
  if (produce_version < kProduceVersionZstdMin && batch.compression() == Compression::zstd) {
    return fault(BatchFault::unsupported_compression_type, StatusCode::unsupported,
                 "zstd needs Produce v7 or later");
  }
  BatchCheck check = validate_batch(batch, options);
  check.batch = batch;
  return check;
}

// ---- building --------------------------------------------------------------------------------

namespace {

void put_varint(std::vector<uint8_t>* out, int64_t v) {
  uint8_t buffer[varint::kMaxBytes64];
  size_t n = varint::put_unsigned64(buffer, varint::zigzag_encode64(v));
  out->insert(out->end(), buffer, buffer + n);
}

void put_bytes(std::vector<uint8_t>* out, std::optional<BytesView> bytes) {
  if (!bytes) {
    put_varint(out, -1);
    return;
  }
  ASSERT(bytes->size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  put_varint(out, static_cast<int64_t>(bytes->size()));
  out->insert(out->end(), bytes->begin(), bytes->end());
}

}  // namespace

void BatchBuilder::add(const RecordInput& record) {
  int32_t offset_delta = record.offset_delta.value_or(last_offset_delta_ + 1);
  int64_t timestamp = record.timestamp.value_or(options_.base_timestamp).value();
  scratch_.clear();
  scratch_.push_back(0);  // record attributes
  put_varint(&scratch_,
             static_cast<int64_t>(static_cast<uint64_t>(timestamp) -
                                  static_cast<uint64_t>(options_.base_timestamp.value())));
  put_varint(&scratch_, offset_delta);
  put_bytes(&scratch_, record.key);
  put_bytes(&scratch_, record.value);
  ASSERT(record.headers.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  put_varint(&scratch_, static_cast<int64_t>(record.headers.size()));
  for (const HeaderInput& header : record.headers) {
    put_bytes(&scratch_, bytes_of(header.key));
    put_bytes(&scratch_, header.value);
  }
  ASSERT(scratch_.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  put_varint(&records_, static_cast<int64_t>(scratch_.size()));
  records_.insert(records_.end(), scratch_.begin(), scratch_.end());
  records_count_++;
  last_offset_delta_ = std::max(last_offset_delta_, offset_delta);
  max_timestamp_ = std::max(max_timestamp_, timestamp);
}

Result<std::vector<uint8_t>> BatchBuilder::build() && {
  std::vector<uint8_t> compressed;
  BytesView body(records_);
  if (options_.compression != Compression::none) {
    auto result = compression::compress(options_.compression, records_);
    if (!result.ok()) return result.status();
    compressed = std::move(result).value();
    body = BytesView(compressed);
  }
  size_t total = layout::kHeaderBytes + body.size();
  if (total - layout::kLogOverheadBytes > static_cast<size_t>(INT32_MAX)) {
    return error(StatusCode::too_large, "record batch over 2 GiB");
  }
  std::vector<uint8_t> out(total);
  uint8_t* p = out.data();
  uint16_t attributes = static_cast<uint16_t>(options_.compression);
  if (options_.log_append_time) attributes |= attrs::kTimestampTypeLogAppend;
  if (options_.transactional) attributes |= attrs::kTransactional;
  if (options_.control) attributes |= attrs::kControl;
  int64_t max_timestamp = records_count_ == 0 ? options_.base_timestamp.value() : max_timestamp_;
  int32_t last_offset_delta = records_count_ == 0 ? 0 : last_offset_delta_;
  model::store_i64(p + layout::kBaseOffset, options_.base_offset.value());
  model::store_i32(p + layout::kBatchLength,
                   static_cast<int32_t>(total - layout::kLogOverheadBytes));
  model::store_i32(p + layout::kPartitionLeaderEpoch, options_.partition_leader_epoch);
  p[layout::kMagic] = static_cast<uint8_t>(model::kMagicV2);
  model::store_i16(p + layout::kAttributes, static_cast<int16_t>(attributes));
  model::store_i32(p + layout::kLastOffsetDelta, last_offset_delta);
  model::store_i64(p + layout::kBaseTimestamp, options_.base_timestamp.value());
  model::store_i64(p + layout::kMaxTimestamp, max_timestamp);
  model::store_i64(p + layout::kProducerId, options_.producer_id.value());
  model::store_i16(p + layout::kProducerEpoch, options_.producer_epoch.value());
  model::store_i32(p + layout::kBaseSequence, options_.base_sequence.value());
  model::store_i32(p + layout::kRecordsCount, records_count_);
  if (!body.empty()) std::memcpy(p + layout::kHeaderBytes, body.data(), body.size());
  model::update_crc(out);
  return out;
}

// ---- control batches -------------------------------------------------------------------------

Result<ControlRecord> decode_control_record(const Record& record) {
  if (!record.key || record.key->size() < kControlKeyBytes) {
    return error(StatusCode::invalid_argument, "control record key shorter than 4 bytes");
  }
  ControlRecord control;
  control.key_version = model::load_i16(record.key->data());
  control.type = static_cast<ControlType>(model::load_i16(record.key->data() + 2));
  if (control.key_version < 0) {
    return error(StatusCode::invalid_argument, "negative control record key version");
  }
  if (control.type != ControlType::abort && control.type != ControlType::commit) {
    return control;  // other control types carry other values; the caller decides
  }
  if (!record.value || record.value->size() < kControlValueBytes) {
    return error(StatusCode::invalid_argument, "transaction marker value shorter than 6 bytes");
  }
  control.value_version = model::load_i16(record.value->data());
  control.coordinator_epoch = model::load_i32(record.value->data() + 2);
  if (control.value_version < 0) {
    return error(StatusCode::invalid_argument, "negative transaction marker version");
  }
  return control;
}

std::vector<uint8_t> build_control_batch(const ControlBatchInput& input) {
  BatchOptions options;
  options.base_offset = input.base_offset;
  options.partition_leader_epoch = input.partition_leader_epoch;
  options.base_timestamp = input.timestamp;
  options.producer_id = input.producer_id;
  options.producer_epoch = input.producer_epoch;
  options.transactional = true;
  options.control = true;
  uint8_t key[kControlKeyBytes];
  model::store_i16(key, 0);
  model::store_i16(key + 2, static_cast<int16_t>(input.type));
  uint8_t value[kControlValueBytes];
  model::store_i16(value, 0);
  model::store_i32(value + 2, input.coordinator_epoch);
  BatchBuilder builder(options);
  RecordInput record;
  record.key = BytesView(key);
  record.value = BytesView(value);
  builder.add(record);
  auto batch = std::move(builder).build();
  ASSERT(batch.ok());  // uncompressed and tiny: cannot fail
  return std::move(batch).value();
}

// ---- splitting and stamping ------------------------------------------------------------------

std::optional<RecordBatchView> BatchSplitter::next() {
  if (!status_.ok() || partial_ || rest_.empty()) return std::nullopt;
  if (rest_.size() < layout::kLogOverheadBytes) {
    partial_ = true;
    return std::nullopt;
  }
  int32_t batch_length = model::load_i32(rest_.data() + layout::kBatchLength);
  constexpr int32_t kLengthMin = layout::kHeaderBytes - layout::kLogOverheadBytes;
  if (batch_length < kLengthMin) {
    status_ = error(StatusCode::corrupt, "record batch length " + std::to_string(batch_length) +
                                             " at byte " + std::to_string(consumed_bytes_));
    return std::nullopt;
  }
  size_t total = layout::kLogOverheadBytes + static_cast<size_t>(batch_length);
  if (total > batch_bytes_max_) {
    status_ = error(StatusCode::corrupt, "record batch of " + std::to_string(total) +
                                             " bytes over the limit at byte " +
                                             std::to_string(consumed_bytes_));
    return std::nullopt;
  }
  if (rest_.size() > layout::kMagic &&
      static_cast<int8_t>(rest_[layout::kMagic]) != model::kMagicV2) {
    status_ =
        error(StatusCode::corrupt, "record batch magic " +
                                       std::to_string(static_cast<int8_t>(rest_[layout::kMagic])) +
                                       " at byte " + std::to_string(consumed_bytes_));
    return std::nullopt;
  }
  if (total > rest_.size()) {
    partial_ = true;
    return std::nullopt;
  }
  auto batch = RecordBatchView::parse(rest_.first(total));
  ASSERT(batch.ok());  // length and magic checked above
  rest_ = rest_.subspan(total);
  consumed_bytes_ += total;
  return *batch;
}

Result<SplitBatches> split_batches(BytesView bytes, size_t batch_bytes_max) {
  BatchSplitter splitter(bytes, batch_bytes_max);
  SplitBatches split;
  while (auto batch = splitter.next()) split.batches.push_back(*batch);
  if (!splitter.status().ok()) return splitter.status();
  if (splitter.partial()) split.partial = splitter.rest();
  return split;
}

void stamp_log_append_time(std::span<uint8_t> batch, TimestampMs now) {
  ASSERT(batch.size() >= layout::kHeaderBytes);
  uint16_t attributes = static_cast<uint16_t>(model::load_i16(batch.data() + layout::kAttributes));
  model::set_attributes(batch, attributes | attrs::kTimestampTypeLogAppend);
  model::set_max_timestamp(batch, now);
  model::update_crc(batch);
}

}  // namespace cairn::protocol
