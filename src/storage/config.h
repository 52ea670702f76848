// LogConfig: the per-partition knobs of a Log, named after the Kafka topic configs they
// implement. Plain value; a Log takes a copy (Log::set_config on its shard thread applies a
// change at runtime, e.g. after AlterConfigs).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "base/units.h"

namespace cairn::storage {

struct LogConfig {
  // segment.bytes: roll the active segment before it would grow past this.
  uint64_t segment_bytes = 1 * GiB;
  // segment.ms: roll a non-empty active segment this long after it was created.
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  // index.interval.bytes: at most this many log bytes between two offset index entries.
  uint64_t index_interval_bytes = 4 * KiB;
  // retention.bytes: delete the oldest segments while the rest still holds this much (-1: off).
  int64_t retention_bytes = -1;
  // retention.ms: delete segments whose newest batch is older than this (-1: off).
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  // flush.ms: data appended without a durability waiter (acks=1) is fsynced within this.
  int64_t flush_interval_ms = 1000;
  // flush.messages has no byte-level Kafka twin; this one is Cairn's: fsync once this many
  // bytes are unflushed, whether or not anyone waits.
  uint64_t flush_bytes = 64 * MiB;
  // How often the flusher also persists the active segment's index header (the recovery
  // point): after an unclean stop, at most this much of the tail is re-scanned.
  int64_t checkpoint_interval_ms = 1000;

  // cleanup.policy: "delete" (retention), "compact" (the cleaner keeps the latest record per
  // key, docs/compaction.md) or both. Retention applies only with cleanup_delete.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  // min.cleanable.dirty.ratio: clean once dirty bytes / cleanable bytes reach this.
  double min_cleanable_dirty_ratio = 0.5;
  // min.compaction.lag.ms: a segment whose newest batch is younger than this is not cleaned.
  int64_t min_compaction_lag_ms = 0;
  // max.compaction.lag.ms: dirty data older than this is cleaned whatever the dirty ratio.
  int64_t max_compaction_lag_ms = INT64_MAX;
  // delete.retention.ms: how long a tombstone (null value) outlives its batch's timestamp once
  // a clean has covered it (docs/compaction.md, "Tombstones").
  int64_t delete_retention_ms = 24LL * 3600 * 1000;
};

// Positions in the offset index are 32-bit, and a segment must hold at least one batch.
inline constexpr uint64_t kSegmentBytesMax = 2 * GiB;
inline constexpr uint64_t kSegmentBytesMin = 1 * KiB;

inline Status validate(const LogConfig& config) {
  if (config.segment_bytes < kSegmentBytesMin || config.segment_bytes > kSegmentBytesMax) {
    return error(StatusCode::invalid_argument, "segment_bytes out of range");
  }
  if (config.segment_ms <= 0 || config.flush_interval_ms <= 0 ||
      config.checkpoint_interval_ms <= 0) {
    return error(StatusCode::invalid_argument, "segment_ms/flush_interval_ms must be > 0");
  }
  if (config.index_interval_bytes == 0 || config.flush_bytes == 0) {
    return error(StatusCode::invalid_argument, "index_interval_bytes/flush_bytes must be > 0");
  }
  if (!config.cleanup_delete && !config.cleanup_compact) {
    return error(StatusCode::invalid_argument, "cleanup policy needs delete and/or compact");
  }
  if (!(config.min_cleanable_dirty_ratio >= 0.0 && config.min_cleanable_dirty_ratio <= 1.0)) {
    return error(StatusCode::invalid_argument, "min_cleanable_dirty_ratio outside [0, 1]");
  }
  if (config.min_compaction_lag_ms < 0 || config.delete_retention_ms < 0 ||
      config.max_compaction_lag_ms < 1) {
    return error(StatusCode::invalid_argument, "compaction lags / delete_retention_ms");
  }
  if (config.max_compaction_lag_ms < config.min_compaction_lag_ms) {
    return error(StatusCode::invalid_argument, "max_compaction_lag_ms < min_compaction_lag_ms");
  }
  return Status();
}

}  // namespace cairn::storage
