#include "storage/flusher.h"

#include "base/assert.h"
#include "storage/log_sync.h"

namespace cairn::storage {

Flusher::Flusher(int thread_count) {
  ASSERT(thread_count >= 1);
  ASSERT(thread_count <= 64);
  for (int i = 0; i < thread_count; i++) threads_.emplace_back([this] { run(); });
}

Flusher::~Flusher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void Flusher::enqueue(std::shared_ptr<LogSync> log) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(log));
  }
  wake_.notify_one();
}

void Flusher::schedule(std::weak_ptr<LogSync> log, SteadyTime deadline) {
  bool earliest = false;
  {
    std::lock_guard lock(mu_);
    earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
    deadlines_.emplace(deadline, std::move(log));
  }
  if (earliest) wake_.notify_one();
}

void Flusher::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      std::shared_ptr<LogSync> log = deadlines_.begin()->second.lock();
      deadlines_.erase(deadlines_.begin());
      // Lock order: Flusher::mu_ before LogSync::mu_; LogSync never calls us under its own.
      if (log != nullptr && log->on_deadline()) queue_.push_back(std::move(log));
    }
    if (!queue_.empty()) {
      std::shared_ptr<LogSync> log = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      log->run_queued_flush();
      log.reset();
      lock.lock();
      continue;
    }
    if (deadlines_.empty()) {
      wake_.wait(lock);
    } else {
      // By value: wait_until reads the deadline again after waking, when another flusher
      // thread may have erased that map node.
      SteadyTime deadline = deadlines_.begin()->first;
      wake_.wait_until(lock, deadline);
    }
  }
}

}  // namespace cairn::storage
