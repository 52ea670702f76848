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

#include "base/status.h"
#include "broker/partitions/partition.h"
#include "storage/io.h"

namespace cairn::broker {

// Replaces partition.producers with what the snapshot and the log say. A snapshot that does
// not decode or is past the log end is ignored (the whole log is replayed); aborted
// transactions whose marker the cleaner removed since are dropped (forget_removed_markers).
// The log's error if a read fails (the state is then what was rebuilt so far).
// REQUIRES: partition.usable(), partition.producers empty.
Status rebuild_producer_state(storage::Io& io, Partition& partition);

// Writes the snapshot (valid up to the log end offset) durably, unless the state is empty.
// On an open log it may cover appends not yet fsynced: if a crash loses them, the snapshot
// is past the recovered log end and ignored. REQUIRES: partition.usable() or a closed log.
Status save_producer_snapshot(storage::Io& io, const Partition& partition);

// Saves the snapshot if the log rolled since the last call (the retention loop calls it).
// Errors are logged; the last good snapshot (or the log) still serves recovery.
// REQUIRES: partition.usable(); the partition's shard.
void snapshot_after_roll(storage::Io& io, Partition& partition);

}  // namespace cairn::broker
