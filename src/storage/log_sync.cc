#include "storage/log_sync.h"

#include <utility>

#include "storage/flusher.h"
#include "storage/format.h"

namespace cairn::storage {

LogSync::LogSync(Io& io, std::string dir, Offset durable_offset, Flusher* flusher)
    : io_(io),
      dir_(std::move(dir)),
      flusher_(flusher),
      end_offset_(durable_offset),
      durable_offset_(durable_offset),
      last_checkpoint_(std::chrono::steady_clock::now()) {}

bool LogSync::mark_queued_locked() {
  if (flusher_ == nullptr || closed_ || !failed_.ok()) return false;
  if (flushing_) {
    flush_again_ = true;
    return false;
  }
  if (queued_) return false;
  queued_ = true;
  return true;
}

void LogSync::publish(const std::shared_ptr<SegmentFiles>& active, const SyncPoint& point,
                      uint64_t appended_bytes, uint64_t appended_batches) {
  bool enqueue = false;
  bool schedule = false;
  SteadyTime deadline;
  {
    std::lock_guard lock(mu_);
    bool was_clean = unflushed_bytes_ == 0;
    active_ = active;
    active_point_ = point;
    end_offset_ = point.next_offset;
    unflushed_bytes_ += appended_bytes;
    stats_.batches_appended += appended_batches;
    change_generation_++;
    if (unflushed_bytes_ >= flush_bytes_ || !offset_waiters_.empty()) {
      enqueue = mark_queued_locked();
    } else if (was_clean && appended_bytes > 0 && flusher_ != nullptr) {
      schedule = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(flush_interval_ms_);
    }
  }
  if (enqueue) flusher_->enqueue(shared_from_this());
  if (schedule) flusher_->schedule(weak_from_this(), deadline);
}

void LogSync::seal(const std::shared_ptr<SegmentFiles>& sealed, const SyncPoint& final_point) {
  std::lock_guard lock(mu_);
  sealed_.emplace_back(sealed, final_point);
  change_generation_++;
}

void LogSync::mark_dir_dirty() {
  std::lock_guard lock(mu_);
  dir_dirty_ = true;
  change_generation_++;
}

void LogSync::set_log_start(Offset log_start_offset) {
  std::lock_guard lock(mu_);
  log_start_offset_ = log_start_offset;
  meta_dirty_ = true;
  change_generation_++;
}

bool LogSync::pending(const SegmentFiles* files) {
  std::lock_guard lock(mu_);
  for (const auto& [sealed, point] : sealed_) {
    if (sealed.get() == files) return true;
  }
  return active_.get() == files;
}

void LogSync::set_flush_config(uint64_t flush_bytes, int64_t flush_interval_ms,
                               int64_t checkpoint_interval_ms) {
  std::lock_guard lock(mu_);
  flush_bytes_ = flush_bytes;
  flush_interval_ms_ = flush_interval_ms;
  checkpoint_interval_ms_ = checkpoint_interval_ms;
}

void LogSync::wait_durable(Offset offset, Callback callback) {
  Status status;
  bool enqueue = false;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) {
      status = failed_;
    } else if (offset < durable_offset_) {
      status = Status();
    } else if (closed_) {
      status = error(StatusCode::shutting_down, "log closed");
    } else {
      offset_waiters_.emplace(offset, std::move(callback));
      enqueue = mark_queued_locked();
      callback = nullptr;
    }
  }
  if (enqueue) flusher_->enqueue(shared_from_this());
  if (callback) callback(status);
}

void LogSync::wait_flushed(Callback callback) {
  Status status;
  bool enqueue = false;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) {
      status = failed_;
    } else if (change_generation_ <= flushed_generation_) {
      status = Status();
    } else if (closed_) {
      status = error(StatusCode::shutting_down, "log closed");
    } else {
      generation_waiters_.emplace(change_generation_, std::move(callback));
      enqueue = mark_queued_locked();
      callback = nullptr;
    }
  }
  if (enqueue) flusher_->enqueue(shared_from_this());
  if (callback) callback(status);
}

Offset LogSync::durable_offset() {
  std::lock_guard lock(mu_);
  return durable_offset_;
}

Status LogSync::failure() {
  std::lock_guard lock(mu_);
  return failed_;
}

FlushStats LogSync::stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

bool LogSync::on_deadline() {
  std::lock_guard lock(mu_);
  if (unflushed_bytes_ == 0 && !dir_dirty_ && !meta_dirty_) return false;
  return mark_queued_locked();
}

void LogSync::run_queued_flush() { (void)run_flush(false, false); }

Status LogSync::flush_now(bool checkpoint) { return run_flush(true, checkpoint); }

void LogSync::close() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return !flushing_; });
  closed_ = true;
}

void LogSync::fail_waiters(const Status& status) {
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mu_);
    for (auto& [offset, callback] : offset_waiters_) callbacks.push_back(std::move(callback));
    for (auto& [gen, callback] : generation_waiters_) callbacks.push_back(std::move(callback));
    offset_waiters_.clear();
    generation_waiters_.clear();
  }
  for (auto& callback : callbacks) callback(status);
}

}  // namespace cairn::storage
