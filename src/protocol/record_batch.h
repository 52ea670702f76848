// Record batch v2 codec: validation, record iteration, building, control records and
// splitting, on top of model::RecordBatchView (the 61-byte header). Layout and rules are in
// docs/format/record-batch.md.
//
//   validate_produce_records  the `records` field of one partition in a Produce request:
//                             exactly one v2 batch, then validate_batch with client rules.
//   validate_batch            one batch: CRC, attributes, counts, offset deltas, and (for
//                             uncompressed batches, or compressed ones when asked) every
//                             record's framing, with every length checked against the bytes
//                             left before it is used. Nothing is allocated from a length read
//                             off the wire; decompression is bounded by the caller's limit.
//   BatchRecords/RecordReader iterate records: zero-copy views into the batch when it is
//                             uncompressed, into an owned decompressed buffer otherwise.
//   BatchBuilder              encodes a batch (optionally compressed) with a correct CRC.
//   BatchSplitter             walks concatenated batches (a Produce `records` field, a segment
//                             read) and reports a trailing partial batch separately.
//
// Failures carry a Status with the reason and a BatchFault saying which Kafka error the broker
// should answer with. Everything here is a value over borrowed bytes, with no shared state:
// any thread, as long as the bytes outlive the views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "base/units.h"
#include "model/record_batch_view.h"

namespace cairn::protocol {

// ---- validation ------------------------------------------------------------------------------

// Which Kafka error a rejected batch maps to. The broker maps these to codes at the wire edge.
enum class BatchFault : uint8_t {
  none = 0,
  // CORRUPT_MESSAGE (2), retriable: the bytes did not arrive intact — batch framing, length,
  // magic (outside Produce), or a CRC mismatch.
  corrupt_message,
  // INVALID_RECORD (87), not retriable: the CRC matched, so the client sent this on purpose,
  // but it breaks the rules — record framing, counts, offset deltas, control batches from a
  // client, undecodable compressed payloads. (Kafka raises InvalidRecordException for these.)
  invalid_record,
  // UNSUPPORTED_COMPRESSION_TYPE (76): codec 5..7, or zstd in a Produce request below v7.
  unsupported_compression_type,
};
const char* batch_fault_name(BatchFault fault);

// Who wrote the batch. Kafka applies stricter rules to batches from producers.
enum class BatchOrigin : uint8_t {
  // From a Produce request: recordsCount >= 1, lastOffsetDelta == recordsCount - 1, offset
  // deltas exactly 0..n-1, no control batches, a producer id implies a base sequence >= 0.
  client,
  // Already in a log (segment reads, recovery, replication): compaction may have left gaps
  // in the offset deltas and even empty batches; deltas must only increase and stay within
  // lastOffsetDelta.
  log,
};

struct ValidateOptions {
  BatchOrigin origin = BatchOrigin::client;
  // Off only in fuzzers, to reach the record parser behind the CRC.
  bool verify_crc = true;
  // Decompress compressed batches and check their records too (Kafka does on Produce).
  bool check_compressed_records = true;
  // Limit on one batch's decompressed records section; a bigger one is invalid_record with
  // StatusCode::too_large.
  size_t decompressed_bytes_max = 32 * MiB;
};

struct [[nodiscard]] BatchCheck {
  BatchFault fault = BatchFault::none;
  Status status;
  // The batch checked (set by validate_produce_records when the framing was whole).
  std::optional<model::RecordBatchView> batch;
  // True when every record was decoded (uncompressed, or compressed and asked to).
  bool records_checked = false;
  // The highest record timestamp seen, or -1 with no records checked. Kafka rewrites a
  // CreateTime batch's maxTimestamp to this value.
  TimestampMs max_record_timestamp{-1};
  // The lowest record timestamp seen other than -1 (NO_TIMESTAMP, which records converted
  // from magic 0 carry), or -1 with none, for Produce's message.timestamp.difference.max.ms
  // check.
  TimestampMs min_record_timestamp{-1};
  // Every record checked has a key (a compacted topic refuses keyless records).
  bool all_records_keyed = false;

