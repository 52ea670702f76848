#include "storage/log.h"

#include <algorithm>

#include "base/crc32c.h"
#include "model/record_batch_view.h"
#include "storage/flusher.h"

namespace cairn::storage {

Log::Log(LogOptions options)
    : io_(options.io != nullptr ? *options.io : posix_io()),
      clock_(options.clock != nullptr ? *options.clock : system_clock()),
      flusher_(options.flusher),
      dir_(std::move(options.dir)),
      config_(options.config) {}

Log::~Log() {
  abort_clean();
  if (sync_ != nullptr) {
    sync_->close();
    sync_->fail_waiters(error(StatusCode::shutting_down, "log dropped without close"));
  }
}

Status Log::health() const {
  if (!fenced_.ok()) return fenced_;
  if (!append_failed_.ok()) return append_failed_;
  return sync_->failure();
}

Status Log::writable() const {
  if (closed_) return error(StatusCode::shutting_down, "log closed");
  return health();
}

void Log::fence(const Status& status) {
  if (fenced_.ok()) {
    fenced_ = error(StatusCode::fenced, "log " + dir_ + " fenced: " + status.message());
  }
}

Offset Log::log_end_offset() const {
  if (segments_.empty()) return log_start_offset_;
  return active().next_offset();
}

Status Log::close() {
  if (closed_) return Status();
  abort_clean();
  closed_ = true;
  Status status = health();
  if (status.ok() && tail_dirty_) status = active().files()->log->truncate(active().size_bytes());
  if (status.ok()) {
    (void)active().repair_index_files();  // best effort: else the next open rebuilds it
    sync_->publish(active().files(), active().sync_point(), 0, 0);
    status = sync_->flush_now(/*checkpoint=*/true);
  }
  sync_->close();
  if (status.ok()) {
    uint8_t bytes[format::kSmallRecordBytes];
    format::encode_small_record(format::kCleanMarkerMagic, log_end_offset().value(), bytes);
    auto file = io_.open(dir_ + "/" + format::kCleanMarkerName, OpenMode::create_truncate);
    status = file.ok() ? (*file)->write_at(0, bytes) : file.status();
    if (status.ok()) status = (*file)->sync();
    if (status.ok()) status = io_.sync_dir(dir_);
  }
  sync_->fail_waiters(error(StatusCode::shutting_down, "log closed"));
  return status;
}

Result<AppendResult> Log::append(std::span<uint8_t> batch, Crc crc) {
  RETURN_IF_ERROR(writable());
  auto view = model::RecordBatchView::parse(batch);
  if (!view.ok()) return view.status();
  if (view->size_bytes() != batch.size()) {
    return error(StatusCode::invalid_argument, "append takes exactly one record batch");
  }
  if (view->last_offset_delta() < 0) {
    return error(StatusCode::corrupt, "negative last offset delta");
  }
  if (crc == Crc::verify && !view->crc_ok()) {
    return error(StatusCode::corrupt, "record batch crc mismatch");
  }
  if (batch.size() > kSegmentBytesMax) return error(StatusCode::too_large, "batch too large");
  RETURN_IF_ERROR(maybe_roll(batch.size(), view->last_offset_delta()));
  Segment& segment = active();
  Offset base = segment.next_offset();
  model::set_base_offset(batch, base);
  auto header = decode_batch_header(batch, segment.size_bytes());
  ASSERT(header.ok());
  ASSERT(header->base_offset == base);
  Status status = segment.append(batch, *header, config_.index_interval_bytes);
  if (!status.ok()) {
    if (status.code() != StatusCode::no_space) append_failed_ = status;
    // Cut what the failed write left past the end, durably, before any later flush can make
    // those bytes durable: after a crash they could join the next batch's unsynced tail into a
    // valid-looking batch that was never acknowledged.
    File& file = *segment.files()->log;
    tail_dirty_ = !file.truncate(segment.size_bytes()).ok();
    if (!tail_dirty_) {
      Status synced = file.sync();
      // A failed fsync may have dropped dirty pages of acknowledged-pending data: fail the log.
      if (!synced.ok()) append_failed_ = synced;
    }
    return status;
  }
  sync_->publish(segment.files(), segment.sync_point(), batch.size(), 1);
  return AppendResult{base, header->last_offset()};
}

Status Log::maybe_roll(uint64_t batch_bytes, int32_t last_offset_delta) {
  Segment& segment = active();
  if (segment.empty()) return Status();
  bool full = segment.size_bytes() + batch_bytes > config_.segment_bytes;
  bool old = clock_.now_ms() - segment.created_ms() >= config_.segment_ms;
  int64_t relative_last =
      segment.next_offset().value() + last_offset_delta - segment.base_offset().value();
  bool offsets_overflow = relative_last > INT32_MAX;
  if (!full && !old && !offsets_overflow) return Status();
  return roll_at(segment.next_offset());
}

Status Log::roll() {
  RETURN_IF_ERROR(writable());
  if (active().empty()) return Status();
  return roll_at(active().next_offset());
}

Status Log::roll_at(Offset base_offset) {
  if (tail_dirty_) {
    // Cut what a failed append left behind before the segment is sealed for good.
    RETURN_IF_ERROR(active().files()->log->truncate(active().size_bytes()));
    tail_dirty_ = false;
  }
  auto segment = Segment::create(io_, dir_, base_offset, clock_.now_ms());
  if (!segment.ok()) return segment.status();
  Segment& old = active();
  (void)old.repair_index_files();  // best effort: else recovery rebuilds it
  sync_->seal(old.files(), old.sync_point());
  sync_->mark_dir_dirty();
  Segment* fresh = segment->get();
  segments_.emplace(base_offset, std::move(segment.value()));
  sync_->publish(fresh->files(), fresh->sync_point(), 0, 0);
  return Status();
}

void Log::wait_durable(Offset offset, Callback callback) {
  Status status = health();
  if (!status.ok()) {
    callback(status);
    return;
  }
  sync_->wait_durable(offset, std::move(callback));
}

void Log::wait_flushed(Callback callback) {
  Status status = health();
  if (!status.ok()) {
    callback(status);
    return;
  }
  sync_->wait_flushed(std::move(callback));
}

Status Log::flush() {
  RETURN_IF_ERROR(health());
  return sync_->flush_now(/*checkpoint=*/false);
}

Segment* Log::segment_for(Offset offset) {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second.get();
}

Status Log::set_config(const LogConfig& config) {
  RETURN_IF_ERROR(validate(config));
  config_ = config;
  sync_->set_flush_config(config.flush_bytes, config.flush_interval_ms,
                          config.checkpoint_interval_ms);
  return Status();
}

LogInfo Log::info() const {
  LogInfo info = info_;
  info.segment_count = segments_.size();
  info.size_bytes = 0;
  for (const auto& [base, segment] : segments_) info.size_bytes += segment->size_bytes();
  return info;
}

}  // namespace cairn::storage

