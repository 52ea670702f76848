// The sparse offset index and the time index of one segment, held in memory and mirrored into
// the segment's .index / .timeindex files (entries only; the flusher writes the header that
// vouches for them, see log_sync.h and docs/format/log.md).
//
// Offset index entry {relative_offset, position}: the batch whose base offset is
// segment base + relative_offset starts at `position` in the .log. One entry at most every
// index_interval_bytes of log.
// Time index entry {timestamp, relative_offset}: every batch before segment base +
// relative_offset has max_timestamp <= timestamp. Entries grow strictly in both fields.
//
// Thread safety: owned by a Segment; used only from the owning shard thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/format.h"

namespace cairn::storage {

struct OffsetIndexEntry {
  uint32_t relative_offset = 0;
  uint32_t position = 0;
};

struct TimeIndexEntry {
  TimestampMs timestamp;
  uint32_t relative_offset = 0;
};

class OffsetIndex {
 public:
  // REQUIRES: entries grow strictly in both fields.
  void append(OffsetIndexEntry entry);
  // Where to start scanning for `relative_offset`: the position of the last entry at or
  // before it, or 0.
  uint32_t lookup(uint32_t relative_offset) const;
  size_t size() const { return entries_.size(); }
  const std::vector<OffsetIndexEntry>& entries() const { return entries_; }
  // CRC-32C of all entries' encoded bytes, extended as entries are appended.
  uint32_t crc() const { return crc_; }

  static void encode(const OffsetIndexEntry& entry, std::span<uint8_t> out);
  // Decodes `count` entries from `bytes`; fails (corrupt) if they are not strictly growing.
  static Result<OffsetIndex> decode(std::span<const uint8_t> bytes, uint32_t count);

 private:
  std::vector<OffsetIndexEntry> entries_;
  uint32_t crc_ = 0;
};

class TimeIndex {
 public:
  // REQUIRES: entries grow strictly in both fields.
  void append(TimeIndexEntry entry);
  // The relative offset from which to scan for the first batch with max_timestamp >= target:
  // that of the last entry whose timestamp is < target, or 0.
  uint32_t lookup(TimestampMs target) const;
  size_t size() const { return entries_.size(); }
  std::optional<TimeIndexEntry> last() const {
    if (entries_.empty()) return std::nullopt;
    return entries_.back();
  }
  uint32_t crc() const { return crc_; }
  const std::vector<TimeIndexEntry>& entries() const { return entries_; }

  static void encode(const TimeIndexEntry& entry, std::span<uint8_t> out);
  static Result<TimeIndex> decode(std::span<const uint8_t> bytes, uint32_t count);

 private:
  std::vector<TimeIndexEntry> entries_;
  uint32_t crc_ = 0;
};

}  // namespace cairn::storage
