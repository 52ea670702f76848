// Log: one partition's durable, segmented log of Kafka v2 record batches.
//
// A Log is a directory of segments (segment.h) — the active one takes appends, the sealed ones
// are read and retired by retention — plus a LogSync shared with the Flusher (log_sync.h).
// Offsets: the broker hands over a batch and the Log assigns its base offset (stamps it into
// the bytes). Three offsets describe the log:
//   log_start_offset  the first offset that may be read (retention, DeleteRecords)
//   log_end_offset    the next offset to be assigned (LEO)
//   durable_offset    every offset below it has been fsynced; <= log_end_offset
// Append returns as soon as the batch is in the page cache; durability is separate:
// wait_durable(last_offset, cb) calls back once a (group-committed) fdatasync covered it.
// Reads return whole batches as file ranges for sendfile, never past the `max_offset` the
// caller passes (the high watermark it wants visible).
//
// Errors: no_space (appends fail, reads go on, appends work again when space returns);
// io_error (a write or fsync failed: the log refuses everything for good, never acknowledges
// after a failed fsync); fenced (corrupt data in the middle of the log: the log refuses
// everything until an operator intervenes). The broker maps io_error and fenced to
// KAFKA_STORAGE_ERROR.
//
// Thread safety: a Log is touched only from its owning shard thread. wait_durable callbacks
// run on a flusher thread (or inline when already durable); post them back to the shard.
// Example:
//   auto log = Log::open({.dir = "/data/t-0", .flusher = &flusher});
//   auto appended = (*log)->append(batch_bytes);             // stamps the base offset
//   (*log)->wait_durable(appended->last_offset, [](Status s) { /* post: ack acks=all */ });
//   auto read = (*log)->read(Offset(0), 1 << 20, (*log)->log_end_offset());
//   for (const FileRange& r : read->ranges) sendfile(socket, r.fd(), r.position, r.size_bytes);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/batch_header.h"
#include "storage/cleaner.h"
#include "storage/clock.h"
#include "storage/config.h"
#include "storage/io.h"
#include "storage/log_sync.h"
#include "storage/segment.h"

namespace cairn::storage {

class Flusher;

struct LogOptions {
  std::string dir;
  LogConfig config;
  Io* io = nullptr;            // default: posix_io()
  Clock* clock = nullptr;      // default: system_clock()
  Flusher* flusher = nullptr;  // null: nothing is flushed until flush() or close()
};

struct AppendResult {
  Offset base_offset;
  Offset last_offset;
};

// A byte range of a segment file. Holding it keeps the file open (even if retention deletes
// the segment meanwhile), so a sendfile can finish.
struct FileRange {
  std::shared_ptr<File> file;
  uint64_t position = 0;
  uint64_t size_bytes = 0;
  int fd() const { return file->fd(); }
};

// A segment as Log::segment_times reports it.
struct SegmentTime {
  Offset base_offset;
  int64_t newest_ms = 0;
};

struct ReadResult {
  std::vector<FileRange> ranges;  // whole batches, in offset order
  Offset first_offset;            // base offset of the first batch returned (if any)
  Offset next_offset;             // the offset after the last batch returned
  uint64_t size_bytes = 0;
  size_t batch_count = 0;
  bool empty() const { return batch_count == 0; }
};

// Log summary for metrics and tests.
struct LogInfo {
  size_t segment_count = 0;
  uint64_t size_bytes = 0;
  bool opened_clean = false;            // the last stop was clean
  uint64_t recovery_scanned_bytes = 0;  // .log bytes validated by open
  uint64_t recovery_truncated_bytes = 0;
};

class Log {
 public:
  using Callback = LogSync::Callback;

  // Opens (or creates) the log in options.dir and recovers it if its last stop was unclean.
  // A log with corrupt data in its middle opens fenced (health() says why).
  static Result<std::unique_ptr<Log>> open(LogOptions options);
  // Without close(): like a crash — no clean-shutdown marker; waiters get shutting_down.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Clean shutdown: fsyncs everything, writes the index headers and the clean-shutdown marker.
  Status close();

  // Whether append() computes the batch CRC itself; a caller that has just verified it (the
  // Produce path) passes already_verified to save a second pass over the bytes.
  enum class Crc { verify, already_verified };
  // REQUIRES: `batch` is exactly one v2 record batch. Checks it (length, magic, CRC), stamps
  // its base offset in place (outside the CRC's span), rolls if needed and writes it to the
  // page cache.
  Result<AppendResult> append(std::span<uint8_t> batch, Crc crc = Crc::verify);
  // Calls back once every offset <= `offset` is durable (or with the log's error).
  void wait_durable(Offset offset, Callback callback);
  // Calls back once everything done before (appends, delete_prefix, retention) is durable.
  void wait_flushed(Callback callback);
  // Flushes on the calling thread (tests, tools, shutdown). Blocks on fdatasync.
  Status flush();

