#include "storage/segment.h"

#include <algorithm>

#include "base/crc32c.h"
#include "model/record_batch_view.h"

namespace cairn::storage {

namespace {

constexpr size_t kHeaderWindowBytes = 16 * 1024;
using model::batch_layout::kHeaderBytes;

std::string path_of(const SegmentFiles& files, const char* suffix) {
  return files.dir + "/" + format::segment_file_name(files.base_offset, suffix) +
         files.name_suffix;
}

}  // namespace

Result<std::unique_ptr<Segment>> Segment::create(Io& io, const std::string& dir, Offset base_offset,
                                                 int64_t now_ms, const std::string& name_suffix) {
  auto files = std::make_shared<SegmentFiles>();
  files->dir = dir;
  files->base_offset = base_offset;
  files->name_suffix = name_suffix;
  auto log = io.open(path_of(*files, format::kLogSuffix), OpenMode::create_truncate);
  if (!log.ok()) return log.status();
  files->log = std::move(log.value());
  std::unique_ptr<Segment> segment(new Segment(io, std::move(files), now_ms));
  segment->next_offset_ = base_offset;
  RETURN_IF_ERROR(segment->open_index_files(OpenMode::create_truncate));
  return segment;
}

Result<std::unique_ptr<Segment>> Segment::open_existing(Io& io, const std::string& dir,
                                                        Offset base_offset, int64_t now_ms) {
  auto files = std::make_shared<SegmentFiles>();
  files->dir = dir;
  files->base_offset = base_offset;
  auto log = io.open(path_of(*files, format::kLogSuffix), OpenMode::read_write);
  if (!log.ok()) return log.status();
  files->log = std::move(log.value());
  auto size = files->log->size_bytes();
  if (!size.ok()) return size.status();
  std::unique_ptr<Segment> segment(new Segment(io, std::move(files), now_ms));
  segment->size_bytes_ = *size;
  segment->next_offset_ = base_offset;
  return segment;
}

Status Segment::open_index_files(OpenMode mode) {
  if (files_->offset_index != nullptr) return Status();
  auto offset_index = io_.open(path_of(*files_, format::kOffsetIndexSuffix), mode);
  if (!offset_index.ok()) return offset_index.status();
  auto time_index = io_.open(path_of(*files_, format::kTimeIndexSuffix), mode);
  if (!time_index.ok()) return time_index.status();
  // The flusher reads these pointers only after the segment is published to it, which
  // happens under the LogSync mutex after this point.
  files_->offset_index = std::move(offset_index.value());
  files_->time_index = std::move(time_index.value());
  return Status();
}

uint32_t Segment::relative(Offset offset) const {
  int64_t delta = offset.value() - base_offset().value();
  ASSERT(delta >= 0);
  ASSERT(delta <= INT32_MAX);
  return static_cast<uint32_t>(delta);
}

SyncPoint Segment::sync_point() const {
  SyncPoint point;
  point.log_bytes = size_bytes_;
  point.next_offset = next_offset_;
  point.max_timestamp = max_timestamp_;
  if (index_loaded_) {
    point.offset_entries = static_cast<uint32_t>(offset_index_.size());
    point.offset_crc = offset_index_.crc();
    point.time_entries = static_cast<uint32_t>(time_index_.size());
    point.time_crc = time_index_.crc();
  } else {
    point.offset_entries = adopted_offset_header_.entry_count;
    point.offset_crc = adopted_offset_header_.entries_crc;
    point.time_entries = adopted_time_header_.entry_count;
    point.time_crc = adopted_time_header_.entries_crc;
  }
  point.index_files_ok = index_files_ok_;
  return point;
}

void Segment::note_batch(const BatchHeader& h, uint64_t index_interval_bytes) {
  ASSERT(h.position == size_bytes_);
  ASSERT(h.base_offset >= next_offset_);  // compacted segments have gaps
  if (h.position > 0 && bytes_since_index_entry_ >= index_interval_bytes) {
    uint32_t rel = relative(h.base_offset);
    OffsetIndexEntry entry{rel, static_cast<uint32_t>(h.position)};
    offset_index_.append(entry);
    if (index_files_ok_) {
      uint8_t bytes[format::kOffsetEntryBytes];
      OffsetIndex::encode(entry, bytes);
      uint64_t at = format::kIndexHeaderBytes + (offset_index_.size() - 1) * sizeof(bytes);
      index_files_ok_ = files_->offset_index->write_at(at, bytes).ok();
    }
    auto last = time_index_.last();
    if (!last.has_value() || max_timestamp_ > last->timestamp) {
      TimeIndexEntry time_entry{max_timestamp_, rel};
      time_index_.append(time_entry);
      if (index_files_ok_) {
        uint8_t bytes[format::kTimeEntryBytes];
        TimeIndex::encode(time_entry, bytes);
        uint64_t at = format::kIndexHeaderBytes + (time_index_.size() - 1) * sizeof(bytes);
        index_files_ok_ = files_->time_index->write_at(at, bytes).ok();
      }
    }
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += h.size_bytes();
  size_bytes_ = h.position + h.size_bytes();
  next_offset_ = h.next_offset();
  max_timestamp_ = std::max(max_timestamp_, h.max_timestamp);
}

Status Segment::append(std::span<const uint8_t> batch, const BatchHeader& header,
                       uint64_t index_interval_bytes) {
  ASSERT(header.base_offset >= next_offset_);
  ASSERT(batch.size() == header.size_bytes());
  ASSERT(header.position == size_bytes_);
  RETURN_IF_ERROR(ensure_index_loaded(index_interval_bytes));
  RETURN_IF_ERROR(files_->log->write_at(size_bytes_, batch));
  note_batch(header, index_interval_bytes);
  return Status();
}

Status Segment::repair_index_files() {
  if (index_files_ok_ || !index_loaded_) return Status();
  std::vector<uint8_t> bytes(offset_index_.size() * format::kOffsetEntryBytes);
  for (size_t i = 0; i < offset_index_.size(); i++) {
    OffsetIndex::encode(offset_index_.entries()[i],
                        std::span(bytes).subspan(i * format::kOffsetEntryBytes));
  }
  RETURN_IF_ERROR(files_->offset_index->write_at(format::kIndexHeaderBytes, bytes));
  bytes.assign(time_index_.size() * format::kTimeEntryBytes, 0);
  for (size_t i = 0; i < time_index_.size(); i++) {
    TimeIndex::encode(time_index_.entries()[i],
                      std::span(bytes).subspan(i * format::kTimeEntryBytes));
  }
  RETURN_IF_ERROR(files_->time_index->write_at(format::kIndexHeaderBytes, bytes));
  index_files_ok_ = true;
  return Status();
}

Result<BatchHeader> Segment::header_at(uint64_t position) {
  if (position + kHeaderBytes > size_bytes_) {
    return error(StatusCode::corrupt, "batch header past the segment end");
  }
  bool hit =
      position >= window_position_ && position + kHeaderBytes <= window_position_ + window_bytes_;
  if (!hit) {
    window_.resize(kHeaderWindowBytes);
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(kHeaderWindowBytes, size_bytes_ - position));
    auto n = files_->log->read_at(position, std::span(window_.data(), want));
    if (!n.ok()) return n.status();
    // Never cache bytes past the end: a failed append may have left garbage there.
    window_position_ = position;
    window_bytes_ = *n;
    if (window_bytes_ < kHeaderBytes) {
      return error(StatusCode::corrupt, "short read of a batch header");
    }
  }
  auto header = decode_batch_header(
      std::span(window_.data() + (position - window_position_), kHeaderBytes), position);
  if (!header.ok()) return header.status();
  if (position + header->size_bytes() > size_bytes_) {
    return error(StatusCode::corrupt, "batch runs past the segment end");
  }
  return header;
}

Result<std::optional<BatchHeader>> Segment::find_batch(Offset offset,
                                                       uint64_t index_interval_bytes) {
  if (offset >= next_offset_) return std::optional<BatchHeader>();
  RETURN_IF_ERROR(ensure_index_loaded(index_interval_bytes));
  Offset target = std::max(offset, base_offset());
  uint64_t position = offset_index_.lookup(relative(target));
  Offset previous_last(base_offset().value() - 1);
  while (position < size_bytes_) {
    auto header = header_at(position);
    if (!header.ok()) return header.status();
    if (header->base_offset <= previous_last && position > 0) {
      return error(StatusCode::corrupt, "batch offsets go backwards in a segment");
    }
    if (header->last_offset() >= offset) return std::optional<BatchHeader>(*header);
    previous_last = header->last_offset();
    position += header->size_bytes();
  }
  return error(StatusCode::corrupt, "offset below the segment end not found in the segment");
}

Result<std::optional<BatchHeader>> Segment::find_batch_by_time(TimestampMs target, Offset from,
                                                               uint64_t index_interval_bytes) {
  if (max_timestamp_ < target || empty() || from >= next_offset_) {
    return std::optional<BatchHeader>();
  }
  RETURN_IF_ERROR(ensure_index_loaded(index_interval_bytes));
  // Both lookups land on batch starts; the later one skips more.
  uint32_t rel = time_index_.lookup(target);
  uint64_t position = std::max(offset_index_.lookup(rel),
                               offset_index_.lookup(relative(std::max(from, base_offset()))));
  while (position < size_bytes_) {
    auto header = header_at(position);
    if (!header.ok()) return header.status();
    if (header->max_timestamp >= target && header->last_offset() >= from) {
      return std::optional<BatchHeader>(*header);
    }
    position += header->size_bytes();
  }
  return std::optional<BatchHeader>();
}

Status Segment::adopt_header(const format::IndexHeader& offset_header,
                             const format::IndexHeader& time_header) {
  ASSERT(offset_header.log_bytes <= size_bytes_);
  if (offset_header.log_bytes < size_bytes_) {
    RETURN_IF_ERROR(files_->log->truncate(offset_header.log_bytes));
    size_bytes_ = offset_header.log_bytes;
  }
  next_offset_ = offset_header.next_offset;
  max_timestamp_ = offset_header.max_timestamp;
  adopted_offset_header_ = offset_header;
  adopted_time_header_ = time_header;
  index_loaded_ = false;
  return Status();
}

}  // namespace cairn::storage
