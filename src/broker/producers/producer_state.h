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
//     - transactional batch: the partition must be in the producer's transaction — it has
//       written here since its last marker, or the transaction coordinator said it added the
//       partition (allow_transaction; KIP-890's guard against hanging transactions)
//                                                          -> else invalid_txn_state
//     - plain batch while the producer's transaction here is open -> invalid_txn_state
//   record(batch)  after a successful append, and for every batch of the log on recovery
//                  (replaying the log rebuilds exactly the state the appends built).
//   complete_transaction(...)  after a COMMIT/ABORT control batch (a marker) was appended.
//
// Transactions: the first offset of each producer's open transaction gives the last stable
// offset (LSO: the first offset no read_committed consumer may see yet — the smallest open
// transaction's first offset, or the high watermark); every aborted transaction is kept as
// (producer id, first offset, marker offset, LSO after the abort) — Kafka's aborted
// transaction index — until retention or the cleaner deletes its marker, so a read_committed
// Fetch can list the aborted ranges of what it returns (aborted_between). The table holds
// those whose marker is at or past indexed_below(); older ones live in the partition's
// per-segment index files (partitions/txn_index.h), which mark_indexed() hands them to.
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
#include <map>
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
  bool transactional = false;
};

enum class SequenceVerdict : uint8_t {
  append,
  duplicate,
  out_of_order,
  invalid_epoch,
  invalid_txn_state
};

// One aborted transaction of a partition (Kafka's AbortedTxn, .txnindex entry).
struct AbortedTxn {
  ProducerId producer_id{-1};
  Offset first_offset{-1};
  Offset last_offset{-1};         // the ABORT marker's offset
  Offset last_stable_offset{-1};  // the partition's LSO right after the marker
  bool operator==(const AbortedTxn&) const = default;
};

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
    Offset txn_first_offset{-1};        // first offset of its open transaction here, or -1
    Offset marker_offset{-1};           // its last marker here (keeps a fencing epoch), or -1
  };

  // REQUIRES: batch.producer_id >= 0.
  SequenceCheck check(const ProducerBatch& batch) const;
  // Remembers an appended batch. REQUIRES: producer_id >= 0, offsets set.
  void record(const ProducerBatch& batch);
  // Forgets producers whose last batch is below `log_start_offset` (retention, DeleteRecords)
  // unless their transaction is open, and the aborted transactions whose marker is below it.
  void forget_below(Offset log_start_offset);
  // Forgets the aborted transaction whose ABORT marker is at `marker_offset`, if listed: the
  // cleaner removed the marker, after every batch of the transaction (docs/compaction.md).
  // Listing it longer would hide the producer's later transactions from read_committed
  // consumers, which skip its batches from the first offset until they meet the marker.
  void forget_aborted(ProducerId producer_id, Offset marker_offset);
  void clear();

  // --- transactions ---
  // The coordinator added this partition to the transaction of (producer_id, epoch): its
  // transactional batches may come. Not persisted (the coordinator says it again on restart).
  void allow_transaction(ProducerId producer_id, ProducerEpoch epoch);
  // Whether the coordinator added this partition to (producer_id, epoch)'s transaction and no
  // marker ended it since.
  bool transaction_allowed(ProducerId producer_id, ProducerEpoch epoch) const {
    auto it = allowed_.find(producer_id);
    return it != allowed_.end() && it->second == epoch;
  }
  // Whether a marker of `epoch` may end the producer's transaction here (no newer epoch wrote).
  bool marker_allowed(ProducerId producer_id, ProducerEpoch epoch) const;
  // A marker for (producer_id, epoch) was appended at `marker_offset`: the producer's open
  // transaction here (if any) ends, committed or aborted (then remembered in the aborted list).
  // A marker of a newer epoch also fences the older one. REQUIRES: marker_allowed.
  void complete_transaction(ProducerId producer_id, ProducerEpoch epoch, bool commit,
                            Offset marker_offset);
  // The smallest first offset of an open transaction, or `high_watermark` if none is open.
  Offset last_stable_offset(Offset high_watermark) const;
  // The aborted transactions a read_committed consumer of [from, upper) must know: marker at
  // or after `from`, first offset below `upper`. In marker order.
  std::vector<AbortedTxn> aborted_between(Offset from, Offset upper) const;
  // The aborts in memory: marker at or past indexed_below().
  const std::vector<AbortedTxn>& aborted() const { return aborted_; }
  // Aborts whose marker is below this are in the index files, not here.
  Offset indexed_below() const { return indexed_below_; }
  // The aborts with marker below `offset` are now durable in the index files: drop them here.
  // REQUIRES: offset >= indexed_below().
  void mark_indexed(Offset offset);
  size_t open_transactions() const { return ongoing_.size(); }

  size_t size() const { return entries_.size(); }
  // Every producer the table knows (DescribeProducers), in no particular order.
  const std::unordered_map<ProducerId, Entry>& entries() const { return entries_; }
  const Entry* find(ProducerId producer_id) const;

  // Serialized table (format in producer_state.cc; versioned, CRC-checked), claiming that the
  // aborts with marker below `indexed_below` (default: indexed_below()) are in the index
  // files; only the later ones are written. REQUIRES: indexed_below >= indexed_below().
  std::vector<uint8_t> encode(Offset valid_up_to) const {
    return encode(valid_up_to, indexed_below_);
  }
  std::vector<uint8_t> encode(Offset valid_up_to, Offset indexed_below) const;
  // Replaces the table with `bytes`; returns the offset it is valid up to. corrupt on any
  // mismatch (the caller then rebuilds from the log). An older snapshot (v1, v2) has every
  // abort in it: indexed_below() is then 0.
  Result<Offset> decode(std::span<const uint8_t> bytes);

 private:
  void evict_one();
  Entry& entry_for(ProducerId producer_id);

  std::unordered_map<ProducerId, Entry> entries_;
  uint64_t touch_counter_ = 0;
  // first offset -> producer, for every open transaction (the LSO is the first key).
  std::map<Offset, ProducerId> ongoing_;
  std::vector<AbortedTxn> aborted_;  // by marker offset, each at or past indexed_below_
  Offset indexed_below_{0};
  std::unordered_map<ProducerId, ProducerEpoch> allowed_;
};

}  // namespace cairn::broker::producers
