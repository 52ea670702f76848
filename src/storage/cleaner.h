// Cleaner: log compaction (Kafka's cleanup.policy=compact) of one Log's sealed segments.
//
// A run keeps, per key, only the record with the highest offset, in every sealed segment below
// an upper bound (the last stable offset; at most the active segment's base). Offsets are
// preserved: a segment is rewritten in place of itself with the same base offset and the same
// next offset (its last batch is always kept, emptied if need be), so later offsets never move
// and the offset and time indexes are rebuilt for the new file. Rules (docs/compaction.md):
//   - a keyed record is dropped when a later record of the same key was indexed by this run;
//   - a tombstone (null value) is dropped once a previous run covered it (it lies below the
//     clean point of the run before) and delete.retention.ms has passed since its batch's
//     max timestamp;
//   - null-key records are kept; batches the `discard` hook names (aborted transactions) are
//     dropped; the last data batch of each producer id keeps its header (emptied if none of
//     its records stay), and so does the last batch of each segment; other emptied batches go;
//   - a COMMIT/ABORT marker (control batch) is dropped once its transaction has no batch left
//     in the log — the run met no transactional batch of its producer since the producer's
//     previous marker — and it has aged like a tombstone (covered by a previous run,
//     delete.retention.ms past its timestamp); a marker that is its producer's last control
//     batch or its segment's last batch stays whole; other control batches are kept;
//   - a compressed batch it cannot read is kept whole, and tombstones after it stay;
//   - segments younger than min.compaction.lag.ms are not touched; a run starts only when the
//     dirty share of the cleanable bytes reaches min.cleanable.dirty.ratio, or the dirty data
//     is older than max.compaction.lag.ms, or the caller forces it.
// Keys are indexed as 128-bit hashes in a fixed-size table (CleanOptions::key_map_bytes); when
// the dirty data has more keys than fit, the run covers the prefix that fits and the next run
// goes on from there (the clean point, kept in cleaner.checkpoint).
//
// Work is incremental: Log::start_clean plans a run, each Log::clean_step(budget_bytes) reads
// about that many bytes and returns, the last step commits. The swap of the rewritten segments
// is crash safe (docs/format/compaction.md): a crash leaves the old set or the new one, and
// Log::open finishes or rolls back. Readers are not disturbed: a FileRange keeps the old file.
//
// Thread safety: a Cleaner belongs to its Log and runs on the Log's shard thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "base/units.h"
#include "storage/batch_header.h"
#include "storage/io.h"
#include "storage/record_filter.h"
#include "storage/segment.h"

namespace cairn::storage {

class Log;

using Decompressor = std::function<Result<std::vector<uint8_t>>(
    model::Compression codec, std::span<const uint8_t> payload)>;

struct CleanOptions {
  // Offsets at or past this are not cleaned: the last stable offset, so an open transaction's
  // records stay. nullopt: the active segment's base. Only whole segments below it are cleaned.
  std::optional<Offset> upper_bound;
  // True for a (non-control) batch that belongs to an aborted transaction: its records go (an
  // empty batch stays when it is its producer's or its segment's last batch).
  std::function<bool(const BatchHeader&)> discard;
  // Called with the header of each COMMIT/ABORT marker the run drops, when it decides to (the
  // run may still fail and leave the marker in place; it then goes in a later run). By then
  // no batch of its transaction is left in the log, so the caller can forget the transaction
  // (the broker drops it from the partition's aborted-transaction list).
  std::function<void(const BatchHeader&)> marker_removed;
  // log.cleaner.dedupe.buffer.size for this log: bytes of the key table (24 bytes a key).
  uint64_t key_map_bytes = 16 * MiB;
  // Ignore min.cleanable.dirty.ratio (tests, tools).
  bool force = false;
  // Codecs for compressed batches (src/protocol/compression.h). Without them, or when
  // decompression fails (too large, unsupported codec), a compressed batch is kept whole and
  // its keys do not supersede older records (safe, less compaction).
  // Rewritten compressed batches are recompressed with their own codec.
  Decompressor decompress;
  Compressor compress;
};

// What a Log's cleaner did (totals since the Log opened) and found at its last check, for
// metrics (the broker sums them per shard: partitions/partition_manager.h). Read on the Log's
// shard, like the Log.
struct CleanerStats {
  uint64_t runs = 0;                  // committed runs
  uint64_t runs_aborted = 0;          // failed, or abandoned by retention / close / the caller
  uint64_t runs_failed = 0;           // runs and plannings that failed (I/O error, corruption)
  bool last_run_failed = false;       // until a run commits
  uint64_t bytes_read = 0;            // by every run, aborted ones included, as they go
  uint64_t bytes_written = 0;         // the same: staged replacement batches
  uint64_t records_removed = 0;       // by committed runs, markers included
  uint64_t batches_removed = 0;       // batches dropped whole
  uint64_t markers_removed = 0;       // of those, COMMIT/ABORT control batches
  int64_t last_run_ms = -1;           // clock time the last run committed
  int64_t last_run_duration_ms = -1;  // from its planning to its commit
  // As of the last check (start_clean), over the cleanable segments:
  int64_t last_check_ms = -1;
  double dirty_ratio = 0;       // dirty / cleanable bytes
  int64_t dirty_since_ms = -1;  // timestamp of the oldest dirty batch; -1: nothing dirty
  Offset clean_point{0};        // dirty data starts here
};

// 128-bit hash of a key: two independent 64-bit lanes. Not cryptographic; see docs/compaction.md
// for what a collision would cost.
struct KeyHash {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const KeyHash&) const = default;
};
KeyHash hash_key(std::span<const uint8_t> key);

