// Transaction markers on a partition: the control batch that ends a producer's transaction
// (Kafka's EndTransactionMarker) and what appending one does to the partition.
//
// A marker is a v2 control batch (protocol::build_control_batch: transactional + control
// attributes, the producer's id and epoch, one record of type COMMIT or ABORT). Clients never
// hand these to the application; read_committed consumers use them (with Fetch's
// aborted_transactions) to drop aborted data.
//
//   Result<Offset> at = append_marker(*partition, pid, epoch, /*commit=*/true, now_ms);
//   Status durable = co_await await_durable(*partition->log, *at);
//
// Shard thread (the partition's owner) only.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/partitions/partition.h"
#include "model/record_batch_view.h"
#include "storage/io.h"

namespace cairn::broker {

struct TxnMarker {
  bool commit = false;
  int32_t coordinator_epoch = 0;
};

// The marker of a control batch. corrupt if `batch` is not a well-formed control batch;
// unsupported for a control batch of another type (e.g. KRaft's leader change).
Result<TxnMarker> decode_marker_batch(const model::RecordBatchView& batch);

// Appends a marker ending (producer_id, epoch)'s transaction on `partition`, updates its
// producer state (LSO, aborted list) and wakes its Fetches. Returns the marker's offset.
// invalid_argument if a newer epoch of the producer already wrote here (a stale marker);
// the log's error if the append fails. `coordinator_epoch` is recorded in the marker (Cairn's
// own coordinator writes 0). REQUIRES: partition.usable().
Result<Offset> append_marker(Partition& partition, ProducerId producer_id, ProducerEpoch epoch,
                             bool commit, TimestampMs now, int32_t coordinator_epoch = 0);

// The aborted transactions a read_committed consumer of [from, upper) must know (marker at or
// after `from`, first offset below `upper`), in marker order: from the index files of sealed
// segments when `from` is below the producer state's indexed_below(), then from memory. An
// index file's read error if one fails.
Result<std::vector<producers::AbortedTxn>> aborted_between(const Partition& partition, Offset from,
                                                           Offset upper);
// Every aborted transaction the partition lists (files, then memory), in marker order.
Result<std::vector<producers::AbortedTxn>> all_aborted(const Partition& partition);

// The cleaner dropped the marker of (producer_id, marker_offset): its aborted transaction is
// no longer listed (in memory at once; an index file's entry is filtered out until the file
// is rewritten, txn_index.h).
void forget_aborted(Partition& partition, ProducerId producer_id, Offset marker_offset);

// Rewrites the index files that list a marker forget_aborted dropped, without it (the
// broker does so after each cleaner run). The file's error if a read or write fails.
Status rewrite_removed_markers(storage::Io& io, Partition& partition);

// After the producer state was loaded from a snapshot: forgets the aborted transactions whose
// ABORT marker is no longer in the log (a cleaner run removed it after the snapshot or an
// index file was written, and the broker stopped before they were updated), rewriting the
// index files that listed one. Only a log that has been compacted can lose markers that way;
// otherwise nothing is read. One header lookup per aborted transaction; the log's or the
// file's error if one fails. REQUIRES: partition.txn_index loaded.
Status forget_removed_markers(storage::Io& io, Partition& partition);

}  // namespace cairn::broker
