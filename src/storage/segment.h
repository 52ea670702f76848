// Segment: one <base>.log file of record batches with its offset and time index.
//
// Lifecycle: created empty (Segment::create) or found on disk (Segment::open_existing). The
// active segment of a Log takes appends; once the Log rolls, it is sealed and never written
// again, only read and eventually deleted by retention. Appends go to the page cache; the
// Flusher makes them durable (see log_sync.h). A Segment's files are held by shared_ptr so an
// in-flight read (FileRange) or fsync keeps them open after the segment is deleted.
//
// Thread safety: a Segment is used only from its Log's shard thread. Its SegmentFiles are
// shared with the flusher, which only calls sync() on them and writes index headers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/batch_header.h"
#include "storage/format.h"
#include "storage/index.h"
#include "storage/io.h"

namespace cairn::storage {

// The three open files of a segment. Immutable after creation; shared with the flusher.
struct SegmentFiles {
  std::string dir;
  Offset base_offset;
  std::shared_ptr<File> log;
  std::shared_ptr<File> offset_index;  // null until opened
  std::shared_ptr<File> time_index;    // null until opened
  // Appended to every file name: ".cleaned" while the cleaner writes a replacement segment
  // (docs/format/compaction.md), else empty.
  std::string name_suffix;

  // Flusher-owned: touched only by whoever runs this log's flush job (one at a time, handed
  // over under the LogSync mutex), or before the segment is published to the LogSync.
  uint64_t synced_bytes = 0;               // .log bytes known durable
  uint64_t header_log_bytes = UINT64_MAX;  // log_bytes of the last index header written
};

// What the shard thread publishes after each append, for the flusher to make durable and
// vouch for in the index headers.
struct SyncPoint {
  uint64_t log_bytes = 0;
  Offset next_offset;
  TimestampMs max_timestamp{-1};
  uint32_t offset_entries = 0;
  uint32_t offset_crc = 0;
  uint32_t time_entries = 0;
  uint32_t time_crc = 0;
  bool index_files_ok = true;  // every entry reached the index files (no write error)
};

class Segment {
 public:
  // Creates empty .log/.index/.timeindex files for a new segment (truncating leftovers).
  static Result<std::unique_ptr<Segment>> create(Io& io, const std::string& dir, Offset base_offset,
                                                 int64_t now_ms,
                                                 const std::string& name_suffix = "");
  // Opens an existing segment's .log without reading it. The caller then either trusts the
  // index header (adopt_header) or scans (recover_from).
  static Result<std::unique_ptr<Segment>> open_existing(Io& io, const std::string& dir,
                                                        Offset base_offset, int64_t now_ms);

  Offset base_offset() const { return files_->base_offset; }
  Offset next_offset() const { return next_offset_; }
  uint64_t size_bytes() const { return size_bytes_; }
  TimestampMs max_timestamp() const { return max_timestamp_; }
  int64_t created_ms() const { return created_ms_; }
  // The segment's newest time: its largest record timestamp or, while it holds none (empty,
  // or only magic 0 messages, which have no timestamp), the time it was created or opened.
  int64_t newest_ms() const {
    return max_timestamp_.value() >= 0 ? max_timestamp_.value() : created_ms_;
  }
  bool empty() const { return size_bytes_ == 0; }
  const std::shared_ptr<SegmentFiles>& files() const { return files_; }
  SyncPoint sync_point() const;

  // REQUIRES: `batch` is a whole v2 batch already stamped with its base offset, which is
  // next_offset() or (a compacted segment, see the cleaner) above it; `header` is its decoded
  // header. Writes it at the end of the .log.
  // On failure nothing changes (bytes past the end may have been written; they are
  // overwritten by the next append and cut by close/recovery).
  Status append(std::span<const uint8_t> batch, const BatchHeader& header,
                uint64_t index_interval_bytes);

  // The header of the batch at `position` (< size_bytes()). Reads through a small window so
  // consecutive headers cost one read per window.
  Result<BatchHeader> header_at(uint64_t position);
  // The first batch whose last offset is >= `offset`, or nullopt if `offset` >= next_offset.
  Result<std::optional<BatchHeader>> find_batch(Offset offset, uint64_t index_interval_bytes);
  // The first batch ending at or after `from` whose max timestamp >= `target`, or nullopt.
  Result<std::optional<BatchHeader>> find_batch_by_time(TimestampMs target, Offset from,
                                                        uint64_t index_interval_bytes);

  // Recovery: trust the on-disk index header (no read of the .log). Entries load on first use.
  // Bytes of the .log past header.log_bytes are cut (the caller knows they are not data).
  Status adopt_header(const format::IndexHeader& offset_header,
                      const format::IndexHeader& time_header);
  // Recovery: keep the first `header.log_bytes` (trusted, entries read from the index files
  // when `header` is given) and validate every batch after, batch by batch (length, CRC,
  // offsets). Returns the position of the first bad byte, or size if all is well; does not
  // truncate. Bytes read from the .log: only those after the trusted prefix.
  struct ScanResult {
    uint64_t valid_bytes = 0;
    bool clean_end = true;  // false: a bad batch starts at valid_bytes
  };
  Result<ScanResult> recover_from(const std::optional<format::IndexHeader>& offset_header,
                                  const std::optional<format::IndexHeader>& time_header,
                                  uint64_t index_interval_bytes);
  // After an index entry failed to reach the index files (disk full), writes them all again
  // so the flusher may vouch for them; stays broken (recovery rebuilds) if that fails too.
  Status repair_index_files();
  // Cuts the .log at `size_bytes` (a batch boundary found by recover_from).
  Status truncate(uint64_t size_bytes);
  // Reads the on-disk index headers (either may fail: corrupt / not_found).
  Result<format::IndexHeader> read_header(format::IndexKind kind);

  // The cleaner renamed this (staged) segment's files to their final names: drop the suffix.
  void clear_name_suffix() { files_->name_suffix.clear(); }
  // Closes nothing; deletes the three files (the data stays readable through open handles).
  Status remove_files(Io& io);

 private:
  Segment(Io& io, std::shared_ptr<SegmentFiles> files, int64_t created_ms)
      : io_(io), files_(std::move(files)), created_ms_(created_ms) {}
  Status open_index_files(OpenMode mode);
  Status ensure_index_loaded(uint64_t index_interval_bytes);
  Status load_index_entries(const format::IndexHeader& offset_header,
                            const format::IndexHeader& time_header);
  Status rebuild_index(uint64_t index_interval_bytes);
  void note_batch(const BatchHeader& header, uint64_t index_interval_bytes);
  Status scan_batches(uint64_t from, uint64_t index_interval_bytes, ScanResult* result);
  uint32_t relative(Offset offset) const;

  Io& io_;
  std::shared_ptr<SegmentFiles> files_;
  int64_t created_ms_ = 0;
  uint64_t size_bytes_ = 0;
  Offset next_offset_;
  TimestampMs max_timestamp_{-1};

  bool index_loaded_ = true;  // false: entries are on disk, not yet read (adopt_header)
  format::IndexHeader adopted_offset_header_;
  format::IndexHeader adopted_time_header_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  uint64_t bytes_since_index_entry_ = 0;
  bool index_files_ok_ = true;

  // Read window for header_at.
  std::vector<uint8_t> window_;
  uint64_t window_position_ = 0;
  size_t window_bytes_ = 0;
};

}  // namespace cairn::storage
