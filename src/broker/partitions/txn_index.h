// TxnIndex: a partition's aborted transactions on disk, one `<base>.txnindex` file per sealed
// segment (Kafka's transaction index), so the broker's memory holds only the aborted
// transactions of the newest segments however long the log is kept.
//
// Every aborted transaction is listed once, as (producer id, first offset, offset of its
// ABORT marker, the LSO after the marker), in the file of the segment its marker is in. The
// producer state (producers/producer_state.h) lists in memory those whose marker is at or past
// its `indexed_below()` offset; the files here list the ones below it. When a segment is
// sealed, its aborts move from memory into its file (index_sealed_segments in
// producer_recovery.h), then the producer snapshot records the new `indexed_below`. Files are
// replaced atomically, durably, before the snapshot that relies on them, so after a crash the
// snapshot never claims a file that is not there; files at or past the snapshot's
// `indexed_below` are deleted on open and written again from the replayed log.
//
// Format (docs/format/partition-dir.md): a 16-byte header, then fixed 32-byte entries sorted by
// marker offset; read with a binary search and a few small reads, never loaded whole.
//
//   TxnIndex index;
//   index.attach(io, log.dir());
//   RETURN_IF_ERROR(index.load(log.segment_bases(), table.indexed_below()));
//   std::vector<AbortedTxn> out;
//   Result<bool> complete = index.collect(from, upper, out);
//
// Thread safety: owned by a Partition, used on its shard thread (or by whoever holds the
// partition at open and close). write_txn_index_files touches only the files: any thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/producers/producer_state.h"
#include "storage/io.h"

namespace cairn::broker {

inline constexpr const char* kTxnIndexSuffix = ".txnindex";

// The file for the segment at `base` and what it should list (empty: no file).
struct TxnIndexFile {
  Offset base;
  std::vector<producers::AbortedTxn> entries;  // by marker offset
};

// Files to rewrite without the entries of markers the cleaner dropped, and those markers.
struct TxnIndexRewrite {
  std::vector<TxnIndexFile> files;
  std::vector<std::pair<int64_t, int64_t>> markers;  // (producer id, marker offset)
};

// Replaces each file durably with its entries, or removes it when it has none (a missing
// file is fine). Any thread; callers serialize writes to one partition's files.
Status write_txn_index_files(storage::Io& io, const std::string& dir,
                             const std::vector<TxnIndexFile>& files);

class TxnIndex {
 public:
  void attach(storage::Io& io, std::string dir) {
    io_ = &io;
    dir_ = std::move(dir);
  }

  // On open: keeps the files of segments below `indexed_below` (checking each file's CRC and
  // size), deletes the others (a segment retention or the cleaner removed, files a crash
  // left past the snapshot's reach, temporary files). corrupt if a kept file is damaged: the
  // caller then forgets the snapshot and replays the whole log.
  Status load(const std::vector<Offset>& segment_bases, Offset indexed_below);
  // Deletes every file (before a replay of the whole log rebuilds them).
  Status remove_all();

  // Appends to `out` the listed aborts with marker >= from and first offset < upper, in
  // marker order. Returns true when no later abort can qualify (one ended with the LSO past
  // `upper`), false when the caller must look further (the aborts still in memory).
  Result<bool> collect(Offset from, Offset upper, std::vector<producers::AbortedTxn>& out) const;
  // Every listed abort, in marker order (the cleaner's discard list).
  Result<std::vector<producers::AbortedTxn>> read_all() const;
  // The entries of the file for `base` (none if it has no file).
  Result<std::vector<producers::AbortedTxn>> read(Offset base) const;

  // Files were written (or removed, when empty) by write_txn_index_files.
  void written(const std::vector<TxnIndexFile>& files);
  // Retention deleted the segments below `first_segment_base`: their files go too.
  Status remove_below(Offset first_segment_base);

  // The cleaner dropped this marker (below indexed_below): the entry is no longer listed,
  // and its file is rewritten after the run (begin_rewrite).
  void marker_removed(ProducerId producer_id, Offset marker_offset) {
    removed_.emplace(producer_id.value(), marker_offset.value());
  }
  // The files to rewrite without the removed markers' entries. A file left with none is
  // forgotten now (it lists nothing any more), so no reader opens it while it is deleted.
  Result<TxnIndexRewrite> begin_rewrite();
  // That rewrite is durable: its markers need no filtering any more. (After a failed one the
  // markers stay filtered; a file that was to go may stay on disk, unlisted, until the next
  // open deletes or re-checks it — forget_removed_markers in transactions.h.)
  void rewritten(const TxnIndexRewrite& rewrite);

  const std::set<Offset>& bases() const { return bases_; }
  // A write of this partition's files is in flight (off the shard): no other may start, and
  // no cleaner run (it would change what the write is based on).
  bool busy = false;

 private:
  std::string path_for(Offset base) const;
  // The base of the file holding the marker at `marker_offset`, or -1 if none can.
  Offset base_for(Offset marker_offset) const;
  bool is_removed(const producers::AbortedTxn& entry) const {
    return removed_.contains({entry.producer_id.value(), entry.last_offset.value()});
  }

  storage::Io* io_ = nullptr;
  std::string dir_;
  std::set<Offset> bases_;                         // segments with a file
  std::set<std::pair<int64_t, int64_t>> removed_;  // (producer id, marker offset)
  Offset floor_{0};  // the first segment's base at the last remove_below
};

}  // namespace cairn::broker
