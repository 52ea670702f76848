// RecordBatchView: the fixed 61-byte header of a Kafka record batch v2 ("magic 2"), read from
// bytes in place, plus the checks every layer needs before trusting a batch (length, magic,
// CRC-32C). The storage layer and the protocol layer both build on this; record iteration,
// batch building and compression live in src/protocol/record_batch.h.
//
// Layout (big-endian), see docs/format/record-batch.md:
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8
//  17 crc u32 (CRC-32C over [21, end)) | 21 attributes i16 | 23 lastOffsetDelta i32
//  27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16
//  53 baseSequence i32 | 57 recordsCount i32 | 61 records...
// Plain value type over borrowed bytes; any thread, as long as the bytes live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "base/types.h"

namespace cairn::model {

namespace batch_layout {
inline constexpr size_t kBaseOffset = 0;
inline constexpr size_t kBatchLength = 8;
inline constexpr size_t kPartitionLeaderEpoch = 12;
inline constexpr size_t kMagic = 16;
inline constexpr size_t kCrc = 17;
inline constexpr size_t kAttributes = 21;
inline constexpr size_t kLastOffsetDelta = 23;
inline constexpr size_t kBaseTimestamp = 27;
inline constexpr size_t kMaxTimestamp = 35;
inline constexpr size_t kProducerId = 43;
inline constexpr size_t kProducerEpoch = 51;
inline constexpr size_t kBaseSequence = 53;
inline constexpr size_t kRecordsCount = 57;
inline constexpr size_t kHeaderBytes = 61;
// batchLength counts the bytes after itself.
inline constexpr size_t kLogOverheadBytes = 12;
static_assert(kRecordsCount + 4 == kHeaderBytes);
static_assert(kBatchLength + 4 == kLogOverheadBytes);
}  // namespace batch_layout

enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

namespace batch_attributes {
inline constexpr uint16_t kCompressionMask = 0x07;
inline constexpr uint16_t kTimestampTypeLogAppend = 0x08;
inline constexpr uint16_t kTransactional = 0x10;
inline constexpr uint16_t kControl = 0x20;
inline constexpr uint16_t kHasDeleteHorizon = 0x40;
}  // namespace batch_attributes

inline constexpr int8_t kMagicV2 = 2;

class RecordBatchView {
 public:
  // Checks that `bytes` starts with a whole v2 batch header whose batchLength fits in `bytes`,
  // without checking the CRC. `bytes` may hold more after the batch.
  static Result<RecordBatchView> parse(std::span<const uint8_t> bytes);

  // The whole batch, header included: 12 + batchLength bytes.
  std::span<const uint8_t> bytes() const { return bytes_; }
  size_t size_bytes() const { return bytes_.size(); }

  Offset base_offset() const;
  int32_t batch_length() const;
  int32_t partition_leader_epoch() const;
  int8_t magic() const;
  uint32_t crc() const;
  uint16_t attributes() const;
  int32_t last_offset_delta() const;
  TimestampMs base_timestamp() const;
  TimestampMs max_timestamp() const;
  ProducerId producer_id() const;
  ProducerEpoch producer_epoch() const;
  Sequence base_sequence() const;
  int32_t records_count() const;

  // Wraps instead of overflowing: an unvalidated header may hold any base offset.
  Offset last_offset() const {
    return Offset(static_cast<int64_t>(static_cast<uint64_t>(base_offset().value()) +
                                       static_cast<uint64_t>(int64_t{last_offset_delta()})));
  }
  Compression compression() const {
    return static_cast<Compression>(attributes() & batch_attributes::kCompressionMask);
  }
  bool is_transactional() const { return attributes() & batch_attributes::kTransactional; }
  bool is_control() const { return attributes() & batch_attributes::kControl; }
  bool log_append_time() const {
    return attributes() & batch_attributes::kTimestampTypeLogAppend;
  }
  std::span<const uint8_t> records_bytes() const {
    return bytes_.subspan(batch_layout::kHeaderBytes);
  }

  // CRC-32C over [attributes, end) equals the stored crc.
  bool crc_ok() const;
  uint32_t compute_crc() const;

 private:
  explicit RecordBatchView(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  std::span<const uint8_t> bytes_;
};

// Writers for a batch held in mutable memory. The base offset and leader epoch sit before the
// CRC'd range, so stamping them keeps the CRC valid; anything else needs `update_crc`.
void set_base_offset(std::span<uint8_t> batch, Offset offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
void set_max_timestamp(std::span<uint8_t> batch, TimestampMs timestamp);
void set_attributes(std::span<uint8_t> batch, uint16_t attributes);
void update_crc(std::span<uint8_t> batch);

// Big-endian loads and stores shared by the batch code.
int64_t load_i64(const uint8_t* p);
int32_t load_i32(const uint8_t* p);
int16_t load_i16(const uint8_t* p);
void store_i64(uint8_t* p, int64_t v);
void store_i32(uint8_t* p, int32_t v);
void store_i16(uint8_t* p, int16_t v);

}  // namespace cairn::model
