// CleanerShardStats: what the cleaner did and found on one shard, for a metrics endpoint
// (Kafka's LogCleaner metrics: max-dirty-percent, max-clean-time-secs,
// max-compaction-delay-secs, uncleanable-partitions-count, time-since-last-run-ms).
//
// Built when read (PartitionManager::cleaner_stats) from each of the shard's logs'
// storage::CleanerStats: totals since the broker started — including the logs of partitions
// deleted since, whose totals the shard keeps — and gauges over the shard's compacted logs as
// of each log's last check (a check is a start_clean: every log.cleaner.backoff.ms).
//
// Thread safety: a plain value; the PartitionManager builds it on the shard that owns the
// logs. A reader on another thread hops there (net::ShardSet::run_on) and gets a copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "storage/cleaner.h"
#include "storage/config.h"

namespace cairn::broker {

struct CleanerShardStats {
  // Totals.
  uint64_t runs = 0;           // committed
  uint64_t runs_aborted = 0;   // failed, or abandoned (stop, deletion, retention)
  uint64_t runs_failed = 0;    // failed runs and plannings (logged; tried again later)
  uint64_t bytes_read = 0;     // by every run, aborted ones included
  uint64_t bytes_written = 0;  // the same
  uint64_t records_removed = 0;
  uint64_t batches_removed = 0;
  uint64_t markers_removed = 0;  // COMMIT/ABORT markers
  int64_t last_run_ms = -1;      // clock time of the shard's last committed run, -1: none yet
  // Gauges over the compacted logs.
  size_t compacted_logs = 0;
  size_t uncleanable_logs = 0;          // whose last run or planning failed
  int64_t max_run_duration_ms = 0;      // of each log's last committed run
  double max_dirty_ratio = 0;           // dirty / cleanable bytes
  int64_t max_dirty_age_ms = 0;         // how old the oldest dirty batch of a log is (its lag)
  int64_t max_compaction_delay_ms = 0;  // how far that is past its max.compaction.lag.ms
};

// Adds a log's totals (not its gauges) to `stats`: for a log that goes away.
void add_totals(CleanerShardStats& stats, const storage::CleanerStats& log);
// Adds a log's totals, and for a compacted log (config.cleanup_compact) its gauges as of its
// last check, ages counted to `now_ms`.
void add_log(CleanerShardStats& stats, const storage::CleanerStats& log,
             const storage::LogConfig& config, int64_t now_ms);

}  // namespace cairn::broker
