#include "broker/partitions/cleaner_stats.h"

#include <algorithm>

namespace cairn::broker {

void add_totals(CleanerShardStats& stats, const storage::CleanerStats& log) {
  stats.runs += log.runs;
  stats.runs_aborted += log.runs_aborted;
  stats.runs_failed += log.runs_failed;
  stats.bytes_read += log.bytes_read;
  stats.bytes_written += log.bytes_written;
  stats.records_removed += log.records_removed;
  stats.batches_removed += log.batches_removed;
  stats.markers_removed += log.markers_removed;
  stats.last_run_ms = std::max(stats.last_run_ms, log.last_run_ms);
}

void add_log(CleanerShardStats& stats, const storage::CleanerStats& log,
             const storage::LogConfig& config, int64_t now_ms) {
  add_totals(stats, log);
  if (!config.cleanup_compact) return;
  stats.compacted_logs++;
  if (log.last_run_failed) stats.uncleanable_logs++;
  stats.max_run_duration_ms = std::max(stats.max_run_duration_ms, log.last_run_duration_ms);
  if (log.last_check_ms < 0) return;  // not checked yet
  stats.max_dirty_ratio = std::max(stats.max_dirty_ratio, log.dirty_ratio);
  if (log.dirty_since_ms < 0) return;
  int64_t age_ms = std::max<int64_t>(0, now_ms - log.dirty_since_ms);
  stats.max_dirty_age_ms = std::max(stats.max_dirty_age_ms, age_ms);
  // max.compaction.lag.ms defaults to Long.MAX: no delay then.
  if (age_ms > config.max_compaction_lag_ms) {
    stats.max_compaction_delay_ms =
        std::max(stats.max_compaction_delay_ms, age_ms - config.max_compaction_lag_ms);
  }
}

}  // namespace cairn::broker