namespace cairn::storage {

Result<bool> Log::start_clean(const CleanOptions& options) {
  RETURN_IF_ERROR(writable());
  if (cleaner_ != nullptr) return error(StatusCode::invalid_argument, "a clean is running");
  auto cleaner = Cleaner::plan(*this, options);
  if (!cleaner.ok()) {
    cleaner_stats_.runs_failed++;
    cleaner_stats_.last_run_failed = true;
    return cleaner.status();
  }
  cleaner_ = std::move(cleaner.value());
  return cleaner_ != nullptr;
}

Result<bool> Log::clean_step(uint64_t budget_bytes) {
  if (cleaner_ == nullptr) return false;
  Status status = writable();
  if (!status.ok()) {
    abort_clean();
    return status;
  }
  auto more = cleaner_->step(budget_bytes);
  if (!more.ok() || !*more) {
    if (!more.ok()) {
      cleaner_stats_.runs_aborted++;
      cleaner_stats_.runs_failed++;
      cleaner_stats_.last_run_failed = true;
    }
    cleaner_.reset();  // a failed step has removed its staged files
  }
  return more;
}

void Log::abort_clean() {
  if (cleaner_ == nullptr) return;
  cleaner_->abort();
  cleaner_.reset();
  cleaner_stats_.runs_aborted++;
}

Result<bool> Log::clean(const CleanOptions& options) {
  auto started = start_clean(options);
  if (!started.ok() || !*started) return started;
  while (true) {
    auto more = clean_step(64 * MiB);
    if (!more.ok()) return more.status();
    if (!*more) return true;
  }
}

}  // namespace cairn::storage
