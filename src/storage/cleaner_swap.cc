// Cleaner: rewriting the segments and the crash-safe swap (docs/format/compaction.md).
#include <algorithm>

#include "storage/cleaner.h"
#include "storage/log.h"

namespace cairn::storage {

namespace {

constexpr const char* kSegmentSuffixes[] = {format::kLogSuffix, format::kOffsetIndexSuffix,
                                            format::kTimeIndexSuffix};

bool ends_with(const std::string& name, const std::string& tail) {
  return name.size() > tail.size() &&
         name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

// Replaces `name` in `dir` with a small record durably: temp file, fsync, rename, dir fsync.
Status write_small_record(Io& io, const std::string& dir, const char* temp_name,
                          const char* name, uint32_t magic, int64_t value) {
  uint8_t bytes[format::kSmallRecordBytes];
  format::encode_small_record(magic, value, bytes);
  auto file = io.open(dir + "/" + temp_name, OpenMode::create_truncate);
  if (!file.ok()) return file.status();
  RETURN_IF_ERROR((*file)->write_at(0, bytes));
  RETURN_IF_ERROR((*file)->sync());
  RETURN_IF_ERROR(io.rename(dir + "/" + temp_name, dir + "/" + name));
  return io.sync_dir(dir);
}

Result<int64_t> read_small_record(Io& io, const std::string& path, uint32_t magic) {
  auto file = io.open(path, OpenMode::read_only);
  if (!file.ok()) return file.status();
  uint8_t bytes[format::kSmallRecordBytes + 1];
  auto n = (*file)->read_at(0, bytes);
  if (!n.ok()) return n.status();
  return format::decode_small_record(magic, std::span(bytes, *n));
}

Status write_index_headers(SegmentFiles& files, const SyncPoint& point) {
  format::IndexHeader header;
  header.log_bytes = point.log_bytes;
  header.next_offset = point.next_offset;
  header.max_timestamp = point.max_timestamp;
  uint8_t bytes[format::kIndexHeaderBytes];
  header.kind = format::IndexKind::offset;
  header.entry_count = point.offset_entries;
  header.entries_crc = point.offset_crc;
  format::encode_index_header(header, bytes);
  RETURN_IF_ERROR(files.offset_index->write_at(0, bytes));
  header.kind = format::IndexKind::time;
  header.entry_count = point.time_entries;
  header.entries_crc = point.time_crc;
  format::encode_index_header(header, bytes);
  return files.time_index->write_at(0, bytes);
}

}  // namespace

int64_t Cleaner::delete_retention_ms() const { return log_.config_.delete_retention_ms; }

Status Cleaner::clean_step(uint64_t* budget) {
  while (*budget > 0 && phase_ == Phase::clean) {
    if (cursor_segment_ == sources_.size() ||
        sources_[cursor_segment_].segment->base_offset() >= map_end_) {
      phase_ = Phase::commit;  // segments from map_end_ on stay as they are
      break;
    }
    Source& source = sources_[cursor_segment_];
    Segment& segment = *source.segment;
    if (staging_ == nullptr) {
      auto staging = Segment::create(log_.io_, log_.dir_, segment.base_offset(),
                                     segment.created_ms(), format::kCleanedSuffix);
      if (!staging.ok()) {
        // Some of its files may exist already: best effort, else the next open removes them.
        for (const char* suffix : kSegmentSuffixes) {
          (void)log_.io_.remove(log_.dir_ + "/" +
                                format::segment_file_name(segment.base_offset(), suffix) +
                                format::kCleanedSuffix);
        }
        return staging.status();
      }
      staging_ = std::move(staging.value());
    }
    if (cursor_position_ >= segment.size_bytes()) {
      RETURN_IF_ERROR(finish_segment());
      cursor_segment_++;
      cursor_position_ = 0;
      continue;
    }
    auto header = segment.header_at(cursor_position_);
    if (!header.ok()) return header.status();
    RETURN_IF_ERROR(clean_batch(source, *header));
    cursor_position_ += header->size_bytes();
    *budget -= std::min<uint64_t>(*budget, header->size_bytes());
  }
  return Status();
}

Status Cleaner::clean_batch(Source& source, const BatchHeader& header) {
  Segment& segment = *source.segment;
  auto batch = read_batch(segment, header);
  if (!batch.ok()) return batch.status();
  bool last_in_segment = header.position + header.size_bytes() == segment.size_bytes();
  auto producer = producer_last_.find(header.producer_id.value());
  bool producer_last = producer != producer_last_.end() &&
                       (header.is_control() ? producer->second.control : producer->second.data) ==
                           header.base_offset;
  // The segment's last batch keeps the segment's next offset (segments stay contiguous); a
  // producer's last data batch keeps its sequences and its last control batch its epoch (all
  // in the header) for dedupe and fencing. They stay, emptied at most. (Keeping a producer's
  // superseded records would let a value outlive its key's tombstone once the tombstone
  // expires; Kafka keeps only the header too.)
  bool must_stay = last_in_segment || producer_last;
  if (header.is_control()) return clean_marker(header, std::move(batch.value()), must_stay);
  // Whether or not it stays, this batch's transaction still has data in the log at this run's
  // start: its marker waits for a later run.
  if (header.is_transactional() && header.producer_id.value() >= 0) {
    transaction_data_seen_.insert(header.producer_id.value());
  }
  bool discarded = options_.discard && options_.discard(header);
  std::vector<uint8_t> keep(static_cast<size_t>(std::max(header.records_count, 0)), 1);
  std::optional<std::vector<uint8_t>> records;
  if (header.base_offset < map_end_) {
    auto section = records_of(*batch);
    if (!section.ok()) return section.status();
    records = std::move(section.value());
    // A batch the run cannot read may hold older values of any key: no tombstone after it may
    // go in this run (each run walks from the log start, so it always passes such a batch
    // before the tombstones above it).
    if (!records.has_value()) opaque_seen_ = true;
  }
  int32_t removed = 0;
  if (records.has_value()) {
    size_t index = 0;
    Status walked = walk_records(*records, header.records_count, [&](const RecordRef& record) {
      Offset offset(header.base_offset.value() + record.offset_delta);
      bool drop = discarded;
      if (!drop && record.key.has_value()) {
        auto latest = map_->get(hash_key(*record.key));
        bool superseded = latest.has_value() && *latest > offset;
        bool tombstone_expired = record.tombstone && !opaque_seen_ && aged(header, offset);
        drop = superseded || tombstone_expired;
      }
      if (drop) {
        keep[index] = 0;
        removed++;
      }
      index++;
    });
    RETURN_IF_ERROR(walked);
  }
  records_removed_ += static_cast<uint64_t>(removed);
  // Nothing left (an empty batch too: a producer's last batch emptied by an earlier run, which
  // a later batch of its producer has replaced since) and not needed for its header: it goes.
  if (removed == std::max(header.records_count, 0) && !must_stay) {
    batches_removed_++;
    return Status();
  }
  if (removed == 0) return write_batch(header, std::move(batch.value()));
  auto view = model::RecordBatchView::parse(*batch);
  ASSERT(view.ok());
  auto rebuilt = rebuild_batch(*view, *records, keep, options_.compress);
  if (!rebuilt.ok()) return rebuilt.status();
  return write_batch(header, std::move(rebuilt.value()));
}

// Transaction markers go as Kafka's cleaner drops them (KIP-98): a marker is needed while
// its transaction has data in the log (read_committed consumers and the producer-state replay
// pair the data with it), and a little longer, so that a consumer reading from the start
// within delete.retention.ms still meets it. The run walks the log from its start, so a
// producer with no transactional batch met since its previous marker has no data of this
// transaction left, whether it committed (every record superseded) or aborted (discarded).
// A marker that is its producer's last control batch stays whole: it holds the producer's
// latest epoch.
Status Cleaner::clean_marker(const BatchHeader& header, std::vector<uint8_t> batch,
                             bool must_stay) {
  int64_t producer = header.producer_id.value();
  bool data_left = producer >= 0 && transaction_data_seen_.erase(producer) > 0;
  bool removable = producer >= 0 && !data_left && !must_stay && header.base_offset < map_end_ &&
                   aged(header, header.last_offset()) &&
                   is_transaction_marker(model::RecordBatchView::parse(batch).value());
  if (!removable) return write_batch(header, std::move(batch));
  markers_removed_++;
  batches_removed_++;
  records_removed_ += static_cast<uint64_t>(std::max(header.records_count, 0));
  if (options_.marker_removed) options_.marker_removed(header);
  return Status();
}

// Appends a batch that stays (whole, or rebuilt with fewer records) to the replacement.
Status Cleaner::write_batch(const BatchHeader& header, std::vector<uint8_t> out) {
  auto written = decode_batch_header(out, staging_->size_bytes());
  ASSERT(written.ok());
  ASSERT(written->base_offset == header.base_offset);
  ASSERT(written->last_offset_delta == header.last_offset_delta);
  RETURN_IF_ERROR(staging_->append(out, *written, log_.config_.index_interval_bytes));
  log_.cleaner_stats_.bytes_written += out.size();
  return Status();
}

// The replacement of one segment is complete: its index headers vouch for all of it, and all
// three files are durable before the swap can be committed.
Status Cleaner::finish_segment() {
  Segment& source = *sources_[cursor_segment_].segment;
  ASSERT(staging_->next_offset() == source.next_offset());
  ASSERT(staging_->size_bytes() <= source.size_bytes() || options_.compress);
  SyncPoint point = staging_->sync_point();
  if (!point.index_files_ok) return error(StatusCode::io_error, "cleaned index write failed");
  SegmentFiles& files = *staging_->files();
  RETURN_IF_ERROR(write_index_headers(files, point));
  RETURN_IF_ERROR(files.log->sync());
  RETURN_IF_ERROR(files.offset_index->sync());
  RETURN_IF_ERROR(files.time_index->sync());
  staged_.push_back(std::move(staging_));
  return Status();
}

// The commit point is the rename of cleaner.swap into place, after every staged file and its
// directory entry are durable. From the moment that rename is attempted the outcome is unknown
// until the directory is synced, so any failure from there on leaves the decision to the next
// open (which rolls forward if the rename happened, back if not).
Status Cleaner::commit() {
  for (const Source& source : sources_) {
    auto it = log_.segments_.find(source.files->base_offset);
    ASSERT(it != log_.segments_.end());  // retention aborts a run before deleting a source
    ASSERT(it->second->files() == source.files);
  }
  Io& io = log_.io_;
  const std::string& dir = log_.dir_;
  RETURN_IF_ERROR(io.sync_dir(dir));
  uint8_t bytes[format::kSmallRecordBytes];
  format::encode_small_record(format::kCleanerSwapMagic, map_end_.value(), bytes);
  auto file = io.open(dir + "/" + format::kCleanerSwapTempName, OpenMode::create_truncate);
  if (!file.ok()) return file.status();
  RETURN_IF_ERROR((*file)->write_at(0, bytes));
  RETURN_IF_ERROR((*file)->sync());
  committed_ = true;
  RETURN_IF_ERROR(io.rename(dir + "/" + format::kCleanerSwapTempName,
                            dir + "/" + format::kCleanerSwapName));
  RETURN_IF_ERROR(io.sync_dir(dir));
  return install();
}

Status Cleaner::install() {
  Io& io = log_.io_;
  const std::string& dir = log_.dir_;
  for (const auto& staged : staged_) {
    for (const char* suffix : kSegmentSuffixes) {
      std::string name = format::segment_file_name(staged->base_offset(), suffix);
      RETURN_IF_ERROR(io.rename(dir + "/" + name + format::kCleanedSuffix, dir + "/" + name));
    }
  }
  RETURN_IF_ERROR(io.sync_dir(dir));
  for (auto& staged : staged_) {
    staged->clear_name_suffix();
    staged->files()->synced_bytes = staged->size_bytes();
    staged->files()->header_log_bytes = staged->size_bytes();
    Offset base = staged->base_offset();
    log_.segments_[base] = std::move(staged);  // open FileRanges keep the old file alive
  }
  staged_.clear();
  sources_.clear();
  RETURN_IF_ERROR(write_small_record(io, dir, format::kCleanerCheckpointTempName,
                                     format::kCleanerCheckpointName,
                                     format::kCleanerCheckpointMagic, map_end_.value()));
  RETURN_IF_ERROR(io.remove(dir + "/" + format::kCleanerSwapName));
  RETURN_IF_ERROR(io.sync_dir(dir));
  CleanerStats& stats = log_.cleaner_stats_;
  stats.runs++;
  stats.last_run_ms = log_.clock_.now_ms();
  stats.last_run_duration_ms = stats.last_run_ms - now_ms_;
  stats.last_run_failed = false;
  stats.clean_point = map_end_;
  stats.records_removed += records_removed_;
  stats.batches_removed += batches_removed_;
  stats.markers_removed += markers_removed_;
  phase_ = Phase::done;
  return Status();
}

void Cleaner::abort() {
  if (committed_) return;  // the next open finishes the swap
  if (staging_ != nullptr) staged_.push_back(std::move(staging_));
  for (auto& staged : staged_) (void)staged->remove_files(log_.io_);
  staged_.clear();
  (void)log_.io_.remove(log_.dir_ + "/" + format::kCleanerSwapTempName);
  phase_ = Phase::done;
}

Result<Offset> recover_cleaner_files(Io& io, const std::string& dir) {
  auto names = io.list_dir(dir);
  if (!names.ok()) return names.status();
  bool swap = std::find(names->begin(), names->end(), format::kCleanerSwapName) != names->end();
  std::string cleaned = format::kCleanedSuffix;
  if (swap) {
    // Committed: roll forward. Every step is idempotent, so a crash here just repeats it.
    auto point = read_small_record(io, dir + "/" + format::kCleanerSwapName,
                                   format::kCleanerSwapMagic);
    if (!point.ok()) return point.status();
    for (const auto& name : *names) {
      if (!ends_with(name, cleaned)) continue;
      std::string target = name.substr(0, name.size() - cleaned.size());
      RETURN_IF_ERROR(io.rename(dir + "/" + name, dir + "/" + target));
    }
    RETURN_IF_ERROR(io.sync_dir(dir));
    RETURN_IF_ERROR(write_small_record(io, dir, format::kCleanerCheckpointTempName,
                                       format::kCleanerCheckpointName,
                                       format::kCleanerCheckpointMagic, *point));
    RETURN_IF_ERROR(io.remove(dir + "/" + format::kCleanerSwapName));
    RETURN_IF_ERROR(io.sync_dir(dir));
    return Offset(*point);
  }
  // Not committed: roll back whatever an unfinished run left.
  for (const auto& name : *names) {
    if (ends_with(name, cleaned) || name == format::kCleanerSwapTempName ||
        name == format::kCleanerCheckpointTempName) {
      RETURN_IF_ERROR(io.remove(dir + "/" + name));
    }
  }
  bool has_checkpoint = std::find(names->begin(), names->end(),
                                  format::kCleanerCheckpointName) != names->end();
  if (!has_checkpoint) return Offset(0);
  auto point = read_small_record(io, dir + "/" + format::kCleanerCheckpointName,
                                 format::kCleanerCheckpointMagic);
  if (!point.ok() && point.status().code() == StatusCode::io_error) return point.status();
  // A damaged checkpoint only makes the next run treat everything as dirty: safe.
  return Offset(point.ok() ? *point : 0);
}

}  // namespace cairn::storage
