// BatchHeader: the 61-byte header of a Kafka v2 record batch decoded into a value, plus where
// the batch sits in its segment. The storage engine reads only headers on the fetch path (the
// payload goes out by sendfile) and for the broker's producer-state rebuild
// (Log::scan_headers). Layout: model::batch_layout. Plain value; any thread.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "base/types.h"
#include "model/record_batch_view.h"

namespace cairn::storage {

struct BatchHeader {
  uint64_t position = 0;  // byte position of the batch in its segment's .log
  Offset base_offset;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = 0;
  uint16_t attributes = 0;
  int32_t last_offset_delta = 0;
  TimestampMs base_timestamp;
  TimestampMs max_timestamp;
  ProducerId producer_id;
  ProducerEpoch producer_epoch;
  Sequence base_sequence;
  int32_t records_count = 0;

  uint64_t size_bytes() const {
    return model::batch_layout::kLogOverheadBytes + static_cast<uint64_t>(batch_length);
  }
  Offset last_offset() const { return Offset(base_offset.value() + last_offset_delta); }
  Offset next_offset() const { return Offset(base_offset.value() + last_offset_delta + 1); }
  bool is_transactional() const { return attributes & model::batch_attributes::kTransactional; }
  bool is_control() const { return attributes & model::batch_attributes::kControl; }
};

// Decodes the header at the start of `bytes` (at least kHeaderBytes). Fails (corrupt) on a
// wrong magic, a batch length below the header's, or a negative last offset delta; it does not
// look at the CRC (the payload is not in `bytes`).
Result<BatchHeader> decode_batch_header(std::span<const uint8_t> bytes, uint64_t position);

}  // namespace cairn::storage
