// The producer state of a partition across restarts (producers/producer_state.h): rebuilt
// when its log opens from the snapshot saved by the last clean stop — if it is still valid for
// the log — then a replay of every batch header after it (markers end transactions); saved
// again when the log closes cleanly, and after every segment roll while it runs (as Kafka
// snapshots at each roll: recovery after a crash then replays only what came since). File:
// DATA_DIR/<topic>-<p>/producer_state.snapshot (docs/format/partition-dir.md).
//
//   Status rebuilt = rebuild_producer_state(io, partition);   // after Log::open
//   ...
//   Status closed = partition.log->close();
//   if (closed.ok()) closed = save_producer_snapshot(io, partition);
//
// Thread: whoever holds the partition (the main thread at open and close).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/partitions/partition.h"
#include "storage/io.h"

namespace cairn::broker {

// Replaces partition.producers with what the snapshot and the log say, and loads the
// partition's aborted-transaction index files (txn_index.h). A snapshot that does not decode
// or is past the log end, or a damaged index file, is ignored (the whole log is replayed and
// the index files written again); aborted transactions whose marker the cleaner removed
// since are dropped (forget_removed_markers). The aborts of segments sealed after the
// snapshot go to their index files before this returns. The log's error if a read fails
// (the state is then what was rebuilt so far).
// REQUIRES: partition.usable(), partition.producers empty.
Status rebuild_producer_state(storage::Io& io, Partition& partition);

// Writes the snapshot (valid up to the log end offset) durably, unless the state is empty.
// On an open log it may cover appends not yet fsynced: if a crash loses them, the snapshot
// is past the recovered log end and ignored. REQUIRES: partition.usable() or a closed log.
Status save_producer_snapshot(storage::Io& io, const Partition& partition);

// After a roll: the aborted transactions of the newly sealed segments go to their index files
// (txn_index.h), then the snapshot is saved saying so — in three steps, so that the writes
// (each ends in an fsync) run off the shard (the retention loop hands do_index_work to the
// MetaWriter):
//
//   std::optional<IndexWork> work = plan_index_work(partition);   // shard
//   Status written = do_index_work(io, *work);                     // any thread
//   if (written.ok()) finish_index_work(partition, *work);         // shard
//
// plan_index_work returns nullopt when the log did not roll since the last snapshot, or when a
// cleaner run or another write of the partition's index files is under way (try again later).
struct IndexWork {
  std::string dir;
  Offset active_base;               // the active segment when planned
  std::vector<TxnIndexFile> files;  // one per segment sealed since (empty: no aborts)
  std::vector<uint8_t> snapshot;    // the producer snapshot, indexed below active_base
};
std::optional<IndexWork> plan_index_work(Partition& partition);
Status do_index_work(storage::Io& io, const IndexWork& work);
void finish_index_work(Partition& partition, const IndexWork& work);
// All three at once, on the calling thread (recovery, tests). ok if there was nothing to do.
Status index_sealed_segments(storage::Io& io, Partition& partition);

}  // namespace cairn::broker
