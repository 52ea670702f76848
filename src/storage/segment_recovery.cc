// Segment: loading and rebuilding the indexes, and validating batches after an unclean stop.
#include <algorithm>

#include "base/crc32c.h"
#include "model/record_batch_view.h"
#include "storage/segment.h"

namespace cairn::storage {

namespace {

constexpr size_t kScanChunkBytes = 1024 * 1024;
using model::batch_layout::kHeaderBytes;

Result<std::vector<uint8_t>> read_exact(File& file, uint64_t position, size_t size) {
  std::vector<uint8_t> bytes(size);
  auto n = file.read_at(position, bytes);
  if (!n.ok()) return n.status();
  if (*n != size) return error(StatusCode::corrupt, "index file shorter than its header says");
  return bytes;
}

}  // namespace

Result<format::IndexHeader> Segment::read_header(format::IndexKind kind) {
  RETURN_IF_ERROR(open_index_files(OpenMode::create_read_write));
  File& file = kind == format::IndexKind::offset ? *files_->offset_index : *files_->time_index;
  uint8_t bytes[format::kIndexHeaderBytes];
  auto n = file.read_at(0, bytes);
  if (!n.ok()) return n.status();
  if (*n != sizeof(bytes)) return error(StatusCode::not_found, "no index header");
  return format::decode_index_header(bytes, kind);
}

Status Segment::load_index_entries(const format::IndexHeader& offset_header,
                                   const format::IndexHeader& time_header) {
  RETURN_IF_ERROR(open_index_files(OpenMode::create_read_write));
  auto offset_bytes = read_exact(*files_->offset_index, format::kIndexHeaderBytes,
                                 size_t{offset_header.entry_count} * format::kOffsetEntryBytes);
  if (!offset_bytes.ok()) return offset_bytes.status();
  auto offsets = OffsetIndex::decode(*offset_bytes, offset_header.entry_count);
  if (!offsets.ok()) return offsets.status();
  if (offsets->crc() != offset_header.entries_crc) {
    return error(StatusCode::corrupt, "offset index entries crc");
  }
  auto time_bytes = read_exact(*files_->time_index, format::kIndexHeaderBytes,
                               size_t{time_header.entry_count} * format::kTimeEntryBytes);
  if (!time_bytes.ok()) return time_bytes.status();
  auto times = TimeIndex::decode(*time_bytes, time_header.entry_count);
  if (!times.ok()) return times.status();
  if (times->crc() != time_header.entries_crc) {
    return error(StatusCode::corrupt, "time index entries crc");
  }
  for (const auto& entry : offsets->entries()) {
    if (entry.position >= offset_header.log_bytes) {
      return error(StatusCode::corrupt, "offset index entry past the data it covers");
    }
  }
  offset_index_ = std::move(offsets.value());
  time_index_ = std::move(times.value());
  uint64_t last_position = offset_index_.size() == 0 ? 0 : offset_index_.entries().back().position;
  bytes_since_index_entry_ = offset_header.log_bytes - last_position;
  index_loaded_ = true;
  return Status();
}

Status Segment::ensure_index_loaded(uint64_t index_interval_bytes) {
  if (index_loaded_) return Status();
  Status status = load_index_entries(adopted_offset_header_, adopted_time_header_);
  if (status.ok()) return Status();
  if (status.code() == StatusCode::io_error) return status;
  // The header was fine but the entries are not: rebuild them from the data.
  return rebuild_index(index_interval_bytes);
}

Status Segment::rebuild_index(uint64_t index_interval_bytes) {
  uint64_t expected_bytes = size_bytes_;
  Offset expected_next = next_offset_;
  auto scan = recover_from(std::nullopt, std::nullopt, index_interval_bytes);
  if (!scan.ok()) return scan.status();
  if (!scan->clean_end || size_bytes_ != expected_bytes || next_offset_ != expected_next) {
    return error(StatusCode::corrupt, "segment data disagrees with its index header");
  }
  return Status();
}

Result<Segment::ScanResult> Segment::recover_from(
    const std::optional<format::IndexHeader>& offset_header,
    const std::optional<format::IndexHeader>& time_header, uint64_t index_interval_bytes) {
  RETURN_IF_ERROR(open_index_files(OpenMode::create_read_write));
  uint64_t from = 0;
  if (offset_header.has_value() && time_header.has_value() &&
      load_index_entries(*offset_header, *time_header).ok()) {
    from = offset_header->log_bytes;
    size_bytes_ = from;
    next_offset_ = offset_header->next_offset;
    max_timestamp_ = offset_header->max_timestamp;
  } else {
    offset_index_ = OffsetIndex();
    time_index_ = TimeIndex();
    bytes_since_index_entry_ = 0;
    size_bytes_ = 0;
    next_offset_ = base_offset();
    max_timestamp_ = TimestampMs(-1);
  }
  index_loaded_ = true;
  index_files_ok_ = true;
  window_bytes_ = 0;
  ScanResult result;
  RETURN_IF_ERROR(scan_batches(from, index_interval_bytes, &result));
  return result;
}

// Reads the .log from `from` to its end in large chunks and accepts batch after batch while
// each has a sane header, fits in the file, continues the offsets (a compacted segment may skip
// offsets, never go back) and passes its CRC.
Status Segment::scan_batches(uint64_t from, uint64_t index_interval_bytes, ScanResult* result) {
  auto file_size = files_->log->size_bytes();
  if (!file_size.ok()) return file_size.status();
  std::vector<uint8_t> chunk;
  uint64_t chunk_position = from;
  size_t chunk_bytes = 0;
  // Makes [position, position + need) readable from `chunk`; need <= bytes left in the file.
  auto ensure = [&](uint64_t position, size_t need) -> Status {
    if (position >= chunk_position && position + need <= chunk_position + chunk_bytes) {
      return Status();
    }
    uint64_t left = *file_size - position;
    size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(need, kScanChunkBytes), left));
    chunk.resize(want);
    auto n = files_->log->read_at(position, std::span(chunk.data(), want));
    if (!n.ok()) return n.status();
    chunk_position = position;
    chunk_bytes = *n;
    if (chunk_bytes < need) return error(StatusCode::corrupt, "short read while scanning");
    return Status();
  };
  uint64_t position = from;
  result->clean_end = true;
  while (position < *file_size) {
    uint64_t left = *file_size - position;
    if (left < kHeaderBytes) {
      result->clean_end = false;
      break;
    }
    RETURN_IF_ERROR(ensure(position, kHeaderBytes));
    auto header = decode_batch_header(
        std::span(chunk.data() + (position - chunk_position), kHeaderBytes), position);
    if (!header.ok() || header->size_bytes() > left || header->base_offset < next_offset_ ||
        header->next_offset().value() - base_offset().value() > INT32_MAX) {
      result->clean_end = false;
      break;
    }
    size_t size = static_cast<size_t>(header->size_bytes());
    RETURN_IF_ERROR(ensure(position, size));
    auto view =
        model::RecordBatchView::parse(std::span(chunk.data() + (position - chunk_position), size));
    if (!view.ok() || !view->crc_ok()) {
      result->clean_end = false;
      break;
    }
    note_batch(*header, index_interval_bytes);
    position += size;
  }
  result->valid_bytes = size_bytes_;
  return Status();
}

Status Segment::truncate(uint64_t size_bytes) {
  ASSERT(size_bytes == size_bytes_);
  window_bytes_ = 0;
  return files_->log->truncate(size_bytes);
}

Status Segment::remove_files(Io& io) {
  for (const char* suffix :
       {format::kLogSuffix, format::kOffsetIndexSuffix, format::kTimeIndexSuffix}) {
    Status status = io.remove(files_->dir + "/" + format::segment_file_name(base_offset(), suffix) +
                              files_->name_suffix);
    if (!status.ok() && status.code() != StatusCode::not_found) return status;
  }
  return Status();
}

}  // namespace cairn::storage
