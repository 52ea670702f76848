// Log::open: finding the segments, trusting what the index headers vouch for, validating the
// rest batch by batch, truncating a torn tail and fencing on corrupt mid-log data.
// The algorithm is described in docs/format/log.md, "Recovery".
#include <algorithm>
#include <set>

#include "storage/flusher.h"
#include "storage/log.h"

namespace cairn::storage {

class LogOpener {
 public:
  explicit LogOpener(Log& log) : log_(log), io_(log.io_) {}
  Status open();

 private:
  struct Headers {
    std::optional<format::IndexHeader> offset;
    std::optional<format::IndexHeader> time;
    bool valid = false;
  };
  Status list();
  Result<std::optional<int64_t>> read_small_record(const std::string& name, uint32_t magic);
  Status open_segments();
  Result<int> read_headers(std::vector<Headers>& headers);
  Status recover();
  Status finish();
  Status fence(const std::string& why) {
    log_.fence(error(StatusCode::corrupt, why));
    fenced_ = true;
    return Status();
  }
  Status drop_from(size_t first);

  Log& log_;
  Io& io_;
  std::vector<Offset> bases_;
  std::vector<std::string> names_;
  bool clean_ = false;
  int64_t marker_end_ = -1;
  Offset meta_start_;
  std::vector<std::unique_ptr<Segment>> segments_;
  std::vector<bool> adopted_;
  bool fenced_ = false;
  bool truncated_ = false;
};

Result<std::unique_ptr<Log>> Log::open(LogOptions options) {
  RETURN_IF_ERROR(validate(options.config));
  std::unique_ptr<Log> log(new Log(std::move(options)));
  LogOpener opener(*log);
  RETURN_IF_ERROR(opener.open());
  return log;
}

Status LogOpener::open() {
  RETURN_IF_ERROR(io_.make_dirs(log_.dir_));
  // First finish or roll back an interrupted compaction swap (docs/format/compaction.md), so
  // the listing below sees one consistent segment set.
  auto clean_point = recover_cleaner_files(io_, log_.dir_);
  if (!clean_point.ok() && clean_point.status().code() != StatusCode::corrupt) {
    return clean_point.status();
  }
  if (!clean_point.ok()) {
    RETURN_IF_ERROR(fence("cleaner.swap unreadable: " + clean_point.status().message()));
    return finish();
  }
  log_.cleaner_stats_.clean_point = *clean_point;
  RETURN_IF_ERROR(list());
  if (!fenced_) RETURN_IF_ERROR(open_segments());
  if (!fenced_ && !segments_.empty()) RETURN_IF_ERROR(recover());
  return finish();
}

Result<std::optional<int64_t>> LogOpener::read_small_record(const std::string& name,
                                                            uint32_t magic) {
  if (std::find(names_.begin(), names_.end(), name) == names_.end()) {
    return std::optional<int64_t>();
  }
  auto file = io_.open(log_.dir_ + "/" + name, OpenMode::read_only);
  if (!file.ok()) return file.status();
  uint8_t bytes[format::kSmallRecordBytes + 1];
  auto n = (*file)->read_at(0, bytes);
  if (!n.ok()) return n.status();
  auto value = format::decode_small_record(magic, std::span(bytes, *n));
  if (!value.ok()) return value.status();
  return std::optional<int64_t>(*value);
}

Status LogOpener::list() {
  auto names = io_.list_dir(log_.dir_);
  if (!names.ok()) return names.status();
  names_ = std::move(names.value());
  std::set<Offset> bases;
  for (const auto& name : names_) {
    if (auto base = format::parse_segment_file_name(name, format::kLogSuffix)) bases.insert(*base);
  }
  bases_.assign(bases.begin(), bases.end());
  for (const auto& name : names_) {
    auto base = format::parse_segment_file_name(name, format::kOffsetIndexSuffix);
    if (!base) base = format::parse_segment_file_name(name, format::kTimeIndexSuffix);
    bool stray_index = base.has_value() && bases.count(*base) == 0;
    if (stray_index || name == format::kMetaTempName) {
      RETURN_IF_ERROR(io_.remove(log_.dir_ + "/" + name));
    }
  }
  auto marker = read_small_record(format::kCleanMarkerName, format::kCleanMarkerMagic);
  clean_ = marker.ok() && marker->has_value();
  if (clean_) marker_end_ = **marker;
  auto meta = read_small_record(format::kMetaName, format::kMetaMagic);
  if (!meta.ok()) {
    if (meta.status().code() == StatusCode::io_error) return meta.status();
    return fence("partition.meta unreadable: " + meta.status().message());
  }
  meta_start_ = Offset(meta->value_or(0));
  return Status();
}

Status LogOpener::open_segments() {
  int64_t now_ms = log_.clock_.now_ms();
  for (Offset base : bases_) {
    auto segment = Segment::open_existing(io_, log_.dir_, base, now_ms);
    if (!segment.ok()) return segment.status();
    segments_.push_back(std::move(segment.value()));
  }
  adopted_.assign(segments_.size(), false);
  return Status();
}

// Reads both index headers of every segment (96 bytes each). Returns the recovery point: the
// last segment whose headers vouch for a durable prefix, or -1.
Result<int> LogOpener::read_headers(std::vector<Headers>& headers) {
  int recovery_point = -1;
  for (size_t i = 0; i < segments_.size(); i++) {
    Segment& segment = *segments_[i];
    auto offset = segment.read_header(format::IndexKind::offset);
    auto time = segment.read_header(format::IndexKind::time);
    if (!offset.ok() && offset.status().code() == StatusCode::io_error) return offset.status();
    if (!time.ok() && time.status().code() == StatusCode::io_error) return time.status();
    Headers& h = headers[i];
    if (offset.ok()) h.offset = *offset;
    if (time.ok()) h.time = *time;
    h.valid = offset.ok() && time.ok() && offset->log_bytes == time->log_bytes &&
              offset->next_offset == time->next_offset &&
              offset->next_offset >= segment.base_offset();
    if (h.valid && offset->log_bytes > segment.size_bytes()) {
      RETURN_IF_ERROR(fence("segment " + std::to_string(segment.base_offset().value()) +
                            " is shorter than the prefix its index says was durable"));
      return -1;
    }
    if (h.valid) recovery_point = static_cast<int>(i);
  }
  return recovery_point;
}

Status LogOpener::recover() {
  size_t count = segments_.size();
  std::vector<Headers> headers(count);
  auto read = read_headers(headers);
  if (!read.ok()) return read.status();
  if (fenced_) return Status();
  int recovery_point = *read;
  const Headers& last = headers[count - 1];
  if (clean_ && !(last.valid && last.offset->log_bytes == segments_[count - 1]->size_bytes() &&
                  last.offset->next_offset.value() == marker_end_)) {
    clean_ = false;  // the marker does not match the data: recover as after a crash
  }
  if (clean_) recovery_point = static_cast<int>(count) - 1;
  log_.info_.opened_clean = clean_;

  for (size_t i = 0; i < count; i++) {
    Segment& segment = *segments_[i];
    bool must_be_intact = static_cast<int>(i) < recovery_point;
    if (i > 0 && segment.base_offset() != segments_[i - 1]->next_offset()) {
      if (must_be_intact) return fence("offset gap between segments");
      RETURN_IF_ERROR(drop_from(i));  // the rest is a torn tail (see below)
      break;
    }
    const Headers& h = headers[i];
    // A sealed segment whose header ends exactly where the next segment starts is whole; bytes
    // past it are leftovers of a failed append whose truncation was not yet durable.
    bool whole =
        h.valid && i + 1 < count && h.offset->next_offset == segments_[i + 1]->base_offset();
    if (h.valid && (h.offset->log_bytes == segment.size_bytes() || whole)) {
      RETURN_IF_ERROR(segment.adopt_header(*h.offset, *h.time));
      adopted_[i] = true;
      continue;
    }
    uint64_t from = h.valid ? h.offset->log_bytes : 0;
    auto scan = h.valid ? segment.recover_from(h.offset, h.time, log_.config_.index_interval_bytes)
                        : segment.recover_from(std::nullopt, std::nullopt,
                                               log_.config_.index_interval_bytes);
    if (!scan.ok()) return scan.status();
    log_.info_.recovery_scanned_bytes +=
        segment.size_bytes() - std::min(from, segment.size_bytes());
    if (scan->clean_end) continue;
    auto file_size = segment.files()->log->size_bytes();
    if (!file_size.ok()) return file_size.status();
    if (must_be_intact || clean_) {
      return fence("corrupt batch at byte " + std::to_string(scan->valid_bytes) + " of segment " +
                   std::to_string(segment.base_offset().value()) + ", before the recovery point");
    }
    // A torn tail: cut it at the first bad byte and drop every later segment.
    log_.info_.recovery_truncated_bytes += *file_size - scan->valid_bytes;
    RETURN_IF_ERROR(segment.truncate(scan->valid_bytes));
    RETURN_IF_ERROR(drop_from(i + 1));
    break;
  }
  adopted_.resize(segments_.size());
  return Status();
}

Status LogOpener::drop_from(size_t first) {
  truncated_ = true;
  for (size_t j = first; j < segments_.size(); j++) {
    auto size = segments_[j]->files()->log->size_bytes();
    if (size.ok()) log_.info_.recovery_truncated_bytes += *size;
    RETURN_IF_ERROR(segments_[j]->remove_files(io_));
  }
  if (first < segments_.size()) segments_.resize(first);
  return Status();
}

Status LogOpener::finish() {
  const LogConfig& config = log_.config_;
  auto make_sync = [&](Offset durable) {
    log_.sync_ = std::make_shared<LogSync>(io_, log_.dir_, durable, log_.flusher_);
    log_.sync_->set_flush_config(config.flush_bytes, config.flush_interval_ms,
                                 config.checkpoint_interval_ms);
  };
  if (fenced_) {
    make_sync(meta_start_);
    log_.log_start_offset_ = meta_start_;
    return Status();
  }
  Offset start = meta_start_;
  Offset end = meta_start_;
  if (!segments_.empty()) {
    start = std::max(meta_start_, segments_.front()->base_offset());
    end = segments_.back()->next_offset();
  }
  bool created = false;
  if (segments_.empty() || start > end) {
    // Nothing on disk, or DeleteRecords moved the start past what survived a crash.
    RETURN_IF_ERROR(drop_from(0));
    auto segment = Segment::create(io_, log_.dir_, start, log_.clock_.now_ms());
    if (!segment.ok()) return segment.status();
    segments_.push_back(std::move(segment.value()));
    adopted_.assign(1, false);
    end = start;
    created = true;
  }
  log_.log_start_offset_ = start;
  make_sync(end);
  LogSync& sync = *log_.sync_;
  bool need_flush = created || truncated_;
  for (size_t i = 0; i < segments_.size(); i++) {
    Segment& segment = *segments_[i];
    if (adopted_[i]) {
      segment.files()->synced_bytes = segment.size_bytes();
      segment.files()->header_log_bytes = segment.size_bytes();
    } else {
      need_flush = true;
      if (i + 1 < segments_.size()) sync.seal(segment.files(), segment.sync_point());
    }
  }
  Segment& active = *segments_.back();
  sync.publish(active.files(), active.sync_point(), 0, 0);
  for (auto& segment : segments_) {
    Offset base = segment->base_offset();
    log_.segments_.emplace(base, std::move(segment));
  }
  if (created) sync.mark_dir_dirty();
  if (start != meta_start_ || created) sync.set_log_start(start);
  if (need_flush) RETURN_IF_ERROR(sync.flush_now(/*checkpoint=*/true));
  if (std::find(names_.begin(), names_.end(), format::kCleanMarkerName) != names_.end()) {
    // From here on a crash must not look clean.
    RETURN_IF_ERROR(io_.remove(log_.dir_ + "/" + format::kCleanMarkerName));
    RETURN_IF_ERROR(io_.sync_dir(log_.dir_));
  }
  return Status();
}

}  // namespace cairn::storage
