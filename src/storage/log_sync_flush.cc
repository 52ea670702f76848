// LogSync: the flush job itself (see log_sync.h for the protocol).
#include <utility>

#include "storage/flusher.h"
#include "storage/format.h"
#include "storage/log_sync.h"

namespace cairn::storage {

struct LogSync::Job {
  std::vector<std::pair<std::shared_ptr<SegmentFiles>, SyncPoint>> sealed;
  std::shared_ptr<SegmentFiles> active;
  SyncPoint active_point;
  Offset target;
  uint64_t generation = 0;
  bool sync_dir = false;
  bool write_meta = false;
  Offset log_start_offset;
  bool checkpoint = false;
  bool meta_failed = false;
  uint64_t data_syncs = 0;
  uint64_t batches = 0;  // appended since the previous job began
};

Status LogSync::run_flush(bool inline_call, bool checkpoint) {
  Job job;
  {
    std::unique_lock lock(mu_);
    if (!inline_call) {
      queued_ = false;
      if (closed_ || flushing_) return failed_;
    } else {
      idle_.wait(lock, [this] { return !flushing_; });
    }
    if (!failed_.ok()) return failed_;
    take_job_locked(job, checkpoint);
  }
  Status status = execute(job);
  finish_job(job, status);
  return status;
}

void LogSync::take_job_locked(Job& job, bool checkpoint) {
  flushing_ = true;
  flush_again_ = false;
  job.sealed = sealed_;
  job.active = active_;
  job.active_point = active_point_;
  job.target = end_offset_;
  job.generation = change_generation_;
  job.sync_dir = dir_dirty_;
  job.write_meta = meta_dirty_;
  job.log_start_offset = log_start_offset_;
  auto now = std::chrono::steady_clock::now();
  job.checkpoint = checkpoint || !sealed_.empty() ||
                   now - last_checkpoint_ >= std::chrono::milliseconds(checkpoint_interval_ms_);
  if (job.checkpoint) last_checkpoint_ = now;
  job.batches = stats_.batches_appended - batches_flushed_;
  batches_flushed_ = stats_.batches_appended;
  unflushed_bytes_ = 0;
  dir_dirty_ = false;
  meta_dirty_ = false;
}

void LogSync::finish_job(const Job& job, const Status& status) {
  std::vector<std::pair<Callback, Status>> ready;
  bool enqueue = false;
  {
    std::lock_guard lock(mu_);
    flushing_ = false;
    if (job.data_syncs > 0) stats_.flush_jobs++;
    stats_.data_syncs += job.data_syncs;
    if (job.data_syncs > 0 && flusher_ != nullptr) {
      flusher_->metrics().batches_per_flush.observe(job.batches);
    }
    if (status.ok()) {
      ASSERT(job.target >= durable_offset_);
      durable_offset_ = job.target;
      // Sealed segments of the job are persisted for good; later ones stay.
      sealed_.erase(sealed_.begin(), sealed_.begin() + static_cast<long>(job.sealed.size()));
      if (job.meta_failed) {
        meta_dirty_ = true;
      } else {
        flushed_generation_ = job.generation;
      }
      while (!offset_waiters_.empty() && offset_waiters_.begin()->first < durable_offset_) {
        ready.emplace_back(std::move(offset_waiters_.begin()->second), Status());
        offset_waiters_.erase(offset_waiters_.begin());
      }
      while (!generation_waiters_.empty() &&
             generation_waiters_.begin()->first <= flushed_generation_) {
        ready.emplace_back(std::move(generation_waiters_.begin()->second), Status());
        generation_waiters_.erase(generation_waiters_.begin());
      }
      bool more = !offset_waiters_.empty() || !generation_waiters_.empty() ||
                  unflushed_bytes_ >= flush_bytes_ || flush_again_;
      flush_again_ = false;
      if (more && !closed_) enqueue = mark_queued_locked();
    } else {
      failed_ = status;
      for (auto& [offset, callback] : offset_waiters_)
        ready.emplace_back(std::move(callback), status);
      for (auto& [gen, callback] : generation_waiters_) {
        ready.emplace_back(std::move(callback), status);
      }
      offset_waiters_.clear();
      generation_waiters_.clear();
    }
    idle_.notify_all();
  }
  for (auto& [callback, callback_status] : ready) callback(callback_status);
  if (enqueue) flusher_->enqueue(shared_from_this());
}

// Order matters: directory entries first (so a header never vouches for a file whose name
// could vanish), then each segment's data before the header that vouches for it.
Status LogSync::execute(Job& job) {
  if (job.sync_dir) RETURN_IF_ERROR(io_.sync_dir(dir_));
  auto sync_segment = [&](SegmentFiles& files, const SyncPoint& point,
                          bool write_header) -> Status {
    if (point.log_bytes > files.synced_bytes) {
      auto started = std::chrono::steady_clock::now();
      Status synced = files.log->sync();
      if (flusher_ != nullptr) {
        auto elapsed = std::chrono::steady_clock::now() - started;
        flusher_->metrics().fsync_latency_ns.observe(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
      }
      RETURN_IF_ERROR(synced);
      job.data_syncs++;
      files.synced_bytes = point.log_bytes;
    }
    if (write_header && point.index_files_ok && files.header_log_bytes != point.log_bytes) {
      // Index trouble is never fatal: recovery rebuilds an index it cannot trust.
      if (persist_headers(files, point).ok()) files.header_log_bytes = point.log_bytes;
    }
    return Status();
  };
  for (auto& [files, point] : job.sealed) {
    RETURN_IF_ERROR(sync_segment(*files, point, true));
  }
  if (job.active != nullptr) {
    RETURN_IF_ERROR(sync_segment(*job.active, job.active_point, job.checkpoint));
  }
  if (job.write_meta) {
    Status meta = persist_meta(job.log_start_offset);
    if (meta.code() == StatusCode::io_error) return meta;
    job.meta_failed = !meta.ok();
  }
  return Status();
}

Status LogSync::persist_headers(SegmentFiles& files, const SyncPoint& point) {
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
  RETURN_IF_ERROR(files.offset_index->sync());

  header.kind = format::IndexKind::time;
  header.entry_count = point.time_entries;
  header.entries_crc = point.time_crc;
  format::encode_index_header(header, bytes);
  RETURN_IF_ERROR(files.time_index->write_at(0, bytes));
  return files.time_index->sync();
}

Status LogSync::persist_meta(Offset log_start_offset) {
  uint8_t bytes[format::kSmallRecordBytes];
  format::encode_small_record(format::kMetaMagic, log_start_offset.value(), bytes);
  std::string temp = dir_ + "/" + format::kMetaTempName;
  auto file = io_.open(temp, OpenMode::create_truncate);
  if (!file.ok()) return file.status();
  RETURN_IF_ERROR((*file)->write_at(0, bytes));
  RETURN_IF_ERROR((*file)->sync());
  RETURN_IF_ERROR(io_.rename(temp, dir_ + "/" + format::kMetaName));
  return io_.sync_dir(dir_);
}

}  // namespace cairn::storage