  bool ok() const { return fault == BatchFault::none; }
};

// Checks one batch. `batch` came from RecordBatchView::parse (so its length and magic are
// already known good).
BatchCheck validate_batch(model::RecordBatchView batch, const ValidateOptions& options);

// Checks the `records` field of one partition in a Produce request of `produce_version`
// (3 or later), the way Kafka's ProduceRequest.validateRecords and LogValidator do: exactly
// one batch, magic 2, no zstd below v7, nothing after the batch, then validate_batch.
BatchCheck validate_produce_records(std::span<const uint8_t> records, int16_t produce_version,
                                    const ValidateOptions& options);

// ---- records ---------------------------------------------------------------------------------

using BytesView = std::span<const uint8_t>;

struct RecordHeader {
  std::string_view key;  // Kafka header keys are non-null strings
  std::optional<BytesView> value;
};

// The headers of one record, decoded lazily from bytes that were validated when the record
// was read (so iteration cannot fail).
class RecordHeaders {
 public:
  RecordHeaders() = default;
  RecordHeaders(BytesView bytes, int32_t count) : bytes_(bytes), count_(count) {}

  class Iterator {
   public:
    Iterator(const uint8_t* at, const uint8_t* end, int32_t index)
        : at_(at), end_(end), index_(index) {}
    RecordHeader operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    const uint8_t* at_;
    const uint8_t* end_;
    int32_t index_;
  };

  int32_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Iterator begin() const { return Iterator(bytes_.data(), bytes_.data() + bytes_.size(), 0); }
  Iterator end() const { return Iterator(nullptr, nullptr, count_); }

 private:
  BytesView bytes_;
  int32_t count_ = 0;
};

struct Record {
  Offset offset;
  // The record's timestamp; for a LogAppendTime batch, the batch's maxTimestamp.
  TimestampMs timestamp;
  int32_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  int8_t attributes = 0;  // unused by Kafka so far
  std::optional<BytesView> key;
  std::optional<BytesView> value;  // nullopt: a tombstone
  RecordHeaders headers;
  size_t size_bytes = 0;  // encoded size, length varint included
};

// What a record needs from its batch header to know its offset and timestamp.
struct RecordContext {
  Offset base_offset;
  TimestampMs base_timestamp;
  TimestampMs max_timestamp;
  bool log_append_time = false;
  int32_t records_count = 0;

  static RecordContext of(model::RecordBatchView batch);
};

// Reads the records section of a batch (already decompressed): exactly `records_count`
// records that must use up the section. Each length is checked against the bytes left.
class RecordReader {
 public:
  RecordReader(BytesView records, const RecordContext& context);

  // Decodes the next record into *record (views into the section). False at the end or at
  // the first malformed record; then status() is ok for a clean end, or says what broke.
  bool next(Record* record);
  const Status& status() const { return status_; }
  int32_t records_read() const { return read_; }

 private:
  bool fail(const char* why);

  const uint8_t* at_;
  const uint8_t* end_;
  RecordContext context_;
  int32_t read_ = 0;
  Status status_;
};

// The records of one batch, decompressed into an owned buffer when the batch is compressed.
// Views handed out by reader() point into the batch bytes or into this object's buffer: keep
// both alive while using them. Moving a BatchRecords keeps its buffer (and the views) valid.
class BatchRecords {
 public:
  // Fails with unsupported (codec 5..7), corrupt or too_large (decompression).
  static Result<BatchRecords> open(model::RecordBatchView batch, size_t decompressed_bytes_max);

  model::RecordBatchView batch() const { return batch_; }
  BytesView records_bytes() const;
  RecordReader reader() const { return RecordReader(records_bytes(), RecordContext::of(batch_)); }

