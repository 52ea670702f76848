#include "proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace cairn::bench {

Result<uint64_t> read_rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return error(StatusCode::not_found, "no process " + std::to_string(pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    uint64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return error(StatusCode::not_found, "no VmRSS for " + std::to_string(pid));
}

Result<double> read_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return error(StatusCode::not_found, "no process " + std::to_string(pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces and parentheses: start after the last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return error(StatusCode::corrupt, "bad /proc stat");
  std::istringstream fields(text.substr(close + 1));
  // Fields from 3 on: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
  // cmajflt utime stime.
  std::string skip;
  for (int i = 3; i <= 13; i++) fields >> skip;
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  fields >> utime_ticks >> stime_ticks;
  if (!fields) return error(StatusCode::corrupt, "bad /proc stat");
  return static_cast<double>(utime_ticks + stime_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void ProcessSampler::start() {
  ASSERT(!running_.load());
  if (pid_ == 0) return;
  auto cpu = read_cpu_seconds(pid_);
  cpu_start_seconds_ = cpu.ok() ? *cpu : 0;
  auto rss = read_rss_bytes(pid_);
  rss_peak_bytes_.store(rss.ok() ? *rss : 0);
  running_.store(true);
  thread_ = std::thread([this] {
    while (running_.load()) {
      auto sample = read_rss_bytes(pid_);
      if (sample.ok() && *sample > rss_peak_bytes_.load()) rss_peak_bytes_.store(*sample);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

ProcessUsage ProcessSampler::stop() {
  ProcessUsage usage;
  if (!running_.load()) return usage;
  running_.store(false);
  thread_.join();
  auto cpu = read_cpu_seconds(pid_);
  auto rss = read_rss_bytes(pid_);
  if (!cpu.ok() || !rss.ok()) return usage;
  usage.valid = true;
  usage.cpu_seconds = *cpu - cpu_start_seconds_;
  usage.rss_end_bytes = *rss;
  usage.rss_peak_bytes = std::max(rss_peak_bytes_.load(), *rss);
  return usage;
}

}  // namespace cairn::bench
