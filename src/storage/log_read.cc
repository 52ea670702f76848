// Log: reads (by offset, by time, header scans) and retention.
#include <algorithm>

#include "model/record_batch_view.h"
#include "storage/log.h"

namespace cairn::storage {

Result<ReadResult> Log::read(Offset offset, uint64_t max_bytes, Offset max_offset) {
  RETURN_IF_ERROR(health());
  if (offset < log_start_offset_ || offset > log_end_offset()) {
    return error(StatusCode::out_of_range, "offset " + std::to_string(offset.value()) +
                                               " outside [" +
                                               std::to_string(log_start_offset_.value()) + ", " +
                                               std::to_string(log_end_offset().value()) + "]");
  }
  ReadResult result;
  result.first_offset = offset;
  result.next_offset = offset;
  Offset limit = std::min(max_offset, log_end_offset());
  if (offset >= limit) return result;
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  bool done = false;
  for (; it != segments_.end() && !done; ++it) {
    Segment& segment = *it->second;
    auto found = segment.find_batch(result.next_offset, config_.index_interval_bytes);
    if (!found.ok()) {
      fence(found.status());
      return fenced_;
    }
    if (!found->has_value()) continue;
    BatchHeader header = **found;
    while (true) {
      if (header.last_offset() >= limit) {
        done = true;
        break;
      }
      if (result.batch_count > 0 && result.size_bytes + header.size_bytes() > max_bytes) {
        done = true;
        break;
      }
      if (result.batch_count == 0) result.first_offset = header.base_offset;
      FileRange* last = result.ranges.empty() ? nullptr : &result.ranges.back();
      if (last != nullptr && last->file == segment.files()->log &&
          last->position + last->size_bytes == header.position) {
        last->size_bytes += header.size_bytes();
      } else {
        result.ranges.push_back({segment.files()->log, header.position, header.size_bytes()});
      }
      result.size_bytes += header.size_bytes();
      result.batch_count++;
      result.next_offset = header.next_offset();
      uint64_t position = header.position + header.size_bytes();
      if (position >= segment.size_bytes()) break;
      auto next = segment.header_at(position);
      if (!next.ok() || next->base_offset <= header.last_offset()) {
        fence(next.ok() ? error(StatusCode::corrupt, "batch offsets go backwards") : next.status());
        return fenced_;
      }
      header = *next;
    }
  }
  return result;
}

Result<std::vector<uint8_t>> Log::copy(const ReadResult& result) {
  std::vector<uint8_t> bytes(result.size_bytes);
  size_t at = 0;
  for (const FileRange& range : result.ranges) {
    auto n = range.file->read_at(range.position, std::span(bytes.data() + at, range.size_bytes));
    if (!n.ok()) return n.status();
    if (*n != range.size_bytes) {
      fence(error(StatusCode::corrupt, "short read of a segment"));
      return fenced_;
    }
    at += range.size_bytes;
  }
  for (size_t position = 0; position < bytes.size();) {
    auto view = model::RecordBatchView::parse(std::span(bytes).subspan(position));
    if (!view.ok() || !view->crc_ok()) {
      fence(error(StatusCode::corrupt, "batch fails its crc on read"));
      return fenced_;
    }
    position += view->size_bytes();
  }
  return bytes;
}

Result<std::optional<Offset>> Log::offset_for_timestamp(TimestampMs target) {
  RETURN_IF_ERROR(health());
  for (auto& [base, segment] : segments_) {
    if (segment->next_offset() <= log_start_offset_) continue;
    auto found =
        segment->find_batch_by_time(target, log_start_offset_, config_.index_interval_bytes);
    if (!found.ok()) {
      fence(found.status());
      return fenced_;
    }
    if (found->has_value()) {
      return std::optional<Offset>(std::max((*found)->base_offset, log_start_offset_));
    }
  }
  return std::optional<Offset>();
}

std::vector<SegmentTime> Log::segment_times() const {
  std::vector<SegmentTime> times;
  times.reserve(segments_.size());
  for (const auto& [base, segment] : segments_) {
    times.push_back(SegmentTime{std::max(base, log_start_offset_), segment->newest_ms()});
  }
  return times;
}

TimestampMs Log::max_timestamp() const {
  int64_t max = -1;
  for (const auto& [base, segment] : segments_) {
    if (segment->next_offset() <= log_start_offset_) continue;
    max = std::max(max, segment->max_timestamp().value());
  }
  return TimestampMs(max);
}

Status Log::scan_headers(Offset from, const std::function<bool(const BatchHeader&)>& visit) {
  RETURN_IF_ERROR(health());
  from = std::max(from, log_start_offset_);
  auto it = segments_.upper_bound(from);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    Segment& segment = *it->second;
    auto found = segment.find_batch(from, config_.index_interval_bytes);
    if (!found.ok()) {
      fence(found.status());
      return fenced_;
    }
    if (!found->has_value()) continue;
    BatchHeader header = **found;
    while (true) {
      if (!visit(header)) return Status();
      from = header.next_offset();
      uint64_t position = header.position + header.size_bytes();
      if (position >= segment.size_bytes()) break;
      auto next = segment.header_at(position);
      if (!next.ok()) {
        fence(next.status());
        return fenced_;
      }
      header = *next;
    }
  }
  return Status();
}

Result<size_t> Log::apply_retention() { return delete_old_segments(/*by_retention=*/true); }

Result<size_t> Log::delete_old_segments(bool by_retention) {
  RETURN_IF_ERROR(writable());
  uint64_t total_bytes = 0;
  for (const auto& [base, segment] : segments_) total_bytes += segment->size_bytes();
  int64_t now_ms = clock_.now_ms();
  size_t deleted = 0;
  while (segments_.size() > 1) {
    Segment& oldest = *segments_.begin()->second;
    bool below_start = oldest.next_offset() <= log_start_offset_;
    int64_t newest_ms = oldest.newest_ms();
    // Retention by time and size applies only with cleanup.policy delete.
    bool by_policy = by_retention && config_.cleanup_delete;
    bool expired =
        by_policy && config_.retention_ms >= 0 && now_ms - newest_ms > config_.retention_ms;
    bool over_size =
        by_policy && config_.retention_bytes >= 0 &&
        total_bytes - oldest.size_bytes() >= static_cast<uint64_t>(config_.retention_bytes);
    if (!below_start && !expired && !over_size) break;
    if (sync_->pending(oldest.files().get())) break;
    abort_clean();  // the run may have read this segment; it plans anew next time
    Status status = oldest.remove_files(io_);
    if (!status.ok()) {
      if (status.code() == StatusCode::io_error) append_failed_ = status;
      return status;
    }
    total_bytes -= oldest.size_bytes();
    segments_.erase(segments_.begin());
    deleted++;
  }
  if (deleted > 0) {
    log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
    sync_->set_log_start(log_start_offset_);
    sync_->mark_dir_dirty();
  }
  return deleted;
}

Status Log::delete_prefix(Offset offset) {
  RETURN_IF_ERROR(writable());
  if (offset > log_end_offset()) {
    return error(StatusCode::out_of_range, "delete_prefix past the log end");
  }
  if (offset <= log_start_offset_) return Status();
  log_start_offset_ = offset;
  sync_->set_log_start(offset);
  auto deleted = delete_old_segments(/*by_retention=*/false);
  return deleted.ok() ? Status() : deleted.status();
}

}  // namespace cairn::storage