 private:
  explicit BatchRecords(model::RecordBatchView batch) : batch_(batch) {}
  model::RecordBatchView batch_;
  bool compressed_ = false;
  std::vector<uint8_t> decompressed_;
};

// ---- building --------------------------------------------------------------------------------

struct BatchOptions {
  Offset base_offset{0};
  int32_t partition_leader_epoch = -1;
  // Record timestamps are stored as deltas from this; records without one get it.
  TimestampMs base_timestamp{-1};
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  Sequence base_sequence{-1};
  bool transactional = false;
  bool control = false;
  bool log_append_time = false;
  model::Compression compression = model::Compression::none;
};

struct HeaderInput {
  std::string_view key;
  std::optional<BytesView> value;
};

struct RecordInput {
  std::optional<BytesView> key;
  std::optional<BytesView> value;
  std::span<const HeaderInput> headers;
  std::optional<TimestampMs> timestamp;
  // Defaults to the next delta (0, 1, 2, ...). Set it to build compacted-looking batches
  // (gaps) or, in tests, hostile ones.
  std::optional<int32_t> offset_delta;
};

// Views of a string's bytes, for building records from text.
inline BytesView bytes_of(std::string_view s) {
  return BytesView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Encodes records as they are added; build() writes the header, compresses, and sets the CRC.
// One builder per batch, single-threaded.
class BatchBuilder {
 public:
  explicit BatchBuilder(BatchOptions options) : options_(options) {}

  void add(const RecordInput& record);
  int32_t records_count() const { return records_count_; }
  // The batch bytes. Fails only if compression fails or the batch passes 2 GiB.
  Result<std::vector<uint8_t>> build() &&;

 private:
  BatchOptions options_;
  std::vector<uint8_t> records_;  // encoded, uncompressed
  std::vector<uint8_t> scratch_;
  int32_t records_count_ = 0;
  int32_t last_offset_delta_ = -1;
  int64_t max_timestamp_ = -1;
};

// ---- control batches -------------------------------------------------------------------------

// The control record key's type (ControlRecordType in Kafka). Other values exist (KRaft's
// LEADER_CHANGE = 2, snapshot markers); they decode with their raw value.
enum class ControlType : int16_t { abort = 0, commit = 1 };

struct ControlRecord {
  int16_t key_version = 0;
  ControlType type = ControlType::abort;
  // For ABORT/COMMIT markers (EndTransactionMarker): value version and coordinator epoch.
  int16_t value_version = 0;
  int32_t coordinator_epoch = 0;
};

// Decodes the key (and for ABORT/COMMIT the value) of a control batch's record.
Result<ControlRecord> decode_control_record(const Record& record);

struct ControlBatchInput {
  Offset base_offset{0};
  int32_t partition_leader_epoch = -1;
  TimestampMs timestamp{-1};
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  ControlType type = ControlType::commit;
  int32_t coordinator_epoch = 0;
};

// A transaction marker batch: transactional + control attributes, one record, sequence -1.
std::vector<uint8_t> build_control_batch(const ControlBatchInput& input);

// ---- splitting and stamping ------------------------------------------------------------------

// Walks concatenated batches. A trailing batch cut short (fewer bytes than its header says,
// or too few to read its length) ends the walk with partial() true; a header that is
// malformed where it is whole (bad magic, impossible length) ends it with a corrupt status.
// Only the length and magic are checked here; validate each batch afterwards.
class BatchSplitter {
 public:
  explicit BatchSplitter(BytesView bytes, size_t batch_bytes_max = SIZE_MAX)
      : rest_(bytes), batch_bytes_max_(batch_bytes_max) {}

  std::optional<model::RecordBatchView> next();
  bool partial() const { return partial_; }
  const Status& status() const { return status_; }
  BytesView rest() const { return rest_; }  // after the last batch returned
  size_t consumed_bytes() const { return consumed_bytes_; }

 private:
  BytesView rest_;
  size_t batch_bytes_max_;
  size_t consumed_bytes_ = 0;
  bool partial_ = false;
  Status status_;
};

struct SplitBatches {
  std::vector<model::RecordBatchView> batches;
  BytesView partial;  // the trailing partial batch, empty if none
};

// All whole batches of `bytes`, or the corrupt status of the first malformed header.
Result<SplitBatches> split_batches(BytesView bytes, size_t batch_bytes_max = SIZE_MAX);

// Rewrites a batch for a LogAppendTime topic: sets the timestamp-type attribute bit and
// maxTimestamp to `now`, then recomputes the CRC (both fields are inside the CRC'd range).
void stamp_log_append_time(std::span<uint8_t> batch, TimestampMs now);

}  // namespace cairn::protocol
