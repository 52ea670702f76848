// Flusher: a small pool of threads that run the fdatasyncs of many logs, off the shard
// threads. Logs hand it work through their LogSync: `enqueue` when a flush should start now
// (a producer waits for durability, or flush_bytes are unflushed) and `schedule` for the
// background flush of acks=1 data within flush_interval_ms. Several threads let the syncs of
// different partitions overlap (the file system joins them into shared journal commits);
// one log never has two jobs running at once.
//
// Thread safety: all methods may be called from any thread. Destroy the Flusher after the
// logs that use it have been closed; queued jobs of closed logs are dropped.
//
// Metrics: the logs that use a Flusher record every flush in its FlushMetrics (lock-free
// histograms, metrics/cells.h), which /metrics reads; a log without a Flusher records none.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "metrics/cells.h"

namespace cairn::storage {

class LogSync;

struct FlushMetrics {
  // Each fdatasync of a segment's .log file, in nanoseconds.
  metrics::Histogram fsync_latency_ns{metrics::latency_bounds_ns()};
  // Batches made durable by one flush job that synced data: the group-commit factor. (A job
  // syncs every segment file it covers, usually one: the active segment.)
  metrics::Histogram batches_per_flush{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
};

class Flusher {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  explicit Flusher(int thread_count = 4);
  ~Flusher();
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // REQUIRES: the caller set the log's queued flag (LogSync does): each log is in the queue
  // at most once.
  void enqueue(std::shared_ptr<LogSync> log);
  void schedule(std::weak_ptr<LogSync> log, SteadyTime deadline);
  FlushMetrics& metrics() { return metrics_; }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<LogSync>> queue_;
  std::multimap<SteadyTime, std::weak_ptr<LogSync>> deadlines_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  FlushMetrics metrics_;
};

}  // namespace cairn::storage
