// Record-level access to a v2 batch for the cleaner: walking the records of an uncompressed
// records section (key, tombstone, offset delta) and rebuilding a batch that keeps only some
// of them. The storage engine otherwise reads only batch headers; compression codecs live in
// src/protocol (above storage), so compressed batches come in decompressed and go out through
// the caller's compressor (CleanOptions). Pure functions over borrowed bytes; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/record_batch_view.h"

namespace cairn::storage {

struct RecordRef {
  std::span<const uint8_t> bytes;  // the whole record, length varint included
  int32_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  std::optional<std::span<const uint8_t>> key;    // nullopt: a null key
  std::optional<std::span<const uint8_t>> value;  // nullopt: a tombstone
  bool tombstone = false;                         // null value
};

// Calls `visit` for each of the `count` records of an uncompressed records section, which they
// must use up exactly. Every length is checked against the bytes left (corrupt otherwise).
Status walk_records(std::span<const uint8_t> records, int32_t count,
                    const std::function<void(const RecordRef&)>& visit);

// Whether `batch` is a transaction marker: an uncompressed control batch whose one record's
// key is a control record key (version i16, type i16, big-endian) of type ABORT (0) or
// COMMIT (1). Other control batches (and malformed ones) are not.
bool is_transaction_marker(model::RecordBatchView batch);

// Compresses a records section with the codec of the batch's attributes. `original` is the
// batch's compressed payload as it was, for framing choices (xerial vs raw snappy).
using Compressor = std::function<Result<std::vector<uint8_t>>(
    model::Compression codec, std::span<const uint8_t> records, std::span<const uint8_t> original)>;

// A copy of `batch` holding only the records whose `keep` flag is set: the same header
// (base offset, last offset delta, timestamps, producer fields, attributes), recordsCount and
// batchLength updated, CRC recomputed. Records are copied byte for byte (their deltas stay
// relative to the unchanged base). With nothing kept it is an empty batch (recordsCount 0),
// which Kafka clients skip. `records` is the uncompressed section of `batch`; for a compressed
// batch `compress` re-encodes the kept records with the batch's codec.
// REQUIRES: keep.size() == the batch's records count, records as walk_records accepted.
Result<std::vector<uint8_t>> rebuild_batch(model::RecordBatchView batch,
                                           std::span<const uint8_t> records,
                                           const std::vector<uint8_t>& keep,
                                           const Compressor& compress);

}  // namespace cairn::storage
