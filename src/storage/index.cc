#include "storage/index.h"

#include <algorithm>

#include "base/crc32c.h"
#include "model/record_batch_view.h"

namespace cairn::storage {

using format::kOffsetEntryBytes;
using format::kTimeEntryBytes;

void OffsetIndex::encode(const OffsetIndexEntry& entry, std::span<uint8_t> out) {
  ASSERT(out.size() >= kOffsetEntryBytes);
  model::store_i32(out.data(), static_cast<int32_t>(entry.relative_offset));
  model::store_i32(out.data() + 4, static_cast<int32_t>(entry.position));
}

void OffsetIndex::append(OffsetIndexEntry entry) {
  if (!entries_.empty()) {
    ASSERT(entry.relative_offset > entries_.back().relative_offset);
    ASSERT(entry.position > entries_.back().position);
  }
  uint8_t bytes[kOffsetEntryBytes];
  encode(entry, bytes);
  crc_ = crc32c::extend(crc_, bytes, sizeof(bytes));
  entries_.push_back(entry);
}

uint32_t OffsetIndex::lookup(uint32_t relative_offset) const {
  auto it = std::upper_bound(
      entries_.begin(), entries_.end(), relative_offset,
      [](uint32_t target, const OffsetIndexEntry& e) { return target < e.relative_offset; });
  if (it == entries_.begin()) return 0;
  return std::prev(it)->position;
}

Result<OffsetIndex> OffsetIndex::decode(std::span<const uint8_t> bytes, uint32_t count) {
  if (bytes.size() < static_cast<size_t>(count) * kOffsetEntryBytes) {
    return error(StatusCode::corrupt, "offset index shorter than its entry count");
  }
  OffsetIndex index;
  index.entries_.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* p = bytes.data() + static_cast<size_t>(i) * kOffsetEntryBytes;
    OffsetIndexEntry entry{static_cast<uint32_t>(model::load_i32(p)),
                           static_cast<uint32_t>(model::load_i32(p + 4))};
    if (!index.entries_.empty() &&
        (entry.relative_offset <= index.entries_.back().relative_offset ||
         entry.position <= index.entries_.back().position)) {
      return error(StatusCode::corrupt, "offset index entries not increasing");
    }
    index.entries_.push_back(entry);
  }
  index.crc_ = crc32c::value(bytes.data(), static_cast<size_t>(count) * kOffsetEntryBytes);
  return index;
}

void TimeIndex::encode(const TimeIndexEntry& entry, std::span<uint8_t> out) {
  ASSERT(out.size() >= kTimeEntryBytes);
  model::store_i64(out.data(), entry.timestamp.value());
  model::store_i32(out.data() + 8, static_cast<int32_t>(entry.relative_offset));
}

void TimeIndex::append(TimeIndexEntry entry) {
  if (!entries_.empty()) {
    ASSERT(entry.timestamp > entries_.back().timestamp);
    ASSERT(entry.relative_offset > entries_.back().relative_offset);
  }
  uint8_t bytes[kTimeEntryBytes];
  encode(entry, bytes);
  crc_ = crc32c::extend(crc_, bytes, sizeof(bytes));
  entries_.push_back(entry);
}

uint32_t TimeIndex::lookup(TimestampMs target) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), target,
                       [](const TimeIndexEntry& e, TimestampMs t) { return e.timestamp < t; });
  if (it == entries_.begin()) return 0;
  return std::prev(it)->relative_offset;
}

Result<TimeIndex> TimeIndex::decode(std::span<const uint8_t> bytes, uint32_t count) {
  if (bytes.size() < static_cast<size_t>(count) * kTimeEntryBytes) {
    return error(StatusCode::corrupt, "time index shorter than its entry count");
  }
  TimeIndex index;
  index.entries_.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* p = bytes.data() + static_cast<size_t>(i) * kTimeEntryBytes;
    TimeIndexEntry entry{TimestampMs(model::load_i64(p)),
                         static_cast<uint32_t>(model::load_i32(p + 8))};
    if (!index.entries_.empty() &&
        (entry.timestamp <= index.entries_.back().timestamp ||
         entry.relative_offset <= index.entries_.back().relative_offset)) {
      return error(StatusCode::corrupt, "time index entries not increasing");
    }
    index.entries_.push_back(entry);
  }
  index.crc_ = crc32c::value(bytes.data(), static_cast<size_t>(count) * kTimeEntryBytes);
  return index;
}

}  // namespace cairn::storage
