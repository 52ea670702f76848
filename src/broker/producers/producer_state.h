// ProducerStateTable: the idempotent-producer state of one partition — for every producer id
// that wrote to it, the current epoch and the metadata of its last five batches — and the
// sequence rules that use it (Kafka's ProducerStateManager / ProducerAppendInfo):
//
//   check(batch)   before an append. For a batch with a producer id (idempotent):
//     - epoch older than the producer's current one        -> invalid_epoch
//                                                             (INVALID_PRODUCER_EPOCH)
//     - same epoch, same first and last sequence as one of
//       the last five batches                              -> duplicate (answer with that
//                                                             batch's original offsets, append
//                                                             nothing)
//     - newer epoch: first sequence must be 0              -> else out_of_order
//     - same epoch: first sequence must follow the last one
//       (INT32_MAX wraps to 0)                             -> else out_of_order
//                                                             (OUT_OF_ORDER_SEQUENCE_NUMBER)
//     - unknown producer id (never seen, or its batches
//       were deleted by retention): any sequence is taken  -> append
//   record(batch)  after a successful append, and for every batch of the log on recovery
//                  (replaying the log rebuilds exactly the state the appends built).
//
// Bounds: five batches per producer (Kafka's NUM_BATCHES_TO_RETAIN, what librdkafka assumes
// with max.in.flight <= 5); at most kProducersPerPartitionMax producers per partition — past
// that the producer that wrote least recently is forgotten (it then counts as unknown).
//
// Snapshot: encode()/decode() write the table with the offset it is valid up to, so a clean
// restart does not have to replay the whole log (ProducerSnapshot in producer_snapshot.h).
//
// Thread safety: owned by one partition; touched only on the partition's shard thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/types.h"

namespace cairn::broker::producers {

inline constexpr size_t kBatchesPerProducer = 5;
inline constexpr size_t kProducersPerPartitionMax = 10'000;

// The producer fields of one v2 batch header plus where it landed.
struct ProducerBatch {
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  Sequence first_sequence{-1};
  Sequence last_sequence{-1};  // first + last offset delta, wrapping past INT32_MAX
  Offset first_offset{-1};     // set once appended
  Offset last_offset{-1};
  TimestampMs max_timestamp{-1};
};

enum class SequenceVerdict : uint8_t { append, duplicate, out_of_order, invalid_epoch };

struct SequenceCheck {
  SequenceVerdict verdict = SequenceVerdict::append;
  ProducerBatch original;  // the batch a duplicate repeats (offsets set)
};

// The last sequence of a batch of `records_count` records starting at `first` (wraps).
Sequence last_sequence_of(Sequence first, int32_t last_offset_delta);

class ProducerStateTable {
 public:
  struct Entry {
    ProducerEpoch epoch{-1};
    std::deque<ProducerBatch> batches;  // oldest first, at most kBatchesPerProducer
    uint64_t last_touch = 0;            // recency for eviction (a counter, not a clock)
  };

  // REQUIRES: batch.producer_id >= 0.
  SequenceCheck check(const ProducerBatch& batch) const;
  // Remembers an appended batch. REQUIRES: producer_id >= 0, offsets set.
  void record(const ProducerBatch& batch);
  // Forgets producers whose last batch is below `log_start_offset` (retention, DeleteRecords).
  void forget_below(Offset log_start_offset);
  void clear() { entries_.clear(); }

  size_t size() const { return entries_.size(); }
  const Entry* find(ProducerId producer_id) const;

  // Serialized table (format in producer_state.cc; versioned, CRC-checked).
  std::vector<uint8_t> encode(Offset valid_up_to) const;
  // Replaces the table with `bytes`; returns the offset it is valid up to. corrupt on any
  // mismatch (the caller then rebuilds from the log).
  Result<Offset> decode(std::span<const uint8_t> bytes);

 private:
  void evict_one();

  std::unordered_map<ProducerId, Entry> entries_;
  uint64_t touch_counter_ = 0;
};

}  // namespace cairn::broker::producers
