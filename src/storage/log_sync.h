// LogSync: the part of a Log shared between its shard thread and the flusher threads — what
// has been appended (published sync points), what is durable, who waits for what.
//
// Durability protocol (docs/format/log.md, "Durability"): the shard thread writes batches to
// the page cache and publishes a SyncPoint under the mutex. A flush job snapshots the points,
// releases the mutex, fdatasyncs the segment files (sealed segments first, then the active
// one), writes index headers that vouch for the synced prefix (the recovery point), and then
// advances durable_offset to the snapshot's end offset. So one fdatasync covers every batch
// appended before the snapshot: group commit. At most one job per log runs at a time; appends
// and waiters that arrive meanwhile are covered by the next job, queued the moment this one
// ends. A failed fdatasync fails the log for good: durable_offset never moves again and every
// waiter, present and future, gets the error (no retry-then-acknowledge, "fsyncgate").
//
// Thread safety: every public method may be called from any thread; the mutex is never held
// while calling the Flusher or a callback. Callbacks run on the thread that completes the
// flush (a flusher thread), or inline in wait_durable when already satisfied.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/io.h"
#include "storage/segment.h"

namespace cairn::storage {

class Flusher;

struct FlushStats {
  uint64_t flush_jobs = 0;  // jobs that synced something
  uint64_t data_syncs = 0;  // fdatasync calls on .log files
  uint64_t batches_appended = 0;
};

class LogSync : public std::enable_shared_from_this<LogSync> {
 public:
  using Callback = std::function<void(Status)>;
  using SteadyTime = std::chrono::steady_clock::time_point;

  LogSync(Io& io, std::string dir, Offset durable_offset, Flusher* flusher);

  // --- shard thread ---
  // The active segment after it took `appended_bytes` more (or after open/roll).
  void publish(const std::shared_ptr<SegmentFiles>& active, const SyncPoint& point,
               uint64_t appended_bytes, uint64_t appended_batches);
  // The active segment was rolled: `sealed` with its final point must still be persisted.
  void seal(const std::shared_ptr<SegmentFiles>& sealed, const SyncPoint& final_point);
  // New files were created or removed in the directory; the next flush fsyncs it.
  void mark_dir_dirty();
  // The log start offset changed; the next flush persists partition.meta.
  void set_log_start(Offset log_start_offset);
  // True while `files` has data or an index header the flusher has not persisted yet.
  bool pending(const SegmentFiles* files);
  void set_flush_config(uint64_t flush_bytes, int64_t flush_interval_ms,
                        int64_t checkpoint_interval_ms);

  // --- any thread ---
  // Calls `callback(ok)` once every offset <= `offset` is durable, or with the log's error.
  void wait_durable(Offset offset, Callback callback);
  // Calls `callback(ok)` once everything appended or changed (log start offset included)
  // before this call is durable.
  void wait_flushed(Callback callback);
  Offset durable_offset();
  Status failure();
  FlushStats stats();

  // Runs one flush job on the calling thread. `checkpoint` forces index headers for the
  // active segment. Returns the log's status afterwards.
  Status flush_now(bool checkpoint);
  // Used by the Flusher: run a queued job / a deadline passed.
  void run_queued_flush();
  bool on_deadline();
  // Stops the flusher from starting jobs, waits for a running one. Remaining waiters are told
  // `status` (shutting_down) by fail_waiters.
  void close();
  void fail_waiters(const Status& status);

 private:
  struct Job;
  void take_job_locked(Job& job, bool checkpoint);
  Status execute(Job& job);
  void finish_job(const Job& job, const Status& status);
  Status persist_headers(SegmentFiles& files, const SyncPoint& point);
  Status persist_meta(Offset log_start_offset);
  bool mark_queued_locked();
  Status run_flush(bool inline_call, bool checkpoint);

  Io& io_;
  const std::string dir_;
  Flusher* const flusher_;

  std::mutex mu_;
  std::condition_variable idle_;
  std::shared_ptr<SegmentFiles> active_;
  SyncPoint active_point_;
  std::vector<std::pair<std::shared_ptr<SegmentFiles>, SyncPoint>> sealed_;
  Offset end_offset_;
  Offset durable_offset_;
  uint64_t unflushed_bytes_ = 0;
  uint64_t change_generation_ = 0;
  uint64_t flushed_generation_ = 0;
  bool dir_dirty_ = false;
  bool meta_dirty_ = false;
  Offset log_start_offset_;
  Status failed_;
  std::multimap<Offset, Callback> offset_waiters_;
  std::multimap<uint64_t, Callback> generation_waiters_;
  bool queued_ = false;
  bool flushing_ = false;
  bool flush_again_ = false;
  bool closed_ = false;
  uint64_t flush_bytes_ = 64ull << 20;
  int64_t flush_interval_ms_ = 1000;
  int64_t checkpoint_interval_ms_ = 1000;
  SteadyTime last_checkpoint_;
  FlushStats stats_;
  uint64_t batches_flushed_ = 0;  // stats_.batches_appended when the last job began
};

}  // namespace cairn::storage