  // Whole batches from the one containing `offset`, as long as they end below `max_offset`
  // and fit in `max_bytes` — except that the first batch is returned whatever its size
  // (KIP-74). out_of_range if `offset` is below the log start or above the log end.
  Result<ReadResult> read(Offset offset, uint64_t max_bytes, Offset max_offset);
  // Copies the ranges of `result` into one buffer and checks every batch's CRC (a mismatch
  // fences the log).
  Result<std::vector<uint8_t>> copy(const ReadResult& result);
  // The base offset of the first batch whose max timestamp >= `target` (clamped to the log
  // start), or nullopt if there is none.
  Result<std::optional<Offset>> offset_for_timestamp(TimestampMs target);
  // The highest batch max timestamp in the log from its start (-1 when empty); with
  // offset_for_timestamp it finds the record ListOffsets MAX_TIMESTAMP (KIP-734) asks for.
  TimestampMs max_timestamp() const;
  // Visits the headers of the batches from the one containing `from` to the end, in order,
  // while `visit` returns true. Reads only headers (for the producer-state rebuild).
  Status scan_headers(Offset from, const std::function<bool(const BatchHeader&)>& visit);

  // Deletes whole sealed segments past retention.ms / retention.bytes or below the log start.
  // Returns how many. Segments not yet durable wait for a later call.
  Result<size_t> apply_retention();
  // DeleteRecords: moves the log start offset up to `offset` (<= log end) and deletes the
  // segments wholly below it. Durable once wait_flushed calls back.
  Status delete_prefix(Offset offset);
  // The base offset of the active segment: it changes exactly when the log rolls.
  Offset active_segment_base() const { return segments_.rbegin()->first; }
  // The base offsets of every segment, ascending (the last is the active one).
  std::vector<Offset> segment_bases() const {
    std::vector<Offset> bases;
    bases.reserve(segments_.size());
    for (const auto& [base, segment] : segments_) bases.push_back(base);
    return bases;
  }
  // Each segment's base offset (clamped to the log start) and newest time
  // (Segment::newest_ms), ascending; the last is the active segment. ListOffsets v0 answers
  // from these, as Kafka 0.8 did from its segment files' modification times.
  std::vector<SegmentTime> segment_times() const;
  // Seals the active segment and starts a new one (no-op if the active one is empty).
  Status roll();

  // Log compaction (cleaner.h, docs/compaction.md). start_clean plans a run: false when there
  // is nothing to clean yet (policy without compact, lag, dirty ratio). Then call clean_step
  // until it returns false, yielding in between; the last step swaps the segments. A run in
  // progress is dropped by close() and by retention deleting one of its segments.
  Result<bool> start_clean(const CleanOptions& options);
  Result<bool> clean_step(uint64_t budget_bytes);
  void abort_clean();
  bool cleaning() const { return cleaner_ != nullptr; }
  // A whole run at once (tests, tools): start_clean and clean_step until done.
  Result<bool> clean(const CleanOptions& options);
  const CleanerStats& cleaner_stats() const { return cleaner_stats_; }

  Offset log_start_offset() const { return log_start_offset_; }
  Offset log_end_offset() const;
  Offset durable_offset() const { return sync_->durable_offset(); }
  // ok, fenced (corrupt mid-log data) or io_error (failed write/fsync).
  Status health() const;
  const LogConfig& config() const { return config_; }
  Status set_config(const LogConfig& config);
  LogInfo info() const;
  FlushStats flush_stats() const { return sync_->stats(); }
  const std::string& dir() const { return dir_; }

 private:
  friend class LogOpener;
  friend class Cleaner;
  Log(LogOptions options);
  Status writable() const;
  Status maybe_roll(uint64_t batch_bytes, int32_t last_offset_delta);
  Status roll_at(Offset base_offset);
  Result<size_t> delete_old_segments(bool by_retention);
  void fence(const Status& status);
  Segment* segment_for(Offset offset);
  Segment& active() const { return *segments_.rbegin()->second; }

  Io& io_;
  Clock& clock_;
  Flusher* flusher_;
  std::string dir_;
  LogConfig config_;
  std::map<Offset, std::unique_ptr<Segment>> segments_;
  std::shared_ptr<LogSync> sync_;
  Offset log_start_offset_;
  Status fenced_;
  Status append_failed_;  // io_error from a write: fatal
  bool closed_ = false;
  bool tail_dirty_ = false;  // a failed append left bytes past the active's end, not yet cut
  LogInfo info_;
  std::unique_ptr<Cleaner> cleaner_;
  CleanerStats cleaner_stats_;
};

}  // namespace cairn::storage
