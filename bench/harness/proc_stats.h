// ProcessSampler: the CPU time and resident memory of another process (the broker under test),
// read from /proc/PID/stat and /proc/PID/status.
//
// start() reads the CPU counters and starts a thread that samples VmRSS every 50 ms; stop()
// joins it and returns CPU seconds used in between (user + system, all threads) and the peak
// RSS seen. With pid 0 the sampler is off and reports valid = false. Owned by one thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "base/status.h"

namespace cairn::bench {

struct ProcessUsage {
  bool valid = false;
  double cpu_seconds = 0;
  uint64_t rss_peak_bytes = 0;
  uint64_t rss_end_bytes = 0;
};

Result<uint64_t> read_rss_bytes(pid_t pid);
Result<double> read_cpu_seconds(pid_t pid);
// This process's own user + system CPU seconds (the load generator's cost).
double self_cpu_seconds();

class ProcessSampler {
 public:
  explicit ProcessSampler(pid_t pid) : pid_(pid) {}
  ~ProcessSampler() { (void)stop(); }
  ProcessSampler(const ProcessSampler&) = delete;
  ProcessSampler& operator=(const ProcessSampler&) = delete;

  void start();
  ProcessUsage stop();

 private:
  pid_t pid_;
  double cpu_start_seconds_ = 0;
  std::atomic<uint64_t> rss_peak_bytes_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace cairn::bench