// Fixed-size open-addressing table key hash -> latest offset. Never grows: the cleaner checks
// room() before adding a batch's keys.
class KeyMap {
 public:
  explicit KeyMap(uint64_t bytes);
  size_t room() const { return entries_max_ - size_; }
  size_t size() const { return size_; }
  // REQUIRES: room() > 0 or the key is present.
  void put(const KeyHash& hash, Offset offset);
  std::optional<Offset> get(const KeyHash& hash) const;

 private:
  struct Slot {
    KeyHash hash;
    int64_t offset = -1;  // -1: empty
  };
  size_t find(const KeyHash& hash) const;
  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t entries_max_ = 0;
};

class Cleaner {
 public:
  // Plans a run over `log`; null when there is nothing to clean yet (policy, lag, ratio).
  static Result<std::unique_ptr<Cleaner>> plan(Log& log, const CleanOptions& options);
  ~Cleaner();

  // Does about `budget_bytes` of reading and writing; true while more remains. The last step
  // commits the swap. On error the run is abandoned (staged files removed; after the commit
  // point the log fails with io_error and the next open finishes the swap).
  Result<bool> step(uint64_t budget_bytes);
  // Removes the staged files (close, retention deleted a source segment, shutdown).
  void abort();

 private:
  struct Source {
    Segment* segment;
    std::shared_ptr<SegmentFiles> files;  // identity, to detect retention meanwhile
  };
  Cleaner(Log& log, const CleanOptions& options) : log_(log), options_(options) {}
  Result<std::vector<uint8_t>> read_batch(Segment& segment, const BatchHeader& header);
  Result<std::optional<std::vector<uint8_t>>> records_of(const std::vector<uint8_t>& batch);
  Status scan_producers_step(uint64_t* budget);
  Status build_map_step(uint64_t* budget);
  Status index_batch(const BatchHeader& header, const std::vector<uint8_t>& batch);
  Status clean_step(uint64_t* budget);
  Status clean_batch(Source& source, const BatchHeader& header);
  Status clean_marker(const BatchHeader& header, std::vector<uint8_t> batch, bool must_stay);
  Status write_batch(const BatchHeader& header, std::vector<uint8_t> out);
  // A tombstone at `offset` of `header`'s batch, or a marker, may go: a previous run covered
  // it and delete.retention.ms has passed since the batch's max timestamp.
  bool aged(const BatchHeader& header, Offset offset) const {
    return offset < previous_clean_point_ &&
           header.max_timestamp.value() <= now_ms_ - delete_retention_ms();
  }
  int64_t delete_retention_ms() const;
  Status finish_segment();
  Status commit();
  Status install();

  enum class Phase { producers, map, clean, commit, done };
  Log& log_;
  CleanOptions options_;
  int64_t now_ms_ = 0;
  Offset previous_clean_point_;  // tombstones below it have been covered by a run
  Offset map_start_;             // the clean point when planned
  Offset map_end_;               // offsets >= this were not indexed: kept as they are
  std::vector<Source> sources_;  // cleanable sealed segments, in offset order
  size_t first_dirty_ = 0;       // index in sources_ of the segment holding map_start_
  std::unique_ptr<KeyMap> map_;
  // Producer id -> base offsets of its last data batch and of its last control batch.
  struct ProducerLast {
    Offset data{-1};
    Offset control{-1};
  };
  std::unordered_map<int64_t, ProducerLast> producer_last_;
  // Producers with a transactional batch met by the rewrite since their last control batch:
  // the transaction a marker ends still has data in the log, so the marker stays.
  std::unordered_set<int64_t> transaction_data_seen_;

  Phase phase_ = Phase::producers;
  bool committed_ = false;    // cleaner.swap is durable: the new set wins, even after a crash
  bool opaque_seen_ = false;  // passed a batch it could not read: tombstones stay
  uint64_t records_removed_ = 0;
  uint64_t batches_removed_ = 0;
  uint64_t markers_removed_ = 0;
  size_t cursor_segment_ = 0;
  uint64_t cursor_position_ = 0;
  std::unique_ptr<Segment> staging_;
  std::vector<std::unique_ptr<Segment>> staged_;  // finished replacements, in source order
};

// Log::open, before the segments are listed: with a committed cleaner.swap, renames every
// *.cleaned file into place and records the swap's clean point; without one, deletes the
// *.cleaned leftovers of an unfinished run. Returns the clean point (0 if none is recorded).
Result<Offset> recover_cleaner_files(Io& io, const std::string& dir);

}  // namespace cairn::storage
