// Appends by the broker itself to an internal topic's partition (__consumer_offsets,
// __transaction_state): key/value records in Kafka's record format, split into batches of at
// most kInternalRecordsPerBatch, waking the partition's Fetches. The coordinators that own
// those partitions are their only writers.
//
//   std::vector<InternalRecord> records{{key_bytes, value_bytes}};
//   Result<storage::AppendResult> at = append_internal(*partition, records, now);
//   Status durable = co_await await_durable(*partition->log, at->last_offset);
//
// Shard thread (the partition's owner) only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/partitions/partition.h"

namespace cairn::broker {

// One record; no value is a tombstone.
struct InternalRecord {
  std::vector<uint8_t> key;
  std::optional<std::vector<uint8_t>> value;
};

// The producer a transactional append belongs to (TxnOffsetCommit): its batches carry the
// producer id and epoch and the transactional attribute, and no sequence.
struct InternalProducer {
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
};

inline constexpr size_t kInternalRecordsPerBatch = 1000;

// Appends `records` (not empty) in order; returns the offsets of the first and last. The
// log's error if an append fails (earlier batches may have been appended), not_found if the
// partition is not usable.
Result<storage::AppendResult> append_internal(Partition& partition,
                                              std::span<const InternalRecord> records,
                                              TimestampMs now,
                                              std::optional<InternalProducer> producer = {});

}  // namespace cairn::broker
