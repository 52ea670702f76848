// Compaction of a partition's log (docs/compaction.md): the storage cleaner's options for it,
// which bring in what storage does not know — the last stable offset as the upper bound, the
// aborted transactions whose records go, the aborted-list entry each removed marker ends,
// and protocol's compression codecs.
//
//   Result<storage::CleanOptions> options = partition_clean_options(partition, 16 * MiB);
//   Result<bool> started = partition.log->start_clean(*options);   // then clean_step...
//
// Markers the run drops below the index's reach are filtered from the index files at once and
// the files rewritten after the run (TxnIndex::begin_rewrite).
//
// Shard thread (the partition's owner) only: the hooks touch partition.producers while the run
// steps, so the partition must outlive the run (it does: the run lives in its Log).
#pragma once

#include <cstdint>

#include "broker/partitions/partition.h"
#include "storage/cleaner.h"

namespace cairn::broker {

// The aborted list is read from the index files too: their error if a read fails.
// REQUIRES: partition.usable(); no write of its index files in flight (txn_index.busy).
Result<storage::CleanOptions> partition_clean_options(Partition& partition, uint64_t key_map_bytes);

}  // namespace cairn::broker
